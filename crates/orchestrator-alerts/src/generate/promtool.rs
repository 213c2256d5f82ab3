//! A promtool unit-test file for the rules. Each scenario gives input series; the expected
//! alerts at each evaluation time are computed by the in-process state machine from the
//! same series, so `promtool test rules` passing means Prometheus fires exactly what the
//! in-process evaluator fires.

use std::time::Duration;

use orchestrator_metrics::catalogue::buckets::REQUEST_DURATION_SECONDS;
use orchestrator_query::rules::duration;
use orchestrator_query::{SampleStore, StoreLimits, eval};
use orchestrator_support::Millis;
use orchestrator_support::format_number;
use orchestrator_support::yaml::{Yaml, map};

use crate::AlertRule;
use crate::state::{AlertState, Labels, RuleState};

/// One input series, as linear segments: `start+step x steps` gives `steps + 1` samples
/// (promtool's expanding notation); segments follow each other.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSeries {
    /// The series name.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// `(start, step, steps)` segments.
    pub segments: Vec<(f64, f64, u32)>,
}

impl InputSeries {
    /// A series with no segment yet.
    pub fn new(name: &str, labels: &[(&str, &str)]) -> Self {
        InputSeries {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            segments: Vec::new(),
        }
    }

    /// Adds `steps` samples growing by `step` from where the series is (a counter's rate).
    pub fn grow(mut self, step: f64, steps: u32) -> Self {
        let start = self
            .values()
            .last()
            .copied()
            .map_or(0.0, |last| last + step);
        let steps = if self.segments.is_empty() {
            steps
        } else {
            steps.saturating_sub(1)
        };
        self.segments.push((start, step, steps));
        self
    }

    /// Adds `steps` samples of a constant `value` (a gauge).
    pub fn hold(mut self, value: f64, steps: u32) -> Self {
        let steps = if self.segments.is_empty() {
            steps
        } else {
            steps.saturating_sub(1)
        };
        self.segments.push((value, 0.0, steps));
        self
    }

    /// Every sample value, in order.
    pub fn values(&self) -> Vec<f64> {
        self.segments
            .iter()
            .flat_map(|(start, step, steps)| (0..=*steps).map(move |i| start + step * f64::from(i)))
            .collect()
    }

    fn notation(&self) -> String {
        self.segments
            .iter()
            .map(|(start, step, steps)| {
                format!("{}+{}x{steps}", format_number(*start), format_number(*step))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn selector(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        if labels.is_empty() {
            self.name.clone()
        } else {
            format!("{}{{{}}}", self.name, labels.join(","))
        }
    }
}

/// A named scenario: input series sampled every `interval`, and when to check the alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The test's name.
    pub name: String,
    /// Sample spacing, also the evaluation interval.
    pub interval: Duration,
    /// The input series.
    pub series: Vec<InputSeries>,
    /// When to check which alerts fire.
    pub eval_times: Vec<Duration>,
}

fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The firing alerts of every rule at every eval time of `scenario`, as the in-process
/// state machine computes them: `(eval time, rule, firing alerts' labels)`.
fn expected(scenario: &Scenario, rules: &[AlertRule]) -> Vec<(Duration, String, Vec<Labels>)> {
    let step = ms(scenario.interval).max(1);
    let mut store = SampleStore::new(StoreLimits::default());
    for s in &scenario.series {
        for (i, v) in s.values().into_iter().enumerate() {
            store.append(&s.name, &s.labels, i as i64 * step, v, i64::MAX / 4);
        }
    }
    let mut states: Vec<RuleState> = rules.iter().cloned().map(RuleState::new).collect();
    let last = scenario
        .eval_times
        .iter()
        .map(|d| ms(*d))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut t = 0;
    while t <= last {
        for state in &mut states {
            let result = eval(state.rule().condition(), &store, t);
            state.apply(&result, t);
        }
        for when in scenario.eval_times.iter().filter(|d| ms(**d) == t) {
            for state in &states {
                let firing = state
                    .alerts()
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| a.labels.clone())
                    .collect();
                out.push((*when, state.rule().name().to_owned(), firing));
            }
        }
        t += step;
    }
    out
}

fn labels_map(labels: &[(String, String)], skip: &str) -> Yaml {
    map(labels
        .iter()
        .filter(|(k, _)| k != skip)
        .map(|(k, v)| (k.clone(), Yaml::from(v.as_str()))))
}

/// One input series of a promtool test.
pub(super) fn input_series(selector: String, notation: String) -> Yaml {
    map([
        ("series", Yaml::from(selector)),
        ("values", Yaml::from(notation)),
    ])
}

/// One `alert_rule_test` entry: at `at`, `rule` fires exactly `firing` (label sets with
/// `alertname`), each alert with `annotations`.
pub(super) fn alert_check<'a>(
    at: Duration,
    rule: &str,
    annotations: &[(String, String)],
    firing: impl IntoIterator<Item = &'a Labels>,
) -> Yaml {
    let alerts = firing
        .into_iter()
        .map(|labels| {
            map([
                ("exp_labels", labels_map(labels, "alertname")),
                ("exp_annotations", labels_map(annotations, "")),
            ])
        })
        .collect();
    map([
        ("eval_time", Yaml::from(duration(at))),
        ("alertname", Yaml::from(rule)),
        ("exp_alerts", Yaml::List(alerts)),
    ])
}

/// One test group: input series sampled every `interval`, and its checks.
pub(super) fn test_group(
    name: &str,
    interval: Duration,
    input: Vec<Yaml>,
    checks: Vec<Yaml>,
) -> Yaml {
    map([
        ("name", Yaml::from(name)),
        ("interval", Yaml::from(duration(interval))),
        ("input_series", Yaml::List(input)),
        ("alert_rule_test", Yaml::List(checks)),
    ])
}

/// The test file for `rule_file` (a path relative to the test file), evaluated every
/// `interval`.
pub(super) fn test_file(rule_file: &str, interval: Duration, tests: Vec<Yaml>) -> String {
    map([
        ("rule_files", Yaml::List(vec![Yaml::from(rule_file)])),
        ("evaluation_interval", Yaml::from(duration(interval))),
        ("tests", Yaml::List(tests)),
    ])
    .render()
}

/// The promtool test file for `rule_file` (a path relative to the test file).
pub fn promtool_tests(rule_file: &str, rules: &[AlertRule], scenarios: &[Scenario]) -> String {
    let tests = scenarios
        .iter()
        .map(|scenario| {
            let series = scenario
                .series
                .iter()
                .map(|s| input_series(s.selector(), s.notation()))
                .collect();
            let checks = expected(scenario, rules)
                .into_iter()
                .map(|(when, name, firing)| {
                    let rule = rules.iter().find(|r| r.name() == name);
                    let annotations = rule.map_or(&[][..], |r| r.annotations());
                    alert_check(when, &name, annotations, &firing)
                })
                .collect();
            test_group(&scenario.name, scenario.interval, series, checks)
        })
        .collect();
    let interval = scenarios
        .first()
        .map_or(Duration::from_secs(15), |s| s.interval);
    test_file(rule_file, interval, tests)
}

const STEP: Duration = Duration::from_secs(15);

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Scenarios that make each default rule (production tuning) and the default SLOs fire,
/// then recover: an error burst, slow responses, memory pressure, unhappy customers, an
/// SLO burn, a latency SLO burn, no traffic at all, a tenant spending through its daily
/// budget, and an agent whose runs cross their step limit.
pub fn default_scenarios() -> Vec<Scenario> {
    let chat = [("route", "/v1/chat"), ("method", "POST"), ("status", "200")];
    let api_errors = [("component", "api"), ("kind", "server_error")];
    let requests =
        |steps| InputSeries::new("orchestrator_requests_total", &chat).grow(100.0, steps);
    let scenario = |name: &str, series: Vec<InputSeries>, eval_times: &[u64]| Scenario {
        name: name.to_owned(),
        interval: STEP,
        series,
        eval_times: eval_times.iter().map(|m| minutes(*m)).collect(),
    };
    // Buckets of a histogram receiving `fast` requests at 50 ms then `slow` at 250 ms per step.
    let latency = |fast_steps: u32, slow_steps: u32, slow_share: f64| -> Vec<InputSeries> {
        let mut out: Vec<InputSeries> = REQUEST_DURATION_SECONDS
            .iter()
            .map(|b| format_number(*b))
            .chain(["+Inf".to_owned()])
            .map(|le| {
                let bound: f64 = le.parse().unwrap_or(f64::INFINITY);
                let fast = if bound >= 0.05 { 100.0 } else { 0.0 };
                let slow = if bound >= 2.5 {
                    100.0 * slow_share
                } else {
                    0.0
                } + if bound >= 0.05 {
                    100.0 * (1.0 - slow_share)
                } else {
                    0.0
                };
                InputSeries::new(
                    "orchestrator_request_duration_seconds_bucket",
                    &[("route", "/v1/chat"), ("method", "POST"), ("le", &le)],
                )
                .grow(fast, fast_steps)
                .grow(slow, slow_steps)
            })
            .collect();
        out.push(
            InputSeries::new(
                "orchestrator_request_duration_seconds_count",
                &[("route", "/v1/chat"), ("method", "POST")],
            )
            .grow(100.0, fast_steps)
            .grow(100.0, slow_steps),
        );
        out
    };
    let slow_p95 = |fast_steps: u32, slow_steps: u32| -> Vec<InputSeries> {
        REQUEST_DURATION_SECONDS
            .iter()
            .map(|b| format_number(*b))
            .chain(["+Inf".to_owned()])
            .map(|le| {
                let bound: f64 = le.parse().unwrap_or(f64::INFINITY);
                InputSeries::new(
                    "orchestrator_request_duration_seconds_bucket",
                    &[("route", "/v1/chat"), ("method", "POST"), ("le", &le)],
                )
                .grow(if bound >= 0.05 { 100.0 } else { 0.0 }, fast_steps)
                .grow(if bound >= 0.3 { 100.0 } else { 0.0 }, slow_steps)
            })
            .collect()
    };
    vec![
        scenario(
            "error burst: 5 % errors from 5 to 15 minutes",
            vec![
                requests(100),
                InputSeries::new("orchestrator_errors_total", &api_errors)
                    .grow(0.0, 20)
                    .grow(5.0, 40)
                    .grow(0.0, 40),
            ],
            &[4, 12, 24],
        ),
        scenario(
            "slow responses: 250 ms from minute 5",
            slow_p95(20, 40),
            &[4, 12],
        ),
        scenario(
            "memory pressure: 95 % of the limit from minute 5",
            vec![
                InputSeries::new("orchestrator_memory_usage_bytes", &[])
                    .hold(5e8, 20)
                    .hold(9.5e8, 40),
                InputSeries::new("orchestrator_memory_limit_bytes", &[]).hold(1e9, 60),
            ],
            &[4, 12],
        ),
        scenario(
            "unhappy customers: ratings drop from 9 to 4 at minute 30",
            vec![
                InputSeries::new("orchestrator_user_satisfaction_score_sum", &[])
                    .grow(90.0, 120)
                    .grow(40.0, 200),
                InputSeries::new("orchestrator_user_satisfaction_score_count", &[])
                    .grow(10.0, 120)
                    .grow(10.0, 200),
            ],
            &[45, 75],
        ),
        scenario(
            "availability SLO: 3 % errors burn the budget",
            vec![
                requests(160),
                InputSeries::new("orchestrator_errors_total", &api_errors).grow(3.0, 160),
            ],
            &[1, 5, 20],
        ),
        scenario(
            "latency SLO: 20 % of requests take 2.5 s",
            latency(10, 150, 0.2),
            &[1, 5, 20],
        ),
        scenario(
            "budget: acme passes 80 % of its day at minute 5, 100 % at minute 15, then spends fast and is refused",
            {
                let budget = [("tenant", "acme"), ("period", "1d")];
                vec![
                    InputSeries::new("orchestrator_tenant_budget_spend_ratio", &budget)
                        .hold(0.5, 20)
                        .hold(0.85, 40)
                        .hold(1.1, 180),
                    // $86.40 a day is $0.001 a second, $0.015 a step: 0.01 a step is under
                    // it, 0.05 a step from minute 20 is over it.
                    InputSeries::new("orchestrator_tenant_budget_rate_usd", &budget)
                        .hold(0.001, 240),
                    InputSeries::new("orchestrator_tenant_budget_spend_usd_total", &budget)
                        .grow(0.01, 80)
                        .grow(0.05, 160),
                    // Enforced too: refusals from minute 15.
                    InputSeries::new("orchestrator_tenant_budget_rejections_total", &budget)
                        .hold(0.0, 60)
                        .grow(1.0, 180),
                ]
            },
            &[4, 12, 22, 50],
        ),
        scenario(
            "agent runaway: two researcher runs cross max_steps at minutes 10 and 11",
            vec![
                InputSeries::new(
                    "orchestrator_agent_limit_exceeded_total",
                    &[("agent", "researcher"), ("limit", "max_steps")],
                )
                .hold(0.0, 40)
                .hold(1.0, 4)
                .hold(2.0, 116),
                InputSeries::new(
                    "orchestrator_agent_limit_exceeded_total",
                    &[("agent", "planner"), ("limit", "max_steps")],
                )
                .hold(0.0, 160),
            ],
            &[5, 12, 17, 35],
        ),
        scenario(
            "no traffic: the SLI is absent",
            vec![InputSeries::new("orchestrator_active_sessions", &[]).hold(0.0, 80)],
            &[5, 15],
        ),
    ]
}

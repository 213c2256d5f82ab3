//! The live page's charts: request rate, p95 latency and error rate over time, sampled from
//! the registry on a thread of their own and kept in a bounded ring.

use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orchestrator_api::{
    AgentRow, Bucket, BudgetRow, LlmRow, SummaryDoc, SummaryPoint, TenantSpend,
};
use orchestrator_metrics::Registry;
use orchestrator_metrics::catalogue::{
    LLM_COST_USD_TOTAL, LLM_LATENCY_SECONDS, LLM_REQUESTS_TOTAL, LLM_TIME_TO_FIRST_TOKEN_SECONDS,
    LLM_TOKENS, LLM_UNREPORTED_USAGE_TOTAL, REQUEST_DURATION_SECONDS, REQUESTS_TOTAL,
    TENANT_LLM_COST_USD_TOTAL,
};
use orchestrator_support::StoppingThread;

/// How many points the charts keep (5 minutes at the default 1 s).
pub const HISTORY_POINTS: usize = 300;

/// Totals read from one snapshot of the registry.
#[derive(Debug, Clone, PartialEq)]
struct Totals {
    at_ms: i64,
    requests: f64,
    server_errors: f64,
    buckets: Vec<(f64, f64)>,
    /// The LLM panel's rows, the top tenants and the Agents panel's rows.
    llm: Vec<LlmRow>,
    tenants: Vec<TenantSpend>,
    agents: Vec<AgentRow>,
    budgets: Vec<BudgetRow>,
}

/// The families of the LLM panel and the tenant list (few series: read as a snapshot).
fn spend_family(family: &str) -> bool {
    [
        LLM_REQUESTS_TOTAL.name,
        LLM_TOKENS.name,
        LLM_LATENCY_SECONDS.name,
        LLM_TIME_TO_FIRST_TOKEN_SECONDS.name,
        LLM_COST_USD_TOTAL.name,
        LLM_UNREPORTED_USAGE_TOTAL.name,
        TENANT_LLM_COST_USD_TOTAL.name,
    ]
    .contains(&family)
        || super::agents::FAMILIES.contains(&family)
        || super::budgets::FAMILIES.contains(&family)
}

/// The totals the page charts, read from the registry without rendering text: the request
/// counters summed and the latency histograms merged straight from their series (one per
/// route, method and status: most of a large registry), the LLM families as a snapshot.
fn totals(registry: &Registry, at_ms: i64) -> Totals {
    let (mut requests, mut server_errors) = (0.0, 0.0);
    registry.visit_series(REQUESTS_TOTAL.name, |series| {
        let n = series.value().unwrap_or(0.0);
        requests += n;
        if series.label_is("status", |s| s.starts_with('5')) {
            server_errors += n;
        }
    });
    let mut per_bucket: Vec<(f64, u64)> = Vec::new();
    registry.visit_series(REQUEST_DURATION_SECONDS.name, |series| {
        for (i, (le, n)) in series.buckets().into_iter().flatten().enumerate() {
            match per_bucket.get_mut(i) {
                Some((_, total)) => *total += n,
                None => per_bucket.push((le, n)),
            }
        }
    });
    let mut cumulative = 0;
    let buckets = per_bucket
        .into_iter()
        .map(|(le, n)| {
            cumulative += n;
            (le, cumulative as f64)
        })
        .collect();
    let spend = registry.snapshot(spend_family);
    Totals {
        at_ms,
        requests,
        server_errors,
        buckets,
        llm: super::spend::llm_rows(&spend),
        tenants: super::spend::top_tenants(&spend),
        agents: super::agents::agent_rows(&spend),
        budgets: super::budgets::budget_rows(&spend),
    }
}

/// One chart point: what happened between two samples.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    at_ms: i64,
    request_rate: f64,
    p95_seconds: Option<f64>,
    p95_bucket: Option<Bucket>,
    error_rate: Option<f64>,
}

fn point(before: &Totals, after: &Totals) -> Option<Point> {
    let seconds = (after.at_ms - before.at_ms) as f64 / 1000.0;
    if seconds <= 0.0 {
        return None;
    }
    let requests = (after.requests - before.requests).max(0.0);
    let errors = (after.server_errors - before.server_errors).max(0.0);
    let deltas: Vec<(f64, f64)> = after
        .buckets
        .iter()
        .map(|&(le, count)| {
            let earlier = before
                .buckets
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, c)| *c);
            (le, (count - earlier).max(0.0))
        })
        .collect();
    let (p95_seconds, p95_bucket) = super::spend::p95(&deltas);
    Some(Point {
        at_ms: after.at_ms,
        request_rate: requests / seconds,
        p95_seconds,
        p95_bucket,
        error_rate: (requests > 0.0).then(|| errors / requests),
    })
}

#[derive(Debug, Default)]
struct State {
    last: Option<Totals>,
    points: VecDeque<Point>,
    started_ms: i64,
}

/// The sampled history. Cheap to clone; the thread stops when the last [`History`] that
/// owns it is dropped.
#[derive(Debug, Clone)]
pub struct History {
    state: Arc<Mutex<State>>,
    _thread: Arc<StoppingThread>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl History {
    /// Samples `registry` every `interval` on a thread named `live-history`.
    pub fn start(registry: Registry, interval: Duration) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            started_ms: now_ms(),
            ..State::default()
        }));
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let shared = state.clone();
        let thread = StoppingThread::spawn(
            "live-history",
            move || {
                loop {
                    sample(&registry, &shared);
                    match stop_rx.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            },
            move || drop(stop_tx),
        )?;
        Ok(History {
            state,
            _thread: Arc::new(thread),
        })
    }

    /// The summary: totals since start, and the chart points, oldest first.
    pub fn summary(&self) -> SummaryDoc {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let last = state.last.as_ref();
        SummaryDoc {
            started_at: state.started_ms,
            sampled_at: last.map(|t| t.at_ms),
            requests_total: last.map_or(0.0, |t| t.requests),
            server_errors_total: last.map_or(0.0, |t| t.server_errors),
            points: state
                .points
                .iter()
                .map(|p| SummaryPoint {
                    t: p.at_ms,
                    request_rate: p.request_rate,
                    p95_seconds: p.p95_seconds,
                    p95_bucket: p.p95_bucket,
                    error_rate: p.error_rate,
                })
                .collect(),
            llm: last.map_or_else(Vec::new, |t| t.llm.clone()),
            top_tenants: last.map_or_else(Vec::new, |t| t.tenants.clone()),
            agents: last.map_or_else(Vec::new, |t| t.agents.clone()),
            budgets: last.map_or_else(Vec::new, |t| t.budgets.clone()),
        }
    }
}

fn sample(registry: &Registry, state: &Mutex<State>) {
    let totals = totals(registry, now_ms());
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(point) = state
        .last
        .as_ref()
        .and_then(|before| point(before, &totals))
    {
        if state.points.len() == HISTORY_POINTS {
            state.points.pop_front();
        }
        state.points.push_back(point);
    }
    state.last = Some(totals);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The totals read series by series equal those of the parsed exposition.
    #[test]
    fn totals_read_from_the_series_equal_the_exposition_s() {
        use orchestrator_metrics::{Metrics, exposition};
        let registry = Registry::new();
        let metrics = Metrics::new(&registry);
        let requests = metrics.requests();
        for (i, (route, status)) in [("/a", 200), ("/b", 503), ("/a", 500), ("/c\"q", 200)]
            .into_iter()
            .enumerate()
        {
            for _ in 0..=i {
                requests.record(
                    route,
                    "GET",
                    status,
                    Duration::from_millis(40 * i as u64 + 3),
                );
            }
        }
        let got = totals(&registry, 5);
        let parsed = exposition::parse(&registry.render()).unwrap();
        assert_eq!(
            got.requests,
            parsed.sum_where(REQUESTS_TOTAL.name, |_| true)
        );
        assert_eq!(got.requests, 10.0);
        assert_eq!(got.server_errors, 5.0);
        assert_eq!(
            got.buckets,
            parsed.buckets(REQUEST_DURATION_SECONDS.name, |_| true)
        );
    }

    #[test]
    fn points_are_rates_and_quantiles_of_the_interval() {
        let before = Totals {
            at_ms: 0,
            requests: 100.0,
            server_errors: 1.0,
            buckets: vec![(0.1, 50.0), (0.5, 90.0), (f64::INFINITY, 100.0)],
            llm: Vec::new(),
            tenants: Vec::new(),
            agents: Vec::new(),
            budgets: Vec::new(),
        };
        let after = Totals {
            at_ms: 2_000,
            requests: 300.0,
            server_errors: 5.0,
            buckets: vec![(0.1, 50.0), (0.5, 290.0), (f64::INFINITY, 300.0)],
            llm: Vec::new(),
            tenants: Vec::new(),
            agents: Vec::new(),
            budgets: Vec::new(),
        };
        let p = point(&before, &after).unwrap();
        assert_eq!(p.request_rate, 100.0);
        assert_eq!(p.error_rate, Some(0.02));
        // All 200 new requests in (0.1, 0.5]: p95 interpolates inside that bucket.
        assert!((p.p95_seconds.unwrap() - 0.48).abs() < 1e-9);
        // ... a bucket five times as high as low: the truth may be anywhere in it, and the
        // point says so.
        assert_eq!(
            p.p95_bucket,
            Some(Bucket {
                lower: Some(0.1),
                upper: Some(0.5)
            })
        );
        assert_eq!(point(&after, &after), None);
    }
}

//! Direct channels through the facade: `alert_channel` sinks get only the severities the
//! routing sends them (default: critical to PagerDuty and Slack, not email), and
//! `alert_routing` changes that with the `--route` syntax of `orchestrator-obs generate`.

use std::sync::Arc;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::generate::{Channel, Routing};
use orchestrator_telemetry::orchestrator_alerts::{AlertRule, PagerDutySink, Severity, SlackSink};
use orchestrator_telemetry::orchestrator_http::{HttpClient, Secret};
use orchestrator_telemetry::orchestrator_metrics::SessionTimer;
use orchestrator_telemetry::orchestrator_metrics::catalogue::ACTIVE_SESSIONS;
use orchestrator_telemetry::orchestrator_query::{CmpOp, Expr, Selector};
use orchestrator_telemetry::{Telemetry, TelemetryBuilder, TelemetryGuard};
use orchestrator_testkit::server::RecordingServer;

fn rule() -> AlertRule {
    AlertRule::builder(
        "TooManySessions",
        Expr::value(Selector::of(&ACTIVE_SESSIONS)).map(Expr::sum),
    )
    .when(CmpOp::Gt, 2.0)
    .for_duration(Duration::from_millis(200))
    .severity(Severity::Critical)
    .summary("too many sessions")
    .build()
    .unwrap()
}

/// Telemetry evaluating [`rule`] every 100 ms.
fn with_rule() -> TelemetryBuilder {
    Telemetry::builder()
        .listen("127.0.0.1:0")
        .monitor_interval(Duration::from_millis(100))
        .alerts(|a| a.rules(vec![rule()]))
}

/// A Slack channel posting to `slack`.
fn slack_channel(slack: &RecordingServer, client: HttpClient) -> Arc<SlackSink> {
    Arc::new(SlackSink::new(
        Secret::new(format!("{}/hook", slack.url())),
        client,
    ))
}

/// Three open sessions: enough for [`rule`] to fire.
fn three_sessions(telemetry: &TelemetryGuard) -> Vec<SessionTimer> {
    (0..3)
        .map(|_| telemetry.metrics().sessions().start())
        .collect()
}

/// Installs telemetry with Slack and PagerDuty channels (and `routing`), opens three
/// sessions so the critical rule fires, and returns what each server received.
fn fire(routing: Option<Routing>) -> (usize, usize) {
    let slack = RecordingServer::start("127.0.0.1:0", None, |_| (200, "ok".into()));
    let pagerduty = RecordingServer::start("127.0.0.1:0", None, |_| (202, "{}".into()));
    let client = HttpClient::new().unwrap();
    let telemetry = with_rule()
        .alerts(|a| {
            let a = a
                .channel(Channel::Slack, slack_channel(&slack, client.clone()))
                .channel(
                    Channel::PagerDuty,
                    Arc::new(
                        PagerDutySink::new(Secret::new("key"), client, "test")
                            .endpoint(format!("{}/v2/enqueue", pagerduty.url())),
                    ),
                );
            match routing {
                Some(routing) => a.routing(routing),
                None => a,
            }
        })
        .build()
        .unwrap();
    let sessions = three_sessions(&telemetry);
    let got = slack.wait_for(1, Duration::from_secs(5)).len();
    std::thread::sleep(Duration::from_millis(300));
    telemetry.shutdown();
    drop(sessions);
    (got, pagerduty.requests().len())
}

#[test]
fn default_routing_pages_and_posts_a_critical_alert() {
    assert_eq!(fire(None), (1, 1));
}

#[test]
fn a_custom_routing_keeps_critical_off_pagerduty() {
    let routing = Routing::parse(&["critical|high=slack", "medium|low=email"]).unwrap();
    assert_eq!(fire(Some(routing)), (1, 0));
}

/// Issue 17: in a fleet where Prometheus evaluates the generated rules, one builder call
/// switches the in-process evaluation off: no rule, no notification, KPIs still evaluated.
#[test]
fn without_the_alert_evaluator_nothing_is_evaluated_or_sent() {
    let slack = RecordingServer::start("127.0.0.1:0", None, |_| (200, "ok".into()));
    let telemetry = with_rule()
        .alerts(|a| {
            a.channel(
                Channel::Slack,
                slack_channel(&slack, HttpClient::new().unwrap()),
            )
            .without_evaluator()
        })
        .build()
        .unwrap();
    let sessions = three_sessions(&telemetry);
    std::thread::sleep(Duration::from_millis(800));
    assert!(slack.requests().is_empty());
    let report = telemetry.alerts_report().expect("evaluated, with no rule");
    assert!(report.rules.is_empty(), "{report}");
    assert!(telemetry.kpi_report().is_some());
    drop(sessions);
    telemetry.shutdown();
}

/// Issue 17, bad input: an Alertmanager that refuses connections. The evaluator still
/// fires on time; the pushes are retried a bounded number of times, then dropped and
/// counted.
#[test]
fn an_unreachable_alertmanager_is_retried_then_counted_and_evaluation_goes_on() {
    use orchestrator_telemetry::orchestrator_alerts::{AlertState, AlertmanagerSink, RetryPolicy};
    let closed = format!(
        "http://127.0.0.1:{}",
        orchestrator_testkit::server::closed_port()
    );
    let telemetry = with_rule()
        .alerts(|a| {
            a.sink(Arc::new(AlertmanagerSink::new(&closed).unwrap()))
                .retry(RetryPolicy {
                    attempts: 2,
                    backoff: Duration::from_millis(20),
                    ..RetryPolicy::default()
                })
        })
        .build()
        .unwrap();
    let sessions = three_sessions(&telemetry);
    let dropped = || {
        orchestrator_telemetry::exposition::parse(&telemetry.registry().render())
            .unwrap()
            .sum_where("orchestrator_telemetry_dropped_total", |s| {
                s.label("queue") == Some("alert_notifications")
            })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dropped() < 1.0 {
        assert!(std::time::Instant::now() < deadline, "nothing dropped");
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = telemetry.alerts_report().unwrap();
    assert_eq!(report.rules[0].status, Some(AlertState::Firing), "{report}");
    drop(sessions);
    telemetry.shutdown();
}

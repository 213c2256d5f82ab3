//! Notification values a person can read: in the rule's unit with three significant digits,
//! and a resolved notification says the value at the resolution, or says that it shows the
//! last firing value. Checked in every channel: Slack, PagerDuty and the webhook against
//! servers in the test, email through a real SMTP server, and the log sink's event.

use crate::support::Smtp;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use orchestrator_alerts::{
    AlertEvaluator, AlertRule, EmailSink, EvaluatorConfig, LogSink, Notification, NotifyState,
    PagerDutySink, Severity, Sink, SlackSink, Unit, WebhookSink,
};
use orchestrator_http::{HttpClient, Secret};
use orchestrator_metrics::Registry;
use orchestrator_metrics::catalogue::ACTIVE_SESSIONS;
use orchestrator_query::{CmpOp, Expr, SampleStore, Selector};
use orchestrator_testkit::logs::LogBuffer;
use orchestrator_testkit::server::RecordingServer;

/// The measured value while firing, and after.
const FIRING: f64 = 4.061_234_5;
const CALM: f64 = 0.123_4;

/// `SlowAnswers` (seconds, > 1): its value is still there at the resolution.
/// `Overload` (a ratio, > 3, over a value that only exists above 2): its value is gone.
fn rules() -> Vec<AlertRule> {
    let sessions = || Expr::value(Selector::of(&ACTIVE_SESSIONS)).map(Expr::sum);
    vec![
        AlertRule::builder("SlowAnswers", sessions())
            .when(CmpOp::Gt, 1.0)
            .unit(Unit::Seconds)
            .for_duration(Duration::from_secs(15))
            .severity(Severity::Critical)
            .summary("slow answers")
            .build()
            .unwrap(),
        AlertRule::builder(
            "Overload",
            sessions().and_then(|s| s.compare(CmpOp::Gt, 2.0)),
        )
        .when(CmpOp::Gt, 3.0)
        .unit(Unit::Ratio)
        .for_duration(Duration::from_secs(15))
        .severity(Severity::Critical)
        .summary("overload")
        .build()
        .unwrap(),
    ]
}

/// A sink keeping what it is given, to hand to the log sink under a capturing subscriber.
#[derive(Debug, Default)]
struct Kept(Mutex<Vec<Notification>>);

impl Sink for Kept {
    fn name(&self) -> String {
        "kept".to_owned()
    }
    fn delivery(&self) -> orchestrator_alerts::Delivery {
        orchestrator_alerts::Delivery::OnChange
    }
    fn deliver(&self, batch: &[Notification]) -> Result<(), orchestrator_alerts::DeliveryError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(())
    }
}

/// Fires both rules (4.06 for 45 s), then calms (0.1234).
fn drive(evaluator: &mut AlertEvaluator) {
    let mut store = SampleStore::default();
    let now = orchestrator_support::Clock::now_ms(&orchestrator_support::SystemClock);
    let start = now - 5 * 15_000;
    for i in 0..5 {
        let t = start + i * 15_000;
        let value = if i < 4 { FIRING } else { CALM };
        store.append("orchestrator_active_sessions", &[], t, value, 3_600_000);
        evaluator.evaluate_at(&store, t);
    }
    evaluator.flush();
}

/// The two rules' firing and resolved values as every channel must print them.
const SLOW_FIRING: &str = "4.06 s";
const SLOW_RESOLVED: &str = "123 ms at resolution";
const OVERLOAD_FIRING: &str = "406 %";
const OVERLOAD_RESOLVED: &str = "406 % (last firing value; none at resolution)";

fn assert_shows(what: &str, text: &str, expected: &[&str]) {
    for value in expected {
        assert!(text.contains(value), "{what}: {value} missing from {text}");
    }
    assert!(
        !text.contains("4.0612") && !text.contains("0.1234"),
        "{what}: a raw float in {text}"
    );
}

#[test]
fn every_channel_prints_values_in_the_rules_unit_and_says_what_a_resolved_value_is() {
    let ok = |_: &_| (200, "ok".to_owned());
    let slack = RecordingServer::start("127.0.0.1:0", None, ok);
    let pagerduty = RecordingServer::start("127.0.0.1:0", None, |_| (202, "{}".to_owned()));
    let webhook = RecordingServer::start("127.0.0.1:0", None, ok);
    let smtp = Smtp::start(&[]);
    let client = HttpClient::new().unwrap();
    let kept = Arc::new(Kept::default());
    let sinks: Vec<Arc<dyn Sink>> = vec![
        Arc::new(SlackSink::new(
            Secret::new(format!("{}/hook", slack.url())),
            client.clone(),
        )),
        Arc::new(
            PagerDutySink::new(Secret::new("key"), client, "test")
                .endpoint(format!("{}/v2/enqueue", pagerduty.url())),
        ),
        Arc::new(WebhookSink::new(&format!("{}/hook", webhook.url())).unwrap()),
        Arc::new(
            EmailSink::builder(&format!("smtp://{}", smtp.addr), "alerts@orchestrator.test")
                .to("oncall@example.com")
                .build()
                .unwrap(),
        ),
        kept.clone(),
    ];
    let registry = Registry::new();
    let mut evaluator =
        AlertEvaluator::new(rules(), &registry, sinks, EvaluatorConfig::default()).unwrap();
    drive(&mut evaluator);

    let body =
        |r: &orchestrator_testkit::server::Recorded| String::from_utf8_lossy(&r.body).into_owned();
    let all = |server: &RecordingServer, n| {
        server
            .wait_for(n, Duration::from_secs(10))
            .iter()
            .map(body)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let everything = [
        SLOW_FIRING,
        SLOW_RESOLVED,
        OVERLOAD_FIRING,
        OVERLOAD_RESOLVED,
    ];
    // Slack: one message per batch (firing, then resolved), each alert's value a field.
    assert_shows("slack", &all(&slack, 2), &everything);
    // PagerDuty: the trigger carries the value; a resolve event carries only the key.
    assert_shows(
        "pagerduty",
        &all(&pagerduty, 4),
        &[SLOW_FIRING, OVERLOAD_FIRING],
    );
    // The webhook: the text line and each alert's `valueText` (its `value` stays the
    // number, for machines).
    let hook: String = webhook
        .wait_for(2, Duration::from_secs(10))
        .iter()
        .flat_map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let mut texts = vec![v["text"].as_str().unwrap().to_owned()];
            for alert in v["alerts"].as_array().unwrap() {
                texts.push(alert["valueText"].as_str().unwrap().to_owned());
                let last = alert["valueIsLastFiring"].as_bool().unwrap();
                assert_eq!(
                    last,
                    alert["status"] == "resolved" && alert["alertname"] == "Overload"
                );
            }
            texts
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_shows("webhook", &hook, &everything);
    // Email: one message per alert and state.
    let mails = smtp
        .messages(4)
        .join("\n")
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert_shows("email", &mails, &everything);

    // The log sink's events, captured.
    let notifications = kept.0.lock().unwrap().clone();
    assert_eq!(notifications.len(), 4);
    let resolved: Vec<_> = notifications
        .iter()
        .filter(|n| n.state == NotifyState::Resolved)
        .map(|n| (n.alertname.as_str(), n.value, n.value_is_last_firing))
        .collect();
    assert!(
        resolved.contains(&("SlowAnswers", CALM, false)),
        "{resolved:?}"
    );
    assert!(
        resolved.contains(&("Overload", FIRING, true)),
        "{resolved:?}"
    );
    let ((), logs) = LogBuffer::capture(|| LogSink.deliver(&notifications).unwrap());
    let log = logs.text();
    for value in everything {
        assert!(
            log.contains(&format!("value={value}")) || log.contains(value),
            "{value} missing from {log}"
        );
    }
    assert!(log.contains("raw_value=4.0612345"), "{log}");
}

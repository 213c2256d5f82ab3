//! Sinks against real servers: a webhook server in the test, and a real Alertmanager
//! (Debian package `prometheus-alertmanager`) on a free loopback port. Also sinks that are
//! down or never answer: bounded retries, drops counted, evaluation unaffected.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orchestrator_alerts::generate::{AlertmanagerOptions, alertmanager_config};
use orchestrator_alerts::{
    AlertEvaluator, AlertRule, AlertmanagerSink, EvaluatorConfig, RetryPolicy, Severity, Sink,
    WebhookSink,
};
use orchestrator_metrics::{Registry, exposition};
use orchestrator_query::SampleStore;
use orchestrator_testkit::services::Alertmanager;
use serde_json::Value;
use support::drive;

/// An HTTP server recording the bodies POSTed to it.
struct Hook {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

impl Hook {
    fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = bodies.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                if let Some(body) = read_request(&mut stream)
                    && let Ok(v) = serde_json::from_slice(&body)
                {
                    sink.lock().unwrap().push(v);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Hook { url, bodies }
    }

    fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let bodies = self.bodies.lock().unwrap().clone();
            if check(&bodies) {
                return bodies;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {what}; received {bodies:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn rule() -> AlertRule {
    support::rule(Severity::Critical)
}

#[test]
fn webhook_receives_slack_compatible_firing_and_resolved() {
    let hook = Hook::start();
    let sink: Arc<dyn Sink> = Arc::new(WebhookSink::new(&hook.url).unwrap());
    let mut evaluator = AlertEvaluator::new(
        vec![rule()],
        &Registry::new(),
        vec![sink],
        EvaluatorConfig::default(),
    )
    .unwrap();
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    let bodies = hook.wait_for("firing and resolved", Duration::from_secs(10), |b| {
        b.len() >= 2
    });
    assert_eq!(bodies[0]["status"], "firing");
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING] TooManySessions (critical): too many sessions")
    );
    assert_eq!(bodies[0]["alerts"][0]["labels"]["service"], "orchestrator");
    assert_eq!(bodies[1]["status"], "resolved");
}

fn get(url: &str) -> Option<(u16, String)> {
    let reply = orchestrator_http::HttpClient::new()
        .ok()?
        .get(url, &[])
        .ok()?;
    Some((reply.status, reply.text()))
}

#[test]
fn pushed_alerts_show_up_in_alertmanager_with_their_labels() {
    let am = Alertmanager::start(&alertmanager_config(&AlertmanagerOptions::default()));
    let sink: Arc<dyn Sink> = Arc::new(AlertmanagerSink::new(&am.url()).unwrap());
    let mut evaluator = AlertEvaluator::new(
        vec![rule()],
        &Registry::new(),
        vec![sink],
        EvaluatorConfig::default(),
    )
    .unwrap();
    drive(&mut evaluator, 3, None);
    evaluator.flush();
    let (_, body) = get(&format!("{}/api/v2/alerts", am.url())).unwrap();
    let alerts: Value = serde_json::from_str(&body).unwrap();
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "TooManySessions")
        .expect("alert in Alertmanager");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["service"], "orchestrator");
    assert_eq!(alert["annotations"]["summary"], "too many sessions");
    assert_eq!(alert["status"]["state"], "active");
    assert_eq!(
        alert["receivers"][0]["name"], "pagerduty-slack",
        "critical routes to PagerDuty and Slack"
    );
}

#[test]
fn alertmanager_delivers_firing_then_resolved_through_the_generated_routing() {
    let hook = Hook::start();
    let options = AlertmanagerOptions {
        webhook_override: Some(hook.url.clone()),
        group_wait: Duration::from_secs(1),
        group_interval: Duration::from_secs(1),
        ..AlertmanagerOptions::default()
    };
    let am = Alertmanager::start(&alertmanager_config(&options));
    let sink: Arc<dyn Sink> = Arc::new(AlertmanagerSink::new(&am.url()).unwrap());
    let mut evaluator = AlertEvaluator::new(
        vec![rule()],
        &Registry::new(),
        vec![sink.clone()],
        EvaluatorConfig::default(),
    )
    .unwrap();
    drive(&mut evaluator, 3, None);
    evaluator.flush();
    let bodies = hook.wait_for("a firing notification", Duration::from_secs(20), |b| {
        b.iter().any(|v| v["status"] == "firing")
    });
    let firing = bodies.iter().find(|v| v["status"] == "firing").unwrap();
    assert_eq!(firing["receiver"], "pagerduty-slack");
    assert_eq!(
        firing["alerts"][0]["labels"]["alertname"],
        "TooManySessions"
    );
    // Resolve: the evaluator sends the alert with endsAt = the resolution time.
    let mut evaluator = AlertEvaluator::new(
        vec![rule()],
        &Registry::new(),
        vec![sink],
        EvaluatorConfig::default(),
    )
    .unwrap();
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    hook.wait_for("a resolved notification", Duration::from_secs(30), |b| {
        b.iter().any(|v| v["status"] == "resolved")
    });
}

#[test]
fn sinks_that_are_down_or_silent_never_slow_evaluation() {
    // One port refuses connections; the other accepts and never answers.
    let refused = format!(
        "http://127.0.0.1:{}/hook",
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream); // never answered
        }
    });
    let registry = Registry::new();
    let sinks: Vec<Arc<dyn Sink>> = vec![
        Arc::new(WebhookSink::new(&refused).unwrap()),
        Arc::new(
            WebhookSink::with_client(
                &silent_url,
                orchestrator_http::HttpClient::builder()
                    .deadline(Duration::from_millis(300))
                    .build()
                    .unwrap(),
            )
            .unwrap(),
        ),
    ];
    let config = EvaluatorConfig {
        retry: RetryPolicy {
            attempts: 2,
            backoff: Duration::from_millis(20),
            queue: 2,
            ..RetryPolicy::default()
        },
        ..EvaluatorConfig::default()
    };
    let mut evaluator = AlertEvaluator::new(vec![rule()], &registry, sinks, config).unwrap();
    let start = Instant::now();
    // 40 incidents, each firing then resolving: 80 notifications per sink.
    let mut store = SampleStore::default();
    for i in 0..160i64 {
        let value = if i % 4 < 2 { 9.0 } else { 1.0 };
        store.append(
            "orchestrator_active_sessions",
            &[],
            i * 15_000,
            value,
            3_600_000,
        );
        evaluator.evaluate_at(&store, i * 15_000);
    }
    let evaluating = start.elapsed();
    assert!(
        evaluating < Duration::from_millis(300),
        "evaluation waited on the sinks: {evaluating:?}"
    );
    evaluator.flush();
    let dropped = exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("alert_notifications")
        });
    assert_eq!(
        dropped, 160.0,
        "every notification to both dead sinks is dropped and counted"
    );
}

//! The direct channels against real servers: Slack and PagerDuty played by TLS servers in
//! the test (certificates generated here), email through a real SMTP server (aiosmtpd,
//! Debian package `python3-aiosmtpd`), plain and STARTTLS; routing by severity; a hanging
//! sink at shutdown.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use orchestrator_alerts::generate::{Channel, Routing};
use orchestrator_alerts::{
    AlertEvaluator, Dispatcher, EmailSink, EvaluatorConfig, PagerDutySink, RetryPolicy, Severity,
    Sink, SlackSink, WebhookSink,
};
use orchestrator_http::{HttpClient, Secret, TlsFiles, TlsMaterial};
use orchestrator_metrics::Registry;
use orchestrator_testkit::pki::TestPki;
use orchestrator_testkit::server::RecordingServer;
use serde_json::Value;
use support::{Smtp, drive, dropped, notification, rule};

fn client(tls: TlsMaterial) -> HttpClient {
    HttpClient::builder()
        .deadline(Duration::from_secs(5))
        .tls(tls)
        .build()
        .unwrap()
}

fn trusted(pki: &TestPki) -> TlsMaterial {
    TlsFiles::new().ca("ca", pki.path("ca.pem")).load().unwrap()
}

fn evaluator(registry: &Registry, sinks: Vec<Arc<dyn Sink>>) -> AlertEvaluator {
    AlertEvaluator::new(
        vec![rule(Severity::Critical)],
        registry,
        sinks,
        EvaluatorConfig::default(),
    )
    .unwrap()
}

#[test]
fn slack_receives_firing_then_resolved_in_its_webhook_schema() {
    let pki = TestPki::new();
    let server = RecordingServer::start("127.0.0.1:0", Some(pki.server_config(false)), |_| {
        (200, "ok".into())
    });
    let webhook = Secret::new(format!("{}/services/T000/B000/XXXXSECRET", server.url()));
    let slack =
        SlackSink::new(webhook, client(trusted(&pki))).link("http://127.0.0.1:9464/dashboard");
    assert!(!format!("{slack:?}").contains("XXXXSECRET"), "{slack:?}");
    let registry = Registry::new();
    let mut evaluator = evaluator(&registry, vec![Arc::new(slack)]);
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    let got = server.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "one firing and one resolved message");
    let messages: Vec<Value> = got
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, "/services/T000/B000/XXXXSECRET");
            assert_eq!(r.header("content-type"), Some("application/json"));
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    for (message, state) in messages.iter().zip(["FIRING", "RESOLVED"]) {
        check_slack_schema(message);
        let text = message["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("[{state}] Too Many Sessions (critical)")),
            "{text}"
        );
        let all = message.to_string();
        // Slack's mrkdwn escapes `&`, `<` and `>`.
        for fact in [
            "too many sessions",
            "sum(orchestrator_active_sessions) &gt; 5",
            "Since",
            "/dashboard|Live page",
        ] {
            assert!(all.contains(fact), "{fact} missing from {all}");
        }
    }
    assert!(messages[0].to_string().contains(":rotating_light:"));
    assert!(messages[1].to_string().contains(":white_check_mark:"));
    assert_eq!(dropped(&registry), 0.0);
}

/// Slack's incoming-webhook schema: `text` (string, the fallback) and `blocks` of known
/// types, each within Slack's documented limits.
fn check_slack_schema(message: &Value) {
    let object = message.as_object().unwrap();
    assert!(
        object.keys().all(|k| k == "text" || k == "blocks"),
        "{message}"
    );
    assert!(message["text"].is_string());
    let blocks = message["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for block in blocks {
        match block["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(block["text"]["type"], "plain_text");
                assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 150);
            }
            "section" => {
                assert_eq!(block["text"]["type"], "mrkdwn");
                assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 3000);
                if let Some(fields) = block.get("fields") {
                    let fields = fields.as_array().unwrap();
                    assert!(fields.len() <= 10);
                    assert!(fields.iter().all(|f| f["type"] == "mrkdwn"));
                }
            }
            "context" => {
                let elements = block["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 10);
            }
            other => panic!("unexpected block type {other}"),
        }
    }
}

#[test]
fn pagerduty_gets_trigger_then_resolve_with_one_dedup_key() {
    let pki = TestPki::new();
    let server = RecordingServer::start("127.0.0.1:0", Some(pki.server_config(false)), |_| {
        (
            202,
            r#"{"status":"success","message":"Event processed"}"#.into(),
        )
    });
    let key_file = pki.path("routing_key");
    std::fs::write(&key_file, "R0UTINGKEY0123456789abcdef012345\n").unwrap();
    let key = Secret::from_file(&key_file).unwrap();
    let pagerduty = PagerDutySink::new(key, client(trusted(&pki)), "orchestrator-1")
        .endpoint(format!("{}/v2/enqueue", server.url()));
    assert!(
        !format!("{pagerduty:?}").contains("R0UTINGKEY"),
        "{pagerduty:?}"
    );
    let registry = Registry::new();
    let mut evaluator = evaluator(&registry, vec![Arc::new(pagerduty)]);
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    let got = server.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2);
    let events: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(got.iter().all(|r| r.path == "/v2/enqueue"));
    let (trigger, resolve) = (&events[0], &events[1]);
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(resolve["event_action"], "resolve");
    for e in &events {
        assert_eq!(e["routing_key"], "R0UTINGKEY0123456789abcdef012345");
    }
    assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
    assert!(
        trigger["dedup_key"]
            .as_str()
            .unwrap()
            .contains("TooManySessions")
    );
    let payload = &trigger["payload"];
    assert!(
        payload["summary"]
            .as_str()
            .unwrap()
            .contains("too many sessions")
    );
    assert_eq!(payload["source"], "orchestrator-1");
    assert_eq!(payload["severity"], "critical");
    assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        payload["custom_details"]["condition"],
        "sum(orchestrator_active_sessions) > 5"
    );
    assert_eq!(dropped(&registry), 0.0);
}

#[test]
fn an_untrusted_certificate_fails_delivery_without_retries_and_is_counted() {
    let pki = TestPki::new();
    let server = RecordingServer::start("127.0.0.1:0", Some(pki.server_config(false)), |_| {
        (200, "ok".into())
    });
    let slack = SlackSink::new(
        Secret::new(format!("{}/services/x", server.url())),
        client(TlsMaterial::default()),
    );
    let err = slack.deliver(&[notification("critical")]).unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("TLS"), "{err:?}");
    assert!(
        !err.message.contains("services"),
        "the webhook path is never shown: {err:?}"
    );
    let registry = Registry::new();
    let mut evaluator = evaluator(&registry, vec![Arc::new(slack)]);
    let started = Instant::now();
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no retry waits on a TLS error"
    );
    assert_eq!(dropped(&registry), 2.0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.handshake_failures() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.handshake_failures(),
        3,
        "one handshake per attempt, none retried"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn routing_sends_each_severity_to_its_channels() {
    let slack = RecordingServer::start("127.0.0.1:0", None, |_| (200, "ok".into()));
    let pagerduty = RecordingServer::start("127.0.0.1:0", None, |_| (202, "{}".into()));
    let routing = Routing::default();
    let plain = client(TlsMaterial::default());
    let sinks = vec![
        routing.sink(
            Channel::Slack,
            Arc::new(SlackSink::new(
                Secret::new(format!("{}/s", slack.url())),
                plain.clone(),
            )),
        ),
        routing.sink(
            Channel::PagerDuty,
            Arc::new(
                PagerDutySink::new(Secret::new("k"), plain, "test")
                    .endpoint(format!("{}/v2/enqueue", pagerduty.url())),
            ),
        ),
    ];
    let mut dispatcher = Dispatcher::new(
        sinks,
        RetryPolicy::default(),
        support::counter(&Registry::new()),
    )
    .unwrap();
    let batch: Vec<_> = ["critical", "high", "medium", "low"]
        .into_iter()
        .map(notification)
        .collect();
    dispatcher.dispatch(&batch, &[]);
    dispatcher.shutdown();
    let severities = |server: &RecordingServer| -> Vec<String> {
        server
            .requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .map(|b| {
                ["critical", "high", "medium", "low"]
                    .into_iter()
                    .find(|s| {
                        b.contains(&format!("({s})"))
                            || b.contains(&format!("\"severity\":\"{s}\""))
                    })
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        severities(&slack),
        ["critical", "high"],
        "default: critical and high to Slack"
    );
    assert_eq!(
        pagerduty.requests().len(),
        1,
        "default: only critical pages"
    );
}

#[test]
fn shutdown_with_a_hanging_sink_returns_within_its_deadline_and_counts_the_rest() {
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", hanging.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hanging.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    let slow = HttpClient::builder()
        .deadline(Duration::from_secs(60))
        .build()
        .unwrap();
    let sink: Arc<dyn Sink> = Arc::new(WebhookSink::with_client(&url, slow).unwrap());
    let registry = Registry::new();
    let policy = RetryPolicy {
        shutdown_deadline: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let counter = support::counter(&registry);
    let mut dispatcher = Dispatcher::new(vec![sink], policy, counter).unwrap();
    for _ in 0..3 {
        dispatcher.dispatch(&[notification("high")], &[]);
    }
    std::thread::sleep(Duration::from_millis(200)); // the first batch is in flight
    let started = Instant::now();
    let abandoned = dispatcher.shutdown();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "shutdown took {took:?}");
    assert_eq!(abandoned, 3, "the batch in flight and the two queued");
    assert_eq!(dropped(&registry), 3.0);
}

#[test]
fn email_reaches_a_real_smtp_server_with_headers_and_both_bodies() {
    let smtp = Smtp::start(&[]);
    let email = EmailSink::builder(&format!("smtp://{}", smtp.addr), "alerts@orchestrator.test")
        .to("oncall@example.com")
        .link("http://127.0.0.1:9464/dashboard")
        .build()
        .unwrap();
    let registry = Registry::new();
    let mut evaluator = evaluator(&registry, vec![Arc::new(email)]);
    drive(&mut evaluator, 4, Some(45_000));
    evaluator.flush();
    let mails = smtp.messages(2);
    assert_eq!(mails.len(), 2, "firing and resolved");
    for (mail, state) in mails.iter().zip(["[FIRING]", "[RESOLVED]"]) {
        support::check_mail(mail, state);
    }
    assert_eq!(dropped(&registry), 0.0);
}

#[test]
fn email_over_starttls_with_the_generated_ca() {
    let pki = TestPki::new();
    let cert = pki.path("server.pem");
    let key = pki.path("server.key");
    let smtp = Smtp::start(&[
        "--tlscert",
        cert.to_str().unwrap(),
        "--tlskey",
        key.to_str().unwrap(),
    ]);
    let url = format!("smtp://{}?tls=required", smtp.addr);
    let untrusted = EmailSink::builder(&url, "alerts@orchestrator.test")
        .to("oncall@example.com")
        .build()
        .unwrap();
    let err = untrusted.deliver(&[notification("high")]).unwrap_err();
    assert!(!err.retryable, "{err:?}");
    let email = EmailSink::builder(&url, "alerts@orchestrator.test")
        .to("oncall@example.com")
        .tls(trusted(&pki))
        .build()
        .unwrap();
    email.deliver(&[notification("high")]).unwrap();
    let mails = smtp.messages(1);
    assert_eq!(mails.len(), 1);
    support::check_mail(&mails[0], "[FIRING]");
}

#[test]
fn a_refused_recipient_is_a_failed_delivery_with_its_code_retried_only_for_4xx() {
    for (code, attempts) in [("550", 1), ("450", 3)] {
        let smtp = Smtp::refusing(code);
        let email =
            EmailSink::builder(&format!("smtp://{}", smtp.addr), "alerts@orchestrator.test")
                .to("nobody@example.com")
                .build()
                .unwrap();
        let err = email.deliver(&[notification("low")]).unwrap_err();
        assert_eq!(err.code, Some(code.parse().unwrap()), "{err:?}");
        assert_eq!(err.retryable, code.starts_with('4'), "{err:?}");
        let registry = Registry::new();
        let policy = RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        };
        let mut dispatcher =
            Dispatcher::new(vec![Arc::new(email)], policy, support::counter(&registry)).unwrap();
        dispatcher.dispatch(&[notification("low")], &[]);
        dispatcher.shutdown();
        assert_eq!(dropped(&registry), 1.0, "{code}");
        assert_eq!(
            smtp.rcpt_attempts(),
            1 + attempts,
            "{code}: attempts after the direct one"
        );
    }
}

#[test]
fn credentials_in_an_smtp_url_never_show() {
    let email = EmailSink::builder(
        "smtps://alerts:hunter2%21@smtp.example.com",
        "a@example.com",
    )
    .to("b@example.com")
    .build()
    .unwrap();
    let shown = format!("{email:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alerts:"),
        "{shown}"
    );
    let err = EmailSink::builder("smtp://u:hunter2@host?tls=bogus", "a@example.com")
        .to("b@example.com")
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn email_over_implicit_tls_with_the_generated_ca() {
    let pki = TestPki::new();
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let smtp = Smtp::start(&[
        "--smtpscert",
        cert.to_str().unwrap(),
        "--smtpskey",
        key.to_str().unwrap(),
    ]);
    let email = EmailSink::builder(
        &format!("smtps://{}", smtp.addr),
        "alerts@orchestrator.test",
    )
    .to("oncall@example.com")
    .tls(trusted(&pki))
    .build()
    .unwrap();
    email.deliver(&[notification("medium")]).unwrap();
    let mails = smtp.messages(1);
    assert_eq!(mails.len(), 1);
    support::check_mail(&mails[0], "[FIRING]");
}

#[test]
fn hostile_answers_to_a_sink_are_typed_failures_and_counted_drops() {
    // A redirect (never followed) and a body over the 1 MiB cap.
    let redirect = RecordingServer::start("127.0.0.1:0", None, |_| (302, String::new()));
    let huge = RecordingServer::start("127.0.0.1:0", None, |_| (200, "x".repeat(2 << 20)));
    let registry = Registry::new();
    let policy = RetryPolicy {
        backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    let plain = client(TlsMaterial::default());
    let sinks: Vec<Arc<dyn Sink>> = vec![
        Arc::new(
            WebhookSink::with_client(&format!("{}/hook", redirect.url()), plain.clone()).unwrap(),
        ),
        Arc::new(SlackSink::new(
            Secret::new(format!("{}/hook", huge.url())),
            plain,
        )),
    ];
    for sink in &sinks {
        let err = sink.deliver(&[notification("high")]).unwrap_err();
        assert!(!err.retryable, "{err:?}");
    }
    let mut dispatcher = Dispatcher::new(sinks, policy, support::counter(&registry)).unwrap();
    dispatcher.dispatch(&[notification("high")], &[]);
    assert_eq!(dispatcher.shutdown(), 0, "nothing hangs");
    assert_eq!(dropped(&registry), 2.0, "one drop per sink, no retries");
    assert_eq!(
        redirect.requests().len(),
        2,
        "the direct attempt and one from the dispatcher"
    );
}

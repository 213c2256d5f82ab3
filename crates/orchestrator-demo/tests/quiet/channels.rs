//! Issue 13, the demo: `--incident` with `--alert-webhook https://...` (a Slack-compatible
//! TLS server in the test) and `--smtp ...?tls=required --alert-email` (aiosmtpd with
//! STARTTLS), both trusting the test CA through `--alert-cacert`: one firing and one resolved
//! notification reach each channel, and no other alert does.

use crate::common;

use std::time::Duration;

use orchestrator_testkit::pki::TestPki;
use orchestrator_testkit::server::RecordingServer;
use orchestrator_testkit::smtp::Smtp;
use serde_json::Value;

#[test]
fn an_incident_reaches_slack_and_email_firing_then_resolved() {
    let pki = TestPki::new();
    let slack = RecordingServer::start("127.0.0.1:0", Some(pki.server_config(false)), |_| {
        (200, "ok".into())
    });
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let smtp = Smtp::start(&[
        "--tlscert",
        cert.to_str().unwrap(),
        "--tlskey",
        key.to_str().unwrap(),
    ]);
    let (output, stdout, stderr) = common::run(
        common::demo()
            .args(["--incident", "--concurrency", "4"])
            // The LLM at half its delays keeps the API's p95 (about 90 ms) well below the
            // latency rule's 200 ms: the incident's alert is the only one.
            .args(["--llm-latency-scale", "0.5"])
            .args([
                "--alert-webhook",
                &format!("{}/services/T0/B0/SECRETPATH", slack.url()),
            ])
            // No tenants: the default `tenant-0` budget is then never spent, so the incident's
            // alert is the only one the channels receive.
            .args(["--tenants", "0"])
            .args(["--smtp", &format!("smtp://{}?tls=required", smtp.addr)])
            .args(["--alert-email", "oncall@example.com"])
            .args(["--alert-cacert", pki.path("ca.pem").to_str().unwrap()]),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("SECRETPATH") && !stdout.contains("SECRETPATH"),
        "the webhook URL is a secret"
    );

    let posts = slack.wait_for(2, Duration::from_secs(5));
    let states: Vec<String> = posts
        .iter()
        .map(|r| {
            let message: Value = serde_json::from_slice(&r.body).unwrap();
            assert!(message["blocks"].is_array(), "{message}");
            let text = message["text"].as_str().unwrap().to_owned();
            assert!(text.contains("High Error Rate"), "{text}");
            text
        })
        .collect();
    assert_eq!(states.len(), 2, "{states:?}\n{stdout}");
    assert!(
        states[0].contains("[FIRING]") && states[1].contains("[RESOLVED]"),
        "{states:?}"
    );

    let mails = smtp.messages(2);
    assert_eq!(mails.len(), 2, "{stdout}\n{stderr}");
    let subject = |mail: &str| {
        mail.lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        subject(&mails[0]).starts_with("[FIRING] High Error Rate"),
        "{}",
        mails[0]
    );
    assert!(
        subject(&mails[1]).starts_with("[RESOLVED] High Error Rate"),
        "{}",
        mails[1]
    );
    assert!(mails[0].contains("/dashboard"), "the live page's link");
}

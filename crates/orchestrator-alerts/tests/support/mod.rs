//! Shared by the channel tests: a rule driven to fire and resolve, notifications, the drop
//! counter, and a real SMTP server (aiosmtpd) on a free loopback port.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orchestrator_alerts::{AlertEvaluator, AlertRule, Notification, NotifyState, Severity};
use orchestrator_metrics::catalogue::{ACTIVE_SESSIONS, TELEMETRY_DROPPED_TOTAL};
use orchestrator_metrics::{CounterHandle, Registry, exposition};
use orchestrator_query::{CmpOp, Expr, SampleStore, Selector};

/// Fires when the sessions exceed 5 for 15 s.
pub fn rule(severity: Severity) -> AlertRule {
    AlertRule::builder(
        "TooManySessions",
        Expr::value(Selector::of(&ACTIVE_SESSIONS)).map(Expr::sum),
    )
    .when(CmpOp::Gt, 5.0)
    .for_duration(Duration::from_secs(15))
    .severity(severity)
    .label("service", "orchestrator")
    .summary("too many sessions")
    .build()
    .unwrap()
}

/// Replays the last `steps` × 15 s: the rule fires 15 s in, and resolves `resolve_at` ms in.
pub fn drive(evaluator: &mut AlertEvaluator, steps: i64, resolve_at: Option<i64>) {
    let mut store = SampleStore::default();
    let start =
        orchestrator_query::Clock::now_ms(&orchestrator_query::SystemClock) - steps * 15_000;
    for i in 0..steps {
        let t = start + i * 15_000;
        let value = if resolve_at.is_some_and(|r| i * 15_000 >= r) {
            1.0
        } else {
            9.0
        };
        store.append("orchestrator_active_sessions", &[], t, value, 3_600_000);
        evaluator.evaluate_at(&store, t);
    }
}

/// A firing notification of the rule with `severity`.
pub fn notification(severity: &str) -> Notification {
    Notification {
        alertname: "TooManySessions".to_owned(),
        state: NotifyState::Firing,
        labels: vec![
            ("alertname".to_owned(), "TooManySessions".to_owned()),
            ("severity".to_owned(), severity.to_owned()),
            ("service".to_owned(), "orchestrator".to_owned()),
        ],
        annotations: vec![("summary".to_owned(), "too many sessions".to_owned())],
        value: 9.0,
        condition: "sum(orchestrator_active_sessions) > 5".to_owned(),
        starts_at: 1_764_000_000_000,
        ends_at: 1_764_000_300_000,
    }
}

/// The alert notifications' drop counter of `registry`.
pub fn counter(registry: &Registry) -> CounterHandle {
    registry
        .counter(&TELEMETRY_DROPPED_TOTAL, &["alert_notifications"])
        .unwrap()
}

/// Notifications dropped and counted in `registry`.
pub fn dropped(registry: &Registry) -> f64 {
    exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("alert_notifications")
        })
}

/// aiosmtpd, run with Debian's Python (`/usr/bin/python3`, where `python3-aiosmtpd` is).
pub struct Smtp {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Smtp {
    /// A server storing messages in a maildir, with extra aiosmtpd arguments.
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        args.extend([
            "-c".to_owned(),
            "aiosmtpd.handlers.Mailbox".to_owned(),
            maildir.display().to_string(),
        ]);
        Self::spawn(dir, &args)
    }

    /// A server answering every RCPT TO with `code` (see `tests/smtp/refusing.py`).
    pub fn refusing(code: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("rcpt.log");
        let args = vec![
            "-c".to_owned(),
            "refusing.Refusing".to_owned(),
            code.to_owned(),
            log.display().to_string(),
        ];
        Self::spawn(dir, &args)
    }

    fn spawn(dir: tempfile::TempDir, handler: &[String]) -> Self {
        let python = "/usr/bin/python3";
        assert!(
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .status()
                .is_ok_and(|s| s.success()),
            "aiosmtpd is not installed: run scripts/test, or apt-get install -y python3-aiosmtpd"
        );
        let port = orchestrator_testkit::server::closed_port();
        let addr = format!("127.0.0.1:{port}");
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp");
        let child = Command::new(python)
            .env("PYTHONPATH", here)
            .args(["-m", "aiosmtpd", "-n", "-l", &addr])
            .args(handler)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while !orchestrator_testkit::server::reachable(&addr) {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp { addr, child, dir }
    }

    /// Waits up to 10 s for `n` messages in the maildir; returns them, oldest first.
    pub fn messages(&self, n: usize) -> Vec<String> {
        let new = self.dir.path().join("maildir/new");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut files: Vec<_> = std::fs::read_dir(&new)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            if files.len() >= n || Instant::now() >= deadline {
                files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
                return files
                    .iter()
                    .map(|p| std::fs::read_to_string(p).unwrap())
                    .collect();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// RCPT TO commands the refusing server received.
    pub fn rcpt_attempts(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("rcpt.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks a received message: its headers, and the same facts in the plain-text and HTML
/// parts.
pub fn check_mail(mail: &str, state: &str) {
    let (head, body) = mail
        .split_once("\n\n")
        .or(mail.split_once("\r\n\r\n"))
        .unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in {head}"))
    };
    let subject = header("Subject");
    assert!(
        subject.starts_with(&format!("{state} Too Many Sessions")),
        "{subject}"
    );
    assert_eq!(header("From"), "alerts@orchestrator.test");
    assert!(header("To").contains("@example.com"));
    assert!(
        header("Content-Type").starts_with("multipart/alternative"),
        "{head}"
    );
    // Undo quoted-printable soft breaks and the escapes used here before looking for facts.
    let body = body
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert!(body.contains("Content-Type: text/plain"), "{body}");
    assert!(body.contains("Content-Type: text/html"), "{body}");
    for fact in [
        "too many sessions",
        "sum(orchestrator_active_sessions) &gt; 5",
        "sum(orchestrator_active_sessions) > 5",
        "Since",
    ] {
        assert!(body.contains(fact), "{fact} missing from {body}");
    }
}

//! Helpers shared by the end-to-end tests: real tools, found on PATH or failing loudly.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use orchestrator_testkit::tool;

/// A free loopback port (bound then released; the caller binds it right away).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A Prometheus server started for one test, killed on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` every second, with `rule_files` loaded.
    pub fn start(target: SocketAddr, rule_files: &[&Path]) -> Prometheus {
        Self::start_with_interval(target, rule_files, "1s")
    }

    /// Starts Prometheus scraping `target` at `interval` (a Prometheus duration such as
    /// `250ms`), with `rule_files` loaded and evaluated at the same interval.
    pub fn start_with_interval(
        target: SocketAddr,
        rule_files: &[&Path],
        interval: &str,
    ) -> Prometheus {
        Self::start_with(target, rule_files, interval, interval)
    }

    /// Starts Prometheus scraping `target` every `scrape` and evaluating `rule_files`
    /// every `evaluation`.
    pub fn start_with(
        target: SocketAddr,
        rule_files: &[&Path],
        scrape: &str,
        evaluation: &str,
    ) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let rules: Vec<String> = rule_files
            .iter()
            .map(|p| format!("  - {}\n", p.display()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: {scrape}\n  evaluation_interval: {evaluation}\n\
             rule_files:\n{}\
             scrape_configs:\n  - job_name: orchestrator\n    static_configs:\n      - targets: ['{target}']\n",
            if rules.is_empty() {
                "  []\n".to_owned()
            } else {
                rules.concat()
            }
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        Self::start_config(&config_path, dir)
    }

    /// Starts Prometheus with the configuration file at `config_path` (its relative rule
    /// paths resolve from its directory), its data in `dir`.
    pub fn start_config(config_path: &Path, dir: tempfile::TempDir) -> Prometheus {
        Self::start_config_with(config_path, dir, &[])
    }

    /// The same, with extra command-line flags (`--enable-feature=exemplar-storage`).
    pub fn start_config_with(
        config_path: &Path,
        dir: tempfile::TempDir,
        flags: &[&str],
    ) -> Prometheus {
        let binary = tool("prometheus", "prometheus");
        let port = free_port();
        let child = Command::new(binary)
            .args(flags)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start prometheus");
        let url = format!("http://127.0.0.1:{port}");
        let mut prometheus = Prometheus {
            child,
            url,
            _dir: dir,
        };
        prometheus.wait_ready();
        prometheus
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    use std::io::Read as _;
                    let _ = stderr.read_to_string(&mut err);
                }
                panic!("prometheus exited with {status}: {err}");
            }
            if http_get(&format!("{}/-/ready", self.url)).is_some_and(|(code, _)| code == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus at {} not ready after 30 s", self.url);
    }

    /// Waits until Prometheus has scraped the target at least once (its scrape manager
    /// applies new targets only after a few seconds).
    pub fn wait_for_first_scrape(&self) {
        let scraped = self.wait_for(Duration::from_secs(30), |p| p.scalar("up") == Some(1.0));
        assert!(
            scraped,
            "Prometheus at {} did not scrape its target within 30 s",
            self.url
        );
    }

    /// Runs an instant query and returns `data.result`.
    pub fn query(&self, promql: &str) -> Vec<Value> {
        self.query_url(query_url(&self.url, &[("query", promql)]), promql)
    }

    /// Runs an instant query at `time_ms` (milliseconds since the epoch).
    pub fn query_at(&self, promql: &str, time_ms: i64) -> Vec<Value> {
        let time = format!("{}.{:03}", time_ms / 1000, time_ms % 1000);
        self.query_url(
            query_url(&self.url, &[("query", promql), ("time", &time)]),
            promql,
        )
    }

    fn query_url(&self, url: String, promql: &str) -> Vec<Value> {
        let (code, body) = http_get(&url).unwrap_or_else(|| panic!("query {promql}: no answer"));
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("query {promql}: {e}: {body}"));
        assert_eq!(code, 200, "query {promql}: {body}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The single value of an instant query, or `None` when the result is empty.
    pub fn scalar(&self, promql: &str) -> Option<f64> {
        let result = self.query(promql);
        let value = result.first()?["value"][1].as_str()?.to_owned();
        value.parse().ok()
    }

    /// `GET` a path of the HTTP API and parse the JSON answer.
    pub fn api(&self, path: &str) -> Value {
        let (code, body) =
            http_get(&format!("{}{path}", self.url)).unwrap_or_else(|| panic!("{path}: no answer"));
        assert_eq!(code, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Waits until `check` holds, polling every 250 ms, for at most `timeout`.
    pub fn wait_for(&self, timeout: Duration, mut check: impl FnMut(&Prometheus) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if check(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `base/api/v1/query` with `params` form-encoded by the URL parser.
fn query_url(base: &str, params: &[(&str, &str)]) -> String {
    orchestrator_telemetry::orchestrator_http::Url::parse_with_params(
        &format!("{base}/api/v1/query"),
        params,
    )
    .expect("a valid Prometheus URL")
    .to_string()
}

/// A blocking HTTP GET over a plain TCP stream (no async runtime needed): (status, body).
pub fn http_get(url: &str) -> Option<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Some((code, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Runs a command with `input` on stdin; returns (success, stdout + stderr).
pub fn run_with_stdin(program: &Path, args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A two-worker Tokio runtime for tests that drive the demo from a plain `#[test]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// Telemetry as the end-to-end tests run it: a listener on a free loopback port, the demo's
/// prices, the monitor every `monitor_interval`, no `OTEL_*` from the environment.
pub fn telemetry(monitor_interval: Duration) -> orchestrator_telemetry::TelemetryGuard {
    orchestrator_telemetry::Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(orchestrator_demo::demo_prices().expect("demo prices"))
        .monitor_interval(monitor_interval)
        .ignore_otel_env()
        .build()
        .expect("telemetry")
}

/// The demo's API on a free port with the default simulated provider.
pub fn start_demo(
    runtime: &tokio::runtime::Runtime,
    telemetry: &orchestrator_telemetry::TelemetryGuard,
) -> orchestrator_demo::DemoServer {
    start_demo_with(
        runtime,
        telemetry,
        orchestrator_demo::provider::ProviderConfig::default(),
    )
}

/// The demo's API on a free port with `provider` simulated.
pub fn start_demo_with(
    runtime: &tokio::runtime::Runtime,
    telemetry: &orchestrator_telemetry::TelemetryGuard,
    provider: orchestrator_demo::provider::ProviderConfig,
) -> orchestrator_demo::DemoServer {
    let config = orchestrator_demo::DemoConfig {
        api_addr: "127.0.0.1:0".into(),
        provider,
        observer: None,
        ..Default::default()
    };
    runtime
        .block_on(orchestrator_demo::DemoServer::start(config, telemetry))
        .expect("the demo starts")
}

/// The demo's alert rules on a shorter clock: 10 s windows held 3 s (the demo's are 30 s
/// held 10 s). What the tests compare (when each evaluator moves a rule, which notifications
/// go out) does not depend on the windows; a run with an incident takes half as long.
pub fn brisk_tuning() -> orchestrator_telemetry::orchestrator_alerts::AlertTuning {
    let window = orchestrator_telemetry::orchestrator_query::Window::secs(10).unwrap();
    orchestrator_telemetry::orchestrator_alerts::AlertTuning {
        rate_window: window,
        satisfaction_window: window,
        for_: Duration::from_secs(3),
        satisfaction_for: Duration::from_secs(3),
        // Short enough that a runaway incident's alert resolves within its test slot.
        agent_window: orchestrator_telemetry::orchestrator_query::Window::secs(8).unwrap(),
        ..orchestrator_telemetry::orchestrator_alerts::AlertTuning::demo()
    }
}

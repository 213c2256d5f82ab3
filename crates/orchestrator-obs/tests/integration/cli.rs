//! The `orchestrator-obs` binary: `generate` writes a bundle that Prometheus's, Alertmanager's
//! and a YAML parser accept; bad options and an unreachable target give clear errors and
//! their exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use orchestrator_testkit::tool;
use yaml_rust2::{Yaml, YamlLoader};

fn obs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator-obs"))
        .args(args)
        .output()
        .expect("orchestrator-obs runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run(program: PathBuf, dir: &Path, args: &[&str]) -> (bool, String) {
    orchestrator_testkit::run(&program, dir, args)
}

fn yaml(path: &Path) -> Yaml {
    let source = std::fs::read_to_string(path).unwrap();
    let mut docs =
        YamlLoader::load_from_str(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

#[test]
fn help_is_on_every_command() {
    for args in [
        &["--help"][..],
        &["generate", "--help"],
        &["validate", "--help"],
    ] {
        let out = obs(args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn the_bundle_passes_promtool_amtool_and_a_yaml_parser() {
    let dir = tempfile::tempdir().unwrap();
    let out = obs(&[
        "generate",
        "--out",
        dir.path().to_str().unwrap(),
        "--target",
        "10.0.0.1:9464",
        "--target",
        "10.0.0.2:9464",
        "--service",
        "chat-orchestrator",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    for file in [
        "prometheus/prometheus.yml",
        "prometheus/rules/alerts.yml",
        "prometheus/rules/kpis.yml",
        "prometheus/tests/alerts_test.yml",
        "alertmanager/alertmanager.yml",
        "grafana/provisioning/datasources/prometheus.yml",
        "grafana/provisioning/dashboards/orchestrator.yml",
        "grafana/dashboards/orchestrator-executive.json",
        "grafana/dashboards/orchestrator-system-health.json",
        "grafana/dashboards/orchestrator-business.json",
        "grafana/dashboards/orchestrator-infrastructure.json",
        "otel-collector/config.yaml",
        "docker-compose.yml",
        "README.md",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
    let prom = dir.path().join("prometheus");
    let (ok, out) = run(
        tool("promtool", "prometheus"),
        &prom,
        &["check", "config", "prometheus.yml"],
    );
    assert!(ok, "promtool check config:\n{out}");
    assert!(out.contains("SUCCESS: 2 rule files found"), "{out}");
    let (ok, out) = run(
        tool("promtool", "prometheus"),
        &prom,
        &["check", "rules", "rules/alerts.yml", "rules/kpis.yml"],
    );
    assert!(
        ok && out.contains("SUCCESS: 29 rules found") && out.contains("SUCCESS: 5 rules found"),
        "{out}"
    );
    let (ok, out) = run(
        tool("promtool", "prometheus"),
        &prom,
        &["test", "rules", "tests/alerts_test.yml"],
    );
    assert!(ok, "promtool test rules:\n{out}");
    let (ok, out) = run(
        tool("amtool", "prometheus-alertmanager"),
        &dir.path().join("alertmanager"),
        &["check-config", "alertmanager.yml"],
    );
    assert!(ok, "amtool check-config:\n{out}");

    let prometheus = yaml(&prom.join("prometheus.yml"));
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(job["job_name"].as_str(), Some("chat-orchestrator"));
    let targets: Vec<&str> = job["static_configs"][0]["targets"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(targets, ["10.0.0.1:9464", "10.0.0.2:9464"]);

    let collector = yaml(&dir.path().join("otel-collector/config.yaml"));
    let pipeline = &collector["service"]["pipelines"]["traces"];
    let names = |y: &Yaml| -> Vec<String> {
        y.as_vec()
            .unwrap()
            .iter()
            .filter_map(Yaml::as_str)
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(names(&pipeline["receivers"]), ["otlp"]);
    assert_eq!(names(&pipeline["processors"]), ["memory_limiter", "batch"]);
    assert_eq!(names(&pipeline["exporters"]), ["otlp/jaeger"]);
    assert_eq!(
        collector["exporters"]["otlp/jaeger"]["endpoint"].as_str(),
        Some("jaeger:4317")
    );
    // The metrics pipeline, against the keys the Collector documents for each component
    // (no Collector binary comes from the package registries to validate it).
    let metrics = &collector["service"]["pipelines"]["metrics"];
    assert_eq!(names(&metrics["receivers"]), ["otlp"]);
    assert_eq!(names(&metrics["processors"]), ["memory_limiter", "batch"]);
    assert_eq!(names(&metrics["exporters"]), ["prometheusremotewrite"]);
    let remote_write = &collector["exporters"]["prometheusremotewrite"];
    let keys: Vec<&str> = remote_write
        .as_hash()
        .unwrap()
        .keys()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(keys, ["endpoint", "resource_to_telemetry_conversion"]);
    assert_eq!(
        remote_write["endpoint"].as_str(),
        Some("http://prometheus:9090/api/v1/write")
    );
    assert_eq!(
        remote_write["resource_to_telemetry_conversion"]["enabled"].as_bool(),
        Some(true)
    );
    let policies = collector["processors"]["tail_sampling"]["policies"]
        .as_vec()
        .unwrap();
    let kinds: Vec<&str> = policies.iter().filter_map(|p| p["type"].as_str()).collect();
    assert_eq!(kinds, ["status_code", "latency", "probabilistic"]);

    let compose = yaml(&dir.path().join("docker-compose.yml"));
    let services: Vec<&str> = compose["services"]
        .as_hash()
        .unwrap()
        .keys()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(
        services,
        [
            "prometheus",
            "alertmanager",
            "grafana",
            "otel-collector",
            "jaeger"
        ]
    );
    let command = names(&compose["services"]["prometheus"]["command"]);
    assert!(
        command.contains(&"--storage.tsdb.retention.time=30d".to_owned()),
        "{command:?}"
    );
    assert!(
        command.contains(&"--web.enable-remote-write-receiver".to_owned()),
        "the Collector's remote write is received: {command:?}"
    );

    let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    for needle in [
        "docker compose up",
        "remote_write",
        "Thanos",
        "Mimir",
        "/federate",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
}

#[test]
fn options_change_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = obs(&[
        "generate",
        "--out",
        dir.path().to_str().unwrap(),
        "--tail-sampling",
        "--collector-metrics",
        "otlp=backend.example:4317",
        "--route",
        "critical|high=pagerduty",
        "--route",
        "medium|low=slack",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let collector = yaml(&dir.path().join("otel-collector/config.yaml"));
    let processors: Vec<&str> = collector["service"]["pipelines"]["traces"]["processors"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(processors, ["memory_limiter", "tail_sampling", "batch"]);
    assert_eq!(
        collector["service"]["pipelines"]["metrics"]["exporters"][0].as_str(),
        Some("otlp/metrics")
    );
    assert_eq!(
        collector["exporters"]["otlp/metrics"]["endpoint"].as_str(),
        Some("backend.example:4317")
    );
    let am = yaml(&dir.path().join("alertmanager/alertmanager.yml"));
    let receivers: Vec<&str> = am["receivers"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(receivers, ["pagerduty", "slack"]);
    assert_eq!(
        am["route"]["routes"][0]["matchers"][0].as_str(),
        Some("severity=~\"critical|high\"")
    );
    let (ok, out) = run(
        tool("amtool", "prometheus-alertmanager"),
        &dir.path().join("alertmanager"),
        &["check-config", "alertmanager.yml"],
    );
    assert!(ok, "{out}");
}

#[test]
fn bad_options_and_an_unreachable_target_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["generate", "--out", out_dir, "--route", "urgent=slack"],
            3,
            "unknown severity `urgent`",
        ),
        (
            &["generate", "--out", out_dir, "--route", "critical=sms"],
            3,
            "unknown channel `sms`",
        ),
        (
            &["generate", "--out", out_dir, "--target", "http://x:9464"],
            3,
            "must be host:port",
        ),
        (
            &[
                "validate",
                "--target",
                "http://127.0.0.1:9",
                "--out",
                out_dir,
                "--min-score",
                "1.5",
            ],
            3,
            "--min-score 1.5",
        ),
        (
            &[
                "validate",
                "--target",
                "http://127.0.0.1:9",
                "--out",
                out_dir,
            ],
            2,
            "the target is unreachable",
        ),
        (
            &[
                "validate",
                "--target",
                "http://127.0.0.1:9",
                "--out",
                out_dir,
                "--alert-quality",
                "/nonexistent/alert-quality.json",
            ],
            3,
            "--alert-quality: /nonexistent/alert-quality.json: No such file",
        ),
    ];
    for (args, code, message) in cases {
        let out = obs(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(message), "{args:?}: {}", text(&out));
    }
}

/// A target that records the `Authorization` header of each request and answers 401.
fn recording_target() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            let auth = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .starts_with("authorization:")
                        .then(|| l["authorization:".len()..].trim().to_owned())
                })
                .unwrap_or_default();
            let _ = tx.send(auth);
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (format!("http://{addr}"), rx)
}

/// Issue 14, row 6: the token is read from `--token-file` or `ORCHESTRATOR_TELEMETRY_TOKEN`,
/// so that it need not be on the command line that `ps` shows.
#[test]
fn validate_reads_the_token_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "from-the-file\n").unwrap();
    let (target, seen) = recording_target();
    let out = obs(&[
        "validate",
        "--target",
        &target,
        "--out",
        out_dir.to_str().unwrap(),
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(seen.recv().unwrap(), "Bearer from-the-file");

    let (target, seen) = recording_target();
    let out = Command::new(env!("CARGO_BIN_EXE_orchestrator-obs"))
        .args([
            "validate",
            "--target",
            &target,
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .env("ORCHESTRATOR_TELEMETRY_TOKEN", "from-the-environment")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(seen.recv().unwrap(), "Bearer from-the-environment");

    let missing = obs(&[
        "validate",
        "--target",
        &target,
        "--out",
        out_dir.to_str().unwrap(),
        "--token-file",
        "/nonexistent/token",
    ]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        text(&missing).contains("--token-file /nonexistent/token"),
        "{}",
        text(&missing)
    );
}

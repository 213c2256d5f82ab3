//! The alert-quality run's bad-input rows: Ctrl-C half-way writes the figures of the part
//! that ran, marked partial, and leaves no child process; a user's own rule, which no
//! incident kind exercises, is reported with its false firings and recall "not measured";
//! re-scoring a run's samples with other rules judges them on the same traffic.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orchestrator_demo::quality::{QualityArgs, rescore};
use orchestrator_obs::quality::{QualityResults, RESULTS_JSON, Source};
use orchestrator_telemetry::orchestrator_alerts::{AlertRule, AlertTuning, default_rules};
use orchestrator_telemetry::orchestrator_metrics::catalogue;
use orchestrator_telemetry::orchestrator_query::{CmpOp, Expr, Selector, Window};

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_half_way_keeps_the_figures_of_what_ran() {
    let out = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_alert-quality"))
        .args(["--tuning", "demo", "--minutes", "5", "--seed", "3", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("alert-quality starts");
    let pid = child.id();
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let sent = Instant::now();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 0 or 1 (a target judged on 25 s may fail); 2 would be a run that failed.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(sent.elapsed() < Duration::from_secs(30), "stopped promptly");
    assert!(stdout.contains("partial: stopped after"), "{stdout}");
    let results = QualityResults::read(&out.path().join(RESULTS_JSON)).unwrap();
    assert!(results.run.partial);
    assert!(
        (15.0..60.0).contains(&results.run.ran_s),
        "{} s ran",
        results.run.ran_s
    );
    assert_eq!(
        results.run.schedule.length_s, 300.0,
        "the whole schedule is kept"
    );
    // Prometheus replayed what ran, and no promtool it started outlives it.
    assert!(
        results.run.prometheus.is_some(),
        "{}",
        results.run.prometheus_note
    );
    assert!(out.path().join("prometheus/replay.yml").exists());
    assert_eq!(promtools_in(out.path()), 0);
}

/// Running `promtool` processes whose working directory is under `dir`.
fn promtools_in(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cwd = std::fs::read_link(e.path().join("cwd")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains("promtool") && cwd.starts_with(dir)
        })
        .count()
}

/// A rule of the user's own (any agent run within 30 s), beside the defaults.
fn own_rule() -> AlertRule {
    AlertRule::builder(
        "AgentRunsSeen",
        Expr::rate(
            Selector::of(&catalogue::AGENT_RUNS_TOTAL),
            Window::secs(30).unwrap(),
        )
        .map(Expr::sum),
    )
    .when(CmpOp::Gt, 0.0)
    .for_duration(Duration::from_secs(5))
    .build()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_own_rule_gets_its_false_firings_and_no_recall() {
    let first = tempfile::tempdir().unwrap();
    let args = <QualityArgs as clap::Parser>::try_parse_from([
        "alert-quality",
        "--tuning",
        "demo",
        "--minutes",
        "1",
        "--out",
    ])
    .map(|_| ())
    .unwrap_err();
    // `--out` needs a value: a clear error, not a run.
    assert!(args.to_string().contains("--out"), "{args}");
    let args = <QualityArgs as clap::Parser>::try_parse_from([
        "alert-quality",
        "--tuning",
        "demo",
        "--minutes",
        "1",
        "--seed",
        "5",
        "--out",
        first.path().to_str().unwrap(),
    ])
    .unwrap();
    let mut config = args.config(Default::default()).unwrap();
    config.rules.push(own_rule());
    let ran = orchestrator_demo::quality::run(config.clone())
        .await
        .unwrap();
    let own = |r: &QualityResults| {
        r.figures
            .iter()
            .find(|f| f.rule == "AgentRunsSeen" && f.source == Source::InProcess)
            .cloned()
            .unwrap()
    };
    let figures = own(&ran);
    assert_eq!(figures.kind, None);
    assert_eq!(figures.recall, None);
    // The research agent runs all along: every firing of this rule is false.
    assert!(
        figures.firings > 0 && figures.false_firings == figures.firings,
        "{figures:?}"
    );
    assert!(
        ran.markdown()
            .contains("| AgentRunsSeen | in-process | – | – | not measured |")
    );

    // The same samples, the demo's default rules only: the user rule is gone, the others
    // are judged on the very same traffic, and Prometheus replays them again.
    let second = tempfile::tempdir().unwrap();
    config.out = second.path().to_owned();
    config.rules = default_rules(&AlertTuning::demo()).unwrap();
    let again = rescore(first.path(), config).await.unwrap();
    assert!(again.figures.iter().all(|f| f.rule != "AgentRunsSeen"));
    assert_eq!(again.run.schedule, ran.run.schedule);
    assert_eq!(again.run.ran_s, ran.run.ran_s);
    let firing = |r: &QualityResults| {
        r.run
            .in_process
            .iter()
            .filter(|e| e.rule != "AgentRunsSeen" && e.state == "firing")
            .count()
    };
    assert_eq!(
        firing(&again),
        firing(&ran),
        "same rules, same samples, same firings"
    );
    assert!(
        again.run.prometheus.is_some(),
        "{}",
        again.run.prometheus_note
    );
}

//! A global filter that hides `INFO` spans from the bridge (`registry().with(EnvFilter)` at
//! `warn`, the habit) is said once, with the per-layer filter that fixes it; the fix keeps
//! the spans in the trace and says nothing.
//!
//! The global max level is the process's: each case runs in a child process, this test
//! binary run again with only [`child`] selected and the case in [`CASE`].

use crate::bridge_support::{request, server};
use crate::support::metrics;

use std::process::Command;

use orchestrator_tower::{Sampler, Tracer};
use tower::ServiceExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// Names the case a child process runs.
const CASE: &str = "ORCHESTRATOR_TOWER_TEST_FILTER_CASE";

/// Runs `case` in a child process; returns its standard error.
fn run_child(case: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "global_filter::child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CASE, case)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{case}: {stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{case} did not run: {stdout}");
    stderr
}

fn hints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("global tracing filter"))
        .collect()
}

#[test]
fn a_global_env_filter_at_warn_is_said_once_with_the_fix() {
    let stderr = run_child("global");
    let said = hints(&stderr);
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].contains("fmt::layer().with_filter(EnvFilter::from_default_env())"),
        "{stderr}"
    );
}

#[test]
fn a_per_layer_env_filter_keeps_the_spans_and_says_nothing() {
    let stderr = run_child("per_layer");
    assert!(hints(&stderr).is_empty(), "{stderr}");
}

/// The child's side: the global subscriber the case names, two requests through the server
/// layer whose handler opens an `INFO` span, and what the trace then holds.
#[test]
fn child() {
    let Ok(case) = std::env::var(CASE) else {
        return; // run by the parent tests above only
    };
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    // A macro, not a closure: each arm's log layer has its own subscriber type.
    macro_rules! log {
        () => {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
        };
    }
    let registry = tracing_subscriber::registry();
    let result = match case.as_str() {
        "global" => registry
            .with(EnvFilter::new("warn"))
            .with(tracer.tracing_layer())
            .with(log!())
            .try_init(),
        "per_layer" => registry
            .with(tracer.tracing_layer())
            .with(log!().with_filter(EnvFilter::new("warn")))
            .try_init(),
        other => panic!("unknown case {other}"),
    };
    result.unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..2 {
        let service = server(&tracer, || async {
            let _plan = tracing::info_span!("plan_answer").entered();
        });
        runtime.block_on(service.oneshot(request(None))).unwrap();
    }
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 2);
    let bridged = traces
        .iter()
        .filter(|t| t.spans.iter().any(|s| s.name == "plan_answer"))
        .count();
    // Hidden by the global filter, kept by the per-layer one: nothing else changes.
    assert_eq!(bridged, if case == "global" { 0 } else { 2 }, "{case}");
}

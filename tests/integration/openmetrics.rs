//! Issue 15 item 8: the OpenMetrics exposition (what `/metrics` answers when Prometheus asks
//! for `application/openmetrics-text`) is accepted by the official Python parser,
//! `prometheus_client.openmetrics.parser`, exemplars, units and `_created` included.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use orchestrator_telemetry::orchestrator_metrics::OpenMetricsOptions;
use orchestrator_telemetry::{
    Budget, BudgetPeriod, Exemplar, LlmCall, LlmOutcome, Metrics, ModelPrice, PriceTable, Registry,
    TokenUsage, catalogue,
};

/// Parses `text` with the official parser and prints, per family, its name and type, and
/// each exemplar's trace id.
const PARSE: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    print("family", family.name, family.type, family.unit or "-")
    for sample in family.samples:
        if sample.exemplar:
            print("exemplar", sample.name, sample.exemplar.labels["trace_id"], sample.exemplar.value)
"#;

fn parse(text: &str) -> Result<String, String> {
    // Debian's Python, where scripts/test installs python3-prometheus-client.
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 (scripts/test installs python3-prometheus-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn the_official_parser_accepts_the_openmetrics_exposition_with_exemplars() {
    let registry = Registry::new();
    let prices = PriceTable::new().with_price(
        "openai",
        "gpt-4o-mini",
        ModelPrice::new(0.15, 0.075, 0.6).unwrap(),
    );
    let metrics = Metrics::builder()
        .prices(prices)
        .budget(Budget::new("acme", BudgetPeriod::Day, 5.0).unwrap())
        .build(&registry);
    // Every kind of series, with hostile label values.
    metrics.requests().record(
        "/v1/chat/\"quoted\"\\and\nnewline",
        "POST",
        200,
        Duration::from_millis(120),
    );
    let call = LlmCall::new(
        "openai",
        "gpt-4o-mini",
        LlmOutcome::Success,
        Duration::from_millis(800),
    )
    .with_usage(TokenUsage::new(1_000, 200));
    let cost = metrics.llm().record(&call);
    metrics
        .tenants()
        .record_llm("acme", &TokenUsage::new(1_000, 200), cost);
    metrics.business().record_satisfaction(8.0).unwrap();
    let exemplar = Exemplar::new([0xab; 16], [0xcd; 8]).unwrap();
    registry
        .histogram(&catalogue::REQUEST_DURATION_SECONDS, &["/v1/chat", "POST"])
        .unwrap()
        .observe_exemplar(0.3, exemplar)
        .unwrap();
    // A facade counter without `_total` and a facade gauge.
    metrics::with_local_recorder(&registry, || {
        metrics::counter!("jobs_done").increment(3);
        metrics::gauge!("queue_depth").set(7.0);
    });

    let text = registry.render_openmetrics_with(OpenMetricsOptions { created: true });
    let parsed = parse(&text).unwrap_or_else(|e| panic!("{e}\n--- exposition ---\n{text}"));
    println!("{parsed}");
    for family in [
        "family orchestrator_requests counter -",
        "family orchestrator_request_duration_seconds histogram seconds",
        "family orchestrator_llm_cost_usd counter usd",
        "family orchestrator_llm_tokens histogram tokens",
        "family orchestrator_tenant_budget_spend_ratio gauge ratio",
        "family jobs_done unknown -",
        "family queue_depth gauge -",
    ] {
        assert!(parsed.lines().any(|l| l == family), "{family}\n{parsed}");
    }
    let trace = "ab".repeat(16);
    assert!(
        parsed
            .lines()
            .any(|l| l
                == format!("exemplar orchestrator_request_duration_seconds_bucket {trace} 0.3")),
        "{parsed}"
    );
    assert!(text.contains("orchestrator_requests_created{"), "{text}");
    assert!(
        !registry.render_openmetrics().contains("_created"),
        "_created is opt-in"
    );
    // The Prometheus text format is unchanged: no exemplar, no `# EOF`.
    let plain = registry.render();
    assert!(!plain.contains("trace_id") && !plain.contains("# EOF"));
}

/// The parser really checks: a histogram whose count disagrees with its `+Inf` bucket is
/// refused (so the test above can fail).
#[test]
fn the_parser_refuses_a_broken_exposition() {
    let broken = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n# EOF\n";
    assert!(parse(broken).is_err());
}

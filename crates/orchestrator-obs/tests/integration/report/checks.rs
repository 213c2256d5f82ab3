//! The report's correctness checks, each from a hand-written pair of scrapes.

use super::*;

/// A report over two hand-written scrapes (the fixture's documents), for the correctness
/// checks.
fn judged(first: &str, second: &str) -> Report {
    let mut i = inputs();
    i.first.text = first.to_owned();
    i.second.text = second.to_owned();
    Report::build(i)
}

const HISTOGRAM: &str = "\
# TYPE orchestrator_request_duration_seconds histogram
orchestrator_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.1\"} 3
orchestrator_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.5\"} 5
orchestrator_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"+Inf\"} 6
orchestrator_request_duration_seconds_sum{route=\"/v1/chat\"} 1.2
orchestrator_request_duration_seconds_count{route=\"/v1/chat\"} 6
# TYPE orchestrator_requests_total counter
orchestrator_requests_total{route=\"/v1/chat\",status=\"200\"} 6
";

/// Issue 16: the correctness checks pass on a consistent exposition, and weigh twice.
#[test]
fn a_consistent_exposition_passes_every_correctness_check() {
    let report = judged(HISTOGRAM, HISTOGRAM);
    for name in [
        "each histogram's _count equals its +Inf bucket",
        "histogram buckets are cumulative",
        "no counter decreases between the two scrapes",
        "no value is NaN",
    ] {
        let c = check(&report, name);
        assert!(c.passed, "{c:?}");
        assert_eq!(c.kind, CheckKind::Correctness);
        assert_eq!(c.kind.weight(), 2.0 * CheckKind::Presence.weight());
    }
}

#[test]
fn a_histogram_whose_count_is_not_its_inf_bucket_fails() {
    let broken = HISTOGRAM.replace(
        "_count{route=\"/v1/chat\"} 6",
        "_count{route=\"/v1/chat\"} 7",
    );
    let report = judged(HISTOGRAM, &broken);
    let c = check(&report, "each histogram's _count equals its +Inf bucket");
    assert!(!c.passed);
    assert!(c.reason.contains("_count 7 vs +Inf 6"), "{}", c.reason);
    assert!(check(&report, "histogram buckets are cumulative").passed);
}

#[test]
fn buckets_that_decrease_fail() {
    let broken = HISTOGRAM.replace("le=\"0.5\"} 5", "le=\"0.5\"} 2");
    let report = judged(HISTOGRAM, &broken);
    let c = check(&report, "histogram buckets are cumulative");
    assert!(!c.passed);
    assert!(
        c.reason
            .contains("orchestrator_request_duration_seconds{route=\"/v1/chat\"}"),
        "{}",
        c.reason
    );
}

#[test]
fn a_decreasing_counter_fails() {
    let later = HISTOGRAM.replace("status=\"200\"} 6", "status=\"200\"} 4");
    let report = judged(HISTOGRAM, &later);
    let c = check(&report, "no counter decreases between the two scrapes");
    assert!(!c.passed);
    assert!(c.reason.contains("6 → 4"), "{}", c.reason);
}

#[test]
fn a_nan_fails() {
    let with_nan = format!(
        "{HISTOGRAM}# TYPE orchestrator_active_sessions gauge\norchestrator_active_sessions NaN\n"
    );
    let report = judged(HISTOGRAM, &with_nan);
    let c = check(&report, "no value is NaN");
    assert!(!c.passed);
    assert_eq!(c.reason, "orchestrator_active_sessions");
}

#[test]
fn client_calls_without_api_requests_ask_for_the_server_layer() {
    let clients_only = "# TYPE orchestrator_llm_requests_total counter
orchestrator_llm_requests_total{provider=\"openai\",model=\"m\",outcome=\"success\"} 7
";
    let report = judged(clients_only, clients_only);
    let c = check(&report, "requests were recorded between the two scrapes");
    assert!(!c.passed);
    assert!(
        c.reason
            .contains("7 client calls and no API request recorded")
            && c.reason.contains("TelemetryLayer::server"),
        "{}",
        c.reason
    );
    let report = judged(HISTOGRAM, HISTOGRAM);
    let c = check(&report, "requests were recorded between the two scrapes");
    assert!(!c.reason.contains("TelemetryLayer::server"), "{}", c.reason);
}

#[test]
fn successful_llm_calls_without_usage_fail() {
    let with = |missing: u32| {
        format!(
            "{HISTOGRAM}# TYPE orchestrator_llm_requests_total counter
orchestrator_llm_requests_total{{provider=\"openai\",model=\"m\",outcome=\"success\"}} 10
# TYPE orchestrator_llm_unreported_usage_total counter
orchestrator_llm_unreported_usage_total{{provider=\"openai\",model=\"m\",usage=\"missing\"}} {missing}
orchestrator_llm_unreported_usage_total{{provider=\"openai\",model=\"m\",usage=\"estimated\"}} 2
"
        )
    };
    let name = "every successful LLM call reported its token usage";
    let report = judged(&with(0), &with(0));
    let c = check(&report, name);
    assert!(c.passed, "{c:?}");
    assert_eq!(c.reason, "10 successful calls, 2 with estimated usage");
    let report = judged(&with(0), &with(3));
    let c = check(&report, name);
    assert!(!c.passed);
    assert_eq!(c.kind, CheckKind::Correctness);
    assert_eq!(c.reason, "openai/m: 3 calls without usage");
}

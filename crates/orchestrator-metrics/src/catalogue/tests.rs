use super::*;
use std::collections::HashSet;

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn names_are_unique_and_follow_prometheus_conventions() {
    let mut seen = HashSet::new();
    for def in ALL {
        assert!(seen.insert(def.name), "{} is defined twice", def.name);
        assert!(valid_name(def.name), "{} is not snake_case", def.name);
        assert!(def.name.starts_with("orchestrator_"), "{}", def.name);
        match def.kind {
            MetricKind::Counter => assert!(def.name.ends_with("_total"), "{}", def.name),
            _ => assert!(!def.name.ends_with("_total"), "{}", def.name),
        }
        let suffix = match def.unit {
            Unit::Seconds => Some("_seconds"),
            Unit::Bytes => Some("_bytes"),
            Unit::Usd => Some("_usd"),
            Unit::Tokens => Some("_tokens"),
            Unit::Score => Some("_score"),
            Unit::Ratio => Some("_ratio"),
            Unit::Count => None,
        };
        if let Some(suffix) = suffix {
            let base = def.name.trim_end_matches("_total");
            assert!(
                base.ends_with(suffix),
                "{} lacks the unit suffix {suffix}",
                def.name
            );
        }
        assert!(!def.help.is_empty(), "{} has no help", def.name);
    }
}

#[test]
fn histograms_have_strictly_increasing_finite_buckets_and_others_none() {
    for def in ALL {
        if def.kind == MetricKind::Histogram {
            assert!(!def.buckets.is_empty(), "{}", def.name);
            assert!(def.buckets.iter().all(|b| b.is_finite()), "{}", def.name);
            assert!(def.buckets.windows(2).all(|w| w[0] < w[1]), "{}", def.name);
        } else {
            assert!(def.buckets.is_empty(), "{}", def.name);
        }
    }
}

#[test]
fn label_names_are_valid_and_not_reserved() {
    for def in ALL {
        let mut seen = HashSet::new();
        for label in def.labels {
            assert!(valid_name(label.name), "{}: {}", def.name, label.name);
            assert!(
                !label.name.starts_with("__"),
                "{}: {}",
                def.name,
                label.name
            );
            assert_ne!(label.name, "le", "{}", def.name);
            assert!(
                seen.insert(label.name),
                "{}: {} twice",
                def.name,
                label.name
            );
        }
    }
}

#[test]
fn every_guarded_label_is_listed_for_the_folded_counter() {
    for def in ALL {
        for label in def.labels.iter().filter(|l| l.is_guarded()) {
            assert!(
                labels::GUARDED_LABELS.contains(&label.name),
                "{}",
                label.name
            );
        }
    }
}

#[test]
fn the_seed_metrics_are_all_there() {
    for name in [
        "orchestrator_requests_total",
        "orchestrator_request_duration_seconds",
        "orchestrator_llm_requests_total",
        "orchestrator_llm_latency_seconds",
        "orchestrator_active_sessions",
        "orchestrator_memory_usage_bytes",
        "orchestrator_cache_operations_total",
        "orchestrator_errors_total",
        "orchestrator_revenue_usd_total",
        "orchestrator_user_satisfaction_score",
        "orchestrator_session_duration_seconds",
        "orchestrator_sessions_total",
        "orchestrator_conversions_total",
        "orchestrator_quality_score",
        "orchestrator_memory_limit_bytes",
    ] {
        assert!(find(name).is_some(), "{name} missing from the catalogue");
    }
}

#[test]
fn find_series_maps_histogram_suffixes_only_for_histograms() {
    assert_eq!(
        find_series("orchestrator_request_duration_seconds_bucket").map(|d| d.name),
        Some("orchestrator_request_duration_seconds")
    );
    assert_eq!(find_series("orchestrator_requests_total_count"), None);
    assert_eq!(find_series("nope"), None);
}

#[test]
fn genai_buckets_are_the_semantic_convention_ones() {
    assert_eq!(buckets::GEN_AI_TOKEN_USAGE.len(), 14);
    assert_eq!(buckets::GEN_AI_TOKEN_USAGE[13], 67108864.0);
    assert_eq!(buckets::GEN_AI_OPERATION_DURATION_SECONDS[13], 81.92);
    assert_eq!(buckets::GEN_AI_TIME_TO_FIRST_TOKEN_SECONDS.len(), 16);
}

use super::*;
use crate::catalogue::{Group, LabelDef, Unit};
use crate::exposition::{self, FamilyType};

const CUSTOM: MetricDef = MetricDef {
    name: "custom_jobs_seconds",
    kind: MetricKind::Histogram,
    unit: Unit::Seconds,
    help: "Custom jobs.",
    labels: &[LabelDef::guarded("queue")],
    buckets: &[0.1, 1.0],
    group: Group::Core,
};

#[test]
fn catalogue_is_registered_and_labelless_series_start_at_zero() {
    let registry = Registry::new();
    let text = registry.render();
    assert!(text.contains(
        "# TYPE orchestrator_revenue_usd_total counter\norchestrator_revenue_usd_total 0\n"
    ));
    assert!(text.contains("orchestrator_user_satisfaction_score_bucket{le=\"+Inf\"} 0\n"));
    assert!(text.contains("orchestrator_label_values_folded_total{label=\"route\"} 0\n"));
    assert!(
        text.contains(
            "orchestrator_telemetry_rejected_values_total{reason=\"unpriced_model\"} 0\n"
        )
    );
    // Families without series are not rendered.
    assert!(!text.contains("orchestrator_requests_total"));
    exposition::parse(&text).unwrap();
}

#[test]
fn histograms_render_cumulative_buckets_sum_and_count() {
    let registry = Registry::new();
    let h = registry.histogram(&CUSTOM, &["a"]).unwrap();
    for v in [0.05, 0.1, 0.5, 3.0] {
        h.observe(v).unwrap();
    }
    let text = registry.render();
    let expected = "\
# HELP custom_jobs_seconds Custom jobs.
# TYPE custom_jobs_seconds histogram
custom_jobs_seconds_bucket{queue=\"a\",le=\"0.1\"} 2
custom_jobs_seconds_bucket{queue=\"a\",le=\"1\"} 3
custom_jobs_seconds_bucket{queue=\"a\",le=\"+Inf\"} 4
custom_jobs_seconds_sum{queue=\"a\"} 3.65
custom_jobs_seconds_count{queue=\"a\"} 4
";
    assert!(text.ends_with(expected), "{text}");
}

/// Forty bounds: past the stack buffer rendering sums the stripes into, and past what the
/// binade search takes (40 bounds one apart). Two threads write: every bucket still counts
/// both.
#[test]
fn wide_histograms_render_every_bucket() {
    static BOUNDS: [f64; 40] = {
        let mut b = [0.0; 40];
        let mut i = 0;
        while i < 40 {
            b[i] = (i + 1) as f64;
            i += 1;
        }
        b
    };
    let wide = MetricDef {
        name: "wide_jobs_seconds",
        buckets: &BOUNDS,
        ..CUSTOM
    };
    let registry = Registry::new();
    let h = registry.histogram(&wide, &["a"]).unwrap();
    let other = h.clone();
    std::thread::spawn(move || other.observe(0.5).unwrap())
        .join()
        .unwrap();
    for v in BOUNDS {
        h.observe(v).unwrap();
    }
    h.observe(1e9).unwrap();
    let text = registry.render();
    for (i, bound) in BOUNDS.iter().enumerate() {
        let line = format!(
            "wide_jobs_seconds_bucket{{queue=\"a\",le=\"{bound}\"}} {}\n",
            i + 2
        );
        assert!(text.contains(&line), "{line}{text}");
    }
    assert!(text.contains("wide_jobs_seconds_bucket{queue=\"a\",le=\"+Inf\"} 42\n"));
    assert!(text.contains("wide_jobs_seconds_count{queue=\"a\"} 42\n"));
    exposition::parse(&text).unwrap();
}

#[test]
fn invalid_values_are_refused_and_counted() {
    let registry = Registry::new();
    let revenue = registry
        .counter(&catalogue::REVENUE_USD_TOTAL, &[])
        .unwrap();
    assert_eq!(revenue.add(f64::NAN), Err(RejectReason::Nan));
    assert_eq!(revenue.add(f64::INFINITY), Err(RejectReason::Infinite));
    assert_eq!(revenue.add(-3.0), Err(RejectReason::Negative));
    revenue.add(2.5).unwrap();
    revenue.increment(1);
    assert_eq!(revenue.get(), 3.5);
    let h = registry.histogram(&CUSTOM, &["a"]).unwrap();
    assert_eq!(h.observe(f64::NAN), Err(RejectReason::Nan));
    let g = registry.gauge(&catalogue::ACTIVE_SESSIONS, &[]).unwrap();
    assert_eq!(g.set(f64::NAN), Err(RejectReason::Nan));
    let parsed = exposition::parse(&registry.render()).unwrap();
    let rejected = |reason: &str| {
        parsed
            .samples("orchestrator_telemetry_rejected_values_total")
            .find(|s| s.label("reason") == Some(reason))
            .map(|s| s.value)
    };
    assert_eq!(rejected("nan"), Some(3.0));
    assert_eq!(rejected("infinite"), Some(1.0));
    assert_eq!(rejected("negative"), Some(1.0));
    assert_eq!(parsed.sum("orchestrator_revenue_usd_total"), Some(3.5));
}

#[test]
fn registration_errors_are_typed() {
    let registry = Registry::new();
    assert!(matches!(
        registry.counter(&catalogue::REQUESTS_TOTAL, &["/"]),
        Err(RegistryError::LabelMismatch { got: 1, .. })
    ));
    assert!(matches!(
        registry.gauge(&catalogue::REQUESTS_TOTAL, &["/", "GET", "200"]),
        Err(RegistryError::KindConflict { .. })
    ));
    let clash = MetricDef {
        kind: MetricKind::Gauge,
        buckets: &[],
        ..catalogue::REQUESTS_TOTAL
    };
    assert!(matches!(
        registry.register(&clash),
        Err(RegistryError::KindConflict { .. })
    ));
    let bad_buckets = MetricDef {
        name: "x_seconds",
        buckets: &[1.0, 1.0],
        ..CUSTOM
    };
    assert!(matches!(
        registry.register(&bad_buckets),
        Err(RegistryError::InvalidBuckets { .. })
    ));
    for buckets in [
        &[0.5, 0.25, 1.0][..],
        &[f64::NAN, 1.0],
        &[0.1, f64::INFINITY],
    ] {
        let def = MetricDef { buckets, ..CUSTOM };
        assert!(
            matches!(
                registry.register(&def),
                Err(RegistryError::InvalidBuckets { .. })
            ),
            "{buckets:?}"
        );
    }
    let other_buckets = MetricDef {
        buckets: &[5.0],
        ..CUSTOM
    };
    registry.register(&CUSTOM).unwrap();
    assert!(matches!(
        registry.register(&other_buckets),
        Err(RegistryError::BucketConflict { .. })
    ));
    let bad_name = MetricDef {
        name: "1bad",
        ..CUSTOM
    };
    assert!(matches!(
        registry.register(&bad_name),
        Err(RegistryError::InvalidName { .. })
    ));
    let err = registry
        .counter(&catalogue::REQUESTS_TOTAL, &[])
        .unwrap_err();
    assert!(err.to_string().contains("route"), "{err}");
}

#[test]
fn facade_macros_land_in_the_registry_with_catalogue_types() {
    let registry = Registry::new();
    metrics::with_local_recorder(&registry, || {
        metrics::counter!("my_jobs_total", "queue" => "a").increment(2);
        metrics::describe_counter!("my_jobs_total", "Jobs done.");
        metrics::gauge!("my.queue.depth").set(4.0);
        metrics::histogram!("my_wait_seconds").record(0.2);
        // Catalogue name through the facade: the catalogue's labels, in any order.
        metrics::counter!("orchestrator_requests_total", "status" => "200", "method" => "GET", "route" => "/x")
            .increment(1);
        // Misuse: wrong type and wrong labels are refused, not rendered broken.
        metrics::gauge!("orchestrator_requests_total").set(1.0);
        metrics::counter!("orchestrator_requests_total", "route" => "/x").increment(1);
    });
    let text = registry.render();
    let parsed = exposition::parse(&text).unwrap();
    let jobs = parsed.family("my_jobs_total").unwrap();
    assert_eq!(jobs.kind, FamilyType::Counter);
    assert_eq!(jobs.help.as_deref(), Some("Jobs done."));
    assert_eq!(parsed.sum("my_queue_depth"), Some(4.0));
    assert_eq!(
        parsed.family("my_wait_seconds").unwrap().kind,
        FamilyType::Histogram
    );
    assert_eq!(
        parsed.samples("my_wait_seconds_bucket").count(),
        DEFAULT_BUCKETS.len() + 1
    );
    assert!(
        text.contains(r#"orchestrator_requests_total{route="/x",method="GET",status="200"} 1"#)
    );
    assert_eq!(parsed.sum("orchestrator_requests_total"), Some(1.0));
    assert_eq!(
        parsed.family("orchestrator_requests_total").unwrap().kind,
        FamilyType::Counter
    );
}

#[test]
fn clones_share_storage() {
    let a = Registry::new();
    let b = a.clone();
    a.counter(&catalogue::SESSIONS_TOTAL, &[])
        .unwrap()
        .increment(3);
    assert_eq!(
        b.counter(&catalogue::SESSIONS_TOTAL, &[]).unwrap().get(),
        3.0
    );
    assert_eq!(a.series_count(), b.series_count());
}

/// Issue 17: a gauge whose value is no longer known leaves both expositions until it is
/// set again, so no reader mistakes a stale figure for a current one.
#[test]
fn a_cleared_gauge_is_absent_until_set_again() {
    let registry = Registry::new();
    let gauge = registry
        .gauge(&crate::catalogue::ACTIVE_USERS, &["30d"])
        .unwrap();
    gauge.set(42.0).unwrap();
    let line = "orchestrator_active_users{window=\"30d\"} 42\n";
    assert!(registry.render().contains(line));
    gauge.clear();
    assert!(!gauge.is_present());
    gauge.increment(1.0).unwrap();
    let text = registry.render();
    assert!(!text.contains("orchestrator_active_users{"), "{text}");
    assert!(
        !registry
            .render_openmetrics()
            .contains("orchestrator_active_users{")
    );
    exposition::parse(&text).unwrap();
    gauge.set(42.0).unwrap();
    assert!(registry.render().contains(line));
    assert!(gauge.is_present());
}

/// The GenAI conventions' families are recorded with every LLM call, hidden from the text
/// expositions and the snapshot unless the registry exposes them, and visited always.
#[test]
fn gen_ai_families_are_hidden_until_exposed() {
    use crate::catalogue::semconv;
    let registry = Registry::new();
    let llm = crate::Metrics::new(&registry).llm().clone();
    let call = crate::LlmCall::new(
        "openai",
        "gpt-4o",
        crate::LlmOutcome::Timeout,
        std::time::Duration::from_millis(300),
    )
    .with_operation("embeddings");
    llm.record(&call);
    let nothing_reads = registry.series_count();
    registry.record_gen_ai();
    llm.record(&call);
    assert_eq!(
        registry.series_count(),
        nothing_reads + 1,
        "recorded only once something reads them"
    );
    let name = semconv::GEN_AI_CLIENT_OPERATION_DURATION.name;
    let shown = |r: &Registry| {
        (
            r.render().contains(name),
            r.render_openmetrics().contains(name),
            r.snapshot(|_| true).family(name).is_some(),
        )
    };
    assert_eq!(shown(&registry), (false, false, false));
    let mut visited = Vec::new();
    registry.visit_families(|f| {
        if f.is_semconv() {
            visited.extend(f.series().map(|s| s.label_pairs()));
        }
    });
    assert_eq!(
        visited,
        [vec![
            ("gen_ai_operation_name".to_owned(), "embeddings".to_owned()),
            ("gen_ai_provider_name".to_owned(), "openai".to_owned()),
            ("gen_ai_request_model".to_owned(), "gpt-4o".to_owned()),
            ("error_type".to_owned(), "timeout".to_owned()),
        ]],
        "a timed-out call: its duration only, with its error type"
    );
    registry.expose_gen_ai_names(true);
    assert_eq!(shown(&registry), (true, true, true));
    assert!(registry.render().contains(
        "gen_ai_client_operation_duration_seconds_bucket{gen_ai_operation_name=\"embeddings\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\",error_type=\"timeout\",le=\"0.32\"} 1"
    ));
}

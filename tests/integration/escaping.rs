//! Arbitrary label values survive rendering: the exposition stays valid and parses back to
//! the same values.

use orchestrator_telemetry::catalogue::{Group, LabelDef, MetricDef, MetricKind, Unit};
use orchestrator_telemetry::{Registry, exposition};
use proptest::prelude::*;

const PROBE: MetricDef = MetricDef {
    name: "probe_events_total",
    kind: MetricKind::Counter,
    unit: Unit::Count,
    help: "Probe.",
    labels: &[LabelDef::guarded("a"), LabelDef::guarded("b")],
    buckets: &[],
    group: Group::Core,
};

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\\n\r\t{}=, ]{0,20}",
        ".{0,10}".prop_map(|s| s.repeat(500)),
        Just(String::new()),
        Just("\\n".to_owned()),
        Just("\\\"".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn label_values_round_trip(a in label_value(), b in label_value(), n in 1u64..1000) {
        let registry = Registry::new();
        registry.counter(&PROBE, &[&a, &b]).unwrap().increment(n);
        let text = registry.render();
        let parsed = exposition::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let sample = parsed.samples("probe_events_total").next().ok_or_else(|| TestCaseError::fail("missing"))?;
        prop_assert_eq!(sample.label("a"), Some(a.as_str()));
        prop_assert_eq!(sample.label("b"), Some(b.as_str()));
        prop_assert_eq!(sample.value, n as f64);
        // One line per sample: no raw newline leaks out of a label value.
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("probe_events_total")).count(), 1);
    }
}

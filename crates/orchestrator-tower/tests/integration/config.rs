//! The standard `OTEL_*` variables: every malformed value is a typed error naming the
//! variable, never a silent fallback (an invalid ratio never becomes 100 %).

use crate::support;

use std::collections::HashMap;
use std::time::Duration;

use orchestrator_tower::{
    BatchConfig, ExportConfigError, OtlpConfig, Protocol, Sampler, SamplerError, Tracer,
    TracerError,
};

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn malformed_sampler_variables_are_errors() {
    for arg in ["abc", "1.01", "-0.5", "NaN", "10%", "\u{FFFD}"] {
        let lookup = vars(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", arg),
        ]);
        assert_eq!(
            Sampler::from_vars(&lookup),
            Err(SamplerError::InvalidRatio(arg.to_owned())),
            "{arg}"
        );
        let (_r, metrics) = support::metrics();
        let built = Tracer::builder(metrics).from_vars(&lookup);
        assert!(matches!(built, Err(TracerError::Sampler(_))), "{arg}");
    }
    let lookup = vars(&[("OTEL_TRACES_SAMPLER", "xray")]);
    assert!(matches!(
        Sampler::from_vars(&lookup),
        Err(SamplerError::Unsupported(_))
    ));
    // Unset: the code's choice (10 % parent-based by default) stands.
    assert_eq!(Sampler::from_vars(&vars(&[])), Ok(None));
    let lookup = vars(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", " 0.25 "),
    ]);
    let sampler = Sampler::from_vars(&lookup).unwrap().unwrap();
    assert_eq!((sampler.ratio(), sampler.is_parent_based()), (0.25, false));
}

#[test]
fn malformed_exporter_variables_are_errors() {
    let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317");
    let cases: &[(&str, &str)] = &[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpcc"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-1"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "fast"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"), // larger than the queue
        ("OTEL_TRACES_EXPORTER", "zipkin"),
    ];
    for &(name, value) in cases {
        let lookup = vars(&[endpoint, (name, value)]);
        match OtlpConfig::from_vars(&lookup) {
            Err(ExportConfigError::Invalid { value: v, .. }) => {
                assert!(!v.is_empty(), "{name}={value}");
            }
            other => panic!("{name}={value} gave {other:?}"),
        }
    }
}

#[test]
fn valid_exporter_variables_configure_the_export() {
    assert!(
        matches!(OtlpConfig::from_vars(&vars(&[])), Ok(None)),
        "no endpoint, no export"
    );
    let none = vars(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_TRACES_EXPORTER", "none"),
    ]);
    assert!(matches!(OtlpConfig::from_vars(&none), Ok(None)));
    let lookup = vars(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"),
        ("OTEL_BSP_SCHEDULE_DELAY", "250"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "4000"),
    ]);
    let config = OtlpConfig::from_vars(&lookup).unwrap().unwrap();
    assert_eq!(config.protocol, Protocol::Grpc);
    assert_eq!(config.timeout, Some(Duration::from_millis(2500)));
    assert_eq!(
        config.batch,
        BatchConfig {
            max_queue_size: 100,
            scheduled_delay: Duration::from_millis(250),
            max_export_batch_size: 10,
            export_timeout: Duration::from_secs(4),
        }
    );
    let http = vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]);
    let config = OtlpConfig::from_vars(&http).unwrap().unwrap();
    assert_eq!(
        config.protocol,
        Protocol::HttpProtobuf,
        "the specification's default"
    );
}

#[test]
fn a_malformed_endpoint_fails_the_build() {
    let (_r, metrics) = support::metrics();
    let built = Tracer::builder(metrics)
        .otlp(OtlpConfig::new("not a url", Protocol::Grpc))
        .build();
    let Err(TracerError::Export(err @ ExportConfigError::Build(_))) = built else {
        panic!("{built:?}");
    };
    // Issue 16 item 7: the exporter's own error is the source, not a string.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

/// Every variable read here, set empty (or blank), is unset, as the OpenTelemetry
/// specification says: the result is what it is without the variable.
#[test]
fn empty_values_are_unset() {
    const READ: [&str; 18] = [
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "OTEL_BSP_EXPORT_TIMEOUT",
    ];
    let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
    let base = vars(&[endpoint]);
    let expected_export = format!("{:?}", OtlpConfig::from_vars(&base));
    assert!(expected_export.starts_with("Ok(Some("), "{expected_export}");
    for name in READ {
        for empty in ["", "  "] {
            let lookup = vars(&[endpoint, (name, empty)]);
            assert_eq!(
                format!("{:?}", OtlpConfig::from_vars(&lookup)),
                expected_export,
                "{name}={empty:?}"
            );
            assert_eq!(Sampler::from_vars(&lookup), Ok(None), "{name}={empty:?}");
            let (_r, metrics) = support::metrics();
            let built = Tracer::builder(metrics).from_vars(&lookup);
            assert!(built.is_ok(), "{name}={empty:?}");
        }
    }
    // The endpoint itself: empty is no export; a traces endpoint left empty falls back to
    // the general one.
    let none = vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]);
    assert!(matches!(OtlpConfig::from_vars(&none), Ok(None)));
    let fallback = vars(&[endpoint, ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")]);
    assert_eq!(
        format!("{:?}", OtlpConfig::from_vars(&fallback)),
        expected_export
    );
}

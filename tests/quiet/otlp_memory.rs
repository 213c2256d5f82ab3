//! A backend that stays down costs the OTLP metrics push no memory: nothing is queued, so
//! hundreds of failed pushes leave the resident memory where it was. Here rather than with
//! the other push tests: the resident memory is the whole process's, and other tests
//! allocating beside it would make the figure theirs.
//!
//! Down is a port that refuses connections. (A receiver answering 503 in this process grows
//! the process by what the receiver keeps per request, about 17 KB here, which is the test
//! receiver's, not the push's: the same count of plain requests to it grows it too. It once
//! also found the push keeping a pooled connection per push that its runtime, driven only
//! while a push is sent, never reused or closed; the client keeps none now.)

use std::time::Duration;

use orchestrator_telemetry::orchestrator_exporters::resident_memory;
use orchestrator_telemetry::{
    OtlpMetricsConfig, OtlpProtocol, PushOutcome, Status, Telemetry, Temporality,
};

#[test]
fn failed_pushes_keep_nothing() {
    let _alone = crate::one_at_a_time();
    let down = crate::support::free_port();
    for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::Grpc] {
        let mut config = OtlpMetricsConfig::new(format!("http://127.0.0.1:{down}"), protocol);
        config.interval = Duration::from_secs(3600);
        // Delta keeps a baseline per series: the one state that could grow.
        config.temporality = Temporality::Delta;
        let telemetry = Telemetry::builder()
            .without_listener()
            .without_process_collector()
            .without_monitor()
            .ignore_otel_env()
            .otlp_metrics(config)
            .build()
            .unwrap();
        for i in 0..500 {
            telemetry.metrics().requests().record(
                &format!("/v1/route-{}", i % 50),
                "POST",
                Status::Code(200),
                Duration::from_millis(5),
            );
        }
        let push = |n: usize| {
            for _ in 0..n {
                assert!(matches!(
                    telemetry.push_metrics_now(),
                    Some(PushOutcome::Failed { .. })
                ));
            }
        };
        push(100); // the allocator settles
        let before = resident_memory().expect("resident memory is readable on Linux");
        push(600);
        let after = resident_memory().unwrap();
        assert!(
            after < before + 2 * 1024 * 1024,
            "{protocol:?}: 600 failed pushes keep nothing: {before} → {after} bytes resident"
        );
    }
}

//! Delta temporality, and a backend that is down, slow or picky: the push's figures and
//! its drops.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use orchestrator_telemetry::orchestrator_exporters::otlp::Converter;
use orchestrator_telemetry::{
    Metrics, OtlpMetricsConfig, OtlpProtocol, PushOutcome, Registry, Status, TelemetryGuard,
    Temporality,
};
use orchestrator_testkit::logs::LogBuffer;
use orchestrator_testkit::otlp_metrics::{Answer, http_metrics_receiver};

use super::{compare, telemetry};
use crate::support;

/// `orchestrator_requests_total` of `/v1/chat` in a request: (value, start, time).
fn requests(request: &ExportMetricsServiceRequest) -> (f64, u64, u64) {
    let metric = compare::metrics(request)
        .into_iter()
        .find(|m| m.name == "orchestrator_requests_total")
        .expect("requests pushed");
    let Some(metric::Data::Sum(sum)) = &metric.data else {
        panic!("a sum")
    };
    let p = &sum.data_points[0];
    let Some(number_data_point::Value::AsDouble(v)) = p.value else {
        panic!("a double")
    };
    (v, p.start_time_unix_nano, p.time_unix_nano)
}

/// The count of `gen_ai.client.operation.duration` for successful calls of gpt-4o-mini.
fn chat_calls(request: &ExportMetricsServiceRequest) -> u64 {
    let metric = compare::metrics(request)
        .into_iter()
        .find(|m| m.name == "gen_ai.client.operation.duration")
        .expect("durations pushed");
    let Some(metric::Data::Histogram(h)) = &metric.data else {
        panic!("a histogram")
    };
    h.data_points
        .iter()
        .filter(|p| {
            let l = compare::labels(&p.attributes, true);
            l.contains(&("gen_ai_request_model".into(), "gpt-4o-mini".into()))
                && !l.iter().any(|(k, _)| k == "error_type")
        })
        .map(|p| p.count)
        .sum()
}

/// `orchestrator_telemetry_dropped_total{queue="metrics"}`.
fn dropped(telemetry: &TelemetryGuard) -> f64 {
    let name = "orchestrator_telemetry_dropped_total";
    telemetry
        .registry()
        .snapshot(|f| f == name)
        .sum_where(name, |s| {
            s.labels.iter().any(|(k, v)| k == "queue" && v == "metrics")
        })
}

fn record(telemetry: &TelemetryGuard, n: usize) {
    for _ in 0..n {
        telemetry.metrics().requests().record(
            "/v1/chat",
            "POST",
            Status::Code(200),
            Duration::from_millis(10),
        );
        let call = telemetry.tracer().llm_call("openai", "gpt-4o-mini");
        call.finish(
            orchestrator_telemetry::LlmOutcome::Success,
            Some(orchestrator_telemetry::TokenUsage::new(10, 5)),
        );
    }
}

#[test]
fn three_delta_pushes_carry_exactly_each_intervals_traffic() {
    let runtime = support::runtime();
    let (addr, received) = runtime.block_on(http_metrics_receiver());
    let mut config = OtlpMetricsConfig::new(format!("http://{addr}"), OtlpProtocol::HttpProtobuf);
    config.temporality = Temporality::Delta;
    let telemetry = telemetry(config, None);
    for n in [3, 5, 0] {
        record(&telemetry, n);
        telemetry.push_metrics_now().unwrap();
    }
    let pushed = received.requests();
    let figures: Vec<(f64, u64, u64)> = pushed.iter().map(requests).collect();
    assert_eq!(
        figures.iter().map(|f| f.0).collect::<Vec<_>>(),
        [3.0, 5.0, 0.0],
        "each push carries its interval's requests"
    );
    assert_eq!(
        figures[1].1, figures[0].2,
        "an interval starts where the last ended"
    );
    assert_eq!(figures[2].1, figures[1].2);
    let calls: Vec<u64> = pushed.iter().map(chat_calls).collect();
    assert_eq!(calls, [3, 5, 0], "histogram counts are deltas too");

    // A failed push changes nothing: the next one carries both intervals.
    received.answer(Answer::Fail);
    record(&telemetry, 2);
    assert!(matches!(
        telemetry.push_metrics_now(),
        Some(PushOutcome::Failed { .. })
    ));
    received.answer(Answer::Accept);
    record(&telemetry, 4);
    telemetry.push_metrics_now().unwrap();
    let last = requests(received.requests().last().unwrap());
    assert_eq!(last.0, 6.0, "2 + 4, nothing lost, nothing twice");
    assert_eq!(
        last.1, figures[2].2,
        "its start is the last successful push"
    );
}

#[test]
fn a_registry_made_again_restarts_its_series_without_a_negative_delta() {
    let mut converter = Converter::new(Temporality::Delta, &[]);
    let first = Registry::new();
    let record = |registry: &Registry, n| {
        let metrics = Metrics::new(registry);
        for _ in 0..n {
            metrics.requests().record(
                "/v1/chat",
                "POST",
                Status::Code(200),
                Duration::from_millis(5),
            );
        }
    };
    record(&first, 4);
    let a = converter.build_at(&first, 1_000);
    converter.commit();
    record(&first, 1);
    let b = converter.build_at(&first, 2_000);
    converter.commit();
    std::thread::sleep(Duration::from_millis(5));
    let second = Registry::new();
    record(&second, 2);
    let c = converter.build_at(&second, 3_000);
    let (a, b, c) = (
        requests(&a.request),
        requests(&b.request),
        requests(&c.request),
    );
    assert_eq!((a.0, b.0), (4.0, 1.0));
    assert_eq!(c.0, 2.0, "the new series' whole value, not 2 − 5");
    assert!(
        c.1 > b.1 && c.1 != 2_000,
        "a new start time: the new series' creation"
    );
}

#[test]
fn a_backend_down_then_back_counts_drops_warns_once_and_logs_recovery() {
    let runtime = support::runtime();
    let (addr, received) = runtime.block_on(http_metrics_receiver());
    received.answer(Answer::Fail);
    let config = OtlpMetricsConfig::new(format!("http://{addr}"), OtlpProtocol::HttpProtobuf);
    let (dropped, logs) = LogBuffer::capture(|| {
        let telemetry = telemetry(config, None);
        record(&telemetry, 3);
        let mut lost = 0;
        for _ in 0..300 {
            match telemetry.push_metrics_now().unwrap() {
                PushOutcome::Failed { points, .. } => lost += points,
                other => panic!("{other:?}"),
            }
        }
        let counted = dropped(&telemetry);
        assert_eq!(counted, lost as f64, "every dropped point counted");
        received.answer(Answer::Accept);
        assert!(matches!(
            telemetry.push_metrics_now(),
            Some(PushOutcome::Sent { .. })
        ));
        lost
    });
    assert!(dropped > 0);
    assert_eq!(
        logs.lines_with("OTLP metrics push failed").len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(logs.lines_with("OTLP metrics push recovered").len(), 1);
}

#[test]
fn rejected_points_are_counted_and_their_message_logged_once() {
    let runtime = support::runtime();
    let (addr, received) = runtime.block_on(http_metrics_receiver());
    received.answer(Answer::Reject(3, "3 points had invalid units".into()));
    let config = OtlpMetricsConfig::new(format!("http://{addr}"), OtlpProtocol::HttpProtobuf);
    let ((), logs) = LogBuffer::capture(|| {
        let telemetry = telemetry(config, None);
        record(&telemetry, 1);
        for _ in 0..2 {
            assert!(matches!(
                telemetry.push_metrics_now(),
                Some(PushOutcome::Partial { rejected: 3, .. })
            ));
        }
        let counted = dropped(&telemetry);
        assert_eq!(counted, 6.0);
    });
    assert_eq!(
        logs.lines_with("3 points had invalid units").len(),
        1,
        "{}",
        logs.text()
    );
}

#[test]
fn a_backend_that_never_answers_costs_one_timeout_per_push() {
    let runtime = support::runtime();
    let (addr, received) = runtime.block_on(http_metrics_receiver());
    received.answer(Answer::Hang);
    let mut config = OtlpMetricsConfig::new(format!("http://{addr}"), OtlpProtocol::HttpProtobuf);
    config.export_timeout = Duration::from_millis(300);
    let telemetry = telemetry(config, None);
    record(&telemetry, 1);
    let started = Instant::now();
    let outcome = telemetry.push_metrics_now().unwrap();
    let took = started.elapsed();
    assert!(matches!(outcome, PushOutcome::Failed { .. }), "{outcome:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "gave up at its timeout: {took:?}"
    );
    received.answer(Answer::Accept);
    let started = Instant::now();
    assert!(matches!(
        telemetry.push_metrics_now(),
        Some(PushOutcome::Sent { .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the next push is not delayed"
    );
    let counted = dropped(&telemetry);
    assert!(counted > 0.0);
}

//! The demo's TLS settings: a bad `OTEL_EXPORTER_OTLP_CERTIFICATE` stops the demo with an
//! error naming the variable and the path. (The incident reaching Slack and email over TLS
//! is in `tests/quiet/channels.rs`.)

use crate::common;

#[test]
fn a_missing_otlp_certificate_stops_the_demo_naming_the_variable_and_path() {
    let (output, _, stderr) = common::run(
        common::demo()
            .args(["--duration", "1"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:4317")
            .env("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
    );
    assert!(!output.status.success());
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_CERTIFICATE") && stderr.contains("/nonexistent/ca.pem"),
        "{stderr}"
    );
}

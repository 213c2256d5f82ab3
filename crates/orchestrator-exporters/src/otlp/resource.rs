//! The resource the pushed metrics describe, as the trace export's: `service.name`,
//! `service.instance.id`, the `OTEL_RESOURCE_ATTRIBUTES` pairs, the SDK's name.

use orchestrator_http::otel_env::{self, Lookup, var};

use super::config::MetricsConfigError;

/// The resource attributes: those of `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`), then
/// `service.name` from `service_name` (code), else `OTEL_SERVICE_NAME`, else the attribute
/// list's, else `unknown_service`; `service.instance.id` from `instance` when given. A
/// malformed attribute list is an error naming the variable.
pub fn resource_from_vars(
    lookup: Lookup<'_>,
    service_name: Option<&str>,
    instance: Option<&str>,
) -> Result<Vec<(String, String)>, MetricsConfigError> {
    let name = "OTEL_RESOURCE_ATTRIBUTES";
    let mut attributes = match var(lookup, name) {
        Some(list) => {
            otel_env::parse_headers(&list).map_err(|reason| MetricsConfigError::Invalid {
                name: name.to_owned(),
                value: format!("({reason})"),
                expected: "key=value pairs separated by commas",
            })?
        }
        None => Vec::new(),
    };
    let listed = attributes.iter().any(|(k, _)| k == "service.name");
    let mut set = |key: &str, value: String| {
        attributes.retain(|(k, _)| k != key);
        attributes.push((key.to_owned(), value));
    };
    match service_name
        .map(str::to_owned)
        .or_else(|| var(lookup, "OTEL_SERVICE_NAME"))
    {
        Some(service) => set("service.name", service.trim().to_owned()),
        None if !listed => set("service.name", "unknown_service".to_owned()),
        None => {}
    }
    if let Some(id) = instance {
        set("service.instance.id", id.to_owned());
    }
    set("telemetry.sdk.name", "orchestrator-telemetry".to_owned());
    set("telemetry.sdk.language", "rust".to_owned());
    set(
        "telemetry.sdk.version",
        env!("CARGO_PKG_VERSION").to_owned(),
    );
    Ok(attributes)
}

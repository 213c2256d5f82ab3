//! The resource the pushed metrics describe, as the trace export's: `service.name`,
//! `service.instance.id`, the `OTEL_RESOURCE_ATTRIBUTES` pairs, the SDK's name.

use orchestrator_http::otel_env::{self, Lookup, var};

use super::config::MetricsConfigError;

/// The resource attributes: those of `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`), then
/// `service.name` from `service_name` (code), else `OTEL_SERVICE_NAME`, else the attribute
/// list's, else `unknown_service`; `service.instance.id` from `instance`, else the list's,
/// else `host:pid` (pushed series of two replicas must differ by it). A malformed
/// attribute list is an error naming the variable.
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
    let listed = |key: &str| attributes.iter().any(|(k, _)| k == key);
    let (listed_name, listed_instance) = (listed("service.name"), listed("service.instance.id"));
    let mut set = |key: &str, value: String| {
        attributes.retain(|(k, _)| k != key);
        attributes.push((key.to_owned(), value));
    };
    match service_name
        .map(str::to_owned)
        .or_else(|| var(lookup, "OTEL_SERVICE_NAME"))
    {
        Some(service) => set("service.name", service.trim().to_owned()),
        None if !listed_name => set("service.name", "unknown_service".to_owned()),
        None => {}
    }
    match instance {
        Some(id) => set("service.instance.id", id.to_owned()),
        // Pushed series of two replicas must not collide: without a name, the host and
        // the process id tell them apart.
        None if !listed_instance => set("service.instance.id", host_and_pid()),
        None => {}
    }
    set("telemetry.sdk.name", "orchestrator-telemetry".to_owned());
    set("telemetry.sdk.language", "rust".to_owned());
    set(
        "telemetry.sdk.version",
        env!("CARGO_PKG_VERSION").to_owned(),
    );
    Ok(attributes)
}

/// `host:pid`, the host's name read from the kernel (or `HOSTNAME`).
fn host_and_pid() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{host}:{}", std::process::id())
}

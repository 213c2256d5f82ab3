//! Fetching from the orchestrator and from Prometheus or Alertmanager with
//! `orchestrator-http`'s client: an overall deadline per request, the body as sent (never
//! decompressed, to measure compressed payloads) up to a cap, and the time it took.

use orchestrator_http::{HttpClient, HttpError, Reply};

use super::ValidateOptions;

/// The client validate uses: the options' deadline, body cap and CA.
pub(crate) fn client(o: &ValidateOptions) -> Result<HttpClient, HttpError> {
    HttpClient::builder()
        .deadline(o.timeout)
        .body_limit(o.max_body_bytes)
        .tls(o.tls.clone())
        .build()
}

/// `GET url` with extra `headers`: the reply whatever its status, or why not.
pub(crate) fn get(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    client.get(url, headers).map_err(|e| e.to_string())
}

/// `GET url` answering 2xx with JSON.
pub(crate) fn json(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<serde_json::Value, String> {
    client.get_json(url, headers).map_err(|e| e.to_string())
}

/// `GET url` answering 2xx with the JSON document `T` (an `/api/v1` document).
pub(crate) fn doc<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<T, String> {
    let value = json(client, url, headers)?;
    serde_json::from_value(value).map_err(|e| format!("{url}: not the expected document: {e}"))
}

//! The /metrics endpoint over real HTTP on loopback.

use std::io::Read as _;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use orchestrator_exporters::{MetricsEndpoint, MetricsServer, ServeError};
use orchestrator_metrics::{Metrics, Registry, exposition};

/// A standalone listener serving [`registry_with_traffic`].
fn serving_traffic() -> MetricsServer {
    MetricsServer::bind(
        "127.0.0.1:0",
        MetricsEndpoint::new(registry_with_traffic()).router(),
    )
    .unwrap()
}

fn registry_with_traffic() -> Registry {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    for i in 0..200 {
        let route = format!("/v1/route/{}", i % 20);
        metrics
            .requests()
            .record(&route, "GET", 200, Duration::from_millis(i));
    }
    registry
}

async fn get_metrics(addr: std::net::SocketAddr, encoding: Option<&str>) -> reqwest::Response {
    scrape(addr, encoding.map(|e| ("accept-encoding", e))).await
}

/// `GET /metrics`, with one request header when given.
async fn scrape(addr: std::net::SocketAddr, header: Option<(&str, &str)>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.expect("scrape")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_server_serves_plain_and_gzip() {
    let server = serving_traffic();
    let addr = server.local_addr();

    let plain = get_metrics(addr, None).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(
        plain.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(plain.headers().get("content-encoding").is_none());
    let text = plain.text().await.unwrap();
    assert_eq!(
        exposition::parse(&text)
            .unwrap()
            .sum("orchestrator_requests_total"),
        Some(200.0)
    );

    let zipped = get_metrics(addr, Some("br, gzip")).await;
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let bytes = zipped.bytes().await.unwrap();
    assert!(
        bytes.len() * 4 < text.len(),
        "gzip {} vs raw {}",
        bytes.len(),
        text.len()
    );
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, text);

    let refused = get_metrics(addr, Some("gzip;q=0")).await;
    assert!(refused.headers().get("content-encoding").is_none());
    server.shutdown();
}

/// Issue 15 item 8: OpenMetrics for a client that prefers it (Prometheus's own `Accept`),
/// the text format for every other one, an unknown format included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_is_negotiated_and_text_stays_the_default() {
    let server = serving_traffic();
    let addr = server.local_addr();
    let with_accept = |accept: &'static str| scrape(addr, Some(("accept", accept)));
    let prometheus = with_accept(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    )
    .await;
    assert_eq!(
        prometheus.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(
        prometheus.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("accept")
    );
    let text = prometheus.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE orchestrator_requests counter\n"),
        "{text}"
    );
    for accept in ["application/x-unknown", "text/plain", "*/*"] {
        let plain = with_accept(accept).await;
        assert_eq!(
            plain.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8",
            "{accept}"
        );
        assert!(!plain.text().await.unwrap().contains("# EOF"));
    }
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounts_on_an_orchestrator_router_with_its_own_state() {
    #[derive(Clone)]
    struct AppState;
    let registry = registry_with_traffic();
    let app: Router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .with_state(AppState)
        .merge(MetricsEndpoint::new(registry).router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = get_metrics(addr, None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("orchestrator_requests_total{")
    );
}

#[test]
fn port_in_use_is_a_typed_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = MetricsServer::bind(&addr, Router::new()).unwrap_err();
    assert!(matches!(err, ServeError::Bind { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr), "{err}");
}

#[test]
fn invalid_address_is_a_typed_error_naming_it() {
    for addr in ["localhost:9464", "127.0.0.1", "127.0.0.1:99999", ""] {
        let err = MetricsServer::bind(addr, Router::new()).unwrap_err();
        assert!(
            matches!(err, ServeError::InvalidAddress { .. }),
            "{addr}: {err:?}"
        );
        assert!(err.to_string().contains(&format!("`{addr}`")), "{err}");
    }
}

#[test]
fn works_without_a_tokio_runtime_in_the_caller() {
    let registry = registry_with_traffic();
    let server =
        MetricsServer::bind("127.0.0.1:0", MetricsEndpoint::new(registry).router()).unwrap();
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    use std::io::Write as _;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("orchestrator_requests_total{"));
    drop(server);
}

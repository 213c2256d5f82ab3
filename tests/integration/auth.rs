//! Issue 14, rows 4 and 5: the bearer token protects the live page wherever it is merged,
//! and the browser's login cookie never carries the token.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use orchestrator_telemetry::Telemetry;
use tower::ServiceExt as _;

/// The live page merged into the orchestrator's own public router (no telemetry listener),
/// with and without a token configured.
async fn merged_status(token: Option<&str>, header: Option<&str>) -> u16 {
    let builder = Telemetry::builder().without_listener().ignore_otel_env();
    let guard = match token {
        Some(t) => builder.bearer_token(t),
        None => builder,
    }
    .build()
    .unwrap();
    let app: Router = Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .merge(guard.live_page().unwrap().clone().router());
    let mut request = http::Request::get("/api/v1/summary");
    if let Some(h) = header {
        request = request.header("authorization", h);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
    status
}

/// Row 4: `.without_listener().bearer_token(t)` protects `guard.live_page()`'s router.
#[tokio::test(flavor = "multi_thread")]
async fn the_token_protects_the_live_page_merged_into_the_public_router() {
    assert_eq!(merged_status(Some("s3cret"), None).await, 401);
    assert_eq!(
        merged_status(Some("s3cret"), Some("Bearer wrong")).await,
        401
    );
    assert_eq!(
        merged_status(Some("s3cret"), Some("Bearer s3cret")).await,
        200
    );
    // No token configured: the page is open, as documented.
    assert_eq!(merged_status(None, None).await, 200);
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Row 5: the cookie holds a session secret, not the token; `Secure` when asked; the
/// `?token=` value is percent-decoded; the redirect is neither cached nor a referrer.
#[tokio::test(flavor = "multi_thread")]
async fn the_login_cookie_never_carries_the_token() {
    let token = "s3cret token+/=&é";
    let guard = Telemetry::builder()
        .listen("127.0.0.1:0")
        .ignore_otel_env()
        .bearer_token(token)
        .secure_cookie(true)
        .build()
        .unwrap();
    let base = format!("http://{}", guard.metrics_addr().unwrap());
    let encoded = "s3cret%20token%2B%2F%3D%26%C3%A9";
    let login = client()
        .get(format!("{base}/dashboard?token={encoded}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status().as_u16(),
        303,
        "the percent-decoded token logs in"
    );
    let headers = login.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let value = pair.split_once('=').unwrap().1;
    assert!(!value.contains("s3cret") && !cookie.contains(encoded));
    assert_eq!(value.len(), 64, "a 256-bit session secret, in hex");
    // The cookie works for the page's API, the raw token as a cookie does not.
    let with = |cookie: String| {
        let url = format!("{base}/api/v1/kpis");
        async move {
            client()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with(pair.clone()).await, 200);
    assert_eq!(
        with(format!("orchestrator_telemetry_session={token}")).await,
        401
    );
    assert_eq!(
        with("orchestrator_telemetry_token=s3cret".into()).await,
        401
    );
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
}

/// What a listener on `addr` answers on `/metrics`, `/dashboard` and `/api/v1/summary`, the
/// `/dashboard` body, and the warnings logged while it was built.
async fn public(
    addr: &str,
    configure: fn(
        orchestrator_telemetry::TelemetryBuilder,
    ) -> orchestrator_telemetry::TelemetryBuilder,
    header: Option<&str>,
) -> ([u16; 3], String, Vec<String>) {
    let logs = orchestrator_testkit::logs::LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let builder = configure(Telemetry::builder().listen(addr).ignore_otel_env());
    let guard = tracing::subscriber::with_default(subscriber, || builder.build()).unwrap();
    let port = guard.metrics_addr().unwrap().port();
    let host = if addr.starts_with('[') {
        "[::1]"
    } else {
        "127.0.0.1"
    };
    let get = |path: &str| {
        let mut request = client().get(format!("http://{host}:{port}{path}"));
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        request.send()
    };
    let mut statuses = [0; 3];
    for (i, path) in ["/metrics", "/dashboard", "/api/v1/summary"]
        .iter()
        .enumerate()
    {
        statuses[i] = get(path).await.unwrap().status().as_u16();
    }
    let body = get("/dashboard").await.unwrap().text().await.unwrap();
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
    (statuses, body, logs.lines_with(""))
}

/// A listener on a public address without a token serves `/metrics` only: the live page's
/// paths answer 404 with the way out, and one warning names the address. A token, or
/// `.public_live_page()`, serves the page; loopback serves it as before.
#[tokio::test(flavor = "multi_thread")]
async fn a_public_address_without_a_token_serves_metrics_only() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let (statuses, body, logs) = public(addr, |b| b, None).await;
        assert_eq!(statuses, [200, 404, 404], "{addr}");
        assert!(
            body.contains("bearer_token") && body.contains("public_live_page"),
            "{body}"
        );
        let warnings: Vec<_> = logs.iter().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warnings.len(), 1, "{addr}: {logs:?}");
        assert!(
            warnings[0].contains(addr.trim_end_matches(":0")),
            "{warnings:?}"
        );
    }
    let (statuses, _, logs) = public("0.0.0.0:0", |b| b.public_live_page(), None).await;
    assert_eq!(statuses, [200, 200, 200]);
    assert!(logs.iter().all(|l| !l.contains("live page")), "{logs:?}");
    let (statuses, _, _) = public("0.0.0.0:0", |b| b.bearer_token("s3cret"), None).await;
    assert_eq!(statuses, [401, 401, 401]);
    let token = Some("Bearer s3cret");
    let (statuses, _, _) = public("0.0.0.0:0", |b| b.bearer_token("s3cret"), token).await;
    assert_eq!(statuses, [200, 200, 200]);
    let (statuses, _, logs) = public("127.0.0.1:0", |b| b, None).await;
    assert_eq!(statuses, [200, 200, 200]);
    assert!(logs.iter().all(|l| !l.contains("live page")), "{logs:?}");
}

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

//! Bad input to the query crate: malformed remote expositions, unreachable targets,
//! division by zero, unknown metrics.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use orchestrator_http::HttpClient;
use orchestrator_metrics::catalogue::{ERRORS_TOTAL, REQUESTS_TOTAL, SESSIONS_TOTAL};
use orchestrator_query::{
    Expr, ExprError, SampleError, SampleStore, Sampler, Selector, Window, eval,
};

/// A remote sampler fetching `url` with the project's HTTP client.
fn remote(url: &str) -> Sampler {
    let client = HttpClient::builder()
        .deadline(Duration::from_secs(5))
        .body_limit(16 << 20)
        .build()
        .unwrap();
    let target = url.to_owned();
    Sampler::remote(url, move || {
        let reply = client.get(&target, &[])?;
        if !reply.is_success() {
            return Err(format!("HTTP {}", reply.status).into());
        }
        Ok(String::from_utf8(reply.body)?)
    })
}

/// Serves one HTTP answer with `body` to every connection, on a thread.
fn serve(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(8) {
            let mut stream = stream;
            // Read the whole request head before answering.
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                request.push(byte[0]);
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/metrics")
}

#[test]
fn a_malformed_remote_exposition_is_a_parse_error_with_its_line() {
    let url = serve(
        "# TYPE orchestrator_sessions_total counter\norchestrator_sessions_total 3\norchestrator_sessions_total{broken 4\n",
    );
    let mut sampler = remote(&url);
    sampler.watch(&Expr::value(Selector::of(&SESSIONS_TOTAL)).unwrap());
    match sampler.sample(1_000) {
        Err(SampleError::Parse { error, source_name }) => {
            assert_eq!(error.line, 3, "{error}");
            assert_eq!(source_name, url);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert_eq!(
        sampler.store().series_count(),
        0,
        "nothing stored from a bad exposition"
    );
}

#[test]
fn a_remote_exposition_is_sampled() {
    let url = serve(
        "# TYPE orchestrator_sessions_total counter\norchestrator_sessions_total 3\nother_metric 1\n",
    );
    let mut sampler = remote(&url);
    let sessions = Expr::value(Selector::of(&SESSIONS_TOTAL)).unwrap();
    sampler.watch(&sessions);
    assert_eq!(
        sampler.sample(1_000).unwrap(),
        1,
        "only the watched series is kept"
    );
    assert_eq!(eval(&sessions, sampler.store(), 1_000).scalar(), Some(3.0));
}

#[test]
fn an_unreachable_target_is_a_fetch_error_and_the_store_is_kept() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sampler = remote(&format!("http://127.0.0.1:{port}/metrics"));
    let err = sampler.sample(0).unwrap_err();
    assert!(matches!(err, SampleError::Fetch { .. }), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[test]
fn no_requests_yet_is_no_data_never_nan() {
    let hour = Window::hours(1).unwrap();
    let errors = Expr::rate(Selector::of(&ERRORS_TOTAL).eq("component", "api"), hour)
        .unwrap()
        .sum();
    let requests = Expr::rate(Selector::of(&REQUESTS_TOTAL), hour)
        .unwrap()
        .sum();
    let error_rate = errors.ratio(requests).unwrap();
    let mut store = SampleStore::default();
    let labels = [
        ("component".to_owned(), "api".to_owned()),
        ("kind".to_owned(), "server_error".to_owned()),
    ];
    for i in 0..10 {
        store.append(
            "orchestrator_errors_total",
            &labels,
            i * 15_000,
            0.0,
            4_000_000,
        );
        store.append(
            "orchestrator_requests_total",
            &[],
            i * 15_000,
            0.0,
            4_000_000,
        );
    }
    let result = eval(&error_rate, &store, 150_000);
    assert_eq!(result.scalar(), None, "0 / 0 is no data");
    assert!(result.is_empty());
    assert_eq!(
        eval(&error_rate, &SampleStore::default(), 0).scalar(),
        None,
        "nothing sampled is no data"
    );
}

#[test]
fn expressions_over_unknown_or_misused_metrics_are_errors_naming_them() {
    let err = Selector::named("orchestrator_tokens_used_total").unwrap_err();
    assert_eq!(
        err,
        ExprError::UnknownMetric {
            name: "orchestrator_tokens_used_total".into()
        }
    );
    assert!(err.to_string().contains("orchestrator_tokens_used_total"));
    let hour = Window::hours(1).unwrap();
    let gauge = Selector::named("orchestrator_active_sessions").unwrap();
    assert!(matches!(
        Expr::rate(gauge, hour),
        Err(ExprError::NotACounter { .. })
    ));
    let no_label = Selector::of(&REQUESTS_TOTAL).eq("tenant", "a");
    assert!(matches!(
        Expr::rate(no_label, hour),
        Err(ExprError::UnknownLabel { .. })
    ));
    let no_le = Expr::rate(Selector::of(&REQUESTS_TOTAL), hour)
        .unwrap()
        .sum();
    assert_eq!(
        Expr::histogram_quantile(0.95, no_le).unwrap_err(),
        ExprError::NoBuckets
    );
    assert!(matches!(
        Window::new(Duration::ZERO),
        Err(ExprError::InvalidWindow { .. })
    ));
}

/// Issue 14, row 11: the store's points per series come from the watched windows and the
/// sampling interval, not a fixed 400,000; what a full series pushes out inside its window
/// is counted.
#[test]
fn points_per_series_are_sized_from_the_windows() {
    let registry = orchestrator_metrics::Registry::new();
    let mut sampler = Sampler::local(&registry);
    let hour = Window::hours(1).unwrap();
    sampler.watch(
        &Expr::rate(Selector::of(&REQUESTS_TOTAL), hour)
            .unwrap()
            .sum(),
    );
    let points = sampler.fit_points_to(Duration::from_secs(15));
    // (1 h + 5 min lookback) / 15 s + 1 = 261, four times over, plus 8.
    assert_eq!(points, 1_052);
    assert_eq!(sampler.store().limits().max_points, 1_052);
    // Never raised: a 1 ms interval would want millions.
    assert_eq!(sampler.fit_points_to(Duration::from_millis(1)), 1_052);

    let mut store = SampleStore::new(orchestrator_query::StoreLimits {
        max_points: 10,
        ..Default::default()
    });
    for t in 0..30 {
        store.append(
            "orchestrator_requests_total",
            &[],
            t * 1000,
            t as f64,
            3_600_000,
        );
    }
    assert_eq!(
        store.dropped(),
        20,
        "20 points pushed out inside their window"
    );
}

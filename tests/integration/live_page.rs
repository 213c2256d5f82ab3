//! The live page's JSON endpoints and its bearer-token authentication, over real HTTP.

use std::borrow::Cow;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_api::{
    AlertsDoc, KpisDoc, RuleState, SummaryDoc, TracesDoc,
};
use orchestrator_telemetry::orchestrator_tower::{
    GenAiRequest, OpenAiCompatible, Sampler, TelemetryLayer,
};
use orchestrator_telemetry::{Telemetry, TelemetryGuard};
use tower::{Layer as _, ServiceExt as _, service_fn};

fn telemetry(token: Option<&str>) -> TelemetryGuard {
    let builder = Telemetry::builder()
        .listen("127.0.0.1:0")
        .ignore_otel_env()
        .tracing(|t| t.sampler(Sampler::always_on()));
    match token {
        Some(t) => builder.bearer_token(t),
        None => builder,
    }
    .build()
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn status(url: &str, header: Option<(&str, &str)>) -> u16 {
    let mut request = client().get(url);
    if let Some((k, v)) = header {
        request = request.header(k, v);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_token_401_with_it_200() {
    let guard = telemetry(Some("s3cret-token"));
    let base = format!("http://{}", guard.metrics_addr().unwrap());
    for path in [
        "/metrics",
        "/dashboard",
        "/dashboard/app.js",
        "/api/v1/summary",
        "/api/v1/kpis",
        "/api/v1/alerts",
        "/api/v1/traces",
    ] {
        let url = format!("{base}{path}");
        assert_eq!(status(&url, None).await, 401, "{path} without a token");
        let wrong = Some(("authorization", "Bearer s3cret-tokem"));
        assert_eq!(status(&url, wrong).await, 401, "{path} with a wrong token");
        let right = Some(("authorization", "Bearer s3cret-token"));
        assert_eq!(status(&url, right).await, 200, "{path} with the token");
    }
    // A browser logs in once through the address; the cookie carries the token after.
    let login = client()
        .get(format!("{base}/dashboard?token=s3cret-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(login.headers()["location"], "/dashboard");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = Some(("cookie", pair.as_str()));
    assert_eq!(
        status(&format!("{base}/api/v1/kpis"), with_cookie).await,
        200
    );
    assert_eq!(
        status(&format!("{base}/dashboard?token=nope"), None).await,
        401
    );
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
}

#[test]
fn an_empty_token_is_refused() {
    let err = Telemetry::builder()
        .listen("127.0.0.1:0")
        .bearer_token("  ")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("token is empty"), "{err}");
}

/// An `/api/v1` document, read as its type (the wire format must deserialize).
async fn doc<T: serde::de::DeserializeOwned>(base: &str, path: &str) -> T {
    client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpoints_report_kpis_every_alert_rule_traces_and_the_summary() {
    let guard = telemetry(None);
    let base = format!("http://{}", guard.metrics_addr().unwrap());
    // Requests between two evaluations (the KPIs are increases over their window), and one
    // LLM call whose model name is hostile markup.
    let record = |statuses: &[u16]| {
        for &status in statuses {
            guard.metrics().requests().record(
                "/v1/chat",
                "POST",
                status,
                Duration::from_millis(40),
            );
        }
    };
    record(&[200, 500]);
    tokio::task::block_in_place(|| guard.evaluate_now());
    tokio::time::sleep(Duration::from_millis(200)).await;
    record(&[200, 200, 500]);
    // An agent run with one tool call (a trace of its own, before the LLM call's).
    let run = guard.tracer().agent_run("researcher");
    run.in_scope(|| guard.tracer().tool_call("web_search").finish());
    run.finish();
    let hostile = "<img src=x onerror=alert(1)>";
    let llm = TelemetryLayer::llm(guard.tracer(), OpenAiCompatible).layer(service_fn(
        |_: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header("content-type", "application/json")
                    .body(
                        r#"{"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4}}"#
                            .to_owned(),
                    )
                    .unwrap(),
            )
        },
    ));
    let mut request = http::Request::new(String::new());
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Owned(hostile.to_owned()),
        prompt: None,
    });
    let response = llm.oneshot(request).await.unwrap();
    // The call ends at the body's last chunk, where the usage is read.
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
    // A call whose provider reported no usage: counted as missing its usage, beside the
    // calls, not silently as 0 tokens.
    guard
        .metrics()
        .llm()
        .record(&orchestrator_telemetry::LlmCall::new(
            "openai",
            "quiet",
            orchestrator_telemetry::LlmOutcome::Success,
            Duration::from_millis(30),
        ));
    tokio::task::block_in_place(|| guard.evaluate_now());
    tokio::time::sleep(Duration::from_millis(1_500)).await; // two chart samples

    let kpis: KpisDoc = doc(&base, "/api/v1/kpis").await;
    assert_eq!(kpis.total, 5);
    let ids: Vec<&str> = kpis.kpis.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "monthly_active_users",
            "revenue_per_user",
            "customer_satisfaction",
            "response_time_p95",
            "error_rate"
        ]
    );
    let error_rate = &kpis.kpis[4];
    // 2 of the 5 requests failed (the exact window arithmetic is the KPI tests' business).
    let value = error_rate.value.unwrap();
    assert!(value > 0.2 && value <= 0.4, "{error_rate:?}");
    assert!(!error_rate.met);
    assert_eq!(error_rate.display_value, format!("{:.2}%", value * 100.0));
    // The business figures of the last day: the 5 requests made, no trend yet.
    let ids: Vec<&str> = kpis.figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "revenue",
            "llm_spend",
            "sessions",
            "conversions",
            "requests"
        ]
    );
    let requests = &kpis.figures[4];
    assert_eq!(
        (requests.period.as_str(), requests.value),
        ("1d", Some(5.0))
    );
    assert_eq!(
        (requests.trend, requests.display_trend.as_str()),
        (None, "no data")
    );
    // Seconds old: no previous window, so no trend (never 0).
    assert!(
        kpis.kpis
            .iter()
            .all(|k| k.trend.is_none() && k.display_trend == "no data"),
        "{kpis:?}"
    );
    for kpi in &kpis.kpis {
        if let Some(gap) = kpi.gap {
            assert_eq!(kpi.met, gap >= 0.0, "{kpi:?}");
        }
    }

    let alerts: AlertsDoc = doc(&base, "/api/v1/alerts").await;
    let states: Vec<(&str, RuleState)> = alerts
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.state))
        .collect();
    assert_eq!(
        states.len(),
        9,
        "every rule, inactive ones included: {alerts:?}"
    );
    assert!(states.contains(&("MemoryUsageCritical", RuleState::Inactive)));

    let traces: TracesDoc = doc(&base, "/api/v1/traces").await;
    assert_eq!(traces.analysis.traces, 1);
    let span = &traces.traces[0].spans[0];
    assert_eq!(span.name, format!("chat {hostile}"));
    assert_eq!(span.attributes["gen_ai.request.model"], hostile);
    assert_eq!(span.attributes["gen_ai.usage.output_tokens"], "4");
    // The agent's trace: not a request, so not in the analysis; its run and its tool call,
    // with the run's (nil) LLM spend.
    let agent = &traces.traces[1];
    assert_eq!(agent.root, "invoke_agent researcher");
    assert_eq!(agent.cost_usd, Some(0.0));
    assert_eq!(agent.spans.len(), 2);
    assert_eq!(agent.spans[1].name, "execute_tool web_search");

    let summary: SummaryDoc = doc(&base, "/api/v1/summary").await;
    assert_eq!(summary.requests_total, 5.0);
    let quiet = summary.llm.iter().find(|r| r.model == "quiet").unwrap();
    assert_eq!((quiet.calls, quiet.usage_missing), (1.0, 1.0), "{quiet:?}");
    assert_eq!((quiet.input_tokens, quiet.cost_usd), (0.0, 0.0));
    let reported = summary.llm.iter().find(|r| r.model != "quiet").unwrap();
    assert_eq!(reported.usage_missing, 0.0, "{reported:?}");
    assert!(!summary.points.is_empty(), "{summary:?}");
    let researcher = &summary.agents[0];
    assert_eq!(
        (
            researcher.agent.as_str(),
            researcher.runs,
            researcher.tool_calls
        ),
        ("researcher", 1.0, 1.0),
        "{summary:?}"
    );

    // In process, the same documents (what the demo's `--report` judges). The monitor may
    // evaluate in between, so only what it cannot change is compared whole.
    let documents = guard.documents().unwrap();
    // Through the same JSON text (serde_json's float parsing may differ by one ulp from the
    // value it printed, so the in-process document is compared as the page would send it).
    let in_process: TracesDoc =
        serde_json::from_str(&serde_json::to_string(&documents.traces).unwrap()).unwrap();
    assert_eq!(in_process, traces);
    assert_eq!(documents.kpis.kpis.len(), kpis.kpis.len());
    assert_eq!(documents.alerts.rules.len(), alerts.rules.len());
    assert_eq!(documents.summary.requests_total, summary.requests_total);

    let page = client()
        .get(format!("{base}/dashboard"))
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/dashboard/app.js" defer></script>"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from the internet"
    );
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
}

/// Issue 15 item 7: the trace view shows the feedback scores on the trace they judge (the
/// feedback span, exported as a trace of its own, is not listed apart).
#[tokio::test(flavor = "multi_thread")]
async fn feedback_scores_show_on_the_judged_trace() {
    use orchestrator_telemetry::orchestrator_tower::{Feedback, current};

    let guard = telemetry(None);
    let base = format!("http://{}", guard.metrics_addr().unwrap());
    let saved = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = saved.clone();
    let service = TelemetryLayer::server(guard.tracer()).layer(service_fn(
        move |_: http::Request<axum::body::Body>| {
            let slot = slot.clone();
            async move {
                *slot.lock().unwrap() = current();
                Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
            }
        },
    ));
    service
        .oneshot(
            http::Request::get("/v1/answer")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let judged = saved.lock().unwrap().take().expect("the handler's context");
    guard
        .tracer()
        .record_feedback(&judged, Feedback::Satisfaction, 9.0)
        .unwrap();
    guard
        .tracer()
        .record_feedback(&judged, Feedback::Quality, 75.0)
        .unwrap();

    let traces: TracesDoc = doc(&base, "/api/v1/traces").await;
    let list = &traces.traces;
    assert_eq!(
        list.len(),
        1,
        "the feedback spans are not listed apart: {traces:?}"
    );
    let scores: Vec<(&str, &str)> = list[0]
        .scores
        .iter()
        .map(|s| (s.kind.as_str(), s.score.as_str()))
        .collect();
    assert_eq!(scores, [("satisfaction", "9"), ("quality", "75")]);
}

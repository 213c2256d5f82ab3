//! Issue 15, item 1 (the metrics part): a request's tenant, from a header, a request
//! extension or `set_tenant`, flows to every LLM call made while serving it, through the
//! layer and the manual guard, sampled or not; spend and tokens land in the tenant series,
//! the per-model series keep no tenant label.

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use http::{HeaderName, Request, Response};
use http_body_util::BodyExt as _;
use orchestrator_metrics::{LlmOutcome, ModelPrice, PriceTable, Registry, TokenUsage};
use orchestrator_tower::{
    GenAiRequest, OpenAiCompatible, Sampler, TelemetryLayer, Tenant, Tracer, set_tenant,
};
use support::sum;
use tower::{Layer as _, ServiceExt as _, service_fn};

const STREAM: &str = "data: {\"model\":\"gpt-test\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200}}\n\ndata: [DONE]\n\n";

fn traced(sampler: Sampler) -> (Registry, Tracer) {
    let price = ModelPrice::new(2.0, 1.0, 8.0).unwrap();
    support::priced_tracer(
        PriceTable::new().with_price("openai", "gpt-test", price),
        sampler,
    )
}

/// One LLM call through the layer.
async fn llm_call(tracer: &Tracer) {
    let provider = service_fn(|_: Request<Body>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from(STREAM))
                .unwrap(),
        )
    });
    let client = TelemetryLayer::llm(tracer, OpenAiCompatible).layer(provider);
    let mut request = Request::post("http://openai/v1")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed("gpt-test"),
        prompt: None,
    });
    let response = client.oneshot(request).await.unwrap();
    let _ = response.into_body().collect().await.unwrap();
}

/// An app whose handler makes one LLM call through the layer and one through the guard;
/// `late` names the tenant with `set_tenant` inside the handler.
fn app(tracer: &Tracer, late: Option<&'static str>) -> Router {
    let handler_tracer = tracer.clone();
    Router::new()
        .route(
            "/v1/chat",
            post(move || {
                let tracer = handler_tracer.clone();
                async move {
                    if let Some(tenant) = late {
                        assert!(set_tenant(tenant));
                    }
                    llm_call(&tracer).await;
                    let call = tracer.llm_call("openai", "gpt-test");
                    call.finish(LlmOutcome::Success, Some(TokenUsage::new(1000, 200)));
                    "ok"
                }
            }),
        )
        .layer(TelemetryLayer::server(tracer).tenant_header(HeaderName::from_static("x-tenant-id")))
}

async fn send(app: Router, header: Option<&str>, extension: Option<&str>) {
    let mut request = Request::post("/v1/chat");
    if let Some(tenant) = header {
        request = request.header("x-tenant-id", tenant);
    }
    let mut request = request.body(Body::empty()).unwrap();
    if let Some(tenant) = extension {
        request.extensions_mut().insert(Tenant(Arc::from(tenant)));
    }
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
}

fn tenant_value(registry: &Registry, name: &str, tenant: &str, kind: Option<&str>) -> f64 {
    sum(registry, name, |s| {
        s.label("tenant") == Some(tenant) && kind.is_none_or(|k| s.label("token_type") == Some(k))
    })
}

#[tokio::test]
async fn a_header_bills_every_llm_call_of_the_request_sampled_or_not() {
    for sampler in [Sampler::always_on(), Sampler::always_off()] {
        let (registry, tracer) = traced(sampler);
        send(app(&tracer, None), Some("acme"), None).await;
        assert_eq!(
            tenant_value(
                &registry,
                "orchestrator_tenant_requests_total",
                "acme",
                None
            ),
            1.0
        );
        // Two calls of 1,000 in / 200 out: 2 × (1,000 × 2 + 200 × 8) / 1e6 = $0.0072.
        let cost = tenant_value(
            &registry,
            "orchestrator_tenant_llm_cost_usd_total",
            "acme",
            None,
        );
        assert!((cost - 0.0072).abs() < 1e-12, "{cost}");
        assert_eq!(
            tenant_value(
                &registry,
                "orchestrator_tenant_llm_tokens_total",
                "acme",
                Some("input")
            ),
            2000.0
        );
        assert_eq!(
            tenant_value(
                &registry,
                "orchestrator_tenant_llm_tokens_total",
                "acme",
                Some("output")
            ),
            400.0
        );
        let text = registry.render();
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("orchestrator_llm_") && l.contains("tenant=")),
            "the per-model series keep no tenant label"
        );
    }
}

#[tokio::test]
async fn an_extension_wins_over_the_header_and_no_tenant_records_none() {
    let (registry, tracer) = traced(Sampler::always_on());
    send(
        app(&tracer, None),
        Some("from-header"),
        Some("from-extension"),
    )
    .await;
    assert_eq!(
        tenant_value(
            &registry,
            "orchestrator_tenant_requests_total",
            "from-extension",
            None
        ),
        1.0
    );
    assert_eq!(
        tenant_value(
            &registry,
            "orchestrator_tenant_requests_total",
            "from-header",
            None
        ),
        0.0
    );
    let (registry, tracer) = traced(Sampler::always_on());
    send(app(&tracer, None), None, None).await;
    assert!(
        !registry
            .render()
            .contains("orchestrator_tenant_requests_total{")
    );
}

#[tokio::test]
async fn set_tenant_inside_the_handler_bills_the_calls_made_after() {
    let (registry, tracer) = traced(Sampler::always_on());
    send(app(&tracer, Some("late-co")), None, None).await;
    let cost = tenant_value(
        &registry,
        "orchestrator_tenant_llm_cost_usd_total",
        "late-co",
        None,
    );
    assert!((cost - 0.0072).abs() < 1e-12, "{cost}");
    assert!(!set_tenant("nobody"), "outside any call");
}

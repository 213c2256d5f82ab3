//! An OpenAI-compatible provider on loopback that counts the calls reaching it and answers
//! only once a test opens its gate: so a test can hold every concurrent call in flight until
//! each was admitted or refused by the budgets before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;

/// A Chat Completions answer in the documented shape
/// (<https://platform.openai.com/docs/api-reference/chat/object>): 40 tokens in, 12 out.
pub const CHAT_COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}"#;

/// Serves `POST /v1/chat/completions` with [`CHAT_COMPLETION`] once `open` reads `true`;
/// its URL and the count of calls it got (counted on arrival, before the gate).
pub async fn gated_chat_provider(
    open: tokio::sync::watch::Receiver<bool>,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let (counted, mut open) = (counted.clone(), open.clone());
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = open.wait_for(|open| *open).await;
                ([("content-type", "application/json")], CHAT_COMPLETION)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1/chat/completions"), hits)
}

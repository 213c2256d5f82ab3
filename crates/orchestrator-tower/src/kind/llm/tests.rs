//! Unit tests of the LLM call state: content capture, caps and redaction.
use super::*;

/// Recorded prompts and completions are held to their cap on the
/// span (and so in the keep-errors buffer), cut at a character boundary.
#[test]
fn recorded_content_is_capped() {
    let prompt = "é".repeat(MAX_CONTENT_BYTES);
    let mut call = LlmCallState::new(
        GenAiRequest {
            operation: "chat",
            provider: Cow::Borrowed("openai"),
            model: Cow::Borrowed("m"),
            prompt: Some(prompt),
        },
        Some(ContentPolicy::default()),
    );
    call.status = Some(200);
    call.response.completion = Some("short".into());
    let ended = Ended {
        outcome: Outcome::Completed(Some(200)),
        duration: Duration::from_millis(5),
        exemplar: None,
    };
    let mut attributes = Vec::new();
    call.attributes(&ended, &mut attributes);
    let value = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap()
    };
    let input = value("gen_ai.input.messages");
    assert!(input.len() <= MAX_CONTENT_BYTES, "{}", input.len());
    let parsed: serde_json::Value = serde_json::from_str(&input).unwrap();
    let text = parsed[0]["parts"][0]["content"].as_str().unwrap();
    assert!(text.ends_with('…'), "cut with a marker");
    assert_eq!(parsed[0]["role"], "user");
    let output: serde_json::Value = serde_json::from_str(&value("gen_ai.output.messages")).unwrap();
    assert_eq!(
        output,
        serde_json::json!([{"role": "assistant", "parts": [{"type": "text", "content": "short"}], "finish_reason": "stop"}])
    );
}

/// A redaction hook that panics costs the attribute, counted; the
/// rest of the span is kept.
#[test]
fn a_panicking_redaction_hook_drops_the_attribute() {
    let policy = ContentPolicy {
        redact: Some(std::sync::Arc::new(|_: &str| -> Cow<'_, str> {
            panic!("hook bug")
        })),
        limit: MAX_CONTENT_BYTES,
    };
    let mut call = LlmCallState::new(
        GenAiRequest {
            operation: "chat",
            provider: Cow::Borrowed("openai"),
            model: Cow::Borrowed("m"),
            prompt: Some("hello".into()),
        },
        Some(policy),
    );
    call.status = Some(200);
    let ended = Ended {
        outcome: Outcome::Completed(Some(200)),
        duration: Duration::from_millis(5),
        exemplar: None,
    };
    let mut attributes = Vec::new();
    call.attributes(&ended, &mut attributes);
    assert!(
        attributes
            .iter()
            .all(|kv| kv.key.as_str() != "gen_ai.input.messages")
    );
    assert!(
        attributes
            .iter()
            .any(|kv| kv.key.as_str() == "gen_ai.request.model")
    );
    assert_eq!(call.dropped_attributes(), 1);
    assert_eq!(call.dropped_attributes(), 0, "counted once");
}

/// An estimator runs only for a success without usage, and one that panics costs the
/// estimate, never the call.
#[test]
fn the_estimator_fills_only_a_missing_usage_and_may_panic() {
    let request = GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed("m"),
        prompt: Some("hello".into()),
    };
    let estimate: UsageEstimator = std::sync::Arc::new(|r: &GenAiRequest, text: &str| {
        Some(TokenUsage::new(
            r.prompt.as_ref()?.len() as u64,
            text.len() as u64,
        ))
    });
    let mut call = LlmCallState::new(request.clone(), None);
    call.estimator = Some(estimate.clone());
    call.response.completion = Some("abc".into());
    call.ending(&Outcome::Completed(Some(200)));
    assert_eq!(call.response.usage, Some(TokenUsage::new(5, 3)));
    assert!(call.estimated);

    let mut reported = LlmCallState::new(request.clone(), None);
    reported.estimator = Some(estimate.clone());
    reported.response.usage = Some(TokenUsage::new(1, 1));
    reported.ending(&Outcome::Completed(Some(200)));
    assert!(!reported.estimated, "a reported usage is kept");

    let mut failed = LlmCallState::new(request.clone(), None);
    failed.estimator = Some(estimate);
    failed.ending(&Outcome::Failed(ErrorKind::RateLimited));
    assert_eq!(failed.response.usage, None, "a failure is not estimated");

    let mut panicking = LlmCallState::new(request, None);
    panicking.estimator = Some(std::sync::Arc::new(|_: &GenAiRequest, _: &str| {
        panic!("estimator bug")
    }));
    panicking.ending(&Outcome::Completed(Some(200)));
    assert_eq!(
        (panicking.response.usage, panicking.estimated),
        (None, false)
    );
}

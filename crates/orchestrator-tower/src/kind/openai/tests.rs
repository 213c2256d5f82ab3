//! Unit tests of the OpenAI-compatible reader: usage shapes, where a stream ends, the
//! servers' quirks, and the request rewrite that asks a stream for its usage.

use super::*;

fn headers(content_type: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
    h
}

#[test]
fn reads_usage_from_a_stream_split_anywhere() {
    let stream = b"data: {\"model\":\"gpt-4o-mini-2024\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34}}\n\ndata: [DONE]\n\n";
    for split in [1, 7, 50, stream.len()] {
        let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
        for chunk in stream.chunks(split) {
            o.on_chunk(chunk);
        }
        let r = o.finish();
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini-2024"));
        assert_eq!(r.usage, Some(TokenUsage::new(12, 34)));
    }
}

/// A chunk of 400 000 newlines is read in linear time (draining line by
/// line took minutes: 400 000 shifts of a buffer of up to 400 KB).
#[test]
fn many_short_lines_take_linear_time() {
    let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
    let chunk = vec![b'\n'; 400_000];
    let started = std::time::Instant::now();
    o.on_chunk(&chunk);
    o.on_chunk(b"data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(o.finish().usage, Some(TokenUsage::new(1, 2)));
}

/// A hostile provider's model name is held to its cap.
#[test]
fn a_huge_model_name_is_capped() {
    let mut o = OpenAiCompatible.observer(200, &headers("application/json"));
    let body = format!(r#"{{"model":"{}","usage":{{}}}}"#, "m".repeat(500_000));
    o.on_chunk(body.as_bytes());
    let model = o.finish().model.unwrap();
    assert!(model.len() <= super::super::llm::MAX_MODEL_BYTES && model.ends_with('…'));
}

#[test]
fn reads_a_json_answer() {
    let mut o = OpenAiCompatible.observer(200, &headers("application/json"));
    o.on_chunk(br#"{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}"#);
    assert_eq!(o.finish().usage, Some(TokenUsage::new(1, 2)));
}

fn feed(status: u16, content_type: &'static str, body: &[u8]) -> (GenAiResponse, Progress) {
    let mut o = OpenAiCompatible.observer(status, &headers(content_type));
    for chunk in body.chunks(9) {
        o.on_chunk(chunk);
    }
    let progress = o.progress();
    (o.finish(), progress)
}

#[test]
fn a_chat_stream_ends_at_done_and_ignores_what_follows() {
    let stream = b"data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: [DONE]\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n";
    let (r, progress) = feed(200, "text/event-stream", stream);
    assert_eq!(progress, Progress::Done);
    assert_eq!(r.usage, None, "what follows [DONE] is not read");
}

#[test]
fn the_finish_chunk_answers_and_a_later_usage_still_counts() {
    let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
    o.on_chunk(b"data: {\"model\":\"m\",\"choices\":[{\"delta\":{},\"finish_reason\": \"stop\"}],\"usage\":null}\n\n");
    assert_eq!(o.progress(), Progress::Answered);
    o.on_chunk(
        b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n",
    );
    assert_eq!(
        o.progress(),
        Progress::Done,
        "the include_usage chunk ends the stream"
    );
    assert_eq!(o.finish().usage, Some(TokenUsage::new(3, 4)));
}

/// vLLM's continuous usage stats: a cumulative usage in every chunk; the last counts.
#[test]
fn cumulative_usage_in_every_chunk_counts_once() {
    let mut stream = Vec::new();
    for n in 1..=5 {
        stream.extend_from_slice(format!(
            "data: {{\"model\":\"m\",\"choices\":[{{\"delta\":{{\"content\":\"t\"}},\"finish_reason\":null}}],\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":{n},\"total_tokens\":{}}}}}\n\n",
            10 + n
        ).as_bytes());
    }
    stream.extend_from_slice(b"data: [DONE]\n\n");
    let (r, _) = feed(200, "text/event-stream", &stream);
    assert_eq!(r.usage, Some(TokenUsage::new(10, 5)));
}

#[test]
fn null_usage_fields_are_no_usage() {
    let (r, _) = feed(
        200,
        "application/json",
        br#"{"model":"m","choices":[],"usage":{"prompt_tokens":null,"completion_tokens":null}}"#,
    );
    assert_eq!(r.usage, None);
    assert_eq!(r.refused_usage, None);
}

/// Azure OpenAI's first chunk carries `prompt_filter_results`, no choice, and a model "".
#[test]
fn azure_content_filter_chunk_is_neither_the_model_nor_the_end() {
    let stream = b"data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n\
data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],\"model\":\"gpt-4o-2024-08-06\"}\n\n";
    let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
    o.on_chunk(stream);
    assert_eq!(o.progress(), Progress::Open);
    assert_eq!(o.finish().model.as_deref(), Some("gpt-4o-2024-08-06"));
}

#[test]
fn a_2xx_error_object_is_a_failure() {
    let (r, _) = feed(
        200,
        "application/json",
        br#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
    );
    assert_eq!(r.error, Some(ErrorKind::Named("insufficient_quota")));
    let (r, _) = feed(200, "application/json", br#"{"error":{"message":"?"}}"#);
    assert_eq!(r.error, Some(PROVIDER_ERROR));
}

#[test]
fn a_non_2xx_body_names_its_error() {
    let (r, _) = feed(429, "application/json", br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#);
    assert_eq!(r.error, Some(ErrorKind::RateLimited));
    assert_eq!(r.usage, None);
}

#[test]
fn responses_json_and_stream_usage() {
    let json = br#"{"id":"resp_1","object":"response","status":"completed","model":"gpt-4.1-2025-04-14","error":null,"output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":123}}"#;
    let (r, _) = feed(200, "application/json", json);
    let expected = TokenUsage::new(36, 87)
        .with_cached_input(12)
        .with_reasoning(40);
    assert_eq!(r.usage, Some(expected));
    assert_eq!(r.error, None);
    assert_eq!(r.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    let stream = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"model\":\"gpt-4.1\",\"usage\":null}}\n\n\
event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-4.1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":12},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":40}}}}\n\n";
    let (r, progress) = feed(200, "text/event-stream", stream.as_bytes());
    assert_eq!(progress, Progress::Done);
    assert_eq!(r.usage, Some(expected));
    let failed = "data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"x\"},\"usage\":null}}\n\n";
    let (r, progress) = feed(200, "text/event-stream", failed.as_bytes());
    assert_eq!((r.error, progress), (Some(PROVIDER_ERROR), Progress::Done));
    let (r, progress) = feed(200, "text/event-stream", b"data: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}\n\n");
    assert_eq!(
        (r.error, progress),
        (Some(ErrorKind::RateLimited), Progress::Done)
    );
}

#[test]
fn embeddings_have_input_tokens_only() {
    let (r, _) = feed(200, "application/json", br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#);
    assert_eq!(r.usage, Some(TokenUsage::new(8, 0)));
}

#[test]
fn a_stream_asks_for_its_usage_unless_it_said_so() {
    let ask = |path: &str, body: &str| {
        OpenAiCompatible
            .ask_for_usage(path, body.as_bytes())
            .map(|b| String::from_utf8(b).unwrap())
    };
    let body = r#" {"model":"m","stream":true,"messages":[]}"#;
    let asked = ask("/v1/chat/completions", body).unwrap();
    assert_eq!(
        asked,
        r#" {"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}"#
    );
    let merged = ask(
        "/v1/chat/completions",
        r#"{"stream":true,"stream_options":{"x":1}}"#,
    )
    .unwrap();
    let merged: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(
        merged["stream_options"],
        serde_json::json!({"x": 1, "include_usage": true})
    );
    let unset = ask(
        "/v1/chat/completions",
        r#"{"stream":true,"stream_options":null}"#,
    )
    .unwrap();
    let unset: Value = serde_json::from_str(&unset).unwrap();
    assert_eq!(
        unset["stream_options"],
        serde_json::json!({"include_usage": true})
    );
    for (path, body) in [
        (
            "/v1/chat/completions",
            r#"{"stream":true,"stream_options":{"include_usage":false}}"#,
        ),
        ("/v1/chat/completions", r#"{"stream":false}"#),
        ("/v1/chat/completions", r#"{"messages":[]}"#),
        ("/v1/chat/completions", "not json"),
        ("/v1/responses", r#"{"stream":true}"#),
        ("/v1/embeddings", r#"{"stream":true}"#),
    ] {
        assert_eq!(ask(path, body), None, "{path} {body}");
    }
}

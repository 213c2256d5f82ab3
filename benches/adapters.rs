//! Per-chunk cost of the GenAI adapters reading a streamed answer: a chat of 256 content
//! chunks, one event per network chunk, in OpenAI's shape (`"finish_reason":null` in every
//! chunk, then the finish chunk, the usage chunk and `[DONE]`), Anthropic's (`ping`, text
//! deltas, `message_delta`, `message_stop`) and, for OpenAI, the Responses API's
//! (`response.output_text.delta` events, then `response.completed`). Each run makes the
//! observer, feeds every chunk and takes what it read, as the layer does for one call;
//! criterion reports the time per chunk.
//!
//! `cargo bench --bench adapters`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::HeaderMap;
use orchestrator_telemetry::orchestrator_tower::{
    AnthropicMessages, GenAi, OpenAiCompatible, ResponseObserver,
};

const CHUNKS: usize = 256;

fn openai_chat() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..CHUNKS)
        .map(|i| format!("data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" word{i}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n").into_bytes())
        .collect();
    out.push(b"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n".to_vec());
    out.push(b"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":256,\"total_tokens\":1456}}\n\n".to_vec());
    out.push(b"data: [DONE]\n\n".to_vec());
    out
}

fn openai_responses() -> Vec<Vec<u8>> {
    let mut out = vec![b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"usage\":null}}\n\n".to_vec()];
    out.extend((0..CHUNKS).map(|i| format!("event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"sequence_number\":{i},\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\" word{i}\"}}\n\n").into_bytes()));
    out.push(b"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\",\"usage\":{\"input_tokens\":1200,\"output_tokens\":256,\"total_tokens\":1456}}}\n\n".to_vec());
    out
}

fn anthropic() -> Vec<Vec<u8>> {
    let mut out = vec![b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-20250514\",\"usage\":{\"input_tokens\":1200,\"output_tokens\":1}}}\n\n".to_vec(),
        b"event: ping\ndata: {\"type\": \"ping\"}\n\n".to_vec()];
    out.extend((0..CHUNKS).map(|i| format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\" word{i}\"}}}}\n\n").into_bytes()));
    out.push(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":256}}\n\n".to_vec());
    out.push(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec());
    out
}

fn read<A: GenAi>(adapter: &A, headers: &HeaderMap, chunks: &[Vec<u8>]) {
    let mut observer = adapter.observer(200, headers);
    for chunk in chunks {
        observer.on_chunk(chunk);
    }
    black_box(observer.finish());
}

fn adapters(c: &mut Criterion) {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        "text/event-stream".parse().unwrap(),
    );
    let mut group = c.benchmark_group("adapter_chunk");
    let streams = [
        ("openai_chat", openai_chat()),
        ("openai_responses", openai_responses()),
        ("anthropic", anthropic()),
    ];
    for (name, chunks) in &streams {
        group.throughput(Throughput::Elements(chunks.len() as u64));
        match *name {
            "anthropic" => group.bench_function(*name, |b| {
                b.iter(|| read(&AnthropicMessages, &headers, chunks))
            }),
            _ => group.bench_function(*name, |b| {
                b.iter(|| read(&OpenAiCompatible, &headers, chunks))
            }),
        };
    }
    group.finish();
}

criterion_group!(benches, adapters);
criterion_main!(benches);

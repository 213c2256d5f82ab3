//! What a request's path says of an LLM call, for requests whose caller did not describe
//! them: the operation (`/v1/embeddings` is `embeddings`) and, for APIs that name the model
//! in the path (Gemini, Azure OpenAI deployments), the model.

use std::borrow::Cow;

use http::Request;

use super::llm::GenAiRequest;

/// `gen_ai.operation.name` of a request to `path`.
pub(crate) fn operation(path: &str) -> &'static str {
    if path.ends_with("/embeddings")
        || path.ends_with(":embedContent")
        || path.ends_with(":batchEmbedContents")
    {
        "embeddings"
    } else if path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent") {
        "generate_content"
    } else if path.ends_with("/completions") && !path.ends_with("/chat/completions") {
        "text_completion"
    } else {
        "chat"
    }
}

/// The model a path names: Gemini's `…/models/{model}:{method}`, Azure OpenAI's
/// `…/deployments/{deployment}/…` (the deployment stands for the model there).
pub(crate) fn model(path: &str) -> Option<&str> {
    let after = |marker: &str, end: char| {
        let start = path.find(marker)? + marker.len();
        let rest = &path[start..];
        let name = &rest[..rest.find(end).unwrap_or(rest.len())];
        (!name.is_empty()).then_some(name)
    };
    after("/models/", ':').or_else(|| after("/deployments/", '/'))
}

/// The description of a request to `path` whose caller set no [`GenAiRequest`]: the
/// operation from the path, the model from `body_model` (a JSON body's `"model"`, when the
/// client holds the body), else from the path, else `_OTHER`.
pub(crate) fn describe(
    path: &str,
    provider: Cow<'static, str>,
    body_model: Option<String>,
) -> GenAiRequest {
    let model = body_model.or_else(|| model(path).map(str::to_owned));
    GenAiRequest {
        operation: operation(path),
        provider,
        model: model.map_or(Cow::Borrowed("_OTHER"), Cow::Owned),
        prompt: None,
    }
}

/// What an adapter reads of a request: the caller's [`GenAiRequest`], else its path's
/// description for `provider`.
pub(crate) fn request<B>(request: &Request<B>, provider: &'static str) -> GenAiRequest {
    request
        .extensions()
        .get::<GenAiRequest>()
        .cloned()
        .unwrap_or_else(|| describe(request.uri().path(), Cow::Borrowed(provider), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_operations_and_models() {
        let cases = [
            ("/v1/chat/completions", "chat", None),
            ("/v1/responses", "chat", None),
            ("/v1/completions", "text_completion", None),
            ("/v1/embeddings", "embeddings", None),
            (
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                "generate_content",
                Some("gemini-2.5-flash"),
            ),
            (
                "/v1beta/models/text-embedding-004:embedContent",
                "embeddings",
                Some("text-embedding-004"),
            ),
            (
                "/openai/deployments/my-gpt-4o/chat/completions",
                "chat",
                Some("my-gpt-4o"),
            ),
            ("/openai/deployments//chat/completions", "chat", None),
        ];
        for (path, op, m) in cases {
            assert_eq!(operation(path), op, "{path}");
            assert_eq!(model(path), m, "{path}");
        }
    }
}

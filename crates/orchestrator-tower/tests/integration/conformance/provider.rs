//! A provider on loopback that answers each fixture over real HTTP, event by event, each
//! event in two pieces with a gap between them, and as told by the query:
//! - `hold`: the body stays open after the last event (a body that never ends);
//! - `cut`: the connection is cut after `cut_after` events;
//! - `slow`: 10 bytes, then nothing for 10 s (the reader drops before more comes);
//! - `usage=if-asked`: the usage chunk of a chat stream is sent only when the request asked
//!   for it with `stream_options.include_usage`, as OpenAI does.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use futures_util::{StreamExt as _, stream};
use http::Response;

use super::fixtures::{self, Fixture};

/// Starts the provider; its base URL.
pub async fn start() -> String {
    let app = axum::Router::new().fallback(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn query(request: &Request, key: &str) -> Option<String> {
    request.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_owned())
    })
}

/// The body's events (a JSON body is one event).
fn events(f: &Fixture) -> Vec<&'static str> {
    if !f.streamed() {
        return vec![f.body];
    }
    let separator = if f.body.contains("\r\n\r\n") {
        "\r\n\r\n"
    } else {
        "\n\n"
    };
    f.body
        .split_inclusive(separator)
        .filter(|e| !e.trim().is_empty())
        .collect()
}

type Piece = Result<Bytes, std::io::Error>;

async fn answer(request: Request) -> Response<Body> {
    let name = query(&request, "fixture").unwrap_or_default();
    let mode = query(&request, "mode").unwrap_or_default();
    let if_asked = query(&request, "usage").as_deref() == Some("if-asked");
    let Some(f) = fixtures::named(&name) else {
        return Response::builder()
            .status(404)
            .body(Body::from(format!("no fixture {name}")))
            .unwrap();
    };
    // Whether the caller asked a stream for its usage (the middleware adds it).
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let asked = String::from_utf8_lossy(&body).contains(r#""include_usage":true"#);
    let mut events = events(&f);
    if if_asked && !asked {
        events.retain(|e| !e.contains("\"choices\":[],\"usage\""));
    }
    let mut pieces: Vec<&'static str> = Vec::new();
    let cut = mode == "cut";
    for (i, event) in events.iter().enumerate() {
        if cut && i == f.cut_after {
            break;
        }
        let (a, b) = event.split_at(event.len() / 2);
        pieces.push(a);
        pieces.push(b);
    }
    let gap = |piece: &'static str| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok::<_, std::io::Error>(Bytes::from_static(piece.as_bytes()))
    };
    let body: stream::BoxStream<'static, Piece> = match mode.as_str() {
        "slow" => {
            let (first, rest) = f.body.split_at(10);
            stream::iter([first])
                .then(gap)
                .chain(stream::once(async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok(Bytes::from_static(rest.as_bytes()))
                }))
                .boxed()
        }
        "hold" => stream::iter(pieces)
            .then(gap)
            .chain(stream::pending())
            .boxed(),
        "cut" => stream::iter(pieces)
            .then(gap)
            .chain(stream::once(async {
                // Long enough for what was sent to be flushed before the cut.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("connection cut by the provider"))
            }))
            .boxed(),
        _ => stream::iter(pieces).then(gap).boxed(),
    };
    Response::builder()
        .status(f.status)
        .header("content-type", f.content_type)
        .body(Body::from_stream(body))
        .unwrap()
}

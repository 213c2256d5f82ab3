//! Fetching from the orchestrator and from Prometheus or Alertmanager: plain HTTP/1.1 with a
//! timeout, the body as sent (to measure compressed payloads), and the time it took.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// One answer.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The status code.
    pub status: u16,
    /// `Content-Encoding`, lower case, if any.
    pub encoding: Option<String>,
    /// The body as received (compressed if the server compressed it).
    pub body: Vec<u8>,
    /// From connecting to the last byte.
    pub elapsed: Duration,
}

/// `GET url` (an `http://host:port/path` URL) with extra `headers`.
pub fn get(url: &str, headers: &[(&str, &str)], timeout: Duration) -> Result<Fetched, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let started = Instant::now();
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{url}: cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: {authority} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{url}: send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{url}: read: {e}"))?;
    let elapsed = started.elapsed();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: malformed HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{url}: malformed status line"))?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let body = &raw[split + 4..];
    let body = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        dechunk(body).ok_or_else(|| format!("{url}: malformed chunked body"))?
    } else {
        body.to_vec()
    };
    Ok(Fetched {
        status,
        encoding: header("content-encoding:"),
        body,
        elapsed,
    })
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

/// `GET url` answering 200 with JSON.
pub fn json(
    url: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let fetched = get(url, headers, timeout)?;
    if fetched.status != 200 {
        return Err(format!("{url}: HTTP {}", fetched.status));
    }
    serde_json::from_slice(&fetched.body).map_err(|e| format!("{url}: not JSON: {e}"))
}

//! A minimal blocking HTTP/1.1 client for `http://` URLs, with timeouts and no async
//! runtime: the sampler fetches remote `/metrics` with it, and the alert sinks post to
//! webhooks and Alertmanager from their own threads. TLS is not supported (the build stays
//! free of a TLS stack); put Alertmanager or a local relay in front of `https` endpoints.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An `http://host:port/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    host: String,
    port: u16,
    path: String,
}

impl HttpUrl {
    /// Parses `http://host[:port][/path]`; the path defaults to `/metrics`. Anything else
    /// (another scheme, a bad port, no host) is an error saying what is wrong.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or("only http:// URLs are supported")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/metrics"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("invalid port `{p}`"))?,
            ),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err("missing host".into());
        }
        Ok(HttpUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The same host and port with another path.
    pub fn with_path(&self, path: &str) -> Self {
        HttpUrl {
            path: path.to_owned(),
            ..self.clone()
        }
    }
}

/// GETs the URL asking for the Prometheus text format; the body of a 200 answer, or why not.
pub fn get(url: &HttpUrl, timeout: Duration) -> Result<String, String> {
    get_accepting(url, "text/plain;version=0.0.4", timeout)
}

/// GETs a JSON API; the body of a 200 answer, or why not.
pub fn get_json(url: &HttpUrl, timeout: Duration) -> Result<String, String> {
    get_accepting(url, "application/json", timeout)
}

fn get_accepting(url: &HttpUrl, accept: &str, timeout: Duration) -> Result<String, String> {
    let (status, body) = request(url, "GET", accept, None, timeout)?;
    if status != 200 {
        return Err(format!("HTTP status {status}"));
    }
    String::from_utf8(body).map_err(|_| "body is not UTF-8".to_owned())
}

/// POSTs a JSON body; the status and body of the answer, or why there was none.
pub fn post_json(url: &HttpUrl, json: &str, timeout: Duration) -> Result<(u16, String), String> {
    let (status, body) = request(
        url,
        "POST",
        "application/json",
        Some(json.as_bytes()),
        timeout,
    )?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn request(
    url: &HttpUrl,
    method: &str,
    accept: &str,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", url.host))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let head = match body {
        Some(body) => format!(
            "{method} {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nAccept: {accept}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            url.path,
            url.host,
            url.port,
            body.len()
        ),
        None => format!(
            "{method} {} HTTP/1.1\r\nHost: {}:{}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            url.path, url.host, url.port
        ),
    };
    // One write of the whole request: a server that answers after its first read and
    // closes must not find part of the request still unread (it would reset the connection).
    let mut request = head.into_bytes();
    request.extend_from_slice(body.unwrap_or_default());
    stream
        .write_all(&request)
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed status line")?;
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("malformed chunk")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "malformed chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = HttpUrl::parse("http://127.0.0.1:9464/metrics").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9464, "/metrics")
        );
        assert_eq!(HttpUrl::parse("http://localhost").unwrap().port, 80);
        assert_eq!(u.with_path("/api/v2/alerts").path, "/api/v2/alerts");
        assert!(HttpUrl::parse("https://x/metrics").is_err());
        assert!(HttpUrl::parse("http://:80/").is_err());
        assert!(HttpUrl::parse("http://h:99999/").is_err());
    }

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"9\r\nab").is_err());
    }
}

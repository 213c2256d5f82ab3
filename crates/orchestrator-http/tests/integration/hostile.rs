//! Hostile servers: a reply that never ends, a body over the cap, one byte every 2 s, a
//! redirect loop. Each call ends within its deadline with a typed error, and memory stays
//! flat. Plus IPv6 literals and unreachable ports.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use orchestrator_http::{HttpClient, HttpError};
use orchestrator_testkit::server::{RecordingServer, closed_port};

/// Serves every connection on its own thread with `answer`, after reading the request head.
fn hostile(answer: fn(&mut TcpStream, u16)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                answer(&mut stream, port);
            });
        }
    });
    format!("http://127.0.0.1:{port}/hook")
}

fn endless(stream: &mut TcpStream, _: u16) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    let chunk = format!("{:x}\r\n{}\r\n", 16 << 10, "x".repeat(16 << 10));
    while stream.write_all(chunk.as_bytes()).is_ok() {}
}

fn oversized(stream: &mut TcpStream, _: u16) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nxxxx");
    std::thread::sleep(Duration::from_secs(5));
}

fn drip(stream: &mut TcpStream, _: u16) {
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn redirect_loop(stream: &mut TcpStream, port: u16) {
    let _ = write!(
        stream,
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/hook\r\nContent-Length: 0\r\n\r\n"
    );
}

fn client(deadline: Duration) -> HttpClient {
    HttpClient::builder().deadline(deadline).build().unwrap()
}

#[test]
fn an_endless_reply_stops_at_the_cap() {
    let url = hostile(endless);
    let started = Instant::now();
    let err = client(Duration::from_secs(5))
        .post_json(&url, b"{}", &[])
        .unwrap_err();
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_declared_body_over_the_cap_is_refused_before_reading() {
    let url = hostile(oversized);
    let started = Instant::now();
    let err = client(Duration::from_secs(5)).get(&url, &[]).unwrap_err();
    assert!(matches!(err, HttpError::BodyTooLarge { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn one_byte_every_two_seconds_ends_at_the_deadline() {
    let url = hostile(drip);
    let started = Instant::now();
    let err = client(Duration::from_secs(3)).get(&url, &[]).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, HttpError::Deadline { deadline, .. } if deadline == Duration::from_secs(3)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[test]
fn a_redirect_loop_is_not_followed_unless_asked_and_then_bounded() {
    let url = hostile(redirect_loop);
    let reply = client(Duration::from_secs(5)).get(&url, &[]).unwrap();
    assert_eq!(reply.status, 302, "no redirect followed by default");
    let err = client(Duration::from_secs(5))
        .post_json(&url, b"{}", &[])
        .unwrap_err();
    assert_eq!(err.status(), Some(302), "{err:?}");
    assert!(!err.is_retryable());
    let following = HttpClient::builder().redirects(5).build().unwrap();
    let started = Instant::now();
    let err = following.get(&url, &[]).unwrap_err();
    assert!(
        matches!(err, HttpError::Redirects { limit: 5, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn memory_stays_flat_against_endless_replies() {
    let url = hostile(endless);
    let client = client(Duration::from_secs(5));
    // Warm up (runtime, allocator arenas), then measure.
    for _ in 0..3 {
        let _ = client.get(&url, &[]);
    }
    let before = resident_kib();
    for _ in 0..30 {
        let err = client.get(&url, &[]).unwrap_err();
        assert!(matches!(err, HttpError::BodyTooLarge { .. }), "{err:?}");
    }
    let grown = resident_kib().saturating_sub(before);
    // 30 replies of "infinite" size read through a 1 MiB cap: growth stays within a few caps.
    assert!(grown < 8 * 1024, "resident memory grew by {grown} KiB");
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn an_ipv6_literal_reaches_a_server_on_the_ipv6_loopback() {
    let server = RecordingServer::start("[::1]:0", None, |_| (200, "{\"ok\":true}".into()));
    let url = format!("{}/api/v2/status", server.url());
    assert!(url.starts_with("http://[::1]:"), "{url}");
    let value = client(Duration::from_secs(5)).get_json(&url, &[]).unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(server.requests()[0].path, "/api/v2/status");
}

#[test]
fn an_unreachable_port_is_a_retryable_connect_error_naming_only_the_endpoint() {
    let port = closed_port();
    let url = format!("http://user:pa55word@127.0.0.1:{port}/services/T0/B0/SECRET?token=t0k");
    let err = client(Duration::from_secs(5))
        .post_json(&url, b"{}", &[])
        .unwrap_err();
    assert!(matches!(err, HttpError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    let text = format!("{err} {err:?}");
    assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
    for secret in ["pa55word", "SECRET", "t0k", "user"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn other_schemes_and_bad_headers_are_invalid() {
    let c = client(Duration::from_secs(1));
    assert!(matches!(
        c.get("ftp://127.0.0.1/x", &[]),
        Err(HttpError::InvalidUrl { .. })
    ));
    assert!(matches!(
        c.get("not a url", &[]),
        Err(HttpError::InvalidUrl { .. })
    ));
    let err = c
        .get("http://127.0.0.1:1/", &[("Authorization", "Bearer a\nb")])
        .unwrap_err();
    assert!(matches!(err, HttpError::InvalidUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("Bearer"), "{err}");
}

#[tokio::test]
async fn it_works_from_inside_a_tokio_runtime_too() {
    let server = RecordingServer::start("127.0.0.1:0", None, |_| (200, "{}".into()));
    let reply = client(Duration::from_secs(5))
        .get(&format!("{}/x", server.url()), &[])
        .unwrap();
    assert_eq!(reply.status, 200);
}

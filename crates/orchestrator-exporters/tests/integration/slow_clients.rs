//! Issue 14, row 3: a slow client cannot hold the telemetry listener. A half-sent request
//! is closed after the header-read timeout, and shutdown returns within its deadline while
//! one is open.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use orchestrator_exporters::{
    HEADER_READ_TIMEOUT, MetricsEndpoint, MetricsServer, SHUTDOWN_DEADLINE,
};
use orchestrator_metrics::Registry;

fn half_request(server: &MetricsServer) -> TcpStream {
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    stream
}

#[test]
fn shutdown_returns_within_its_deadline_with_a_half_sent_request_open() {
    let server = MetricsServer::bind(
        "127.0.0.1:0",
        MetricsEndpoint::new(Registry::new()).router(),
    )
    .unwrap();
    let _slow = half_request(&server);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    assert!(
        took <= SHUTDOWN_DEADLINE + Duration::from_secs(1),
        "shutdown took {took:?}"
    );
}

#[test]
fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    let server = MetricsServer::bind(
        "127.0.0.1:0",
        MetricsEndpoint::new(Registry::new()).router(),
    )
    .unwrap();
    let mut slow = half_request(&server);
    slow.set_read_timeout(Some(HEADER_READ_TIMEOUT + Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    // The server answers 408 or just closes; either way the read ends.
    let _ = slow.read_to_end(&mut rest);
    let took = started.elapsed();
    assert!(
        took >= HEADER_READ_TIMEOUT - Duration::from_secs(1)
            && took <= HEADER_READ_TIMEOUT + Duration::from_secs(3),
        "closed after {took:?}"
    );
    // The listener still serves others.
    let mut ok = TcpStream::connect(server.local_addr()).unwrap();
    ok.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown();
}

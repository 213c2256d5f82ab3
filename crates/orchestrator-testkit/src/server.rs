//! A recording HTTP/1.1 server on a thread, over TLS or plain TCP: it plays a Slack webhook,
//! the PagerDuty Events API or an OTLP/HTTP receiver in tests, and keeps every request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Respond = dyn Fn(&Recorded) -> (u16, String) + Send + Sync;

/// The server. Stops accepting when dropped (its thread ends at the next connection).
pub struct RecordingServer {
    addr: SocketAddr,
    tls: bool,
    requests: Arc<Mutex<Vec<Recorded>>>,
    handshake_failures: Arc<Mutex<u32>>,
}

impl RecordingServer {
    /// Listens on `bind` (`127.0.0.1:0`, `[::1]:0`), over TLS when `tls` is given, answering
    /// each request with `respond`'s status and body.
    pub fn start(
        bind: &str,
        tls: Option<Arc<rustls::ServerConfig>>,
        respond: impl Fn(&Recorded) -> (u16, String) + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(bind).expect("bind the test server");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handshake_failures = Arc::new(Mutex::new(0));
        let server = RecordingServer {
            addr,
            tls: tls.is_some(),
            requests: requests.clone(),
            handshake_failures: handshake_failures.clone(),
        };
        let respond: Arc<Respond> = Arc::new(respond);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (tls, requests, failures, respond) = (
                    tls.clone(),
                    requests.clone(),
                    handshake_failures.clone(),
                    respond.clone(),
                );
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    match tls {
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let mut tls = rustls::StreamOwned::new(conn, stream);
                            // Complete the handshake first, to count refused clients.
                            while tls.conn.is_handshaking() {
                                if tls.conn.complete_io(&mut tls.sock).is_err() {
                                    *failures.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                                    return;
                                }
                            }
                            serve(tls, &requests, respond.as_ref());
                        }
                        None => serve(stream, &requests, respond.as_ref()),
                    }
                });
            }
        });
        server
    }

    /// `https://127.0.0.1:PORT` (or `http://`; `[::1]` for IPv6).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// TLS handshakes that failed (an untrusted server certificate on the client's side, a
    /// missing client certificate on ours).
    pub fn handshake_failures(&self) -> u32 {
        *self
            .handshake_failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for `n` requests.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n || std::time::Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve<S: Read + Write>(stream: S, requests: &Mutex<Vec<Recorded>>, respond: &Respond) {
    // One request per connection (`Connection: close` in the answer).
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Recorded {
        method,
        path,
        headers,
        body,
    };
    let (status, answer) = respond(&request);
    requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    let stream = reader.get_mut();
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.flush();
}

/// Connects to nothing: a free loopback port with no listener (for "unreachable" tests).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether a TCP connection to `addr` succeeds (a readiness probe).
pub fn reachable(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_millis(200)).ok())
        .is_some()
}

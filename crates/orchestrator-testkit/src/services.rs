//! Real backing services started by a test on a free loopback port, stopped on drop:
//! `redis-server` and `prometheus-alertmanager` (Debian packages of the same names).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_listening(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `GET /-/ready` on the port answers 200.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// A `redis-server` without persistence.
#[derive(Debug)]
pub struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Starts one; a missing `redis-server` fails the test, naming its package.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts it again on its port, empty (it keeps nothing), after [`stop`](Self::stop):
    /// what a client sees when Redis comes back.
    pub fn restart(&mut self) {
        self.stop();
        *self = Self::start_on(self.port);
    }

    fn start_on(port: u16) -> Self {
        let binary = crate::tool("redis-server", "redis-server");
        let mut child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        wait_listening(port, "redis-server", &mut child);
        Redis { child, port }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops it (the test then sees Redis go away).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `prometheus-alertmanager` with a given configuration, not clustered.
#[derive(Debug)]
pub struct Alertmanager {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts one with `config` (YAML); fails the test if it does not become ready.
    pub fn start(config: &str) -> Self {
        let binary = crate::tool("prometheus-alertmanager", "prometheus-alertmanager");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("alertmanager.yml");
        std::fs::write(&file, config).expect("write alertmanager.yml");
        let port = free_port();
        let mut child = Command::new(binary)
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.path={}",
                Path::new(dir.path()).join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager");
        wait_listening(port, "prometheus-alertmanager", &mut child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready(port) {
            assert!(
                Instant::now() < deadline,
                "Alertmanager not ready on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Alertmanager {
            child,
            port,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, as Prometheus's `alertmanagers` targets want it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

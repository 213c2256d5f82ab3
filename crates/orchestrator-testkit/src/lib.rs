//! Test helpers shared by the workspace's crates (a dev-dependency only).
//!
//! - [`golden`]: compares generated text with a file under the crate's `tests/golden/`, or
//!   rewrites it when `UPDATE_GOLDEN` is set.
//! - [`tool`]: the path of a real tool (promtool, amtool, chromium...) on `PATH`; a missing
//!   one fails the test with how to install it, never skips.
//! - [`run`]: runs a tool in a directory and returns whether it succeeded and what it said.
//! - [`alloc`]: a counting global allocator, for allocation-free paths.
//! - [`logs`]: a buffer to give a `tracing` subscriber as its writer, read back by the test.
//! - `pki` and `server` (feature `tls`): a test CA with certificates for `127.0.0.1`, `::1`
//!   and `localhost`, and a recording HTTP/1.1 server over TLS or plain TCP; `smtp`, a real
//!   SMTP server (aiosmtpd).
//! - `services` (feature `services`): a real Redis and a real Alertmanager on free ports.
//! - `otlp` (feature `otlp`): real OTLP/gRPC and OTLP/HTTP receivers built from the official
//!   `opentelemetry-proto` definitions.

pub mod alloc;
pub mod logs;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "otlp")]
pub mod otlp_metrics;
#[cfg(feature = "tls")]
pub mod pki;
#[cfg(feature = "provider")]
pub mod provider;
#[cfg(feature = "tls")]
pub mod server;
#[cfg(feature = "services")]
pub mod services;
#[cfg(feature = "tls")]
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Asserts that `actual` equals `manifest_dir/tests/golden/name`; with `UPDATE_GOLDEN` set,
/// writes it instead. Pass `env!("CARGO_MANIFEST_DIR")`.
pub fn golden(manifest_dir: &str, name: &str, actual: &str) {
    let path = Path::new(manifest_dir).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create tests/golden");
        }
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs; run with UPDATE_GOLDEN=1 if the change is intended",
        path.display()
    );
}

/// The path of `name` on `PATH`. A missing tool fails the test, naming the Debian package
/// `scripts/test` installs it from.
pub fn tool(name: &str, debian_package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed. Run `scripts/test`, which installs it \
                 (Debian package `{debian_package}`), or `apt-get install -y {debian_package}`."
            )
        })
}

/// Runs `program` with `args` in `dir`: (success, stdout then stderr).
pub fn run(program: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} could not run: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

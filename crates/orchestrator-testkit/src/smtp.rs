//! A real SMTP server for tests: Debian's aiosmtpd (package `python3-aiosmtpd`), run with
//! Debian's Python on a free loopback port, storing messages in a maildir, or refusing every
//! recipient with a chosen reply code.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The refusing handler (`smtp/refusing.py` in this crate).
const REFUSING_PY: &str = include_str!("../smtp/refusing.py");

/// aiosmtpd, run with Debian's Python (`/usr/bin/python3`, where `python3-aiosmtpd` is).
pub struct Smtp {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Smtp {
    /// A server storing messages in a maildir, with extra aiosmtpd arguments.
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        args.extend([
            "-c".to_owned(),
            "aiosmtpd.handlers.Mailbox".to_owned(),
            maildir.display().to_string(),
        ]);
        Self::spawn(dir, &args)
    }

    /// A server answering every RCPT TO with `code` (see `smtp/refusing.py` in this crate).
    pub fn refusing(code: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("rcpt.log");
        let args = vec![
            "-c".to_owned(),
            "refusing.Refusing".to_owned(),
            code.to_owned(),
            log.display().to_string(),
        ];
        Self::spawn(dir, &args)
    }

    fn spawn(dir: tempfile::TempDir, handler: &[String]) -> Self {
        let python = "/usr/bin/python3";
        assert!(
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .status()
                .is_ok_and(|s| s.success()),
            "aiosmtpd is not installed: run scripts/test, or apt-get install -y python3-aiosmtpd"
        );
        // The handler's source travels in the binary: a test binary reused from a build in
        // another checkout (a shared target directory) would look for it under that path.
        let here = dir.path().join("handlers");
        std::fs::create_dir_all(&here).unwrap();
        std::fs::write(here.join("refusing.py"), REFUSING_PY).unwrap();
        // A free port can be taken by another test before aiosmtpd binds it: then aiosmtpd
        // exits, and it is started again on another port. A loaded machine (the whole suite
        // on two cores) can take seconds to start Python, hence the long deadline.
        for _attempt in 0..3 {
            let port = crate::server::closed_port();
            let addr = format!("127.0.0.1:{port}");
            let mut child = Command::new(python)
                .env("PYTHONPATH", &here)
                .args(["-m", "aiosmtpd", "-n", "-l", &addr])
                .args(handler)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start aiosmtpd");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if crate::server::reachable(&addr) {
                    return Smtp { addr, child, dir };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // exited: the port was taken; try another
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("aiosmtpd did not listen on {addr} within 30 s");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("aiosmtpd exited three times without listening (ports taken?)");
    }

    /// Waits up to 10 s for `n` messages in the maildir; returns them, oldest first.
    pub fn messages(&self, n: usize) -> Vec<String> {
        let new = self.dir.path().join("maildir/new");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut files: Vec<_> = std::fs::read_dir(&new)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            if files.len() >= n || Instant::now() >= deadline {
                files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
                return files
                    .iter()
                    .map(|p| std::fs::read_to_string(p).unwrap())
                    .collect();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// RCPT TO commands the refusing server received.
    pub fn rcpt_attempts(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("rcpt.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

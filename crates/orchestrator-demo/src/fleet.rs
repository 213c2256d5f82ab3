//! What a replica of the demo does to live in a fleet: claim its `--instance` name in the
//! shared Redis, so a second replica started under the same name is warned about.

use std::time::Duration;

/// How long a claim lasts without being renewed; a replica renews it every third of that.
pub const CLAIM_TTL: Duration = Duration::from_secs(60);

/// The Redis key holding the claim on `instance`.
pub fn claim_key(instance: &str) -> String {
    format!("orchestrator:instances:{instance}")
}

/// What claiming a name found.
#[derive(Debug)]
pub enum Claim {
    /// The name is this replica's, renewed while the guard lives and released when it is
    /// dropped.
    Ours(Box<ClaimGuard>),
    /// Another replica holds the name (or one of that name stopped less than
    /// [`CLAIM_TTL`] ago without releasing it): its description (`pid N, metrics on ADDR`).
    Taken(String),
}

/// Holds a claimed name: renews it every [`CLAIM_TTL`] / 3, and releases it on drop (when
/// it still holds this replica's description), so a replica restarted under the same name
/// is not warned about.
#[derive(Debug)]
pub struct ClaimGuard {
    client: redis::Client,
    key: String,
    me: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Runs `f` on a connection to `client`, with a 2 s timeout.
fn with_connection<T>(
    client: &redis::Client,
    f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
) -> redis::RedisResult<T> {
    let mut con = client.get_connection_with_timeout(Duration::from_secs(2))?;
    con.set_read_timeout(Some(Duration::from_secs(2)))?;
    f(&mut con)
}

/// Sets `key` to `me` for [`CLAIM_TTL`] if it is free or already `me`.
fn renew(con: &mut redis::Connection, key: &str, me: &str) -> redis::RedisResult<bool> {
    let holder: Option<String> = redis::cmd("GET").arg(key).query(con)?;
    if holder.as_deref().is_some_and(|h| h != me) {
        return Ok(false);
    }
    redis::cmd("SET")
        .arg(key)
        .arg(me)
        .arg("EX")
        .arg(CLAIM_TTL.as_secs())
        .query::<()>(con)?;
    Ok(true)
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = with_connection(&self.client, |con| {
            let holder: Option<String> = redis::cmd("GET").arg(&self.key).query(con)?;
            if holder.as_deref() == Some(self.me.as_str()) {
                redis::cmd("DEL").arg(&self.key).query::<()>(con)?;
            }
            Ok(())
        });
    }
}

/// Claims `instance` for this replica, described by `me`, in the Redis at `url`: `SET NX`
/// with an expiry of [`CLAIM_TTL`]. Blocking (2 s timeouts); call it off the runtime's
/// workers.
pub fn claim(url: &str, instance: &str, me: &str) -> Result<Claim, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let key = claim_key(instance);
    let set: Option<String> = with_connection(&client, |con| {
        redis::cmd("SET")
            .arg(&key)
            .arg(me)
            .arg("NX")
            .arg("EX")
            .arg(CLAIM_TTL.as_secs())
            .query(con)
    })?;
    if set.is_none() {
        let holder: Option<String> =
            with_connection(&client, |con| redis::cmd("GET").arg(&key).query(con))?;
        return Ok(Claim::Taken(holder.unwrap_or_else(|| "unknown".to_owned())));
    }
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let renewer = (client.clone(), key.clone(), me.to_owned());
    let thread = std::thread::Builder::new()
        .name("demo-instance-claim".into())
        .spawn(move || {
            let (client, key, me) = renewer;
            // Until the guard is dropped; an unreachable Redis is retried next round.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CLAIM_TTL / 3)
            {
                let _ = with_connection(&client, |con| renew(con, &key, &me));
            }
        })
        .map_err(|e| redis::RedisError::from(std::io::Error::other(e)))?;
    Ok(Claim::Ours(Box::new(ClaimGuard {
        client,
        key,
        me: me.to_owned(),
        stop: Some(stop),
        thread: Some(thread),
    })))
}

//! Distinct users over sliding windows of UTC days, and churn.

mod local;
#[cfg(feature = "redis")]
mod redis;

pub use local::LocalActivity;
#[cfg(feature = "redis")]
pub(crate) use redis::redact;
#[cfg(feature = "redis")]
pub use redis::{MAX_USER_ID_BYTES, RedisActivity, RedisActivityConfig};

/// The windows distinct users are counted over, in days (the `window` label values
/// `1d`, `7d`, `30d`).
pub const WINDOWS: [(u32, &str); 3] = [(1, "1d"), (7, "7d"), (30, "30d")];

/// Distinct users at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivityCounts {
    /// Distinct users over the last 1, 7 and 30 days (today included).
    pub active: [u64; 3],
    /// Share of the previous 30-day window's users absent from the current one; `None`
    /// when the previous window had no users.
    pub churn: Option<f64>,
}

impl ActivityCounts {
    /// Monthly (30-day) active users.
    pub fn monthly(&self) -> u64 {
        self.active[2]
    }
}

/// Why distinct users could not be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot count distinct users: {0}")]
pub struct ActivityError(pub String);

/// Where distinct users are counted: in this process, or in Redis shared by every replica.
pub trait ActivityBackend: Send + Sync + std::fmt::Debug {
    /// Records that `user` was active now. Never blocks on I/O.
    fn record(&self, user: &str);

    /// Counts distinct users as of `now`.
    fn counts(&self, now: orchestrator_support::Millis) -> Result<ActivityCounts, ActivityError>;

    /// Whose users the counts are: this replica's (the default) or the whole fleet's.
    fn scope(&self) -> ActivityScope {
        ActivityScope::Replica
    }

    /// Waits until the users recorded so far are where `counts` reads them (nothing to
    /// do for an in-process backend).
    fn flush(&self) {}
}

/// Whose distinct users an [`ActivityBackend`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityScope {
    /// Only the users this process saw.
    Replica,
    /// Every replica's users (a shared store such as Redis).
    Fleet,
}

impl ActivityScope {
    /// `replica` or `fleet`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityScope::Replica => "replica",
            ActivityScope::Fleet => "fleet",
        }
    }
}

/// Whether distinct users could be counted at the last attempt, shared between the
/// [`activity_hook`](crate::activity_hook) that counts and the readers that show the figure
/// (the live page, a summary): while the count fails, the `orchestrator_active_users`
/// series are absent and this says why.
#[derive(Debug, Clone)]
pub struct ActivityStatus {
    scope: ActivityScope,
    error: std::sync::Arc<std::sync::RwLock<Option<String>>>,
}

impl ActivityStatus {
    /// The status of counting with a backend of `scope`; available until a count fails.
    pub fn new(scope: ActivityScope) -> Self {
        ActivityStatus {
            scope,
            error: std::sync::Arc::default(),
        }
    }

    /// Whose users are counted.
    pub fn scope(&self) -> ActivityScope {
        self.scope
    }

    /// Why the last count failed; none when it succeeded.
    pub fn error(&self) -> Option<String> {
        self.error
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the last count succeeded.
    pub fn is_available(&self) -> bool {
        self.error
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
    }

    pub(crate) fn set(&self, error: Option<String>) {
        *self
            .error
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    }
}

/// Churn from the distinct users of the previous window, the current one, and their union:
/// `(|previous ∪ current| - |current|) / |previous|`.
pub(crate) fn churn(previous: u64, current: u64, union: u64) -> Option<f64> {
    if previous == 0 {
        return None;
    }
    let churned = union.saturating_sub(current) as f64;
    Some((churned / previous as f64).clamp(0.0, 1.0))
}

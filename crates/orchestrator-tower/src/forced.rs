//! The cap on traces a caller forces: sampled because an incoming `traceparent` said so,
//! where this service's own ratio would not have sampled them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The default number of parent-forced traces admitted per second.
pub const DEFAULT_MAX_FORCED_PER_SECOND: u32 = 100;

/// A fixed one-second window: the second (upper 40 bits) and how many traces it admitted
/// (lower 24), in one atomic.
#[derive(Debug)]
pub(crate) struct ForcedLimit {
    per_second: u32,
    window: AtomicU64,
}

const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

impl ForcedLimit {
    pub(crate) fn new(per_second: u32) -> Self {
        ForcedLimit {
            per_second: if per_second == u32::MAX {
                u32::MAX
            } else {
                per_second.min(COUNT_MASK as u32)
            },
            window: AtomicU64::new(0),
        }
    }

    /// Whether there is no cap.
    pub(crate) fn max_admitted(&self) -> bool {
        self.per_second == u32::MAX
    }

    /// Whether one more forced trace fits in the current second.
    pub(crate) fn admit(&self) -> bool {
        self.admit_at(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }

    fn admit_at(&self, second: u64) -> bool {
        let mut current = self.window.load(Ordering::Relaxed);
        loop {
            let (at, count) = (current >> COUNT_BITS, current & COUNT_MASK);
            let next = if at == second & (u64::MAX >> COUNT_BITS) {
                if count >= u64::from(self.per_second) {
                    return false;
                }
                current + 1
            } else {
                (second << COUNT_BITS) | 1
            };
            if self.per_second == 0 {
                return false;
            }
            match self.window.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(seen) => current = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_cap_per_second() {
        let limit = ForcedLimit::new(3);
        let admitted = (0..10).filter(|_| limit.admit_at(1_000)).count();
        assert_eq!(admitted, 3);
        assert!(limit.admit_at(1_001), "a new second starts a new window");
        assert!(!ForcedLimit::new(0).admit_at(5));
    }
}

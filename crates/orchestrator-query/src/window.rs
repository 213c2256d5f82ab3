//! Range windows (`[5m]`, `[30d]`), in whole milliseconds.

use std::fmt;
use std::time::Duration;

use crate::ExprError;

/// The length of a range selector. Rendered in PromQL's duration syntax with the largest
/// unit that divides it (`30d`, `1h`, `90s`, `1500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window(u64);

impl Window {
    /// A window of `d`, which must be at least one millisecond and a whole number of them.
    pub fn new(d: Duration) -> Result<Self, ExprError> {
        let ms = d.as_millis();
        if ms == 0
            || !d.subsec_nanos().is_multiple_of(1_000_000)
            || ms > u128::from(u32::MAX) * 1000
        {
            return Err(ExprError::InvalidWindow { window: d });
        }
        Ok(Window(ms as u64))
    }

    /// A window of whole seconds (`0` is an error).
    pub fn secs(s: u64) -> Result<Self, ExprError> {
        Self::new(Duration::from_secs(s))
    }

    /// A window of whole minutes.
    pub fn minutes(m: u64) -> Result<Self, ExprError> {
        Self::secs(m.saturating_mul(60))
    }

    /// A window of whole hours.
    pub fn hours(h: u64) -> Result<Self, ExprError> {
        Self::secs(h.saturating_mul(3600))
    }

    /// A window of whole days.
    pub fn days(d: u64) -> Result<Self, ExprError> {
        Self::secs(d.saturating_mul(86_400))
    }

    /// `self + other` (saturating at the longest window).
    pub fn plus(self, other: Window) -> Window {
        Window(
            self.0
                .saturating_add(other.0)
                .min(u64::from(u32::MAX) * 1000),
        )
    }

    /// The length in milliseconds.
    pub fn millis(self) -> i64 {
        self.0 as i64
    }

    /// The length as a `Duration`.
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.0)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 5] = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
            (1, "ms"),
        ];
        for (scale, unit) in UNITS {
            if self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_the_largest_exact_unit() {
        assert_eq!(Window::days(30).unwrap().to_string(), "30d");
        assert_eq!(Window::hours(1).unwrap().to_string(), "1h");
        assert_eq!(Window::minutes(90).unwrap().to_string(), "90m");
        assert_eq!(Window::secs(45).unwrap().to_string(), "45s");
        assert_eq!(
            Window::new(Duration::from_millis(1500))
                .unwrap()
                .to_string(),
            "1500ms"
        );
    }

    #[test]
    fn invalid_windows_are_errors() {
        assert!(Window::secs(0).is_err());
        assert!(Window::new(Duration::from_micros(1500)).is_err());
    }
}

//! UTC days: the unit distinct users are bucketed by.

use orchestrator_support::Millis;

/// Days since the Unix epoch (UTC) of a timestamp.
pub(crate) fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(86_400_000)
}

/// A day as `YYYY-MM-DD`.
#[cfg(any(feature = "redis", test))]
pub(crate) fn date(day: i64) -> String {
    let (y, m, d) = orchestrator_support::civil_date(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(day_of(951_782_400_000)), "2000-02-29");
        assert_eq!(date(day_of(1_795_392_000_000)), "2026-11-23");
        assert_eq!(day_of(-1), -1);
    }
}

//! UTC days: the unit distinct users are bucketed by.

use orchestrator_query::Millis;

/// Days since the Unix epoch (UTC) of a timestamp.
pub(crate) fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(86_400_000)
}

/// A day as `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
#[cfg(any(feature = "redis", test))]
pub(crate) fn date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
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

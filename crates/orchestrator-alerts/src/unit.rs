//! The unit of a rule's value, so that a notification says `4.06 s` or `176 %` instead of
//! `4.0612345` or `1.7558333333333331`.

use orchestrator_support::significant;

/// What a rule's value measures, which decides how notifications print it. Values keep
/// three significant digits (never fewer than the integer part), trailing zeros dropped.
///
/// ```
/// use orchestrator_alerts::Unit;
///
/// assert_eq!(Unit::Ratio.format(1.7558333333333331), "176 %");
/// assert_eq!(Unit::Ratio.format(0.012345), "1.23 %");
/// assert_eq!(Unit::Seconds.format(4.0612), "4.06 s");
/// assert_eq!(Unit::Seconds.format(0.243_4), "243 ms");
/// assert_eq!(Unit::Factor.format(1.7558), "1.76 ×");
/// assert_eq!(Unit::Usd.format(12.3456), "$12.35");
/// assert_eq!(Unit::Bytes.format(1_610_612_736.0), "1.5 GiB");
/// assert_eq!(Unit::Number.format(6.25), "6.25");
/// assert_eq!(Unit::Seconds.format(f64::NAN), "NaN");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A plain number (a score, a count): `6.25`, `5000`.
    #[default]
    Number,
    /// A share where 1 is all: printed as a percentage, `1.23 %`, `176 %`.
    Ratio,
    /// A duration in seconds: `243 ms`, `4.06 s`.
    Seconds,
    /// How many times a reference (a budget, a rate): `1.76 ×`.
    Factor,
    /// US dollars: `$12.35`, `$0.0123`.
    Usd,
    /// Bytes, in binary multiples: `512 B`, `1.5 GiB`.
    Bytes,
}

impl Unit {
    /// `value` in this unit, for people. NaN and infinities print as Prometheus prints them
    /// (`NaN`, `+Inf`, `-Inf`).
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return crate::notify::format_value(value);
        }
        match self {
            Unit::Number => significant(value),
            Unit::Ratio => format!("{} %", significant(value * 100.0)),
            Unit::Factor => format!("{} ×", significant(value)),
            Unit::Seconds => {
                let magnitude = value.abs();
                if magnitude >= 1.0 || magnitude == 0.0 {
                    format!("{} s", significant(value))
                } else if magnitude >= 1e-3 {
                    format!("{} ms", significant(value * 1e3))
                } else {
                    format!("{} µs", significant(value * 1e6))
                }
            }
            Unit::Usd if value.abs() >= 1.0 => format!("${value:.2}"),
            Unit::Usd => format!("${}", significant(value)),
            Unit::Bytes => {
                const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
                let mut scaled = value;
                let mut unit = 0;
                while scaled.abs() >= 1024.0 && unit + 1 < UNITS.len() {
                    scaled /= 1024.0;
                    unit += 1;
                }
                format!("{} {}", significant(scaled), UNITS[unit])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_at_every_magnitude() {
        for (value, shown) in [
            (1.0, "1"),
            (0.999_9, "1"),
            (12.345, "12.3"),
            (123.45, "123"),
            (17_558.3, "17558"),
            (0.001_234_5, "0.00123"),
            (-2.5, "-2.5"),
            (-0.000_1, "-0.0001"),
            (1e-15, "0"),
        ] {
            assert_eq!(significant(value), shown, "{value}");
        }
    }

    #[test]
    fn every_unit_prints_its_symbol() {
        assert_eq!(Unit::Ratio.format(0.8), "80 %");
        assert_eq!(Unit::Ratio.format(0.0), "0 %");
        assert_eq!(Unit::Seconds.format(0.0), "0 s");
        assert_eq!(Unit::Seconds.format(0.000_25), "250 µs");
        assert_eq!(Unit::Seconds.format(125.0), "125 s");
        assert_eq!(Unit::Usd.format(0.012_345), "$0.0123");
        assert_eq!(Unit::Bytes.format(512.0), "512 B");
        assert_eq!(Unit::Factor.format(f64::INFINITY), "+Inf");
    }
}

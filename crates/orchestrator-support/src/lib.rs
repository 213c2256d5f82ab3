//! Small helpers the other crates share, with no dependencies:
//!
//! - time: the injectable [`Clock`] (the system's, or a [`ManualClock`] tests move),
//!   [`Millis`], the UTC calendar date of a day number and [`rfc3339`] timestamps;
//! - [`format_number`]: a number as Prometheus writes it; [`significant`]: as a person
//!   reads it;
//! - [`StoppingThread`]: a background thread signalled and joined when dropped;
//! - [`yaml`]: the writer of every generated configuration file (rule files, Alertmanager,
//!   Prometheus, the Collector, Grafana provisioning), strings always quoted and escaped.
#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod thread;
mod time;
pub mod yaml;

pub use thread::StoppingThread;
pub use time::{Clock, ManualClock, Millis, SystemClock, civil_date, rfc3339};

/// A number as PromQL, Prometheus labels and the generated YAML write it (`0.95`, `200`,
/// `0.001`): whole numbers without a fraction, others in the shortest form that reads back
/// exactly.
///
/// ```
/// assert_eq!(orchestrator_support::format_number(200.0), "200");
/// assert_eq!(orchestrator_support::format_number(0.95), "0.95");
/// ```
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A number for people: three significant digits, never fewer than its integer part,
/// without trailing zeros (`1.76`, `176`, `17558`, `0.00123`). Notification values and
/// percentile buckets are printed with it.
///
/// ```
/// use orchestrator_support::significant;
///
/// assert_eq!(significant(1.7558333333333331), "1.76");
/// assert_eq!(significant(242.6), "243");
/// assert_eq!(significant(17_558.3), "17558");
/// assert_eq!(significant(0.25), "0.25");
/// ```
pub fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format_number(value);
    }
    let digits = value.abs().log10().floor() as i32;
    let decimals = usize::try_from(2 - digits).unwrap_or(0).min(12);
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

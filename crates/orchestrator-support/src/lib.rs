//! Small helpers the other crates share, with no dependencies:
//!
//! - time: the injectable [`Clock`] (the system's, or a [`ManualClock`] tests move),
//!   [`Millis`], the UTC calendar date of a day number and [`rfc3339`] timestamps;
//! - [`format_number`]: a number as Prometheus writes it;
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

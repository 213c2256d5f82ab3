//! A small typed subset of PromQL with two interpreters.
//!
//! One [`Expr`] is both evaluated in-process by [`eval`] over a bounded [`SampleStore`] that
//! a [`Sampler`] fills from the local registry (or a remote `/metrics`), and rendered as
//! PromQL by its `Display` for the recording and alerting rules Prometheus runs. The
//! evaluator follows Prometheus 2.x's semantics (rate extrapolation, `histogram_quantile`
//! interpolation, lookback, vector matching), so both answers agree; a test against a real
//! Prometheus checks it.
//!
//! Supported: `increase`, `rate`, `avg_over_time`, the latest value of a gauge, `sum`/`max`
//! `by`, `histogram_quantile`, ratios (no data where the denominator is not positive),
//! comparisons with a threshold, and `offset` with the trends built on it
//! ([`Expr::change_since`], [`Expr::relative_change_since`]). Expressions are checked against the catalogue when built:
//! an unknown metric, `rate` of a gauge or a quantile without buckets is an [`ExprError`].
//!
//! ```
//! use std::time::Duration;
//! use orchestrator_metrics::{Metrics, Registry, catalogue::REQUEST_DURATION_SECONDS};
//! use orchestrator_query::{Expr, Sampler, Selector, Window, eval};
//!
//! let registry = Registry::new();
//! let metrics = Metrics::new(&registry);
//! let p95 = Expr::histogram_quantile_of(0.95, Selector::buckets(&REQUEST_DURATION_SECONDS), Window::minutes(5)?)?;
//! assert_eq!(
//!     p95.to_string(),
//!     "histogram_quantile(0.95, sum by (le) (rate(orchestrator_request_duration_seconds_bucket[5m])))"
//! );
//! let mut sampler = Sampler::local(&registry);
//! sampler.watch(&p95);
//! // A rate needs two samples of a series: the first request creates it.
//! metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(10));
//! sampler.sample(0)?;
//! for ms in [20, 40, 60, 80, 120] {
//!     metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(ms));
//! }
//! sampler.sample(15_000)?;
//! let value = eval(&p95, sampler.store(), 15_000).scalar().unwrap();
//! assert!(value > 0.1 && value <= 0.15, "{value}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod error;
mod eval;
mod expr;
mod local;
mod monitor;
mod rate;
mod render;
pub mod rules;
mod sampler;
mod selector;
mod store;
mod window;

pub use error::ExprError;
pub use eval::{Element, LOOKBACK_MS, Vector, covers, eval};
pub use expr::{CmpOp, Expr};
pub use monitor::{Evaluator, Hook, Monitor, MonitorBuilder};
pub use sampler::{Fetch, FetchError, SampleError, Sampler};
pub use selector::{MatchOp, Matcher, Part, Selector};
pub use store::{SampleStore, Slot, StoreLimits, StoredSeries};
pub use window::Window;

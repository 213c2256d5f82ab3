//! The four dashboards of the specification.

mod agents;
mod business;
mod executive;
mod infrastructure;
mod system;

pub use business::business_intelligence;
pub use executive::executive;
pub use infrastructure::infrastructure;
pub use system::system_health;

use orchestrator_metrics::catalogue::MetricDef;
use orchestrator_query::{Expr, Selector, Window};

use crate::DashboardError;

/// The rate window of time series panels.
pub(crate) fn five_minutes() -> Result<Window, DashboardError> {
    Ok(Window::minutes(5)?)
}

/// `sum(increase(metric[window]))`.
pub(crate) fn total_over(def: &'static MetricDef, window: Window) -> Result<Expr, DashboardError> {
    Ok(Expr::increase(Selector::of(def), window)?.sum())
}

/// `sum by (labels) (rate(metric[5m]))`.
pub(crate) fn rate_by(def: &'static MetricDef, by: &[&str]) -> Result<Expr, DashboardError> {
    let rate = Expr::rate(Selector::of(def), five_minutes()?)?;
    Ok(if by.is_empty() {
        rate.sum()
    } else {
        rate.sum_by(by.iter().copied())?
    })
}

/// `histogram_quantile(q, sum by (le) (rate(metric_bucket[5m])))`.
pub(crate) fn quantile(q: f64, def: &'static MetricDef) -> Result<Expr, DashboardError> {
    Ok(Expr::histogram_quantile_of(
        q,
        Selector::buckets(def),
        five_minutes()?,
    )?)
}

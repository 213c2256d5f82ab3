//! The KPIs: target, direction, window and expression, with the defaults of the spec.

use orchestrator_metrics::catalogue;
use orchestrator_query::{Expr, ExprError, Selector, Window};

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// More is better (users, revenue, satisfaction).
    HigherIsBetter,
    /// Less is better (latency, errors).
    LowerIsBetter,
}

/// How a KPI's value is expressed and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KpiUnit {
    /// A count of users (`6,603`).
    Users,
    /// US dollars (`$33.07`).
    Usd,
    /// A score out of ten (`8.92/10`).
    Score10,
    /// Seconds, printed in milliseconds (`130.15ms`).
    Seconds,
    /// A ratio, printed as a percentage (`0.13%`).
    Ratio,
    /// A count of events (`1,204`).
    Count,
}

impl KpiUnit {
    /// The value as the seed's report prints it.
    pub fn format(self, v: f64) -> String {
        match self {
            KpiUnit::Users | KpiUnit::Count => thousands(v.round() as i64),
            KpiUnit::Usd => format!("${v:.2}"),
            KpiUnit::Score10 => format!("{v:.2}/10"),
            KpiUnit::Seconds => format!("{:.2}ms", v * 1000.0),
            KpiUnit::Ratio => format!("{:.2}%", v * 100.0),
        }
    }

    /// Whether the trend is a relative change (counts and money: `+11.2%`) rather than a
    /// difference in the unit (scores, latency, rates: `-0.30`).
    pub fn relative_trend(self) -> bool {
        matches!(self, KpiUnit::Users | KpiUnit::Usd | KpiUnit::Count)
    }

    /// A trend as the report prints it: `+11.2%` for counts and money, `-0.30` for a score,
    /// `+12.00ms` for latency, `+0.05 pts` (percentage points) for a ratio.
    ///
    /// ```
    /// use orchestrator_kpi::KpiUnit;
    ///
    /// assert_eq!(KpiUnit::Usd.format_trend(0.112), "+11.2%");
    /// assert_eq!(KpiUnit::Score10.format_trend(-0.3), "-0.30");
    /// assert_eq!(KpiUnit::Seconds.format_trend(0.012), "+12.00ms");
    /// assert_eq!(KpiUnit::Ratio.format_trend(0.0005), "+0.05 pts");
    /// ```
    pub fn format_trend(self, v: f64) -> String {
        match self {
            KpiUnit::Users | KpiUnit::Usd | KpiUnit::Count => format!("{:+.1}%", v * 100.0),
            KpiUnit::Score10 => format!("{v:+.2}"),
            KpiUnit::Seconds => format!("{:+.2}ms", v * 1000.0),
            KpiUnit::Ratio => format!("{:+.2} pts", v * 100.0),
        }
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The gap to target, as the seed prints it: positive means better than target.
/// Higher is better: `(value - target) / target`; lower is better: `(target - value) / target`.
///
/// ```
/// use orchestrator_kpi::{Direction, gap};
///
/// assert_eq!(format!("{:+.1}%", 100.0 * gap(6_603.0, 10_000.0, Direction::HigherIsBetter)), "-34.0%");
/// assert_eq!(format!("{:+.1}%", 100.0 * gap(0.13, 0.3, Direction::LowerIsBetter)), "+56.7%");
/// ```
pub fn gap(value: f64, target: f64, direction: Direction) -> f64 {
    match direction {
        Direction::HigherIsBetter => (value - target) / target,
        Direction::LowerIsBetter => (target - value) / target,
    }
}

/// A window-parameterised expression builder.
type Build = fn(Window) -> Result<Expr, KpiConfigError>;

/// One KPI.
#[derive(Debug, Clone)]
pub struct Kpi {
    /// Identifier, the `kpi` label value.
    pub id: &'static str,
    /// Name in reports.
    pub name: &'static str,
    /// Target, in the KPI's unit.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
    /// The window the expression looks at.
    pub window: Window,
    /// The unit.
    pub unit: KpiUnit,
    /// The expression, the same for both interpreters.
    pub expr: Expr,
    build: Build,
}

/// A KPI configuration error; every variant names the KPI.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KpiConfigError {
    /// No KPI has this identifier.
    #[error(
        "no KPI `{0}` (known: monthly_active_users, revenue_per_user, customer_satisfaction, response_time_p95, error_rate)"
    )]
    UnknownKpi(String),
    /// A target must be a positive finite number (the gap divides by it).
    #[error("KPI `{kpi}`: target {target} must be a positive finite number")]
    InvalidTarget {
        /// The KPI.
        kpi: String,
        /// The target given.
        target: f64,
    },
    /// This KPI only supports some windows.
    #[error("KPI `{kpi}` counts distinct users over 1d, 7d or 30d, not {window}")]
    UnsupportedWindow {
        /// The KPI.
        kpi: String,
        /// The window given.
        window: Window,
    },
    /// The expression could not be built.
    #[error(transparent)]
    Expr(#[from] ExprError),
}

fn users_label(window: Window) -> Option<&'static str> {
    crate::activity::WINDOWS
        .iter()
        .find(|(days, _)| i64::from(*days) * 86_400_000 == window.millis())
        .map(|(_, label)| *label)
}

fn active_users(window: Window, kpi: &str) -> Result<Expr, KpiConfigError> {
    let label = users_label(window).ok_or_else(|| KpiConfigError::UnsupportedWindow {
        kpi: kpi.to_owned(),
        window,
    })?;
    Ok(Expr::value(Selector::of(&catalogue::ACTIVE_USERS).eq("window", label))?.max())
}

fn mau(window: Window) -> Result<Expr, KpiConfigError> {
    active_users(window, "monthly_active_users")
}

fn revenue_per_user(window: Window) -> Result<Expr, KpiConfigError> {
    let revenue = Expr::total(Selector::of(&catalogue::REVENUE_USD_TOTAL), window)?.sum();
    Ok(revenue.ratio(active_users(window, "revenue_per_user")?)?)
}

fn satisfaction(window: Window) -> Result<Expr, KpiConfigError> {
    Ok(Expr::histogram_mean(
        &catalogue::USER_SATISFACTION_SCORE,
        window,
    )?)
}

fn p95(window: Window) -> Result<Expr, KpiConfigError> {
    Ok(Expr::histogram_quantile_of(
        0.95,
        Selector::buckets(&catalogue::REQUEST_DURATION_SECONDS),
        window,
    )?)
}

fn error_rate(window: Window) -> Result<Expr, KpiConfigError> {
    let errors = Expr::rate(
        Selector::of(&catalogue::ERRORS_TOTAL).eq("component", "api"),
        window,
    )?
    .sum();
    let requests = Expr::rate(Selector::of(&catalogue::REQUESTS_TOTAL), window)?.sum();
    Ok(errors.ratio(requests)?)
}

impl Kpi {
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: &'static str,
        name: &'static str,
        target: f64,
        direction: Direction,
        window: Window,
        unit: KpiUnit,
        build: Build,
    ) -> Result<Self, KpiConfigError> {
        Ok(Kpi {
            id,
            name,
            target,
            direction,
            window,
            unit,
            expr: build(window)?,
            build,
        })
    }

    /// The gap of `value` to the target (positive is better).
    pub fn gap(&self, value: f64) -> f64 {
        gap(value, self.target, self.direction)
    }

    /// The KPI's change against the previous window: the expression minus itself one window
    /// earlier (relative to it for counts and money, see [`KpiUnit::relative_trend`]). The
    /// same expression is what the dashboards plot.
    pub fn trend(&self) -> Result<Expr, ExprError> {
        if self.unit.relative_trend() {
            self.expr.clone().relative_change_since(self.window)
        } else {
            self.expr.clone().change_since(self.window)
        }
    }
}

/// The KPIs and their targets and windows. The default is the spec's table.
///
/// ```
/// use orchestrator_kpi::KpiConfig;
/// use orchestrator_query::Window;
///
/// let config = KpiConfig::default()
///     .target("response_time_p95", 0.2)?
///     .window("error_rate", Window::minutes(5)?)?;
/// assert_eq!(config.kpis().len(), 5);
/// assert!(config.target("uptime", 0.99).is_err());
/// # Ok::<(), orchestrator_kpi::KpiConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KpiConfig {
    kpis: Vec<Kpi>,
    figures: Vec<crate::Figure>,
}

impl Default for KpiConfig {
    /// | KPI | target | better | window |
    /// |---|---|---|---|
    /// | monthly_active_users | 10,000 | higher | 30 days |
    /// | revenue_per_user | $35.00 | higher | 30 days |
    /// | customer_satisfaction | 8.5 / 10 | higher | 30 days |
    /// | response_time_p95 | 150 ms | lower | 1 hour |
    /// | error_rate | 0.3 % | lower | 1 hour |
    fn default() -> Self {
        Self::defaults().unwrap_or(KpiConfig {
            kpis: Vec::new(),
            figures: Vec::new(),
        })
    }
}

impl KpiConfig {
    fn defaults() -> Result<Self, KpiConfigError> {
        use Direction::*;
        let month = Window::days(30)?;
        let hour = Window::hours(1)?;
        Ok(KpiConfig {
            figures: crate::business_figures(Window::days(1)?)?,
            kpis: vec![
                Kpi::new(
                    "monthly_active_users",
                    "Monthly Active Users",
                    10_000.0,
                    HigherIsBetter,
                    month,
                    KpiUnit::Users,
                    mau,
                )?,
                Kpi::new(
                    "revenue_per_user",
                    "Revenue per User",
                    35.0,
                    HigherIsBetter,
                    month,
                    KpiUnit::Usd,
                    revenue_per_user,
                )?,
                Kpi::new(
                    "customer_satisfaction",
                    "Customer Satisfaction",
                    8.5,
                    HigherIsBetter,
                    month,
                    KpiUnit::Score10,
                    satisfaction,
                )?,
                Kpi::new(
                    "response_time_p95",
                    "Response Time P95",
                    0.150,
                    LowerIsBetter,
                    hour,
                    KpiUnit::Seconds,
                    p95,
                )?,
                Kpi::new(
                    "error_rate",
                    "Error Rate",
                    0.003,
                    LowerIsBetter,
                    hour,
                    KpiUnit::Ratio,
                    error_rate,
                )?,
            ],
        })
    }

    /// The KPIs.
    pub fn kpis(&self) -> &[Kpi] {
        &self.kpis
    }

    /// The business figures (revenue, LLM spend, sessions, conversions, requests) over the
    /// trend period, each with its change against the period before.
    pub fn figures(&self) -> &[crate::Figure] {
        &self.figures
    }

    /// The period of the business figures and their trends (default one day: the last
    /// 24 h against the 24 h before).
    pub fn trend_period(mut self, period: Window) -> Result<Self, KpiConfigError> {
        self.figures = crate::business_figures(period)?;
        Ok(self)
    }

    fn find(&mut self, id: &str) -> Result<&mut Kpi, KpiConfigError> {
        self.kpis
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| KpiConfigError::UnknownKpi(id.to_owned()))
    }

    /// Sets the target of KPI `id`, in its unit (seconds for latency, a ratio for rates).
    pub fn target(mut self, id: &str, target: f64) -> Result<Self, KpiConfigError> {
        if !target.is_finite() || target <= 0.0 {
            return Err(KpiConfigError::InvalidTarget {
                kpi: id.to_owned(),
                target,
            });
        }
        self.find(id)?.target = target;
        Ok(self)
    }

    /// Sets the window of KPI `id` and rebuilds its expression.
    pub fn window(mut self, id: &str, window: Window) -> Result<Self, KpiConfigError> {
        let kpi = self.find(id)?;
        kpi.expr = (kpi.build)(window)?;
        kpi.window = window;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(g: f64) -> String {
        format!("{:+.1}%", g * 100.0)
    }

    #[test]
    fn gaps_reproduce_the_seed() {
        use Direction::*;
        assert_eq!(pct(gap(6_603.0, 10_000.0, HigherIsBetter)), "-34.0%");
        assert_eq!(pct(gap(33.07, 35.0, HigherIsBetter)), "-5.5%");
        assert_eq!(pct(gap(8.92, 8.5, HigherIsBetter)), "+4.9%");
        assert_eq!(pct(gap(0.13015, 0.150, LowerIsBetter)), "+13.2%");
        assert_eq!(pct(gap(0.0013, 0.003, LowerIsBetter)), "+56.7%");
    }

    #[test]
    fn values_print_like_the_seed() {
        assert_eq!(KpiUnit::Users.format(6603.0), "6,603");
        assert_eq!(KpiUnit::Users.format(1_234_567.0), "1,234,567");
        assert_eq!(KpiUnit::Usd.format(33.07), "$33.07");
        assert_eq!(KpiUnit::Score10.format(8.92), "8.92/10");
        assert_eq!(KpiUnit::Seconds.format(0.13015), "130.15ms");
        assert_eq!(KpiUnit::Ratio.format(0.0013), "0.13%");
    }

    #[test]
    fn defaults_are_the_spec_table() {
        let config = KpiConfig::default();
        let ids: Vec<_> = config.kpis().iter().map(|k| k.id).collect();
        assert_eq!(ids, catalogue::labels::KPI_IDS);
        let targets: Vec<_> = config.kpis().iter().map(|k| k.target).collect();
        assert_eq!(targets, [10_000.0, 35.0, 8.5, 0.150, 0.003]);
    }

    #[test]
    fn configuration_errors() {
        let config = KpiConfig::default();
        assert!(matches!(
            config.clone().target("error_rate", 0.0),
            Err(KpiConfigError::InvalidTarget { .. })
        ));
        assert!(matches!(
            config.clone().target("error_rate", f64::NAN),
            Err(KpiConfigError::InvalidTarget { .. })
        ));
        assert!(matches!(
            config
                .clone()
                .window("monthly_active_users", Window::days(2).unwrap()),
            Err(KpiConfigError::UnsupportedWindow { .. })
        ));
        let weekly = config
            .window("revenue_per_user", Window::days(7).unwrap())
            .unwrap();
        assert!(weekly.kpis()[1].expr.to_string().contains(r#"window="7d""#));
    }
}

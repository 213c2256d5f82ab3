//! The four rules of the spec, and the three budget rules.

use std::time::Duration;

use orchestrator_metrics::catalogue;
use orchestrator_query::{CmpOp, Expr, ExprError, Selector, Window};

use crate::{AlertRule, RuleError, Severity};

/// Windows and `for` durations of the default rules, and the labels they carry.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertTuning {
    /// The window of the error-rate and latency rules.
    pub rate_window: Window,
    /// The window of the satisfaction rule.
    pub satisfaction_window: Window,
    /// `for` of the error-rate, latency and memory rules.
    pub for_: Duration,
    /// `for` of the satisfaction rule.
    pub satisfaction_for: Duration,
    /// The window `SpendRateAnomaly` measures the spend rate over.
    pub spend_window: Window,
    /// The `service` label: Alertmanager groups and inhibits by it.
    pub service: String,
    /// Where runbooks live; each rule links `<base>/<rule-name>`.
    pub runbook_base: String,
}

impl AlertTuning {
    /// Production: 5-minute windows and `for: 5m`, satisfaction over an hour held 15 minutes.
    pub fn production() -> Self {
        AlertTuning {
            rate_window: Window::minutes(5).unwrap_or_else(|_| unreachable_window()),
            satisfaction_window: Window::hours(1).unwrap_or_else(|_| unreachable_window()),
            for_: Duration::from_secs(300),
            satisfaction_for: Duration::from_secs(900),
            spend_window: Window::hours(1).unwrap_or_else(|_| unreachable_window()),
            service: "orchestrator".to_owned(),
            runbook_base: "https://runbooks.example.com/orchestrator".to_owned(),
        }
    }

    /// Short enough to watch in a demo run: 30-second windows, `for: 10s`. Not for
    /// production: thirty seconds of traffic is a noisy basis for paging anyone.
    pub fn demo() -> Self {
        AlertTuning {
            rate_window: Window::secs(30).unwrap_or_else(|_| unreachable_window()),
            satisfaction_window: Window::secs(30).unwrap_or_else(|_| unreachable_window()),
            for_: Duration::from_secs(10),
            satisfaction_for: Duration::from_secs(10),
            spend_window: Window::secs(30).unwrap_or_else(|_| unreachable_window()),
            ..Self::production()
        }
    }
}

fn unreachable_window() -> Window {
    // The literal windows above are positive whole milliseconds.
    Window::secs(300).unwrap_or_else(|_| unreachable_window())
}

/// The error ratio of API requests over `window`.
pub fn error_ratio(window: Window) -> Result<Expr, ExprError> {
    let errors = Expr::rate(
        Selector::of(&catalogue::ERRORS_TOTAL).eq("component", "api"),
        window,
    )?
    .sum();
    errors.ratio(Expr::rate(Selector::of(&catalogue::REQUESTS_TOTAL), window)?.sum())
}

/// The rules of SPEC §3: high error rate (> 1 %, high), response time degradation
/// (p95 > 200 ms, medium), memory usage critical (> 90 % of the limit, critical), low
/// customer satisfaction (< 7.0, medium); then the [`budget_rules`].
pub fn default_rules(t: &AlertTuning) -> Result<Vec<AlertRule>, RuleError> {
    let mut rules = spec_rules(t)?;
    rules.extend(budget_rules(t)?);
    Ok(rules)
}

/// The budget rules, over the budgets configured with `MetricsBuilder::budget` (no budget,
/// no series, no alert):
/// - `BudgetWarning` (medium): 80 % of a budget is spent over its rolling period (and not
///   yet all of it, where `BudgetExceeded` takes over);
/// - `BudgetExceeded` (high): all of it is spent;
/// - `SpendRateAnomaly` (high): the spend rate over `spend_window` (an hour in production),
///   kept up for the whole period, would spend more than the budget.
pub fn budget_rules(t: &AlertTuning) -> Result<Vec<AlertRule>, RuleError> {
    let ratio = || Expr::value(Selector::of(&catalogue::TENANT_BUDGET_SPEND_RATIO));
    let burn = Expr::rate(
        Selector::of(&catalogue::TENANT_BUDGET_SPEND_USD_TOTAL),
        t.spend_window,
    )
    .and_then(|rate| {
        rate.ratio(Expr::value(Selector::of(
            &catalogue::TENANT_BUDGET_RATE_USD,
        ))?)
    });
    let runbook = |name: &str| format!("{}/{}", t.runbook_base, name);
    Ok(vec![
        AlertRule::builder("BudgetWarning", ratio().and_then(|r| r.compare(CmpOp::Lt, 1.0)))
            .when(CmpOp::Ge, 0.8)
            .for_duration(t.for_)
            .severity(Severity::Medium)
            .label("service", &t.service)
            .condition_text("spend >= 80% of budget")
            .summary("LLM spend at 80 % of a budget")
            .description("A tenant (or the service, tenant *) has spent 80 % of its LLM budget over the budget's rolling period.")
            .runbook(&runbook("BudgetWarning"))
            .build()?,
        AlertRule::builder("BudgetExceeded", ratio())
            .when(CmpOp::Ge, 1.0)
            .for_duration(t.for_)
            .severity(Severity::High)
            .label("service", &t.service)
            .condition_text("spend >= budget")
            .summary("LLM budget spent")
            .description("A tenant (or the service, tenant *) has spent all of its LLM budget over the budget's rolling period.")
            .runbook(&runbook("BudgetExceeded"))
            .build()?,
        AlertRule::builder("SpendRateAnomaly", burn)
            .when(CmpOp::Gt, 1.0)
            .for_duration(t.for_)
            .severity(Severity::High)
            .label("service", &t.service)
            .condition_text("spend rate x period > budget")
            .summary("LLM spend rate would exceed the budget")
            .description("The recent LLM spend rate, kept up for the budget's whole period, would spend more than the budget.")
            .runbook(&runbook("SpendRateAnomaly"))
            .build()?,
    ])
}

fn spec_rules(t: &AlertTuning) -> Result<Vec<AlertRule>, RuleError> {
    let p95 = Expr::histogram_quantile_of(
        0.95,
        Selector::buckets(&catalogue::REQUEST_DURATION_SECONDS),
        t.rate_window,
    );
    let memory = Expr::value(Selector::of(&catalogue::MEMORY_USAGE_BYTES))
        .and_then(|usage| usage.ratio(Expr::value(Selector::of(&catalogue::MEMORY_LIMIT_BYTES))?));
    let satisfaction =
        Expr::histogram_mean(&catalogue::USER_SATISFACTION_SCORE, t.satisfaction_window);
    let runbook = |name: &str| format!("{}/{}", t.runbook_base, name);
    Ok(vec![
        AlertRule::builder("HighErrorRate", error_ratio(t.rate_window))
            .when(CmpOp::Gt, 0.01)
            .for_duration(t.for_)
            .severity(Severity::High)
            .label("service", &t.service)
            .condition_text("error_rate > 1%")
            .summary("API error rate above 1 %")
            .description("More than 1 % of API requests end in a 5xx answer.")
            .runbook(&runbook("HighErrorRate"))
            .build()?,
        AlertRule::builder("ResponseTimeDegradation", p95)
            .when(CmpOp::Gt, 0.2)
            .for_duration(t.for_)
            .severity(Severity::Medium)
            .label("service", &t.service)
            .condition_text("p95_latency > 200ms")
            .summary("API p95 latency above 200 ms")
            .description("The 95th percentile of API request duration is above 200 ms.")
            .runbook(&runbook("ResponseTimeDegradation"))
            .build()?,
        AlertRule::builder("MemoryUsageCritical", memory)
            .when(CmpOp::Gt, 0.9)
            .for_duration(t.for_)
            .severity(Severity::Critical)
            .label("service", &t.service)
            .condition_text("memory_usage > 90%")
            .summary("Memory above 90 % of the limit")
            .description("Resident memory is above 90 % of the cgroup (or configured) limit.")
            .runbook(&runbook("MemoryUsageCritical"))
            .build()?,
        AlertRule::builder("LowCustomerSatisfaction", satisfaction)
            .when(CmpOp::Lt, 7.0)
            .for_duration(t.satisfaction_for)
            .severity(Severity::Medium)
            .label("service", &t.service)
            .condition_text("satisfaction < 7.0")
            .summary("Mean customer satisfaction below 7.0 / 10")
            .description("The mean satisfaction rating over the window is below 7.0.")
            .runbook(&runbook("LowCustomerSatisfaction"))
            .build()?,
    ])
}

//! `/api/v1/kpis`: each business KPI against its target.

use serde::{Deserialize, Serialize};

/// `/api/v1/kpis`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KpisDoc {
    /// When the KPIs were last evaluated (ms since the epoch), `null` before the first time.
    pub evaluated_at: Option<i64>,
    /// How many KPIs meet their target.
    pub met: usize,
    /// How many KPIs there are.
    pub total: usize,
    /// Every configured KPI, evaluated or not.
    pub kpis: Vec<KpiDoc>,
    /// The replica's name (`service.instance.id`), if it was given one.
    #[serde(default)]
    pub instance: Option<String>,
    /// The business figures over the trend period (revenue, LLM spend, sessions,
    /// conversions, requests), each with its change against the period before.
    #[serde(default)]
    pub figures: Vec<FigureDoc>,
    /// Where distinct users are counted, and whether they can be now; absent when the
    /// service was built without KPIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UsersDoc>,
}

/// One KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiDoc {
    /// Its stable id (`monthly_active_users`).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its value, `null` when there is no data (or it is unavailable).
    pub value: Option<f64>,
    /// Its target.
    pub target: f64,
    /// `(value − target) / target`, signed so that negative is worse.
    pub gap: Option<f64>,
    /// Whether the target is met.
    pub met: bool,
    /// Which way is better.
    pub direction: Direction,
    /// The value formatted in the KPI's unit, `no data` or `unavailable`.
    pub display_value: String,
    /// Whose traffic the figure covers.
    pub scope: KpiScope,
    /// The target formatted in the KPI's unit.
    pub display_target: String,
    /// The change against the previous window: relative for counts and money (0.112 is
    /// +11.2 %), a difference in the KPI's unit otherwise; `null` until the previous window
    /// is held whole (never 0).
    #[serde(default)]
    pub trend: Option<f64>,
    /// The trend formatted (`+11.2%`, `-0.30`, `+12.00ms`, `+0.05 pts`), or `no data`.
    #[serde(default)]
    pub display_trend: String,
}

/// Which way a KPI is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is better (users, revenue, satisfaction).
    Higher,
    /// Lower is better (latency, error rate).
    Lower,
}

/// Whose traffic a KPI's figure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KpiScope {
    /// Every replica's (distinct users counted in Redis).
    #[serde(rename = "fleet")]
    Fleet,
    /// A ratio of this replica's series to the fleet's (revenue per user with Redis).
    #[serde(rename = "replica/fleet")]
    ReplicaOverFleet,
    /// This replica's own series.
    #[serde(rename = "replica")]
    Replica,
}

/// Where distinct users are counted, and whether they can be counted now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersDoc {
    /// In this process or shared by the fleet.
    pub scope: UsersScope,
    /// Whether the last count succeeded.
    pub available: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
}

/// Where distinct users are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UsersScope {
    /// In this process: this replica's users.
    Replica,
    /// In a store every replica shares (Redis).
    Fleet,
}

/// One business figure over the trend period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureDoc {
    /// Its stable id (`revenue`).
    pub id: String,
    /// Its display name (`Revenue`).
    pub name: String,
    /// The period it covers, in PromQL's syntax (`1d`).
    pub period: String,
    /// The total over the period, `null` without data.
    pub value: Option<f64>,
    /// The total formatted (`$1,204.50`, `1,204`), or `no data`.
    pub display_value: String,
    /// The relative change against the period before (0.112 is +11.2 %), `null` until
    /// that period is held whole (never 0).
    pub trend: Option<f64>,
    /// The trend formatted (`+11.2%`), or `no data`.
    pub display_trend: String,
}

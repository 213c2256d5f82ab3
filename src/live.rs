//! The facade's side of the live page: the documents of `/api/v1/kpis`, `/api/v1/alerts`
//! and `/api/v1/traces` (typed in `orchestrator-api`), read from the KPI engine, the alert
//! evaluator and the trace store.

use orchestrator_api::{AlertsDoc, KpisDoc, TracesDoc};
use orchestrator_exporters::live::LiveSource;

/// Everything the page reads besides the registry.
pub(crate) struct Source {
    #[cfg(feature = "kpi")]
    pub(crate) kpis: orchestrator_kpi::KpiHandle,
    #[cfg(feature = "kpi")]
    pub(crate) kpi_config: orchestrator_kpi::KpiConfig,
    #[cfg(feature = "kpi")]
    pub(crate) activity: orchestrator_kpi::ActivityStatus,
    /// The replica's name (`service.instance.id`), shown on the page.
    #[cfg(feature = "kpi")]
    pub(crate) instance: Option<String>,
    #[cfg(feature = "alerts")]
    pub(crate) alerts: orchestrator_alerts::AlertsHandle,
    #[cfg(feature = "traces")]
    pub(crate) tracer: orchestrator_tower::Tracer,
}

impl LiveSource for Source {
    fn kpis(&self) -> KpisDoc {
        #[cfg(feature = "kpi")]
        {
            kpis(self)
        }
        #[cfg(not(feature = "kpi"))]
        KpisDoc::default()
    }

    fn alerts(&self) -> AlertsDoc {
        #[cfg(feature = "alerts")]
        {
            alerts(self)
        }
        #[cfg(not(feature = "alerts"))]
        AlertsDoc::default()
    }

    fn traces(&self) -> TracesDoc {
        #[cfg(feature = "traces")]
        {
            crate::live_traces::traces(&self.tracer)
        }
        #[cfg(not(feature = "traces"))]
        TracesDoc::default()
    }
}

#[cfg(feature = "kpi")]
fn kpis(source: &Source) -> KpisDoc {
    use orchestrator_api::{Direction, KpiDoc, KpiScope, UsersDoc, UsersScope};
    use orchestrator_kpi::ActivityScope;
    let report = source.kpis.latest();
    let users = &source.activity;
    let list: Vec<KpiDoc> = source
        .kpi_config
        .kpis()
        .iter()
        .map(|kpi| {
            let result = report.as_ref().and_then(|r| r.get(kpi.id));
            let value = result.and_then(|r| r.value);
            let users_series = |sel: &orchestrator_query::Selector| {
                sel.def().name == orchestrator_metrics::catalogue::ACTIVE_USERS.name
            };
            let selectors = kpi.expr.selectors();
            let reads_users = selectors.iter().any(|(sel, _)| users_series(sel));
            let reads_others = selectors.iter().any(|(sel, _)| !users_series(sel));
            // Whose figure it is: distinct users are the fleet's when counted in Redis,
            // every other series is this replica's own.
            let scope = match (reads_users, reads_others, users.scope()) {
                (true, false, ActivityScope::Fleet) => KpiScope::Fleet,
                (true, true, ActivityScope::Fleet) => KpiScope::ReplicaOverFleet,
                _ => KpiScope::Replica,
            };
            let display = match value {
                None if reads_users && !users.is_available() => "unavailable".to_owned(),
                None => "no data".to_owned(),
                Some(v) => kpi.unit.format(v),
            };
            KpiDoc {
                id: kpi.id.to_owned(),
                name: kpi.name.to_owned(),
                value,
                target: kpi.target,
                gap: result.and_then(|r| r.gap),
                met: result.is_some_and(|r| r.met()),
                direction: match kpi.direction {
                    orchestrator_kpi::Direction::HigherIsBetter => Direction::Higher,
                    orchestrator_kpi::Direction::LowerIsBetter => Direction::Lower,
                },
                display_value: display,
                scope,
                display_target: kpi.unit.format(kpi.target),
                trend: result.and_then(|r| r.trend),
                display_trend: result
                    .and_then(|r| r.trend)
                    .map_or_else(|| "no data".to_owned(), |t| kpi.unit.format_trend(t)),
            }
        })
        .collect();
    let figures = source
        .kpi_config
        .figures()
        .iter()
        .map(|figure| {
            let result = report
                .as_ref()
                .and_then(|r| r.figures.iter().find(|f| f.id == figure.id));
            let no_data = || "no data".to_owned();
            orchestrator_api::FigureDoc {
                id: figure.id.to_owned(),
                name: figure.name.to_owned(),
                period: figure.period.to_string(),
                value: result.and_then(|r| r.value),
                display_value: result
                    .and_then(|r| r.value)
                    .map_or_else(no_data, |v| figure.unit.format(v)),
                trend: result.and_then(|r| r.trend),
                display_trend: result
                    .and_then(|r| r.trend)
                    .map_or_else(no_data, |t| figure.unit.format_trend(t)),
            }
        })
        .collect();
    KpisDoc {
        figures,
        evaluated_at: report.as_ref().map(|r| r.at),
        met: report.as_ref().map_or(0, |r| r.met()),
        total: list.len(),
        kpis: list,
        instance: source.instance.clone(),
        users: Some(UsersDoc {
            scope: match users.scope() {
                ActivityScope::Replica => UsersScope::Replica,
                ActivityScope::Fleet => UsersScope::Fleet,
            },
            available: users.is_available(),
            error: users.error(),
        }),
    }
}

#[cfg(feature = "alerts")]
fn alerts(source: &Source) -> AlertsDoc {
    use orchestrator_alerts::{AlertState, Severity};
    use orchestrator_api::{RuleDoc, RuleState};
    let Some(report) = source.alerts.latest() else {
        return AlertsDoc::default();
    };
    let rules: Vec<RuleDoc> = report
        .rules
        .iter()
        .map(|r| RuleDoc {
            name: r.name.clone(),
            title: orchestrator_alerts::title(&r.name),
            condition: r.condition.clone(),
            severity: match r.severity {
                Severity::Critical => orchestrator_api::Severity::Critical,
                Severity::High => orchestrator_api::Severity::High,
                Severity::Medium => orchestrator_api::Severity::Medium,
                Severity::Low => orchestrator_api::Severity::Low,
            },
            state: match r.status {
                None => RuleState::Inactive,
                Some(AlertState::Pending) => RuleState::Pending,
                Some(AlertState::Firing) => RuleState::Firing,
                Some(AlertState::Resolved) => RuleState::Resolved,
            },
            since: r.since,
            active_alerts: r.alerts.len(),
        })
        .collect();
    AlertsDoc {
        evaluated_at: Some(report.at),
        firing: report.firing(),
        total: rules.len(),
        rules,
    }
}

//! Panels: what they query, in which unit, against which thresholds.

use orchestrator_metrics::catalogue;
use orchestrator_query::Expr;
use serde_json::{Value, json};

use crate::exporters::ExporterMetric;

/// Where a query's metrics come from.
/// The histograms the middleware and the feedback API record exemplars on.
const EXEMPLAR_HISTOGRAMS: [&str; 5] = [
    catalogue::REQUEST_DURATION_SECONDS.name,
    catalogue::LLM_LATENCY_SECONDS.name,
    catalogue::LLM_TIME_TO_FIRST_TOKEN_SECONDS.name,
    catalogue::USER_SATISFACTION_SCORE.name,
    catalogue::QUALITY_SCORE.name,
];

/// Where a panel query's series come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The orchestrator's own metrics: the query is an [`Expr`], validated against the
    /// catalogue when it was built.
    Orchestrator(Expr),
    /// Standard exporters' metrics: PromQL written against the declared list.
    Exporter(Vec<&'static ExporterMetric>),
}

/// One query of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The PromQL.
    pub promql: String,
    /// The legend (`{{model}}`).
    pub legend: String,
    /// Where its metrics come from.
    pub source: Source,
    /// Its own unit, when it differs from the panel's (a KPI's trend beside its value).
    pub unit: Option<&'static str>,
}

impl Query {
    /// A query over the orchestrator's metrics.
    pub fn of(expr: Expr, legend: &str) -> Self {
        Query {
            promql: expr.to_string(),
            legend: legend.to_owned(),
            source: Source::Orchestrator(expr),
            unit: None,
        }
    }

    /// Shows this query in `unit` rather than the panel's, with the text color (the panel's
    /// thresholds judge the panel's own value, not this one).
    pub fn in_unit(mut self, unit: &'static str) -> Self {
        self.unit = Some(unit);
        self
    }

    /// A query over standard exporters' metrics: `uses` are the declared metrics `promql`
    /// names.
    /// Whether the query is a quantile over a histogram whose buckets carry exemplars (the
    /// request duration, LLM latency, time to first token and the two scores), so that its
    /// panel shows them and links each to its trace.
    pub fn shows_exemplars(&self) -> bool {
        let Source::Orchestrator(expr) = &self.source else {
            return false;
        };
        // A trend is a difference of quantiles: no exemplar belongs to it.
        self.promql.contains("histogram_quantile")
            && !expr.has_offset()
            && expr
                .selectors()
                .iter()
                .any(|(s, _)| EXEMPLAR_HISTOGRAMS.contains(&s.def().name))
    }

    /// A query over a standard exporter's metrics (node, Redis, PostgreSQL): `promql` as
    /// written, `uses` the declared metrics it reads (checked by the contract tests).
    pub fn exporter(promql: &str, uses: &[&'static ExporterMetric], legend: &str) -> Self {
        Query {
            promql: promql.to_owned(),
            legend: legend.to_owned(),
            source: Source::Exporter(uses.to_vec()),
            unit: None,
        }
    }
}

/// How a panel draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A single figure.
    Stat,
    /// A line over time.
    TimeSeries,
    /// Bars, one per series.
    BarGauge,
}

impl Kind {
    fn grafana(self) -> &'static str {
        match self {
            Kind::Stat => "stat",
            Kind::TimeSeries => "timeseries",
            Kind::BarGauge => "bargauge",
        }
    }
}

/// The threshold steps of a panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Thresholds {
    /// No threshold applies: one neutral step.
    None,
    /// Good at or above the value (a target where more is better).
    GoodAbove(f64),
    /// Bad at or above the value (an alert threshold, a target where less is better).
    BadAbove(f64),
}

impl Thresholds {
    fn steps(self) -> Value {
        match self {
            Thresholds::None => json!([{"color": "blue", "value": null}]),
            Thresholds::GoodAbove(v) => {
                json!([{"color": "red", "value": null}, {"color": "green", "value": v}])
            }
            Thresholds::BadAbove(v) => {
                json!([{"color": "green", "value": null}, {"color": "red", "value": v}])
            }
        }
    }
}

/// One panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The title.
    pub title: String,
    /// What it shows, in a sentence.
    pub description: String,
    /// How it draws.
    pub kind: Kind,
    /// The Grafana unit (`s`, `percentunit`, `currencyUSD`, `bytes`, `short`...).
    pub unit: &'static str,
    /// Its queries.
    pub queries: Vec<Query>,
    /// Its thresholds.
    pub thresholds: Thresholds,
}

impl Panel {
    /// A panel of `kind` titled `title`, in `unit`, with one query.
    pub fn new(kind: Kind, title: &str, unit: &'static str, query: Query) -> Self {
        Panel {
            title: title.to_owned(),
            description: String::new(),
            kind,
            unit,
            queries: vec![query],
            thresholds: Thresholds::None,
        }
    }

    /// Adds a query.
    pub fn query(mut self, query: Query) -> Self {
        self.queries.push(query);
        self
    }

    /// Sets the description.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }

    /// Sets the thresholds.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// The width in grid units (of 24): stats are narrow, the rest half the row.
    pub fn width(&self) -> u32 {
        match self.kind {
            Kind::Stat => 6,
            Kind::TimeSeries | Kind::BarGauge => 12,
        }
    }

    /// The Grafana JSON of this panel, with its id and position.
    pub(crate) fn to_json(&self, id: u32, x: u32, y: u32) -> Value {
        let targets: Vec<Value> = self
            .queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                json!({
                    "refId": ref_id(i),
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "expr": q.promql,
                    "legendFormat": q.legend,
                    "range": true,
                    "exemplar": q.shows_exemplars(),
                })
            })
            .collect();
        let overrides: Vec<Value> = self
            .queries
            .iter()
            .enumerate()
            .filter_map(|(i, q)| {
                Some(json!({
                    "matcher": {"id": "byFrameRefID", "options": ref_id(i)},
                    "properties": [
                        {"id": "unit", "value": q.unit?},
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": "text"}},
                    ],
                }))
            })
            .collect();
        let height = if self.kind == Kind::Stat { 4 } else { 8 };
        json!({
            "id": id,
            "type": self.kind.grafana(),
            "title": self.title,
            "description": self.description,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": height, "w": self.width(), "x": x, "y": y},
            "fieldConfig": {
                "defaults": {
                    "unit": self.unit,
                    "thresholds": {"mode": "absolute", "steps": self.thresholds.steps()},
                    "color": {"mode": if self.kind == Kind::TimeSeries { "palette-classic" } else { "thresholds" }},
                },
                "overrides": overrides,
            },
            "options": options(self.kind),
            "targets": targets,
        })
    }
}

fn ref_id(i: usize) -> String {
    char::from(b'A' + u8::try_from(i % 26).unwrap_or(0)).to_string()
}

fn options(kind: Kind) -> Value {
    match kind {
        Kind::Stat => json!({
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
        }),
        Kind::TimeSeries => json!({
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
            "tooltip": {"mode": "multi", "sort": "none"},
        }),
        Kind::BarGauge => json!({
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "orientation": "horizontal",
            "displayMode": "gradient",
        }),
    }
}

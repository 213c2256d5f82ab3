//! The integration tests of `orchestrator-telemetry`: one binary with a module per area, so
//! that a change links one test binary rather than one per file (each is some 200 MB of debug
//! code).
//!
//! The agreements with Prometheus that need a quiet machine are in `tests/quiet`.

#[path = "../support/mod.rs"]
mod support;

mod alert_channels;
mod auth;
mod browser;
mod budgets_fleet;
mod cardinality;
mod dashboards_prometheus;
mod demo_agents;
mod demo_cost;
mod escaping;
mod exemplars_prometheus;
mod exposition_lint;
mod fleet;
mod install;
mod kpi_prometheus;
mod live_page;
mod no_alloc;
mod obs_bundle;
mod openmetrics;
mod otel_interop;
mod otlp_metrics;
mod prometheus_e2e;
mod readme;
mod totals_prometheus;
mod tracing_guard;

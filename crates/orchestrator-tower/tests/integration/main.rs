//! The integration tests of `orchestrator-tower`, one binary with a module per area:
//! a change links one test binary rather than one per file (each some 200 MB of debug
//! code).

mod bridge_support;
mod support;

mod agents;
mod anthropic;
mod bridge;
mod bridge_bad_input;
mod budgets_enforced;
mod clients;
mod config;
mod conformance;
mod consent;
mod content;
mod cost_rebuild;
mod feedback;
mod global_filter;
mod hostile;
mod hostile_usage;
mod otel_context;
mod otlp;
mod otlp_tls;
mod sampling;
mod shutdown;
mod tenants;
mod tenants_in_code;
mod tools;

//! The integration tests of `orchestrator-demo`, one binary with a module per area:
//! a change links one test binary rather than one per file (each some 200 MB of debug
//! code).

mod common;

mod alert_quality;
mod budgets;
mod channels;
mod fleet;
mod sdk;
mod sdk_retries;
mod sigterm;
mod traces;

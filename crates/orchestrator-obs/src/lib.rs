//! The `orchestrator-obs` command line, as a library: [`bundle`] writes the deployment bundle
//! of the scaled setup, [`validate`] measures a running orchestrator and writes the report.
//! The demo orchestrator writes its report through the same code (`--report DIR`).
//! [`quality`] scores the alert rules against a known schedule of incidents.

pub mod bundle;
pub mod quality;
pub mod validate;

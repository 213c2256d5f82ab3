//! The integration tests of `orchestrator-alerts`, one binary with a module per area:
//! a change links one test binary rather than one per file (each some 200 MB of debug
//! code).

mod support;

mod channels;
mod generated;
mod readable;
mod sinks;
mod state_machine;

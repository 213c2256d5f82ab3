//! The integration tests of `orchestrator-query`, one binary with a module per area:
//! a change links one test binary rather than one per file (each some 200 MB of debug
//! code).

mod bad_input;
mod local;
mod offset;
mod total;

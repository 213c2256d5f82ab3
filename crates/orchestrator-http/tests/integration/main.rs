//! The integration tests of `orchestrator-http`, one binary with a module per area:
//! a change links one test binary rather than one per file (each some 200 MB of debug
//! code).

mod hostile;
mod tls;

//! The alert agreements with a real Prometheus, one test at a time.
//!
//! Each runs the demo under load beside a Prometheus and checks that two independent
//! evaluators (the in-process one reading the registry every 250 ms, Prometheus evaluating
//! its scrapes every second) move each alert within one evaluation plus one scrape interval
//! of each other. That bound is what the intervals allow on a machine that keeps them: two
//! of these runs side by side on two cores moved a transition past it (1.4 s, once in four
//! rehearsals). So each test holds [`one_at_a_time`], and this binary runs when nothing
//! else does (`cargo test` runs its binaries in turn; `scripts/test` runs it last, alone).

#[path = "../support/mod.rs"]
mod support;

mod alerts_prometheus;
mod otlp_memory;

/// Held for the whole of each test in this binary: the tests run one after another
/// whatever `--test-threads` says.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

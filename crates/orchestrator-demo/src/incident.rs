//! Scripted incidents, one per seed alert rule, so each rule can be provoked on demand:
//! `--incident errors|slow|memory|unhappy|runaway`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use orchestrator_telemetry::orchestrator_support::StoppingThread;

/// What goes wrong during an incident, and the rule it provokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Incident {
    /// 30 % of LLM calls fail with HTTP 500: `HighErrorRate`.
    Errors,
    /// The LLM answers [`SLOW_FACTOR`] times slower, so the API's p95 passes 200 ms:
    /// `ResponseTimeDegradation`.
    Slow,
    /// A cache grows by [`DEFAULT_BALLAST`] past 90 % of the configured memory limit:
    /// `MemoryUsageCritical`.
    Memory,
    /// Users rate their sessions around 3 / 10: `LowCustomerSatisfaction`.
    Unhappy,
    /// The research agent's model keeps asking for tools, so runs loop past their step
    /// limit: `AgentRunaway`.
    Runaway,
}

impl Incident {
    /// What the incident does, for the demo's banner.
    pub fn describe(self) -> &'static str {
        match self {
            Incident::Errors => "30 % of LLM calls fail (HighErrorRate)",
            Incident::Slow => "the LLM answers 5x slower (ResponseTimeDegradation)",
            Incident::Memory => "a cache fills past 90 % of the memory limit (MemoryUsageCritical)",
            Incident::Unhappy => "users rate their sessions around 3/10 (LowCustomerSatisfaction)",
            Incident::Runaway => "the research agent loops until its step limit (AgentRunaway)",
        }
    }

    /// Every kind, in a fixed order.
    pub const ALL: [Incident; 5] = [
        Incident::Errors,
        Incident::Slow,
        Incident::Memory,
        Incident::Unhappy,
        Incident::Runaway,
    ];

    /// Its name on the command line and in schedules.
    pub const fn as_str(self) -> &'static str {
        match self {
            Incident::Errors => "errors",
            Incident::Slow => "slow",
            Incident::Memory => "memory",
            Incident::Unhappy => "unhappy",
            Incident::Runaway => "runaway",
        }
    }

    /// The alert rule it provokes.
    pub const fn rule(self) -> &'static str {
        match self {
            Incident::Errors => "HighErrorRate",
            Incident::Slow => "ResponseTimeDegradation",
            Incident::Memory => "MemoryUsageCritical",
            Incident::Unhappy => "LowCustomerSatisfaction",
            Incident::Runaway => "AgentRunaway",
        }
    }

    /// Its bit in the switch: incidents of different kinds may overlap.
    fn bit(self) -> u8 {
        match self {
            Incident::Errors => 1,
            Incident::Slow => 2,
            Incident::Memory => 4,
            Incident::Unhappy => 8,
            Incident::Runaway => 16,
        }
    }
}

/// How much slower the simulated LLM answers during a `slow` incident.
pub const SLOW_FACTOR: f64 = 5.0;

/// How much memory a `memory` incident holds: the cache that fills.
pub const DEFAULT_BALLAST: usize = 256 << 20;

/// The incidents in progress, shared by the provider, the load generator and the cache that
/// fills; none by default. Incidents of different kinds may overlap.
#[derive(Debug, Clone, Default)]
pub struct IncidentSwitch(Arc<AtomicU8>);

impl IncidentSwitch {
    /// Starts `incident` (replacing any other).
    pub fn start(&self, incident: Incident) {
        self.0.store(incident.bit(), Ordering::Relaxed);
    }

    /// Starts or ends `incident`, leaving the others as they are.
    pub fn set(&self, incident: Incident, on: bool) {
        if on {
            self.0.fetch_or(incident.bit(), Ordering::Relaxed);
        } else {
            self.0.fetch_and(!incident.bit(), Ordering::Relaxed);
        }
    }

    /// Ends every incident in progress.
    pub fn stop(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    /// Whether `incident` is in progress.
    pub fn is(&self, incident: Incident) -> bool {
        self.0.load(Ordering::Relaxed) & incident.bit() != 0
    }

    /// Runs `incident` from `start` to `start + length` on the current Tokio runtime.
    pub fn schedule(&self, incident: Incident, start: Duration, length: Duration) {
        let switch = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(start).await;
            switch.start(incident);
            tokio::time::sleep(length).await;
            switch.stop();
        });
    }
}

/// The cache that fills during a `memory` incident: a thread that holds `bytes` of touched
/// memory while the incident lasts and frees it when it ends (a large allocation goes back
/// to the system at once), so resident memory rises and falls with the incident.
#[derive(Debug)]
pub(crate) struct Ballast {
    _thread: StoppingThread,
}

impl Ballast {
    pub(crate) fn start(switch: IncidentSwitch, bytes: usize) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = StoppingThread::spawn(
            "demo-ballast",
            move || {
                let mut held: Option<Vec<u8>> = None;
                while !stopped.load(Ordering::Relaxed) {
                    match (switch.is(Incident::Memory), held.is_some()) {
                        // Ones, not zeros: zeroed pages would not be resident until written.
                        (true, false) => held = Some(vec![1u8; bytes]),
                        (false, true) => held = None,
                        _ => {}
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            },
            move || stop.store(true, Ordering::Relaxed),
        )?;
        Ok(Ballast { _thread: thread })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_incident_at_a_time() {
        let switch = IncidentSwitch::default();
        assert!(!switch.is(Incident::Errors));
        switch.start(Incident::Slow);
        assert!(switch.is(Incident::Slow) && !switch.is(Incident::Errors));
        switch.start(Incident::Unhappy);
        assert!(switch.is(Incident::Unhappy) && !switch.is(Incident::Slow));
        switch.stop();
        assert!(!switch.is(Incident::Unhappy));
    }

    #[test]
    fn incidents_of_different_kinds_overlap() {
        let switch = IncidentSwitch::default();
        switch.set(Incident::Errors, true);
        switch.set(Incident::Memory, true);
        assert!(switch.is(Incident::Errors) && switch.is(Incident::Memory));
        switch.set(Incident::Errors, false);
        assert!(!switch.is(Incident::Errors) && switch.is(Incident::Memory));
    }

    #[test]
    fn the_ballast_is_resident_while_the_memory_incident_lasts() {
        let Some(before) = orchestrator_telemetry::orchestrator_exporters::resident_memory() else {
            return; // no /proc: nothing to measure
        };
        let switch = IncidentSwitch::default();
        let _ballast = Ballast::start(switch.clone(), 64 << 20).unwrap();
        // Polled, not slept: on a loaded machine filling 64 MiB can take longer than a
        // fixed wait. The deadline only bounds a failure.
        let rss_when = |ok: &dyn Fn(u64) -> bool| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let rss =
                    orchestrator_telemetry::orchestrator_exporters::resident_memory().unwrap();
                if ok(rss) || std::time::Instant::now() >= deadline {
                    return rss;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        switch.start(Incident::Memory);
        let during = rss_when(&|rss| rss >= before + (60 << 20));
        switch.stop();
        let after = rss_when(&|rss| rss + (60 << 20) <= during);
        assert!(during >= before + (60 << 20), "{before} -> {during}");
        assert!(after + (60 << 20) <= during, "{during} -> {after}");
    }
}

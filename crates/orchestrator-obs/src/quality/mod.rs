//! Alert quality: how well the alert rules tell incidents from quiet time, measured against a
//! known schedule of incidents. A run (the demo's `alert-quality` tool records one) gives
//! the schedule, each rule's pending and firing episodes as the in-process evaluator saw
//! them, and the firing episodes Prometheus's rule engine computed from the same samples;
//! [`QualityResults::from_run`] scores them per rule: true and false firings, precision and
//! recall, time to detect and to resolve, flaps. Written as JSON, Markdown and an SVG
//! timeline; `orchestrator-obs validate --alert-quality FILE` adds the figures to the report.
//!
//! How a firing is judged, per rule, against the incidents of the rule's kind only (incidents
//! of other kinds may overlap; same-kind incidents that overlap count as one):
//! - *true* when it starts while such an incident is active, or within the rule's window
//!   plus one evaluation interval after one ended (the window still holds the incident);
//!   *false* otherwise. A rule no incident kind exercises (a user's own rule, the budget
//!   rules) has every firing judged false, and no recall ("not measured").
//! - an incident is *detected* when a firing starts during it or within that grace after it,
//!   or was already firing when it started; time to detect is from the incident's start to
//!   that firing, time to resolve from the incident's end to that firing's resolution.
//! - a *flap* is a resolution followed by a new firing of the same alert within one incident
//!   (grace included) or within one quiet stretch.

mod render;
mod score;
mod svg;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use score::{RuleFigures, Source, TargetCheck};

/// An incident of the schedule, in seconds from the start of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSpan {
    /// Its kind (`errors`, `slow`, `memory`, `unhappy`, `runaway`).
    pub kind: String,
    /// When it starts.
    pub start_s: f64,
    /// When it ends.
    pub end_s: f64,
}

/// From `start_s` on, until the next phase: `users` virtual users, each resting `pause_ms`
/// between sessions (0 users: no traffic at all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficPhase {
    /// When the phase starts, in seconds from the start of the run.
    pub start_s: f64,
    /// Active virtual users.
    pub users: usize,
    /// Each user's pause between sessions, in milliseconds.
    pub pause_ms: u64,
}

/// The ground truth of a run: which incidents happen when, and the traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The seed it was drawn from: the same seed draws the same schedule.
    pub seed: u64,
    /// The run's length in seconds (simulated time).
    pub length_s: f64,
    /// The incidents, by start.
    pub incidents: Vec<IncidentSpan>,
    /// The traffic phases, by start.
    pub traffic: Vec<TrafficPhase>,
}

/// A rule of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Its name.
    pub name: String,
    /// The incident kind it should detect; none for a rule no incident exercises.
    pub kind: Option<String>,
    /// Its severity.
    pub severity: String,
    /// Its `for`, in seconds.
    pub for_s: f64,
    /// The longest range window its condition reads, in seconds (0 for an instant value).
    pub window_s: f64,
}

/// One stretch of an alert in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// The rule.
    pub rule: String,
    /// The alert's labels besides `alertname`, as `{a="1"}`.
    pub labels: String,
    /// `pending` or `firing`.
    pub state: String,
    /// When it began, in seconds from the start of the run.
    pub start_s: f64,
    /// When it ended; none when it lasted to the end of the run.
    pub end_s: Option<f64>,
}

/// An evaluation where Prometheus fired other alerts than the in-process evaluator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// When, in seconds from the start of the run.
    pub at_s: f64,
    /// The rule.
    pub rule: String,
    /// What fired in-process (label sets).
    pub in_process: Vec<String>,
    /// What fired in Prometheus.
    pub prometheus: Vec<String>,
    /// Why, as far as the run can tell (the condition's value in-process at that time).
    pub cause: String,
}

/// Alert notifications the run's firings send through the generated Alertmanager
/// configuration: grouped by `alertname` and `service`; a critical SLO alert inhibits the
/// lesser alerts of the same SLO (`equal: [service, slo]`). The first configuration let any
/// critical alert inhibit every lesser alert of the service; what that would have held back
/// is counted too, to judge the change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notifications {
    /// Firing episodes: one notification each, unless grouped or inhibited.
    pub firing: u64,
    /// Episodes that joined a group already notified (another alert of the same rule was
    /// firing).
    pub grouped: u64,
    /// Episodes the generated configuration inhibits (a critical alert of the same SLO).
    pub inhibited: u64,
    /// Episodes the first, service-wide inhibition would have held back.
    pub inhibited_service_wide: u64,
    /// Of those, true firings: an incident hidden by another incident's critical alert.
    pub inhibited_service_wide_true: u64,
}

/// What a run recorded: the schedule and the rules' episodes, in-process and in Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Which windows and `for` durations the rules had (`production`, `demo`).
    pub tuning: String,
    /// The evaluation interval, in seconds of simulated time.
    pub interval_s: f64,
    /// How much faster than real time the simulated clock ran (1: real time).
    pub time_scale: f64,
    /// How long the run lasted, in seconds of simulated time (less than the schedule's
    /// length when stopped early).
    pub ran_s: f64,
    /// Stopped before the end of the schedule (Ctrl-C): the figures cover what ran.
    pub partial: bool,
    /// The ground truth.
    pub schedule: Schedule,
    /// The rules.
    pub rules: Vec<RuleInfo>,
    /// Pending and firing episodes from the in-process evaluator's transitions.
    pub in_process: Vec<Episode>,
    /// Firing episodes from Prometheus's rule engine over the same samples; none when it
    /// could not run (see `prometheus_note`).
    pub prometheus: Option<Vec<Episode>>,
    /// How Prometheus evaluated the run, or why it could not.
    pub prometheus_note: String,
    /// Every evaluation where the two disagree.
    pub disagreements: Vec<Disagreement>,
    /// API requests answered during the run.
    pub requests: u64,
}

/// A run and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityResults {
    /// What was recorded.
    pub run: RunRecord,
    /// Per rule and source.
    pub figures: Vec<RuleFigures>,
    /// The run's notifications, from the in-process firings.
    pub notifications: Notifications,
    /// The targets, met or not.
    pub targets: Vec<TargetCheck>,
}

/// Why results could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not alert-quality results.
    #[error("{path}: not alert-quality results: {source}")]
    Json {
        /// The file.
        path: String,
        /// The error.
        source: serde_json::Error,
    },
}

/// The names of the files [`QualityResults::write`] writes.
pub const RESULTS_JSON: &str = "alert-quality.json";
/// The Markdown figures.
pub const RESULTS_MD: &str = "alert-quality.md";
/// The timeline.
pub const TIMELINE_SVG: &str = "alert-quality-timeline.svg";
/// The schedule, on its own (the same seed gives the same file).
pub const SCHEDULE_JSON: &str = "schedule.json";

impl QualityResults {
    /// Scores `run`.
    pub fn from_run(run: RunRecord) -> Self {
        let figures = score::figures(&run);
        let notifications = score::notifications(&run);
        let targets = score::targets(&run, &figures);
        QualityResults {
            run,
            figures,
            notifications,
            targets,
        }
    }

    /// Whether every target is met.
    pub fn targets_met(&self) -> bool {
        self.targets.iter().all(|t| t.met)
    }

    /// Writes [`RESULTS_JSON`], [`RESULTS_MD`], [`TIMELINE_SVG`] and [`SCHEDULE_JSON`] into
    /// `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), QualityError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| QualityError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (name, text) in [
            (RESULTS_JSON, pretty(self)),
            (SCHEDULE_JSON, pretty(&self.run.schedule)),
            (RESULTS_MD, self.markdown()),
            (TIMELINE_SVG, self.svg()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        Ok(())
    }

    /// Reads results written by [`write`](Self::write) (the JSON file).
    pub fn read(path: &Path) -> Result<Self, QualityError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| QualityError::Io {
            path: name.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| QualityError::Json { path: name, source })
    }
}

/// Pretty JSON; serializing these plain structs cannot fail (string keys only).
fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests;

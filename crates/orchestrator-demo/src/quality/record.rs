//! What a quality run keeps at each evaluation: the samples the in-process evaluator read
//! (to replay them through Prometheus), the alerts firing, and the pending and firing
//! episodes its transitions draw.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orchestrator_obs::quality::Episode;
use orchestrator_telemetry::orchestrator_alerts::generate::{Firing, RecordedSeries};
use orchestrator_telemetry::orchestrator_alerts::{AlertState, Labels, Transition};
use orchestrator_telemetry::orchestrator_query::SampleStore;
use orchestrator_telemetry::orchestrator_support::Millis;

/// `{a="1",b="2"}` without `alertname`: how episodes name their alert.
pub(crate) fn render_labels(labels: &Labels) -> String {
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k != "alertname")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn state_name(state: Option<AlertState>) -> Option<&'static str> {
    match state {
        Some(AlertState::Pending) => Some("pending"),
        Some(AlertState::Firing) => Some("firing"),
        _ => None,
    }
}

/// The run as evaluated so far.
#[derive(Debug)]
pub(crate) struct Recorder {
    start: Millis,
    index: HashMap<(String, Labels), usize>,
    pub(crate) series: Vec<RecordedSeries>,
    firing_now: BTreeSet<(String, Labels)>,
    /// The firing alerts after each evaluation.
    pub(crate) firing: Vec<Firing>,
    open: HashMap<(String, Labels, &'static str), f64>,
    pub(crate) episodes: Vec<Episode>,
}

impl Recorder {
    /// A run whose first evaluation is at `start`.
    pub(crate) fn new(start: Millis) -> Self {
        Recorder {
            start,
            index: HashMap::new(),
            series: Vec::new(),
            firing_now: BTreeSet::new(),
            firing: Vec::new(),
            open: HashMap::new(),
            episodes: Vec::new(),
        }
    }

    /// Seconds from the first evaluation.
    pub(crate) fn seconds(&self, at: Millis) -> f64 {
        (at - self.start) as f64 / 1000.0
    }

    /// Keeps the evaluation at `at`: the store's samples taken at `at`, and the transitions.
    pub(crate) fn record(&mut self, store: &SampleStore, at: Millis, transitions: &[Transition]) {
        let step = self.firing.len();
        for s in store.iter() {
            let Some((t, v)) = s.latest(at, 0) else {
                continue;
            };
            if t != at {
                continue;
            }
            let key = (s.name().to_owned(), s.labels().to_vec());
            let i = *self.index.entry(key).or_insert_with(|| {
                self.series.push(RecordedSeries {
                    name: s.name().to_owned(),
                    labels: s.labels().to_vec(),
                    values: Vec::new(),
                });
                self.series.len() - 1
            });
            let values = &mut self.series[i].values;
            values.resize(step, None);
            values.push(Some(v));
        }
        let now = self.seconds(at);
        for t in transitions {
            if let Some(from) = state_name(t.from) {
                let key = (t.rule.clone(), t.labels.clone(), from);
                if let Some(start_s) = self.open.remove(&key) {
                    self.episodes.push(Episode {
                        rule: t.rule.clone(),
                        labels: render_labels(&t.labels),
                        state: from.to_owned(),
                        start_s,
                        end_s: Some(now),
                    });
                }
            }
            if let Some(to) = state_name(t.to) {
                self.open
                    .insert((t.rule.clone(), t.labels.clone(), to), now);
            }
            let key = (t.rule.clone(), t.labels.clone());
            if t.to == Some(AlertState::Firing) {
                self.firing_now.insert(key);
            } else if t.from == Some(AlertState::Firing) {
                self.firing_now.remove(&key);
            }
        }
        self.firing.push(self.firing_now.iter().cloned().collect());
    }

    /// Evaluations recorded.
    pub(crate) fn steps(&self) -> usize {
        self.firing.len()
    }

    /// Closes the recording: series padded to the last evaluation, episodes still open
    /// left without an end.
    pub(crate) fn finish(&mut self) {
        let steps = self.steps();
        for s in &mut self.series {
            s.values.resize(steps, None);
        }
        let open: Vec<_> = self.open.drain().collect();
        for ((rule, labels, state), start_s) in open {
            self.episodes.push(Episode {
                rule,
                labels: render_labels(&labels),
                state: state.to_owned(),
                start_s,
                end_s: None,
            });
        }
        self.episodes
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.rule.cmp(&b.rule)));
    }
}

/// Appends the samples recorded at evaluation `step` to `store`, at time `at`: a store
/// rebuilt from a recording, to evaluate rules over it again.
pub(crate) fn append_step(
    store: &mut SampleStore,
    series: &[RecordedSeries],
    step: usize,
    at: Millis,
) {
    for s in series {
        if let Some(Some(v)) = s.values.get(step) {
            store.append(&s.name, &s.labels, at, *v, i64::MAX / 4);
        }
    }
}

/// Firing episodes from the firing alerts at each evaluation `interval_s` apart: an alert
/// fires from the first evaluation it is in to the first it is not.
pub(crate) fn episodes_of(firing: &[Firing], interval_s: f64) -> Vec<Episode> {
    let mut open: BTreeMap<(String, Labels), f64> = BTreeMap::new();
    let mut out = Vec::new();
    for (step, now) in firing.iter().enumerate() {
        let t = step as f64 * interval_s;
        let now: BTreeSet<&(String, Labels)> = now.iter().collect();
        let ended: Vec<(String, Labels)> =
            open.keys().filter(|k| !now.contains(k)).cloned().collect();
        for key in ended {
            if let Some(start_s) = open.remove(&key) {
                out.push(Episode {
                    rule: key.0.clone(),
                    labels: render_labels(&key.1),
                    state: "firing".to_owned(),
                    start_s,
                    end_s: Some(t),
                });
            }
        }
        for key in now {
            open.entry(key.clone()).or_insert(t);
        }
    }
    for ((rule, labels), start_s) in open {
        out.push(Episode {
            rule,
            labels: render_labels(&labels),
            state: "firing".to_owned(),
            start_s,
            end_s: None,
        });
    }
    out.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.rule.cmp(&b.rule)));
    out
}

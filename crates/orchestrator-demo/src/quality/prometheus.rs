//! Replaying the run through Prometheus's rule engine: `promtool test rules` over the
//! samples the in-process evaluator read, expecting what it fired; every evaluation where
//! Prometheus fired something else comes back as a disagreement, and Prometheus's own
//! firing episodes are the in-process ones with those evaluations replaced.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orchestrator_obs::quality::{Disagreement, Episode};
use orchestrator_telemetry::orchestrator_alerts::AlertRule;
use orchestrator_telemetry::orchestrator_alerts::generate::{
    Firing, RecordedSeries, alert_group, parse_mismatches, replay_tests,
};
use orchestrator_telemetry::orchestrator_query::rules::rule_file;
use orchestrator_telemetry::orchestrator_query::{SampleStore, StoreLimits, eval};

use super::record::{Recorder, append_step, episodes_of, render_labels};

/// How long promtool may take before it is killed: a two-hour run replays in seconds.
pub(crate) const PROMTOOL_DEADLINE: Duration = Duration::from_secs(600);

/// What Prometheus made of the run.
#[derive(Debug)]
pub(crate) struct Replayed {
    /// Its firing episodes; none when promtool could not run.
    pub(crate) episodes: Option<Vec<Episode>>,
    /// How it ran, or why not.
    pub(crate) note: String,
    /// The evaluations where it fired something else.
    pub(crate) disagreements: Vec<Disagreement>,
}

fn failed(note: String) -> Replayed {
    Replayed {
        episodes: None,
        note,
        disagreements: Vec::new(),
    }
}

/// Writes `rules.yml` and `replay.yml` into `dir` and runs `promtool test rules` there.
pub(crate) fn replay(
    dir: &Path,
    rules: &[AlertRule],
    interval: Duration,
    recorder: &Recorder,
) -> Replayed {
    if recorder.steps() == 0 {
        return failed("Prometheus: nothing to replay (no evaluation ran).".to_owned());
    }
    let group = alert_group("orchestrator-alerts", rules, Some(interval));
    let tests = replay_tests(
        "rules.yml",
        rules,
        interval,
        &recorder.series,
        &recorder.firing,
    );
    if let Err(err) = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("rules.yml"), rule_file(&[group])))
        .and_then(|()| std::fs::write(dir.join("replay.yml"), tests))
    {
        return failed(format!("Prometheus: cannot write {}: {err}", dir.display()));
    }
    // promtool writes into a file beside the replay (kept for whoever reads a failure), so
    // no pipe can fill and stall it; it is killed past the deadline.
    let log = dir.join("promtool.out");
    let output_file = std::fs::File::create(&log).and_then(|f| Ok((f.try_clone()?, f)));
    let (stdout, stderr) = match output_file {
        Ok(files) => files,
        Err(err) => return failed(format!("Prometheus: cannot write {}: {err}", log.display())),
    };
    let child = Command::new("promtool")
        .args(["test", "rules", "replay.yml"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            return failed(format!(
                "Prometheus: cannot run promtool ({err}; Debian package `prometheus`)."
            ));
        }
    };
    let deadline = Instant::now() + PROMTOOL_DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let Some(status) = status else {
        return failed(format!(
            "Prometheus: promtool did not finish within {} s and was stopped.",
            PROMTOOL_DEADLINE.as_secs()
        ));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let mismatches = parse_mismatches(&output);
    if !status.success() && mismatches.is_empty() {
        let tail: String = output.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return failed(format!("Prometheus: promtool failed ({status}): {tail}"));
    }
    let interval_s = interval.as_secs_f64();
    let mut firing: Vec<Firing> = recorder.firing.clone();
    let mut disagreements = Vec::new();
    for m in &mismatches {
        let step = (m.at.as_secs_f64() / interval_s).round() as usize;
        let Some(now) = firing.get_mut(step) else {
            continue;
        };
        let in_process: Vec<String> = now
            .iter()
            .filter(|(rule, _)| *rule == m.rule)
            .map(|(_, labels)| render_labels(labels))
            .collect();
        now.retain(|(rule, _)| *rule != m.rule);
        now.extend(m.got.iter().map(|labels| (m.rule.clone(), labels.clone())));
        let rule = rules.iter().find(|r| r.name() == m.rule);
        disagreements.push(Disagreement {
            at_s: step as f64 * interval_s,
            rule: m.rule.clone(),
            in_process,
            prometheus: m.got.iter().map(render_labels).collect(),
            cause: rule.map_or_else(
                || "a rule the run did not evaluate".to_owned(),
                |r| cause(r, &recorder.series, step, interval),
            ),
        });
    }
    Replayed {
        episodes: Some(episodes_of(&firing, interval_s)),
        note: format!(
            "Prometheus: `promtool test rules` ({}) replayed the {} evaluations over the samples the in-process evaluator read; {} differ.",
            promtool_version(),
            recorder.steps(),
            disagreements.len()
        ),
        disagreements,
    }
}

/// What the in-process value of `rule` says about a disagreement at evaluation `step`:
/// evaluated again over the recorded samples, only when there is a disagreement.
fn cause(rule: &AlertRule, series: &[RecordedSeries], step: usize, interval: Duration) -> String {
    let every = i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let mut store = SampleStore::new(StoreLimits::default());
    for k in 0..=step {
        append_step(&mut store, series, k, every * k as i64);
    }
    let value = eval(rule.value(), &store, every * step as i64)
        .0
        .first()
        .map(|e| e.value);
    match (value, rule.comparison().map(|(_, t)| t)) {
        (Some(v), Some(t)) if (v - t).abs() <= 1e-9 * t.abs().max(1.0) => {
            format!("the condition's value {v} equals the threshold {t} to within float rounding")
        }
        (Some(v), Some(t)) => format!("in-process value {v} against threshold {t}"),
        (Some(v), None) => format!("in-process value {v}"),
        (None, _) => "no in-process value at that evaluation".to_owned(),
    }
}

fn promtool_version() -> String {
    Command::new("promtool")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| t.lines().next().map(str::to_owned))
        .map_or_else(|| "promtool".to_owned(), |l| l.replace(", version", ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orchestrator_telemetry::orchestrator_alerts::{AlertTuning, default_rules};

    #[test]
    fn a_disagreement_is_explained_by_the_value_recomputed_from_the_recording() {
        let memory = default_rules(&AlertTuning::production())
            .unwrap()
            .into_iter()
            .find(|r| r.name() == "MemoryUsageCritical")
            .unwrap();
        let series = |name: &str, values: Vec<Option<f64>>| RecordedSeries {
            name: name.to_owned(),
            labels: Vec::new(),
            values,
        };
        let recorded = [
            series(
                "orchestrator_memory_usage_bytes",
                vec![Some(50.0), Some(95.0)],
            ),
            series(
                "orchestrator_memory_limit_bytes",
                vec![Some(100.0), Some(100.0)],
            ),
        ];
        let interval = Duration::from_secs(15);
        assert_eq!(
            cause(&memory, &recorded, 1, interval),
            "in-process value 0.95 against threshold 0.9"
        );
        assert_eq!(
            cause(&memory, &recorded[..1], 1, interval),
            "no in-process value at that evaluation"
        );
    }
}

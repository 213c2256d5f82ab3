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
    Firing, alert_group, parse_mismatches, replay_tests,
};
use orchestrator_telemetry::orchestrator_query::rules::rule_file;

use super::record::{Recorder, episodes_of, render_labels};

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
    let child = Command::new("promtool")
        .args(["test", "rules", "replay.yml"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            return failed(format!(
                "Prometheus: cannot run promtool ({err}; Debian package `prometheus`)."
            ));
        }
    };
    // Read in threads so a full pipe cannot stall it; killed past the deadline.
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(stdout.map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let err = read(stderr.map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
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
    let output = out.join().unwrap_or_default() + &err.join().unwrap_or_default();
    let Some(status) = status else {
        return failed(format!(
            "Prometheus: promtool did not finish within {} s and was stopped.",
            PROMTOOL_DEADLINE.as_secs()
        ));
    };
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
        let value = recorder.values.get(step).and_then(|v| v.get(&m.rule));
        let threshold = rules
            .iter()
            .find(|r| r.name() == m.rule)
            .and_then(|r| r.comparison());
        disagreements.push(Disagreement {
            at_s: step as f64 * interval_s,
            rule: m.rule.clone(),
            in_process,
            prometheus: m.got.iter().map(render_labels).collect(),
            cause: cause(value.copied(), threshold.map(|(_, t)| t)),
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

/// What the in-process value says about a disagreement.
fn cause(value: Option<f64>, threshold: Option<f64>) -> String {
    match (value, threshold) {
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

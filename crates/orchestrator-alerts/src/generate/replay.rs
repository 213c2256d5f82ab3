//! Replaying a recorded run through Prometheus's own rule engine: a promtool test file whose
//! input series are the samples the in-process evaluator read, one per evaluation, and whose
//! expectations are the alerts the in-process evaluator fired at each evaluation. promtool
//! prints every evaluation where Prometheus fired something else; [`parse_mismatches`] reads
//! them back, so Prometheus's firing alerts are known at every evaluation of the run.

use std::time::Duration;

// PromQL label values are Go strings: the YAML double-quoted escapes are valid in them.
use orchestrator_support::yaml::quote;

use super::promtool::{alert_check, input_series, test_file, test_group};
use crate::AlertRule;
use crate::state::Labels;

/// A series as sampled at each evaluation of a run: `None` where it had no sample.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedSeries {
    /// The series name.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// One value per evaluation, from the first.
    pub values: Vec<Option<f64>>,
}

impl RecordedSeries {
    fn selector(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }

    /// promtool's notation: one value per step, `_` for none. Values are written with
    /// Rust's shortest round-trip form, so Prometheus reads the very same `f64`.
    fn notation(&self) -> String {
        self.values
            .iter()
            .map(|v| match v {
                Some(v) if v.is_finite() => format!("{v:?}"),
                _ => "_".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The firing alerts at one evaluation: `(rule, labels)`, labels including `alertname`.
pub type Firing = Vec<(String, Labels)>;

/// The promtool test file replaying a run sampled every `interval`: `series` as input,
/// and at evaluation `i` every rule expected to fire exactly `firing[i]`.
pub fn replay_tests(
    rule_file: &str,
    rules: &[AlertRule],
    interval: Duration,
    series: &[RecordedSeries],
    firing: &[Firing],
) -> String {
    let input = series
        .iter()
        .map(|s| input_series(s.selector(), s.notation()))
        .collect();
    let mut checks = Vec::new();
    for (step, now) in firing.iter().enumerate() {
        let at = interval.saturating_mul(u32::try_from(step).unwrap_or(u32::MAX));
        for rule in rules {
            let fired = now
                .iter()
                .filter(|(name, _)| name == rule.name())
                .map(|(_, labels)| labels);
            checks.push(alert_check(at, rule.name(), rule.annotations(), fired));
        }
    }
    test_file(
        rule_file,
        interval,
        vec![test_group("replay", interval, input, checks)],
    )
}

/// One evaluation where Prometheus fired other alerts than expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The evaluation time, from the first sample.
    pub at: Duration,
    /// The rule.
    pub rule: String,
    /// The alerts Prometheus fired (labels including `alertname`).
    pub got: Vec<Labels>,
}

/// Reads the mismatches out of `promtool test rules` output (its `FAILED:` blocks:
/// `alertname: X, time: 1m30s,` then `exp:[...]` and `got:[...]` with one `Labels:{...}`
/// line per alert). Output that is not such a block is ignored; the caller compares the
/// count with promtool's exit status.
pub fn parse_mismatches(output: &str) -> Vec<Mismatch> {
    let mut out: Vec<Mismatch> = Vec::new();
    let mut in_got = false;
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("alertname: ") {
            let mut parts = rest.split(", time: ");
            let rule = parts.next().unwrap_or_default().to_owned();
            let at = parts
                .next()
                .map(|t| t.trim_end_matches([',', ' ']))
                .and_then(go_duration);
            if let Some(at) = at {
                out.push(Mismatch {
                    at,
                    rule,
                    got: Vec::new(),
                });
            }
            in_got = false;
        } else if line.starts_with("exp:") {
            in_got = false;
        } else if line.starts_with("got:") {
            in_got = true;
        } else if let (true, Some(labels), Some(last)) =
            (in_got, line.strip_prefix("Labels:"), out.last_mut())
            && let Some(labels) = parse_labels(labels)
        {
            last.got.push(labels);
        }
    }
    out
}

/// A Go duration as Prometheus prints it: `0s`, `1h2m3s`, `1m30.5s`, `500ms`.
fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// `{a="1", b="x \"y\""}` (Go's `%q` escapes) as sorted label pairs.
fn parse_labels(text: &str) -> Option<Labels> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                c => value.push(c),
            }
        }
        labels.push((name.trim().to_owned(), value));
    }
    labels.sort();
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promtool_failures_are_read_back() {
        let output = r#"  FAILED:
    name: replay,
    alertname: A, time: 30s, 
        exp:[], 
        got:[
            0:
              Labels:{a="1", alertname="A", severity="high"}
              Annotations:{summary="x high"}
            ]
    name: replay,
    alertname: B, time: 1h2m30s, 
        exp:[
            0:
              Labels:{alertname="B", note="say \"hi\""}
              Annotations:{}
            ], 
        got:[]
"#;
        let m = parse_mismatches(output);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].at, Duration::from_secs(30));
        assert_eq!(m[0].rule, "A");
        assert_eq!(
            m[0].got,
            vec![vec![
                ("a".to_owned(), "1".to_owned()),
                ("alertname".to_owned(), "A".to_owned()),
                ("severity".to_owned(), "high".to_owned()),
            ]]
        );
        assert_eq!(m[1].at, Duration::from_secs(3750));
        assert!(m[1].got.is_empty());
    }

    #[test]
    fn values_round_trip_and_gaps_are_underscores() {
        let s = RecordedSeries {
            name: "x".to_owned(),
            labels: vec![("a".to_owned(), "q\"".to_owned())],
            values: vec![None, Some(0.1 + 0.2), Some(3.0), Some(f64::NAN)],
        };
        assert_eq!(s.notation(), "_ 0.30000000000000004 3.0 _");
        assert_eq!(s.selector(), r#"x{a="q\""}"#);
    }
}

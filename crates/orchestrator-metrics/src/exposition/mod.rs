//! Parsing the Prometheus text exposition format (version 0.0.4).
//!
//! Used to read back what a registry renders, or what a remote `/metrics` serves. Malformed
//! input is a [`ParseError`] that names the line.
//!
//! ```
//! use orchestrator_metrics::exposition;
//!
//! let text = "# TYPE jobs_total counter\njobs_total{queue=\"a \\\"b\\\"\"} 3\n";
//! let parsed = exposition::parse(text)?;
//! let sample = &parsed.family("jobs_total").unwrap().samples[0];
//! assert_eq!(sample.label("queue"), Some("a \"b\""));
//! assert_eq!(sample.value, 3.0);
//! # Ok::<(), exposition::ParseError>(())
//! ```

mod line;
pub(crate) use line::written_label_pairs;
mod quantile;

pub use quantile::{Quantile, histogram_quantile, histogram_quantile_in};

use std::fmt;

use hashbrown::HashMap;

/// The type a family declares on its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// `summary`
    Summary,
    /// `untyped`, or no `# TYPE` line.
    Untyped,
}

impl FamilyType {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "counter" => FamilyType::Counter,
            "gauge" => FamilyType::Gauge,
            "histogram" => FamilyType::Histogram,
            "summary" => FamilyType::Summary,
            "untyped" => FamilyType::Untyped,
            _ => return None,
        })
    }

    /// The word used on the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            FamilyType::Counter => "counter",
            FamilyType::Gauge => "gauge",
            FamilyType::Histogram => "histogram",
            FamilyType::Summary => "summary",
            FamilyType::Untyped => "untyped",
        }
    }

    fn owns(self, family: &str, sample: &str) -> bool {
        let suffixes: &[&str] = match self {
            FamilyType::Histogram => &["_bucket", "_sum", "_count"],
            FamilyType::Summary => &["_sum", "_count"],
            _ => &[],
        };
        sample == family
            || suffixes
                .iter()
                .any(|s| sample.strip_suffix(s) == Some(family))
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series name (for a histogram, with its `_bucket`/`_sum`/`_count` suffix).
    pub name: String,
    /// Label pairs, unescaped, in the order they appeared.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds, when the line has one.
    pub timestamp_ms: Option<i64>,
}

impl Sample {
    /// The value of a label, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A metric family: the samples under one `# TYPE`/`# HELP` header.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family name.
    pub name: String,
    /// The declared type.
    pub kind: FamilyType,
    /// The help text, unescaped.
    pub help: Option<String>,
    /// The samples, in order.
    pub samples: Vec<Sample>,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// The families, in order of first appearance.
    pub families: Vec<Family>,
}

impl Exposition {
    /// The family with this name.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Every sample whose series name is `series`, across families.
    pub fn samples<'a>(&'a self, series: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .filter(move |s| s.name == series)
    }

    /// The sum of the values of every sample of `series` (for example every
    /// `orchestrator_requests_total` series), or `None` when there is none.
    pub fn sum(&self, series: &str) -> Option<f64> {
        self.samples(series)
            .map(|s| s.value)
            .fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
    }

    /// The buckets of histogram `name` as `(upper bound, cumulative count)`, summed over
    /// the series `keep` selects (like `sum by (le) (name_bucket{...})`).
    pub fn buckets(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> Vec<(f64, f64)> {
        let series = format!("{name}_bucket");
        let mut out: Vec<(f64, f64)> = Vec::new();
        for sample in self.samples(&series).filter(|s| keep(s)) {
            let Some(le) = sample.label("le").and_then(|le| le.parse::<f64>().ok()) else {
                continue;
            };
            match out.iter_mut().find(|(bound, _)| *bound == le) {
                Some(bucket) => bucket.1 += sample.value,
                None => out.push((le, sample.value)),
            }
        }
        out
    }

    /// The sum of the values of `series` over the samples `keep` selects.
    pub fn sum_where(&self, series: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
        // Folded from +0.0: `Sum` for f64 starts at -0.0, which would print as "-0".
        self.samples(series)
            .filter(|s| keep(s))
            .fold(0.0, |acc, s| acc + s.value)
    }

    /// The distinct `(a, b)` label value pairs among the samples of `series` that carry
    /// both labels, sorted (for example every `(provider, model)` of
    /// `orchestrator_llm_requests_total`).
    pub fn label_pairs(&self, series: &str, a: &str, b: &str) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .samples(series)
            .filter_map(|s| Some((s.label(a)?.to_owned(), s.label(b)?.to_owned())))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// The number of samples, all families together.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The metric name is missing or has characters outside `[a-zA-Z0-9_:]`.
    InvalidMetricName,
    /// A label name is missing or invalid.
    InvalidLabelName,
    /// A label is not `name="value"`, or the label set is not closed by `}`.
    InvalidLabelSet,
    /// A label value has an escape other than `\\`, `\"` and `\n`.
    InvalidEscape,
    /// The value is not a number.
    InvalidValue(String),
    /// The timestamp is not an integer.
    InvalidTimestamp(String),
    /// A `# TYPE` line names an unknown type.
    InvalidType(String),
    /// A `# HELP` or `# TYPE` line has no metric name.
    InvalidDescriptor,
    /// Something follows the timestamp.
    TrailingCharacters,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::InvalidMetricName => f.write_str("invalid or missing metric name"),
            ParseErrorKind::InvalidLabelName => f.write_str("invalid or missing label name"),
            ParseErrorKind::InvalidLabelSet => {
                f.write_str("label set is not a list of name=\"value\" closed by }")
            }
            ParseErrorKind::InvalidEscape => {
                f.write_str("label value has an escape other than \\\\, \\\" or \\n")
            }
            ParseErrorKind::InvalidValue(v) => write!(f, "value {v:?} is not a number"),
            ParseErrorKind::InvalidTimestamp(v) => write!(f, "timestamp {v:?} is not an integer"),
            ParseErrorKind::InvalidType(v) => write!(f, "unknown metric type {v:?}"),
            ParseErrorKind::InvalidDescriptor => {
                f.write_str("# HELP or # TYPE without a metric name")
            }
            ParseErrorKind::TrailingCharacters => {
                f.write_str("unexpected text after the timestamp")
            }
        }
    }
}

/// A malformed exposition: the 1-based line number and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// Parses a text exposition.
pub fn parse(text: &str) -> Result<Exposition, ParseError> {
    let mut out = Exposition::default();
    // Families by name: a linear search per new name made `m0 1\n … m999999 1\n` cost
    // about 5·10¹¹ comparisons.
    let mut index: HashMap<String, usize> = HashMap::new();
    // Index of the family the last # HELP / # TYPE line opened.
    let mut current: Option<usize> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let at = |kind| ParseError { line: i + 1, kind };
        let line = raw
            .strip_suffix('\r')
            .unwrap_or(raw)
            .trim_start_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(descriptor) = line::descriptor(comment).map_err(at)? {
                let idx = family_index(&mut out, &mut index, &descriptor.name);
                let family = &mut out.families[idx];
                match descriptor.kind {
                    line::DescriptorKind::Help(help) => family.help = Some(help),
                    line::DescriptorKind::Type(word) => {
                        family.kind = FamilyType::parse(&word)
                            .ok_or_else(|| at(ParseErrorKind::InvalidType(word)))?;
                    }
                }
                current = Some(idx);
            }
            continue;
        }
        let sample = line::sample(line).map_err(at)?;
        let idx = match current {
            Some(idx)
                if out.families[idx]
                    .kind
                    .owns(&out.families[idx].name, &sample.name) =>
            {
                idx
            }
            _ => {
                let idx = family_index(&mut out, &mut index, &sample.name);
                current = Some(idx);
                idx
            }
        };
        out.families[idx].samples.push(sample);
    }
    Ok(out)
}

fn family_index(out: &mut Exposition, index: &mut HashMap<String, usize>, name: &str) -> usize {
    if let Some(&idx) = index.get(name) {
        return idx;
    }
    out.families.push(Family {
        name: name.to_owned(),
        kind: FamilyType::Untyped,
        help: None,
        samples: Vec::new(),
    });
    let idx = out.families.len() - 1;
    index.insert(name.to_owned(), idx);
    idx
}

#[cfg(test)]
mod tests;

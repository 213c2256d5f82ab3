//! The cardinality guard: every label value that can come from outside goes through it.
//!
//! Each guarded label has an allow-list or a cap on distinct values. A value outside the
//! allow-list, past the cap, or longer than the maximum length is replaced by `"other"`, and
//! the sample is counted in `orchestrator_label_values_folded_total{label}`. There is one
//! guard per label shared by every recorder, so a model name is either kept in every metric
//! or folded in every metric, never half and half.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::catalogue::{self, labels::GUARDED_LABELS};
use crate::{CounterHandle, Registry};

/// The value a folded label takes.
pub const OTHER: &str = "other";

/// A label whose values go through the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardedLabel {
    /// `route`: the route template.
    Route,
    /// `provider`: the LLM provider.
    Provider,
    /// `model`: the LLM model.
    Model,
    /// `cache`: the cache name.
    Cache,
    /// `target`: the named dependency.
    Target,
    /// `component`: where an error happened.
    Component,
    /// `kind`: the kind of error.
    Kind,
}

impl GuardedLabel {
    /// Every guarded label, in the order of `catalogue::labels::GUARDED_LABELS`.
    pub const ALL: [GuardedLabel; 7] = [
        GuardedLabel::Route,
        GuardedLabel::Provider,
        GuardedLabel::Model,
        GuardedLabel::Cache,
        GuardedLabel::Target,
        GuardedLabel::Component,
        GuardedLabel::Kind,
    ];

    /// The label name.
    pub const fn as_str(self) -> &'static str {
        GUARDED_LABELS[self as usize]
    }

    /// The default cap on distinct values.
    pub const fn default_cap(self) -> usize {
        match self {
            GuardedLabel::Route | GuardedLabel::Model => 100,
            GuardedLabel::Provider | GuardedLabel::Cache => 20,
            GuardedLabel::Target | GuardedLabel::Kind => 50,
            GuardedLabel::Component => 30,
        }
    }
}

impl fmt::Display for GuardedLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the values of one guarded label are bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelPolicy {
    /// Keep the first `n` distinct values; later new values fold into `"other"`.
    Cap(usize),
    /// Keep only these values; every other value folds into `"other"`.
    AllowList(Vec<String>),
}

/// The limits of every guarded label. The defaults cap routes and models at 100 distinct
/// values, providers and caches at 20, dependency targets and error kinds at 50, components
/// at 30, and fold values longer than 128 bytes.
///
/// ```
/// use orchestrator_metrics::{CardinalityLimits, GuardedLabel};
///
/// let limits = CardinalityLimits::default()
///     .cap(GuardedLabel::Route, 200)
///     .allow(GuardedLabel::Provider, ["openai", "anthropic"])
///     .max_value_len(64);
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardinalityLimits {
    policies: [LabelPolicy; GuardedLabel::ALL.len()],
    max_value_len: usize,
}

impl Default for CardinalityLimits {
    fn default() -> Self {
        CardinalityLimits {
            policies: GuardedLabel::ALL.map(|l| LabelPolicy::Cap(l.default_cap())),
            max_value_len: 128,
        }
    }
}

impl CardinalityLimits {
    /// Caps the number of distinct values of `label`.
    pub fn cap(mut self, label: GuardedLabel, n: usize) -> Self {
        self.policies[label as usize] = LabelPolicy::Cap(n);
        self
    }

    /// Keeps only these values of `label`.
    pub fn allow<I, S>(mut self, label: GuardedLabel, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.policies[label as usize] =
            LabelPolicy::AllowList(values.into_iter().map(Into::into).collect());
        self
    }

    /// Folds values longer than `bytes` bytes.
    pub fn max_value_len(mut self, bytes: usize) -> Self {
        self.max_value_len = bytes;
        self
    }

    /// The policy of one label.
    pub fn policy(&self, label: GuardedLabel) -> &LabelPolicy {
        &self.policies[label as usize]
    }
}

#[derive(Debug)]
struct LabelGuard {
    policy: LabelPolicy,
    seen: Mutex<HashSet<Box<str>>>,
    folded: CounterHandle,
}

/// The guard of every guarded label, built from [`CardinalityLimits`] over a registry.
#[derive(Debug)]
pub struct CardinalityGuard {
    labels: [LabelGuard; GuardedLabel::ALL.len()],
    max_value_len: usize,
}

impl CardinalityGuard {
    /// A guard with these limits, counting folds in `registry`.
    pub fn new(registry: &Registry, limits: &CardinalityLimits) -> Self {
        let labels = GuardedLabel::ALL.map(|label| LabelGuard {
            policy: limits.policy(label).clone(),
            seen: Mutex::default(),
            folded: folded_counter(registry, label),
        });
        CardinalityGuard {
            labels,
            max_value_len: limits.max_value_len,
        }
    }

    /// The value to record for `value` of `label`: `value` itself, or [`OTHER`].
    ///
    /// Once a value is admitted it stays admitted, so callers may cache what they resolved
    /// for an admitted value. Folded values must not be cached by their raw value, or the
    /// cache would grow without bound.
    pub fn admit<'a>(&self, label: GuardedLabel, value: &'a str) -> &'a str {
        if value == OTHER {
            return OTHER;
        }
        let guard = &self.labels[label as usize];
        let admitted = value.len() <= self.max_value_len
            && match &guard.policy {
                LabelPolicy::AllowList(values) => values.iter().any(|v| v == value),
                LabelPolicy::Cap(cap) => {
                    let mut seen = guard.seen.lock().unwrap_or_else(PoisonError::into_inner);
                    seen.contains(value) || (seen.len() < *cap && seen.insert(value.into()))
                }
            };
        if admitted {
            value
        } else {
            guard.folded.increment(1);
            OTHER
        }
    }

    /// How many samples of `label` were folded so far.
    pub fn folded(&self, label: GuardedLabel) -> u64 {
        self.labels[label as usize].folded.get() as u64
    }
}

fn folded_counter(registry: &Registry, label: GuardedLabel) -> CounterHandle {
    match registry.counter(&catalogue::LABEL_VALUES_FOLDED_TOTAL, &[label.as_str()]) {
        Ok(handle) => handle,
        // The catalogue definition takes exactly one label, so this cannot fail; a detached
        // counter still counts, it just is not rendered.
        Err(_) => CounterHandle {
            cell: Default::default(),
            rejections: registry.rejections(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_catalogue_order() {
        for (i, label) in GuardedLabel::ALL.iter().enumerate() {
            assert_eq!(*label as usize, i);
            assert_eq!(label.as_str(), GUARDED_LABELS[i]);
        }
    }

    #[test]
    fn cap_keeps_first_values_and_folds_the_rest() {
        let registry = Registry::new();
        let guard = CardinalityGuard::new(
            &registry,
            &CardinalityLimits::default().cap(GuardedLabel::Model, 2),
        );
        assert_eq!(guard.admit(GuardedLabel::Model, "a"), "a");
        assert_eq!(guard.admit(GuardedLabel::Model, "b"), "b");
        assert_eq!(guard.admit(GuardedLabel::Model, "c"), OTHER);
        assert_eq!(guard.admit(GuardedLabel::Model, "a"), "a");
        assert_eq!(guard.admit(GuardedLabel::Model, "c"), OTHER);
        assert_eq!(guard.folded(GuardedLabel::Model), 2);
        assert_eq!(guard.folded(GuardedLabel::Route), 0);
    }

    #[test]
    fn allow_list_and_length_limit() {
        let registry = Registry::new();
        let limits = CardinalityLimits::default()
            .allow(GuardedLabel::Provider, ["openai"])
            .max_value_len(8);
        let guard = CardinalityGuard::new(&registry, &limits);
        assert_eq!(guard.admit(GuardedLabel::Provider, "openai"), "openai");
        assert_eq!(guard.admit(GuardedLabel::Provider, "evil"), OTHER);
        assert_eq!(guard.admit(GuardedLabel::Route, "/a/very/long/path"), OTHER);
        assert_eq!(guard.admit(GuardedLabel::Route, OTHER), OTHER);
        assert_eq!(guard.folded(GuardedLabel::Route), 1);
    }
}

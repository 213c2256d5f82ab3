//! The cardinality guard: every label value that can come from outside goes through it.
//!
//! Each guarded label has an allow-list or a cap on distinct values. A value outside the
//! allow-list, past the cap, or longer than the maximum length is replaced by `"other"`, and
//! the sample is counted in `orchestrator_label_values_folded_total{label}`. There is one
//! guard per label shared by every recorder, so a model name is either kept in every metric
//! or folded in every metric, never half and half.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

// foldhash through hashbrown: a label value is hashed on every folded call.
use hashbrown::HashSet;

use self::frozen::Frozen;
use crate::catalogue::{self, labels::GUARDED_LABELS};
use crate::hashing::hash_str;
use crate::{CounterHandle, Registry};

mod frozen;

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
    /// `tenant`: the customer, team or API key a request is billed to.
    Tenant,
    /// `agent`: the agent a run belongs to.
    Agent,
    /// `tool`: the tool an agent called; its name may come from model output.
    Tool,
}

impl GuardedLabel {
    /// Every guarded label, in the order of `catalogue::labels::GUARDED_LABELS`.
    pub const ALL: [GuardedLabel; 10] = [
        GuardedLabel::Route,
        GuardedLabel::Provider,
        GuardedLabel::Model,
        GuardedLabel::Cache,
        GuardedLabel::Target,
        GuardedLabel::Component,
        GuardedLabel::Kind,
        GuardedLabel::Tenant,
        GuardedLabel::Agent,
        GuardedLabel::Tool,
    ];

    /// The label name.
    pub const fn as_str(self) -> &'static str {
        GUARDED_LABELS[self as usize]
    }

    /// The default cap on distinct values.
    pub const fn default_cap(self) -> usize {
        match self {
            GuardedLabel::Route | GuardedLabel::Model | GuardedLabel::Tenant => 100,
            GuardedLabel::Provider | GuardedLabel::Cache => 20,
            GuardedLabel::Target | GuardedLabel::Kind | GuardedLabel::Agent => 50,
            GuardedLabel::Tool => 100,
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

/// The limits of every guarded label. The defaults cap routes, models and tenants at 100
/// distinct values, providers and caches at 20, dependency targets and error kinds at 50, components
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
    reserved: [Vec<Box<str>>; GuardedLabel::ALL.len()],
    max_value_len: usize,
}

impl Default for CardinalityLimits {
    fn default() -> Self {
        CardinalityLimits {
            policies: GuardedLabel::ALL.map(|l| LabelPolicy::Cap(l.default_cap())),
            reserved: Default::default(),
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

    /// Always admits these values of `label`, outside its cap: the metrics builder reserves
    /// the providers and models of its price table, so that a flood of junk names can never
    /// fold a priced model into `"other"`.
    pub fn reserve<I, S>(mut self, label: GuardedLabel, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.reserved[label as usize].extend(values.into_iter().map(|v| v.as_ref().into()));
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
    // Always admitted, outside the cap: the priced providers and models.
    reserved: HashSet<Box<str>>,
    seen: Mutex<HashSet<Box<str>>>,
    // The admitted values once the cap is reached: read without a lock, so that a flood of
    // new values folds without contending on the mutex or allocating. Hashed with
    // `hashing::hash_str`, so that a caller that already hashed the value does not again.
    full: OnceLock<Frozen>,
    folded: CounterHandle,
}

impl LabelGuard {
    /// Whether `value` is admitted; `hash` is its `hash_str`, when the caller has it.
    fn admits(&self, value: &str, hash: Option<u64>) -> bool {
        // Full: one lookup, no lock (the frozen set holds the reserved values too).
        if let Some(full) = self.full.get() {
            let hash = hash.unwrap_or_else(|| hash_str(value));
            return full.contains(value, hash);
        }
        if self.reserved.contains(value) {
            return true;
        }
        match &self.policy {
            LabelPolicy::AllowList(values) => values.iter().any(|v| v == value),
            LabelPolicy::Cap(cap) => {
                let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
                if seen.contains(value) {
                    return true;
                }
                if seen.len() < *cap {
                    seen.insert(value.into());
                    return true;
                }
                let _ = self
                    .full
                    .set(Frozen::new(seen.iter().chain(self.reserved.iter())));
                false
            }
        }
    }
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
            reserved: limits.reserved[label as usize].iter().cloned().collect(),
            seen: Mutex::default(),
            full: OnceLock::new(),
            folded: folded_counter(registry, label),
        });
        CardinalityGuard {
            labels,
            max_value_len: limits.max_value_len,
        }
    }

    /// The value to record for `value` of `label`: `value` itself, or [`OTHER`]. ASCII
    /// control characters in it are replaced by `?` (a raw carriage return is legal in the
    /// text format but splits lines in common parsers).
    ///
    /// Once a value is admitted it stays admitted, so callers may cache what they resolved
    /// for an admitted value. Folded values must not be cached by their raw value, or the
    /// cache would grow without bound. Once a capped label is full, folding takes no lock
    /// and allocates nothing.
    pub fn admit<'a>(&self, label: GuardedLabel, value: &'a str) -> Cow<'a, str> {
        self.admit_with(label, value, None)
    }

    /// [`admit`](Self::admit), for a caller that has `value`'s `hashing::hash_str`.
    #[inline]
    pub(crate) fn admit_hashed<'a>(
        &self,
        label: GuardedLabel,
        value: &'a str,
        hash: u64,
    ) -> Cow<'a, str> {
        self.admit_with(label, value, Some(hash))
    }

    fn admit_with<'a>(
        &self,
        label: GuardedLabel,
        value: &'a str,
        hash: Option<u64>,
    ) -> Cow<'a, str> {
        if value == OTHER {
            return Cow::Borrowed(OTHER);
        }
        let (value, hash): (Cow<'a, str>, _) = if has_control(value) {
            let cleaned = value
                .chars()
                .map(|c| if c.is_ascii_control() { '?' } else { c })
                .collect();
            // The caller's hash is of the raw value.
            (Cow::Owned(cleaned), None)
        } else {
            (Cow::Borrowed(value), hash)
        };
        let guard = &self.labels[label as usize];
        if value.len() <= self.max_value_len && guard.admits(&value, hash) {
            value
        } else {
            guard.folded.increment(1);
            Cow::Borrowed(OTHER)
        }
    }

    /// Whether `value`, whose `hashing::hash_str` is `hash`, surely folds, decided without
    /// a probe for most values of a flood: `label` is full, and `value` is free of control
    /// characters (a cleaned value may be admitted) and surely not admitted. When it
    /// returns true the fold is counted, as [`admit`](Self::admit) would have; when it
    /// returns false, call `admit` (the value may still fold).
    #[inline]
    pub(crate) fn surely_folds(&self, label: GuardedLabel, value: &str, hash: u64) -> bool {
        let guard = &self.labels[label as usize];
        let folds = match guard.full.get() {
            Some(full) => full.surely_absent(hash) && value != OTHER && !has_control(value),
            None => false,
        };
        if folds {
            guard.folded.increment(1);
        }
        folds
    }

    /// Whether `value` is always recorded as itself for `label`: reserved, not [`OTHER`],
    /// no longer than the length cap and free of control characters. The LLM recorder
    /// checks its price table with it: when every priced model is kept, a folded model has
    /// no price and its lookup can be skipped.
    pub(crate) fn always_keeps(&self, label: GuardedLabel, value: &str) -> bool {
        value != OTHER
            && value.len() <= self.max_value_len
            && !has_control(value)
            && self.labels[label as usize].reserved.contains(value)
    }

    /// Holds `label`'s mutex, for tests proving a path never takes it.
    #[cfg(test)]
    pub(crate) fn hold(&self, label: GuardedLabel) -> std::sync::MutexGuard<'_, HashSet<Box<str>>> {
        self.labels[label as usize]
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many samples of `label` were folded so far.
    pub fn folded(&self, label: GuardedLabel) -> u64 {
        self.labels[label as usize].folded.get() as u64
    }
}

/// Whether `s` has an ASCII control character (below 0x20, or 0x7f), eight bytes at a
/// time: every guarded value is scanned on every folded call.
fn has_control(s: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `w` below `n` (n <= 0x80) leaves the high bit of `(w - n..n) & !w` set in
    // some byte: the word has one exactly when this is non-zero.
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH != 0;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_ne_bytes(word);
        // 0x7f is the byte that becomes zero when xored with 0x7f.
        if below(w, 0x20) || below(w ^ (ONES * 0x7f), 1) {
            return true;
        }
    }
    chunks.remainder().iter().any(u8::is_ascii_control)
}

fn folded_counter(registry: &Registry, label: GuardedLabel) -> CounterHandle {
    match registry.counter(&catalogue::LABEL_VALUES_FOLDED_TOTAL, &[label.as_str()]) {
        Ok(handle) => handle,
        // The catalogue definition takes exactly one label, so this cannot fail; a detached
        // counter still counts, it just is not rendered.
        Err(_) => CounterHandle {
            cell: Default::default(),
            rejections: registry.rejections().clone(),
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
        assert_eq!(guard.admit(GuardedLabel::Model, "b"), "b");
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

    /// Issue 14, row 10: reserved (priced) values survive a flood of junk, and control
    /// characters never reach a label.
    #[test]
    fn reserved_values_outlive_a_flood_and_control_characters_are_replaced() {
        let registry = Registry::new();
        let limits = CardinalityLimits::default()
            .cap(GuardedLabel::Model, 3)
            .reserve(GuardedLabel::Model, ["gpt-4o-mini"]);
        let guard = CardinalityGuard::new(&registry, &limits);
        for i in 0..1_000 {
            let _ = guard.admit(GuardedLabel::Model, &format!("junk-{i}"));
        }
        assert_eq!(
            guard.admit(GuardedLabel::Model, "gpt-4o-mini"),
            "gpt-4o-mini"
        );
        assert_eq!(guard.admit(GuardedLabel::Model, "junk-1"), "junk-1");
        assert_eq!(guard.admit(GuardedLabel::Model, "junk-999"), OTHER);
        assert_eq!(guard.folded(GuardedLabel::Model), 1_000 - 3 + 1);
        assert_eq!(guard.admit(GuardedLabel::Route, "/a\r\nb\u{7}"), "/a??b?");
    }

    /// The word-at-a-time scan agrees with `is_ascii_control` on every byte at every
    /// position of a word and of the tail, beside printable and multi-byte neighbours.
    #[test]
    fn control_characters_are_found_anywhere() {
        for len in 1..=19 {
            for at in 0..len {
                for b in 0..=0x7fu8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let s = std::str::from_utf8(&bytes).expect("ascii");
                    assert_eq!(
                        has_control(s),
                        b.is_ascii_control(),
                        "{b:#x} at {at} of {len}"
                    );
                }
            }
        }
        assert!(!has_control("modèle-é-ü-日本語-gpt"));
        assert!(has_control("modèle-é-ü-日本語\u{7f}"));
        assert!(!has_control(""));
    }
}

//! The admitted values of a full label: read without a lock, and mostly without a probe.

use hashbrown::HashTable;

use crate::hashing::hash_str;

/// Filter bits per admitted value: with two bits per value, about 1 in 250 values never
/// admitted is let through to the set (the set then answers).
const BITS_PER_VALUE: usize = 32;

/// The values a label admitted when its cap was reached (the reserved ones included),
/// frozen: a flood of new values is answered without a lock or an allocation.
#[derive(Debug)]
pub(super) struct Frozen {
    set: HashTable<Box<str>>,
    /// A Bloom filter of the set's hashes, two bits per value: a value with either bit
    /// clear was never admitted, which answers most of a flood with two loads instead of
    /// a probe and a string comparison.
    filter: Box<[u64]>,
    /// The number of filter bits, minus one (a power of two).
    mask: u64,
}

impl Frozen {
    /// The set of `values`, each once.
    pub(super) fn new<'a>(values: impl Iterator<Item = &'a Box<str>>) -> Self {
        let mut set: HashTable<Box<str>> = HashTable::new();
        let mut hashes = Vec::new();
        for v in values {
            let hash = hash_str(v);
            if set.find(hash, |f| **f == **v).is_none() {
                set.insert_unique(hash, v.clone(), |f| hash_str(f));
                hashes.push(hash);
            }
        }
        let bits = (set.len() * BITS_PER_VALUE).next_power_of_two().max(512);
        let mut frozen = Frozen {
            set,
            filter: vec![0; bits / 64].into(),
            mask: bits as u64 - 1,
        };
        for hash in hashes {
            for bit in frozen.bits(hash) {
                frozen.filter[(bit / 64) as usize] |= 1 << (bit % 64);
            }
        }
        frozen
    }

    /// The two filter bits of a hash: from its low and its high half (the set's probe uses
    /// the low bits and the top seven, the filter is just as well served by any).
    #[inline]
    fn bits(&self, hash: u64) -> [u64; 2] {
        [hash & self.mask, (hash >> 32) & self.mask]
    }

    /// Whether a value with this `hash_str` was surely never admitted.
    #[inline]
    pub(super) fn surely_absent(&self, hash: u64) -> bool {
        self.bits(hash).iter().any(|bit| {
            let word = self.filter.get((bit / 64) as usize).copied().unwrap_or(0);
            word & (1 << (bit % 64)) == 0
        })
    }

    /// Whether `value`, whose `hash_str` is `hash`, was admitted.
    #[inline]
    pub(super) fn contains(&self, value: &str, hash: u64) -> bool {
        !self.surely_absent(hash) && self.set.find(hash, |v| **v == *value).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter never turns an admitted value away, and turns away nearly every other:
    /// the set behind it is then rarely probed.
    #[test]
    fn the_filter_keeps_every_member_and_lets_few_strangers_through() {
        let admitted: Vec<Box<str>> = (0..105).map(|i| format!("model-{i}").into()).collect();
        let frozen = Frozen::new(admitted.iter().chain(admitted.iter().take(5)));
        assert_eq!(frozen.set.len(), 105, "each value once");
        for v in &admitted {
            assert!(!frozen.surely_absent(hash_str(v)), "{v}");
            assert!(frozen.contains(v, hash_str(v)), "{v}");
        }
        let strangers = 100_000;
        let through = (0..strangers)
            .map(|i| format!("flood-{i}"))
            .filter(|v| !frozen.surely_absent(hash_str(v)))
            .count();
        assert!(
            through < strangers / 100,
            "{through} of {strangers} reached the set"
        );
        assert!(!frozen.contains("flood-1", hash_str("flood-1")));
        let empty = Frozen::new(std::iter::empty());
        assert!(empty.surely_absent(hash_str("anything")));
    }

    /// Issue 14 row 10: asking `surely_folds` before `admit` (the LLM recorder's order)
    /// gives every value the verdict and the fold count `admit` alone gives, for admitted,
    /// reserved, new, `other`, too long and control-character values, before and after the
    /// cap is reached.
    #[test]
    fn surely_folds_then_admit_agrees_with_admit_alone() {
        use crate::{CardinalityGuard, CardinalityLimits, GuardedLabel, OTHER, Registry};
        let label = GuardedLabel::Model;
        let limits = CardinalityLimits::default()
            .cap(label, 3)
            .reserve(label, ["gpt-4o"])
            .max_value_len(12);
        let (alone, fast) = (Registry::new(), Registry::new());
        let (alone, fast) = (
            CardinalityGuard::new(&alone, &limits),
            CardinalityGuard::new(&fast, &limits),
        );
        let mut values: Vec<String> = ["a", "b", "c?d", "gpt-4o", OTHER, "a"]
            .into_iter()
            .map(String::from)
            .collect();
        values.extend((0..2_000).map(|i| format!("flood-{i}")));
        values
            .extend(["c\rd", "gpt-4o", "a-very-long-name", "b", OTHER, "\u{7f}"].map(String::from));
        let (mut fast_path, mut folded) = (0, 0);
        for v in &values {
            let expected = alone.admit(label, v);
            let got = if fast.surely_folds(label, v, hash_str(v)) {
                fast_path += 1;
                std::borrow::Cow::Borrowed(OTHER)
            } else {
                fast.admit(label, v)
            };
            assert_eq!(got, expected, "{v:?}");
            folded += usize::from(got == OTHER && v != OTHER);
            assert_eq!(fast.folded(label), alone.folded(label), "{v:?}");
        }
        assert_eq!(alone.folded(label) as usize, folded);
        assert!(
            fast_path > 1_900,
            "the filter answered {fast_path} of the flood"
        );
    }
}

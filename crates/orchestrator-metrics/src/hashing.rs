//! One process-wide string hash, so that a label value hashed once is looked up in the
//! cardinality guard, the price table and the recorders' handle caches without hashing
//! it again (a flood of new model names pays for one hash of each string per call).
//!
//! foldhash, seeded at random once per process: a client cannot choose colliding names.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use hashbrown::DefaultHashBuilder;

fn state() -> &'static DefaultHashBuilder {
    static STATE: OnceLock<DefaultHashBuilder> = OnceLock::new();
    STATE.get_or_init(DefaultHashBuilder::default)
}

/// The hash of one string.
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = state().build_hasher();
    h.write(s.as_bytes());
    h.finish()
}

/// The hash of an ordered pair of strings: `pair` of their two hashes, so that a caller
/// holding the two hashes already finds the same key without hashing again.
#[inline]
pub(crate) fn hash_pair(a: &str, b: &str) -> u64 {
    pair(hash_str(a), hash_str(b))
}

/// The hash of an ordered pair of strings, from their two hashes: `(a, b)` and `(b, a)`
/// differ, and so do `("ab", "c")` and `("a", "bc")`, whose string hashes differ.
#[inline]
pub(crate) fn pair(a: u64, b: u64) -> u64 {
    // foldhash's folded multiply, with different constants on each side so that swapping
    // the two changes the product.
    let m = u128::from(a ^ 0x243F_6A88_85A3_08D3) * u128::from(b ^ 0x1319_8A2E_0370_7344);
    (m as u64) ^ ((m >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_keep_order_and_boundaries() {
        let h = |a: &str, b: &str| pair(hash_str(a), hash_str(b));
        assert_eq!(h("openai", "gpt-4o"), h("openai", "gpt-4o"));
        assert_ne!(h("openai", "gpt-4o"), h("gpt-4o", "openai"));
        assert_ne!(h("ab", "c"), h("a", "bc"));
        assert_ne!(h("", "x"), h("x", ""));
    }
}

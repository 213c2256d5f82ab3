//! The per-recorder cache from label values to resolved handles.
//!
//! Reads are lock-free: an `ArcSwap` load and a hash lookup with a borrowed key, no
//! allocation. Writes (a label combination seen for the first time) copy the map under a
//! mutex and swap it in; they are rare because every key is bounded by the cardinality
//! guard, and folded values are cached under `"other"`, never under their raw value.

use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use hashbrown::{Equivalent, HashMap};

pub(crate) struct HandleCache<K, V> {
    map: ArcSwap<HashMap<K, V>>,
    write: Mutex<()>,
}

impl<K, V> std::fmt::Debug for HandleCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandleCache")
            .field("len", &self.map.load().len())
            .finish()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> HandleCache<K, V> {
    pub(crate) fn new() -> Self {
        HandleCache {
            map: ArcSwap::from_pointee(HashMap::new()),
            write: Mutex::new(()),
        }
    }

    /// Runs `f` on the cached value of `key`, if there is one.
    #[inline]
    pub(crate) fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.map.load().get(key).map(f)
    }

    /// The cached value of `key`, made with `make` and cached if absent.
    pub(crate) fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        let _write = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.map.load_full();
        if let Some(v) = current.get(&key) {
            return v.clone();
        }
        let value = make();
        let mut next = HashMap::clone(&current);
        next.insert(key, value.clone());
        self.map.store(Arc::new(next));
        value
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.load().len()
    }
}

/// An owned key: one string plus small copyable data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key<E> {
    pub(crate) s: Box<str>,
    pub(crate) e: E,
}

/// The borrowed form of [`Key`]; hashes identically.
#[derive(Hash)]
pub(crate) struct KeyRef<'a, E> {
    pub(crate) s: &'a str,
    pub(crate) e: E,
}

impl<E: PartialEq> Equivalent<Key<E>> for KeyRef<'_, E> {
    fn equivalent(&self, key: &Key<E>) -> bool {
        self.e == key.e && self.s == &*key.s
    }
}

/// An owned key of two strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key2 {
    pub(crate) a: Box<str>,
    pub(crate) b: Box<str>,
}

/// The borrowed form of [`Key2`]; hashes identically.
#[derive(Hash)]
pub(crate) struct Key2Ref<'a> {
    pub(crate) a: &'a str,
    pub(crate) b: &'a str,
}

impl Equivalent<Key2> for Key2Ref<'_> {
    fn equivalent(&self, key: &Key2) -> bool {
        self.a == &*key.a && self.b == &*key.b
    }
}

impl Key2 {
    pub(crate) fn new(a: &str, b: &str) -> Self {
        Key2 {
            a: a.into(),
            b: b.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_keys_find_owned_ones() {
        let cache: HandleCache<Key<u8>, u32> = HandleCache::new();
        assert_eq!(cache.with(&KeyRef { s: "a", e: 1 }, |v| *v), None);
        cache.get_or_insert_with(
            Key {
                s: "a".into(),
                e: 1,
            },
            || 7,
        );
        assert_eq!(cache.with(&KeyRef { s: "a", e: 1 }, |v| *v), Some(7));
        assert_eq!(cache.with(&KeyRef { s: "a", e: 2 }, |v| *v), None);
        assert_eq!(
            cache.get_or_insert_with(
                Key {
                    s: "a".into(),
                    e: 1
                },
                || 9
            ),
            7
        );

        let two: HandleCache<Key2, u32> = HandleCache::new();
        two.get_or_insert_with(Key2::new("p", "m"), || 3);
        assert_eq!(two.with(&Key2Ref { a: "p", b: "m" }, |v| *v), Some(3));
        assert_eq!(two.with(&Key2Ref { a: "pm", b: "" }, |v| *v), None);
        assert_eq!(two.len(), 1);
    }
}

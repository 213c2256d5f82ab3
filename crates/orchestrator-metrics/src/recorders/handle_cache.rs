//! The per-recorder cache from label values to resolved handles.
//!
//! Entries are never removed (every key is bounded by the cardinality guard, and folded
//! values are cached under `"other"`, never under their raw value), so the cache is a
//! grow-only open-addressing table whose slots are set once:
//!
//! - a read hashes the label bytes once, mixes in the small fields with a multiply, and
//!   probes slots with plain acquire loads: no lock, no reference count, no allocation;
//! - a write (a label combination seen for the first time) takes a mutex; when the table is
//!   half full it is copied into one twice as large, linked from the old one. Old tables
//!   stay until the cache is dropped; together they hold fewer slots than the newest.
//!
//! A reader that races a growth may look in the previous table and miss a new entry; it
//! then takes the slow path, which finds it under the mutex.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::hashing::{hash_pair, hash_str};

const INITIAL_CAPACITY: usize = 16;

struct Table<K, V> {
    slots: Box<[OnceLock<(u64, K, V)>]>,
    /// Entries in this table; written under the cache's mutex only.
    len: AtomicUsize,
    next: OnceLock<Box<Table<K, V>>>,
}

impl<K, V> Table<K, V> {
    fn new(capacity: usize) -> Self {
        Table {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            next: OnceLock::new(),
        }
    }

    fn newest(&self) -> &Self {
        let mut table = self;
        while let Some(next) = table.next.get() {
            table = next;
        }
        table
    }

    #[inline]
    fn find(&self, hash: u64, eq: impl Fn(&K) -> bool) -> Option<&V> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        // The table is never more than half full, so an empty slot ends every probe.
        loop {
            let (h, k, v) = self.slots[i].get()?;
            if *h == hash && eq(k) {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts an entry in the first empty slot of its probe sequence (caller holds the mutex
    /// and has checked the key is absent and there is room).
    fn put(&self, hash: u64, key: K, value: V) {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i].get().is_some() {
            i = (i + 1) & mask;
        }
        let _ = self.slots[i].set((hash, key, value));
        self.len.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) struct HandleCache<K, V> {
    root: Table<K, V>,
    write: Mutex<()>,
}

impl<K, V> std::fmt::Debug for HandleCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.root.newest().len.load(Ordering::Relaxed);
        f.debug_struct("HandleCache").field("len", &len).finish()
    }
}

impl<K: Clone, V: Clone> HandleCache<K, V> {
    pub(crate) fn new() -> Self {
        HandleCache {
            root: Table::new(INITIAL_CAPACITY),
            write: Mutex::new(()),
        }
    }

    /// The hash of a key made of one string and up to 64 bits of small fields.
    #[inline]
    pub(crate) fn hash(&self, s: &str, small: u64) -> u64 {
        mix(hash_str(s), small)
    }

    /// The hash of a key made of two strings: `hashing::hash_pair`, so a caller that hashed
    /// them already (the LLM recorder) gets the same hash with `hashing::pair`.
    #[inline]
    pub(crate) fn hash2(&self, a: &str, b: &str) -> u64 {
        hash_pair(a, b)
    }

    /// The cached value with this hash whose key satisfies `eq`.
    #[inline]
    pub(crate) fn find(&self, hash: u64, eq: impl Fn(&K) -> bool) -> Option<&V> {
        self.root.newest().find(hash, eq)
    }

    /// The cached value of `key`, made with `make` and cached if absent.
    pub(crate) fn get_or_insert_with(
        &self,
        hash: u64,
        key: K,
        eq: impl Fn(&K) -> bool,
        make: impl FnOnce() -> V,
    ) -> V {
        let _write = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let mut table = self.root.newest();
        if let Some(v) = table.find(hash, &eq) {
            return v.clone();
        }
        if (table.len.load(Ordering::Relaxed) + 1) * 2 > table.slots.len() {
            let bigger = Table::new(table.slots.len() * 2);
            for (h, k, v) in table.slots.iter().filter_map(OnceLock::get) {
                bigger.put(*h, k.clone(), v.clone());
            }
            let _ = table.next.set(Box::new(bigger));
            table = table.newest();
        }
        let value = make();
        table.put(hash, key, value.clone());
        value
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.root.newest().len.load(Ordering::Relaxed)
    }
}

/// Mixes small fields into a hash (a multiply by an odd constant spreads them over all bits).
#[inline]
fn mix(hash: u64, small: u64) -> u64 {
    (hash ^ small.wrapping_mul(0x9E37_79B9_7F4A_7C15)).rotate_left(17)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn eq<'a>(s: &'a str, e: u64) -> impl Fn(&(Box<str>, u64)) -> bool + 'a {
        move |k| k.1 == e && &*k.0 == s
    }

    #[test]
    fn finds_what_was_inserted_across_growths() {
        let cache: HandleCache<(Box<str>, u64), u64> = HandleCache::new();
        // 250 routes x 4 small values: 1000 distinct keys.
        let key = |i: u64| (format!("/route/{}", i % 250), i / 250);
        for i in 0..1000u64 {
            let (route, small) = key(i);
            let h = cache.hash(&route, small);
            let v =
                cache.get_or_insert_with(h, (route.clone().into(), small), eq(&route, small), || i);
            assert_eq!(v, i);
        }
        assert_eq!(cache.len(), 1000);
        for i in 0..1000u64 {
            let (route, small) = key(i);
            assert_eq!(
                cache.find(cache.hash(&route, small), eq(&route, small)),
                Some(&i),
                "{route}"
            );
        }
        assert_eq!(cache.find(cache.hash("/nope", 0), eq("/nope", 0)), None);
        // Inserting an existing key keeps the first value.
        let h = cache.hash("/route/0", 0);
        assert_eq!(
            cache.get_or_insert_with(h, ("/route/0".into(), 0), eq("/route/0", 0), || 7),
            0
        );
    }

    #[test]
    fn two_string_keys_do_not_confuse_boundaries() {
        let cache: HandleCache<(Box<str>, Box<str>), u8> = HandleCache::new();
        let eq2 = |a: &'static str, b: &'static str| {
            move |k: &(Box<str>, Box<str>)| &*k.0 == a && &*k.1 == b
        };
        cache.get_or_insert_with(
            cache.hash2("p", "m"),
            ("p".into(), "m".into()),
            eq2("p", "m"),
            || 1,
        );
        assert_eq!(cache.find(cache.hash2("p", "m"), eq2("p", "m")), Some(&1));
        assert_eq!(cache.find(cache.hash2("pm", ""), eq2("pm", "")), None);
    }

    #[test]
    fn concurrent_readers_and_writers_agree() {
        let cache: Arc<HandleCache<(Box<str>, u64), u64>> = Arc::new(HandleCache::new());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..2000u64 {
                        let n = (i * 7 + t) % 500;
                        let key = format!("k{n}");
                        let h = cache.hash(&key, 0);
                        let v = match cache.find(h, eq(&key, 0)) {
                            Some(v) => *v,
                            None => cache.get_or_insert_with(
                                h,
                                (key.clone().into(), 0),
                                eq(&key, 0),
                                || n,
                            ),
                        };
                        assert_eq!(v, n);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cache.len(), 500);
    }
}

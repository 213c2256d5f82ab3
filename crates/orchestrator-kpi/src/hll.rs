//! A HyperLogLog sketch, register for register the one Redis keeps for `PFADD`/`PFCOUNT`:
//! precision 14 (16,384 six-bit registers, 0.81 % standard error), MurmurHash64A with
//! Redis's seed, and Redis's estimator (Ertl, "New cardinality estimation algorithms for
//! HyperLogLog sketches", arXiv:1702.01284). Counting the same elements here and in Redis
//! gives the same number, and a sketch serialises to Redis's dense format.
//!
//! Registers are packed ten to a 64-bit word (12.8 KiB per sketch) and updated with
//! compare-and-swap, so inserting from many threads takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::murmur::murmur_hash_64a;

/// log2 of the number of registers.
pub const PRECISION: u32 = 14;
/// The number of registers.
pub const REGISTERS: usize = 1 << PRECISION;
const Q: u32 = 64 - PRECISION;
const SEED: u64 = 0xadc8_3b19;
const PER_WORD: usize = 10;
const WORDS: usize = REGISTERS.div_ceil(PER_WORD);
const MAX: u64 = 63;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Size of Redis's dense representation: a 16-byte header and 12,288 bytes of registers.
pub const REDIS_DENSE_LEN: usize = 16 + REGISTERS * 6 / 8;

/// A mergeable distinct-count sketch.
///
/// ```
/// use orchestrator_kpi::HyperLogLog;
///
/// let a = HyperLogLog::new();
/// let b = HyperLogLog::new();
/// for i in 0..1000 { a.insert(format!("user-{i}").as_bytes()); }
/// for i in 500..1500 { b.insert(format!("user-{i}").as_bytes()); }
/// let union = a.clone();
/// union.merge(&b);
/// let n = union.count() as f64;
/// assert!((n - 1500.0).abs() / 1500.0 < 0.02, "{n}");
/// ```
#[derive(Debug)]
pub struct HyperLogLog {
    words: Box<[AtomicU64]>,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for HyperLogLog {
    fn clone(&self) -> Self {
        let words = self
            .words
            .iter()
            .map(|w| AtomicU64::new(w.load(Ordering::Relaxed)))
            .collect();
        HyperLogLog { words }
    }
}

/// A byte string that is not a Redis dense HyperLogLog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Redis dense HyperLogLog: {0}")]
pub struct InvalidSketch(pub &'static str);

impl HyperLogLog {
    /// An empty sketch.
    pub fn new() -> Self {
        HyperLogLog {
            words: (0..WORDS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Adds an element. Returns whether a register changed (as `PFADD` does).
    pub fn insert(&self, element: &[u8]) -> bool {
        let hash = murmur_hash_64a(element, SEED);
        let index = (hash & (REGISTERS as u64 - 1)) as usize;
        let rest = (hash >> PRECISION) | (1u64 << Q);
        let count = u64::from(rest.trailing_zeros() + 1);
        self.raise(index, count)
    }

    fn raise(&self, index: usize, count: u64) -> bool {
        let (word, shift) = (index / PER_WORD, (index % PER_WORD) * 6);
        let cell = &self.words[word];
        let mut current = cell.load(Ordering::Relaxed);
        loop {
            if (current >> shift) & MAX >= count {
                return false;
            }
            let next = (current & !(MAX << shift)) | (count << shift);
            match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// The register at `index`.
    pub fn register(&self, index: usize) -> u8 {
        let word = self.words[index / PER_WORD].load(Ordering::Relaxed);
        ((word >> ((index % PER_WORD) * 6)) & MAX) as u8
    }

    /// Merges `other` into this sketch: afterwards it counts the union.
    pub fn merge(&self, other: &HyperLogLog) {
        for index in 0..REGISTERS {
            let r = other.register(index);
            if r > 0 {
                self.raise(index, u64::from(r));
            }
        }
    }

    /// The estimated number of distinct elements, computed as Redis's `PFCOUNT` does.
    pub fn count(&self) -> u64 {
        let mut histogram = [0u32; 64];
        for index in 0..REGISTERS {
            histogram[usize::from(self.register(index))] += 1;
        }
        let m = REGISTERS as f64;
        let mut z = m * tau((m - f64::from(histogram[Q as usize + 1])) / m);
        for j in (1..=Q as usize).rev() {
            z += f64::from(histogram[j]);
            z *= 0.5;
        }
        z += m * sigma(f64::from(histogram[0]) / m);
        (ALPHA_INF * m * m / z).round() as u64
    }

    /// Whether no element was ever added.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| w.load(Ordering::Relaxed) == 0)
    }

    /// The sketch in Redis's dense format: `SET key <bytes>` in Redis then `PFCOUNT key`
    /// gives [`HyperLogLog::count`].
    pub fn to_redis_dense(&self) -> Vec<u8> {
        let mut out = vec![0u8; REDIS_DENSE_LEN + 1];
        out[..4].copy_from_slice(b"HYLL");
        // Byte 4: encoding 0 (dense). Bytes 8..16: cached cardinality, marked invalid.
        out[15] = 0x80;
        let registers = &mut out[16..];
        for index in 0..REGISTERS {
            let value = u16::from(self.register(index));
            let (byte, bit) = (index * 6 / 8, (index * 6) % 8);
            let shifted = value << bit;
            registers[byte] |= (shifted & 0xff) as u8;
            registers[byte + 1] |= (shifted >> 8) as u8;
        }
        out.truncate(REDIS_DENSE_LEN);
        out
    }

    /// A sketch from Redis's dense format (what `GET key` returns for a dense HLL).
    pub fn from_redis_dense(bytes: &[u8]) -> Result<Self, InvalidSketch> {
        if bytes.len() != REDIS_DENSE_LEN {
            return Err(InvalidSketch("wrong length (sparse sketches are not read)"));
        }
        if &bytes[..4] != b"HYLL" || bytes[4] != 0 {
            return Err(InvalidSketch("missing HYLL header or not dense"));
        }
        let sketch = HyperLogLog::new();
        let registers = &bytes[16..];
        for index in 0..REGISTERS {
            let (byte, bit) = (index * 6 / 8, (index * 6) % 8);
            let low = u16::from(registers[byte]);
            let high = u16::from(registers.get(byte + 1).copied().unwrap_or(0));
            let value = ((low | (high << 8)) >> bit) & 63;
            if value > 0 {
                sketch.raise(index, u64::from(value));
            }
        }
        Ok(sketch)
    }
}

/// Ertl's sigma, as in Redis's `hllSigma`.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

/// Ertl's tau, as in Redis's `hllTau`.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(range: std::ops::Range<u64>) -> HyperLogLog {
        let sketch = HyperLogLog::new();
        for i in range {
            sketch.insert(format!("user-{i}").as_bytes());
        }
        sketch
    }

    #[test]
    fn empty_and_small() {
        assert_eq!(HyperLogLog::new().count(), 0);
        let s = filled(0..1);
        assert_eq!(s.count(), 1);
        assert!(!s.insert(b"user-0"), "re-inserting changes nothing");
        assert_eq!(filled(0..10).count(), 10);
    }

    #[test]
    fn accuracy_within_two_percent() {
        for n in [1_000u64, 100_000, 1_000_000] {
            let estimate = filled(0..n).count() as f64;
            let error = (estimate - n as f64).abs() / n as f64;
            println!(
                "n = {n}: estimate {estimate}, relative error {:.3} %",
                error * 100.0
            );
            assert!(
                error <= 0.02,
                "n = {n}: estimate {estimate}, error {:.3} %",
                error * 100.0
            );
        }
    }

    #[test]
    fn merge_equals_the_sketch_of_the_union() {
        let a = filled(0..30_000);
        let b = filled(20_000..50_000);
        let merged = a.clone();
        merged.merge(&b);
        let union = filled(0..50_000);
        assert!((0..REGISTERS).all(|i| merged.register(i) == union.register(i)));
        assert_eq!(merged.count(), union.count());
    }

    #[test]
    fn redis_dense_round_trip() {
        let s = filled(0..5_000);
        let bytes = s.to_redis_dense();
        assert_eq!(bytes.len(), REDIS_DENSE_LEN);
        let back = HyperLogLog::from_redis_dense(&bytes).unwrap();
        assert_eq!(back.count(), s.count());
        assert!(HyperLogLog::from_redis_dense(&bytes[1..]).is_err());
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(HyperLogLog::from_redis_dense(&bad).is_err());
    }

    #[test]
    fn registers_are_independent() {
        let s = HyperLogLog::new();
        for index in 0..REGISTERS {
            s.raise(index, (index % 63 + 1) as u64);
        }
        assert!((0..REGISTERS).all(|i| s.register(i) == (i % 63 + 1) as u8));
    }
}

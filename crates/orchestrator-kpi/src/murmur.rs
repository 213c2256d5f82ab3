//! MurmurHash64A, the hash Redis's HyperLogLog uses (src/hyperloglog.c), so that our
//! sketches hold the same registers as Redis's for the same elements.

/// MurmurHash64A of `data` with `seed`, reading 8-byte words little-endian.
pub(crate) fn murmur_hash_64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mut k = u64::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, byte) in tail.iter().enumerate() {
            h ^= u64::from(*byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_lengths_all_mix_in() {
        // Every tail length 0..=7 gives a different hash, and the hash is deterministic.
        let data = b"0123456789abcdef";
        let hashes: std::collections::HashSet<u64> = (0..=16)
            .map(|n| murmur_hash_64a(&data[..n], 0xadc83b19))
            .collect();
        assert_eq!(hashes.len(), 17);
        assert_eq!(murmur_hash_64a(b"abc", 1), murmur_hash_64a(b"abc", 1));
        assert_ne!(murmur_hash_64a(b"abc", 1), murmur_hash_64a(b"abc", 2));
    }
}

//! Per-thread stripes: where a series' numbers live, so that recording is a load and a
//! store, not an atomic read-modify-write.
//!
//! An uncontended `lock xadd` costs about 7 ns on the machine the benches run on, a relaxed
//! load and store of the same word under 1 ns, and one LLM call writes ten numbers. So each
//! counter and histogram keeps its words once per *stripe*:
//!
//! - stripe 0 is shared: any thread may write it, always with a read-modify-write;
//! - stripes 1..=L are leased, one to a thread at a time. The first time a thread records,
//!   it takes a free lease (L = the machine's parallelism plus one, for the thread that
//!   starts the runtime, clamped to 2..=8), and it gives it back when it exits. Only the
//!   holder writes its stripe, so a plain load and store cannot lose an update. Threads
//!   beyond L (or recording while their thread-locals are being destroyed) use the shared
//!   stripe.
//!
//! A lease changes hands through one atomic word, released by the old holder and acquired by
//! the new one, so the new holder sees every store of the old one before adding to them.
//! Readers sum the stripes with relaxed loads: each stripe only grows, so a reader never
//! sees a counter go down between two reads. Each stripe starts on its own cache line, so
//! two threads recording the same series do not contend for one line, and readers skip the
//! stripes never written (one bit each, set before the first write).
//!
//! The one thing a load and a store give up: a signal handler that records into a series
//! its thread was recording when interrupted can lose that one update.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most leased stripes, whatever the parallelism: memory grows with the stripes (a 20-bucket
/// histogram is 192 bytes per stripe).
const MAX_LEASED: usize = 8;
/// Fewest leased stripes.
const MIN_LEASED: usize = 2;

/// The number of leased stripes of this process, fixed on first use.
fn leased() -> usize {
    static LEASED: OnceLock<usize> = OnceLock::new();
    *LEASED.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(MIN_LEASED, |n| usize::from(n) + 1)
            .clamp(MIN_LEASED, MAX_LEASED)
    })
}

/// The leases in use, one bit each.
static TAKEN: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's stripe plus one; 0 until the thread first records.
    static STRIPE: Cell<u8> = const { Cell::new(0) };
    /// The lease this thread holds, given back by its destructor when the thread exits.
    static LEASE: Lease = const { Lease(Cell::new(None)) };
}

struct Lease(Cell<Option<u8>>);

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(lease) = self.0.take() {
            // Stop writing the leased stripe before anyone else may take it: anything this
            // thread records from now on (another destructor) goes to the shared stripe.
            let _ = STRIPE.try_with(|s| s.set(1));
            TAKEN.fetch_and(!(1u64 << lease), Ordering::Release);
        }
    }
}

/// The stripe the current thread writes, found once for the several writes of one
/// recording (an LLM call writes ten numbers; each lookup is a thread-local read).
///
/// Neither `Send` nor `Sync`: only the thread that found a leased stripe may write it with a
/// plain load and store, so the token cannot leave that thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stripe(usize, PhantomData<*const ()>);

impl Stripe {
    /// The current thread's stripe: 0 (shared) or its leased stripe.
    #[inline]
    pub(crate) fn current() -> Stripe {
        Stripe(current(), PhantomData)
    }
}

/// The stripe the current thread writes: 0 (shared) or its leased stripe.
#[inline]
fn current() -> usize {
    match STRIPE.try_with(Cell::get) {
        Ok(0) => choose(),
        Ok(s) => usize::from(s - 1),
        Err(_) => 0,
    }
}

#[cold]
fn choose() -> usize {
    let stripe = match take_lease() {
        Some(lease) => {
            if LEASE.try_with(|l| l.0.set(Some(lease))).is_ok() {
                usize::from(lease) + 1
            } else {
                // The thread is exiting: it could never give the lease back.
                TAKEN.fetch_and(!(1u64 << lease), Ordering::Release);
                0
            }
        }
        None => 0,
    };
    // `stripe` is at most MAX_LEASED, which fits a u8.
    let _ = STRIPE.try_with(|s| s.set(stripe as u8 + 1));
    stripe
}

fn take_lease() -> Option<u8> {
    let mut taken = TAKEN.load(Ordering::Relaxed);
    loop {
        let free = (!taken).trailing_zeros() as usize;
        if free >= leased() {
            return None;
        }
        let bit = 1u64 << free;
        match TAKEN.compare_exchange_weak(taken, taken | bit, Ordering::Acquire, Ordering::Relaxed)
        {
            // `free` is below MAX_LEASED.
            Ok(_) => return Some(free as u8),
            Err(now) => taken = now,
        }
    }
}

/// Eight words on their own cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Line([AtomicU64; 8]);

/// `width` words per stripe, summed by readers.
#[derive(Debug)]
pub(crate) struct Striped {
    lines: Box<[Line]>,
    /// Lines per stripe.
    stride: usize,
    /// One bit per stripe ever written, set before its first write and never cleared:
    /// readers skip the others, so a series only one thread records reads as fast as
    /// before stripes.
    used: AtomicU64,
}

impl Striped {
    /// `width` words, zero, in every stripe.
    pub(crate) fn new(width: usize) -> Self {
        let stride = width.div_ceil(8).max(1);
        Striped {
            lines: (0..stride * (leased() + 1))
                .map(|_| Line::default())
                .collect(),
            stride,
            used: AtomicU64::new(0),
        }
    }

    /// Words of one stripe. Zero is stored as `0u64`, which is also `0.0f64`.
    #[inline]
    fn word(&self, stripe: usize, i: usize) -> &AtomicU64 {
        &self.lines[stripe * self.stride + i / 8].0[i % 8]
    }

    /// Word `i` of every stripe.
    fn column(&self, i: usize) -> impl Iterator<Item = &AtomicU64> {
        let (line, word) = (i / 8, i % 8);
        self.used_stripes().map(move |stripe| &stripe[line].0[word])
    }

    /// The lines of every stripe written so far.
    fn used_stripes(&self) -> impl Iterator<Item = &[Line]> {
        let mut used = self.used.load(Ordering::Acquire);
        std::iter::from_fn(move || {
            let stripe = used.trailing_zeros() as usize;
            used &= used.wrapping_sub(1);
            let start = stripe.checked_mul(self.stride)?;
            self.lines.get(start..start + self.stride)
        })
    }

    /// Word 0 summed as integers and word 1 as `f64` bits, in one pass: a counter's
    /// integer and fractional parts.
    pub(crate) fn sum_int_float(&self) -> (u64, f64) {
        self.used_stripes().fold((0, 0.0), |(int, float), stripe| {
            let [a, b, ..] = &stripe[0].0;
            (
                int.wrapping_add(a.load(Ordering::Relaxed)),
                float + f64::from_bits(b.load(Ordering::Relaxed)),
            )
        })
    }

    /// Marks `stripe` written, before its first write (one load on every later write).
    #[inline]
    fn mark(&self, stripe: usize) {
        let bit = 1 << stripe;
        if self.used.load(Ordering::Relaxed) & bit == 0 {
            self.used.fetch_or(bit, Ordering::Release);
        }
    }

    /// Adds `n` to word `i` of the current thread's stripe.
    #[cfg(test)]
    pub(crate) fn add(&self, i: usize, n: u64) {
        self.add_in(Stripe::current(), i, n);
    }

    /// Adds `v` to word `i`, read as the bits of an `f64`.
    #[cfg(test)]
    pub(crate) fn add_f64(&self, i: usize, v: f64) {
        self.add_f64_in(Stripe::current(), i, v);
    }

    /// Adds `n` to word `i` of `stripe`, found by this thread.
    #[inline]
    pub(crate) fn add_in(&self, stripe: Stripe, i: usize, n: u64) {
        self.mark(stripe.0);
        self.put(stripe.0, i, n);
    }

    /// Adds `v` to word `i` of `stripe`, read as the bits of an `f64`.
    #[inline]
    pub(crate) fn add_f64_in(&self, stripe: Stripe, i: usize, v: f64) {
        self.mark(stripe.0);
        self.put_f64(stripe.0, i, v);
    }

    /// Adds `n` to word `i` and `v` to word `j` (`f64` bits) of `stripe`: a histogram's
    /// bucket and sum, with the stripe marked once.
    #[inline]
    pub(crate) fn add_and_add_f64_in(&self, stripe: Stripe, i: usize, n: u64, j: usize, v: f64) {
        self.mark(stripe.0);
        self.put(stripe.0, i, n);
        self.put_f64(stripe.0, j, v);
    }

    #[inline]
    fn put(&self, stripe: usize, i: usize, n: u64) {
        let w = self.word(stripe, i);
        match stripe {
            0 => {
                w.fetch_add(n, Ordering::Relaxed);
            }
            _ => w.store(w.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed),
        }
    }

    #[inline]
    fn put_f64(&self, stripe: usize, i: usize, v: f64) {
        let w = self.word(stripe, i);
        match stripe {
            0 => add_f64(w, v),
            _ => {
                let next = f64::from_bits(w.load(Ordering::Relaxed)) + v;
                w.store(next.to_bits(), Ordering::Relaxed);
            }
        }
    }

    /// Raises word `i` of the shared stripe to `n`: for counters whose total is set by one
    /// writer (a process statistic), never added to.
    pub(crate) fn max_shared(&self, i: usize, n: u64) {
        self.mark(0);
        self.word(0, i).fetch_max(n, Ordering::Relaxed);
    }

    /// Every word summed over the stripes as integers, read stripe by stripe (one pass over
    /// the cell's memory, for a histogram's bucket counts), when there are at most
    /// [`INLINE`] words; `None` for more (read them one by one with [`sum`](Self::sum)).
    /// Words holding `f64` bits come out meaningless: read them with
    /// [`sum_f64`](Self::sum_f64).
    pub(crate) fn totals(&self) -> Option<[u64; INLINE]> {
        let mut totals = [0u64; INLINE];
        self.sum_into(totals.get_mut(..self.stride * 8)?);
        Some(totals)
    }

    /// Adds every word, summed over the stripes as integers, to `out` (as many words as
    /// the stripes hold, rounded up to eight; fewer are filled partly): one pass over the
    /// cell's memory, into the caller's buffer.
    pub(crate) fn sum_into(&self, out: &mut [u64]) {
        for stripe in self.used_stripes() {
            for (out, line) in out.chunks_mut(8).zip(stripe) {
                for (o, w) in out.iter_mut().zip(&line.0) {
                    *o = o.wrapping_add(w.load(Ordering::Relaxed));
                }
            }
        }
    }

    /// Word `i`, summed over the stripes.
    pub(crate) fn sum(&self, i: usize) -> u64 {
        self.column(i)
            .map(|w| w.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Word `i` read as an `f64`, summed over the stripes.
    pub(crate) fn sum_f64(&self, i: usize) -> f64 {
        // From +0.0: `Sum` for floats starts at -0.0, which a series never written would
        // render as "-0".
        self.column(i)
            .map(|w| f64::from_bits(w.load(Ordering::Relaxed)))
            .fold(0.0, |sum, v| sum + v)
    }
}

/// The most words [`Striped::totals`] sums in one pass: a histogram of up to 30 bounds.
pub(crate) const INLINE: usize = 32;

/// Adds to an `f64` stored as bits, with a compare-and-swap loop (any thread may write).
pub(crate) fn add_f64(cell: &AtomicU64, v: f64) {
    let mut current = cell.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + v).to_bits();
        match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    /// More threads than leases, each adding the same amounts, some exiting and handing
    /// their lease on: nothing is lost, whichever stripe each write went to.
    #[test]
    fn no_update_is_lost_across_leases_and_the_shared_stripe() {
        let cell = Arc::new(Striped::new(3));
        let threads = 3 * leased();
        let rounds = 4;
        let per_thread = 10_000u64;
        for _ in 0..rounds {
            let start = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (cell, start) = (Arc::clone(&cell), Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        for _ in 0..per_thread {
                            cell.add(0, 1);
                            cell.add(2, 3);
                            cell.add_f64(1, 0.5);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        }
        let n = (threads * rounds) as u64 * per_thread;
        assert_eq!(cell.sum(0), n);
        assert_eq!(cell.sum(2), 3 * n);
        let totals = cell.totals().expect("three words fit");
        assert_eq!(totals[..3], [n, cell.sum(1), 3 * n]);
        let unwritten = Striped::new(2);
        assert_eq!(
            unwritten.sum_f64(1).to_bits(),
            0.0f64.to_bits(),
            "+0, not -0"
        );
        assert_eq!(unwritten.sum_int_float().1.to_bits(), 0.0f64.to_bits());
        let wide = Striped::new(INLINE + 1);
        wide.add(INLINE, 7);
        assert_eq!((wide.totals(), wide.sum(INLINE)), (None, 7));
        assert_eq!(cell.sum_f64(1), 0.5 * n as f64);
    }
}

//! Seeded randomness shared by the simulated components.

use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded random source, shared between tasks.
#[derive(Debug, Clone)]
pub struct SharedRng(Arc<Mutex<StdRng>>);

impl SharedRng {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SharedRng(Arc::new(Mutex::new(StdRng::seed_from_u64(seed))))
    }

    /// Runs `f` with the generator.
    pub fn with<R>(&self, f: impl FnOnce(&mut StdRng) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A uniform float in [0, 1).
    pub fn unit(&self) -> f64 {
        self.with(|r| r.random::<f64>())
    }

    /// True with probability `p`.
    pub fn chance(&self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform integer in `[low, high)`.
    pub fn range(&self, low: u64, high: u64) -> u64 {
        if high <= low {
            low
        } else {
            self.with(|r| r.random_range(low..high))
        }
    }

    /// A log-normal sample with the given median and shape (Box-Muller on two uniforms).
    pub fn log_normal(&self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = self.with(|r| (r.random::<f64>().max(f64::MIN_POSITIVE), r.random::<f64>()));
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }
}

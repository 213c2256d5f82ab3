//! One owner's token counters (a tenant's, an agent's): `input` and `output` made up front,
//! the parts priced apart (`cache_read`, `cache_write`, `reasoning`) made on the first call
//! that reports them, so an owner whose models never do has no zero series that reads as
//! "none reported".

use std::sync::OnceLock;

use super::counter;
use crate::catalogue::MetricDef;
use crate::{CounterHandle, Registry, TokenUsage};

/// The `token_type` values of the lazy parts, in order.
const PARTS: [&str; 3] = ["cache_read", "cache_write", "reasoning"];

#[derive(Debug)]
pub(crate) struct TokenCounters {
    registry: Registry,
    def: &'static MetricDef,
    /// The owner's admitted label value, the first label of `def`.
    owner: Box<str>,
    /// input, output.
    tokens: [CounterHandle; 2],
    parts: [OnceLock<CounterHandle>; 3],
}

impl TokenCounters {
    /// The counters of `def{<owner label>=owner, token_type}`.
    pub(crate) fn new(registry: &Registry, def: &'static MetricDef, owner: &str) -> Self {
        let tokens = |kind| counter(registry, def, &[owner, kind]);
        TokenCounters {
            registry: registry.clone(),
            def,
            owner: owner.into(),
            tokens: [tokens("input"), tokens("output")],
            parts: Default::default(),
        }
    }

    /// Adds one call's tokens (a checked usage: the caller refused implausible ones).
    pub(crate) fn add(&self, usage: &TokenUsage) {
        for (handle, n) in self.tokens.iter().zip([usage.input, usage.output]) {
            if n > 0 {
                handle.increment(n);
            }
        }
        let parts = [usage.cached_input, usage.cache_write_input, usage.reasoning];
        for ((cell, kind), n) in self.parts.iter().zip(PARTS).zip(parts) {
            if n > 0 {
                // Made once (cold); afterwards one load.
                let handle = match cell.get() {
                    Some(handle) => handle,
                    None => self.part(cell, kind),
                };
                handle.increment(n);
            }
        }
    }

    #[cold]
    fn part<'h>(&self, cell: &'h OnceLock<CounterHandle>, kind: &str) -> &'h CounterHandle {
        cell.get_or_init(|| counter(&self.registry, self.def, &[&self.owner, kind]))
    }
}

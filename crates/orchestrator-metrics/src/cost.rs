//! The cost model: token usage priced into US dollars from a per-model price table.
//!
//! No prices are built in (provider prices change; a stale default would print wrong
//! figures). Configure the models you call; usage of a model without a price is counted in
//! `orchestrator_telemetry_rejected_values_total{reason="unpriced_model"}` and costs nothing.

use hashbrown::HashTable;

use crate::hashing::hash_pair;

/// Token counts of one LLM call.
///
/// `input` counts every input token, the cached and cache-written ones included (as
/// OpenAI's `prompt_tokens` includes `cached_tokens`; an Anthropic adapter adds
/// `cache_read_input_tokens` and `cache_creation_input_tokens` to `input_tokens`). `output`
/// counts every output token, reasoning included (as OpenAI's `completion_tokens` includes
/// `reasoning_tokens`). Each part is priced at its own rate: see [`ModelPrice::cost`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Input (prompt) tokens, cached and cache-written ones included.
    pub input: u64,
    /// Output (completion) tokens, reasoning ones included.
    pub output: u64,
    /// The part of `input` served from the provider's prompt cache (a cache read).
    pub cached_input: u64,
    /// The part of `input` written to the provider's prompt cache (a cache write, priced
    /// above plain input by providers that charge for it).
    pub cache_write_input: u64,
    /// The part of `output` spent reasoning (billed as output unless priced apart).
    pub reasoning: u64,
}

/// The most tokens one call may report in any part: more is a provider bug or hostile input,
/// refused (no context window comes near it).
pub const MAX_TOKENS_PER_CALL: u64 = 100_000_000;

impl TokenUsage {
    /// Whether the counts are plausible: each at most [`MAX_TOKENS_PER_CALL`], the cached and
    /// cache-written parts within the input, the reasoning part within the output.
    /// `LlmMetrics::record` refuses the usage of a call that fails this (counted as
    /// `out_of_range`) and records neither its tokens nor its cost.
    ///
    /// ```
    /// use orchestrator_metrics::{RejectReason, TokenUsage};
    ///
    /// assert_eq!(TokenUsage::new(1_000, 200).check(), Ok(()));
    /// assert_eq!(TokenUsage::new(10, 2).with_cached_input(11).check(), Err(RejectReason::OutOfRange));
    /// assert_eq!(TokenUsage::new(u64::MAX, 2).check(), Err(RejectReason::OutOfRange));
    /// ```
    pub fn check(&self) -> Result<(), crate::RejectReason> {
        let parts = [
            self.input,
            self.output,
            self.cached_input,
            self.cache_write_input,
            self.reasoning,
        ];
        let plausible = parts.iter().all(|n| *n <= MAX_TOKENS_PER_CALL)
            && self.cached_input + self.cache_write_input <= self.input
            && self.reasoning <= self.output;
        if plausible {
            Ok(())
        } else {
            Err(crate::RejectReason::OutOfRange)
        }
    }

    /// Usage without cached, cache-written or reasoning tokens.
    pub const fn new(input: u64, output: u64) -> Self {
        TokenUsage {
            input,
            output,
            cached_input: 0,
            cache_write_input: 0,
            reasoning: 0,
        }
    }

    /// The same usage with `cached` of the input tokens served from cache.
    pub const fn with_cached_input(mut self, cached: u64) -> Self {
        self.cached_input = cached;
        self
    }

    /// The same usage with `written` of the input tokens written to the prompt cache.
    pub const fn with_cache_write_input(mut self, written: u64) -> Self {
        self.cache_write_input = written;
        self
    }

    /// The same usage with `reasoning` of the output tokens spent reasoning.
    pub const fn with_reasoning(mut self, reasoning: u64) -> Self {
        self.reasoning = reasoning;
        self
    }
}

/// Prices of one model, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    input_per_million: f64,
    cached_input_per_million: f64,
    output_per_million: f64,
    cache_write_per_million: Option<f64>,
    reasoning_per_million: Option<f64>,
}

/// A price that is negative, NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("price {value} USD per million tokens is not a finite non-negative number")]
pub struct InvalidPrice {
    /// The offending price.
    pub value: f64,
}

fn checked(value: f64) -> Result<f64, InvalidPrice> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(InvalidPrice { value })
    }
}

impl ModelPrice {
    /// Prices in US dollars per million input, cached input (cache read) and output
    /// tokens. Cache writes are priced as input and reasoning as output until
    /// [`with_cache_write`](Self::with_cache_write) or
    /// [`with_reasoning`](Self::with_reasoning) say otherwise.
    pub fn new(
        input_per_million: f64,
        cached_input_per_million: f64,
        output_per_million: f64,
    ) -> Result<Self, InvalidPrice> {
        Ok(ModelPrice {
            input_per_million: checked(input_per_million)?,
            cached_input_per_million: checked(cached_input_per_million)?,
            output_per_million: checked(output_per_million)?,
            cache_write_per_million: None,
            reasoning_per_million: None,
        })
    }

    /// The price of input tokens written to the prompt cache (Anthropic: 1.25× the input
    /// price for the 5-minute cache, 2× for the 1-hour cache).
    pub fn with_cache_write(mut self, per_million: f64) -> Result<Self, InvalidPrice> {
        self.cache_write_per_million = Some(checked(per_million)?);
        Ok(self)
    }

    /// The price of reasoning tokens, where a provider bills them apart from output.
    pub fn with_reasoning(mut self, per_million: f64) -> Result<Self, InvalidPrice> {
        self.reasoning_per_million = Some(checked(per_million)?);
        Ok(self)
    }

    /// The cost of `usage` in US dollars: fresh input, cache reads, cache writes, output and
    /// reasoning, each at its price. Cached and cache-written tokens beyond the input count
    /// are capped to it (cache reads first), and reasoning to the output count: a provider
    /// cannot cache more than it was sent, nor reason more than it answered.
    pub fn cost(&self, usage: &TokenUsage) -> f64 {
        let cached = usage.cached_input.min(usage.input);
        let written = usage.cache_write_input.min(usage.input - cached);
        let fresh = usage.input - cached - written;
        let reasoning = usage.reasoning.min(usage.output);
        let answer = usage.output - reasoning;
        let write_price = self
            .cache_write_per_million
            .unwrap_or(self.input_per_million);
        let reasoning_price = self
            .reasoning_per_million
            .unwrap_or(self.output_per_million);
        (fresh as f64 * self.input_per_million
            + cached as f64 * self.cached_input_per_million
            + written as f64 * write_price
            + answer as f64 * self.output_per_million
            + reasoning as f64 * reasoning_price)
            / 1_000_000.0
    }
}

/// Prices by provider and model.
///
/// ```
/// use orchestrator_metrics::{ModelPrice, PriceTable, TokenUsage};
///
/// let table = PriceTable::new()
///     .with_price("openai", "gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.60)?);
/// let usage = TokenUsage::new(1_000_000, 500_000).with_cached_input(200_000);
/// let cost = table.cost("openai", "gpt-4o-mini", &usage).unwrap();
/// assert!((cost - (0.8 * 0.15 + 0.2 * 0.075 + 0.5 * 0.60)).abs() < 1e-12);
/// assert_eq!(table.cost("openai", "unknown", &usage), None);
/// # Ok::<(), orchestrator_metrics::InvalidPrice>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    // (provider, model, price) by `hashing::pair` of the two strings' hashes: looked up with
    // borrowed strings, without allocating, and by the LLM recorder with the hashes it
    // already made for its handle cache.
    prices: HashTable<(Box<str>, Box<str>, ModelPrice)>,
}

impl PartialEq for PriceTable {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .prices
                .iter()
                .all(|(p, m, price)| other.price(p, m) == Some(*price))
    }
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The table with the price of one model set.
    pub fn with_price(
        mut self,
        provider: impl Into<String>,
        model: impl Into<String>,
        price: ModelPrice,
    ) -> Self {
        let (provider, model): (String, String) = (provider.into(), model.into());
        let hash = hash_pair(&provider, &model);
        match self
            .prices
            .find_mut(hash, |(p, m, _)| **p == *provider && **m == *model)
        {
            Some(entry) => entry.2 = price,
            None => {
                self.prices.insert_unique(
                    hash,
                    (provider.into(), model.into(), price),
                    |(p, m, _)| hash_pair(p, m),
                );
            }
        }
        self
    }

    /// Every priced (provider, model).
    pub fn models(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prices.iter().map(|(p, m, _)| (&**p, &**m))
    }

    /// The price of a model.
    pub fn price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        self.price_hashed(hash_pair(provider, model), provider, model)
    }

    /// [`price`](Self::price), for a caller that has `hashing::hash_pair(provider, model)`.
    #[inline]
    pub(crate) fn price_hashed(
        &self,
        hash: u64,
        provider: &str,
        model: &str,
    ) -> Option<ModelPrice> {
        self.prices
            .find(hash, |(p, m, _)| **p == *provider && **m == *model)
            .map(|e| e.2)
    }

    /// The cost of `usage` on a model, or `None` when the model has no price.
    pub fn cost(&self, provider: &str, model: &str, usage: &TokenUsage) -> Option<f64> {
        self.price(provider, model).map(|p| p.cost(usage))
    }

    /// The number of priced models.
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether no model is priced.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_prices_are_errors() {
        assert!(ModelPrice::new(-1.0, 0.0, 0.0).is_err());
        assert!(ModelPrice::new(1.0, f64::NAN, 0.0).is_err());
        assert!(ModelPrice::new(1.0, 0.0, f64::INFINITY).is_err());
        assert!(ModelPrice::new(0.0, 0.0, 0.0).is_ok());
    }

    #[test]
    fn cached_tokens_are_priced_separately_and_capped_at_input() {
        let price = ModelPrice::new(2.0, 1.0, 8.0).unwrap();
        assert_eq!(price.cost(&TokenUsage::new(1_000_000, 0)), 2.0);
        assert_eq!(
            price.cost(&TokenUsage::new(1_000_000, 0).with_cached_input(1_000_000)),
            1.0
        );
        assert_eq!(price.cost(&TokenUsage::new(0, 1_000_000)), 8.0);
        assert_eq!(
            price.cost(&TokenUsage::new(10, 0).with_cached_input(50)),
            10.0 / 1_000_000.0
        );
    }
}

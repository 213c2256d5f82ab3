//! The cost model: token usage priced into US dollars from a per-model price table.
//!
//! No prices are built in (provider prices change; a stale default would print wrong
//! figures). Configure the models you call; usage of a model without a price is counted in
//! `orchestrator_telemetry_rejected_values_total{reason="unpriced_model"}` and costs nothing.

use std::collections::HashMap;

/// Token counts of one LLM call.
///
/// `input` includes `cached_input` (as OpenAI's `prompt_tokens` includes
/// `cached_tokens`): cached tokens are the part of the input the provider served from its
/// prompt cache, priced at the cached rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Input (prompt) tokens, cached ones included.
    pub input: u64,
    /// Output (completion) tokens.
    pub output: u64,
    /// The part of `input` served from the provider's prompt cache.
    pub cached_input: u64,
}

impl TokenUsage {
    /// Usage without cached input.
    pub const fn new(input: u64, output: u64) -> Self {
        TokenUsage {
            input,
            output,
            cached_input: 0,
        }
    }

    /// The same usage with `cached` of the input tokens served from cache.
    pub const fn with_cached_input(mut self, cached: u64) -> Self {
        self.cached_input = cached;
        self
    }
}

/// Prices of one model, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    input_per_million: f64,
    cached_input_per_million: f64,
    output_per_million: f64,
}

/// A price that is negative, NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("price {value} USD per million tokens is not a finite non-negative number")]
pub struct InvalidPrice {
    /// The offending price.
    pub value: f64,
}

impl ModelPrice {
    /// Prices in US dollars per million input, cached input and output tokens.
    pub fn new(
        input_per_million: f64,
        cached_input_per_million: f64,
        output_per_million: f64,
    ) -> Result<Self, InvalidPrice> {
        for value in [
            input_per_million,
            cached_input_per_million,
            output_per_million,
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(InvalidPrice { value });
            }
        }
        Ok(ModelPrice {
            input_per_million,
            cached_input_per_million,
            output_per_million,
        })
    }

    /// The cost of `usage` in US dollars. Cached tokens beyond the input count are treated
    /// as input (a provider cannot cache more than it was sent).
    pub fn cost(&self, usage: &TokenUsage) -> f64 {
        let cached = usage.cached_input.min(usage.input);
        let fresh = usage.input - cached;
        (fresh as f64 * self.input_per_million
            + cached as f64 * self.cached_input_per_million
            + usage.output as f64 * self.output_per_million)
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    // By provider, then model: looked up with borrowed strings, without allocating.
    prices: HashMap<String, HashMap<String, ModelPrice>>,
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
        self.prices
            .entry(provider.into())
            .or_default()
            .insert(model.into(), price);
        self
    }

    /// Every priced (provider, model).
    pub fn models(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prices
            .iter()
            .flat_map(|(p, models)| models.keys().map(move |m| (p.as_str(), m.as_str())))
    }

    /// The price of a model.
    pub fn price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        self.prices.get(provider)?.get(model).copied()
    }

    /// The cost of `usage` on a model, or `None` when the model has no price.
    pub fn cost(&self, provider: &str, model: &str, usage: &TokenUsage) -> Option<f64> {
        self.price(provider, model).map(|p| p.cost(usage))
    }

    /// The number of priced models.
    pub fn len(&self) -> usize {
        self.prices.values().map(HashMap::len).sum()
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

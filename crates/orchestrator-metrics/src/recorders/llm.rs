//! LLM calls: requests by outcome, latency, tokens, time to first token and cost.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::gen_ai::GenAiSeries;
use super::handle_cache::HandleCache;
use super::{ErrorMetrics, counter, histogram};
use crate::budget::Budgets;
use crate::catalogue;
use crate::guard::OTHER;
use crate::hashing::{hash_str, pair};
use crate::registry::Stripe;
use crate::{
    CardinalityGuard, CounterHandle, Exemplar, GuardedLabel, HistogramHandle, ModelPrice,
    PriceTable, Registry, RejectReason, TokenUsage,
};

/// How an LLM call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlmOutcome {
    /// The provider answered.
    Success,
    /// The provider answered with an error, or the connection failed.
    Error,
    /// The provider refused the call for rate limiting (HTTP 429).
    RateLimited,
    /// The call took longer than its deadline.
    Timeout,
    /// The caller dropped the call before it finished.
    Cancelled,
}

impl LlmOutcome {
    /// Every outcome, in the order of its series in the recorder (a test pins it, and the
    /// catalogue's `LLM_OUTCOMES`, to this order).
    pub const ALL: [LlmOutcome; 5] = [
        LlmOutcome::Success,
        LlmOutcome::Error,
        LlmOutcome::RateLimited,
        LlmOutcome::Timeout,
        LlmOutcome::Cancelled,
    ];

    /// The `outcome` label value (also the error `kind` for failed calls).
    pub const fn as_str(self) -> &'static str {
        match self {
            LlmOutcome::Success => "success",
            LlmOutcome::Error => "error",
            LlmOutcome::RateLimited => "rate_limited",
            LlmOutcome::Timeout => "timeout",
            LlmOutcome::Cancelled => "cancelled",
        }
    }

    /// Where the outcome's series sit in the recorder's arrays: an exhaustive match, so a
    /// new outcome cannot be counted under another's series.
    pub(super) const fn index(self) -> usize {
        match self {
            LlmOutcome::Success => 0,
            LlmOutcome::Error => 1,
            LlmOutcome::RateLimited => 2,
            LlmOutcome::Timeout => 3,
            LlmOutcome::Cancelled => 4,
        }
    }
}

/// Where a call's token usage came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UsageSource {
    /// The provider reported it (or, without usage, nothing was expected: a failed or
    /// cancelled call).
    #[default]
    Reported,
    /// The user's estimator made it up from the text: counted in
    /// `orchestrator_llm_unreported_usage_total{usage="estimated"}`.
    Estimated,
}

/// What is known about one LLM call when it ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmCall<'a> {
    /// The provider, as `gen_ai.provider.name` (`openai`, `anthropic`, ...).
    pub provider: &'a str,
    /// The requested model, as `gen_ai.request.model`.
    pub model: &'a str,
    /// The operation, as `gen_ai.operation.name` (`chat` unless said otherwise): a label of
    /// the GenAI conventions' metrics only. A name from the program, not from input.
    pub operation: &'a str,
    /// How the call ended.
    pub outcome: LlmOutcome,
    /// From request sent to last token received.
    pub duration: Duration,
    /// For streamed responses, from request sent to first chunk received.
    pub time_to_first_token: Option<Duration>,
    /// Token counts, when the provider reported them.
    pub usage: Option<TokenUsage>,
    /// The trace and span of a sampled call: its latency and time to first token become
    /// their buckets' exemplars.
    pub exemplar: Option<Exemplar>,
    /// Whether `usage` is the provider's report or an estimate. A successful call without
    /// usage is counted in `orchestrator_llm_unreported_usage_total{usage="missing"}`.
    pub usage_source: UsageSource,
}

impl<'a> LlmCall<'a> {
    /// A call without streaming or usage information.
    pub fn new(provider: &'a str, model: &'a str, outcome: LlmOutcome, duration: Duration) -> Self {
        LlmCall {
            provider,
            model,
            operation: "chat",
            outcome,
            duration,
            time_to_first_token: None,
            usage: None,
            exemplar: None,
            usage_source: UsageSource::Reported,
        }
    }

    /// The same call, as operation `operation` (`text_completion`, `embeddings`,
    /// `generate_content`, ...).
    pub fn with_operation(mut self, operation: &'a str) -> Self {
        self.operation = operation;
        self
    }

    /// The same call, made in a sampled trace (`None` leaves it without an exemplar).
    pub fn with_exemplar(mut self, exemplar: Option<Exemplar>) -> Self {
        self.exemplar = exemplar;
        self
    }

    /// The same call with its time to first token.
    pub fn with_time_to_first_token(mut self, ttft: Duration) -> Self {
        self.time_to_first_token = Some(ttft);
        self
    }

    /// The same call with its token usage.
    pub fn with_usage(mut self, usage: TokenUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// The same call with a usage estimated from its text because the provider reported
    /// none: recorded and priced like reported usage, and counted apart in
    /// `orchestrator_llm_unreported_usage_total{usage="estimated"}`.
    pub fn with_estimated_usage(mut self, usage: TokenUsage) -> Self {
        self.usage = Some(usage);
        self.usage_source = UsageSource::Estimated;
        self
    }
}

#[derive(Debug, Clone)]
struct Handles {
    requests: [CounterHandle; 5],
    /// `unreported_usage_total`: `missing`, `estimated`.
    unreported: [CounterHandle; 2],
    latency: HistogramHandle,
    ttft: HistogramHandle,
    time_per_output_token: HistogramHandle,
    input_tokens: HistogramHandle,
    output_tokens: HistogramHandle,
    /// Made on first use: many models never report cache reads, cache writes or
    /// reasoning, and an empty histogram per model would only lengthen the exposition.
    cache_read_tokens: Arc<OnceLock<HistogramHandle>>,
    cache_write_tokens: Arc<OnceLock<HistogramHandle>>,
    reasoning_tokens: Arc<OnceLock<HistogramHandle>>,
    /// The (admitted) label values, to make the lazy handles.
    labels: Arc<(Box<str>, Box<str>)>,
    cost: CounterHandle,
    price: Option<ModelPrice>,
    /// The GenAI conventions' series of this (provider, model).
    gen_ai: Arc<GenAiSeries>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    prices: PriceTable,
    /// `hash_str(OTHER)`.
    other_hash: u64,
    /// Whether the guard keeps every priced model as itself: then a model that folds has
    /// no price, and its lookup is skipped.
    folded_unpriced: bool,
    /// `errors_total{component="llm", kind=<outcome>}`, by outcome; none for success, which
    /// is no error.
    errors: [Option<CounterHandle>; 5],
    cache: HandleCache<(Box<str>, Box<str>), Handles>,
    /// The `other` handles of the first provider whose models folded (as the cache holds
    /// them, so admitted), found without a probe: a flood usually comes through one
    /// provider. Others are found in the cache.
    first_other: OnceLock<(Box<str>, Handles)>,
    budgets: Arc<Budgets>,
}

/// Records LLM calls. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, ModelPrice, PriceTable, Registry, TokenUsage};
///
/// let registry = Registry::new();
/// let prices = PriceTable::new().with_price("openai", "gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.6)?);
/// let llm = Metrics::builder().prices(prices).build(&registry).llm().clone();
/// let call = LlmCall::new("openai", "gpt-4o-mini", LlmOutcome::Success, Duration::from_millis(850))
///     .with_time_to_first_token(Duration::from_millis(180))
///     .with_usage(TokenUsage::new(1_000, 250));
/// let cost = llm.record(&call);
/// assert!((cost.unwrap() - (1_000.0 * 0.15 + 250.0 * 0.6) / 1e6).abs() < 1e-15);
/// # Ok::<(), orchestrator_metrics::InvalidPrice>(())
/// ```
#[derive(Debug, Clone)]
pub struct LlmMetrics {
    inner: Arc<Inner>,
}

impl LlmMetrics {
    pub(crate) fn new(
        registry: &Registry,
        guard: Arc<CardinalityGuard>,
        errors: &ErrorMetrics,
        prices: PriceTable,
        budgets: Arc<Budgets>,
    ) -> Self {
        let folded_unpriced = prices
            .models()
            .all(|(_, model)| guard.always_keeps(GuardedLabel::Model, model));
        LlmMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                prices,
                other_hash: hash_str(OTHER),
                folded_unpriced,
                errors: LlmOutcome::ALL
                    .map(|o| (o != LlmOutcome::Success).then(|| errors.handle("llm", o.as_str()))),
                cache: HandleCache::new(),
                first_other: OnceLock::new(),
                budgets,
            }),
        }
    }

    /// Records one call and returns its cost in US dollars, when its usage was priced.
    ///
    /// Usage of a model missing from the price table is counted in
    /// `orchestrator_telemetry_rejected_values_total{reason="unpriced_model"}`.
    pub fn record(&self, call: &LlmCall<'_>) -> Option<f64> {
        let cache = &self.inner.cache;
        let (provider, model) = (call.provider, call.model);
        // Hashed once: the same hashes find the handles, the guard's verdict and the price.
        let hashes = (hash_str(provider), hash_str(model));
        let key = pair(hashes.0, hashes.1);
        let guard = &self.inner.guard;
        // A flood of new model names past the cap: most are turned away by the guard's
        // filter before the cache is probed (a folded name is never cached).
        let cost = if guard.surely_folds(GuardedLabel::Model, model, hashes.1) {
            self.record_new(call, hashes, key, Cow::Borrowed(OTHER))
        } else {
            match cache.find(key, eq(provider, model)) {
                Some(handles) => self.record_with(handles, call, handles.price),
                None => {
                    let admitted = guard.admit_hashed(GuardedLabel::Model, model, hashes.1);
                    self.record_new(call, hashes, key, admitted)
                }
            }
        };
        if let Some(cost) = cost {
            self.inner.budgets.charge_service(cost);
        }
        cost
    }

    /// The price table, the budgets and the guard, for reservations (`budget_hold.rs`).
    pub(super) fn for_budgets(&self) -> (&PriceTable, &Arc<Budgets>, &CardinalityGuard, &Registry) {
        let i = &self.inner;
        (&i.prices, &i.budgets, &i.guard, &i.registry)
    }

    /// Counts a usage the provider reported but that could not be read as token counts (a
    /// negative, fractional or non-numeric count), in
    /// `orchestrator_telemetry_rejected_values_total{reason}`. The adapters call it; the call
    /// is then recorded without usage.
    pub fn refuse_usage(&self, reason: RejectReason) {
        self.inner.registry.rejections().count(reason);
    }

    /// A call whose (provider, model) is not cached yet, or folds; `hashes` are the
    /// `hash_str` of its raw provider and model, `key` their `pair`, `model` what the guard
    /// admitted of the model (the fold already counted).
    fn record_new(
        &self,
        call: &LlmCall<'_>,
        hashes: (u64, u64),
        key: u64,
        model: Cow<'_, str>,
    ) -> Option<f64> {
        let inner = &self.inner;
        let cache = &inner.cache;
        let model: &str = &model;
        let folded = model == OTHER;
        // Folded calls share the handles of "other" but keep the price of their real model
        // (none, when every priced model is kept).
        let price = if folded && inner.folded_unpriced {
            None
        } else {
            inner.prices.price_hashed(key, call.provider, call.model)
        };
        if folded {
            if let Some((provider, handles)) = inner.first_other.get()
                && **provider == *call.provider
            {
                return self.record_with(handles, call, price);
            }
            // A flood of model names: the cache holds admitted values only, so finding the
            // raw provider beside "other" proves it admitted, without its admission (which
            // takes the guard's mutex until the provider cap is full).
            let hash = pair(hashes.0, inner.other_hash);
            if let Some(handles) = cache.find(hash, eq(call.provider, OTHER)) {
                if inner.first_other.get().is_none() {
                    let _ = inner
                        .first_other
                        .set((call.provider.into(), handles.clone()));
                }
                return self.record_with(handles, call, price);
            }
        }
        let provider = inner.guard.admit(GuardedLabel::Provider, call.provider);
        let provider: &str = &provider;
        let hash = cache.hash2(provider, model);
        // The folded path (an "other" already resolved) allocates nothing.
        if let Some(handles) = cache.find(hash, eq(provider, model)) {
            return self.record_with(handles, call, price);
        }
        let key = (provider.into(), model.into());
        let handles = cache.get_or_insert_with(hash, key, eq(provider, model), || {
            self.resolve(provider, model)
        });
        self.record_with(&handles, call, price)
    }

    fn resolve(&self, provider: &str, model: &str) -> Handles {
        let r = &self.inner.registry;
        let pm = [provider, model];
        let tokens = |kind| histogram(r, &catalogue::LLM_TOKENS, &[provider, model, kind]);
        Handles {
            requests: LlmOutcome::ALL.map(|o| {
                counter(
                    r,
                    &catalogue::LLM_REQUESTS_TOTAL,
                    &[provider, model, o.as_str()],
                )
            }),
            unreported: std::array::from_fn(|i| {
                let usage = catalogue::labels::UNREPORTED_USAGE[i];
                counter(
                    r,
                    &catalogue::LLM_UNREPORTED_USAGE_TOTAL,
                    &[provider, model, usage],
                )
            }),
            latency: histogram(r, &catalogue::LLM_LATENCY_SECONDS, &pm),
            ttft: histogram(r, &catalogue::LLM_TIME_TO_FIRST_TOKEN_SECONDS, &pm),
            time_per_output_token: histogram(r, &catalogue::LLM_TIME_PER_OUTPUT_TOKEN_SECONDS, &pm),
            input_tokens: tokens("input"),
            output_tokens: tokens("output"),
            cache_read_tokens: Arc::default(),
            cache_write_tokens: Arc::default(),
            reasoning_tokens: Arc::default(),
            labels: Arc::new((provider.into(), model.into())),
            cost: counter(r, &catalogue::LLM_COST_USD_TOTAL, &pm),
            price: self.inner.prices.price(provider, model),
            gen_ai: Arc::default(),
        }
    }

    #[cold]
    fn lazy_tokens<'h>(
        &self,
        cell: &'h OnceLock<HistogramHandle>,
        labels: &(Box<str>, Box<str>),
        kind: &str,
    ) -> &'h HistogramHandle {
        cell.get_or_init(|| {
            histogram(
                &self.inner.registry,
                &catalogue::LLM_TOKENS,
                &[&labels.0, &labels.1, kind],
            )
        })
    }

    fn record_with(
        &self,
        h: &Handles,
        call: &LlmCall<'_>,
        price: Option<ModelPrice>,
    ) -> Option<f64> {
        // Found once for the call's ten or so writes.
        let stripe = Stripe::current();
        let outcome = call.outcome.index();
        h.requests[outcome].increment_in(stripe, 1);
        if let Some(errors) = &self.inner.errors[outcome] {
            errors.increment_in(stripe, 1);
        }
        // Durations and token counts are finite and non-negative: these observations
        // cannot be refused.
        let _ =
            h.latency
                .observe_maybe_exemplar_in(stripe, call.duration.as_secs_f64(), call.exemplar);
        if let Some(ttft) = call.time_to_first_token {
            let _ = h
                .ttft
                .observe_maybe_exemplar_in(stripe, ttft.as_secs_f64(), call.exemplar);
        }
        let registry = &self.inner.registry;
        if registry.records_gen_ai() {
            let accepted = call.usage.filter(|u| u.check().is_ok());
            h.gen_ai.record(
                registry,
                stripe,
                call,
                &h.labels,
                accepted.map(|u| (u.input, u.output)),
            );
        }
        let Some(usage) = call.usage else {
            if call.outcome == LlmOutcome::Success {
                h.unreported[0].increment_in(stripe, 1);
            }
            return None;
        };
        if call.usage_source == UsageSource::Estimated {
            h.unreported[1].increment_in(stripe, 1);
        }
        let rejections = self.inner.registry.rejections();
        if let Err(reason) = usage.check() {
            // Implausible counts: neither the tokens nor a cost made from them.
            rejections.count_in(stripe, reason);
            return None;
        }
        let _ = h.input_tokens.observe_in(stripe, usage.input as f64);
        let _ = h.output_tokens.observe_in(stripe, usage.output as f64);
        if let (Some(ttft), true) = (call.time_to_first_token, usage.output >= 2) {
            // The semantic conventions' shape: the decode time spread over the tokens after
            // the first.
            let decode = call.duration.saturating_sub(ttft).as_secs_f64();
            let _ = h
                .time_per_output_token
                .observe_in(stripe, decode / (usage.output - 1) as f64);
        }
        let parts = [
            (&h.cache_read_tokens, "cache_read", usage.cached_input),
            (
                &h.cache_write_tokens,
                "cache_write",
                usage.cache_write_input,
            ),
            (&h.reasoning_tokens, "reasoning", usage.reasoning),
        ];
        for (cell, kind, n) in parts {
            if n > 0 {
                // Made once (cold); afterwards one load.
                let handle = match cell.get() {
                    Some(handle) => handle,
                    None => self.lazy_tokens(cell, &h.labels, kind),
                };
                let _ = handle.observe_in(stripe, n as f64);
            }
        }
        match price {
            Some(price) => {
                let cost = price.cost(&usage);
                h.cost.add_in(stripe, cost).ok().map(|()| cost)
            }
            None => {
                rejections.count_in(stripe, RejectReason::UnpricedModel);
                None
            }
        }
    }
}

fn eq<'a>(provider: &'a str, model: &'a str) -> impl Fn(&(Box<str>, Box<str>)) -> bool + 'a {
    move |k| &*k.0 == provider && &*k.1 == model
}

#[cfg(test)]
mod tests;

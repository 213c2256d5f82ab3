//! The GenAI semantic conventions' client metrics
//! ([`catalogue::semconv`](crate::catalogue::semconv)), recorded from the same LLM calls as
//! the seed's series: one more histogram observation for the duration, one for the time to
//! first chunk of a streamed call, two for the tokens.
//!
//! Their series hang off the LLM recorder's cached handles of a (provider, model), one set
//! per operation: `chat` found with one atomic load, other operations in a short list.

use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use super::histogram;
use super::llm::{LlmCall, LlmOutcome};
use crate::catalogue::semconv::{
    ERROR_TYPES, GEN_AI_CLIENT_OPERATION_DURATION, GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
    GEN_AI_CLIENT_TOKEN_USAGE,
};
use crate::registry::{HistogramHandle, Registry, Stripe};

/// The conventions series of one (operation, provider, model).
#[derive(Debug)]
struct Series {
    /// By outcome, in the order of `LlmOutcome::ALL`; made on first use (most models never
    /// time out, and an empty histogram would still be pushed).
    duration: [OnceLock<HistogramHandle>; 5],
    /// `input`, `output`: made on the first call with usage (a model whose calls all fail
    /// pushes no empty token histograms).
    tokens: [OnceLock<HistogramHandle>; 2],
    ttfc: OnceLock<HistogramHandle>,
    /// Operation, provider, model.
    labels: [Box<str>; 3],
}

impl Series {
    fn new(operation: &str, provider: &str, model: &str) -> Self {
        Series {
            duration: Default::default(),
            tokens: Default::default(),
            ttfc: OnceLock::new(),
            labels: [operation.into(), provider.into(), model.into()],
        }
    }

    fn tokens(&self, registry: &Registry, index: usize) -> &HistogramHandle {
        self.tokens[index].get_or_init(|| {
            let [op, provider, model] = &self.labels;
            let kind = ["input", "output"][index];
            histogram(
                registry,
                &GEN_AI_CLIENT_TOKEN_USAGE,
                &[op, provider, model, kind],
            )
        })
    }

    fn duration(&self, registry: &Registry, outcome: LlmOutcome) -> &HistogramHandle {
        let index = outcome.index();
        self.duration[index].get_or_init(|| {
            let [op, provider, model] = &self.labels;
            histogram(
                registry,
                &GEN_AI_CLIENT_OPERATION_DURATION,
                &[op, provider, model, ERROR_TYPES[index]],
            )
        })
    }

    fn ttfc(&self, registry: &Registry) -> &HistogramHandle {
        self.ttfc.get_or_init(|| {
            let [op, provider, model] = &self.labels;
            histogram(
                registry,
                &GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
                &[op, provider, model],
            )
        })
    }
}

/// The conventions series of one (provider, model), by operation.
#[derive(Debug, Default)]
pub(super) struct GenAiSeries {
    chat: OnceLock<Series>,
    others: RwLock<Vec<Arc<Series>>>,
}

impl GenAiSeries {
    /// Records `call` (`provider` and `model` the admitted label values); `tokens` when its
    /// usage was accepted.
    pub(super) fn record(
        &self,
        registry: &Registry,
        stripe: Stripe,
        call: &LlmCall<'_>,
        labels: &(Box<str>, Box<str>),
        tokens: Option<(u64, u64)>,
    ) {
        let record = |series: &Series| {
            let _ = series
                .duration(registry, call.outcome)
                .observe_maybe_exemplar_in(stripe, call.duration.as_secs_f64(), call.exemplar);
            if let Some(ttft) = call.time_to_first_token {
                let _ = series.ttfc(registry).observe_maybe_exemplar_in(
                    stripe,
                    ttft.as_secs_f64(),
                    call.exemplar,
                );
            }
            if let Some((input, output)) = tokens {
                let _ = series.tokens(registry, 0).observe_in(stripe, input as f64);
                let _ = series.tokens(registry, 1).observe_in(stripe, output as f64);
            }
        };
        if call.operation == "chat" {
            record(
                self.chat
                    .get_or_init(|| Series::new("chat", &labels.0, &labels.1)),
            );
            return;
        }
        let found = self
            .others
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|s| *s.labels[0] == *call.operation)
            .cloned();
        let series = found.unwrap_or_else(|| {
            let mut others = self.others.write().unwrap_or_else(PoisonError::into_inner);
            match others.iter().find(|s| *s.labels[0] == *call.operation) {
                Some(series) => series.clone(),
                None => {
                    let series = Arc::new(Series::new(call.operation, &labels.0, &labels.1));
                    others.push(series.clone());
                    series
                }
            }
        });
        record(&series);
    }
}

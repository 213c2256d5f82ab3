//! The live page's LLM panel and top tenants, read from one parsed exposition: per provider
//! and model the calls, failures, p95 latency, p95 time to first token, tokens and cost since
//! start; the tenants with the highest LLM spend.

use orchestrator_api::{Bucket, LlmRow, TenantSpend};
use orchestrator_metrics::catalogue::{
    LLM_COST_USD_TOTAL, LLM_LATENCY_SECONDS, LLM_REQUESTS_TOTAL, LLM_TIME_TO_FIRST_TOKEN_SECONDS,
    LLM_TOKENS, LLM_UNREPORTED_USAGE_TOTAL, TENANT_LLM_COST_USD_TOTAL,
};
use orchestrator_metrics::exposition::{Exposition, Sample, histogram_quantile_in};

/// The p95 of `buckets` as Prometheus computes it, and its bucket when the value could be
/// more than 10 % off (the page then shows the bucket).
pub(super) fn p95(buckets: &[(f64, f64)]) -> (Option<f64>, Option<Bucket>) {
    let Some(q) = histogram_quantile_in(0.95, buckets) else {
        return (None, None);
    };
    let bound = |b: f64| b.is_finite().then_some(b);
    let bucket = (!q.is_precise()).then(|| Bucket {
        lower: bound(q.lower),
        upper: bound(q.upper),
    });
    (Some(q.value), bucket)
}

/// How many tenants the page lists.
pub(super) const TOP_TENANTS: usize = 10;

/// One row per (provider, model), sorted.
pub(super) fn llm_rows(e: &Exposition) -> Vec<LlmRow> {
    e.label_pairs(LLM_REQUESTS_TOTAL.name, "provider", "model")
        .iter()
        .map(|(provider, model)| {
            let this = |s: &Sample| {
                s.label("provider") == Some(provider.as_str())
                    && s.label("model") == Some(model.as_str())
            };
            let calls = e.sum_where(LLM_REQUESTS_TOTAL.name, this);
            let ok = e.sum_where(LLM_REQUESTS_TOTAL.name, |s| {
                this(s) && s.label("outcome") == Some("success")
            });
            let tokens = |kind: &str| {
                e.sum_where(&format!("{}_sum", LLM_TOKENS.name), |s| {
                    this(s) && s.label("token_type") == Some(kind)
                })
            };
            let unreported = |kind: &str| {
                e.sum_where(LLM_UNREPORTED_USAGE_TOTAL.name, |s| {
                    this(s) && s.label("usage") == Some(kind)
                })
            };
            let latency = p95(&e.buckets(LLM_LATENCY_SECONDS.name, this));
            let ttft = p95(&e.buckets(LLM_TIME_TO_FIRST_TOKEN_SECONDS.name, this));
            LlmRow {
                provider: provider.clone(),
                model: model.clone(),
                calls,
                failed: calls - ok,
                p95_seconds: latency.0,
                p95_bucket: latency.1,
                ttft_p95_seconds: ttft.0,
                ttft_p95_bucket: ttft.1,
                input_tokens: tokens("input"),
                output_tokens: tokens("output"),
                usage_missing: unreported("missing"),
                usage_estimated: unreported("estimated"),
                cost_usd: e.sum_where(LLM_COST_USD_TOTAL.name, this),
            }
        })
        .collect()
}

/// The tenants with the highest LLM spend, highest first.
pub(super) fn top_tenants(e: &Exposition) -> Vec<TenantSpend> {
    let mut tenants: Vec<(&str, f64)> = e
        .samples(TENANT_LLM_COST_USD_TOTAL.name)
        .filter_map(|s| Some((s.label("tenant")?, s.value)))
        .collect();
    tenants.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    tenants
        .iter()
        .take(TOP_TENANTS)
        .map(|&(tenant, cost_usd)| TenantSpend {
            tenant: tenant.to_owned(),
            cost_usd,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_tenants_from_an_exposition() {
        let text = "\
# TYPE orchestrator_llm_requests_total counter
orchestrator_llm_requests_total{provider=\"openai\",model=\"m\",outcome=\"success\"} 9
orchestrator_llm_requests_total{provider=\"openai\",model=\"m\",outcome=\"error\"} 1
# TYPE orchestrator_llm_cost_usd_total counter
orchestrator_llm_cost_usd_total{provider=\"openai\",model=\"m\"} 0.5
# TYPE orchestrator_llm_unreported_usage_total counter
orchestrator_llm_unreported_usage_total{provider=\"openai\",model=\"m\",usage=\"missing\"} 2
orchestrator_llm_unreported_usage_total{provider=\"openai\",model=\"m\",usage=\"estimated\"} 1
# TYPE orchestrator_tenant_llm_cost_usd_total counter
orchestrator_tenant_llm_cost_usd_total{tenant=\"b\"} 0.1
orchestrator_tenant_llm_cost_usd_total{tenant=\"a\"} 0.4
";
        let e = orchestrator_metrics::exposition::parse(text).unwrap();
        let rows = llm_rows(&e);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].calls, 10.0);
        assert_eq!(rows[0].failed, 1.0);
        assert_eq!(rows[0].cost_usd, 0.5);
        assert_eq!((rows[0].usage_missing, rows[0].usage_estimated), (2.0, 1.0));
        let tenants = top_tenants(&e);
        assert_eq!(tenants[0].tenant, "a");
        assert_eq!(tenants[1].tenant, "b");
    }

    /// Every time to first token 125–140 ms: all in the conventions' (0.1, 0.25] bucket,
    /// where the interpolated p95 is 242.5 ms. The row gives the bucket with it; the total
    /// latency, 2.6–2.8 s, falls in (2.56, 5.12] and is just as vague.
    #[test]
    fn a_p95_in_a_wide_bucket_comes_with_its_bucket() {
        use std::time::Duration;

        use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, Registry};

        let registry = Registry::new();
        let metrics = Metrics::new(&registry);
        for i in 0..100u64 {
            let ttft = Duration::from_micros(125_000 + i * 150);
            let call = LlmCall::new(
                "openai",
                "m",
                LlmOutcome::Success,
                Duration::from_millis(2_600 + 2 * i),
            )
            .with_time_to_first_token(ttft);
            metrics.llm().record(&call);
        }
        let e = orchestrator_metrics::exposition::parse(&registry.render()).unwrap();
        let row = &llm_rows(&e)[0];
        assert!((row.ttft_p95_seconds.unwrap() - 0.2425).abs() < 1e-9);
        let bucket = |lower, upper| {
            Some(Bucket {
                lower: Some(lower),
                upper: Some(upper),
            })
        };
        assert_eq!(row.ttft_p95_bucket, bucket(0.1, 0.25));
        assert_eq!(row.p95_bucket, bucket(2.56, 5.12));
    }
}

//! Typed recorders: one per concern, each resolving its handles once and caching them.
//!
//! After a label combination has been seen once, recording is a lock-free cache lookup with
//! a borrowed key plus atomic adds: no allocation, no string formatting. Every label value
//! that can come from outside goes through the shared [`CardinalityGuard`].

mod agent;
mod budget_hold;
mod business;
mod cache;
mod dependency;
mod errors;
mod gen_ai;
mod handle_cache;
mod llm;
mod request;
mod session;
mod tenant;
mod token_counters;

use std::sync::Arc;

pub use agent::{AgentHandles, AgentLimit, AgentMetrics, RunOutcome, ToolHandles};
pub use business::BusinessMetrics;
pub use cache::{CacheMetrics, CacheOp, CacheResult};
pub use dependency::{DependencyKind, DependencyMetrics};
pub use errors::ErrorMetrics;
pub use llm::{LlmCall, LlmMetrics, LlmOutcome, UsageSource};
pub use request::{RequestMetrics, Status};
pub use session::{SessionMetrics, SessionTimer};
pub use tenant::TenantMetrics;

use crate::budget::Budgets;
use crate::catalogue::MetricDef;
use crate::registry::{CounterHandle, GaugeHandle, HistogramHandle, Registry, RegistryError};
use crate::{Budget, CardinalityGuard, CardinalityLimits, GuardedLabel, PriceTable};

/// Configures and builds [`Metrics`].
#[derive(Debug, Clone, Default)]
pub struct MetricsBuilder {
    limits: CardinalityLimits,
    prices: PriceTable,
    budgets: Vec<Budget>,
    budget_store: Option<(Arc<dyn crate::BudgetStore>, crate::FailMode)>,
}

impl MetricsBuilder {
    /// Sets the cardinality limits of the guarded labels.
    pub fn cardinality(mut self, limits: CardinalityLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the price table the LLM cost is computed from. Its providers and models are
    /// reserved in the cardinality guard: always admitted, outside the caps, so that a
    /// flood of junk model names can never fold a priced model into `"other"`.
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// Adds an LLM budget: the spend of its tenant (or of the whole service, `*`) over its
    /// rolling period is exported against it, for the `BudgetWarning`, `BudgetExceeded` and
    /// `SpendRateAnomaly` rules. A tenant with a budget is reserved in the cardinality
    /// guard. A second budget for the same tenant and period replaces the first.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budgets
            .retain(|b| (b.tenant(), b.period()) != (budget.tenant(), budget.period()));
        self.budgets.push(budget);
        self
    }

    /// Keeps the budgets' spend and holds in `store`, shared by every replica and kept
    /// across restarts (Redis: `orchestrator_kpi::RedisBudgetStore`); `fail` says what a
    /// reservation does when the store cannot be reached.
    pub fn budget_store(
        mut self,
        store: Arc<dyn crate::BudgetStore>,
        fail: crate::FailMode,
    ) -> Self {
        self.budget_store = Some((store, fail));
        self
    }

    /// Builds the recorders over `registry`.
    pub fn build(self, registry: &Registry) -> Metrics {
        let budgets = Budgets::with_store(registry, self.budgets, self.budget_store);
        let limits = self
            .limits
            .reserve(GuardedLabel::Provider, self.prices.models().map(|(p, _)| p))
            .reserve(GuardedLabel::Model, self.prices.models().map(|(_, m)| m))
            .reserve(GuardedLabel::Tenant, budgets.tenants());
        let guard = Arc::new(CardinalityGuard::new(registry, &limits));
        let errors = ErrorMetrics::new(registry, guard.clone());
        let dependencies = DependencyMetrics::new(registry, guard.clone(), errors.clone());
        Metrics {
            registry: registry.clone(),
            requests: RequestMetrics::new(registry, guard.clone(), &errors),
            llm: LlmMetrics::new(
                registry,
                guard.clone(),
                &errors,
                self.prices,
                budgets.clone(),
            ),
            cache: CacheMetrics::new(registry, guard.clone()),
            sessions: SessionMetrics::new(registry),
            business: BusinessMetrics::new(registry),
            tenants: TenantMetrics::new(registry, guard.clone(), budgets),
            agents: AgentMetrics::new(registry, guard.clone()),
            dependencies,
            errors,
            guard,
        }
    }
}

/// Every typed recorder over one registry, sharing one cardinality guard. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, Registry, TokenUsage};
///
/// let registry = Registry::new();
/// let metrics = Metrics::new(&registry);
/// metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(120));
/// metrics.llm().record(
///     &LlmCall::new("openai", "gpt-4o-mini", LlmOutcome::Success, Duration::from_millis(900))
///         .with_usage(TokenUsage::new(420, 128)),
/// );
/// let text = registry.render();
/// assert!(text.contains("orchestrator_llm_tokens_sum{provider=\"openai\",model=\"gpt-4o-mini\",token_type=\"input\"} 420"));
/// ```
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    requests: RequestMetrics,
    llm: LlmMetrics,
    cache: CacheMetrics,
    dependencies: DependencyMetrics,
    sessions: SessionMetrics,
    business: BusinessMetrics,
    errors: ErrorMetrics,
    tenants: TenantMetrics,
    agents: AgentMetrics,
}

impl Metrics {
    /// The recorders with default limits and an empty price table.
    pub fn new(registry: &Registry) -> Self {
        Self::builder().build(registry)
    }

    /// A builder for limits and prices.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::default()
    }

    /// The registry the recorders write to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The cardinality guard shared by the recorders.
    pub fn guard(&self) -> &CardinalityGuard {
        &self.guard
    }

    /// API requests: count, duration, server errors.
    pub fn requests(&self) -> &RequestMetrics {
        &self.requests
    }

    /// LLM calls: count, latency, tokens, time to first token, cost.
    pub fn llm(&self) -> &LlmMetrics {
        &self.llm
    }

    /// Cache operations.
    pub fn cache(&self) -> &CacheMetrics {
        &self.cache
    }

    /// Calls to databases, caches and external APIs.
    pub fn dependencies(&self) -> &DependencyMetrics {
        &self.dependencies
    }

    /// User sessions.
    pub fn sessions(&self) -> &SessionMetrics {
        &self.sessions
    }

    /// Business events: revenue, conversions, satisfaction, quality.
    pub fn business(&self) -> &BusinessMetrics {
        &self.business
    }

    /// Errors by component and kind.
    pub fn errors(&self) -> &ErrorMetrics {
        &self.errors
    }

    /// Requests, LLM spend and tokens by tenant.
    pub fn tenants(&self) -> &TenantMetrics {
        &self.tenants
    }

    /// Agent runs (runs, duration, steps, tool calls, LLM spend and tokens, limits) and
    /// tool calls.
    pub fn agents(&self) -> &AgentMetrics {
        &self.agents
    }
}

/// Catalogue series are always well-formed (the catalogue is tested), so these cannot fail;
/// should one ever fail, the error is logged and a detached handle keeps the caller working.
fn detached(def: &MetricDef, err: &RegistryError) {
    tracing::error!(metric = def.name, error = %err, "cannot register a catalogue series; its values are not exported");
}

pub(crate) fn counter(registry: &Registry, def: &MetricDef, values: &[&str]) -> CounterHandle {
    registry.counter(def, values).unwrap_or_else(|err| {
        detached(def, &err);
        CounterHandle {
            cell: Default::default(),
            rejections: registry.rejections().clone(),
        }
    })
}

pub(crate) fn gauge(registry: &Registry, def: &MetricDef, values: &[&str]) -> GaugeHandle {
    registry.gauge(def, values).unwrap_or_else(|err| {
        detached(def, &err);
        GaugeHandle {
            cell: Default::default(),
            rejections: registry.rejections().clone(),
        }
    })
}

pub(crate) fn histogram(registry: &Registry, def: &MetricDef, values: &[&str]) -> HistogramHandle {
    registry.histogram(def, values).unwrap_or_else(|err| {
        detached(def, &err);
        HistogramHandle {
            cell: Arc::new(crate::registry::detached_histogram(def)),
            rejections: registry.rejections().clone(),
        }
    })
}

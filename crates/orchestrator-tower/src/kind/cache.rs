//! A cache lookup or write. The request and response types are the user's; they tell the
//! operation and whether a read hit.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{CacheOp, CacheResult, DependencyKind, Metrics};

use super::{CallState, Kind, OnRequest, OnResponse};
use crate::classify::{Ended, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::span::Operation;

/// What a cache request tells the layer.
pub trait CacheRequest {
    /// The operation.
    fn operation(&self) -> CacheOp;
}

/// What a cache response tells the layer.
pub trait CacheResponse {
    /// For reads, whether the key was found; `None` for writes and deletes.
    fn hit(&self) -> Option<bool>;
}

/// Client middleware around a cache (any `tower::Service` whose requests and responses
/// implement [`CacheRequest`] and [`CacheResponse`]), named `name` in the `cache` label.
#[derive(Debug, Clone)]
pub struct Cache {
    name: Arc<str>,
}

impl Cache {
    /// Operations on the cache called `name`.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Cache { name: name.into() }
    }
}

/// The state of one cache operation.
#[derive(Debug)]
pub struct CacheCall {
    pub(crate) name: Arc<str>,
    pub(crate) op: CacheOp,
    pub(crate) hit: Option<bool>,
}

fn op_name(op: CacheOp) -> &'static str {
    match op {
        CacheOp::Get => "get",
        CacheOp::Set => "set",
        CacheOp::Delete => "delete",
    }
}

impl CallState for CacheCall {
    const OPERATION: Operation = Operation::CacheLookup;
    const SPAN_KIND: SpanKind = SpanKind::Client;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        let result = match (ended.outcome, self.hit) {
            (Outcome::Completed(_), Some(true)) => CacheResult::Hit,
            (Outcome::Completed(_), Some(false)) => CacheResult::Miss,
            (Outcome::Completed(_), None) => CacheResult::Ok,
            _ => CacheResult::Error,
        };
        metrics
            .cache()
            .record(&self.name, self.op, result, Some(ended.duration));
        metrics.dependencies().record(
            DependencyKind::Cache,
            &self.name,
            ended.duration,
            ended.outcome.error_type(),
        );
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{} {}", op_name(self.op), self.name))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new("db.operation.name", op_name(self.op)));
        attributes.push(KeyValue::new("db.namespace", self.name.to_string()));
        if let Some(hit) = self.hit {
            attributes.push(KeyValue::new("cache.hit", hit));
        }
        if let Some(kind) = ended.outcome.error_type() {
            attributes.push(KeyValue::new("error.type", kind));
        }
    }
}

impl Kind for Cache {
    type Call = CacheCall;
}

impl<Req: CacheRequest> OnRequest<Req> for Cache {
    fn on_request(&self, request: &mut Req, _context: &TraceContext) -> CacheCall {
        CacheCall {
            name: self.name.clone(),
            op: request.operation(),
            hit: None,
        }
    }
}

impl<Res: CacheResponse> OnResponse<Res> for Cache {
    type Output = Res;

    fn on_response(&self, response: Res, mut pending: Pending<CacheCall>) -> Res {
        pending.call_mut().hit = response.hit();
        pending.finish(Outcome::Completed(None));
        response
    }
}

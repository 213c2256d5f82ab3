//! A database query. The request type is the user's; it names its operation through
//! [`DbOperation`].

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{DependencyKind, Metrics};

use super::{CallState, Kind, OnRequest, OnResponse};
use crate::classify::{Ended, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::span::Operation;

/// What a database request tells the layer.
pub trait DbOperation {
    /// The operation, as `db.operation.name` (`SELECT`, `INSERT`...): a bounded value.
    fn operation(&self) -> &'static str;
}

/// Client middleware around a database client (any `tower::Service` whose requests
/// implement [`DbOperation`]); `system` is `db.system.name` (`sqlite`, `postgresql`...) and
/// the `target` label of the dependency metrics.
#[derive(Debug, Clone)]
pub struct Database {
    system: Arc<str>,
}

impl Database {
    /// Queries to the database `system`.
    pub fn new(system: impl Into<Arc<str>>) -> Self {
        Database {
            system: system.into(),
        }
    }
}

/// The state of one query.
#[derive(Debug)]
pub struct DatabaseCall {
    pub(crate) system: Arc<str>,
    pub(crate) operation: &'static str,
}

impl CallState for DatabaseCall {
    const OPERATION: Operation = Operation::DatabaseQuery;
    const SPAN_KIND: SpanKind = SpanKind::Client;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        metrics.dependencies().record(
            DependencyKind::Database,
            &self.system,
            ended.duration,
            ended.outcome.error_type(),
        );
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{} {}", self.operation, self.system))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new("db.system.name", self.system.to_string()));
        attributes.push(KeyValue::new("db.operation.name", self.operation));
        if let Some(kind) = ended.outcome.error_type() {
            attributes.push(KeyValue::new("error.type", kind));
        }
    }
}

impl Kind for Database {
    type Call = DatabaseCall;
}

impl<Req: DbOperation> OnRequest<Req> for Database {
    fn on_request(&self, request: &mut Req, _context: &TraceContext) -> DatabaseCall {
        DatabaseCall {
            system: self.system.clone(),
            operation: request.operation(),
        }
    }
}

impl<Res> OnResponse<Res> for Database {
    type Output = Res;

    fn on_response(&self, response: Res, pending: Pending<DatabaseCall>) -> Res {
        pending.finish(Outcome::Completed(None));
        response
    }
}

//! A call to an external HTTP API.

use std::borrow::Cow;
use std::sync::Arc;

use http::{Method, Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{DependencyKind, Metrics};

use super::{CallState, Kind, OnRequest, OnResponse, outcome_attributes};
use crate::classify::{Ended, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::propagation;
use crate::span::Operation;

/// Client middleware around an HTTP client calling an external API named `target`. It
/// writes `traceparent` on every request.
#[derive(Debug, Clone)]
pub struct External {
    target: Arc<str>,
}

impl External {
    /// Calls to the API named `target` (a bounded label: `moderation-api`, not a URL).
    pub fn new(target: impl Into<Arc<str>>) -> Self {
        External {
            target: target.into(),
        }
    }
}

/// The state of one external call.
#[derive(Debug)]
pub struct ExternalCall {
    pub(crate) target: Arc<str>,
    pub(crate) method: Method,
    pub(crate) status: Option<u16>,
}

impl CallState for ExternalCall {
    const OPERATION: Operation = Operation::ExternalApi;
    const SPAN_KIND: SpanKind = SpanKind::Client;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        metrics.dependencies().record(
            DependencyKind::External,
            &self.target,
            ended.duration,
            ended.outcome.error_type(),
        );
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{} {}", self.method, self.target))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new(
            "http.request.method",
            self.method.as_str().to_owned(),
        ));
        attributes.push(KeyValue::new("peer.service", self.target.to_string()));
        outcome_attributes(self.status, ended, attributes);
    }
}

impl Kind for External {
    type Call = ExternalCall;
}

impl<B> OnRequest<Request<B>> for External {
    fn on_request(&self, request: &mut Request<B>, context: &TraceContext) -> ExternalCall {
        propagation::inject(context, request.headers_mut());
        ExternalCall {
            target: self.target.clone(),
            method: request.method().clone(),
            status: None,
        }
    }
}

impl<B> OnResponse<Response<B>> for External {
    type Output = Response<B>;

    fn on_response(
        &self,
        response: Response<B>,
        mut pending: Pending<ExternalCall>,
    ) -> Response<B> {
        let status = response.status().as_u16();
        pending.call_mut().status = Some(status);
        pending.finish(Outcome::from_status(status));
        response
    }
}

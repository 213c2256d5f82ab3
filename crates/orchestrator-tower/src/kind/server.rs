//! The API request: the server root span of a trace.

use std::borrow::Cow;

use axum::extract::MatchedPath;
use http::{Method, Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{Metrics, Status};

use super::{CallState, Kind, OnRequest, OnResponse, outcome_attributes};
use crate::classify::{Ended, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::propagation;
use crate::span::Operation;

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Server middleware: an API request, its `traceparent` read, its route taken from axum's
/// [`MatchedPath`] (the template, never the raw path). Add the layer with `Router::layer`
/// so that it runs after routing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Server;

/// The state of one API request.
#[derive(Debug)]
pub struct ServerCall {
    route: Option<MatchedPath>,
    method: Method,
    status: Option<u16>,
}

impl ServerCall {
    fn route(&self) -> &str {
        self.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl CallState for ServerCall {
    const OPERATION: Operation = Operation::ApiRequest;
    const SPAN_KIND: SpanKind = SpanKind::Server;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        let status = match ended.outcome {
            Outcome::Cancelled => Status::Cancelled,
            _ => Status::Code(self.status.unwrap_or(500)),
        };
        metrics
            .requests()
            .record(self.route(), self.method.as_str(), status, ended.duration);
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{} {}", self.method, self.route()))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new(
            "http.request.method",
            self.method.as_str().to_owned(),
        ));
        attributes.push(KeyValue::new("http.route", self.route().to_owned()));
        outcome_attributes(self.status, ended, attributes);
    }
}

impl Kind for Server {
    type Call = ServerCall;
}

impl<B> OnRequest<Request<B>> for Server {
    fn parent(&self, request: &Request<B>) -> Option<TraceContext> {
        propagation::extract(request.headers())
    }

    fn on_request(&self, request: &mut Request<B>, _context: &TraceContext) -> ServerCall {
        ServerCall {
            route: request.extensions().get::<MatchedPath>().cloned(),
            method: request.method().clone(),
            status: None,
        }
    }
}

impl<B> OnResponse<Response<B>> for Server {
    type Output = Response<B>;

    fn on_response(&self, response: Response<B>, mut pending: Pending<ServerCall>) -> Response<B> {
        let status = response.status().as_u16();
        pending.call_mut().status = Some(status);
        pending.finish(Outcome::from_status(status));
        response
    }
}

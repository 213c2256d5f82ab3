//! The API request: the server root span of a trace.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::MatchedPath;
use http::{HeaderName, Method, Request, Response};
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
#[derive(Debug, Clone, Default)]
pub struct Server {
    tenant_header: Option<HeaderName>,
}

/// The tenant (customer, team or API key) a request is billed to, as a request extension:
/// put it on the request before the server layer sees it (an outer middleware that
/// authenticates, say), or let the layer read it from a header
/// ([`Server::tenant_header`]). Every LLM call made while serving the request bills its
/// spend and tokens to it; see also [`set_tenant`](crate::set_tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub Arc<str>);

impl Server {
    /// Reads the tenant from this request header (`x-tenant-id`, say) when no [`Tenant`]
    /// extension is set. The value is not trusted for cardinality: the `tenant` label is
    /// guarded (the first 100 by default, or an allow-list), the overflow counted in `other`.
    pub fn tenant_header(mut self, name: HeaderName) -> Self {
        self.tenant_header = Some(name);
        self
    }
}

/// The state of one API request.
#[derive(Debug)]
pub struct ServerCall {
    route: Option<MatchedPath>,
    method: Method,
    status: Option<u16>,
    tenant: Option<Arc<str>>,
    /// The trace's spend, when the request records its span: its roll-up attributes.
    spend: Option<Arc<crate::agent::Tally>>,
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
        metrics.requests().record_maybe_exemplar(
            self.route(),
            self.method.as_str(),
            status,
            ended.duration,
            ended.exemplar,
        );
        if let Some(tenant) = &self.tenant {
            metrics.tenants().record_request(tenant);
        }
    }

    fn tenant(&self) -> Option<&Arc<str>> {
        self.tenant.as_ref()
    }

    fn learn_tenant(&mut self, tenant: &Arc<str>) {
        // A header or an extension named the requester first: the request stays theirs.
        if self.tenant.is_none() {
            self.tenant = Some(tenant.clone());
        }
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
        if let Some(spend) = &self.spend {
            spend.attributes(attributes);
        }
    }

    fn inherit(&mut self, lineage: &mut crate::agent::Lineage) {
        self.spend.clone_from(&lineage.spend);
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
        let tenant = match request.extensions().get::<Tenant>() {
            Some(Tenant(tenant)) => Some(tenant.clone()),
            None => self
                .tenant_header
                .as_ref()
                .and_then(|name| request.headers().get(name))
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(Arc::from),
        };
        ServerCall {
            route: request.extensions().get::<MatchedPath>().cloned(),
            method: request.method().clone(),
            status: None,
            tenant,
            spend: None,
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

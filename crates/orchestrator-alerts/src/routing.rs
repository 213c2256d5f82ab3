//! Routing by severity: which channels an alert of a given severity goes to. One type for
//! both the generated Alertmanager configuration and the direct sinks (Slack, PagerDuty,
//! email), parsed from the same `--route` syntax.

use std::sync::Arc;

use crate::notify::{Delivery, DeliveryError, Notification, Sink};

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// PagerDuty (Events API v2, routing key from a file).
    PagerDuty,
    /// Slack (incoming webhook URL from a file).
    Slack,
    /// Email (SMTP password from a file).
    Email,
}

impl Channel {
    /// Its name in receiver names and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::PagerDuty => "pagerduty",
            Channel::Slack => "slack",
            Channel::Email => "email",
        }
    }
}

/// A route spec that cannot be used. The message quotes the spec and lists what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Not `SEVERITY[|SEVERITY]=CHANNEL[,CHANNEL]`.
    #[error("route `{0}`: expected SEVERITY[|SEVERITY]=CHANNEL[,CHANNEL]")]
    Syntax(String),
    /// A severity other than critical, high, medium, low.
    #[error("route `{spec}`: unknown severity `{severity}` (critical, high, medium, low)")]
    Severity {
        /// The spec.
        spec: String,
        /// The severity.
        severity: String,
    },
    /// A channel other than pagerduty, slack, email.
    #[error("route `{spec}`: unknown channel `{channel}` (pagerduty, slack, email)")]
    Channel {
        /// The spec.
        spec: String,
        /// The channel.
        channel: String,
    },
    /// No route at all.
    #[error("no route: at least one SEVERITY=CHANNEL is needed")]
    Empty,
}

/// One route: alerts of these severities go to these channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityRoute {
    /// `critical`, `high`, `medium`, `low`.
    pub severities: Vec<String>,
    /// The channels of its receiver.
    pub channels: Vec<Channel>,
}

impl SeverityRoute {
    /// `critical=pagerduty,slack` or `medium|low=email`.
    pub fn parse(spec: &str) -> Result<Self, RouteError> {
        let (severities, channels) = spec
            .split_once('=')
            .ok_or_else(|| RouteError::Syntax(spec.to_owned()))?;
        let severities: Vec<String> = severities.split('|').map(|s| s.trim().to_owned()).collect();
        for s in &severities {
            if !crate::Severity::ALL.iter().any(|k| k.as_str() == s) {
                return Err(RouteError::Severity {
                    spec: spec.to_owned(),
                    severity: s.clone(),
                });
            }
        }
        let channels = channels
            .split(',')
            .map(|c| match c.trim() {
                "pagerduty" => Ok(Channel::PagerDuty),
                "slack" => Ok(Channel::Slack),
                "email" => Ok(Channel::Email),
                other => Err(RouteError::Channel {
                    spec: spec.to_owned(),
                    channel: other.to_owned(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SeverityRoute {
            severities,
            channels,
        })
    }

    /// The receiver's name: its channels joined by `-`.
    pub fn receiver(&self) -> String {
        self.channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join("-")
    }

    pub(crate) fn matcher(&self) -> String {
        match self.severities.as_slice() {
            [one] => format!("severity=\"{one}\""),
            many => format!("severity=~\"{}\"", many.join("|")),
        }
    }
}

/// critical → PagerDuty and Slack; high → Slack and email; medium and low → email.
pub fn default_routes() -> Vec<SeverityRoute> {
    let route = |severities: &[&str], channels: &[Channel]| SeverityRoute {
        severities: severities.iter().map(|s| (*s).to_owned()).collect(),
        channels: channels.to_vec(),
    };
    vec![
        route(&["critical"], &[Channel::PagerDuty, Channel::Slack]),
        route(&["high"], &[Channel::Slack, Channel::Email]),
        route(&["medium", "low"], &[Channel::Email]),
    ]
}

/// Severities to channels, first match wins; an alert matching no route goes to the last
/// route's channels (as the generated Alertmanager configuration's fallback receiver).
///
/// ```
/// use orchestrator_alerts::generate::{Channel, Routing};
///
/// let routing = Routing::default();
/// assert_eq!(routing.channels_for("critical"), [Channel::PagerDuty, Channel::Slack]);
/// assert_eq!(routing.channels_for("low"), [Channel::Email]);
/// let custom = Routing::parse(&["critical|high=slack", "medium|low=email"])?;
/// assert_eq!(custom.channels_for("high"), [Channel::Slack]);
/// # Ok::<(), orchestrator_alerts::generate::RouteError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing(Vec<SeverityRoute>);

impl Default for Routing {
    /// [`default_routes`].
    fn default() -> Self {
        Routing(default_routes())
    }
}

impl Routing {
    /// Routes from `SEVERITY[|SEVERITY]=CHANNEL[,CHANNEL]` specs; none at all is an error.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Self, RouteError> {
        let routes = specs
            .iter()
            .map(|s| SeverityRoute::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(routes)
    }

    /// These routes, in order; none at all is an error.
    pub fn new(routes: Vec<SeverityRoute>) -> Result<Self, RouteError> {
        if routes.is_empty() {
            return Err(RouteError::Empty);
        }
        Ok(Routing(routes))
    }

    /// The routes, in order.
    pub fn routes(&self) -> &[SeverityRoute] {
        &self.0
    }

    /// The channels of an alert with `severity`.
    pub fn channels_for(&self, severity: &str) -> &[Channel] {
        self.0
            .iter()
            .find(|r| r.severities.iter().any(|s| s == severity))
            .or(self.0.last())
            .map_or(&[], |r| r.channels.as_slice())
    }

    /// `sink`, given only the notifications this routing sends to `channel`.
    pub fn sink(&self, channel: Channel, sink: Arc<dyn Sink>) -> Arc<dyn Sink> {
        Arc::new(Routed {
            routing: self.clone(),
            channel,
            sink,
        })
    }
}

/// A sink behind a routing: it accepts only the notifications routed to its channel.
#[derive(Debug)]
struct Routed {
    routing: Routing,
    channel: Channel,
    sink: Arc<dyn Sink>,
}

impl Sink for Routed {
    fn name(&self) -> String {
        self.sink.name()
    }

    fn delivery(&self) -> Delivery {
        self.sink.delivery()
    }

    fn accepts(&self, n: &Notification) -> bool {
        self.routing
            .channels_for(n.label("severity").unwrap_or_default())
            .contains(&self.channel)
            && self.sink.accepts(n)
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        self.sink.deliver(batch)
    }
}

//! The Alertmanager configuration: receivers by severity, grouping, timing and inhibition.
//! Secrets are referenced as files (`*_file`), never written into the configuration.

use std::time::Duration;

use orchestrator_query::rules::duration;
use orchestrator_support::yaml::{Yaml, map};

use crate::routing::{Channel, Routing, SeverityRoute};

/// What the Alertmanager configuration needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerOptions {
    /// The label alerts are grouped by and critical alerts inhibit within.
    pub service_label: String,
    /// The Slack channel.
    pub slack_channel: String,
    /// Where email goes.
    pub email_to: String,
    /// Who email comes from (also the SMTP user).
    pub email_from: String,
    /// The SMTP server, `host:port`.
    pub smarthost: String,
    /// Where the secret files are: `slack_webhook_url`, `smtp_password`,
    /// `pagerduty_routing_key`.
    pub secrets_dir: String,
    /// Grouping waits.
    pub group_wait: Duration,
    /// Between notifications of a group that changed.
    pub group_interval: Duration,
    /// Between repeats of an unchanged group.
    pub repeat_interval: Duration,
    /// For tests: every receiver is replaced by a webhook to this URL (the routing, grouping
    /// and inhibition stay as generated).
    pub webhook_override: Option<String>,
    /// Severities to receivers, first match wins; alerts matching none go to the last
    /// route's receiver.
    pub routes: Routing,
}

impl Default for AlertmanagerOptions {
    fn default() -> Self {
        AlertmanagerOptions {
            service_label: "service".to_owned(),
            slack_channel: "#orchestrator-alerts".to_owned(),
            email_to: "oncall@example.com".to_owned(),
            email_from: "alertmanager@example.com".to_owned(),
            smarthost: "smtp.example.com:587".to_owned(),
            secrets_dir: "/etc/alertmanager/secrets".to_owned(),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            webhook_override: None,
            routes: Routing::default(),
        }
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Yaml {
    Yaml::List(items.into_iter().map(Yaml::from).collect())
}

fn receiver(name: &str, kinds: &[Channel], o: &AlertmanagerOptions) -> Yaml {
    let mut fields = vec![("name".to_owned(), Yaml::from(name))];
    if let Some(url) = &o.webhook_override {
        fields.push((
            "webhook_configs".to_owned(),
            Yaml::List(vec![map([
                ("url", Yaml::from(url.as_str())),
                ("send_resolved", true.into()),
            ])]),
        ));
        return Yaml::Map(fields);
    }
    let secret = |file: &str| Yaml::from(format!("{}/{file}", o.secrets_dir.trim_end_matches('/')));
    for kind in kinds {
        let config = match kind {
            Channel::PagerDuty => (
                "pagerduty_configs",
                map([("routing_key_file", secret("pagerduty_routing_key")), ("send_resolved", true.into())]),
            ),
            Channel::Slack => (
                "slack_configs",
                map([
                    ("channel", Yaml::from(o.slack_channel.as_str())),
                    ("send_resolved", true.into()),
                    ("title", "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})".into()),
                    ("text", "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}".into()),
                ]),
            ),
            Channel::Email => ("email_configs", map([("to", Yaml::from(o.email_to.as_str())), ("send_resolved", true.into())])),
        };
        fields.push((config.0.to_owned(), Yaml::List(vec![config.1])));
    }
    Yaml::Map(fields)
}

/// The Alertmanager configuration.
///
/// ```
/// use orchestrator_alerts::generate::{AlertmanagerOptions, alertmanager_config};
///
/// let yaml = alertmanager_config(&AlertmanagerOptions::default());
/// assert!(yaml.contains("routing_key_file"));
/// assert!(!yaml.contains("routing_key:"), "no secret is inlined");
/// ```
pub fn alertmanager_config(o: &AlertmanagerOptions) -> String {
    let secret = |file: &str| Yaml::from(format!("{}/{file}", o.secrets_dir.trim_end_matches('/')));
    let service = o.service_label.as_str();
    let route = |matcher: &str, receiver: &str| {
        map([
            ("matchers", strings([matcher])),
            ("receiver", receiver.into()),
        ])
    };
    // One receiver per distinct channel set, in route order; unmatched alerts go to the
    // last route's.
    let mut receivers: Vec<(String, Vec<Channel>)> = Vec::new();
    for r in o.routes.routes() {
        if !receivers.iter().any(|(n, _)| *n == r.receiver()) {
            receivers.push((r.receiver(), r.channels.clone()));
        }
    }
    if receivers.is_empty() {
        receivers.push(("email".to_owned(), vec![Channel::Email]));
    }
    let default_receiver = o
        .routes
        .routes()
        .last()
        .map_or_else(|| "email".to_owned(), SeverityRoute::receiver);
    let mut global = vec![("resolve_timeout".to_owned(), Yaml::from("5m"))];
    if o.webhook_override.is_none() {
        global.extend([
            (
                "smtp_smarthost".to_owned(),
                Yaml::from(o.smarthost.as_str()),
            ),
            ("smtp_from".to_owned(), Yaml::from(o.email_from.as_str())),
            (
                "smtp_auth_username".to_owned(),
                Yaml::from(o.email_from.as_str()),
            ),
            (
                "smtp_auth_password_file".to_owned(),
                secret("smtp_password"),
            ),
            ("slack_api_url_file".to_owned(), secret("slack_webhook_url")),
        ]);
    }
    map([
        ("global", Yaml::Map(global)),
        (
            "route",
            map([
                ("receiver", Yaml::from(default_receiver.as_str())),
                ("group_by", strings(["alertname", service])),
                ("group_wait", duration(o.group_wait).into()),
                ("group_interval", duration(o.group_interval).into()),
                ("repeat_interval", duration(o.repeat_interval).into()),
                (
                    "routes",
                    Yaml::List(
                        o.routes
                            .routes()
                            .iter()
                            .map(|r| route(&r.matcher(), &r.receiver()))
                            .collect(),
                    ),
                ),
            ]),
        ),
        // A critical SLO alert (the page) holds back the lesser alerts of the same SLO (its
        // ticket), nothing else: measured over a seeded schedule of incidents, a service-wide
        // inhibition only ever held back a second, real incident (a slowdown during a memory
        // incident), never a false alert. The `slo` matcher keeps alerts without an SLO out:
        // Alertmanager counts two missing labels as equal.
        (
            "inhibit_rules",
            Yaml::List(vec![map([
                (
                    "source_matchers",
                    strings(["severity=\"critical\"", "slo=~\".+\""]),
                ),
                (
                    "target_matchers",
                    strings(["severity=~\"high|medium|low\""]),
                ),
                ("equal", strings([service, "slo"])),
            ])]),
        ),
        (
            "receivers",
            Yaml::List(
                receivers
                    .iter()
                    .map(|(name, kinds)| receiver(name, kinds, o))
                    .collect(),
            ),
        ),
    ])
    .render()
}

//! The demo's alert channels: `--alert-webhook URL` (a Slack incoming webhook, or anything
//! that accepts its JSON) and `--smtp URL --alert-email ADDRESS`, over https / STARTTLS when
//! the URL says so, trusting `--alert-cacert` beside the system's roots.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::{AlertmanagerSink, EmailSink, Sink, SlackSink};
use orchestrator_telemetry::orchestrator_http::{HttpClient, Secret};

/// Why the alert channels cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// `--alert-cacert` cannot be read or is malformed.
    #[error(transparent)]
    Tls(#[from] orchestrator_http::TlsError),
    /// `--alert-webhook` is not a usable URL, or its client cannot be built.
    #[error("--alert-webhook: {0}")]
    Webhook(#[from] orchestrator_http::HttpError),
    /// `--alertmanager` is not a usable URL.
    #[error("--alertmanager: {0}")]
    Alertmanager(orchestrator_http::HttpError),
    /// `--smtp` or `--alert-email` cannot be used.
    #[error("--smtp: {0}")]
    Smtp(#[from] orchestrator_telemetry::orchestrator_alerts::SmtpError),
}

/// Where the demo sends its alerts, besides its log.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AlertArgs {
    /// A Slack incoming-webhook URL (or any server accepting Slack's JSON): each alert that
    /// fires and resolves is posted there. `https://` uses TLS.
    #[arg(long)]
    pub alert_webhook: Option<String>,
    /// An SMTP server for alert email: `smtp://host:port` (plain), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://host:port` (implicit TLS); `user:password@` for authentication.
    #[arg(long, requires = "alert_email")]
    pub smtp: Option<String>,
    /// Who receives alert email (repeat for several); needs `--smtp`.
    #[arg(long, requires = "smtp")]
    pub alert_email: Vec<String>,
    /// PEM certificates trusted beside the system's roots by the webhook, Alertmanager and
    /// SMTP clients (a private CA).
    #[arg(long)]
    pub alert_cacert: Option<PathBuf>,
    /// An Alertmanager (`http://host:9093`): alerts are pushed to its API v2 as Prometheus
    /// pushes them, so replicas that see one incident give one notification per group.
    #[arg(long, value_name = "URL")]
    pub alertmanager: Option<String>,
}

impl AlertArgs {
    /// The sinks these arguments ask for, every alert to each (the demo does not route by
    /// severity: its one incident should reach every channel configured). `link` is the live
    /// page's URL, shown in each message.
    pub fn sinks(&self, link: &str) -> Result<Vec<Arc<dyn Sink>>, ChannelError> {
        let mut files = orchestrator_http::TlsFiles::new();
        if let Some(path) = &self.alert_cacert {
            files = files.ca("--alert-cacert", path.clone());
        }
        let tls = files.load()?;
        let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
        if let Some(url) = &self.alert_webhook {
            HttpClient::check_url(url)?;
            let client = HttpClient::builder()
                .deadline(Duration::from_secs(5))
                .tls(tls.clone())
                .build()?;
            sinks.push(Arc::new(
                SlackSink::new(Secret::new(url.clone()), client).link(link),
            ));
        }
        if let Some(url) = &self.alertmanager {
            let client = HttpClient::builder()
                .deadline(Duration::from_secs(5))
                .tls(tls.clone())
                .build()
                .map_err(ChannelError::Alertmanager)?;
            sinks.push(Arc::new(
                AlertmanagerSink::with_client(url, client)
                    .map_err(ChannelError::Alertmanager)?
                    .generator_url(link),
            ));
        }
        if let Some(url) = &self.smtp {
            let mut email = EmailSink::builder(url, "orchestrator-demo@localhost")
                .tls(tls)
                .link(link);
            for to in &self.alert_email {
                email = email.to(to);
            }
            sinks.push(Arc::new(email.build()?));
        }
        Ok(sinks)
    }
}

//! Email over SMTP with lettre (rustls): plain, STARTTLS or implicit TLS, optional
//! authentication, a plain-text and an HTML body with the same facts, and a subject carrying
//! the `[FIRING]`/`[RESOLVED]` state.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use orchestrator_http::{Secret, TlsMaterial, Url};

use super::facts::Facts;
use super::{Delivery, DeliveryError, Notification, Sink};

/// Why an email sink cannot be built. Never contains the password.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The server URL is not `smtp://host[:port]` (STARTTLS with `?tls=required`) or
    /// `smtps://host[:port]`.
    #[error("invalid SMTP URL {url}: {reason}")]
    Url {
        /// The URL without its credentials.
        url: String,
        /// Why.
        reason: String,
    },
    /// An address is not a valid mailbox.
    #[error("invalid email address {address:?}: {reason}")]
    Address {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// No recipient.
    #[error("an email sink needs at least one recipient")]
    NoRecipient,
    /// The TLS settings were refused.
    #[error("TLS settings refused: {0}")]
    Tls(String),
}

/// How the connection is secured, from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://host` (port 25 by default): no TLS. For a relay on loopback.
    Plain,
    /// `smtp://host?tls=required` (port 587 by default): STARTTLS, required.
    StartTls,
    /// `smtps://host` (port 465 by default): TLS from the first byte.
    Implicit,
}

/// Sends one email per notification. The SMTP password (from the URL's user info or
/// [`EmailSinkBuilder::credentials`]) is a [`Secret`]: never logged, `***` in `Debug`.
#[derive(Clone)]
pub struct EmailSink {
    transport: SmtpTransport,
    server: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    link: Option<String>,
}

impl std::fmt::Debug for EmailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSink")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

/// Settings of an [`EmailSink`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EmailSinkBuilder {
    url: String,
    from: String,
    to: Vec<String>,
    credentials: Option<(String, Secret)>,
    tls: TlsMaterial,
    timeout: Duration,
    link: Option<String>,
}

impl EmailSink {
    /// An email sink for the server at `url`: `smtp://host:port` (no TLS),
    /// `smtp://host:port?tls=required` (STARTTLS) or `smtps://host:port` (implicit TLS).
    /// `user:password@` in the URL is taken as the credentials and removed from it.
    pub fn builder(url: &str, from: &str) -> EmailSinkBuilder {
        EmailSinkBuilder {
            url: url.to_owned(),
            from: from.to_owned(),
            to: Vec::new(),
            credentials: None,
            tls: TlsMaterial::default(),
            timeout: Duration::from_secs(10),
            link: None,
        }
    }

    /// The message for one notification.
    pub fn message(&self, n: &Notification) -> Result<Message, DeliveryError> {
        let f = Facts::of(n);
        let plain = f.lines(self.link.as_deref()).join("\n") + "\n";
        let html = html(&f, self.link.as_deref());
        let mut builder = Message::builder().from(self.from.clone()).subject(format!(
            "{}: {}",
            f.headline(),
            f.summary
        ));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(MultiPart::alternative_plain_html(plain, html))
            .map_err(|e| DeliveryError::permanent(format!("cannot build the email: {e}")))
    }
}

impl EmailSinkBuilder {
    /// Adds a recipient.
    pub fn to(mut self, address: &str) -> Self {
        self.to.push(address.to_owned());
        self
    }

    /// Authenticates as `user` with `password` (from a file or the environment).
    pub fn credentials(mut self, user: impl Into<String>, password: Secret) -> Self {
        self.credentials = Some((user.into(), password));
        self
    }

    /// A custom CA (and client certificate) for STARTTLS or implicit TLS, beside the
    /// system's roots.
    pub fn tls(mut self, tls: TlsMaterial) -> Self {
        self.tls = tls;
        self
    }

    /// The timeout of each SMTP command (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A link to the live page, in each message.
    pub fn link(mut self, url: impl Into<String>) -> Self {
        self.link = Some(url.into());
        self
    }

    /// Checks the URL and addresses and builds the sink (no connection is made yet).
    pub fn build(self) -> Result<EmailSink, SmtpError> {
        let server = orchestrator_http::redact(&self.url);
        let bad_url = |reason: &str| SmtpError::Url {
            url: server.clone(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(&self.url).map_err(|e| bad_url(&e.to_string()))?;
        let security = match (url.scheme(), url.query()) {
            ("smtp", None | Some("tls=none")) => Security::Plain,
            ("smtp", Some("tls=required")) => Security::StartTls,
            ("smtps", None) => Security::Implicit,
            _ => {
                return Err(bad_url(
                    "expected smtp://host[:port], smtp://host[:port]?tls=required or smtps://host[:port]",
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| bad_url("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port().unwrap_or(match security {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Implicit => 465,
        });
        let mut credentials = self.credentials;
        if !url.username().is_empty() {
            let user = percent_decode(url.username());
            let password = Secret::new(percent_decode(url.password().unwrap_or_default()));
            credentials = Some((user, password));
        }
        let mut builder = SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .timeout(Some(self.timeout));
        if security != Security::Plain {
            let mut params = TlsParameters::builder(host);
            if let Some(ca) = self.tls.ca_pem() {
                let cert = Certificate::from_pem(ca).map_err(|e| SmtpError::Tls(e.to_string()))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| SmtpError::Tls(e.to_string()))?;
            builder = builder.tls(match security {
                Security::Implicit => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password.expose().to_owned()));
        }
        let mailbox = |a: &str| {
            a.parse::<Mailbox>().map_err(|e| SmtpError::Address {
                address: a.to_owned(),
                reason: e.to_string(),
            })
        };
        let to = self
            .to
            .iter()
            .map(|a| mailbox(a))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(SmtpError::NoRecipient);
        }
        Ok(EmailSink {
            transport: builder.build(),
            server,
            from: mailbox(&self.from)?,
            to,
            link: self.link,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html(f: &Facts, link: Option<&str>) -> String {
    let e = escape_html;
    let colour = match (f.state, f.severity.as_str()) {
        ("RESOLVED", _) => "#2e7d32",
        (_, "critical") => "#b71c1c",
        (_, "high") => "#e65100",
        (_, "medium") => "#f9a825",
        _ => "#546e7a",
    };
    let mut rows = vec![
        ("Summary", e(&f.summary)),
        ("Condition", format!("<code>{}</code>", e(&f.condition))),
        ("Value", e(&f.value)),
        ("Since", e(&f.since)),
    ];
    if let Some(at) = &f.resolved_at {
        rows.push(("Resolved", e(at)));
    }
    if let Some(d) = &f.description {
        rows.push(("Details", e(d)));
    }
    if !f.labels.is_empty() {
        rows.push(("Labels", e(&f.labels.join(", "))));
    }
    if let Some(r) = &f.runbook {
        rows.push(("Runbook", format!("<a href=\"{}\">{}</a>", e(r), e(r))));
    }
    if let Some(l) = link {
        rows.push(("Live page", format!("<a href=\"{}\">{}</a>", e(l), e(l))));
    }
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th align=\"left\">{k}</th><td>{v}</td></tr>"))
        .collect();
    format!(
        "<!DOCTYPE html><html><body><h2 style=\"color:{colour}\">{}</h2><table>{rows}</table></body></html>",
        e(&f.headline())
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Sink for EmailSink {
    fn name(&self) -> String {
        "email".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::OnChange
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        for n in batch {
            let message = self.message(n)?;
            self.transport.send(&message).map_err(|e| {
                let code = e.status().map(u16::from);
                DeliveryError {
                    message: format!("SMTP {}: {e}", self.server),
                    // Only a transient reply (4xx) or a broken connection is worth a retry.
                    // A TLS failure (an untrusted certificate) will fail the same way again.
                    retryable: e.is_transient()
                        || (code.is_none()
                            && !e.is_tls()
                            && !e.is_permanent()
                            && !orchestrator_http::is_tls_error(&e)),
                    code,
                }
            })?;
        }
        Ok(())
    }
}

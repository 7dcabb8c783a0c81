//! Email over SMTP with lettre (rustls on aws-lc-rs, the workspace's only TLS provider).
//! The message is multipart/alternative: a UTF-8 text part and a UTF-8 HTML part in the
//! patient's language; lettre encodes a non-ASCII (Arabic) subject as RFC 2047 encoded
//! words and picks quoted-printable or base64 for the bodies. STARTTLS is required by
//! default; opportunistic STARTTLS, implicit TLS (port 465) and, on loopback only, plain
//! SMTP are configurable.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::ConfigError;
use crate::message::{Channel, Content, MessageError, OutboundMessage};
use crate::provider::{Provider, Receipt, SendError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// STARTTLS must succeed or nothing is sent (the default).
    #[default]
    StarttlsRequired,
    /// STARTTLS when the server offers it, plain otherwise.
    StarttlsOpportunistic,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
    /// No TLS: refused unless `host` is a loopback address (a local relay or test server).
    None,
}

fn default_port() -> u16 {
    587
}

fn default_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: SmtpTls,
    /// Name to verify the server certificate against; defaults to `host`.
    #[serde(default)]
    pub tls_server_name: Option<String>,
    /// A PEM file of extra trusted CA certificates (a private relay's CA).
    #[serde(default)]
    pub extra_root_ca_pem: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    /// The sender, `Name <address>`.
    pub from: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

pub struct SmtpEmail {
    builder: AsyncSmtpTransportBuilder,
    /// Built on the first send: lettre's connection pool spawns its reaper task when the
    /// transport is built, which needs a running Tokio runtime, and configuration is
    /// loaded before there is one.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    send_timeout: Duration,
    from: Mailbox,
    message_id_domain: String,
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpEmail {
    /// Builds the transport; reads `extra_root_ca_pem` once, here. Connections are made
    /// on the first send and pooled.
    pub fn new(config: SmtpConfig) -> Result<Self, ConfigError> {
        let from: Mailbox = config.from.parse().map_err(|_| {
            ConfigError::Invalid("smtp.from must be an address or `Name <address>`")
        })?;
        let message_id_domain = from.email.domain().to_owned();
        if config.timeout_secs == 0 || config.timeout_secs > 600 {
            return Err(ConfigError::Invalid("smtp.timeout_secs must be 1..=600"));
        }
        let server_name = config
            .tls_server_name
            .clone()
            .unwrap_or_else(|| config.host.clone());
        let tls_params = || -> Result<TlsParameters, ConfigError> {
            let mut b = TlsParameters::builder(server_name.clone());
            if let Some(path) = &config.extra_root_ca_pem {
                let pem = std::fs::read(path).map_err(|e| {
                    ConfigError::Smtp(format!("cannot read {}: {e}", path.display()))
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    ConfigError::Smtp(format!("{} is not a PEM certificate: {e}", path.display()))
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| ConfigError::Smtp(format!("TLS setup: {e}")))
        };
        let tls = match config.tls {
            SmtpTls::StarttlsRequired => Tls::Required(tls_params()?),
            SmtpTls::StarttlsOpportunistic => Tls::Opportunistic(tls_params()?),
            SmtpTls::Implicit => Tls::Wrapper(tls_params()?),
            SmtpTls::None if is_loopback(&config.host) => Tls::None,
            SmtpTls::None => {
                return Err(ConfigError::Invalid(
                    "smtp.tls = \"none\" is only allowed for a loopback host",
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        match (&config.username, &config.password) {
            (Some(u), Some(p)) => {
                builder =
                    builder.credentials(Credentials::new(u.clone(), p.expose_secret().to_owned()));
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError::Invalid(
                    "smtp.username and smtp.password go together",
                ));
            }
        }
        Ok(Self {
            builder,
            transport: OnceLock::new(),
            send_timeout: Duration::from_secs(config.timeout_secs * 2),
            from,
            message_id_domain,
        })
    }

    /// Builds the MIME message. Pure apart from the Date header lettre adds.
    pub fn build_message(&self, message: &OutboundMessage) -> Result<Message, SendError> {
        let Content::Email(c) = &message.content else {
            return Err(MessageError::WrongChannel(message.channel().as_str()).into());
        };
        let to: lettre::Address =
            message
                .email_address()?
                .expose()
                .parse()
                .map_err(|_| SendError::InvalidRecipient {
                    code: "address-syntax".into(),
                })?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(c.subject.clone())
            // Our Message-ID carries the invitation id: bounces and replies quote it, and a
            // receiving system can drop a duplicate of the same invitation.
            .message_id(Some(format!(
                "<{}@{}>",
                message.idempotency_key, self.message_id_domain
            )))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                message.language.tag().to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                c.text.clone(),
                c.html.clone(),
            ))
            .map_err(|_| SendError::Permanent {
                code: "mime".into(),
                reason: "could not build the email".into(),
            })
    }

    async fn send_inner(&self, message: &OutboundMessage) -> Result<Receipt, SendError> {
        message.validate(Utc::now(), 1)?;
        let email = self.build_message(message)?;
        let message_id = format!("<{}@{}>", message.idempotency_key, self.message_id_domain);
        let transport = self.transport.get_or_init(|| self.builder.clone().build());
        // lettre's own timeout covers connecting and commands but not every wait (a
        // server that accepts and never greets would hold the send forever); bound the
        // whole exchange.
        match tokio::time::timeout(self.send_timeout, transport.send(email)).await {
            Ok(sent) => sent.map_err(|e| classify(&e))?,
            Err(_) => return Err(SendError::transient("SMTP server timed out")),
        };
        Ok(Receipt {
            provider_message_id: message_id,
        })
    }
}

/// Maps an SMTP failure. Only reply codes go into the error: server reply texts often
/// quote the recipient address.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    if e.is_timeout() {
        return SendError::transient("SMTP server timed out");
    }
    if let Some(code) = e.status() {
        let n = u16::from(code);
        return match n {
            // 550 mailbox unavailable, 551 not local, 553 mailbox name not allowed.
            550 | 551 | 553 => SendError::InvalidRecipient {
                code: n.to_string(),
            },
            // 530 authentication / STARTTLS required, 534 / 535 / 538 authentication.
            530 | 534 | 535 | 538 => SendError::Configuration {
                code: n.to_string(),
                reason: "the SMTP server refused our authentication or TLS settings".into(),
            },
            400..=499 => SendError::Transient {
                retry_after: None,
                reason: format!("SMTP server answered {n} (temporary)"),
            },
            _ => SendError::Permanent {
                code: n.to_string(),
                reason: format!("SMTP server answered {n}"),
            },
        };
    }
    if e.is_tls() || tls_handshake_failed(e) {
        return SendError::Configuration {
            code: "tls".into(),
            reason: "TLS with the SMTP server failed (certificate, name or protocol)".into(),
        };
    }
    if e.is_client() {
        // lettre's client errors are about our side, e.g. STARTTLS required but not offered.
        return SendError::Configuration {
            code: "smtp-client".into(),
            reason: e.to_string(),
        };
    }
    SendError::transient("could not talk to the SMTP server")
}

/// lettre reports a rustls handshake failure (unknown CA, wrong name) as a connection
/// error wrapping an `io::Error` of kind `InvalidData`; a refused or reset connection has
/// other kinds.
fn tls_handshake_failed(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = err.source();
    }
    false
}

impl Provider for SmtpEmail {
    fn channel(&self) -> Channel {
        Channel::Email
    }
    fn name(&self) -> &'static str {
        "smtp"
    }
    fn send<'a>(
        &'a self,
        message: &'a OutboundMessage,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(self.send_inner(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(tls: SmtpTls, host: &str) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: 2525,
            tls,
            tls_server_name: None,
            extra_root_ca_pem: None,
            username: None,
            password: None,
            from: "PX360 <surveys@hospital.example.sa>".into(),
            timeout_secs: 5,
        }
    }

    #[test]
    fn plain_smtp_only_on_loopback() {
        assert!(SmtpEmail::new(config(SmtpTls::None, "127.0.0.1")).is_ok());
        assert!(matches!(
            SmtpEmail::new(config(SmtpTls::None, "smtp.example.org")),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn bad_from_and_half_credentials_refused() {
        let mut c = config(SmtpTls::StarttlsRequired, "smtp.example.org");
        c.from = "not an address".into();
        assert!(SmtpEmail::new(c).is_err());
        let mut c = config(SmtpTls::StarttlsRequired, "smtp.example.org");
        c.username = Some("u".into());
        assert!(SmtpEmail::new(c).is_err());
    }
}

//! Provider selection by configuration. With nothing configured no provider exists and
//! nothing is sent anywhere; the application's local outbox is then the only "channel".
//!
//! ```toml
//! [delivery.sms]
//! provider = "unifonic"          # or "twilio"
//! app_sid = "…"
//! sender_id = "KFH-PX"
//! ```

use std::time::Instant;

use serde::Deserialize;

use crate::email::{SmtpConfig, SmtpEmail};
use crate::message::Channel;
use crate::provider::Provider;
use crate::rate_limit::{RateLimit, TokenBucket};
use crate::retry::RetryPolicy;
use crate::twilio::{TwilioConfig, TwilioSms};
use crate::unifonic::{UnifonicConfig, UnifonicSms};
use crate::whatsapp::{WhatsAppCloud, WhatsAppConfig};

/// The configuration cannot work; said at start-up, not at the first send.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("SMTP: {0}")]
    Smtp(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum EmailProviderConfig {
    Smtp(SmtpConfig),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum SmsProviderConfig {
    Twilio(TwilioConfig),
    Unifonic(UnifonicConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRateLimits {
    pub email: RateLimit,
    pub sms: RateLimit,
    pub whatsapp: RateLimit,
}

impl Default for ChannelRateLimits {
    fn default() -> Self {
        Self {
            email: RateLimit {
                per_second: 10.0,
                burst: 20,
            },
            sms: RateLimit {
                per_second: 10.0,
                burst: 10,
            },
            // Meta's default throughput is 80 messages/s per business number.
            whatsapp: RateLimit {
                per_second: 50.0,
                burst: 50,
            },
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    pub email: Option<EmailProviderConfig>,
    pub sms: Option<SmsProviderConfig>,
    pub whatsapp: Option<WhatsAppConfig>,
    pub rate_limits: ChannelRateLimits,
    pub retry: RetryPolicy,
}

/// The configured adapters, one per channel at most.
pub struct Providers {
    pub email: Option<Box<dyn Provider>>,
    pub sms: Option<Box<dyn Provider>>,
    pub whatsapp: Option<Box<dyn Provider>>,
}

impl Providers {
    pub fn from_config(config: &DeliveryConfig) -> Result<Self, ConfigError> {
        let email: Option<Box<dyn Provider>> = match &config.email {
            Some(EmailProviderConfig::Smtp(c)) => Some(Box::new(SmtpEmail::new(c.clone())?)),
            None => None,
        };
        let sms: Option<Box<dyn Provider>> = match &config.sms {
            Some(SmsProviderConfig::Twilio(c)) => Some(Box::new(TwilioSms::new(c.clone())?)),
            Some(SmsProviderConfig::Unifonic(c)) => Some(Box::new(UnifonicSms::new(c.clone())?)),
            None => None,
        };
        let whatsapp: Option<Box<dyn Provider>> = match &config.whatsapp {
            Some(c) => Some(Box::new(WhatsAppCloud::new(c.clone())?)),
            None => None,
        };
        Ok(Self {
            email,
            sms,
            whatsapp,
        })
    }

    pub fn for_channel(&self, channel: Channel) -> Option<&dyn Provider> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.sms.as_deref(),
            Channel::WhatsApp => self.whatsapp.as_deref(),
        }
    }
}

impl DeliveryConfig {
    /// One token bucket per channel, or the channel whose limit is unusable.
    pub fn buckets(&self, now: Instant) -> Result<[(Channel, TokenBucket); 3], ConfigError> {
        let b = |l, what| TokenBucket::new(l, now).ok_or(ConfigError::Invalid(what));
        Ok([
            (
                Channel::Email,
                b(
                    self.rate_limits.email,
                    "rate_limits.email needs per_second > 0 and burst ≥ 1",
                )?,
            ),
            (
                Channel::Sms,
                b(
                    self.rate_limits.sms,
                    "rate_limits.sms needs per_second > 0 and burst ≥ 1",
                )?,
            ),
            (
                Channel::WhatsApp,
                b(
                    self.rate_limits.whatsapp,
                    "rate_limits.whatsapp needs per_second > 0 and burst ≥ 1",
                )?,
            ),
        ])
    }
}

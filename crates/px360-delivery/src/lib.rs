//! PX360 survey delivery: channel adapters (SMTP email, Twilio and Unifonic SMS, WhatsApp
//! Cloud API), delivery-status and opt-out callbacks with their signature checks, and the
//! pure rate-limit and retry policies the worker applies around them.
//!
//! The worker owns the outbox: it calls [`Provider::send`] for one outbox row, records the
//! [`Receipt`] or acts on the [`SendError`] classification, and matches later
//! [`StatusUpdate`]s by `provider_message_id`. Nothing here touches the database, and no
//! address or message body is ever logged.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
pub mod config;
pub mod email;
mod http;
pub mod message;
pub mod meta_webhook;
pub mod provider;
pub mod rate_limit;
pub mod retry;
pub mod signature;
pub mod sms_encoding;
pub mod status;
pub mod twilio;
pub mod unifonic;
pub mod whatsapp;

pub use address::{Address, AddressError, EmailAddress, PhoneNumber};
pub use config::{ConfigError, DeliveryConfig, EmailProviderConfig, Providers, SmsProviderConfig};
pub use http::{HttpTimeouts, parse_retry_after};
pub use message::{
    Channel, Content, EmailContent, Language, MessageError, OutboundMessage, SmsContent,
    WhatsAppContent, within_service_window,
};
pub use provider::{Provider, Receipt, SendError};
pub use rate_limit::{RateLimit, TokenBucket};
pub use retry::{Decision, RetryPolicy};
pub use status::{DeliveryStatus, OptOut, StatusUpdate, is_opt_out_keyword};

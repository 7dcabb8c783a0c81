//! Provider selection from TOML, as the application loads it (config-rs). The examples
//! are the README's.

use std::time::Instant;

use px360_delivery::config::{DeliveryConfig, Providers, SmsProviderConfig};
use px360_delivery::{Channel, ConfigError};

fn load(toml: &str) -> DeliveryConfig {
    config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .build()
        .expect("toml")
        .try_deserialize()
        .expect("delivery config")
}

const README_EXAMPLE: &str = r#"
[email]
provider = "smtp"
host = "smtp.hospital.example.sa"
port = 587
tls = "starttls_required"
username = "px360"
password = "from-the-secret-store"
from = "Hospital Surveys <surveys@hospital.example.sa>"

[sms]
provider = "unifonic"
app_sid = "from-the-secret-store"
sender_id = "KFH-PX"

[whatsapp]
phone_number_id = "106540352242922"
access_token = "from-the-secret-store"
api_version = "v23.0"

[rate_limits]
email = { per_second = 10, burst = 20 }
sms = { per_second = 5, burst = 5 }
whatsapp = { per_second = 50, burst = 50 }

[retry]
base_ms = 2000
max_delay_ms = 900000
max_attempts = 8
max_retry_after_ms = 3600000
"#;

#[test]
fn readme_example_builds_every_channel() {
    let c = load(README_EXAMPLE);
    assert!(matches!(c.sms, Some(SmsProviderConfig::Unifonic(_))));
    let p = Providers::from_config(&c).expect("providers");
    assert_eq!(
        p.for_channel(Channel::Email).map(|p| p.name()),
        Some("smtp")
    );
    assert_eq!(
        p.for_channel(Channel::Sms).map(|p| p.name()),
        Some("unifonic")
    );
    assert_eq!(
        p.for_channel(Channel::WhatsApp).map(|p| p.name()),
        Some("whatsapp_cloud")
    );
    assert!(c.buckets(Instant::now()).is_ok());
    // Secrets do not print.
    assert!(!format!("{c:?}").contains("from-the-secret-store"));
}

#[test]
fn twilio_is_selected_by_provider() {
    let c = load(
        r#"
[sms]
provider = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "x"
messaging_service_sid = "MG0123456789abcdef0123456789abcdef"
status_callback_url = "https://px360.example.org/callbacks/twilio/status"
"#,
    );
    let p = Providers::from_config(&c).expect("providers");
    assert_eq!(
        p.for_channel(Channel::Sms).map(|p| p.name()),
        Some("twilio")
    );
}

#[test]
fn nothing_configured_sends_nothing() {
    let p = Providers::from_config(&load("")).expect("providers");
    for ch in [Channel::Email, Channel::Sms, Channel::WhatsApp] {
        assert!(p.for_channel(ch).is_none());
    }
}

#[test]
fn mistakes_are_named() {
    let bad = config::Config::builder()
        .add_source(config::File::from_str(
            "[sms]\nprovider = \"nexmo\"\n",
            config::FileFormat::Toml,
        ))
        .build()
        .expect("toml")
        .try_deserialize::<DeliveryConfig>();
    assert!(bad.is_err());
    let c = load("[sms]\nprovider = \"twilio\"\naccount_sid = \"AC1\"\nauth_token = \"x\"\n");
    let err = Providers::from_config(&c)
        .err()
        .expect("neither from nor service");
    assert!(matches!(err, ConfigError::Invalid(m) if m.contains("exactly one")));
    let c = load(
        "[rate_limits]\nemail = { per_second = 0, burst = 1 }\nsms = { per_second = 1, burst = 1 }\nwhatsapp = { per_second = 1, burst = 1 }\n",
    );
    assert!(c.buckets(Instant::now()).is_err());
}

//! A patient's contact situation for the send decision, read with a query of its own (the
//! patient row belongs to the organisation module): which channels have an address, which the
//! patient listed, opted out of, consent, and the addresses themselves for the dispatcher.
//!
//! Addresses are patient data: they are returned to the caller that sends, never logged, and
//! outside this module only their masked form or hash is stored.

use super::{Channel, Language};
use crate::{Result, StoreError};
use px360_domain::survey::channel::{ChannelSet, ContactInfo};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// What the dispatcher and the decision need about one patient.
#[derive(Clone, PartialEq, Eq)]
pub struct PatientContact {
    pub patient_id: Uuid,
    pub hospital_id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Language,
    pub info: ContactInfo,
}

// Never print addresses, even in debug output.
impl std::fmt::Debug for PatientContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientContact")
            .field("patient_id", &self.patient_id)
            .field("email", &self.email.as_ref().map(|_| "…"))
            .field("phone", &self.phone.as_ref().map(|_| "…"))
            .field("language", &self.language)
            .field("info", &self.info)
            .finish()
    }
}

impl PatientContact {
    pub fn address(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms | Channel::Whatsapp => self.phone.as_deref(),
        }
    }
}

/// Reachable channels and preference from the stored fields. `contact_channels` is the
/// patient's own list (JSON array, in order of preference: email, sms, whatsapp, phone, post):
/// when it is not empty only the channels it lists are used, and its first survey channel is
/// the preference. WhatsApp needs the patient to have listed it (a phone number alone does not
/// say it is on WhatsApp).
pub fn contact_info(
    email: Option<&str>,
    phone: Option<&str>,
    listed_json: &str,
    opted_out: ChannelSet,
    consent: bool,
) -> ContactInfo {
    let listed: Vec<Channel> = serde_json::from_str::<Vec<String>>(listed_json)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Channel::parse(c))
        .collect();
    let has = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
    let mut reachable = ChannelSet::EMPTY;
    for c in Channel::ALL {
        let address = match c {
            Channel::Email => has(email),
            Channel::Sms | Channel::Whatsapp => has(phone),
        };
        let allowed = if listed.is_empty() {
            c != Channel::Whatsapp
        } else {
            listed.contains(&c)
        };
        if address && allowed {
            reachable = reachable.with(c);
        }
    }
    ContactInfo {
        reachable,
        opted_out,
        consent,
        preferred: listed.first().copied(),
    }
}

/// Load one patient's contact situation.
pub async fn load(conn: &mut AnyConnection, patient_id: Uuid) -> Result<PatientContact> {
    let r = sqlx::query(
        "SELECT id, hospital_id, email, phone, preferred_language, contact_channels, survey_consent \
         FROM patients WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(patient_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let email: Option<String> = r.try_get("email")?;
    let phone: Option<String> = r.try_get("phone")?;
    let lang: String = r.try_get("preferred_language")?;
    let listed: String = r.try_get("contact_channels")?;
    let consent = crate::row::flag(&r, "survey_consent")?;
    let hospital_id = crate::row::uuid(&r, "hospital_id")?;
    let opted_out = super::optouts::channels_of(&mut *conn, patient_id).await?;
    Ok(PatientContact {
        patient_id,
        hospital_id,
        info: contact_info(
            email.as_deref(),
            phone.as_deref(),
            &listed,
            opted_out,
            consent,
        ),
        email,
        phone,
        language: Language::from_preference(&lang),
    })
}

/// Normalised address hash: lower-cased email, or the phone's digits (with its `+`), so an
/// inbound STOP in E.164 matches the stored number however it was typed.
pub fn address_hash(channel: Channel, address: &str) -> String {
    let norm = match channel {
        Channel::Email => address.trim().to_lowercase(),
        Channel::Sms | Channel::Whatsapp => normalise_phone(address),
    };
    crate::auth::sha256_hex(&norm)
}

pub fn normalise_phone(p: &str) -> String {
    let digits: String = p.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("+{}", digits.trim_start_matches("00"))
}

/// Masked form for lists below PX Coordinator and for the local outbox: `j…@example.org`,
/// `+9665…67`.
pub fn mask(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Email => match address.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}…@{domain}")
            }
            None => "…".into(),
        },
        Channel::Sms | Channel::Whatsapp => {
            let n = normalise_phone(address);
            let chars: Vec<char> = n.chars().collect();
            if chars.len() < 8 {
                return "…".into();
            }
            let head: String = chars[..5].iter().collect();
            let tail: String = chars[chars.len() - 2..].iter().collect();
            format!("{head}…{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachable_channels_follow_addresses_and_the_patients_list() {
        let none = ChannelSet::EMPTY;
        let i = contact_info(Some("a@b.c"), Some("+966500000001"), "[]", none, true);
        assert!(i.reachable.contains(Channel::Email) && i.reachable.contains(Channel::Sms));
        assert!(!i.reachable.contains(Channel::Whatsapp));
        assert_eq!(i.preferred, None);
        let i = contact_info(None, Some("+966500000001"), r#"["whatsapp","post"]"#, none, true);
        assert!(i.reachable.contains(Channel::Whatsapp) && !i.reachable.contains(Channel::Sms));
        assert_eq!(i.preferred, Some(Channel::Whatsapp));
        let i = contact_info(Some(" "), None, "not json", none, false);
        assert!(i.reachable.is_empty() && !i.consent);
    }

    #[test]
    fn masks_and_hashes_ignore_formatting() {
        assert_eq!(mask(Channel::Email, "jane@example.org"), "j…@example.org");
        assert_eq!(mask(Channel::Sms, "+966 50 123 4567"), "+9665…67");
        assert_eq!(
            address_hash(Channel::Sms, "00966 50 123 4567"),
            address_hash(Channel::Sms, "+966501234567")
        );
        assert_eq!(
            address_hash(Channel::Email, "Jane@Example.org "),
            address_hash(Channel::Email, "jane@example.org")
        );
    }
}

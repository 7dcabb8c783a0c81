//! Recipient addresses. Contact details are patient data, so these newtypes never print
//! themselves: `Debug` shows only the kind, and there is no `Display`. Adapters read the
//! value through `expose()` at the single point where it goes on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an address was refused. Carries no part of the address itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("phone number must be E.164: '+' then 8 to 15 digits, the first not 0")]
    NotE164,
    #[error("email address must be local@domain, at most 254 characters, without spaces")]
    BadEmail,
}

/// A mobile number in E.164 form (`+966501234567`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts E.164 with optional spaces, dashes and a `00` international prefix, which
    /// patients and registration systems commonly type; stores the canonical `+digits`.
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let trimmed = raw.trim();
        if trimmed.len() > 32 {
            return Err(AddressError::NotE164);
        }
        let rest = if let Some(r) = trimmed.strip_prefix('+') {
            r
        } else if let Some(r) = trimmed.strip_prefix("00") {
            r
        } else {
            return Err(AddressError::NotE164);
        };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(AddressError::NotE164),
            }
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(AddressError::NotE164);
        }
        Ok(Self(format!("+{digits}")))
    }

    /// `+` and digits, as Twilio wants it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Digits only, no `+` (Unifonic's "international format without 00 or +", and the
    /// WhatsApp `wa_id` form).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(<redacted>)")
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

/// An email address, checked for shape only; the SMTP server has the final word.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::BadEmail);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::BadEmail)?;
        if local.is_empty()
            || local.len() > 64
            || domain.is_empty()
            || !domain.contains('.')
            || domain.contains('@')
            || s.contains(['<', '>', ',', ';'])
        {
            return Err(AddressError::BadEmail);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

/// Where a message goes: the address kind follows the channel.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Address {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_canonicalises_and_rejects() {
        assert_eq!(
            PhoneNumber::parse("00966 50-123-4567").unwrap().expose(),
            "+966501234567"
        );
        assert_eq!(
            PhoneNumber::parse("+447700900123").unwrap().digits(),
            "447700900123"
        );
        for bad in [
            "",
            "966501234567",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "+9665o1234567",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(AddressError::NotE164), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_address() {
        let p = PhoneNumber::parse("+966501234567").unwrap();
        let e = EmailAddress::parse("patient@example.org").unwrap();
        let dbg = format!("{p:?} {e:?} {:?}", Address::Phone(p.clone()));
        assert!(!dbg.contains("966") && !dbg.contains("patient"), "{dbg}");
    }

    #[test]
    fn email_shape() {
        assert!(EmailAddress::parse("a.b+c@example.org").is_ok());
        for bad in [
            "",
            "no-at",
            "@x.org",
            "a@",
            "a@localhost",
            "a b@x.org",
            "<a@x.org>",
            "a@x.org,b@y.org",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(AddressError::BadEmail),
                "{bad}"
            );
        }
    }
}

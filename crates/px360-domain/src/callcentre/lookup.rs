//! How an agent finds the patient: by MRN or by phone. Both are patient identifiers, so the
//! type never shows its value in `Debug` or `Display` (logs, panics, error reports); the store
//! reads it with [`PatientKey::expose`] only to query.

use std::fmt;

pub const MAX_MRN: usize = 20;

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum PatientKey {
    Mrn(String),
    /// E.164, `+` and 8–15 digits.
    Phone(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("callcentre.lookup.bad_mrn")]
    BadMrn,
    #[error("callcentre.lookup.bad_phone")]
    BadPhone,
}

impl LookupError {
    pub fn code(self) -> &'static str {
        match self {
            LookupError::BadMrn => "callcentre.lookup.bad_mrn",
            LookupError::BadPhone => "callcentre.lookup.bad_phone",
        }
    }
}

impl PatientKey {
    /// An MRN: 1–20 ASCII letters, digits or `-`, compared upper-case.
    pub fn mrn(raw: &str) -> Result<PatientKey, LookupError> {
        let t = raw.trim();
        if t.is_empty()
            || t.len() > MAX_MRN
            || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(LookupError::BadMrn);
        }
        Ok(PatientKey::Mrn(t.to_ascii_uppercase()))
    }

    /// A phone number as typed: spaces, dashes, dots and brackets are ignored; `00` means `+`;
    /// a national number starting with a single `0` takes `country_code` (e.g. `"966"`).
    pub fn phone(raw: &str, country_code: &str) -> Result<PatientKey, LookupError> {
        let t = raw.trim();
        if t.len() > 40 {
            return Err(LookupError::BadPhone);
        }
        let (plus, rest) = match t.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(LookupError::BadPhone),
            }
        }
        let international = if plus {
            digits
        } else if let Some(d) = digits.strip_prefix("00") {
            d.to_string()
        } else if let Some(d) = digits.strip_prefix('0') {
            if country_code.is_empty() || !country_code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(LookupError::BadPhone);
            }
            format!("{country_code}{d}")
        } else {
            digits
        };
        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(LookupError::BadPhone);
        }
        Ok(PatientKey::Phone(format!("+{international}")))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PatientKey::Mrn(_) => "mrn",
            PatientKey::Phone(_) => "phone",
        }
    }

    /// The value, for the store's query only.
    pub fn expose(&self) -> &str {
        match self {
            PatientKey::Mrn(s) | PatientKey::Phone(s) => s,
        }
    }
}

impl fmt::Debug for PatientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientKey::{}(<redacted>)", self.kind())
    }
}

impl fmt::Display for PatientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:<redacted>", self.kind())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn phones_normalise_to_e164() {
        for raw in [
            "+966 50 123 4567",
            "00966501234567",
            "050-123-4567",
            "(050) 123.4567",
        ] {
            assert_eq!(
                PatientKey::phone(raw, "966").unwrap().expose(),
                "+966501234567",
                "{raw}"
            );
        }
        assert_eq!(PatientKey::phone("12ab", "966"), Err(LookupError::BadPhone));
        assert_eq!(PatientKey::phone("+123", "966"), Err(LookupError::BadPhone));
        assert_eq!(
            PatientKey::phone("0501234567", ""),
            Err(LookupError::BadPhone)
        );
    }

    #[test]
    fn mrns_are_bounded_and_upper_cased() {
        assert_eq!(
            PatientKey::mrn(" mrn-00123 ").unwrap().expose(),
            "MRN-00123"
        );
        assert_eq!(PatientKey::mrn(""), Err(LookupError::BadMrn));
        assert_eq!(PatientKey::mrn("a b"), Err(LookupError::BadMrn));
        assert_eq!(
            PatientKey::mrn(&"1".repeat(21)).unwrap_err().code(),
            "callcentre.lookup.bad_mrn"
        );
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let k = PatientKey::mrn("MRN12345").unwrap();
        let p = PatientKey::phone("+966501234567", "").unwrap();
        for s in [
            format!("{k:?}"),
            format!("{k}"),
            format!("{p:?}"),
            format!("{p}"),
        ] {
            assert!(!s.contains("12345") && !s.contains("501234567"), "{s}");
        }
    }
}

//! The NHS number: a ten-digit identifier for patients in England, Wales and the Isle of Man,
//! validated with the modulus-11 check digit (NHS Data Dictionary).
//!
//! Every crate that accepts an NHS number from outside (IHE queries, PDS, GP Connect, the
//! sandbox) parses it into [`NhsNumber`], so an unchecked string can never reach an upstream
//! call. `Debug` deliberately redacts the value so that a stray `{:?}` in a log line does not
//! leak patient identifiers; use [`NhsNumber::as_str`] where the real value is needed.

use std::fmt;
use std::str::FromStr;

/// OID of the NHS number as an HL7 identifier root (`II/@root`).
pub const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";

/// FHIR identifier system of the NHS number.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// A syntactically valid NHS number (ten digits with a correct modulus-11 check digit).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

/// Why a string is not an NHS number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("an NHS number has 10 digits, this value has {0}")]
    WrongLength(usize),
    #[error("an NHS number contains only digits (spaces and hyphens between groups are allowed)")]
    NotDigits,
    #[error("the NHS number's check digit is wrong")]
    BadCheckDigit,
}

impl NhsNumber {
    /// Parses and validates, accepting the common `943 476 5919` / `943-476-5919` groupings.
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let trimmed = input.trim();
        let mut digits = String::with_capacity(10);
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(NhsNumberError::NotDigits),
            }
        }
        if digits.len() != 10 {
            return Err(NhsNumberError::WrongLength(digits.len()));
        }
        if !check_digit_ok(digits.as_bytes()) {
            return Err(NhsNumberError::BadCheckDigit);
        }
        Ok(Self(digits))
    }

    /// The ten digits, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short non-identifying hint for logs and error texts, e.g. `***…744`.
    pub fn redacted(&self) -> String {
        format!("***…{}", &self.0[7..])
    }
}

/// Modulus 11: weights 10..2 over the first nine digits; 11 - (sum mod 11) is the check
/// digit, where 11 means 0 and 10 means the number is invalid.
fn check_digit_ok(d: &[u8]) -> bool {
    let sum: u32 = d[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = match 11 - (sum % 11) {
        11 => 0,
        10 => return false,
        n => n,
    };
    u32::from(d[9] - b'0') == check
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NhsNumber({})", self.redacted())
    }
}

impl fmt::Display for NhsNumber {
    /// Displays the full number: only use where the value is meant to leave the process
    /// (messages to NHS APIs, documents), never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for NhsNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for NhsNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for NhsNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_from_the_fixtures() {
        for n in [
            "9690937278",
            "9690937286",
            "9692136744",
            "9434765919",
            "943 476 5919",
        ] {
            assert!(NhsNumber::parse(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn rejects_bad_check_digit_length_and_letters() {
        assert_eq!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::BadCheckDigit)
        );
        assert_eq!(
            NhsNumber::parse("943476591"),
            Err(NhsNumberError::WrongLength(9))
        );
        assert_eq!(
            NhsNumber::parse("94347659X9"),
            Err(NhsNumberError::NotDigits)
        );
        // check digit would be 10: never valid
        assert_eq!(
            NhsNumber::parse("1000000010"),
            Err(NhsNumberError::BadCheckDigit)
        );
    }

    #[test]
    fn debug_does_not_leak_the_number() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("9434765919"));
        assert_eq!(n.to_string(), "9434765919");
    }

    #[test]
    fn serde_round_trip_validates() {
        let n: NhsNumber = serde_json::from_str("\"9434765919\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"9434765919\"");
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(s in ".{0,20}") {
            let _ = NhsNumber::parse(&s);
        }

        #[test]
        fn exactly_one_check_digit_is_valid(nine in 0u64..1_000_000_000) {
            let stem = format!("{nine:09}");
            let valid = (0..10).filter(|d| NhsNumber::parse(&format!("{stem}{d}")).is_ok()).count();
            prop_assert!(valid <= 1);
        }
    }
}

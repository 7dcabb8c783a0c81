//! Domain values the gateway hands to the response builders, and our responder identity.

use chrono::{DateTime, NaiveDate, Utc};
use nhs_number::NhsNumber;

/// OID of the NHS Organisation Data Service (ODS) organisation code.
pub const ODS_ORG_CODE_OID: &str = "2.16.840.1.113883.2.1.4.3";

/// Who we are in the IHE community. OIDs are bare (`1.2.3`), without `urn:oid:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderConfig {
    /// Our homeCommunityId (XCA `home`, XCPD custodian).
    pub home_community_id: String,
    /// Our XDS repositoryUniqueId (ITI-39).
    pub repository_unique_id: String,
    /// HL7v3 sender device id root.
    pub device_oid: String,
    pub device_name: String,
    /// HL7v3 sender organisation (asAgent/representedOrganization) id root.
    pub organization_oid: String,
    pub organization_name: String,
}

impl ResponderConfig {
    /// `urn:oid:` form of the homeCommunityId, as XCA carries it.
    pub fn home_urn(&self) -> String {
        format!("urn:oid:{}", self.home_community_id)
    }
}

/// HL7 instance identifier (II).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hl7Id {
    pub root: String,
    pub extension: Option<String>,
}

/// Administrative gender (HL7 AdministrativeGender; `Unknown` is sent as `UN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
    Undifferentiated,
}

impl Gender {
    pub fn hl7_code(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
            Self::Undifferentiated => "UN",
        }
    }

    pub fn from_hl7(code: &str) -> Option<Self> {
        match code.trim().to_ascii_uppercase().as_str() {
            "M" => Some(Self::Male),
            "F" => Some(Self::Female),
            "UN" | "U" => Some(Self::Undifferentiated),
            _ => None,
        }
    }
}

/// A person name (HL7 PN).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    /// HL7 EntityNameUse, e.g. `L` (legal), `P` (pseudonym/preferred).
    pub use_code: Option<String>,
    pub prefixes: Vec<String>,
    pub given: Vec<String>,
    pub family: Option<String>,
    pub suffixes: Vec<String>,
}

/// A postal address (HL7 AD).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// HL7 PostalAddressUse, e.g. `H` (home), `TMP`.
    pub use_code: Option<String>,
    pub lines: Vec<String>,
    pub city: Option<String>,
    /// County or state.
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A telecom address (HL7 TEL), with its URL scheme (`tel:`, `mailto:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom {
    /// Full URL, e.g. `tel:+441234567890` or `mailto:a@b.nhs.uk`.
    pub value: String,
    /// HL7 TelecommunicationAddressUse, e.g. `HP`, `MC`, `WP`.
    pub use_code: Option<String>,
}

/// The patient's registered GP practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpPractice {
    pub ods_code: String,
    pub name: Option<String>,
}

/// A patient as the gateway found it (from PDS), ready to answer ITI-55/ITI-47.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientDemographics {
    pub nhs_number: NhsNumber,
    pub names: Vec<PersonName>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub addresses: Vec<Address>,
    pub telecoms: Vec<Telecom>,
    pub gp_practice: Option<GpPractice>,
    /// Match confidence 0–100 for queryMatchObservation; 100 for an NHS-number match.
    pub match_score: u8,
}

/// Formats an HL7 TS with seconds in UTC (`YYYYMMDDHHMMSS+0000`).
pub fn hl7_ts(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S+0000").to_string()
}

/// Formats an HL7 TS date (`YYYYMMDD`).
pub fn hl7_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// XDS DTM: UTC, `YYYYMMDDHHMMSS` (ITI TF-3 Table 4.2.3.1.7-2, no zone offset).
pub fn xds_dtm(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

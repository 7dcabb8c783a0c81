//! Every OID the converter writes as an `II/@root` or `@codeSystem`, in one place.

/// NHS number (re-exported from `nhs-number`).
pub(crate) const NHS_NUMBER: &str = nhs_number::NHS_NUMBER_OID;
/// ODS organisation code.
pub(crate) const ODS_ORGANISATION: &str = "2.16.840.1.113883.2.1.4.3";

/// HL7 CDA `typeId` root.
pub(crate) const CDA_TYPE_ID: &str = "2.16.840.1.113883.1.3";

pub(crate) const LOINC: &str = "2.16.840.1.113883.6.1";
pub(crate) const SNOMED_CT: &str = "2.16.840.1.113883.6.96";
pub(crate) const ACT_CODE: &str = "2.16.840.1.113883.5.4";
pub(crate) const ACT_CLASS: &str = "2.16.840.1.113883.5.6";
pub(crate) const CONFIDENTIALITY: &str = "2.16.840.1.113883.5.25";
pub(crate) const ADMINISTRATIVE_GENDER: &str = "2.16.840.1.113883.5.1";
pub(crate) const OBSERVATION_VALUE: &str = "2.16.840.1.113883.5.1063";
pub(crate) const ACT_REASON: &str = "2.16.840.1.113883.5.8";
pub(crate) const ACT_PRIORITY: &str = "2.16.840.1.113883.5.7";

//! HL7 V3 patient discovery messages: PRPA_IN201305UV02 in, PRPA_IN201306UV02 out.

pub mod query;
pub mod response;

pub const HL7_NS: &str = "urn:hl7-org:v3";

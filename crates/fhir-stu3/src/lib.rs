//! Lenient FHIR STU3 model of what GP Connect Access Record Structured returns.
//!
//! This crate owns reading a `$gpc.getstructuredrecord` response Bundle into typed
//! resources ([`Bundle`], [`Resource`]) and resolving references between them. It does not
//! convert anything: that is `ccda-convert`.
//!
//! # Why hand-written
//!
//! The `fhir-model` crate (stu3) rejects the whole Bundle when one date is malformed and costs
//! minutes and gigabytes to compile. Real GP Connect data bends STU3: arrays where a single
//! value is defined (`expectedSupplyDuration.code: ["d"]`), numbers as strings (`"28"`),
//! `explanation.notGivenReason`, dateTimes without a timezone, `fhir_comments`, entries
//! without `resourceType`, unknown resources, and misspelt extension URLs. Here serde_json
//! does the JSON and a small reader (`read.rs`) extracts typed values, turning each such
//! deviation into a [`Warning`] (resource, JSON path, what was tolerated) instead of an
//! error. Only three things are errors ([`ParseError`]): invalid JSON (with line and
//! column), a root that is not a Bundle, and a Bundle without a Patient.
//!
//! Elements the converter does not use are not read; unknown elements are ignored.

mod bundle;
mod datatypes;
mod datetime;
mod error;
mod read;
mod resources;

pub use bundle::{Bundle, Entry};
pub use datatypes::{
    Address, Annotation, CodeableConcept, Coding, ContactPoint, ExtValue, Extension, HumanName,
    Identifier, Period, Quantity, Reference, extension_name, find_ext,
};
pub use datetime::{FhirDateTime, PartialDateTime};
pub use error::{ParseError, Warning};
pub use read::Decimal;
pub use resources::*;

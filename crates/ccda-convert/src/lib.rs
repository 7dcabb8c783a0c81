//! GP Connect (FHIR STU3) structured record → C-CDA R2.1 Continuity of Care Document.
//!
//! This crate owns the conversion and nothing else: no I/O, no clock, no randomness (the
//! caller supplies the document id and time in [`ConvertOptions`]), so the same bundle and
//! options always give byte-identical XML.
//!
//! Pipeline: `fhir-stu3` parses the Bundle; `sections/*` build the intermediate record model
//! (`model.rs`: sections → tables of rows, each row linked to a coded entry); `render.rs`
//! and `header.rs` write CDA XML with the datatype helpers in `cda.rs`. Template ids, OIDs
//! and code systems live in `templates.rs`, `oids.rs` and `codesystems.rs`. A new clinical
//! area is a new module in `sections/` plus one line in `sections::build_all`.
//!
//! Nothing is dropped silently: resources of clinical areas not converted yet appear in
//! [`ConversionReport::unplaced`] with the reason, and everything the reader tolerated in
//! the input appears in [`ConversionReport::warnings`].

mod cda;
mod codesystems;
mod header;
mod html;
mod ids;
mod model;
mod oids;
mod render;
mod sections;
mod templates;
mod ucum;
mod xml;

use chrono::{DateTime, FixedOffset};
use nhs_number::NhsNumber;
use uuid::Uuid;

pub use fhir_stu3::ParseError;

/// Who produced the document: the gateway, written as the author device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayIdentity {
    /// `assignedAuthor/id/@root`: an OID (or UUID) that identifies the gateway installation.
    /// Must never be a URI.
    pub id_root: String,
    pub id_extension: Option<String>,
    /// `assignedAuthoringDevice/softwareName`, e.g. `Xhuma 0.1.0`.
    pub software_name: String,
    /// `assignedAuthoringDevice/manufacturerModelName`.
    pub model_name: String,
    /// The organisation operating the gateway (`representedOrganization`).
    pub organization_name: String,
    /// `representedOrganization/id/@root`: an OID (or UUID).
    pub organization_oid: String,
}

/// Per-document inputs the converter must not invent itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertOptions {
    /// `ClinicalDocument/id/@root` (the gateway generates it).
    pub document_id: Uuid,
    /// `ClinicalDocument/effectiveTime`, with its timezone.
    pub effective_time: DateTime<FixedOffset>,
    pub gateway: GatewayIdentity,
}

impl Default for GatewayIdentity {
    /// A fixed identity for tests and examples. Its ids are fixed UUIDs (valid `II/@root`s
    /// that claim no OID arc); production deployments configure their own registered OID.
    fn default() -> Self {
        Self {
            id_root: "7d2b6a4e-1f3c-4e8a-9b5d-3c6f0a1e2b47".into(),
            id_extension: Some("xhuma-gateway".into()),
            software_name: concat!("Xhuma ccda-convert ", env!("CARGO_PKG_VERSION")).into(),
            model_name: "Xhuma GP Connect gateway".into(),
            organization_name: "Xhuma GP Connect gateway (test)".into(),
            organization_oid: "7d2b6a4e-1f3c-4e8a-9b5d-3c6f0a1e2b48".into(),
        }
    }
}

impl Default for ConvertOptions {
    /// Fixed values (a constant UUID, 2024-01-01T12:00:00+00:00) so test output is deterministic.
    fn default() -> Self {
        Self {
            document_id: Uuid::from_u128(0x2b3f_64a1_7c0d_4e55_9a3e_0c1d_2e3f_4a5b),
            effective_time: DateTime::parse_from_rfc3339("2024-01-01T12:00:00+00:00")
                .expect("a constant, valid RFC 3339 time"),
            gateway: GatewayIdentity::default(),
        }
    }
}

/// A clinical resource the document does not contain, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unplaced {
    /// `Type/id`.
    pub resource: String,
    pub reason: String,
}

/// What the conversion could not place and what it tolerated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConversionReport {
    pub unplaced: Vec<Unplaced>,
    pub warnings: Vec<String>,
}

/// What XDS metadata needs about the document (size and SHA-1 are the gateway's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSummary {
    pub document_id: Uuid,
    pub set_id: Uuid,
    pub title: String,
    pub creation_time: DateTime<FixedOffset>,
    /// Earliest clinical date in the document, as an HL7 TS literal.
    pub service_start: Option<String>,
    /// Latest clinical date in the document, as an HL7 TS literal.
    pub service_stop: Option<String>,
    pub patient_nhs_number: Option<NhsNumber>,
    pub patient_given: Vec<String>,
    pub patient_family: Option<String>,
    /// HL7 TS literal (`YYYYMMDD`).
    pub birth_date: Option<String>,
    /// HL7 AdministrativeGender code: `M`, `F` or `UN`.
    pub gender: Option<String>,
    pub custodian_ods_code: Option<String>,
    pub custodian_name: Option<String>,
    pub language: &'static str,
    pub mime_type: &'static str,
}

/// The generated document with its report and metadata.
#[derive(Debug, Clone)]
pub struct Converted {
    pub xml: String,
    pub report: ConversionReport,
    pub summary: DocumentSummary,
    /// The record model the narrative was written from, for [`Converted::html`].
    body: Vec<model::Section>,
}

impl Converted {
    /// The record as a self-contained, printable HTML page (`lang="en-GB"`, inline CSS, no
    /// script): one section per clinical area, in the order and with the text of the CDA
    /// narrative. Serve it as `text/html; charset=utf-8`. It contains patient data.
    pub fn html(&self) -> String {
        html::page(&self.summary, &self.body)
    }
}

/// Why no document could be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The input is not a usable GP Connect Bundle (invalid JSON, not a Bundle, no Patient).
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Converts a GP Connect structured-record Bundle (JSON bytes) to a C-CDA R2.1 CCD.
pub fn convert(bundle_json: &[u8], opts: &ConvertOptions) -> Result<Converted, ConvertError> {
    let bundle = fhir_stu3::Bundle::parse(bundle_json)?;
    Ok(render::document(&bundle, opts))
}

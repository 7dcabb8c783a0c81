//! XDS DocumentEntry metadata (ITI TF-3 4.2.3.2) as the gateway supplies it.

use chrono::{DateTime, Utc};
use nhs_number::NhsNumber;

/// A coded metadata value: code, coding scheme (OID or scheme name) and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub scheme: String,
    pub display: String,
}

impl Code {
    pub fn new(code: &str, scheme: &str, display: &str) -> Self {
        Self {
            code: code.into(),
            scheme: scheme.into(),
            display: display.into(),
        }
    }
}

/// Stable documents exist already; On-Demand ones are generated when retrieved (our case:
/// GP Connect is converted to C-CDA at retrieve time). The attributes that describe a
/// concrete document's bytes only exist for Stable entries (ITI TF-3 Table 4.3.1-3: hash,
/// size and creationTime are not given for On-Demand entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Stable {
        creation_time: DateTime<Utc>,
        /// SHA-1 of the document, lowercase hex.
        hash: String,
        size: u64,
    },
    OnDemand,
}

/// Document author (XDS author classification).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Author {
    /// XCN, e.g. `^Smith^Jane^^^Dr`.
    pub person: Option<String>,
    /// XON, e.g. `The Health Centre^^^^^&2.16.840.1.113883.2.1.4.3&ISO^^^^Y12345`.
    pub institutions: Vec<String>,
    pub roles: Vec<String>,
    pub specialties: Vec<String>,
}

/// Complete DocumentEntry metadata for an ITI-38 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEntry {
    /// entryUUID, `urn:uuid:…`.
    pub entry_uuid: String,
    /// uniqueId (an OID, what ITI-39 asks for).
    pub unique_id: String,
    /// patientId and sourcePatientId, under the NHS number OID.
    pub patient: NhsNumber,
    pub kind: EntryKind,
    pub mime_type: String,
    pub title: Option<String>,
    pub class_code: Code,
    pub type_code: Code,
    pub format_code: Code,
    pub confidentiality_code: Code,
    pub healthcare_facility_type_code: Code,
    pub practice_setting_code: Code,
    pub language_code: String,
    pub authors: Vec<Author>,
    pub service_start_time: Option<DateTime<Utc>>,
    pub service_stop_time: Option<DateTime<Utc>>,
}

impl DocumentEntry {
    /// An On-Demand C-CDA summary with the defaults we register for GP Connect records:
    ///
    /// | attribute | default |
    /// |---|---|
    /// | classCode, typeCode | LOINC `34133-9` Summary of episode note |
    /// | formatCode | `urn:hl7-org:sdwg:ccda-structuredBody:2.1` (IHE format codes `1.3.6.1.4.1.19376.1.2.3`) |
    /// | confidentialityCode | `N` normal (`2.16.840.1.113883.5.25`) |
    /// | healthcareFacilityTypeCode | SNOMED CT `394761003` GP practice site |
    /// | practiceSettingCode | SNOMED CT `408443003` General medical practice |
    /// | mimeType, languageCode | `text/xml`, `en-GB` |
    pub fn on_demand_summary(entry_uuid: &str, unique_id: &str, patient: NhsNumber) -> Self {
        let loinc = "2.16.840.1.113883.6.1";
        let snomed = "2.16.840.1.113883.6.96";
        Self {
            entry_uuid: entry_uuid.into(),
            unique_id: unique_id.into(),
            patient,
            kind: EntryKind::OnDemand,
            mime_type: "text/xml".into(),
            title: Some("GP summary".into()),
            class_code: Code::new("34133-9", loinc, "Summary of episode note"),
            type_code: Code::new("34133-9", loinc, "Summary of episode note"),
            format_code: Code::new(
                "urn:hl7-org:sdwg:ccda-structuredBody:2.1",
                "1.3.6.1.4.1.19376.1.2.3",
                "Documents following C-CDA constraints using a structured body",
            ),
            confidentiality_code: Code::new("N", "2.16.840.1.113883.5.25", "normal"),
            healthcare_facility_type_code: Code::new("394761003", snomed, "GP practice site"),
            practice_setting_code: Code::new("408443003", snomed, "General medical practice"),
            language_code: "en-GB".into(),
            authors: Vec::new(),
            service_start_time: None,
            service_stop_time: None,
        }
    }
}

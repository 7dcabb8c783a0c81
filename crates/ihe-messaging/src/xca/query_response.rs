//! Writing the ITI-38 `query:AdhocQueryResponse` with complete DocumentEntry metadata.

use nhs_number::NHS_NUMBER_OID;
use uuid::Uuid;

use super::entry::{Author, Code, DocumentEntry, EntryKind};
use super::query::ReturnType;
use super::{
    ON_DEMAND_ENTRY, QUERY_NS, RIM_NS, RS_NS, RegistryError, STABLE_ENTRY, STATUS_APPROVED, status,
    write_error_list,
};
use crate::model::{ResponderConfig, xds_dtm};
use crate::soap::{ReplyMeta, SoapHeader, SoapResponse, Transaction, plain_response};
use crate::xml::esc;

const CLASSIFICATION: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification";
const EXTERNAL_IDENTIFIER: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier";
const SCHEME_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
const SCHEME_CLASS: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
const SCHEME_CONFIDENTIALITY: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
const SCHEME_FORMAT: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
const SCHEME_FACILITY: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
const SCHEME_PRACTICE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
const SCHEME_TYPE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
const IDENT_PATIENT: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
const IDENT_UNIQUE: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";

/// Ids of Classifications and ExternalIdentifiers derive from the entry's UUID, so the same
/// entry always gets the same ids (idempotent answers, stable test output).
fn child_id(entry_uuid: &str, what: &str) -> String {
    let name = format!("{entry_uuid}/{what}");
    format!(
        "urn:uuid:{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
    )
}

fn slot(out: &mut String, name: &str, values: &[&str]) {
    out.push_str("<rim:Slot name=\"");
    out.push_str(name);
    out.push_str("\"><rim:ValueList>");
    for v in values {
        out.push_str("<rim:Value>");
        out.push_str(&esc(v));
        out.push_str("</rim:Value>");
    }
    out.push_str("</rim:ValueList></rim:Slot>");
}

fn name(out: &mut String, value: &str) {
    out.push_str("<rim:Name><rim:LocalizedString xml:lang=\"en-GB\" charset=\"UTF-8\" value=\"");
    out.push_str(&esc(value));
    out.push_str("\"/></rim:Name>");
}

fn classification_open(out: &mut String, e: &DocumentEntry, scheme: &str, what: &str, node: &str) {
    out.push_str("<rim:Classification id=\"");
    out.push_str(&child_id(&e.entry_uuid, what));
    out.push_str("\" objectType=\"");
    out.push_str(CLASSIFICATION);
    out.push_str("\" classificationScheme=\"");
    out.push_str(scheme);
    out.push_str("\" classifiedObject=\"");
    out.push_str(&esc(&e.entry_uuid));
    out.push_str("\" nodeRepresentation=\"");
    out.push_str(&esc(node));
    out.push_str("\">");
}

fn coded(out: &mut String, e: &DocumentEntry, scheme: &str, what: &str, code: &Code) {
    classification_open(out, e, scheme, what, &code.code);
    slot(out, "codingScheme", &[&code.scheme]);
    name(out, &code.display);
    out.push_str("</rim:Classification>");
}

fn list(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn author(out: &mut String, e: &DocumentEntry, i: usize, a: &Author) {
    classification_open(out, e, SCHEME_AUTHOR, &format!("author{i}"), "");
    if let Some(p) = &a.person {
        slot(out, "authorPerson", &[p]);
    }
    if !a.institutions.is_empty() {
        slot(out, "authorInstitution", &list(&a.institutions));
    }
    if !a.roles.is_empty() {
        slot(out, "authorRole", &list(&a.roles));
    }
    if !a.specialties.is_empty() {
        slot(out, "authorSpecialty", &list(&a.specialties));
    }
    out.push_str("</rim:Classification>");
}

fn external_id(out: &mut String, e: &DocumentEntry, scheme: &str, what: &str, value: &str) {
    out.push_str("<rim:ExternalIdentifier id=\"");
    out.push_str(&child_id(&e.entry_uuid, what));
    out.push_str("\" objectType=\"");
    out.push_str(EXTERNAL_IDENTIFIER);
    out.push_str("\" identificationScheme=\"");
    out.push_str(scheme);
    out.push_str("\" registryObject=\"");
    out.push_str(&esc(&e.entry_uuid));
    out.push_str("\" value=\"");
    out.push_str(&esc(value));
    out.push_str("\">");
    name(out, what);
    out.push_str("</rim:ExternalIdentifier>");
}

fn extrinsic_object(out: &mut String, e: &DocumentEntry, cfg: &ResponderConfig) {
    let cx = format!("{}^^^&{NHS_NUMBER_OID}&ISO", e.patient.as_str());
    out.push_str("<rim:ExtrinsicObject id=\"");
    out.push_str(&esc(&e.entry_uuid));
    out.push_str("\" lid=\"");
    out.push_str(&esc(&e.entry_uuid));
    out.push_str("\" home=\"");
    out.push_str(&esc(&cfg.home_urn()));
    out.push_str("\" objectType=\"");
    out.push_str(match e.kind {
        EntryKind::Stable { .. } => STABLE_ENTRY,
        EntryKind::OnDemand => ON_DEMAND_ENTRY,
    });
    out.push_str("\" status=\"");
    out.push_str(STATUS_APPROVED);
    out.push_str("\" mimeType=\"");
    out.push_str(&esc(&e.mime_type));
    out.push_str("\" isOpaque=\"false\">");
    if let EntryKind::Stable {
        creation_time,
        hash,
        size,
    } = &e.kind
    {
        slot(out, "creationTime", &[&xds_dtm(*creation_time)]);
        slot(out, "hash", &[hash]);
        slot(out, "size", &[&size.to_string()]);
    }
    slot(out, "languageCode", &[&e.language_code]);
    slot(out, "repositoryUniqueId", &[&cfg.repository_unique_id]);
    if let Some(t) = e.service_start_time {
        slot(out, "serviceStartTime", &[&xds_dtm(t)]);
    }
    if let Some(t) = e.service_stop_time {
        slot(out, "serviceStopTime", &[&xds_dtm(t)]);
    }
    slot(out, "sourcePatientId", &[&cx]);
    if let Some(t) = &e.title {
        name(out, t);
    }
    for (i, a) in e.authors.iter().enumerate() {
        author(out, e, i, a);
    }
    coded(out, e, SCHEME_CLASS, "classCode", &e.class_code);
    coded(
        out,
        e,
        SCHEME_CONFIDENTIALITY,
        "confidentialityCode",
        &e.confidentiality_code,
    );
    coded(out, e, SCHEME_FORMAT, "formatCode", &e.format_code);
    coded(
        out,
        e,
        SCHEME_FACILITY,
        "healthcareFacilityTypeCode",
        &e.healthcare_facility_type_code,
    );
    coded(
        out,
        e,
        SCHEME_PRACTICE,
        "practiceSettingCode",
        &e.practice_setting_code,
    );
    coded(out, e, SCHEME_TYPE, "typeCode", &e.type_code);
    external_id(out, e, IDENT_PATIENT, "XDSDocumentEntry.patientId", &cx);
    external_id(
        out,
        e,
        IDENT_UNIQUE,
        "XDSDocumentEntry.uniqueId",
        &e.unique_id,
    );
    out.push_str("</rim:ExtrinsicObject>");
}

/// Builds the AdhocQueryResponse Body element.
pub(crate) fn body(
    return_type: ReturnType,
    entries: &[DocumentEntry],
    errors: &[RegistryError],
    cfg: &ResponderConfig,
) -> String {
    let mut out = String::with_capacity(1024 + entries.len() * 4096);
    out.push_str("<query:AdhocQueryResponse xmlns:query=\"");
    out.push_str(QUERY_NS);
    out.push_str("\" xmlns:rim=\"");
    out.push_str(RIM_NS);
    out.push_str("\" xmlns:rs=\"");
    out.push_str(RS_NS);
    out.push_str("\" status=\"");
    out.push_str(status(errors, !entries.is_empty()));
    out.push_str("\">");
    write_error_list(&mut out, errors);
    out.push_str("<rim:RegistryObjectList>");
    for e in entries {
        match return_type {
            ReturnType::LeafClass => extrinsic_object(&mut out, e, cfg),
            ReturnType::ObjectRef => {
                out.push_str("<rim:ObjectRef id=\"");
                out.push_str(&esc(&e.entry_uuid));
                out.push_str("\" home=\"");
                out.push_str(&esc(&cfg.home_urn()));
                out.push_str("\"/>");
            }
        }
    }
    out.push_str("</rim:RegistryObjectList></query:AdhocQueryResponse>");
    out
}

/// A Failure response carrying only registry errors (no query could be run).
pub(crate) fn build_failure(
    header: &SoapHeader,
    errors: &[RegistryError],
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    let mut out = String::with_capacity(512);
    out.push_str("<query:AdhocQueryResponse xmlns:query=\"");
    out.push_str(QUERY_NS);
    out.push_str("\" xmlns:rim=\"");
    out.push_str(RIM_NS);
    out.push_str("\" xmlns:rs=\"");
    out.push_str(RS_NS);
    out.push_str("\" status=\"");
    out.push_str(status(errors, false));
    out.push_str("\">");
    write_error_list(&mut out, errors);
    out.push_str("<rim:RegistryObjectList/></query:AdhocQueryResponse>");
    plain_response(Transaction::Iti38, header, meta, &out)
}

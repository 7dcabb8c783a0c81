//! ITI-18 FindDocuments semantics applied to an offered entry (`FindDocuments::matches`): one
//! test per parameter, through a real ITI-38 request so that slot parsing is covered too.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use ihe_messaging::*;
use nhs_number::{NHS_NUMBER_OID, NhsNumber};

const ITI38: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
const ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
const STABLE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
const LOINC: &str = "2.16.840.1.113883.6.1";

fn nhs() -> NhsNumber {
    NhsNumber::parse("9692136744").unwrap()
}

/// A FindDocuments with patient, Approved status and On-Demand type plus `extra` slots
/// (name, one `Value` text each).
fn query(extra: &[(&str, &str)]) -> FindDocuments {
    query_with(
        &format!("'9692136744^^^&amp;{NHS_NUMBER_OID}&amp;ISO'"),
        extra,
    )
}

fn query_with(patient: &str, extra: &[(&str, &str)]) -> FindDocuments {
    let mut slots = format!(
        "<rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>{patient}</rim:Value></rim:ValueList></rim:Slot>"
    );
    let has = |n: &str| extra.iter().any(|(k, _)| *k == n);
    if !has("$XDSDocumentEntryStatus") {
        slots.push_str(&format!("<rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('{APPROVED}')</rim:Value></rim:ValueList></rim:Slot>"));
    }
    if !has("$XDSDocumentEntryType") {
        slots.push_str(&format!("<rim:Slot name=\"$XDSDocumentEntryType\"><rim:ValueList><rim:Value>('{ON_DEMAND}','{STABLE}')</rim:Value></rim:ValueList></rim:Slot>"));
    }
    for (name, value) in extra {
        slots.push_str(&format!(
            "<rim:Slot name=\"{name}\"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>"
        ));
    }
    let body = format!(
        r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnType="LeafClass"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">{slots}</rim:AdhocQuery>
</query:AdhocQueryRequest>"#
    );
    let env = wrap(&body, ITI38, "urn:uuid:fd-1", "");
    match parse_iti38(env.as_bytes(), CT_SOAP).unwrap().body.query {
        StoredQuery::FindDocuments(fd) => *fd,
        other => panic!("{other:?}"),
    }
}

/// The entry the gateway offers, with a service period in 2024 and an author.
fn entry() -> DocumentEntry {
    let mut e = DocumentEntry::on_demand_summary("urn:uuid:e1", "2.25.1", nhs());
    e.service_start_time = Some(Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap());
    e.service_stop_time = Some(Utc.with_ymd_and_hms(2024, 6, 30, 17, 0, 0).unwrap());
    e.authors = vec![Author {
        person: Some("^Smith^Jane^^^Dr".into()),
        ..Author::default()
    }];
    e
}

fn stable_entry() -> DocumentEntry {
    DocumentEntry {
        kind: EntryKind::Stable {
            creation_time: Utc.with_ymd_and_hms(2023, 11, 5, 10, 30, 0).unwrap(),
            hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into(),
            size: 0,
        },
        ..entry()
    }
}

#[test]
fn the_baseline_query_matches() {
    assert!(query(&[]).matches(&entry()));
}

#[test]
fn patient_id() {
    let other = query_with(
        &format!("'9434765919^^^&amp;{NHS_NUMBER_OID}&amp;ISO'"),
        &[],
    );
    assert!(!other.matches(&entry()));
    let mrn = query_with("'9692136744^^^&amp;1.2.3&amp;ISO'", &[]);
    assert!(
        !mrn.matches(&entry()),
        "same digits, another assigning authority"
    );
}

#[test]
fn status() {
    let s = "$XDSDocumentEntryStatus";
    assert!(!query(&[(s, &format!("('{DEPRECATED}')"))]).matches(&entry()));
    assert!(query(&[(s, &format!("('{DEPRECATED}','{APPROVED}')"))]).matches(&entry()));
}

#[test]
fn entry_type() {
    let t = "$XDSDocumentEntryType";
    assert!(!query(&[(t, &format!("('{STABLE}')"))]).matches(&entry()));
    assert!(query(&[(t, &format!("('{ON_DEMAND}')"))]).matches(&entry()));
    assert!(query(&[(t, &format!("('{STABLE}')"))]).matches(&stable_entry()));
}

/// The simple code lists: OR within the list, code and (when given) scheme must both match.
#[test]
fn class_type_format_practice_setting_and_facility_codes() {
    let e = entry();
    for (name, code, scheme) in [
        ("$XDSDocumentEntryClassCode", "34133-9", LOINC),
        ("$XDSDocumentEntryTypeCode", "34133-9", LOINC),
        (
            "$XDSDocumentEntryFormatCode",
            "urn:hl7-org:sdwg:ccda-structuredBody:2.1",
            "1.3.6.1.4.1.19376.1.2.3",
        ),
        (
            "$XDSDocumentEntryPracticeSettingCode",
            "408443003",
            "2.16.840.1.113883.6.96",
        ),
        (
            "$XDSDocumentEntryHealthcareFacilityTypeCode",
            "394761003",
            "2.16.840.1.113883.6.96",
        ),
    ] {
        assert!(
            query(&[(name, &format!("('{code}^^{scheme}')"))]).matches(&e),
            "{name} exact"
        );
        assert!(
            query(&[(name, &format!("('nope^^{scheme}','{code}^^{scheme}')"))]).matches(&e),
            "{name}: OR within the list"
        );
        assert!(
            query(&[(name, &format!("('{code}')"))]).matches(&e),
            "{name} without scheme"
        );
        assert!(
            !query(&[(name, &format!("('{code}^^9.9.9')"))]).matches(&e),
            "{name}: wrong scheme"
        );
        assert!(
            !query(&[(name, &format!("('nope^^{scheme}')"))]).matches(&e),
            "{name}: wrong code"
        );
    }
}

#[test]
fn parameters_combine_with_and() {
    let q = query(&[
        (
            "$XDSDocumentEntryClassCode",
            &format!("('34133-9^^{LOINC}')"),
        ),
        (
            "$XDSDocumentEntryTypeCode",
            &format!("('11488-4^^{LOINC}')"),
        ),
    ]);
    assert!(!q.matches(&entry()), "class matches but type does not");
}

/// Confidentiality codes: OR within one Slot, AND across Slots; the HD-style scheme is read.
#[test]
fn confidentiality_code_and_or() {
    let c = "$XDSDocumentEntryConfidentialityCode";
    let n = "'N^^2.16.840.1.113883.5.25'";
    let r = "'R^^2.16.840.1.113883.5.25'";
    assert!(query(&[(c, &format!("({n})"))]).matches(&entry()));
    assert!(query(&[(c, "('N^^^&amp;2.16.840.1.113883.5.25&amp;ISO')")]).matches(&entry()));
    assert!(query(&[(c, &format!("({r},{n})"))]).matches(&entry()));
    assert!(!query(&[(c, &format!("({r})"))]).matches(&entry()));
    // Two slots: both must be satisfied.
    assert!(query(&[(c, &format!("({r},{n})")), (c, &format!("({n})"))]).matches(&entry()));
    assert!(!query(&[(c, &format!("({n})")), (c, &format!("({r})"))]).matches(&entry()));
}

#[test]
fn event_code_list_and_or() {
    let ev = "$XDSDocumentEntryEventCodeList";
    let flu = Code::new("6142004", "2.16.840.1.113883.6.96", "Influenza");
    let asthma = Code::new("195967001", "2.16.840.1.113883.6.96", "Asthma");
    let q_flu = query(&[(ev, "('6142004^^2.16.840.1.113883.6.96')")]);
    // Our entries register no event codes: any EventCodeList constraint excludes them.
    assert!(!q_flu.matches(&entry()));
    assert!(q_flu.matches_with_events(&entry(), std::slice::from_ref(&flu)));
    let both = query(&[
        (ev, "('6142004^^2.16.840.1.113883.6.96')"),
        (ev, "('195967001^^2.16.840.1.113883.6.96')"),
    ]);
    assert!(!both.matches_with_events(&entry(), std::slice::from_ref(&flu)));
    assert!(both.matches_with_events(&entry(), &[flu.clone(), asthma]));
    let either = query(&[(
        ev,
        "('195967001^^2.16.840.1.113883.6.96','6142004^^2.16.840.1.113883.6.96')",
    )]);
    assert!(either.matches_with_events(&entry(), &[flu]));
}

/// From is inclusive, To exclusive, at the precision of the bound.
#[test]
fn creation_time_range() {
    let (f, t) = (
        "$XDSDocumentEntryCreationTimeFrom",
        "$XDSDocumentEntryCreationTimeTo",
    );
    let s = stable_entry(); // created 2023-11-05 10:30:00
    assert!(
        query(&[(f, "20231105103000")]).matches(&s),
        "From inclusive"
    );
    assert!(!query(&[(f, "20231105103001")]).matches(&s));
    assert!(!query(&[(t, "20231105103000")]).matches(&s), "To exclusive");
    assert!(query(&[(t, "20231105103001")]).matches(&s));
    assert!(
        query(&[(f, "2023"), (t, "2024")]).matches(&s),
        "year precision"
    );
    assert!(!query(&[(t, "2023")]).matches(&s));
    assert!(query(&[(f, "202311")]).matches(&s));
    // On-Demand entries have no creationTime: a creation range excludes them.
    assert!(!query(&[(f, "2000")]).matches(&entry()));
}

#[test]
fn service_start_and_stop_time_ranges() {
    let e = entry(); // 2024-03-01 09:00 .. 2024-06-30 17:00
    let ss_f = "$XDSDocumentEntryServiceStartTimeFrom";
    let ss_t = "$XDSDocumentEntryServiceStartTimeTo";
    let st_f = "$XDSDocumentEntryServiceStopTimeFrom";
    let st_t = "$XDSDocumentEntryServiceStopTimeTo";
    assert!(query(&[(ss_f, "20240301")]).matches(&e));
    assert!(!query(&[(ss_f, "20240302")]).matches(&e));
    assert!(query(&[(ss_t, "20240302")]).matches(&e));
    assert!(!query(&[(ss_t, "20240301")]).matches(&e));
    assert!(query(&[(st_f, "202406")]).matches(&e));
    assert!(!query(&[(st_f, "202407")]).matches(&e));
    assert!(query(&[(st_t, "2025")]).matches(&e));
    assert!(!query(&[(st_t, "20240630170000")]).matches(&e));
    let mut open = e.clone();
    open.service_stop_time = None;
    assert!(!query(&[(st_t, "2025")]).matches(&open));
}

#[test]
fn author_person_with_wildcards() {
    let a = "$XDSDocumentEntryAuthorPerson";
    let e = entry(); // ^Smith^Jane^^^Dr
    assert!(query(&[(a, "'^Smith^Jane^^^Dr'")]).matches(&e));
    assert!(query(&[(a, "'%Smith%'")]).matches(&e));
    assert!(query(&[(a, "'^Sm_th^%'")]).matches(&e));
    assert!(!query(&[(a, "'%Jones%'")]).matches(&e));
    assert!(
        !query(&[(a, "'Smith'")]).matches(&e),
        "no implicit wildcard"
    );
    assert!(
        query(&[(a, "('%Jones%','%Smith%')")]).matches(&e),
        "OR across values"
    );
    let mut anon = e.clone();
    anon.authors[0].person = None;
    assert!(!query(&[(a, "'%'")]).matches(&anon));
}

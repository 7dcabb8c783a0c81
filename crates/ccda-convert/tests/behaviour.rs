//! Targeted behaviour on real fixtures: header facts, malformed values, not-given
//! immunisations, PRN, resolved allergies, GP Connect List warnings and empty Lists.
#![allow(clippy::unwrap_used)]

mod common;

use common::{convert, fixture, parse_xml, section};

#[test]
fn header_and_summary_carry_uk_identity() {
    let out = convert(&fixture("xhuma/9690937286.json"));
    let s = &out.summary;
    assert_eq!(
        s.patient_nhs_number.as_ref().unwrap().as_str(),
        "9690937286"
    );
    assert_eq!(s.patient_family.as_deref(), Some("SKELLY"));
    assert_eq!(s.gender.as_deref(), Some("M"));
    assert_eq!(s.birth_date.as_deref(), Some("19250421"));
    assert_eq!(s.custodian_ods_code.as_deref(), Some("B82617"));
    assert_eq!(s.language, "en-GB");
    assert!(s.service_start.as_deref().unwrap() < s.service_stop.as_deref().unwrap());
    assert!(
        out.xml
            .contains(r#"<id root="2.16.840.1.113883.2.1.4.1" extension="9690937286"/>"#)
    );
    assert!(
        out.xml
            .contains(r#"<id root="2.16.840.1.113883.2.1.4.3" extension="B82617"/>"#)
    );
    assert!(out.xml.contains(r#"<realmCode code="US"/>"#));
    // Same patient and practice → same setId, whatever the document id.
    let opts = ccda_convert::ConvertOptions {
        document_id: uuid::Uuid::from_u128(7),
        ..Default::default()
    };
    let again = ccda_convert::convert(&fixture("xhuma/9690937286.json"), &opts).unwrap();
    assert_eq!(again.summary.set_id, s.set_id);
    assert_ne!(again.summary.document_id, s.document_id);
}

#[test]
fn malformed_date_becomes_null_flavor_with_text_kept_and_a_warning() {
    let out = convert(&fixture("gp2gp/malformedDateStructuredRecord.json"));
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains("onsetDateTime") && w.contains("\"19\" is not a valid")),
        "{:?}",
        out.report.warnings
    );
    assert!(out.xml.contains("19 (as recorded; not a valid date)"));
    let doc = parse_xml(&out.xml).unwrap();
    let allergies = section(&doc, "2.16.840.1.113883.10.20.22.2.6.1").unwrap();
    let mut unk = 0;
    allergies.walk(None, &mut |e, _| {
        if e.name == "low" && e.attr("nullFlavor") == Some("UNK") {
            unk += 1;
        }
    });
    assert!(unk >= 1);
}

#[test]
fn not_given_immunisation_has_negation_and_reason() {
    let out = convert(&fixture("spec-examples/immunizations_response2.json"));
    assert!(out.xml.contains(r#"negationInd="true""#));
    assert!(out.xml.contains(r#"<entryRelationship typeCode="RSON">"#));
    assert!(out.xml.contains("<td>Not given</td>"));
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains("notGivenReason"))
    );
}

#[test]
fn medication_details_are_mapped() {
    let out = convert(&fixture("xhuma/9692140466.json"));
    // PRN → precondition; frequency → PIVL_TS; supply order with repeats.
    assert!(out.xml.contains(r#"<precondition typeCode="PRCN">"#));
    assert!(out.xml.contains(r#"xsi:type="PIVL_TS""#));
    assert!(
        out.xml
            .contains(r#"<supply classCode="SPLY" moodCode="INT">"#)
    );
    assert!(out.xml.contains("<caption>Current medication</caption>"));
    // dm+d is SNOMED CT; supplier drug codes ride along as translations.
    let meds = convert(&fixture(
        "gp2gp/correctPatientStructuredRecordResponseNormal.json",
    ));
    assert!(meds.xml.contains(
        r#"codeSystem="2.16.840.1.113883.2.1.6.4" codeSystemName="Multilex drug codes""#
    ));
}

#[test]
fn allergy_type_follows_category_and_resolved_allergies_end() {
    let out = convert(&fixture("spec-examples/allergies_response1.json"));
    assert!(
        out.xml
            .contains("<caption>Ended allergies and adverse reactions</caption>")
    );
    assert!(out.xml.contains(r#"<statusCode code="completed"/>"#));
    // The resolved allergy lives in a List with placeholder code "TBD": inferred, warned.
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains("unrecognised code (TBD)"))
    );
    let drug =
        out.xml.matches("Allergy to drug").count() + out.xml.matches("Drug intolerance").count();
    assert!(drug >= 1);
    let big = convert(&fixture("xhuma/9692136744.json"));
    // 23 allergies of mixed categories: not every one is a drug allergy.
    assert!(
        big.xml.contains("414285001")
            || big.xml.contains("426232007")
            || big.xml.contains("418038007")
    );
}

#[test]
fn list_warnings_and_empty_lists_are_explained() {
    let out = convert(&fixture("xhuma/9690937286.json"));
    assert!(out.xml.contains("marked them as confidential"));
    let empty = convert(&fixture("xhuma/9690937278.json"));
    let doc = parse_xml(&empty.xml).unwrap();
    for root in [
        "2.16.840.1.113883.10.20.22.2.6.1",
        "2.16.840.1.113883.10.20.22.2.1.1",
        "2.16.840.1.113883.10.20.22.2.5.1",
        "2.16.840.1.113883.10.20.22.2.2.1",
    ] {
        let s = section(&doc, root).unwrap();
        assert_eq!(s.attr("nullFlavor"), Some("NI"), "{root}");
        assert!(!s.children.iter().any(|c| c.name == "entry"), "{root}");
    }
}

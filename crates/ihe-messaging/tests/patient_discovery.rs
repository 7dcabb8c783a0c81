//! ITI-55 / ITI-47: every IPF query fixture parses (plain, pretty-printed, MTOM) and every
//! response we build validates against the HL7 V3 NE2008 PRPA_IN201306UV02 schema.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::*;
use ihe_messaging::xml::{self, Element};
use ihe_messaging::*;
use nhs_number::{NHS_NUMBER_OID, NhsNumber};

const ITI55: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
const ITI47: &str = "urn:hl7-org:v3:PRPA_IN201305UV02";
const HL7: &str = "urn:hl7-org:v3";

fn queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in [
        "iti47-ipf/platform-camel",
        "iti47-ipf/tutorial",
        "iti47-ipf/pdq-translation",
    ] {
        for (name, text) in fixtures_in(dir) {
            if xml::parse(text.as_bytes()).unwrap().local == "PRPA_IN201305UV02" {
                out.push((format!("{dir}/{name}"), text));
            }
        }
    }
    assert_eq!(out.len(), 8, "the IPF set has 8 queries");
    out
}

fn patient() -> PatientDemographics {
    PatientDemographics {
        nhs_number: NhsNumber::parse("9692136744").unwrap(),
        names: vec![PersonName {
            use_code: Some("L".into()),
            prefixes: vec!["Mrs".into()],
            given: vec!["Jane".into(), "Ann".into()],
            family: Some("O'Smith & Jones".into()),
            suffixes: vec![],
        }],
        gender: Some(Gender::Female),
        birth_date: NaiveDate::from_ymd_opt(1968, 2, 29),
        addresses: vec![Address {
            use_code: Some("H".into()),
            lines: vec!["1 Trevelyan Square".into(), "Boar Lane".into()],
            city: Some("Leeds".into()),
            state: Some("West Yorkshire".into()),
            postal_code: Some("LS1 6AE".into()),
            country: Some("GB".into()),
        }],
        telecoms: vec![
            Telecom {
                value: "tel:+441132806000".into(),
                use_code: Some("HP".into()),
            },
            Telecom {
                value: "mailto:jane@example.nhs.uk".into(),
                use_code: None,
            },
        ],
        gp_practice: Some(GpPractice {
            ods_code: "Y12345".into(),
            name: Some("The Health Centre".into()),
        }),
        match_score: 100,
    }
}

fn body_child(resp: &SoapResponse) -> String {
    conformance::soap_body_child(std::str::from_utf8(&resp.body).unwrap())
}

fn header_text<'a>(env: &'a Element, local: &str) -> Option<&'a str> {
    env.child(soap::SOAP12_NS, "Header")?
        .child(soap::WSA_NS, local)?
        .text_trimmed()
}

#[test]
fn every_ipf_query_parses_as_iti47_and_iti55_plain_and_mtom() {
    for (name, text) in queries() {
        for action in [ITI47, ITI55] {
            let env = wrap(&text, action, "urn:uuid:1-2-3", "");
            let parse = if action == ITI47 {
                parse_iti47
            } else {
                parse_iti55
            };
            let req = parse(env.as_bytes(), CT_SOAP).unwrap_or_else(|f| panic!("{name}: {f}"));
            assert_eq!(req.header.action, action);
            assert_eq!(req.header.message_id.as_deref(), Some("urn:uuid:1-2-3"));
            assert!(!req.mtom);
            assert!(!req.body.message_id.root.is_empty(), "{name}");
            let (ct, mtom) = as_mtom(&env, action);
            let req2 = parse(&mtom, &ct).unwrap_or_else(|f| panic!("{name} (MTOM): {f}"));
            assert!(req2.mtom);
            assert_eq!(req2.body, req.body, "{name}: MTOM and plain parse alike");
        }
    }
}

#[test]
fn maximal_query_fields_are_read() {
    let text = fixture("iti47-ipf/pdq-translation/PDQ_Maximal_Query.xml");
    let req = parse_iti47(wrap(&text, ITI47, "urn:uuid:x", "").as_bytes(), CT_SOAP).unwrap();
    let q = &req.body;
    assert_eq!(q.gender, Some(Gender::Female));
    assert_eq!(q.birth_time.as_deref(), Some("19400101"));
    assert_eq!(q.names[0].given, ["MARY", "Annemarie"]);
    assert_eq!(q.names[0].family.as_deref(), Some("Wurm Heidi"));
    assert_eq!(q.addresses[0].city.as_deref(), Some("Some City"));
    assert_eq!(
        q.query_id.as_ref().unwrap().extension.as_deref(),
        Some("18204")
    );
    assert_eq!(q.message_id.root, "1.2.840.114350.1.13.0.1.7.1.1");
}

#[test]
fn living_subject_ids_keep_nhs_and_other_identifiers() {
    let text = fixture("iti47-ipf/platform-camel/01_PDQQuery1.xml");
    let text = text.replace(
        "<livingSubjectName>",
        &format!(
            "<livingSubjectId><value root=\"{NHS_NUMBER_OID}\" extension=\"9692136744\"/></livingSubjectId>\
             <livingSubjectId><value root=\"{NHS_NUMBER_OID}\" extension=\"9692136745\"/></livingSubjectId>\
             <livingSubjectName>"
        ),
    );
    let req = parse_iti55(wrap(&text, ITI55, "urn:uuid:x", "").as_bytes(), CT_SOAP).unwrap();
    let nhs: Vec<_> = req
        .body
        .nhs_numbers()
        .map(|n| n.as_str().to_owned())
        .collect();
    assert_eq!(nhs, ["9692136744"]);
    assert!(req.body.invalid_nhs_number().is_some());
    assert!(
        req.body
            .subject_ids
            .iter()
            .any(|s| matches!(s, SubjectId::Other(id) if id.extension.as_deref() == Some("1234")))
    );
}

#[test]
fn match_no_match_and_error_responses_validate_for_every_query() {
    let outcomes = [
        PatientQueryOutcome::Match(vec![patient()]),
        PatientQueryOutcome::Match(vec![
            patient(),
            PatientDemographics {
                names: vec![],
                gp_practice: None,
                gender: None,
                birth_date: None,
                match_score: 80,
                ..patient()
            },
        ]),
        PatientQueryOutcome::NoMatch,
        PatientQueryOutcome::Error(QueryErrorDetail::unknown_domain("1.2.3.4")),
        PatientQueryOutcome::Error(QueryErrorDetail::bad_parameter(
            "livingSubjectId",
            "the NHS number's check digit is wrong",
        )),
        PatientQueryOutcome::Error(QueryErrorDetail::missing_parameter(
            "livingSubjectId or livingSubjectName with livingSubjectBirthTime",
        )),
        PatientQueryOutcome::Error(QueryErrorDetail::internal(
            "PDS did not answer in time; retry later",
        )),
    ];
    for (name, text) in queries() {
        for (action, build) in [
            (ITI55, build_iti55_response as fn(&_, &_, &_, _) -> _),
            (ITI47, build_iti47_response),
        ] {
            let env = wrap(&text, action, "urn:uuid:req-1", "");
            let req = if action == ITI55 {
                parse_iti55(env.as_bytes(), CT_SOAP)
            } else {
                parse_iti47(env.as_bytes(), CT_SOAP)
            }
            .unwrap();
            for outcome in &outcomes {
                let resp = build(&req, outcome, &cfg(), meta());
                assert_eq!(resp.status, 200);
                let body = body_child(&resp);
                let checked = conformance::hl7v3_xsd(&body);
                if !checked.is_valid() {
                    eprintln!("{name} {action} {outcome:?}\n{body}");
                }
                checked.assert_ok();
            }
        }
    }
}

#[test]
fn match_response_has_the_required_content() {
    let text = fixture("iti47-ipf/tutorial/PDQv3.xml");
    let req = parse_iti55(
        wrap(&text, ITI55, "urn:uuid:req-42", "").as_bytes(),
        CT_SOAP,
    )
    .unwrap();
    let resp = build_iti55_response(
        &req,
        &PatientQueryOutcome::Match(vec![patient()]),
        &cfg(),
        meta(),
    );
    assert!(resp.content_type.starts_with("application/soap+xml"));
    let env = xml::parse(&resp.body).unwrap();
    assert_eq!(
        header_text(&env, "Action"),
        Some("urn:hl7-org:v3:PRPA_IN201306UV02:CrossGatewayPatientDiscovery")
    );
    assert_eq!(header_text(&env, "RelatesTo"), Some("urn:uuid:req-42"));
    assert_eq!(header_text(&env, "MessageID"), Some(OUR_MESSAGE_ID));
    let msg = env
        .child(soap::SOAP12_NS, "Body")
        .unwrap()
        .first_child()
        .unwrap();
    assert_eq!(
        msg.path(HL7, &["acknowledgement", "typeCode"])
            .unwrap()
            .attr("code"),
        Some("AA")
    );
    assert_eq!(
        msg.path(HL7, &["acknowledgement", "targetMessage", "id"])
            .unwrap()
            .attr("root"),
        Some(req.body.message_id.root.as_str())
    );
    assert_eq!(
        msg.child(HL7, "creationTime").unwrap().attr("value"),
        Some("20250314150926+0000")
    );
    let event = msg
        .path(HL7, &["controlActProcess", "subject", "registrationEvent"])
        .unwrap();
    let patient_el = event.path(HL7, &["subject1", "patient"]).unwrap();
    let id = patient_el.child(HL7, "id").unwrap();
    assert_eq!(
        (id.attr("root"), id.attr("extension")),
        (Some(NHS_NUMBER_OID), Some("9692136744"))
    );
    let person = patient_el.child(HL7, "patientPerson").unwrap();
    assert_eq!(
        person.path(HL7, &["name", "family"]).unwrap().text,
        "O'Smith & Jones"
    );
    assert_eq!(
        person.child(HL7, "birthTime").unwrap().attr("value"),
        Some("19680229")
    );
    assert_eq!(
        person
            .child(HL7, "administrativeGenderCode")
            .unwrap()
            .attr("code"),
        Some("F")
    );
    assert_eq!(person.children_named(HL7, "telecom").count(), 2);
    assert_eq!(
        person.path(HL7, &["addr", "postalCode"]).unwrap().text,
        "LS1 6AE"
    );
    let org = patient_el
        .path(HL7, &["providerOrganization", "id"])
        .unwrap();
    assert_eq!(
        (org.attr("root"), org.attr("extension")),
        (Some(ODS_ORG_CODE_OID), Some("Y12345"))
    );
    let custodian = event
        .path(HL7, &["custodian", "assignedEntity", "id"])
        .unwrap();
    assert_eq!(
        custodian.attr("root"),
        Some(cfg().home_community_id.as_str())
    );
    let ack = msg.path(HL7, &["controlActProcess", "queryAck"]).unwrap();
    assert_eq!(
        ack.child(HL7, "queryResponseCode").unwrap().attr("code"),
        Some("OK")
    );
    assert_eq!(
        ack.child(HL7, "queryId").unwrap().attr("extension"),
        req.body.query_id.as_ref().unwrap().extension.as_deref()
    );
    assert!(
        msg.path(
            HL7,
            &["controlActProcess", "queryByParameter", "parameterList"]
        )
        .is_some()
    );
    let sender_org = msg
        .path(
            HL7,
            &[
                "sender",
                "device",
                "asAgent",
                "representedOrganization",
                "id",
            ],
        )
        .unwrap();
    assert_eq!(
        sender_org.attr("root"),
        Some(cfg().home_community_id.as_str())
    );
}

#[test]
fn no_match_is_aa_nf_without_subject_for_both_transactions() {
    let text = fixture("iti47-ipf/platform-camel/01_PDQQuery1.xml");
    for (action, build) in [
        (ITI55, build_iti55_response as fn(&_, &_, &_, _) -> _),
        (ITI47, build_iti47_response),
    ] {
        let env = wrap(&text, action, "urn:uuid:r", "");
        let req = if action == ITI55 {
            parse_iti55(env.as_bytes(), CT_SOAP)
        } else {
            parse_iti47(env.as_bytes(), CT_SOAP)
        }
        .unwrap();
        let resp = build(&req, &PatientQueryOutcome::NoMatch, &cfg(), meta());
        let env = xml::parse(&resp.body).unwrap();
        let msg = env
            .child(soap::SOAP12_NS, "Body")
            .unwrap()
            .first_child()
            .unwrap();
        assert_eq!(
            msg.path(HL7, &["acknowledgement", "typeCode"])
                .unwrap()
                .attr("code"),
            Some("AA")
        );
        assert!(msg.path(HL7, &["controlActProcess", "subject"]).is_none());
        assert_eq!(
            msg.path(HL7, &["controlActProcess", "queryAck", "queryResponseCode"])
                .unwrap()
                .attr("code"),
            Some("NF")
        );
        assert_eq!(
            msg.path(
                HL7,
                &["controlActProcess", "queryAck", "resultTotalQuantity"]
            )
            .unwrap()
            .attr("value"),
            Some("0")
        );
    }
}

#[test]
fn error_is_ae_with_acknowledgement_detail() {
    let text = fixture("iti47-ipf/platform-camel/01_PDQQuery1.xml");
    let req = parse_iti47(wrap(&text, ITI47, "urn:uuid:r", "").as_bytes(), CT_SOAP).unwrap();
    let resp = build_iti47_response(
        &req,
        &PatientQueryOutcome::Error(QueryErrorDetail::unknown_domain("1.2.3")),
        &cfg(),
        meta(),
    );
    assert_eq!(
        resp.status, 200,
        "an HL7 application error is a normal SOAP response, not HTTP 500"
    );
    let env = xml::parse(&resp.body).unwrap();
    let msg = env
        .child(soap::SOAP12_NS, "Body")
        .unwrap()
        .first_child()
        .unwrap();
    assert_eq!(
        msg.path(HL7, &["acknowledgement", "typeCode"])
            .unwrap()
            .attr("code"),
        Some("AE")
    );
    let detail = msg
        .path(HL7, &["acknowledgement", "acknowledgementDetail"])
        .unwrap();
    assert_eq!(detail.child(HL7, "code").unwrap().attr("code"), Some("204"));
    assert!(
        detail
            .child(HL7, "text")
            .unwrap()
            .text
            .contains("1.2.3 is not recognised")
    );
    assert_eq!(
        msg.path(HL7, &["controlActProcess", "queryAck", "queryResponseCode"])
            .unwrap()
            .attr("code"),
        Some("AE")
    );
}

#[test]
fn saml_assertion_is_read_into_typed_values() {
    let text = fixture("iti47-ipf/tutorial/PDQv3.xml");
    let env = wrap(&text, ITI55, "urn:uuid:r", SAML_HEADER);
    let req = parse_iti55(env.as_bytes(), CT_SOAP).unwrap();
    let saml = req.header.saml.unwrap();
    assert_eq!(saml.issuer.as_deref(), Some("CN=Epic Hospital, O=Example"));
    assert_eq!(saml.subject_name_id.as_deref(), Some("UID=dr.who"));
    assert_eq!(saml.subject_id.as_deref(), Some("Dr Jane Who"));
    assert_eq!(saml.organization.as_deref(), Some("Example Hospital"));
    assert_eq!(
        saml.organization_id.as_deref(),
        Some("urn:oid:1.2.840.114350.1.13.99998")
    );
    assert_eq!(
        saml.home_community_id.as_deref(),
        Some("urn:oid:1.2.840.114350.1.13.99998.8734")
    );
    let role = saml.role.clone().unwrap();
    assert_eq!(
        (role.code.as_str(), role.code_system.as_deref()),
        ("112247003", Some("2.16.840.1.113883.6.96"))
    );
    assert_eq!(
        saml.purpose_of_use.as_ref().unwrap().code,
        "TREATMENT",
        "Epic's PurposeForUse is read"
    );
    assert!(saml.is_valid_at(meta().now));
    assert!(!saml.is_valid_at(meta().now + chrono::Duration::minutes(5)));
    assert!(saml.raw.starts_with("<saml2:Assertion") && saml.raw.ends_with("</saml2:Assertion>"));
    // The standard element name works too.
    let env2 = env.replace("PurposeForUse", "PurposeOfUse");
    let req2 = parse_iti55(env2.as_bytes(), CT_SOAP).unwrap();
    assert_eq!(
        req2.header.saml.unwrap().purpose_of_use.unwrap().code,
        "TREATMENT"
    );
}

#[test]
fn schema_check_is_not_vacuous() {
    let text = fixture("iti47-ipf/tutorial/PDQv3.xml");
    let req = parse_iti55(wrap(&text, ITI55, "urn:uuid:r", "").as_bytes(), CT_SOAP).unwrap();
    let resp = build_iti55_response(
        &req,
        &PatientQueryOutcome::Match(vec![patient()]),
        &cfg(),
        meta(),
    );
    let body = body_child(&resp);
    // Swap two elements the schema orders: the validator must notice.
    let broken = body
        .replacen(
            "<statusCode code=\"active\"/><patientPerson",
            "<patientPerson",
            1,
        )
        .replacen(
            "</patientPerson>",
            "</patientPerson><statusCode code=\"active\"/>",
            1,
        );
    assert_ne!(broken, body);
    conformance::hl7v3_xsd(&broken).assert_invalid();
}

/// A birth time that is not an HL7 TS literal is answered with an AE naming the parameter;
/// the echo of the query must not carry the bad value into our (schema-checked) answer.
#[test]
fn error_answer_to_a_malformed_birth_time_stays_schema_valid() {
    let text = fixture("iti47-ipf/pdq-translation/PDQ_Maximal_Query.xml").replace(
        "<value value=\"19400101\"/>",
        "<value value=\"1940-01-01x\"/>",
    );
    for action in [ITI55, ITI47] {
        let env = wrap(&text, action, "urn:uuid:req-ts", "");
        let req = if action == ITI55 {
            parse_iti55(env.as_bytes(), CT_SOAP)
        } else {
            parse_iti47(env.as_bytes(), CT_SOAP)
        }
        .unwrap();
        let outcome = PatientQueryOutcome::Error(QueryErrorDetail::bad_parameter(
            "livingSubjectBirthTime",
            "the birth time is not an HL7 date",
        ));
        let build = if action == ITI55 {
            build_iti55_response
        } else {
            build_iti47_response
        };
        let body = body_child(&build(&req, &outcome, &cfg(), meta()));
        assert!(!body.contains("1940-01-01x"), "{body}");
        assert!(
            body.contains("livingSubjectName"),
            "the rest of the query is echoed"
        );
        conformance::hl7v3_xsd(&body).assert_ok();
    }
}

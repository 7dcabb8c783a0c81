//! Patient-safety matching over real HTTP (gateway + sandbox on loopback): demographics that
//! contradict the PDS record of the NHS number asked for are answered "no match"; queries
//! without an NHS number are answered through a PDS search, only for a single exact match.
//! Every answer is checked against PRPA_IN201306UV02.xsd.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn has_subject(text: &str) -> bool {
    text.contains("<subject ")
}

async fn ask(gw: &Gw, path: &str, d: &Demo<'_>) -> String {
    let mut req = discovery_request(d);
    if path.ends_with("iti47") {
        req = req.replace(
            "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery",
            "urn:hl7-org:v3:PRPA_IN201305UV02",
        );
    }
    let r = gw.post(path, CT_SOAP, req).await;
    let text = r.text();
    assert_eq!(r.status, 200, "{text}");
    check_hl7(&text);
    text
}

fn assert_no_match(text: &str, why: &str) {
    assert_eq!(ack_code(text), "AA", "{why}: {text}");
    assert_eq!(
        query_response_code(text).as_deref(),
        Some("NF"),
        "{why}: {text}"
    );
    assert!(!has_subject(text), "{why}: no subject on NF");
}

fn assert_match(text: &str, nhs: &str) {
    assert_eq!(ack_code(text), "AA", "{text}");
    assert_eq!(query_response_code(text).as_deref(), Some("OK"), "{text}");
    assert!(has_subject(text), "{text}");
    assert!(text.contains(&format!("extension=\"{nhs}\"")), "{text}");
}

async fn audit_codes(gw: &Gw, tx: &str) -> Vec<(String, Option<String>)> {
    let audit = &gw.running.state.flow.audit;
    audit.flush().await.unwrap();
    let mut rows: Vec<_> = audit
        .recent(500)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.transaction_name == tx)
        .collect();
    rows.reverse();
    rows.into_iter()
        .map(|r| (r.outcome, r.error_code))
        .collect()
}

const SAMUAL: Demo<'static> = Demo {
    ids: Vec::new(),
    family: Some("SAMUAL"),
    given: Some("Lucien"),
    birth: Some("19381211"),
    gender: Some("M"),
    postcode: Some("TS19 8JP"),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contradicting_demographics_are_no_match_for_each_field() {
    let gw = gateway(|_| {}).await;
    let id = vec![(NHS_OID, "9690937278")];
    // Everything agrees, written differently (case, accents, spacing, precision): a match.
    let same = Demo {
        ids: id.clone(),
        family: Some("Samual"),
        given: Some("LUCIÉN"),
        birth: Some("19381211"),
        postcode: Some("ts198jp"),
        ..SAMUAL
    };
    assert_match(&ask(&gw, "/SOAP/iti55", &same).await, "9690937278");
    let year_only = Demo {
        birth: Some("1938"),
        ..same.clone()
    };
    assert_match(&ask(&gw, "/SOAP/iti55", &year_only).await, "9690937278");

    let cases: [(&str, Demo); 5] = [
        (
            "mismatch_family_name",
            Demo {
                family: Some("SAMUELS"),
                ..same.clone()
            },
        ),
        (
            "mismatch_given_name",
            Demo {
                given: Some("Lucy"),
                ..same.clone()
            },
        ),
        (
            "mismatch_birth_date",
            Demo {
                birth: Some("19381212"),
                ..same.clone()
            },
        ),
        (
            "mismatch_gender",
            Demo {
                gender: Some("F"),
                ..same.clone()
            },
        ),
        (
            "mismatch_postcode",
            Demo {
                postcode: Some("TS19 8JQ"),
                ..same.clone()
            },
        ),
    ];
    for (code, demo) in &cases {
        let text = ask(&gw, "/SOAP/iti55", demo).await;
        assert_no_match(&text, code);
        assert!(
            !text.contains("SAMUAL"),
            "{code}: no PDS data in the answer"
        );
        // ITI-47 applies the same rule.
        assert_no_match(&ask(&gw, "/SOAP/iti47", demo).await, code);
    }
    let audited = audit_codes(&gw, "iti55").await;
    let expected: Vec<_> = cases.iter().map(|(c, _)| Some((*c).to_owned())).collect();
    let got: Vec<_> = audited
        .iter()
        .filter(|(o, _)| o == "no_match")
        .map(|(_, c)| c.clone())
        .collect();
    assert_eq!(
        got, expected,
        "one audit row per mismatch, naming the field"
    );

    // A restricted record with contradicting demographics does not even reveal that it is
    // restricted.
    let restricted = Demo {
        ids: vec![(NHS_OID, "9000000025")],
        family: Some("Smith"),
        ..Demo::default()
    };
    assert_no_match(&ask(&gw, "/SOAP/iti55", &restricted).await, "restricted");
    // An unusable birth time is a query error, not a guess.
    let bad = Demo {
        // (month 13: schema-valid TS syntax, impossible date)
        birth: Some("19381332"),
        ..same.clone()
    };
    let text = ask(&gw, "/SOAP/iti55", &bad).await;
    assert_eq!(ack_code(&text), "AE", "{text}");
    assert!(text.contains("livingSubjectBirthTime"), "{text}");
    gw.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demographic_queries_are_answered_through_pds_search() {
    let gw = gateway(|_| {}).await;
    // Unique: Diana DAWKIN; with the EHR's own MRN (another domain) as Epic sends it.
    let dawkin = Demo {
        ids: vec![("1.2.840.114350.1.13.99998.2.7.5.737384.14", "E1234")],
        family: Some("Dawkin"),
        given: Some("Diana"),
        birth: Some("19510417"),
        gender: Some("F"),
        postcode: Some("TS21 1DE"),
    };
    assert_match(&ask(&gw, "/SOAP/iti55", &dawkin).await, "9690937472");
    let minimal = Demo {
        ids: Vec::new(),
        family: Some("DAWKIN"),
        birth: Some("19510417"),
        ..Demo::default()
    };
    assert_match(&ask(&gw, "/SOAP/iti47", &minimal).await, "9690937472");
    // The patient found is cached: the ITI-38 that follows is answered.
    let r = gw.iti38("9690937472").await;
    assert!(unique_id(&r.text()).is_some(), "{}", r.text());

    // Several: eight sandbox patients share SAMUAL's demographics.
    let text = ask(&gw, "/SOAP/iti55", &SAMUAL).await;
    assert_no_match(&text, "several");
    assert!(text.contains("more_demographics_required"), "{text}");
    // Gender and postcode were given, so only the gateway's own detail applies.
    assert!(!text.contains("LivingSubjectAdministrativeGenderRequested"));
    let text = ask(
        &gw,
        "/SOAP/iti55",
        &Demo {
            family: Some("SKELLY"),
            birth: Some("19250421"),
            ..Demo::default()
        },
    )
    .await;
    assert_no_match(&text, "same man under two NHS numbers");
    for code in [
        "LivingSubjectAdministrativeGenderRequested",
        "PatientAddressRequested",
    ] {
        assert!(
            text.contains(&format!(
                "code=\"{code}\" codeSystem=\"1.3.6.1.4.1.19376.1.2.27.1\""
            )),
            "{code}: {text}"
        );
    }

    // None.
    let nobody = Demo {
        family: Some("Nobody"),
        birth: Some("19000101"),
        ..Demo::default()
    };
    assert_no_match(&ask(&gw, "/SOAP/iti55", &nobody).await, "none");

    // Restricted patients found by search are answered as by NHS number.
    let smythe = Demo {
        family: Some("Smythe"),
        given: Some("Janet"),
        birth: Some("20101022"),
        ..Demo::default()
    };
    let text = ask(&gw, "/SOAP/iti55", &smythe).await;
    assert_eq!(ack_code(&text), "AE", "{text}");
    assert!(text.contains("code=\"restricted\""), "{text}");

    // Below PDS's minimum (no birth date): the query error stays.
    let text = ask(
        &gw,
        "/SOAP/iti55",
        &Demo {
            family: Some("DAWKIN"),
            ..Demo::default()
        },
    )
    .await;
    assert_eq!(ack_code(&text), "AE", "{text}");
    assert!(text.contains("code=\"101\""), "{text}");

    let audited = audit_codes(&gw, "iti55").await;
    let codes: Vec<_> = audited.iter().filter_map(|(_, c)| c.as_deref()).collect();
    assert!(codes.contains(&"multiple_matches"), "{audited:?}");
    let pds = audit_codes(&gw, "pds_search").await;
    assert!(pds.iter().any(|(o, _)| o == "multiple_matches"), "{pds:?}");
    assert!(pds.iter().any(|(o, _)| o == "not_found"), "{pds:?}");
    gw.running.shutdown().await;
}

#[tokio::test]
async fn get_documents_by_entry_uuid_returns_the_entry_we_gave() {
    let gw = gateway(|_| {}).await;
    let text = gw.iti38("9690937278").await.text();
    let uid = unique_id(&text).unwrap();
    let at = text.find("ExtrinsicObject").unwrap();
    let rest = &text[at..];
    let id_at = rest.find(" id=\"").unwrap() + 5;
    let entry_uuid = &rest[id_at..id_at + rest[id_at..].find('"').unwrap()];
    assert!(entry_uuid.starts_with("urn:uuid:"), "{entry_uuid}");

    let query = |uuid: &str| {
        let body = format!(
            r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
  <rim:AdhocQuery id="urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4" home="urn:oid:{home}">
    <rim:Slot name="$XDSDocumentEntryEntryUUID"><rim:ValueList><rim:Value>('{uuid}')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"#,
            home = gw.home()
        );
        envelope("urn:ihe:iti:2007:CrossGatewayQuery", &body)
    };
    let r = gw.post("/SOAP/iti38", CT_SOAP, query(entry_uuid)).await;
    let text = r.text();
    check_ebxml(&text);
    assert!(text.contains(&format!("id=\"{entry_uuid}\"")), "{text}");
    assert_eq!(unique_id(&text).as_deref(), Some(uid.as_str()));
    // An unknown entryUUID: an empty success.
    let r = gw
        .post(
            "/SOAP/iti38",
            CT_SOAP,
            query("urn:uuid:00000000-0000-4000-8000-000000000000"),
        )
        .await;
    let text = r.text();
    check_ebxml(&text);
    assert!(!text.contains("ExtrinsicObject"), "{text}");
    assert!(text.contains("ResponseStatusType:Success"), "{text}");
    gw.running.shutdown().await;
}

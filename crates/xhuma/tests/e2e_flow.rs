//! ITI-55 → ITI-38 → ITI-39 over real HTTP for every sandbox patient with a full record,
//! every response validated against ../shared/schemas and every retrieved document against
//! the CDA XSD and the C-CDA R2.1 Schematron.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_full_record_patient_round_trips_with_valid_messages() {
    let gw = gateway(|_| {}).await;
    let patients: Vec<_> = gw
        .sandbox()
        .patients()
        .into_iter()
        .filter(|p| p.scenario == "full record")
        .collect();
    assert!(
        patients.len() >= 5,
        "sandbox has {} full records",
        patients.len()
    );
    for p in &patients {
        let nhs = &p.nhs_number;
        // ITI-55
        let r = gw.iti55(nhs).await;
        let text = r.text();
        assert_eq!(r.status, 200, "{nhs}: {text}");
        assert!(
            r.content_type.starts_with("application/soap+xml"),
            "{}",
            r.content_type
        );
        assert_eq!(ack_code(&text), "AA", "{nhs}: {text}");
        assert_eq!(query_response_code(&text).as_deref(), Some("OK"), "{nhs}");
        assert!(text.contains(&format!("extension=\"{nhs}\"")), "{nhs}");
        check_hl7(&text);

        // ITI-38
        let r = gw.iti38(nhs).await;
        let text = r.text();
        assert_eq!(r.status, 200, "{nhs}: {text}");
        assert!(
            text.contains("urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"),
            "{nhs}: {text}"
        );
        assert!(
            text.contains("urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"),
            "On-Demand"
        );
        check_ebxml(&text);
        let uid = unique_id(&text).unwrap();

        // ITI-39
        let r = gw.iti39(&uid).await;
        let text = r.text();
        assert_eq!(r.status, 200, "{nhs}: {text}");
        check_ebxml(&text);
        let doc = retrieved_document(&r).unwrap();
        assert!(
            doc.contains(nhs.as_str()),
            "{nhs}: the document is about the patient"
        );
        conformance::cda_xsd(&doc).assert_ok();
        conformance::ccda_schematron(&doc).assert_ok();
    }
    gw.running.shutdown().await;
}

#[tokio::test]
async fn iti47_answers_with_a_valid_pdq_response() {
    let gw = gateway(|_| {}).await;
    let r = gw
        .post("/SOAP/iti47", CT_SOAP, iti47_request("9690937278"))
        .await;
    let text = r.text();
    assert_eq!(r.status, 200, "{text}");
    assert!(
        text.contains("urn:hl7-org:v3:PRPA_IN201306UV02<"),
        "response action: {text}"
    );
    assert_eq!(ack_code(&text), "AA");
    check_hl7(&text);
    gw.running.shutdown().await;
}

#[tokio::test]
async fn mtom_retrieve_gets_an_mtom_answer_with_the_same_document() {
    let gw = gateway(|_| {}).await;
    let uid = unique_id(&gw.iti38("9690937278").await.text()).unwrap();
    let soap = iti39_request(&gw.home(), &gw.repo(), &uid);
    let boundary = "MIMEBoundary_e2e";
    let body = format!(
        "--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n\
         Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@xhuma.test>\r\n\r\n{soap}\r\n--{boundary}--\r\n"
    );
    let ct = format!(
        "multipart/related; boundary={boundary}; type=\"application/xop+xml\"; \
         start=\"<root.message@xhuma.test>\"; start-info=\"application/soap+xml\""
    );
    let r = gw.post("/SOAP/iti39", &ct, body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.content_type.starts_with("multipart/related"),
        "{}",
        r.content_type
    );
    let doc = retrieved_document(&r).unwrap();
    conformance::cda_xsd(&doc).assert_ok();
    gw.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_queries_for_one_patient_make_one_gp_connect_call() {
    let gw = std::sync::Arc::new(gateway(|_| {}).await);
    let before = gw.sandbox().stats().gpconnect_requests;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move { gw.iti38("9690937286").await }));
    }
    let mut uids = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200);
        uids.insert(unique_id(&r.text()).unwrap());
    }
    assert_eq!(gw.sandbox().stats().gpconnect_requests - before, 1);
    assert_eq!(uids.len(), 1, "every caller got the same document");
    // A later query is answered from the document cache.
    let r = gw.iti38("9690937286").await;
    assert_eq!(unique_id(&r.text()), uids.into_iter().next());
    assert_eq!(gw.sandbox().stats().gpconnect_requests - before, 1);
}

#[tokio::test]
async fn audit_trail_records_transactions_and_upstream_calls_without_nhs_numbers() {
    let gw = gateway(|_| {}).await;
    let nhs = "9690937278";
    gw.iti55(nhs).await;
    let uid = unique_id(&gw.iti38(nhs).await.text()).unwrap();
    gw.iti39(&uid).await;
    let audit = &gw.running.state.flow.audit;
    audit.flush().await.unwrap();
    let rows = audit.recent(100).await.unwrap();
    let names: Vec<_> = rows.iter().map(|r| r.transaction_name.as_str()).collect();
    for t in ["iti55", "pds", "sds", "gpconnect", "iti38", "iti39"] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }
    let pseud = gw
        .running
        .state
        .flow
        .pseudonym(&nhs_number::NhsNumber::parse(nhs).unwrap());
    for r in &rows {
        let all = format!("{r:?}");
        assert!(!all.contains(nhs), "NHS number in audit row {all}");
    }
    let iti38 = rows.iter().find(|r| r.transaction_name == "iti38").unwrap();
    assert_eq!(iti38.outcome, "success");
    assert_eq!(iti38.patient_pseudonym.as_deref(), Some(pseud.as_str()));
    assert_eq!(iti38.document_id.as_deref(), Some(uid.as_str()));
    assert!(
        iti38
            .message_id
            .as_deref()
            .unwrap()
            .starts_with("urn:uuid:")
    );
    assert_eq!(iti38.client_addr.as_deref(), Some("127.0.0.1"));
    let gpc = rows
        .iter()
        .find(|r| r.transaction_name == "gpconnect")
        .unwrap();
    assert!(gpc.trace_id.is_some(), "GP Connect trace id recorded");

    // Metrics cover requests, cache and conversion.
    let m = gw.get("/metrics").await.text();
    assert!(
        m.contains("xhuma_requests_total{transaction=\"iti38\",outcome=\"success\"}"),
        "{m}"
    );
    assert!(m.contains("xhuma_cache_requests_total"), "{m}");
    assert!(m.contains("xhuma_conversion_duration_seconds"), "{m}");
    assert!(m.contains("xhuma_document_size_bytes"), "{m}");
    assert!(!m.contains(nhs));
    gw.running.shutdown().await;
}

#[tokio::test]
async fn preview_shows_the_record_as_html() {
    let gw = gateway(|_| {}).await;
    let r = gw.get("/preview/9690937278").await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/html"));
    let html = r.text();
    assert!(html.contains("<h2>"), "{html}");
    let r = gw.get("/preview/12345").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/problem+json");
    gw.running.shutdown().await;
    // Disabled: not found, and nothing is fetched.
    let gw = gateway(|c| c.preview.enabled = Some(false)).await;
    assert_eq!(gw.get("/preview/9690937278").await.status, 404);
    assert_eq!(gw.sandbox().stats().gpconnect_requests, 0);
    gw.running.shutdown().await;
}

#[tokio::test]
async fn operations_endpoints_and_docs_are_served_from_the_binary() {
    let gw = gateway(|_| {}).await;
    assert_eq!(gw.get("/health/live").await.status, 200);
    let ready = gw.get("/health/ready").await;
    assert_eq!(ready.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["checks"]["cache:memory"]["status"], "ok");
    assert_eq!(v["checks"]["audit:sqlite"]["status"], "ok");
    let spec: serde_json::Value =
        serde_json::from_slice(&gw.get("/api-docs/openapi.json").await.body).unwrap();
    assert!(spec["paths"]["/preview/{nhs_number}"].is_object(), "{spec}");
    assert!(spec["paths"]["/health/ready"].is_object());
    assert_eq!(gw.get("/docs/").await.status, 200);
    let redoc = gw.get("/redoc").await.text();
    assert!(redoc.contains("/redoc/redoc.standalone.js"));
    assert!(
        !redoc.contains("https://"),
        "nothing fetched from the internet"
    );
    let js = gw.get("/redoc/redoc.standalone.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.len() > 500_000);
    // Our PDS signing key's public half, for the NHS API platform to fetch.
    let jwks: serde_json::Value =
        serde_json::from_slice(&gw.get("/.well-known/jwks.json").await.body).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS512");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{jwks}");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            key.get(private).is_none(),
            "private parameter {private} served"
        );
    }
    assert!(spec["paths"]["/.well-known/jwks.json"].is_object());
    let nf = gw.get("/nope").await;
    assert_eq!(nf.status, 404);
    assert_eq!(nf.content_type, "application/problem+json");
    gw.running.shutdown().await;
}

/// An XUA assertion (copied from the ihe-messaging tests; its validity window is in the past,
/// which is accepted here because sandbox mode does not require SAML).
const SAML_HEADER: &str = r#"<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="true">
  <saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="2025-03-14T15:00:00Z" Version="2.0">
    <saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">CN=Epic Hospital, O=Example</saml2:Issuer>
    <saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">UID=dr.who</saml2:NameID></saml2:Subject>
    <saml2:Conditions NotBefore="2025-03-14T14:55:00Z" NotOnOrAfter="2025-03-14T15:10:00.000Z"/>
    <saml2:AttributeStatement>
      <saml2:Attribute Name="urn:oasis:names:tc:xacml:1.0:subject:subject-id"><saml2:AttributeValue>Dr Jane Who</saml2:AttributeValue></saml2:Attribute>
      <saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:organization"><saml2:AttributeValue>Example Hospital</saml2:AttributeValue></saml2:Attribute>
      <saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:organization-id"><saml2:AttributeValue>urn:oid:1.2.840.114350.1.13.99998</saml2:AttributeValue></saml2:Attribute>
      <saml2:Attribute Name="urn:nhin:names:saml:homeCommunityId"><saml2:AttributeValue>urn:oid:1.2.840.114350.1.13.99998.8734</saml2:AttributeValue></saml2:Attribute>
      <saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role"><saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CE" code="112247003" codeSystem="2.16.840.1.113883.6.96" codeSystemName="SNOMED_CT" displayName="Medical doctor"/></saml2:AttributeValue></saml2:Attribute>
      <saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"><saml2:AttributeValue><PurposeForUse xmlns="urn:hl7-org:v3" code="TREATMENT" codeSystem="2.16.840.1.113883.3.18.7.1" displayName="Treatment"/></saml2:AttributeValue></saml2:Attribute>
    </saml2:AttributeStatement>
  </saml2:Assertion>
</wsse:Security>"#;

#[tokio::test]
async fn saml_identity_is_audited_for_transactions() {
    let gw = gateway(|_| {}).await;
    let req = iti38_request("9690937278")
        .replace("</soap:Header>", &format!("{SAML_HEADER}</soap:Header>"));
    let r = gw.post("/SOAP/iti38", CT_SOAP, req).await;
    assert!(unique_id(&r.text()).is_some(), "{}", r.text());
    // The early answer for an invalid NHS number records who asked, too.
    let req = iti38_request("9690937279")
        .replace("</soap:Header>", &format!("{SAML_HEADER}</soap:Header>"));
    let r = gw.post("/SOAP/iti38", CT_SOAP, req).await;
    assert!(r.text().contains("XDSUnknownPatientId"), "{}", r.text());
    let audit = &gw.running.state.flow.audit;
    audit.flush().await.unwrap();
    let rows = audit.recent(50).await.unwrap();
    let unknown = rows
        .iter()
        .find(|r| r.transaction_name == "iti38" && r.outcome == "unknown_patient")
        .unwrap();
    for (name, row) in [
        (
            "iti38",
            rows.iter()
                .find(|r| r.transaction_name == "iti38" && r.outcome == "success"),
        ),
        (
            "gpconnect",
            rows.iter().find(|r| r.transaction_name == "gpconnect"),
        ),
        ("iti38 unknown patient", Some(unknown)),
    ] {
        let row = row.unwrap_or_else(|| panic!("{name}"));
        assert_eq!(row.user_id.as_deref(), Some("Dr Jane Who"), "{row:?}");
        assert_eq!(row.user_role.as_deref(), Some("Medical doctor"), "{row:?}");
        assert_eq!(row.purpose_of_use.as_deref(), Some("TREATMENT"), "{row:?}");
        assert!(
            row.organisation
                .as_deref()
                .unwrap()
                .contains("Example Hospital"),
            "{row:?}"
        );
    }
    gw.running.shutdown().await;
}

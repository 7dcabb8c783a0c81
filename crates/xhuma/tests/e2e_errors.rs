//! Each unhappy path over real HTTP gets the right IHE answer: HL7 acknowledgement details
//! for ITI-55, ebXML registry errors for ITI-38/39, SOAP Faults for envelope problems, never a
//! misleading success and never a JSON error on a SOAP route.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

const FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";

fn assert_fault(r: &Reply, status: u16, code: &str) {
    let text = r.text();
    assert_eq!(r.status, status, "{text}");
    assert!(
        r.content_type.starts_with("application/soap+xml"),
        "{}",
        r.content_type
    );
    assert!(text.contains("Fault>"), "{text}");
    assert!(text.contains(&format!("env:{code}<")), "{code} in {text}");
    conformance::well_formed(&text).assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_conditions_become_the_right_ihe_answers() {
    let gw = gateway(|_| {}).await;
    // (NHS number, expected ITI-55 ack/queryResponseCode, expected ITI-38 errorCode + text)
    let cases = [
        ("9000000025", "AE", "XDSRegistryError", "restricted"),
        ("9000000009", "AE", "XDSRegistryError", "deceased"),
        (
            "9000000041",
            "NF",
            "XDSUnknownPatientId",
            "not known to PDS",
        ),
        ("9000000084", "OK", "XDSRegistryError", "dissented"),
        ("9000000149", "OK", "XDSRegistryError", "denied access"),
        (
            "9000000122",
            "OK",
            "XDSUnavailableCommunity",
            "GP Connect is unavailable",
        ),
    ];
    for (nhs, qr, xds, text_part) in cases {
        let r = gw.iti55(nhs).await;
        let text = r.text();
        assert_eq!(r.status, 200, "{nhs}: {text}");
        check_hl7(&text);
        match qr {
            "AE" => {
                assert_eq!(ack_code(&text), "AE", "{nhs}: {text}");
                assert_eq!(query_response_code(&text).as_deref(), Some("AE"), "{nhs}");
                assert!(
                    !text.contains(&format!("extension=\"{nhs}\"/><statusCode")),
                    "no match given"
                );
            }
            other => assert_eq!(
                query_response_code(&text).as_deref(),
                Some(other),
                "{nhs}: {text}"
            ),
        }

        let r = gw.iti38(nhs).await;
        let text = r.text();
        assert_eq!(r.status, 200, "{nhs}: {text}");
        check_ebxml(&text);
        assert!(text.contains(FAILURE), "{nhs}: {text}");
        assert!(
            text.contains(&format!("errorCode=\"{xds}\"")),
            "{nhs}: {text}"
        );
        assert!(text.contains(text_part), "{nhs}: {text}");
        assert!(
            !text.contains("ExtrinsicObject"),
            "{nhs}: no entry on failure"
        );
        assert!(!text.contains(nhs), "{nhs}: no NHS number in error texts");
    }
    gw.running.shutdown().await;
}

#[tokio::test]
async fn bad_identifiers_are_query_errors() {
    let gw = gateway(|_| {}).await;
    // Fails the modulus 11 check.
    let r = gw.iti55("9690937279").await;
    let text = r.text();
    assert_eq!(ack_code(&text), "AE", "{text}");
    check_hl7(&text);
    // Another assigning authority.
    // (by identifier alone: with demographics the gateway would search PDS instead)
    let other = iti55_request("9000000041").replace(NHS_OID, "1.2.3.4.5");
    let r = gw.post("/SOAP/iti55", CT_SOAP, other).await;
    let text = r.text();
    assert_eq!(ack_code(&text), "AE", "{text}");
    assert!(text.contains("code=\"204\""), "{text}");
    check_hl7(&text);
    // ITI-38 with an invalid NHS number.
    let r = gw.iti38("9690937279").await;
    let text = r.text();
    assert!(text.contains("XDSUnknownPatientId"), "{text}");
    check_ebxml(&text);
    // ITI-39 for a document we never produced; and one for another repository.
    let r = gw.iti39("2.25.12345").await;
    let text = r.text();
    assert!(text.contains("XDSDocumentUniqueIdError"), "{text}");
    assert!(text.contains(FAILURE), "{text}");
    check_ebxml(&text);
    let body = iti39_request(&gw.home(), "1.2.3.999", "2.25.1");
    let text = gw.post("/SOAP/iti39", CT_SOAP, body).await.text();
    assert!(text.contains("XDSUnknownRepositoryId"), "{text}");
    check_ebxml(&text);
    gw.running.shutdown().await;
}

#[tokio::test]
async fn envelope_problems_are_soap_faults() {
    let gw = gateway(|c| c.limits.max_body_bytes = 16 * 1024).await;
    // Wrong content type.
    let r = gw.post("/SOAP/iti55", "application/json", "{}").await;
    assert_fault(&r, 400, "Sender");
    // Oversized body.
    let big = iti55_request("9690937278").replace(
        "</soap:Header>",
        &format!(
            "<x:Pad xmlns:x=\"urn:pad\">{}</x:Pad></soap:Header>",
            "a".repeat(20_000)
        ),
    );
    let r = gw.post("/SOAP/iti55", CT_SOAP, big.clone()).await;
    assert_fault(&r, 413, "Sender");
    assert!(r.text().contains("byte limit"));
    let r = gw.post("/SOAP/iti38", CT_SOAP, big).await;
    assert_fault(&r, 413, "Sender");
    // SOAP 1.1.
    let soap11 = iti55_request("9690937278").replace(
        "http://www.w3.org/2003/05/soap-envelope",
        "http://schemas.xmlsoap.org/soap/envelope/",
    );
    let r = gw
        .post("/SOAP/iti55", "text/xml; charset=UTF-8", soap11)
        .await;
    assert_fault(&r, 500, "VersionMismatch");
    // Wrong action for the endpoint.
    let r = gw
        .post("/SOAP/iti38", CT_SOAP, iti55_request("9690937278"))
        .await;
    assert_fault(&r, 400, "Sender");
    // Not XML.
    let r = gw.post("/SOAP/iti39", CT_SOAP, "not xml").await;
    assert_fault(&r, 400, "Sender");
    // A non-anonymous ReplyTo is refused: nothing is ever sent to a request's address.
    let reply_to = iti38_request("9690937278").replace(
        "http://www.w3.org/2005/08/addressing/anonymous",
        "http://127.0.0.1:1/callback",
    );
    let r = gw.post("/SOAP/iti38", CT_SOAP, reply_to).await;
    assert!(r.status >= 400, "{}", r.text());
    assert!(r.text().contains("Fault>"));
    gw.running.shutdown().await;
}

#[tokio::test]
async fn slow_upstream_hits_the_time_limit_with_a_soap_fault() {
    let gw = gateway(|c| c.limits.request_timeout_ms = 500).await;
    // The "slow GP Connect" sandbox patient answers after 5 s.
    let started = std::time::Instant::now();
    let r = gw.iti38("9000000114").await;
    assert_fault(&r, 504, "Receiver");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    gw.running.shutdown().await;
}

#[tokio::test]
async fn clients_over_the_rate_limit_get_a_soap_fault_on_soap_routes() {
    let gw = gateway(|c| {
        c.limits.rate_per_second = 1;
        c.limits.rate_burst = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(gw.iti55("9690937278").await);
    }
    let limited = statuses
        .iter()
        .find(|r| r.status == 429)
        .expect("rate limited");
    assert_fault(limited, 429, "Receiver");
    let r = gw.get("/metrics").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.content_type, "application/problem+json");
    // Liveness is exempt from the limit.
    assert_eq!(gw.get("/health/live").await.status, 200);
    gw.running.shutdown().await;
}

#[tokio::test]
async fn saml_required_without_trust_anchors_does_not_start() {
    // Requests without an assertion under required SAML are refused in e2e_saml.rs (with a
    // trust anchor); without any anchor the gateway must not start at all.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = xhuma::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..xhuma::config::Config::default()
    };
    cfg.gateway.require_saml = Some(true);
    let e = match xhuma::server::start(cfg).await {
        Ok(running) => {
            running.shutdown().await;
            panic!("a gateway requiring SAML without trust anchors started");
        }
        Err(e) => e.to_string(),
    };
    assert!(e.contains("saml.trust_anchors"), "{e}");
}

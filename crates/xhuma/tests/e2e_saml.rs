//! XUA over real HTTP: the gateway (sandbox Spine in process) configured with a trust anchor
//! generated here, and ITI-38 / ITI-55 requests carrying assertions signed by its key, by
//! another key, tampered, expired, incomplete or wrapped.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../ihe-messaging/tests/common/saml_sign.rs"]
mod saml_sign;

use chrono::{Duration, Utc};
use common::*;
use saml_sign::{Idp, Spec};
use xhuma::config::Config;

/// A gateway that requires SAML and trusts `idp`; the tempdir holds the anchor file.
async fn gateway_trusting(idp: &Idp, require: bool) -> (Gw, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("idp.pem");
    std::fs::write(&pem, &idp.cert_pem).unwrap();
    let gw = gateway(|c| {
        c.gateway.require_saml = Some(require);
        c.saml.trust_anchors = vec![pem.clone()];
    })
    .await;
    (gw, dir)
}

fn with_assertion(request: &str, assertion: &str) -> String {
    request.replace(
        "</soap:Header>",
        &format!(
            "{}</soap:Header>",
            saml_sign::security_header("soap", assertion)
        ),
    )
}

fn assert_wsse_fault(r: &Reply, subcode: &str) {
    let text = r.text();
    assert_eq!(r.status, 400, "{text}");
    assert!(r.content_type.starts_with("application/soap+xml"));
    assert!(text.contains("env:Sender<"), "{text}");
    assert!(text.contains(&format!(">wsse:{subcode}<")), "{text}");
    conformance::well_formed(&text).assert_ok();
}

#[tokio::test]
async fn a_signed_assertion_is_served_and_audited() {
    let idp = Idp::new("epic");
    let (gw, _anchors) = gateway_trusting(&idp, true).await;
    let signed = idp.sign(&saml_sign::template(&Spec::default()));
    let r = gw
        .post(
            "/SOAP/iti38",
            CT_SOAP,
            with_assertion(&iti38_request("9690937278"), &signed),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(unique_id(&r.text()).is_some(), "{}", r.text());
    let audit = &gw.running.state.flow.audit;
    audit.flush().await.unwrap();
    let rows = audit.recent(20).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.transaction_name == "iti38" && r.outcome == "success")
        .unwrap();
    assert_eq!(row.user_id.as_deref(), Some("Dr Jane Who"), "{row:?}");
    assert_eq!(row.purpose_of_use.as_deref(), Some("TREATMENT"), "{row:?}");
    gw.running.shutdown().await;
}

#[tokio::test]
async fn bad_assertions_are_refused_before_anything_is_fetched() {
    let idp = Idp::new("epic");
    let other = Idp::new("intruder");
    let (gw, _anchors) = gateway_trusting(&idp, true).await;
    let now = Utc::now();
    let good = idp.sign(&saml_sign::template(&Spec::default()));
    let unsigned_evil = saml_sign::template(&Spec {
        id: "_evil".into(),
        name_id: Some("UID=admin".into()),
        unsigned: true,
        ..Spec::default()
    });
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no assertion", None, "InvalidSecurity"),
        (
            "tampered attribute",
            Some(good.replace("Dr Jane Who", "Dr Evil")),
            "FailedAuthentication",
        ),
        (
            "untrusted key",
            Some(other.sign(&saml_sign::template(&Spec::default()))),
            "FailedAuthentication",
        ),
        (
            "unsigned",
            Some(saml_sign::template(&Spec {
                unsigned: true,
                ..Spec::default()
            })),
            "FailedAuthentication",
        ),
        (
            "expired",
            Some(idp.sign(&saml_sign::template(&Spec {
                conditions: Some((now - Duration::hours(2), now - Duration::hours(1))),
                issue_instant: now - Duration::hours(2),
                ..Spec::default()
            }))),
            "InvalidSecurity",
        ),
        (
            "no issuer",
            Some(idp.sign(&saml_sign::template(&Spec {
                issuer: None,
                ..Spec::default()
            }))),
            "InvalidSecurity",
        ),
        (
            "no subject",
            Some(idp.sign(&saml_sign::template(&Spec {
                name_id: None,
                ..Spec::default()
            }))),
            "InvalidSecurity",
        ),
        (
            "no conditions",
            Some(idp.sign(&saml_sign::template(&Spec {
                conditions: None,
                ..Spec::default()
            }))),
            "InvalidSecurity",
        ),
        (
            "wrapped: unsigned assertion before the signed one",
            Some(format!("{unsigned_evil}{good}")),
            "FailedAuthentication",
        ),
    ];
    for (name, assertion, subcode) in cases {
        let req = match &assertion {
            Some(a) => with_assertion(&iti38_request("9690937278"), a),
            None => iti38_request("9690937278"),
        };
        let r = gw.post("/SOAP/iti38", CT_SOAP, req).await;
        assert_wsse_fault(&r, subcode);
        assert!(!r.text().contains("Dr Evil"), "{name}");
        // ITI-55 goes through the same check.
        let req = match &assertion {
            Some(a) => with_assertion(&iti55_request("9690937278"), a),
            None => iti55_request("9690937278"),
        };
        assert_wsse_fault(&gw.post("/SOAP/iti55", CT_SOAP, req).await, subcode);
    }
    let stats = gw.sandbox().stats();
    assert_eq!(
        stats.pds_requests, 0,
        "nothing fetched for a refused caller"
    );
    gw.running.shutdown().await;
}

#[tokio::test]
async fn optional_saml_with_trust_anchors_still_verifies_what_is_sent() {
    let idp = Idp::new("epic");
    let (gw, _anchors) = gateway_trusting(&idp, false).await;
    // No assertion: served (SAML is optional here).
    let r = gw.iti38("9690937278").await;
    assert!(unique_id(&r.text()).is_some(), "{}", r.text());
    // An assertion that is sent must verify.
    let forged = saml_sign::template(&Spec {
        unsigned: true,
        ..Spec::default()
    });
    let r = gw
        .post(
            "/SOAP/iti38",
            CT_SOAP,
            with_assertion(&iti38_request("9690937278"), &forged),
        )
        .await;
    assert_wsse_fault(&r, "FailedAuthentication");
    gw.running.shutdown().await;
}

#[tokio::test]
async fn required_saml_without_trust_anchors_does_not_start() {
    // `server::start` validates the configuration, so a gateway that requires SAML cannot run
    // without anchors (the verifier also fails closed, for code that builds one directly).
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
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

#[test]
fn configuration_requires_trust_anchors_when_saml_is_required() {
    let mut cfg = Config {
        spine: None,
        ..Config::default()
    };
    cfg.gateway.require_saml = Some(true);
    let e = cfg.validate().unwrap_err().to_string();
    assert!(e.contains("saml.trust_anchors"), "{e}");
    cfg.saml.trust_anchors = vec!["/nonexistent/idp.pem".into()];
    cfg.validate().unwrap();
    // Loading them is what fails (the binary stops there, exit code 2).
    let e = xhuma::xua::Xua::from_config(&cfg)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("/nonexistent/idp.pem"), "{e}");
    cfg.saml.signature_algorithms = vec!["hmac-sha256".into()];
    assert!(cfg.validate().is_err());
    // The embedded sandbox default needs none.
    Config::default().validate().unwrap();
}

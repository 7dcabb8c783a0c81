//! XUA assertion verification: assertions signed in the test by a key it generates, carried in
//! an ITI-38 envelope, parsed by the real envelope parser and judged by `SamlVerifier`.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::saml_sign::{self, Idp, Spec};
use common::*;
use ihe_messaging::saml::{
    SamlRejection, SamlVerifier, SignatureAlgorithm, TrustAnchorError, VerifierConfig, WsseFault,
};
use ihe_messaging::{SamlAssertion, parse_iti38};

const ITI38: &str = "urn:ihe:iti:2007:CrossGatewayQuery";

fn find_documents() -> String {
    format!(
        r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d" home="urn:oid:{}">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'9692136744^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"#,
        cfg().home_community_id
    )
}

/// The assertion as the gateway sees it: `security` is the whole `wsse:Security` header.
fn parsed(security: &str) -> SamlAssertion {
    let env = wrap(&find_documents(), ITI38, "urn:uuid:q-1", security);
    parse_iti38(env.as_bytes(), CT_SOAP)
        .unwrap()
        .header
        .saml
        .unwrap()
}

fn signed(idp: &Idp, spec: &Spec) -> SamlAssertion {
    let a = idp.sign(&saml_sign::template(spec));
    parsed(&saml_sign::security_header("S", &a))
}

fn verifier(trusted: &[&Idp]) -> SamlVerifier {
    SamlVerifier::new(VerifierConfig {
        trust_anchors_pem: trusted
            .iter()
            .map(|i| i.cert_pem.clone().into_bytes())
            .collect(),
        ..VerifierConfig::default()
    })
    .unwrap()
}

fn rejection(v: &SamlVerifier, a: &SamlAssertion) -> SamlRejection {
    v.verify(a, Utc::now()).unwrap_err()
}

#[test]
fn a_signed_complete_current_assertion_is_accepted_and_read() {
    let idp = Idp::new("idp");
    let a = signed(&idp, &Spec::default());
    verifier(&[&idp]).verify(&a, Utc::now()).unwrap();
    assert!(a.signed);
    assert_eq!(a.issuer.as_deref(), Some("CN=Epic Hospital, O=Example"));
    assert_eq!(a.subject_name_id.as_deref(), Some("UID=dr.who"));
    // Epic's `PurposeForUse` element name is still read.
    assert_eq!(a.purpose_of_use.unwrap().code, "TREATMENT");
    assert_eq!(a.role.unwrap().code, "112247003");
}

#[test]
fn one_of_several_trust_anchors_is_enough() {
    let (a_idp, b_idp) = (Idp::new("a"), Idp::new("b"));
    let both = format!("{}\n{}", a_idp.cert_pem, b_idp.cert_pem);
    let v = SamlVerifier::new(VerifierConfig {
        trust_anchors_pem: vec![both.into_bytes()],
        ..VerifierConfig::default()
    })
    .unwrap();
    v.verify(&signed(&b_idp, &Spec::default()), Utc::now())
        .unwrap();
}

#[test]
fn namespaces_declared_on_the_envelope_still_verify() {
    // Signed in place: the saml2/ds prefixes are declared on the Envelope, not the assertion.
    let idp = Idp::new("idp");
    let spec = Spec {
        declare_namespaces: false,
        ..Spec::default()
    };
    let header = saml_sign::security_header("S", &saml_sign::template(&spec));
    let env = wrap(&find_documents(), ITI38, "urn:uuid:q-1", &header).replace(
        "<S:Envelope ",
        &format!(
            r#"<S:Envelope xmlns:saml2="{}" xmlns:ds="{}" "#,
            saml_sign::SAML2,
            saml_sign::DS
        ),
    );
    let env = idp.sign(&env);
    let a = parse_iti38(env.as_bytes(), CT_SOAP)
        .unwrap()
        .header
        .saml
        .unwrap();
    assert!(
        a.raw.starts_with("<saml2:Assertion xmlns:saml2="),
        "{}",
        a.raw
    );
    assert!(
        a.raw
            .contains(r#" xmlns:S="http://www.w3.org/2003/05/soap-envelope""#)
    );
    verifier(&[&idp]).verify(&a, Utc::now()).unwrap();
}

#[test]
fn a_tampered_attribute_is_refused() {
    let idp = Idp::new("idp");
    let good = idp.sign(&saml_sign::template(&Spec::default()));
    for (from, to) in [
        ("Dr Jane Who", "Dr Evil"),
        ("code=\"TREATMENT\"", "code=\"PUBLICHEALTH\""),
        ("UID=dr.who", "UID=admin"),
    ] {
        assert!(good.contains(from));
        let a = parsed(&saml_sign::security_header("S", &good.replace(from, to)));
        let r = rejection(&verifier(&[&idp]), &a);
        assert!(matches!(r, SamlRejection::BadSignature(_)), "{from}: {r:?}");
        assert_eq!(r.wsse_fault(), WsseFault::FailedAuthentication);
    }
}

#[test]
fn a_tampered_validity_window_is_refused() {
    let idp = Idp::new("idp");
    let spec = Spec::default();
    let good = idp.sign(&saml_sign::template(&spec));
    let (_, end) = spec.conditions.unwrap();
    let old = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = (end + Duration::days(365)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let a = parsed(&saml_sign::security_header(
        "S",
        &good.replace(&old, &later),
    ));
    assert!(matches!(
        rejection(&verifier(&[&idp]), &a),
        SamlRejection::BadSignature(_)
    ));
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused() {
    let (trusted, other) = (Idp::new("trusted"), Idp::new("other"));
    let a = signed(&other, &Spec::default());
    let r = rejection(&verifier(&[&trusted]), &a);
    assert!(matches!(r, SamlRejection::BadSignature(_)), "{r:?}");
    assert_eq!(r.wsse_fault(), WsseFault::FailedAuthentication);
}

#[test]
fn an_inline_certificate_does_not_make_a_key_trusted() {
    // The attacker signs with their own key and ships their certificate in KeyInfo.
    let (trusted, attacker) = (Idp::new("trusted"), Idp::new("attacker"));
    let b64: String = attacker
        .cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let template = saml_sign::template(&Spec::default()).replace(
        "</ds:SignatureValue>",
        &format!(
            "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        ),
    );
    let a = parsed(&saml_sign::security_header("S", &attacker.sign(&template)));
    assert!(a.raw.contains("X509Certificate"));
    assert!(matches!(
        rejection(&verifier(&[&trusted]), &a),
        SamlRejection::BadSignature(_)
    ));
}

#[test]
fn expired_and_future_assertions_are_refused_within_the_skew() {
    let idp = Idp::new("idp");
    let now = Utc::now();
    let expired = signed(
        &idp,
        &Spec {
            conditions: Some((now - Duration::hours(2), now - Duration::hours(1))),
            issue_instant: now - Duration::hours(2),
            ..Spec::default()
        },
    );
    let r = rejection(&verifier(&[&idp]), &expired);
    assert_eq!(r, SamlRejection::Expired);
    assert_eq!(r.wsse_fault(), WsseFault::InvalidSecurity);

    let future = signed(
        &idp,
        &Spec {
            conditions: Some((now + Duration::hours(1), now + Duration::hours(2))),
            ..Spec::default()
        },
    );
    assert_eq!(
        rejection(&verifier(&[&idp]), &future),
        SamlRejection::NotYetValid
    );

    // Expired 60 s ago: inside the default 120 s skew, outside a 30 s one.
    let just = signed(
        &idp,
        &Spec {
            conditions: Some((now - Duration::hours(1), now - Duration::seconds(60))),
            issue_instant: now - Duration::hours(1),
            ..Spec::default()
        },
    );
    verifier(&[&idp]).verify(&just, now).unwrap();
    let strict = SamlVerifier::new(VerifierConfig {
        trust_anchors_pem: vec![idp.cert_pem.clone().into_bytes()],
        clock_skew: Duration::seconds(30),
        ..VerifierConfig::default()
    })
    .unwrap();
    assert_eq!(strict.verify(&just, now), Err(SamlRejection::Expired));
}

#[test]
fn missing_parts_are_refused_even_when_signed() {
    let idp = Idp::new("idp");
    let v = verifier(&[&idp]);
    let cases = [
        (
            Spec {
                issuer: None,
                ..Spec::default()
            },
            SamlRejection::Missing("Issuer"),
        ),
        (
            Spec {
                name_id: None,
                ..Spec::default()
            },
            SamlRejection::Missing("Subject/NameID"),
        ),
        (
            Spec {
                conditions: None,
                ..Spec::default()
            },
            SamlRejection::Missing("Conditions with NotOnOrAfter"),
        ),
    ];
    for (spec, want) in cases {
        let r = rejection(&v, &signed(&idp, &spec));
        assert_eq!(r, want);
        assert_eq!(r.wsse_fault(), WsseFault::InvalidSecurity);
    }
}

#[test]
fn an_unsigned_assertion_is_refused() {
    let idp = Idp::new("idp");
    let a = parsed(&saml_sign::security_header(
        "S",
        &saml_sign::template(&Spec {
            unsigned: true,
            ..Spec::default()
        }),
    ));
    let r = rejection(&verifier(&[&idp]), &a);
    assert_eq!(r, SamlRejection::NotSigned);
    assert_eq!(r.wsse_fault(), WsseFault::FailedAuthentication);
    // The Epic-style header of the other tests (unsigned) parses, and is refused the same way.
    let epic = parsed(SAML_HEADER);
    assert_eq!(epic.issuer.as_deref(), Some("CN=Epic Hospital, O=Example"));
    assert_eq!(epic.purpose_of_use.as_ref().unwrap().code, "TREATMENT");
    assert_eq!(
        verifier(&[&idp]).verify(&epic, Utc::now()),
        Err(SamlRejection::NotSigned)
    );
}

#[test]
fn wrapping_attacks_are_refused() {
    let idp = Idp::new("idp");
    let v = verifier(&[&idp]);
    let good = idp.sign(&saml_sign::template(&Spec::default()));
    let evil_spec = Spec {
        id: "_evil".into(),
        name_id: Some("UID=admin".into()),
        unsigned: true,
        ..Spec::default()
    };
    let evil = saml_sign::template(&evil_spec);

    // 1. An unsigned assertion first, the signed one after it: the first is what would be read.
    let a = parsed(&saml_sign::security_header("S", &format!("{evil}{good}")));
    assert_eq!(a.subject_name_id.as_deref(), Some("UID=admin"));
    assert_eq!(v.verify(&a, Utc::now()), Err(SamlRejection::NotSigned));

    // 2. The signed assertion hidden inside the unsigned one (in Advice).
    let nested = evil.replace(
        "<saml2:AttributeStatement>",
        &format!("<saml2:Advice>{good}</saml2:Advice><saml2:AttributeStatement>"),
    );
    let a = parsed(&saml_sign::security_header("S", &nested));
    assert_eq!(a.subject_name_id.as_deref(), Some("UID=admin"));
    assert!(v.verify(&a, Utc::now()).is_err());

    // 3. The signed assertion's Signature copied into the forged one, which takes its ID.
    let sig_start = good.find("<ds:Signature>").unwrap();
    let sig_end = good.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &good[sig_start..sig_end];
    let forged = saml_sign::template(&Spec {
        name_id: Some("UID=admin".into()),
        unsigned: true,
        ..Spec::default()
    })
    .replace("</saml2:Issuer>", &format!("</saml2:Issuer>{signature}"));
    let a = parsed(&saml_sign::security_header("S", &forged));
    assert!(matches!(
        v.verify(&a, Utc::now()),
        Err(SamlRejection::BadSignature(_))
    ));

    // 4. The same, with the genuine assertion nested inside so the ID resolves to it.
    let forged_nested = forged.replace(
        "<saml2:AttributeStatement>",
        &format!("<saml2:Advice>{good}</saml2:Advice><saml2:AttributeStatement>"),
    );
    let a = parsed(&saml_sign::security_header("S", &forged_nested));
    assert!(v.verify(&a, Utc::now()).is_err());

    // 5. The genuine assertion still verifies on its own.
    v.verify(&parsed(&saml_sign::security_header("S", &good)), Utc::now())
        .unwrap();
}

#[test]
fn a_reference_to_something_else_is_refused() {
    // A valid signature whose Reference covers only the Subject, not the assertion.
    let idp = Idp::new("idp");
    let template = saml_sign::template(&Spec::default())
        .replace(r##"URI="#_a7c1e0f2""##, r##"URI="#_subj""##)
        .replace("<saml2:Subject>", r#"<saml2:Subject ID="_subj">"#);
    let a = parsed(&saml_sign::security_header("S", &idp.sign(&template)));
    assert!(a.issuer.is_some());
    assert!(v_err(&verifier(&[&idp]), &a));
}

fn v_err(v: &SamlVerifier, a: &SamlAssertion) -> bool {
    matches!(
        v.verify(a, Utc::now()),
        Err(SamlRejection::NotCovered(_) | SamlRejection::BadSignature(_))
    )
}

#[test]
fn an_assertion_signed_by_an_independent_implementation_verifies() {
    // lxml's exclusive c14n and openssl's RSA: not bergshamra checking its own output.
    let idp = Idp::new("idp");
    let signed = idp.sign_independently(&saml_sign::template(&Spec::default()), "sha256");
    let a = parsed(&saml_sign::security_header("S", &signed));
    verifier(&[&idp]).verify(&a, Utc::now()).unwrap();
    let tampered = signed.replace("Dr Jane Who", "Dr Jane Whom");
    let a = parsed(&saml_sign::security_header("S", &tampered));
    assert!(matches!(
        rejection(&verifier(&[&idp]), &a),
        SamlRejection::BadSignature(_)
    ));
}

#[test]
fn rsa_sha1_only_when_configured() {
    // aws-lc will not sign with SHA-1, so this one is signed by lxml + openssl.
    let idp = Idp::new("idp");
    let sha1 = saml_sign::template(&Spec {
        signature_method: saml_sign::RSA_SHA1,
        digest_method: saml_sign::SHA1,
        ..Spec::default()
    });
    let a = parsed(&saml_sign::security_header(
        "S",
        &idp.sign_independently(&sha1, "sha1"),
    ));
    assert!(matches!(
        rejection(&verifier(&[&idp]), &a),
        SamlRejection::Profile(_)
    ));
    let lenient = SamlVerifier::new(VerifierConfig {
        trust_anchors_pem: vec![idp.cert_pem.clone().into_bytes()],
        algorithms: vec![SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha1],
        ..VerifierConfig::default()
    })
    .unwrap();
    lenient.verify(&a, Utc::now()).unwrap();
    assert_eq!(
        SignatureAlgorithm::from_name("RSA-SHA512"),
        Some(SignatureAlgorithm::RsaSha512)
    );
}

#[test]
fn inclusive_c14n_and_other_transforms_are_refused() {
    let idp = Idp::new("idp");
    let v = verifier(&[&idp]);
    let inclusive = saml_sign::template(&Spec::default()).replace(
        r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
    );
    let a = parsed(&saml_sign::security_header("S", &idp.sign(&inclusive)));
    assert!(matches!(rejection(&v, &a), SamlRejection::Profile(_)));
    let not_enveloped = saml_sign::template(&Spec::default()).replace(
        r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
        "",
    );
    let a = parsed(&saml_sign::security_header("S", &idp.sign(&not_enveloped)));
    assert!(matches!(rejection(&v, &a), SamlRejection::Profile(_)));
}

#[test]
fn the_audience_is_checked_when_configured() {
    let idp = Idp::new("idp");
    let for_us = signed(
        &idp,
        &Spec {
            audience: Some("urn:oid:1.2.3".into()),
            ..Spec::default()
        },
    );
    let v = SamlVerifier::new(VerifierConfig {
        trust_anchors_pem: vec![idp.cert_pem.clone().into_bytes()],
        audience: Some("urn:oid:1.2.3".into()),
        ..VerifierConfig::default()
    })
    .unwrap();
    v.verify(&for_us, Utc::now()).unwrap();
    assert_eq!(
        v.verify(&signed(&idp, &Spec::default()), Utc::now()),
        Err(SamlRejection::WrongAudience)
    );
}

#[test]
fn trust_anchors_must_be_certificates() {
    assert_eq!(
        SamlVerifier::new(VerifierConfig::default()).unwrap_err(),
        TrustAnchorError::Empty
    );
    assert_eq!(
        SamlVerifier::new(VerifierConfig {
            trust_anchors_pem: vec![b"not a pem".to_vec()],
            ..VerifierConfig::default()
        })
        .unwrap_err(),
        TrustAnchorError::NoCertificate { index: 0 }
    );
    assert!(matches!(
        SamlVerifier::new(VerifierConfig {
            trust_anchors_pem: vec![
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()
            ],
            ..VerifierConfig::default()
        }),
        Err(TrustAnchorError::BadCertificate { index: 0, .. })
    ));
}

#[test]
fn wsse_faults_render_with_their_namespace_declared() {
    use ihe_messaging::{SoapFault, WsaSubcode};
    for (sub, local) in [
        (WsaSubcode::FailedAuthentication, "FailedAuthentication"),
        (WsaSubcode::InvalidSecurity, "InvalidSecurity"),
    ] {
        let f = SoapFault {
            subcode: Some(sub),
            ..SoapFault::sender("the SAML assertion is expired")
        };
        let r = f.to_response("urn:uuid:f-1");
        assert_eq!(r.status, 400);
        let text = String::from_utf8(r.body).unwrap();
        assert!(
            text.contains(&format!(
                "<env:Subcode><env:Value xmlns:wsse=\"{}\">wsse:{local}</env:Value></env:Subcode>",
                ihe_messaging::soap::WSSE_NS
            )),
            "{text}"
        );
        // A WS-Security fault is a SOAP fault, not a WS-Addressing one.
        assert!(text.contains("http://www.w3.org/2005/08/addressing/soap/fault"));
        ihe_messaging::xml::parse(text.as_bytes()).unwrap();
    }
}

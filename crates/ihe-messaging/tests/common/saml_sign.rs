//! Test identity provider: an RSA key and self-signed certificate generated in the test
//! (rcgen on aws-lc-rs), and XUA assertions signed with it (bergshamra's signer filling an
//! enveloped, exclusive-c14n, RSA-SHA256 template, as xmlsec1 would).
//!
//! Shared by the ihe-messaging and xhuma tests (xhuma includes this file by path).
#![allow(dead_code, clippy::unwrap_used)]

use bergshamra::keys::loader::load_pem_auto;
use bergshamra::{DsigContext, KeysManager};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

pub const SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// An identity provider: what it signs with, and the certificate a gateway trusts.
pub struct Idp {
    pub cert_pem: String,
    key_pem: String,
}

impl Idp {
    pub fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec![format!("{name}.example")]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Fills the empty DigestValue/SignatureValue of the (first) signature template in `xml`.
    pub fn sign(&self, xml: &str) -> String {
        let key = load_pem_auto(self.key_pem.as_bytes(), None).unwrap();
        let mut km = KeysManager::new();
        km.add_key(key);
        let ctx = DsigContext::new_permissive(km);
        bergshamra::sign(&ctx, xml).unwrap()
    }
}

/// Python with lxml (exclusive c14n) and the `openssl` CLI (RSA), sharing no code with
/// bergshamra: fills the signature template of a standalone assertion. Args: hash name.
const INDEPENDENT_SIGNER: &str = r#"
import base64, hashlib, os, subprocess, sys, tempfile
from lxml import etree
DS = "http://www.w3.org/2000/09/xmldsig#"
h = sys.argv[1]
root = etree.fromstring(sys.stdin.buffer.read())
sig = root.find("{%s}Signature" % DS)
parent, at = sig.getparent(), sig.getparent().index(sig)
parent.remove(sig)
digest = hashlib.new(h, etree.tostring(root, method="c14n", exclusive=True)).digest()
parent.insert(at, sig)
sig.find(".//{%s}DigestValue" % DS).text = base64.b64encode(digest).decode()
signed_info = etree.tostring(sig.find("{%s}SignedInfo" % DS), method="c14n", exclusive=True)
with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as k:
    k.write(os.environ["SIGNER_KEY_PEM"])
try:
    value = subprocess.run(["openssl", "dgst", "-" + h, "-sign", k.name], input=signed_info,
                           capture_output=True, check=True).stdout
finally:
    os.unlink(k.name)
sig.find("{%s}SignatureValue" % DS).text = base64.b64encode(value).decode()
sys.stdout.write(etree.tostring(root).decode())
"#;

impl Idp {
    /// Signs a standalone assertion template with Python lxml + openssl instead of bergshamra
    /// (`hash`: `sha1` or `sha256`, matching the template's methods).
    pub fn sign_independently(&self, xml: &str, hash: &str) -> String {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("python3")
            .args(["-c", INDEPENDENT_SIGNER, hash])
            .env("SIGNER_KEY_PEM", &self.key_pem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// What goes into a test assertion; `Default` is a complete, currently valid one.
#[derive(Clone)]
pub struct Spec {
    pub id: String,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    /// `(NotBefore, NotOnOrAfter)`; `None` leaves Conditions out.
    pub conditions: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub issue_instant: DateTime<Utc>,
    pub audience: Option<String>,
    pub signature_method: &'static str,
    pub digest_method: &'static str,
    /// Leave the ds:Signature template out.
    pub unsigned: bool,
    /// Declare `saml2`/`ds` on the assertion (`false`: the caller declares them on an ancestor).
    pub declare_namespaces: bool,
}

impl Default for Spec {
    fn default() -> Self {
        let now = Utc::now();
        Self {
            id: "_a7c1e0f2".into(),
            issuer: Some("CN=Epic Hospital, O=Example".into()),
            name_id: Some("UID=dr.who".into()),
            conditions: Some((now - Duration::minutes(5), now + Duration::minutes(5))),
            issue_instant: now - Duration::minutes(1),
            audience: None,
            signature_method: RSA_SHA256,
            digest_method: SHA256,
            unsigned: false,
            declare_namespaces: true,
        }
    }
}

fn t(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The assertion with an empty signature template (sign it with [`Idp::sign`]).
pub fn template(s: &Spec) -> String {
    let ns = if s.declare_namespaces {
        format!(r#" xmlns:saml2="{SAML2}" xmlns:ds="{DS}""#)
    } else {
        String::new()
    };
    let mut x = format!(
        r#"<saml2:Assertion{ns} ID="{}" IssueInstant="{}" Version="2.0">"#,
        s.id,
        t(s.issue_instant)
    );
    if let Some(i) = &s.issuer {
        x.push_str(&format!(
            r#"<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">{i}</saml2:Issuer>"#
        ));
    }
    if !s.unsigned {
        x.push_str(&format!(
            r##"<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{}"/><ds:Reference URI="#{}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"##,
            s.signature_method, s.id, s.digest_method
        ));
    }
    if let Some(n) = &s.name_id {
        x.push_str(&format!(
            r#"<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">{n}</saml2:NameID><saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"/></saml2:Subject>"#
        ));
    }
    if let Some((nb, na)) = s.conditions {
        x.push_str(&format!(
            r#"<saml2:Conditions NotBefore="{}" NotOnOrAfter="{}">"#,
            t(nb),
            t(na)
        ));
        if let Some(aud) = &s.audience {
            x.push_str(&format!(
                "<saml2:AudienceRestriction><saml2:Audience>{aud}</saml2:Audience></saml2:AudienceRestriction>"
            ));
        }
        x.push_str("</saml2:Conditions>");
    }
    x.push_str(concat!(
        r#"<saml2:AttributeStatement>"#,
        r#"<saml2:Attribute Name="urn:oasis:names:tc:xacml:1.0:subject:subject-id"><saml2:AttributeValue>Dr Jane Who</saml2:AttributeValue></saml2:Attribute>"#,
        r#"<saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:organization"><saml2:AttributeValue>Example Hospital</saml2:AttributeValue></saml2:Attribute>"#,
        r#"<saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:organization-id"><saml2:AttributeValue>urn:oid:1.2.840.114350.1.13.99998</saml2:AttributeValue></saml2:Attribute>"#,
        r#"<saml2:Attribute Name="urn:nhin:names:saml:homeCommunityId"><saml2:AttributeValue>urn:oid:1.2.840.114350.1.13.99998.8734</saml2:AttributeValue></saml2:Attribute>"#,
        r#"<saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role"><saml2:AttributeValue><Role xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CE" code="112247003" codeSystem="2.16.840.1.113883.6.96" codeSystemName="SNOMED_CT" displayName="Medical doctor"/></saml2:AttributeValue></saml2:Attribute>"#,
        r#"<saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"><saml2:AttributeValue><PurposeForUse xmlns="urn:hl7-org:v3" code="TREATMENT" codeSystem="2.16.840.1.113883.3.18.7.1" displayName="Treatment"/></saml2:AttributeValue></saml2:Attribute>"#,
        r#"</saml2:AttributeStatement></saml2:Assertion>"#
    ));
    x
}

/// A `wsse:Security` header carrying `assertion`; `soap` is the envelope's SOAP prefix.
pub fn security_header(soap: &str, assertion: &str) -> String {
    format!(
        r#"<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" {soap}:mustUnderstand="true">{assertion}</wsse:Security>"#
    )
}

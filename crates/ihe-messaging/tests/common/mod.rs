//! Shared test helpers: fixtures from ../shared, a responder identity, envelope wrapping.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use ihe_messaging::{ReplyMeta, ResponderConfig};

pub mod saml_sign;

pub const CT_SOAP: &str = "application/soap+xml; charset=UTF-8";

pub fn shared() -> PathBuf {
    std::env::var_os("XHUMA_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

pub fn fixture(rel: &str) -> String {
    std::fs::read_to_string(shared().join("fixtures/ihe").join(rel)).unwrap()
}

pub fn fixtures_in(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(shared().join("fixtures/ihe").join(dir)).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "xml") {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

pub fn cfg() -> ResponderConfig {
    ResponderConfig {
        home_community_id: "2.16.840.1.113883.2.1.3.34.9001".into(),
        repository_unique_id: "2.16.840.1.113883.2.1.3.34.9001.1".into(),
        device_oid: "2.16.840.1.113883.2.1.3.34.9001.2".into(),
        device_name: "Xhuma".into(),
        organization_oid: "2.16.840.1.113883.2.1.3.34.9001.3".into(),
        organization_name: "Xhuma Gateway & Co".into(),
    }
}

pub const OUR_MESSAGE_ID: &str = "urn:uuid:6f1b3a8e-2c4d-4e5f-8a9b-0c1d2e3f4a5b";

pub fn meta() -> ReplyMeta<'static> {
    ReplyMeta {
        message_id: OUR_MESSAGE_ID,
        now: Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26).unwrap(),
    }
}

/// Wraps a Body payload in a pretty-printed SOAP 1.2 envelope with WS-Addressing headers,
/// deliberately using unusual prefixes.
pub fn wrap(body: &str, action: &str, message_id: &str, extra_headers: &str) -> String {
    let body = body.trim_start();
    let body = if body.starts_with("<?xml") {
        &body[body.find("?>").unwrap() + 2..]
    } else {
        body
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"
            xmlns:A="http://www.w3.org/2005/08/addressing">
  <S:Header>
    <A:Action S:mustUnderstand="true">{action}</A:Action>
    <A:MessageID>
        {message_id}
    </A:MessageID>
    <A:ReplyTo><A:Address>http://www.w3.org/2005/08/addressing/anonymous</A:Address></A:ReplyTo>
    <A:To>https://gateway.example.nhs.uk/SOAP/iti</A:To>
    {extra_headers}
  </S:Header>
  <S:Body>
    {body}
  </S:Body>
</S:Envelope>"#
    )
}

/// Writes `body` as a one-part MTOM package (what MTOM-by-default initiators send).
pub fn as_mtom(envelope: &str, action: &str) -> (String, Vec<u8>) {
    let ct = format!(
        "multipart/related; type=\"application/xop+xml\"; boundary=\"uuid:0a1b\"; \
         start=\"<root.message@cxf.apache.org>\"; start-info=\"application/soap+xml\"; action=\"{action}\""
    );
    let body = format!(
        "--uuid:0a1b\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n\
         Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n{envelope}\r\n--uuid:0a1b--"
    );
    (ct, body.into_bytes())
}

pub const SAML_HEADER: &str = r#"<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" S:mustUnderstand="true">
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

/// Parses every document with python's lxml (libxml2, an independent parser) in one process;
/// returns (index, error) for each that is not well-formed XML. Panics if python3 with lxml
/// cannot be run: these checks must not pass vacuously.
pub fn lxml_ill_formed(docs: &[Vec<u8>]) -> Vec<(usize, String)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    const SCRIPT: &str = r#"
import sys, struct
from lxml import etree
data = sys.stdin.buffer.read()
i = n = 0
while i < len(data):
    (size,) = struct.unpack(">I", data[i:i + 4])
    doc = data[i + 4:i + 4 + size]
    i += 4 + size
    try:
        etree.fromstring(doc, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except Exception as e:
        print(f"{n}\t{e}")
    n += 1
print(f"checked\t{n}")
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with lxml is needed for the well-formedness checks");
    let mut input = Vec::new();
    for d in docs {
        input.extend_from_slice(&u32::try_from(d.len()).unwrap().to_be_bytes());
        input.extend_from_slice(d);
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("checked\t{}", docs.len())),
        "lxml did not check every document: {text}"
    );
    text.lines()
        .filter(|l| !l.starts_with("checked"))
        .map(|l| {
            let (i, e) = l.split_once('\t').unwrap();
            (i.parse().unwrap(), e.to_owned())
        })
        .collect()
}

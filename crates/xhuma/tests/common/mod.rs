//! Shared end-to-end helpers: start the real gateway (sandbox in-process) on 127.0.0.1:0 and
//! talk to it over HTTP with reqwest, building requests as an EHR would.
#![allow(dead_code, clippy::unwrap_used)]

use tempfile::TempDir;
use xhuma::config::Config;
use xhuma::server::{Running, start};

pub const CT_SOAP: &str = "application/soap+xml; charset=UTF-8";
pub const NHS_OID: &str = "2.16.840.1.113883.2.1.4.1";

pub struct Gw {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
    pub _dir: TempDir,
}

/// Starts the gateway with defaults (sandbox, memory cache, SQLite in a temporary directory)
/// changed by `tweak`.
pub async fn gateway(tweak: impl FnOnce(&mut Config)) -> Gw {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    cfg.limits.rate_per_second = 0;
    // The end-to-end tests name the ../shared/fixtures patients (tests/standalone.rs runs the
    // built-in synthetic ones).
    cfg.sandbox.fixtures = Some(spine_sandbox::SHARED_FIXTURES_DIR.into());
    tweak(&mut cfg);
    let running = start(cfg).await.unwrap();
    let base = running.base_url();
    Gw {
        running,
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Gw {
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    pub fn sandbox(&self) -> &spine_sandbox::SandboxHandle {
        self.running.state.flow.spine.sandbox.as_ref().unwrap()
    }

    pub fn home(&self) -> String {
        self.running.state.responder.home_community_id.clone()
    }

    pub fn repo(&self) -> String {
        self.running.state.responder.repository_unique_id.clone()
    }

    pub async fn iti55(&self, nhs: &str) -> Reply {
        self.post("/SOAP/iti55", CT_SOAP, iti55_request(nhs)).await
    }

    pub async fn iti38(&self, nhs: &str) -> Reply {
        self.post("/SOAP/iti38", CT_SOAP, iti38_request(nhs)).await
    }

    pub async fn iti39(&self, unique_id: &str) -> Reply {
        let body = iti39_request(&self.home(), &self.repo(), unique_id);
        self.post("/SOAP/iti39", CT_SOAP, body).await
    }
}

fn uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

pub fn envelope(action: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header>
    <wsa:Action soap:mustUnderstand="true">{action}</wsa:Action>
    <wsa:MessageID>{}</wsa:MessageID>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
  </soap:Header>
  <soap:Body>{body}</soap:Body>
</soap:Envelope>"#,
        uuid()
    )
}

/// The ITI-55 request of the shared-fixtures patient 9690937278, with its demographics. For
/// another NHS number the demographics are left out, so the query is by NHS number alone
/// (they would not match that patient's PDS record).
pub fn iti55_request(nhs: &str) -> String {
    let mut example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/iti55-9690937278.xml"
    ))
    .unwrap();
    if nhs != "9690937278" {
        for tag in [
            "livingSubjectAdministrativeGender",
            "livingSubjectBirthTime",
            "livingSubjectName",
        ] {
            let start = example.find(&format!("<{tag}>")).unwrap();
            let close = format!("</{tag}>");
            let end = example.find(&close).unwrap() + close.len();
            example.replace_range(start..end, "");
        }
    }
    example.replace("9690937278", nhs)
}

/// The parameters of a patient discovery query; `None` fields are left out.
#[derive(Debug, Clone, Default)]
pub struct Demo<'a> {
    /// (root, extension) pairs
    pub ids: Vec<(&'a str, &'a str)>,
    pub family: Option<&'a str>,
    pub given: Option<&'a str>,
    /// HL7 TS
    pub birth: Option<&'a str>,
    /// M, F or UN
    pub gender: Option<&'a str>,
    pub postcode: Option<&'a str>,
}

/// An ITI-55 request with exactly these parameters (in the schema's order).
pub fn discovery_request(d: &Demo) -> String {
    let mut params = String::new();
    if let Some(g) = d.gender {
        params.push_str(&format!(
            "<livingSubjectAdministrativeGender><value code=\"{g}\"/><semanticsText>LivingSubject.administrativeGender</semanticsText></livingSubjectAdministrativeGender>"
        ));
    }
    if let Some(b) = d.birth {
        params.push_str(&format!(
            "<livingSubjectBirthTime><value value=\"{b}\"/><semanticsText>LivingSubject.birthTime</semanticsText></livingSubjectBirthTime>"
        ));
    }
    for (root, ext) in &d.ids {
        params.push_str(&format!(
            "<livingSubjectId><value root=\"{root}\" extension=\"{ext}\"/><semanticsText>LivingSubject.id</semanticsText></livingSubjectId>"
        ));
    }
    if d.family.is_some() || d.given.is_some() {
        let given = d
            .given
            .map(|g| format!("<given>{g}</given>"))
            .unwrap_or_default();
        let family = d
            .family
            .map(|f| format!("<family>{f}</family>"))
            .unwrap_or_default();
        params.push_str(&format!(
            "<livingSubjectName><value>{given}{family}</value><semanticsText>LivingSubject.name</semanticsText></livingSubjectName>"
        ));
    }
    if let Some(p) = d.postcode {
        params.push_str(&format!(
            "<patientAddress><value><postalCode>{p}</postalCode></value><semanticsText>Patient.addr</semanticsText></patientAddress>"
        ));
    }
    let example = iti55_request("9690937278");
    let start = example.find("<parameterList>").unwrap() + "<parameterList>".len();
    let end = example.find("</parameterList>").unwrap();
    format!("{}{params}{}", &example[..start], &example[end..])
}

pub fn iti47_request(nhs: &str) -> String {
    iti55_request(nhs).replace(
        "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery",
        "urn:hl7-org:v3:PRPA_IN201305UV02",
    )
}

pub fn iti38_request(nhs: &str) -> String {
    let body = format!(
        r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'{nhs}^^^&amp;{NHS_OID}&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryType"><rim:ValueList><rim:Value>('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1','urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"#
    );
    envelope("urn:ihe:iti:2007:CrossGatewayQuery", &body)
}

pub fn iti39_request(home: &str, repo: &str, unique_id: &str) -> String {
    let body = format!(
        r#"<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007">
  <DocumentRequest>
    <HomeCommunityId>urn:oid:{home}</HomeCommunityId>
    <RepositoryUniqueId>{repo}</RepositoryUniqueId>
    <DocumentUniqueId>{unique_id}</DocumentUniqueId>
  </DocumentRequest>
</RetrieveDocumentSetRequest>"#
    );
    envelope("urn:ihe:iti:2007:CrossGatewayRetrieve", &body)
}

/// The XDS uniqueId of the (single) DocumentEntry in an ITI-38 response.
pub fn unique_id(iti38_response: &str) -> Option<String> {
    let i = iti38_response.find("value=\"2.25.")?;
    let rest = &iti38_response[i + 7..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The single retrieved document of an ITI-39 response (plain or MTOM).
pub fn retrieved_document(reply: &Reply) -> Option<String> {
    let r = ihe_messaging::xca::retrieve::parse_response(&reply.body, &reply.content_type).ok()?;
    let (_, doc) = r.documents.into_iter().next()?;
    String::from_utf8(doc.content.to_vec()).ok()
}

/// Validates the SOAP Body child of an HL7 V3 / ebXML response.
pub fn check_hl7(envelope: &str) {
    conformance::hl7v3_xsd(&conformance::soap_body_child(envelope)).assert_ok();
}

pub fn check_ebxml(envelope: &str) {
    conformance::ebxml_xsd(&conformance::soap_body_child(envelope)).assert_ok();
}

/// The acknowledgement / query response codes of a PRPA_IN201306UV02 response.
pub fn ack_code(text: &str) -> &str {
    if text.contains("<typeCode code=\"AA\"/>") {
        "AA"
    } else if text.contains("<typeCode code=\"AE\"/>") {
        "AE"
    } else {
        "other"
    }
}

pub fn query_response_code(text: &str) -> Option<String> {
    let i = text.find("<queryResponseCode code=\"")?;
    let rest = &text[i + 25..];
    Some(rest[..rest.find('"')?].to_owned())
}

pub fn nhs(s: &str) -> nhs_number::NhsNumber {
    nhs_number::NhsNumber::parse(s).unwrap()
}

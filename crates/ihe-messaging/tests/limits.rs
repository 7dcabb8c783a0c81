//! Bounds and community checks: ITI-39 DocumentRequests are bounded and merged, XCA
//! homeCommunityId is required where ITI-38/39 need it, ITI-55 sender/receiver devices sent
//! without the HL7 namespace are still echoed.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ihe_messaging::xml;
use ihe_messaging::*;

const ITI38: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
const ITI39: &str = "urn:ihe:iti:2007:CrossGatewayRetrieve";
const ITI55: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";

fn retrieve(reqs: &[(Option<&str>, &str)]) -> String {
    let repo = cfg().repository_unique_id;
    let mut body =
        String::from("<x:RetrieveDocumentSetRequest xmlns:x=\"urn:ihe:iti:xds-b:2007\">");
    for (home, uid) in reqs {
        body.push_str("<x:DocumentRequest>");
        if let Some(h) = home {
            body.push_str(&format!("<x:HomeCommunityId>{h}</x:HomeCommunityId>"));
        }
        body.push_str(&format!(
            "<x:RepositoryUniqueId>{repo}</x:RepositoryUniqueId><x:DocumentUniqueId>{uid}</x:DocumentUniqueId></x:DocumentRequest>"
        ));
    }
    body.push_str("</x:RetrieveDocumentSetRequest>");
    wrap(&body, ITI39, "urn:uuid:r-1", "")
}

#[test]
fn a_document_named_many_times_is_answered_once() {
    let home = cfg().home_urn();
    let h = Some(home.as_str());
    let env = retrieve(&[(h, "2.25.1"), (h, "2.25.2"), (h, "2.25.1"), (h, " 2.25.1 ")]);
    let req = parse_iti39(env.as_bytes(), CT_SOAP).unwrap();
    let ids: Vec<_> = req
        .body
        .documents
        .iter()
        .map(|d| d.document_unique_id.as_str())
        .collect();
    assert_eq!(ids, ["2.25.1", "2.25.2"]);
}

#[test]
fn document_requests_are_bounded_and_the_bound_is_configurable() {
    let home = cfg().home_urn();
    let ids: Vec<String> = (0..5).map(|i| format!("2.25.{i}")).collect();
    let reqs: Vec<_> = ids
        .iter()
        .map(|i| (Some(home.as_str()), i.as_str()))
        .collect();
    let env = retrieve(&reqs);
    assert!(parse_iti39(env.as_bytes(), CT_SOAP).is_ok());
    let tight = RequestLimits {
        max_document_requests: 4,
        ..RequestLimits::default()
    };
    let Err(Rejection::Registry { errors, .. }) = parse_iti39_with(env.as_bytes(), CT_SOAP, &tight)
    else {
        panic!("5 requests over a limit of 4 must be refused");
    };
    assert_eq!(errors[0].code, XdsErrorCode::RepositoryError);
    assert!(errors[0].context.contains("at most 4"));
}

#[test]
fn retrieve_without_home_community_id_is_xds_missing_home_community_id() {
    let env = retrieve(&[
        (None, "2.25.1"),
        (Some("urn:oid:1.2.3.4"), "2.25.2"),
        (Some(&cfg().home_urn()), "2.25.3"),
    ]);
    let req = parse_iti39(env.as_bytes(), CT_SOAP).unwrap();
    let (ours, errors) = req.body.triage(&cfg());
    assert_eq!(ours.len(), 1);
    assert_eq!(errors[0].code.as_str(), "XDSMissingHomeCommunityId");
    assert_eq!(errors[0].location.as_deref(), Some("2.25.1"));
    assert_eq!(errors[1].code.as_str(), "XDSUnknownCommunity");
}

fn adhoc(query_id: &str, home: Option<&str>, slots: &str) -> XcaQuery {
    let home = home.map(|h| format!(" home=\"{h}\"")).unwrap_or_default();
    let body = format!(
        r#"<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><q:ResponseOption returnType="ObjectRef"/><r:AdhocQuery id="{query_id}"{home}>{slots}</r:AdhocQuery></q:AdhocQueryRequest>"#
    );
    parse_iti38(wrap(&body, ITI38, "urn:uuid:q", "").as_bytes(), CT_SOAP)
        .unwrap()
        .body
}

const GET: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
const FIND: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
const UIDS: &str = "<r:Slot name=\"$XDSDocumentEntryUniqueId\"><r:ValueList><r:Value>('2.25.1','2.25.2','2.25.1')</r:Value><r:Value>'2.25.2'</r:Value></r:ValueList></r:Slot>";
const FIND_SLOTS: &str = "<r:Slot name=\"$XDSDocumentEntryPatientId\"><r:ValueList><r:Value>'9692136744^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</r:Value></r:ValueList></r:Slot><r:Slot name=\"$XDSDocumentEntryStatus\"><r:ValueList><r:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</r:Value></r:ValueList></r:Slot>";

#[test]
fn get_documents_without_home_is_xds_missing_home_community_id() {
    let q = adhoc(GET, None, UIDS);
    let e = q.check_community(&cfg()).unwrap_err();
    assert_eq!(e.code.as_str(), "XDSMissingHomeCommunityId");
    // The failure response carrying it is still schema-valid ebRS.
    let req = SoapRequest {
        header: SoapHeader {
            action: ITI38.into(),
            message_id: Some("urn:uuid:q".into()),
            reply_to: None,
            to: None,
            saml: None,
        },
        body: q,
        mtom: false,
    };
    let resp = build_iti38_response(&req, &[], &[e], &cfg(), meta());
    let text = String::from_utf8(resp.body).unwrap();
    conformance::ebxml_xsd(&conformance::soap_body_child(&text)).assert_ok();
}

#[test]
fn a_query_for_another_community_is_xds_unknown_community() {
    for q in [
        adhoc(GET, Some("urn:oid:1.2.3.4"), UIDS),
        adhoc(FIND, Some("urn:oid:1.2.3.4"), FIND_SLOTS),
    ] {
        let e = q.check_community(&cfg()).unwrap_err();
        assert_eq!(e.code.as_str(), "XDSUnknownCommunity");
    }
    let ours = cfg().home_urn();
    assert!(
        adhoc(GET, Some(&ours), UIDS)
            .check_community(&cfg())
            .is_ok()
    );
    assert!(
        adhoc(FIND, None, FIND_SLOTS)
            .check_community(&cfg())
            .is_ok()
    );
    assert!(
        adhoc(GET, Some(&cfg().home_community_id), UIDS)
            .check_community(&cfg())
            .is_ok(),
        "a bare OID is our community too"
    );
}

#[test]
fn get_documents_ids_are_merged() {
    let q = adhoc(GET, Some(&cfg().home_urn()), UIDS);
    assert_eq!(
        q.query,
        StoredQuery::GetDocuments(GetDocuments::UniqueIds(vec![
            "2.25.1".into(),
            "2.25.2".into()
        ]))
    );
}

/// Epic sends the transmission wrapper's `sender`/`receiver` without the HL7 namespace under
/// a prefixed root; they are read and echoed, not replaced by a nullFlavor.
#[test]
fn un_namespaced_sender_and_receiver_devices_are_echoed() {
    let body = r#"<v3:PRPA_IN201305UV02 xmlns:v3="urn:hl7-org:v3" ITSVersion="XML_1.0">
  <v3:id root="1.2.840.114350.1.13.99998.8734" extension="m1"/>
  <v3:creationTime value="20250314150926"/>
  <v3:interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>
  <v3:processingCode code="P"/><v3:processingModeCode code="T"/><v3:acceptAckCode code="AL"/>
  <receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="2.16.840.1.113883.2.1.3.34.9001.2"/></device></receiver>
  <sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.840.114350.1.13.99998.8734.1"/>
    <asAgent classCode="AGNT"><representedOrganization classCode="ORG" determinerCode="INSTANCE"><id root="1.2.840.114350.1.13.99998.8734"/></representedOrganization></asAgent></device></sender>
  <v3:controlActProcess classCode="CACT" moodCode="EVN"><v3:code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>
    <v3:queryByParameter><v3:queryId root="1.2.5" extension="q1"/><v3:statusCode code="new"/><v3:responseModalityCode code="R"/><v3:responsePriorityCode code="I"/>
      <v3:parameterList><v3:livingSubjectId><v3:value root="2.16.840.1.113883.2.1.4.1" extension="9692136744"/><v3:semanticsText>LivingSubject.id</v3:semanticsText></v3:livingSubjectId></v3:parameterList>
    </v3:queryByParameter></v3:controlActProcess>
</v3:PRPA_IN201305UV02>"#;
    let req = parse_iti55(wrap(body, ITI55, "urn:uuid:e-1", "").as_bytes(), CT_SOAP).unwrap();
    assert_eq!(
        req.body.sender_device.as_ref().unwrap().root,
        "1.2.840.114350.1.13.99998.8734.1"
    );
    assert_eq!(
        req.body.sender_organization.as_ref().unwrap().root,
        "1.2.840.114350.1.13.99998.8734"
    );
    assert!(req.body.receiver_device.is_some());
    let resp = build_iti55_response(&req, &PatientQueryOutcome::NoMatch, &cfg(), meta());
    let text = String::from_utf8(resp.body).unwrap();
    let body = conformance::soap_body_child(&text);
    let root = xml::parse(body.as_bytes()).unwrap();
    let echoed = root
        .path("urn:hl7-org:v3", &["receiver", "device", "id"])
        .unwrap();
    assert_eq!(
        echoed.attr("root"),
        Some("1.2.840.114350.1.13.99998.8734.1")
    );
    assert_eq!(echoed.attr("nullFlavor"), None);
    conformance::hl7v3_xsd(&body).assert_ok();
}

//! Hostile and multiplying requests against the running gateway: ITI-39 DocumentRequests are
//! bounded and merged and the answer size is capped, XCA community checks and FindDocuments
//! parameters apply, and every file of the hostile corpus (`ihe-messaging/tests/hostile`)
//! gets a clear SOAP/ebXML error, never a 5xx, while `/health/live` keeps answering.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

const PATIENT: &str = "9690937278";

/// Parses `body` with python's lxml (libxml2), an independent parser.
fn lxml_well_formed(body: &[u8], what: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; from lxml import etree; etree.fromstring(sys.stdin.buffer.read())",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with lxml");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: not well-formed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn retrieve_many(home: &str, repo: &str, ids: &[&str]) -> String {
    let reqs: String = ids
        .iter()
        .map(|id| {
            format!(
                "<DocumentRequest><HomeCommunityId>urn:oid:{home}</HomeCommunityId><RepositoryUniqueId>{repo}</RepositoryUniqueId><DocumentUniqueId>{id}</DocumentUniqueId></DocumentRequest>"
            )
        })
        .collect();
    envelope(
        "urn:ihe:iti:2007:CrossGatewayRetrieve",
        &format!(
            "<RetrieveDocumentSetRequest xmlns=\"urn:ihe:iti:xds-b:2007\">{reqs}</RetrieveDocumentSetRequest>"
        ),
    )
}

async fn offered_unique_id(gw: &Gw) -> String {
    let text = gw.iti38(PATIENT).await.text();
    unique_id(&text).unwrap_or_else(|| panic!("no entry offered: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_named_1500_times_is_refused_and_3_times_answered_once() {
    let gw = gateway(|_| {}).await;
    let uid = offered_unique_id(&gw).await;
    let ids = vec![uid.as_str(); 1500];
    let r = gw
        .post(
            "/SOAP/iti39",
            CT_SOAP,
            retrieve_many(&gw.home(), &gw.repo(), &ids),
        )
        .await;
    let text = r.text();
    assert_eq!(r.status, 200, "{text}");
    assert!(
        text.contains("XDSRepositoryError") && text.contains("at most 16"),
        "{text}"
    );
    assert!(r.body.len() < 4096, "no documents in the refusal");
    check_ebxml(&text);

    let r = gw
        .post(
            "/SOAP/iti39",
            CT_SOAP,
            retrieve_many(&gw.home(), &gw.repo(), &[&uid, &uid, &uid]),
        )
        .await;
    let back = ihe_messaging::xca::retrieve::parse_response(&r.body, &r.content_type).unwrap();
    assert_eq!(back.documents.len(), 1, "each distinct document once");
    assert!(back.status.ends_with("Success"), "{}", back.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_size_limit_turns_extra_documents_into_errors() {
    let gw = gateway(|c| c.limits.max_response_bytes = 1000).await;
    let uid = offered_unique_id(&gw).await;
    let r = gw.iti39(&uid).await;
    let text = r.text();
    assert_eq!(r.status, 200);
    assert!(text.contains("XDSRepositoryOutOfResources"), "{text}");
    assert!(text.contains("ResponseStatusType:Failure"), "{text}");
    check_ebxml(&text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_request_limit_is_configurable() {
    let gw = gateway(|c| c.limits.max_document_requests = 1).await;
    let uid = offered_unique_id(&gw).await;
    let r = gw
        .post(
            "/SOAP/iti39",
            CT_SOAP,
            retrieve_many(&gw.home(), &gw.repo(), &[&uid, "2.25.2"]),
        )
        .await;
    assert!(r.text().contains("at most 1 "), "{}", r.text());
}

fn get_documents(home_attr: &str, uid: &str) -> String {
    envelope(
        "urn:ihe:iti:2007:CrossGatewayQuery",
        &format!(
            r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnType="LeafClass"/><rim:AdhocQuery id="urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"{home_attr}><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('{uid}')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"#
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xca_community_checks() {
    let gw = gateway(|_| {}).await;
    let uid = offered_unique_id(&gw).await;
    let text = gw
        .post("/SOAP/iti38", CT_SOAP, get_documents("", &uid))
        .await
        .text();
    assert!(text.contains("XDSMissingHomeCommunityId"), "{text}");
    check_ebxml(&text);
    let other = gw
        .post(
            "/SOAP/iti38",
            CT_SOAP,
            get_documents(" home=\"urn:oid:1.2.3.4\"", &uid),
        )
        .await
        .text();
    assert!(other.contains("XDSUnknownCommunity"), "{other}");
    let ours = format!(" home=\"urn:oid:{}\"", gw.home());
    let text = gw
        .post("/SOAP/iti38", CT_SOAP, get_documents(&ours, &uid))
        .await
        .text();
    assert!(
        text.contains(&uid) && !text.contains("RegistryError "),
        "{text}"
    );
    // ITI-39 without HomeCommunityId.
    let body = iti39_request(&gw.home(), &gw.repo(), &uid).replace(
        &format!("<HomeCommunityId>urn:oid:{}</HomeCommunityId>", gw.home()),
        "",
    );
    let text = gw.post("/SOAP/iti39", CT_SOAP, body).await.text();
    assert!(text.contains("XDSMissingHomeCommunityId"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_documents_parameters_filter_the_offered_entry() {
    let gw = gateway(|_| {}).await;
    let with = |slot: &str| {
        iti38_request(PATIENT).replace("</rim:AdhocQuery>", &format!("{slot}</rim:AdhocQuery>"))
    };
    let class = |code: &str| {
        with(&format!(
            "<rim:Slot name=\"$XDSDocumentEntryClassCode\"><rim:ValueList><rim:Value>('{code}^^2.16.840.1.113883.6.1')</rim:Value></rim:ValueList></rim:Slot>"
        ))
    };
    let hit = gw
        .post("/SOAP/iti38", CT_SOAP, class("34133-9"))
        .await
        .text();
    assert!(unique_id(&hit).is_some(), "{hit}");
    let miss = gw
        .post("/SOAP/iti38", CT_SOAP, class("11488-4"))
        .await
        .text();
    assert!(unique_id(&miss).is_none(), "{miss}");
    assert!(miss.contains("ResponseStatusType:Success"), "{miss}");
    let conf = with(
        "<rim:Slot name=\"$XDSDocumentEntryConfidentialityCode\"><rim:ValueList><rim:Value>('R^^2.16.840.1.113883.5.25')</rim:Value></rim:ValueList></rim:Slot>",
    );
    let miss = gw.post("/SOAP/iti38", CT_SOAP, conf).await.text();
    assert!(unique_id(&miss).is_none(), "{miss}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_gets_clear_errors_from_the_running_gateway() {
    let gw = gateway(|_| {}).await;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ihe-messaging/tests/hostile");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20);
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let ct = std::fs::read_to_string(format!("{}.ct", p.display()))
            .unwrap_or_else(|_| CT_SOAP.to_owned());
        let endpoint = &name[..5];
        let r = gw
            .post(
                &format!("/SOAP/{endpoint}"),
                &ct,
                std::fs::read(&p).unwrap(),
            )
            .await;
        let text = r.text();
        if r.status == 431 && ct.len() > 16 * 1024 {
            // A 100,000-character Content-Type never reaches the handler: hyper refuses the
            // header block itself.
            assert_eq!(gw.get("/health/live").await.status, 200, "after {name}");
            continue;
        }
        assert!(
            r.status == 200 || r.status == 400,
            "{name}: {} {text}",
            r.status
        );
        assert!(
            text.contains("Fault>")
                || text.contains("RegistryError ")
                || text.contains("<acknowledgement>"),
            "{name}: {text}"
        );
        assert!(r.body.len() < 8192, "{name}: {} bytes", r.body.len());
        lxml_well_formed(&r.body, &name);
        assert_eq!(gw.get("/health/live").await.status, 200, "after {name}");
    }
}

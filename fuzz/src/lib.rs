//! Fuzz harnesses: the SOAP request parsers (ITI-55, ITI-47, ITI-38, ITI-39, plain and MTOM)
//! with the response builders behind them, and the C-CDA converter. A harness panics (a
//! crash for AFL) when a parser panics or when any answer we would send is not well-formed
//! XML (read back with our parser, which refuses what XML 1.0 forbids).

use chrono::{TimeZone, Utc};
use ihe_messaging::*;

fn cfg() -> ResponderConfig {
    ResponderConfig {
        home_community_id: "2.16.840.1.113883.2.1.3.34.9001".into(),
        repository_unique_id: "2.16.840.1.113883.2.1.3.34.9001.1".into(),
        device_oid: "2.16.840.1.113883.2.1.3.34.9001.2".into(),
        device_name: "Xhuma".into(),
        organization_oid: "2.16.840.1.113883.2.1.3.34.9001.3".into(),
        organization_name: "Xhuma".into(),
    }
}

fn meta() -> ReplyMeta<'static> {
    ReplyMeta {
        message_id: "urn:uuid:6f1b3a8e-2c4d-4e5f-8a9b-0c1d2e3f4a5b",
        now: Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26).unwrap(),
    }
}

/// Every answer must be well-formed; an MTOM answer is split first.
fn check(r: &SoapResponse) {
    let (media, params) = mtom::parse_content_type(&r.content_type);
    let root = if media == "multipart/related" {
        mtom::parse(&r.body, &params)
            .expect("our MTOM answer splits")
            .root
    } else {
        r.body.clone()
    };
    if let Err(e) = xml::parse(&root) {
        panic!(
            "ill-formed answer ({e}): {}",
            String::from_utf8_lossy(&root)
        );
    }
}

/// Input: one selector byte (bits 0-1: ITI-55, ITI-47, ITI-38, ITI-39; bit 2: the
/// Content-Type is the first line of the rest, e.g. an MTOM `multipart/related`), then the
/// HTTP body.
pub fn soap(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (ct, body) = if sel & 4 != 0 {
        let Some(i) = rest.iter().position(|&b| b == b'\n') else {
            return;
        };
        (
            String::from_utf8_lossy(&rest[..i]).into_owned(),
            &rest[i + 1..],
        )
    } else {
        ("application/soap+xml; charset=UTF-8".to_owned(), rest)
    };
    let cfg = cfg();
    match sel & 3 {
        0 | 1 => {
            let parsed = if sel & 3 == 0 {
                parse_iti55(body, &ct)
            } else {
                parse_iti47(body, &ct)
            };
            match parsed {
                Err(f) => check(&f.to_response(meta().message_id)),
                Ok(req) => {
                    let build = if sel & 3 == 0 {
                        build_iti55_response
                    } else {
                        build_iti47_response
                    };
                    check(&build(&req, &PatientQueryOutcome::NoMatch, &cfg, meta()));
                }
            }
        }
        2 => match parse_iti38(body, &ct) {
            Err(r) => check(&r.to_response(Transaction::Iti38, meta())),
            Ok(req) => {
                let mut errors: Vec<RegistryError> =
                    req.body.check_community(&cfg).err().into_iter().collect();
                let entry = DocumentEntry::on_demand_summary(
                    "urn:uuid:0b7e1b8e-54c1-4f61-9d3e-1e0a5d2d9c01",
                    "2.25.1",
                    nhs_number::NhsNumber::parse("9692136744").expect("valid"),
                );
                let entries = match &req.body.query {
                    StoredQuery::FindDocuments(fd) if fd.matches(&entry) => vec![entry],
                    StoredQuery::GetDocuments(GetDocuments::UniqueIds(ids)) => {
                        errors.extend(ids.iter().map(|i| RegistryError::unknown_document(i)));
                        vec![]
                    }
                    _ => vec![],
                };
                check(&build_iti38_response(&req, &entries, &errors, &cfg, meta()));
            }
        },
        _ => match parse_iti39(body, &ct) {
            Err(r) => check(&r.to_response(Transaction::Iti39, meta())),
            Ok(req) => {
                let (ours, errors) = req.body.triage(&cfg);
                let docs: Vec<RetrievedDocument> = ours
                    .iter()
                    .map(|d| RetrievedDocument {
                        document_unique_id: d.document_unique_id.clone(),
                        mime_type: "text/xml".into(),
                        content: bytes_of(&d.document_unique_id),
                        base64: None,
                    })
                    .collect();
                check(&build_iti39_response(&req, &docs, &errors, &cfg, meta()));
            }
        },
    }
}

fn bytes_of(s: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!("<doc>{}</doc>", s.len()).into_bytes())
}

/// Input: a FHIR STU3 Bundle (JSON). A converted document must be well-formed XML.
pub fn ccda(data: &[u8]) {
    if let Ok(c) = ccda_convert::convert(data, &ccda_convert::ConvertOptions::default())
        && let Err(e) = xml::parse(c.xml.as_bytes())
    {
        panic!("the converter wrote ill-formed XML: {e}");
    }
}

/// Without AFL: runs `harness` on each file named on the command line (a corpus replay).
pub fn replay(harness: fn(&[u8])) {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input file");
        harness(&data);
        println!("ok {path}");
    }
}

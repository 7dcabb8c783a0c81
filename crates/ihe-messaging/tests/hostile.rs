//! Replays the hostile-input corpus in `tests/hostile/` (written by `tests/hostile/generate.py`):
//! every file is refused by its transaction's parser with a SOAP Fault or an ebXML registry
//! error, never a panic; the answer is small (nothing hostile is echoed at length) and
//! well-formed XML (checked with lxml, an independent parser).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use ihe_messaging::*;

fn corpus() -> Vec<(String, Vec<u8>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "xml") {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let ct = std::fs::read_to_string(dir.join(format!("{name}.ct")))
                .unwrap_or_else(|_| CT_SOAP.to_owned());
            out.push((name, std::fs::read(&p).unwrap(), ct));
        }
    }
    out.sort();
    out
}

/// The refusal for one corpus file, rendered; panics if the parser accepted it.
fn refuse(name: &str, body: &[u8], ct: &str) -> (SoapResponse, String) {
    let rejected = |r: Rejection, tx| {
        let what = match &r {
            Rejection::Fault(f) => format!("fault: {}", f.reason),
            Rejection::Registry { errors, .. } => format!(
                "registry: {} {}",
                errors[0].code.as_str(),
                errors[0].context
            ),
        };
        (r.to_response(tx, meta()), what)
    };
    if name.starts_with("iti39") {
        match parse_iti39(body, ct) {
            Ok(r) => panic!("{name} was accepted: {:?}", r.body.documents.len()),
            Err(r) => rejected(r, Transaction::Iti39),
        }
    } else if name.starts_with("iti38") {
        match parse_iti38(body, ct) {
            Ok(r) => panic!("{name} was accepted: {:?}", r.body.query),
            Err(r) => rejected(r, Transaction::Iti38),
        }
    } else if name.starts_with("iti55") {
        match parse_iti55(body, ct) {
            Ok(_) => panic!("{name} was accepted"),
            Err(f) => {
                let what = format!("fault: {}", f.reason);
                (f.to_response(OUR_MESSAGE_ID), what)
            }
        }
    } else {
        panic!("{name}: the file name must start with the transaction (iti38, iti39, iti55)")
    }
}

#[test]
fn every_hostile_request_is_refused_clearly_and_answered_with_small_well_formed_xml() {
    let files = corpus();
    assert!(files.len() >= 20, "the corpus is in tests/hostile");
    let mut answers = Vec::new();
    for (name, body, ct) in &files {
        let (name, body, ct) = (name.as_str(), body.as_slice(), ct.as_str());
        let (resp, what) = refuse(name, body, ct);
        assert!(
            resp.body.len() < 4096,
            "{name}: the answer is {} bytes; hostile input must not be echoed at length",
            resp.body.len()
        );
        assert!(
            what.len() > 20,
            "{name}: the error says what is wrong: {what}"
        );
        eprintln!("{name}: {what}");
        answers.push(resp.body);
    }
    let bad = lxml_ill_formed(&answers);
    assert!(bad.is_empty(), "ill-formed answers: {bad:?}");
    // The check can fail: a raw control character is caught.
    assert_eq!(lxml_ill_formed(&[b"<a>\x01</a>".to_vec()]).len(), 1);
}

/// The specific refusals the issue names.
#[test]
fn named_cases_get_their_specific_error() {
    let by_name: std::collections::HashMap<String, (Vec<u8>, String)> =
        corpus().into_iter().map(|(n, b, c)| (n, (b, c))).collect();
    let why = |n: &str| {
        let (b, c) = &by_name[n];
        refuse(n, b, c).1
    };
    let dup = why("iti39-1500-duplicate-document-requests.xml");
    assert!(
        dup.contains("XDSRepositoryError") && dup.contains("at most 16"),
        "{dup}"
    );
    assert!(why("iti39-mtom-100k-boundary.xml").contains("RFC 2046"));
    assert!(why("iti39-mtom-71-char-boundary.xml").contains("71 characters"));
    assert!(why("iti38-control-char-reference-in-message-id.xml").contains("U+0001"));
    assert!(why("iti38-raw-nul-in-slot.xml").contains("U+0000"));
    assert!(why("iti38-uffff-in-slot.xml").contains("U+FFFF"));
    assert!(why("iti38-getdocuments-1000-ids.xml").contains("XDSTooManyResults"));
    assert!(why("iti39-long-message-id.xml").contains("MessageID is longer than 256"));
    assert!(why("iti55-100-subject-ids.xml").contains("livingSubjectId more than 64"));
}

/// Found by the `soap` fuzz target: an unsupported Content-Type was quoted whole in the Fault,
/// control characters included, so the Fault was not well-formed XML.
#[test]
fn an_unsupported_content_type_is_quoted_short_and_printable() {
    let ct = format!("gp\u{2}<x>{}", "a".repeat(10_000));
    let f = parse_iti38(b"<x/>", &ct).unwrap_err();
    let resp = f.to_response(Transaction::Iti38, meta());
    assert!(resp.body.len() < 2048, "{} bytes", resp.body.len());
    assert!(lxml_ill_formed(&[resp.body]).is_empty());
}

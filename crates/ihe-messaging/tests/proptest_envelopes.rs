//! Mutated envelopes never panic: every parser returns a value or a Fault/Rejection.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;

fn seeds() -> Vec<(Vec<u8>, &'static str)> {
    let pdq = fixture("iti47-ipf/pdq-translation/PDQ_Maximal_Query.xml");
    vec![
        (
            wrap(
                &pdq,
                "urn:hl7-org:v3:PRPA_IN201305UV02",
                "urn:uuid:1",
                SAML_HEADER,
            )
            .into_bytes(),
            CT_SOAP,
        ),
        (fixture("xca-nist/soap-xcq-req.xml").into_bytes(), CT_SOAP),
        (fixture("xca-nist/soap-xcr-req.xml").into_bytes(), CT_SOAP),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop::sample::select(vec![
                b"<".to_vec(),
                b">".to_vec(),
                b"&".to_vec(),
                b"&amp;".to_vec(),
                b"&#0;".to_vec(),
                b"]]>".to_vec(),
                b"<![CDATA[".to_vec(),
                b"\"".to_vec(),
                b"xmlns:x=\"\"".to_vec(),
                b"</S:Body>".to_vec(),
                b"<x:y/>".to_vec(),
                "\u{feff}".as_bytes().to_vec(),
                vec![0xc3],
            ])
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(i, v) => {
                if !b.is_empty() {
                    let i = i % b.len();
                    b[i] = *v;
                }
            }
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Insert(i, bytes) => {
                let i = i % len;
                let i = i.min(b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = (i % len).min(b.len());
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Duplicate(i, n) => {
                let i = (i % len).min(b.len());
                let end = (i + n).min(b.len());
                let chunk = b[i..end].to_vec();
                b.splice(end..end, chunk);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn mutated_envelopes_never_panic(seed in 0usize..3, muts in prop::collection::vec(mutation(), 1..6), mtom in any::<bool>()) {
        let (base, ct) = seeds().swap_remove(seed);
        let bytes = apply(base, &muts);
        let (ct, bytes) = if mtom {
            let (ct, b) = as_mtom(&String::from_utf8_lossy(&bytes), "urn:x");
            (ct, b)
        } else {
            (ct.to_owned(), bytes)
        };
        let _ = ihe_messaging::parse_iti55(&bytes, &ct).map_err(|f| f.to_response("urn:uuid:f"));
        let _ = ihe_messaging::parse_iti47(&bytes, &ct).map_err(|f| f.to_response("urn:uuid:f"));
        let _ = ihe_messaging::parse_iti38(&bytes, &ct).map_err(|r| r.to_response(ihe_messaging::Transaction::Iti38, meta()));
        let _ = ihe_messaging::parse_iti39(&bytes, &ct).map_err(|r| r.to_response(ihe_messaging::Transaction::Iti39, meta()));
        let _ = ihe_messaging::xca::retrieve::parse_response(&bytes, &ct);
    }

    #[test]
    fn arbitrary_multipart_never_panics(body in prop::collection::vec(any::<u8>(), 0..400), boundary in "[a-z:=_-]{0,8}") {
        let ct = format!("multipart/related; boundary=\"{boundary}\"; type=\"application/xop+xml\"");
        let _ = ihe_messaging::parse_iti39(&body, &ct);
        let mut framed = format!("--{boundary}\r\n\r\n").into_bytes();
        framed.extend_from_slice(&body);
        let _ = ihe_messaging::parse_iti39(&framed, &ct);
    }
}

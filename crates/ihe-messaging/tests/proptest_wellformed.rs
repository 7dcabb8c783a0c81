//! Every answer is well-formed XML: random hostile strings (control characters, NUL, U+FFFE,
//! U+FFFF, markup characters, long runs), sent raw, escaped or as character references in every
//! field we echo (MessageID, ITI-38 slot values, ITI-39 ids, HL7 ids, names and foreign
//! attributes/namespaces in queryByParameter), produce either a response or a Fault, and
//! every one of them parses with lxml (libxml2), an independent parser. One python process
//! checks the whole batch, so the cost stays small.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ihe_messaging::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const ITI38: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
const ITI39: &str = "urn:ihe:iti:2007:CrossGatewayRetrieve";
const ITI55: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";

/// How a hostile string is written into the request.
#[derive(Debug, Clone, Copy)]
enum Enc {
    /// Markup characters escaped, everything else raw (so control characters arrive raw).
    Escaped,
    /// Every non-ASCII-alphanumeric character as a `&#x…;` reference.
    References,
    /// As is: markup characters may break the request itself.
    Raw,
}

fn encode(s: &str, enc: Enc) -> String {
    match enc {
        Enc::Raw => s.to_owned(),
        Enc::Escaped => s
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;"),
        Enc::References => s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("&#x{:X};", u32::from(c))
                }
            })
            .collect(),
    }
}

fn hostile() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => any::<char>(),
        2 => proptest::char::range('\u{0}', '\u{1F}'),
        1 => prop_oneof![Just('\u{FFFE}'), Just('\u{FFFF}'), Just('\u{7F}'), Just('\u{85}')],
        2 => prop_oneof![Just('<'), Just('&'), Just('"'), Just('\''), Just(']'), Just('>'), Just(':')],
        3 => proptest::char::range('a', 'z'),
    ];
    prop_oneof![
        8 => proptest::collection::vec(ch, 0..24).prop_map(|v| v.into_iter().collect()),
        // Long values: must be refused or bounded, never echoed at length.
        1 => (1usize..5000).prop_map(|n| "7".repeat(n)),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Field {
    MessageId,
    SlotValue,
    GetDocumentsId,
    Home,
    RetrieveUniqueId,
    RetrieveHome,
    Hl7Family,
    Hl7IdRoot,
    Hl7SenderRoot,
    ForeignNamespace,
    ForeignAttribute,
}

fn field() -> impl Strategy<Value = Field> {
    use Field::*;
    prop_oneof![
        Just(MessageId),
        Just(SlotValue),
        Just(GetDocumentsId),
        Just(Home),
        Just(RetrieveUniqueId),
        Just(RetrieveHome),
        Just(Hl7Family),
        Just(Hl7IdRoot),
        Just(Hl7SenderRoot),
        Just(ForeignNamespace),
        Just(ForeignAttribute),
    ]
}

fn iti38(msg_id: &str, class: &str, uid: &str, home: &str, get: bool) -> String {
    let slots = if get {
        format!(
            "<r:Slot name=\"$XDSDocumentEntryUniqueId\"><r:ValueList><r:Value>('{uid}','2.25.1')</r:Value></r:ValueList></r:Slot>"
        )
    } else {
        format!(
            "<r:Slot name=\"$XDSDocumentEntryPatientId\"><r:ValueList><r:Value>'9692136744^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</r:Value></r:ValueList></r:Slot><r:Slot name=\"$XDSDocumentEntryStatus\"><r:ValueList><r:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</r:Value></r:ValueList></r:Slot><r:Slot name=\"$XDSDocumentEntryClassCode\"><r:ValueList><r:Value>('{class}')</r:Value></r:ValueList></r:Slot>"
        )
    };
    let body = format!(
        r#"<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><q:ResponseOption returnType="LeafClass"/><r:AdhocQuery id="{}" home="{home}">{slots}</r:AdhocQuery></q:AdhocQueryRequest>"#,
        if get {
            "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
        } else {
            "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
        }
    );
    wrap(&body, ITI38, msg_id, "")
}

fn iti39(msg_id: &str, uid: &str, home: &str) -> String {
    let body = format!(
        "<x:RetrieveDocumentSetRequest xmlns:x=\"urn:ihe:iti:xds-b:2007\"><x:DocumentRequest><x:HomeCommunityId>{home}</x:HomeCommunityId><x:RepositoryUniqueId>{}</x:RepositoryUniqueId><x:DocumentUniqueId>{uid}</x:DocumentUniqueId></x:DocumentRequest></x:RetrieveDocumentSetRequest>",
        cfg().repository_unique_id
    );
    wrap(&body, ITI39, msg_id, "")
}

fn iti55(msg_id: &str, family: &str, root: &str, sender: &str, ns: &str, attr: &str) -> String {
    let body = format!(
        r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0"><id root="{root}" extension="1"/><creationTime value="20250314150926"/><interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/><processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="AL"/><receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.3"/></device></receiver><sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="{sender}"/></device></sender><controlActProcess classCode="CACT" moodCode="EVN"><code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/><queryByParameter><queryId root="1.2.5" extension="q1"/><statusCode code="new"/><responseModalityCode code="R"/><responsePriorityCode code="I"/><parameterList><livingSubjectName xmlns:z="{ns}" xmlns:y="urn:y" z:a="{attr}" y:b="2"><value><family>{family}</family></value><semanticsText>n</semanticsText></livingSubjectName></parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>"#
    );
    wrap(&body, ITI55, msg_id, "")
}

/// The request for a hostile value in `f`, and the answer the library gives to it.
fn answer(f: Field, v: &str) -> (String, Vec<u8>) {
    use Field::*;
    let home = cfg().home_urn();
    let m = |x: Field| -> String {
        if std::mem::discriminant(&x) == std::mem::discriminant(&f) {
            v.to_owned()
        } else {
            String::new()
        }
    };
    let or = |s: String, d: &str| if s.is_empty() { d.to_owned() } else { s };
    let msg = or(m(MessageId), "urn:uuid:p-1");
    let (request, tx) = match f {
        MessageId | SlotValue => (
            iti38(&msg, &or(m(SlotValue), "a^^1.2"), "", &home, false),
            Transaction::Iti38,
        ),
        GetDocumentsId | Home => (
            iti38(
                &msg,
                "",
                &or(m(GetDocumentsId), "2.25.9"),
                &or(m(Home), &home),
                true,
            ),
            Transaction::Iti38,
        ),
        RetrieveUniqueId | RetrieveHome => (
            iti39(
                &msg,
                &or(m(RetrieveUniqueId), "2.25.9"),
                &or(m(RetrieveHome), &home),
            ),
            Transaction::Iti39,
        ),
        Hl7Family | Hl7IdRoot | Hl7SenderRoot | ForeignNamespace | ForeignAttribute => (
            iti55(
                &msg,
                &or(m(Hl7Family), "Smith"),
                &or(m(Hl7IdRoot), "1.2.4"),
                &or(m(Hl7SenderRoot), "1.2.6"),
                &or(m(ForeignNamespace), "urn:z"),
                &or(m(ForeignAttribute), "1"),
            ),
            Transaction::Iti55,
        ),
    };
    let body = request.as_bytes();
    let resp = match tx {
        Transaction::Iti38 => match parse_iti38(body, CT_SOAP) {
            Err(r) => r.to_response(tx, meta()),
            Ok(req) => {
                let mut errors = Vec::new();
                if let Err(e) = req.body.check_community(&cfg()) {
                    errors.push(e);
                }
                if let StoredQuery::GetDocuments(GetDocuments::UniqueIds(ids)) = &req.body.query {
                    errors.extend(ids.iter().map(|i| RegistryError::unknown_document(i)));
                }
                let entry = DocumentEntry::on_demand_summary(
                    "urn:uuid:e",
                    "2.25.1",
                    nhs_number::NhsNumber::parse("9692136744").unwrap(),
                );
                build_iti38_response(&req, &[entry], &errors, &cfg(), meta())
            }
        },
        Transaction::Iti39 => match parse_iti39(body, CT_SOAP) {
            Err(r) => r.to_response(tx, meta()),
            Ok(req) => {
                let (ours, mut errors) = req.body.triage(&cfg());
                errors.extend(
                    ours.iter()
                        .map(|d| RegistryError::unknown_document(&d.document_unique_id)),
                );
                build_iti39_response(&req, &[], &errors, &cfg(), meta())
            }
        },
        _ => match parse_iti55(body, CT_SOAP) {
            Err(f) => f.to_response(OUR_MESSAGE_ID),
            Ok(req) => build_iti55_response(&req, &PatientQueryOutcome::NoMatch, &cfg(), meta()),
        },
    };
    (request, resp.body)
}

#[test]
fn every_answer_to_a_hostile_request_is_well_formed() {
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let cases: std::cell::RefCell<Vec<(String, Vec<u8>)>> = std::cell::RefCell::default();
    let strategy = (
        field(),
        hostile(),
        prop_oneof![Just(Enc::Escaped), Just(Enc::References), Just(Enc::Raw)],
    );
    runner
        .run(&strategy, |(f, s, enc)| {
            let (req, resp) = answer(f, &encode(&s, enc));
            prop_assert!(resp.len() < 64 * 1024, "answer of {} bytes", resp.len());
            cases
                .borrow_mut()
                .push((format!("{f:?} {enc:?} {s:?}\n{req}"), resp));
            Ok(())
        })
        .unwrap();
    let cases = cases.into_inner();
    let answers: Vec<Vec<u8>> = cases.iter().map(|(_, r)| r.clone()).collect();
    let bad = lxml_ill_formed(&answers);
    if let Some((i, err)) = bad.first() {
        panic!(
            "{} of {} answers are not well-formed; first: {err}\nrequest: {}\nanswer: {}",
            bad.len(),
            answers.len(),
            cases[*i].0,
            String::from_utf8_lossy(&cases[*i].1)
        );
    }
}

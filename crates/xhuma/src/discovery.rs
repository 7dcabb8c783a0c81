//! ITI-55 (XCPD) and ITI-47 (PDQv3) patient discovery: which patient, if any, a query
//! identifies, and the HL7 acknowledgement that says so.
//!
//! With an NHS number, the PDS record is read and every demographic the query also carries is
//! checked against it ([`crate::matching::verify`]): a contradiction is answered as no match
//! (AA / NF), never with the record, so a wrong NHS number from the EHR does not disclose
//! another person. Without one, a non-fuzzy PDS search is made when the query has at least a
//! family name and a birth date: exactly one confident match is answered, several are
//! answered NF with acknowledgementDetails asking for more demographics (ITI TF-2b 3.55.4.4.2
//! case 3 codes), none is NF.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::NaiveDate;
use ihe_messaging::hl7v3::response::ErrorResponseCode;
use ihe_messaging::{
    Address, Gender, GpPractice, PatientDemographics, PatientQuery, PatientQueryOutcome,
    PersonName, QueryErrorDetail, SoapResponse, SubjectId, Transaction,
};
use nhs_number::NhsNumber;
use nhs_spine::pds_search::SearchQuery;

use crate::app::AppState;
use crate::flow::{Caller, FlowError, SearchResult};
use crate::matching;
use crate::soap::{Handled, XHUMA_CODES, caller, meta, new_message_id, with_relates};
use crate::spine::{CachedPatient, PatientLookup, PatientStatus};

/// ITI TF-2b Table 3.55.4.4.2-4: attributes a responder asks for to tell patients apart.
const IHE_MORE_ATTRIBUTES: &str = "1.3.6.1.4.1.19376.1.2.27.1";

/// The decision for one query, before it is written as HL7.
struct Answer {
    outcome: PatientQueryOutcome,
    label: &'static str,
    code: Option<String>,
    pseudonym: Option<String>,
    /// NF because the demographics fit several patients: what else would help.
    ask_for_more: Option<Vec<&'static str>>,
}

impl Answer {
    fn new(outcome: PatientQueryOutcome, label: &'static str, code: Option<&str>) -> Self {
        Self {
            outcome,
            label,
            code: code.map(str::to_owned),
            pseudonym: None,
            ask_for_more: None,
        }
    }

    fn no_match(code: &str) -> Self {
        Self::new(PatientQueryOutcome::NoMatch, "no_match", Some(code))
    }
}

pub(crate) async fn patient_query(
    st: &Arc<AppState>,
    tx: Transaction,
    body: &[u8],
    content_type: &str,
    peer: SocketAddr,
) -> Handled {
    let id = new_message_id();
    let limits = st.flow.cfg.limits.request_limits();
    let parsed = crate::cpu::heavy(body.len(), || match tx {
        Transaction::Iti55 => ihe_messaging::parse_iti55_with(body, content_type, &limits),
        _ => ihe_messaging::parse_iti47_with(body, content_type, &limits),
    })
    .await;
    let req = match parsed {
        Ok(r) => r,
        Err(fault) => {
            let mut h = Handled::new(fault.to_response(&id), "fault");
            h.error_code = Some("soap_fault".into());
            return h;
        }
    };
    let caller = match caller(st, &req.header, peer) {
        Ok(c) => c,
        Err(f) => {
            let mut h = Handled::new(with_relates(f, &req.header).to_response(&id), "fault");
            h.error_code = Some("saml".into());
            h.message_id.clone_from(&req.header.message_id);
            return h;
        }
    };
    let answer = decide(st, &req.body, &caller).await;
    let mut response = match tx {
        Transaction::Iti55 => {
            ihe_messaging::build_iti55_response(&req, &answer.outcome, &st.responder, meta(&id))
        }
        _ => ihe_messaging::build_iti47_response(&req, &answer.outcome, &st.responder, meta(&id)),
    };
    if let Some(wanted) = &answer.ask_for_more {
        add_more_attributes_details(&mut response, wanted);
    }
    let mut h = Handled::new(response, answer.label);
    h.error_code = answer.code;
    h.patient_pseudonym = answer.pseudonym;
    h.caller = Some(caller);
    h.message_id.clone_from(&req.header.message_id);
    h
}

async fn decide(st: &Arc<AppState>, q: &PatientQuery, caller: &Caller) -> Answer {
    let birth = match matching::query_birth_date(q) {
        Ok(b) => b,
        Err(e) => {
            return Answer::new(
                PatientQueryOutcome::Error(QueryErrorDetail::bad_parameter(
                    "livingSubjectBirthTime",
                    &e.to_string(),
                )),
                "error",
                Some("invalid_birth_time"),
            );
        }
    };
    let mut nhs: Option<NhsNumber> = None;
    let mut other_root: Option<String> = None;
    for sid in &q.subject_ids {
        match sid {
            SubjectId::Nhs(n) if nhs.is_none() => nhs = Some(n.clone()),
            SubjectId::Other(h) if other_root.is_none() => other_root = Some(h.root.clone()),
            _ => {}
        }
    }
    match (nhs, q.invalid_nhs_number()) {
        (Some(n), _) => by_nhs_number(st, q, &n, caller).await,
        (None, Some(_)) => Answer::new(
            PatientQueryOutcome::Error(QueryErrorDetail::bad_parameter(
                "livingSubjectId",
                "the NHS number fails its check digit",
            )),
            "error",
            Some("invalid_nhs_number"),
        ),
        // An identifier of another domain (e.g. the EHR's MRN, which XCPD initiators send)
        // does not stop a demographic search.
        (None, None) => match matching::search_query(q, birth) {
            Some(search) => by_demographics(st, q, &search, caller).await,
            None => match other_root {
                Some(root) => Answer::new(
                    PatientQueryOutcome::Error(QueryErrorDetail::unknown_domain(&root)),
                    "error",
                    Some("unknown_domain"),
                ),
                None => Answer::new(
                    PatientQueryOutcome::Error(QueryErrorDetail::missing_parameter(
                        "livingSubjectId with an NHS number, or livingSubjectName with a family \
                         name and livingSubjectBirthTime",
                    )),
                    "error",
                    Some("missing_nhs_number"),
                ),
            },
        },
    }
}

async fn by_nhs_number(
    st: &Arc<AppState>,
    q: &PatientQuery,
    n: &NhsNumber,
    caller: &Caller,
) -> Answer {
    let pseud = st.flow.pseudonym(n);
    let mut a = match st.flow.lookup_patient(n, caller).await {
        Ok(PatientLookup::NotFound) => Answer::new(PatientQueryOutcome::NoMatch, "not_found", None),
        Ok(PatientLookup::Known(p)) => known_patient(q, &p),
        Err(e) => flow_error(&e),
    };
    a.pseudonym = Some(pseud);
    a
}

async fn by_demographics(
    st: &Arc<AppState>,
    q: &PatientQuery,
    search: &SearchQuery,
    caller: &Caller,
) -> Answer {
    match st.flow.search_patient(search, caller).await {
        Ok(SearchResult::Unique { patient, score }) => {
            let pseud = patient.nhs().map(|n| st.flow.pseudonym(&n));
            // PDS scores 1.0 for an exact match; anything less is a guess we do not make.
            let mut a = if score.is_some_and(|s| s < 1.0) {
                let mut a = Answer::no_match("uncertain_match");
                a.ask_for_more = Some(missing_attributes(search));
                a
            } else {
                known_patient(q, &patient)
            };
            a.pseudonym = pseud;
            a
        }
        Ok(SearchResult::NoMatch) => Answer::new(PatientQueryOutcome::NoMatch, "not_found", None),
        Ok(SearchResult::Several) => {
            let mut a = Answer::no_match("multiple_matches");
            a.ask_for_more = Some(missing_attributes(search));
            a
        }
        Err(e) => flow_error(&e),
    }
}

/// The answer for a patient PDS knows: demographics checked first, so a contradicting query
/// learns nothing (not even that the record is restricted).
fn known_patient(q: &PatientQuery, p: &CachedPatient) -> Answer {
    if let Err(m) = matching::verify(q, p) {
        return Answer::no_match(m.code());
    }
    match p.status {
        PatientStatus::Found => match demographics(p) {
            Some(d) => Answer::new(PatientQueryOutcome::Match(vec![d]), "success", None),
            None => Answer::new(
                PatientQueryOutcome::Error(QueryErrorDetail::internal(
                    "the demographics service returned an unusable record",
                )),
                "error",
                Some("internal_error"),
            ),
        },
        PatientStatus::Restricted => Answer::new(
            gateway_error(&FlowError::Restricted),
            "restricted",
            Some("restricted"),
        ),
        PatientStatus::Deceased => Answer::new(
            gateway_error(&FlowError::Deceased),
            "deceased",
            Some("deceased"),
        ),
    }
}

fn flow_error(e: &FlowError) -> Answer {
    Answer::new(gateway_error(e), "error", Some(e.code()))
}

/// IHE "more attributes requested" codes for what the search lacked.
fn missing_attributes(search: &SearchQuery) -> Vec<&'static str> {
    let mut wanted = Vec::new();
    if search.gender.is_none() {
        wanted.push("LivingSubjectAdministrativeGenderRequested");
    }
    if search.postcode.is_none() {
        wanted.push("PatientAddressRequested");
    }
    wanted
}

/// Adds acknowledgementDetails to an AA / NF answer. `ihe-messaging` writes no detail for a
/// no-match outcome, so they are inserted before `</acknowledgement>`, which occurs once.
fn add_more_attributes_details(response: &mut SoapResponse, wanted: &[&str]) {
    let mut details = String::new();
    for code in wanted {
        details.push_str(&format!(
            "<acknowledgementDetail typeCode=\"I\"><code code=\"{code}\" \
             codeSystem=\"{IHE_MORE_ATTRIBUTES}\"/></acknowledgementDetail>"
        ));
    }
    details.push_str(&format!(
        "<acknowledgementDetail typeCode=\"I\"><code code=\"more_demographics_required\" \
         codeSystem=\"{XHUMA_CODES}\"/><text>more than one patient, or no single patient with \
         certainty, fits the demographics given; add given name, gender and postcode to \
         identify one</text></acknowledgementDetail>"
    ));
    let marker = b"</acknowledgement>";
    if let Some(at) = response
        .body
        .windows(marker.len())
        .position(|w| w == marker)
    {
        response.body.splice(at..at, details.into_bytes());
    }
}

/// An HL7 AE acknowledgement for a gateway condition.
fn gateway_error(e: &FlowError) -> PatientQueryOutcome {
    let code = match e {
        FlowError::Upstream { .. } | FlowError::Internal => "service_unavailable",
        other => other.code(),
    };
    PatientQueryOutcome::Error(QueryErrorDetail {
        code: code.into(),
        code_system: XHUMA_CODES.into(),
        text: e.to_string(),
        location: None,
        response_code: ErrorResponseCode::ApplicationError,
    })
}

fn demographics(p: &CachedPatient) -> Option<PatientDemographics> {
    Some(PatientDemographics {
        nhs_number: p.nhs()?,
        names: p
            .names
            .iter()
            .map(|n| PersonName {
                use_code: n.use_.as_deref().map(name_use),
                prefixes: n.prefix.clone(),
                given: n.given.clone(),
                family: n.family.clone(),
                suffixes: Vec::new(),
            })
            .collect(),
        gender: p.gender.as_deref().and_then(|g| match g {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            "other" | "unknown" => Some(Gender::Undifferentiated),
            _ => None,
        }),
        birth_date: p
            .birth_date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        addresses: p
            .addresses
            .iter()
            .map(|a| Address {
                use_code: a.use_.as_deref().map(address_use),
                lines: a.lines.clone(),
                city: None,
                state: None,
                postal_code: a.postal_code.clone(),
                country: None,
            })
            .collect(),
        telecoms: Vec::new(),
        gp_practice: p.gp_ods_code.as_ref().map(|ods| GpPractice {
            ods_code: ods.clone(),
            name: None,
        }),
        match_score: 100,
    })
}

/// FHIR HumanName.use → HL7 V3 EntityNameUse.
fn name_use(u: &str) -> String {
    match u {
        "usual" | "official" => "L",
        "nickname" => "P",
        "old" => "OR",
        "maiden" => "BR",
        _ => "L",
    }
    .into()
}

/// FHIR Address.use → HL7 V3 PostalAddressUse.
fn address_use(u: &str) -> String {
    match u {
        "home" => "H",
        "work" => "WP",
        "temp" => "TMP",
        "old" => "OLD",
        _ => "H",
    }
    .into()
}

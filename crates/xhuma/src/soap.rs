//! The SOAP endpoints `/SOAP/iti55`, `/SOAP/iti47`, `/SOAP/iti38` and `/SOAP/iti39`.
//!
//! Each handler reads the body under the size limit, parses it with `ihe-messaging`, runs the
//! flow under the time limit and answers with the profile's own error forms: SOAP Faults for
//! envelope problems (including an oversized body, a wrong Content-Type or a timeout), HL7
//! acknowledgement details for ITI-55/47, ebXML registry errors for ITI-38/39. Responses are
//! always synchronous: a non-anonymous ReplyTo is refused by the parser, so no address taken
//! from a request is ever called.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ihe_messaging::GetDocuments;
use ihe_messaging::{
    Author, DocumentEntry, EntryType, RegistryError, ReplyMeta, RetrievedDocument, SoapFault,
    SoapHeader, SoapResponse, StoredQuery, Transaction, XdsErrorCode,
};
use nhs_number::NhsNumber;

use crate::app::AppState;
use crate::flow::{Caller, DocMeta, FlowError};
use crate::security::PeerAddr;

/// Our local code system for gateway conditions that HL7 has no code for (under the
/// gateway's test OID arc; deployments may map these to their own).
pub(crate) const XHUMA_CODES: &str = "1.3.6.1.4.1.21367.2017.2.6.19.99";

/// What a handler produced: the response and the audit facts.
pub(crate) struct Handled {
    pub(crate) response: SoapResponse,
    pub(crate) outcome: &'static str,
    pub(crate) error_code: Option<String>,
    pub(crate) patient_pseudonym: Option<String>,
    pub(crate) document_id: Option<String>,
    pub(crate) message_id: Option<String>,
    /// Who asked (from SAML), once known.
    pub(crate) caller: Option<Caller>,
}

impl Handled {
    pub(crate) fn new(response: SoapResponse, outcome: &'static str) -> Self {
        Self {
            response,
            outcome,
            error_code: None,
            patient_pseudonym: None,
            document_id: None,
            message_id: None,
            caller: None,
        }
    }
}

pub(crate) fn new_message_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

fn to_http(r: SoapResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
}

/// A fault with an HTTP status other than the SOAP default (413, 504, 429).
pub fn fault_response(fault: &SoapFault, status: StatusCode) -> Response {
    let mut r = fault.to_response(&new_message_id());
    r.status = status.as_u16();
    to_http(r)
}

pub async fn iti55(
    State(st): State<Arc<AppState>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(st, Transaction::Iti55, peer, headers, body).await
}

pub async fn iti47(
    State(st): State<Arc<AppState>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(st, Transaction::Iti47, peer, headers, body).await
}

pub async fn iti38(
    State(st): State<Arc<AppState>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(st, Transaction::Iti38, peer, headers, body).await
}

pub async fn iti39(
    State(st): State<Arc<AppState>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(st, Transaction::Iti39, peer, headers, body).await
}

fn tx_name(tx: Transaction) -> &'static str {
    match tx {
        Transaction::Iti55 => "iti55",
        Transaction::Iti47 => "iti47",
        Transaction::Iti38 => "iti38",
        Transaction::Iti39 => "iti39",
    }
}

async fn endpoint(
    st: Arc<AppState>,
    tx: Transaction,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let name = tx_name(tx);
    let limits = &st.flow.cfg.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = match axum::body::to_bytes(body, limits.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let fault = SoapFault::sender(format!(
                "the request body is larger than the {} byte limit",
                limits.max_body_bytes
            ));
            finish(
                &st,
                name,
                peer,
                started,
                "fault",
                Some("body_too_large"),
                None,
            )
            .await;
            return fault_response(&fault, StatusCode::PAYLOAD_TOO_LARGE);
        }
    };
    let timeout = Duration::from_millis(limits.request_timeout_ms);
    let work = handle(&st, tx, &bytes, &content_type, peer);
    let handled = match tokio::time::timeout(timeout, work).await {
        Ok(h) => h,
        Err(_) => {
            let fault = SoapFault::receiver(format!(
                "the request could not be completed within {} ms",
                limits.request_timeout_ms
            ));
            finish(&st, name, peer, started, "fault", Some("timeout"), None).await;
            return fault_response(&fault, StatusCode::GATEWAY_TIMEOUT);
        }
    };
    let mut ev = match &handled.caller {
        Some(c) => c.event(crate::audit::Category::Transaction, name, handled.outcome),
        None => st.caller_event(peer, handled.message_id.clone(), name, handled.outcome),
    };
    ev.error_code.clone_from(&handled.error_code);
    ev.patient_pseudonym.clone_from(&handled.patient_pseudonym);
    ev.document_id.clone_from(&handled.document_id);
    ev.duration_ms = Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    // Nothing is answered before its audit record is durable (fsync'd in the spool).
    if let Err(e) = st.flow.audit.record_durable(ev).await {
        return audit_refusal(name, &e, handled.message_id);
    }
    metrics::counter!("xhuma_requests_total", "transaction" => name, "outcome" => handled.outcome)
        .increment(1);
    metrics::histogram!("xhuma_request_duration_seconds", "transaction" => name)
        .record(started.elapsed().as_secs_f64());
    to_http(handled.response)
}

/// The answer when the audit record cannot be written: a Receiver Fault (503) instead of the
/// response, which is dropped unsent.
fn audit_refusal(
    name: &'static str,
    e: &crate::audit::AuditError,
    relates_to: Option<String>,
) -> Response {
    tracing::error!(error = %e, transaction = name, "request refused: its audit record cannot be written");
    metrics::counter!("xhuma_audit_refused_total", "transaction" => name).increment(1);
    metrics::counter!("xhuma_requests_total", "transaction" => name, "outcome" => "audit_refused")
        .increment(1);
    let mut fault = SoapFault::receiver(
        "the gateway cannot write its audit trail, so it refuses to answer rather than disclose \
         without an audit record; retry later or at another gateway",
    );
    fault.relates_to = relates_to;
    fault_response(&fault, StatusCode::SERVICE_UNAVAILABLE)
}

/// Audit + metrics for requests that ended before a handler ran.
async fn finish(
    st: &AppState,
    name: &'static str,
    peer: SocketAddr,
    started: Instant,
    outcome: &'static str,
    code: Option<&str>,
    message_id: Option<String>,
) {
    let mut ev = st.caller_event(peer, message_id, name, outcome);
    ev.error_code = code.map(str::to_owned);
    ev.duration_ms = Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    st.flow.audit.record(ev).await;
    metrics::counter!("xhuma_requests_total", "transaction" => name, "outcome" => outcome)
        .increment(1);
}

async fn handle(
    st: &Arc<AppState>,
    tx: Transaction,
    body: &[u8],
    content_type: &str,
    peer: SocketAddr,
) -> Handled {
    match tx {
        Transaction::Iti55 | Transaction::Iti47 => {
            crate::discovery::patient_query(st, tx, body, content_type, peer).await
        }
        Transaction::Iti38 => query(st, body, content_type, peer).await,
        Transaction::Iti39 => retrieve(st, body, content_type, peer).await,
    }
}

pub(crate) fn meta(id: &str) -> ReplyMeta<'_> {
    ReplyMeta {
        message_id: id,
        now: Utc::now(),
    }
}

/// Checks the XUA assertion (`xua.rs`: required, verified or read per configuration); returns
/// the caller.
pub(crate) fn caller(
    st: &AppState,
    header: &SoapHeader,
    peer: SocketAddr,
) -> Result<Caller, SoapFault> {
    let gw = &st.flow.cfg.gateway;
    st.xua.check(header.saml.as_ref(), Utc::now())?;
    Ok(Caller {
        ctx: crate::spine::requesting_context(header.saml.as_ref(), gw),
        client_addr: Some(peer.ip().to_string()),
        message_id: header.message_id.clone(),
    })
}

pub(crate) fn with_relates(mut f: SoapFault, header: &SoapHeader) -> SoapFault {
    f.relates_to.clone_from(&header.message_id);
    f
}

/// The ebXML error for a flow failure.
fn registry_error(e: &FlowError) -> RegistryError {
    let code = match e {
        FlowError::PatientNotFound | FlowError::NotAtPractice => XdsErrorCode::UnknownPatientId,
        FlowError::Upstream { busy: true, .. } => XdsErrorCode::RegistryBusy,
        FlowError::Upstream { busy: false, .. } => XdsErrorCode::UnavailableCommunity,
        _ => XdsErrorCode::RegistryError,
    };
    RegistryError::error(code, e.to_string())
}

fn entry(st: &AppState, m: &DocMeta) -> Option<DocumentEntry> {
    let nhs = NhsNumber::parse(&m.nhs_number).ok()?;
    let mut e = DocumentEntry::on_demand_summary(&m.entry_uuid, &m.unique_id, nhs);
    e.title = Some(m.title.clone());
    e.service_start_time = m.service_start;
    e.service_stop_time = m.service_stop;
    e.authors = vec![Author {
        person: None,
        institutions: vec![
            m.custodian_name
                .clone()
                .unwrap_or_else(|| st.flow.cfg.gateway.organization_name.clone()),
        ],
        roles: Vec::new(),
        specialties: Vec::new(),
    }];
    Some(e)
}

async fn query(st: &Arc<AppState>, body: &[u8], content_type: &str, peer: SocketAddr) -> Handled {
    let id = new_message_id();
    let limits = st.flow.cfg.limits.request_limits();
    let parsed = crate::cpu::heavy(body.len(), || {
        ihe_messaging::parse_iti38_with(body, content_type, &limits)
    })
    .await;
    let req = match parsed {
        Ok(r) => r,
        Err(rej) => {
            let mut h = Handled::new(rej.to_response(Transaction::Iti38, meta(&id)), "rejected");
            h.error_code = Some("bad_request".into());
            return h;
        }
    };
    let respond = |entries: &[DocumentEntry], errors: &[RegistryError]| {
        ihe_messaging::build_iti38_response(&req, entries, errors, &st.responder, meta(&id))
    };
    let caller = match caller(st, &req.header, peer) {
        Ok(c) => c,
        Err(f) => {
            let mut h = Handled::new(with_relates(f, &req.header).to_response(&id), "fault");
            h.error_code = Some("saml".into());
            return h;
        }
    };
    // GetDocuments needs `home`; a query for another community is not ours to answer.
    if let Err(e) = req.body.check_community(&st.responder) {
        let mut h = Handled::new(respond(&[], &[e]), "rejected");
        h.error_code = Some("community".into());
        h.message_id.clone_from(&req.header.message_id);
        h.caller = Some(caller);
        return h;
    }
    let mut h = match &req.body.query {
        StoredQuery::FindDocuments(fd) => {
            let nhs = match fd.patient_id.nhs_number() {
                Some(Ok(n)) => n,
                Some(Err(_)) | None => {
                    let err = RegistryError::error(
                        XdsErrorCode::UnknownPatientId,
                        "the patient id is not a valid NHS number in the NHS number domain \
                         (2.16.840.1.113883.2.1.4.1)",
                    );
                    let mut h = Handled::new(respond(&[], &[err]), "unknown_patient");
                    h.error_code = Some("unknown_patient_id".into());
                    h.message_id.clone_from(&req.header.message_id);
                    h.caller = Some(caller);
                    return h;
                }
            };
            let pseud = st.flow.pseudonym(&nhs);
            let wants_on_demand =
                fd.entry_types.is_empty() || fd.entry_types.contains(&EntryType::OnDemand);
            let mut h = if !wants_on_demand {
                // We only offer On-Demand entries: a Stable-only query has no results.
                Handled::new(respond(&[], &[]), "success")
            } else {
                match st.flow.document_for(&nhs, &caller).await {
                    Ok(m) => match entry(st, &m) {
                        // Every FindDocuments parameter applies (ITI-18): an entry the query
                        // excludes is not offered, and nothing is disclosed.
                        Some(e) if !fd.matches(&e) => Handled::new(respond(&[], &[]), "success"),
                        Some(e) => {
                            let mut h = Handled::new(respond(&[e], &[]), "success");
                            h.document_id = Some(m.unique_id.clone());
                            h
                        }
                        None => {
                            let err = registry_error(&FlowError::Internal);
                            Handled::new(respond(&[], &[err]), "error")
                        }
                    },
                    Err(e) => {
                        let mut h =
                            Handled::new(respond(&[], &[registry_error(&e)]), outcome_of(&e));
                        h.error_code = Some(e.code().into());
                        h
                    }
                }
            };
            h.patient_pseudonym = Some(pseud);
            h
        }
        StoredQuery::GetDocuments(GetDocuments::UniqueIds(ids)) => {
            let mut entries = Vec::new();
            for uid in ids {
                if let Some(d) = st.flow.stored_document(uid).await
                    && let Some(e) = entry(st, &d.meta)
                {
                    entries.push(e);
                }
            }
            Handled::new(respond(&entries, &[]), "success")
        }
        StoredQuery::GetDocuments(GetDocuments::EntryUuids(uuids)) => {
            // Entry UUIDs are kept as long as their document is cached; after that the entry
            // is found again with FindDocuments.
            let mut entries = Vec::new();
            for u in uuids {
                if let Some(d) = st.flow.stored_document_by_entry(u).await
                    && let Some(e) = entry(st, &d.meta)
                {
                    entries.push(e);
                }
            }
            Handled::new(respond(&entries, &[]), "success")
        }
    };
    h.message_id.clone_from(&req.header.message_id);
    h.caller = Some(caller);
    h
}

fn outcome_of(e: &FlowError) -> &'static str {
    match e {
        FlowError::PatientNotFound | FlowError::NotAtPractice => "not_found",
        FlowError::Restricted => "restricted",
        FlowError::Deceased => "deceased",
        FlowError::NoConsent => "no_consent",
        FlowError::AccessDenied => "access_denied",
        _ => "error",
    }
}

async fn retrieve(
    st: &Arc<AppState>,
    body: &[u8],
    content_type: &str,
    peer: SocketAddr,
) -> Handled {
    let id = new_message_id();
    let limits = &st.flow.cfg.limits;
    let request_limits = limits.request_limits();
    let parsed = crate::cpu::heavy(body.len(), || {
        ihe_messaging::parse_iti39_with(body, content_type, &request_limits)
    })
    .await;
    let req = match parsed {
        Ok(r) => r,
        Err(rej) => {
            let mut h = Handled::new(rej.to_response(Transaction::Iti39, meta(&id)), "rejected");
            h.error_code = Some("bad_request".into());
            return h;
        }
    };
    let who = match caller(st, &req.header, peer) {
        Ok(c) => c,
        Err(f) => {
            let mut h = Handled::new(with_relates(f, &req.header).to_response(&id), "fault");
            h.error_code = Some("saml".into());
            return h;
        }
    };
    let (ours, mut errors) = req.body.triage(&st.responder);
    let mut docs = Vec::new();
    let mut pseud = None;
    let mut doc_ids = Vec::new();
    // Bytes of documents in the answer so far, as sent (base64 inline grows by 4/3).
    let mut response_bytes = 0usize;
    for d in ours {
        match st.flow.stored_document(&d.document_unique_id).await {
            Some(doc) => {
                let sent = if req.mtom {
                    doc.xml.len()
                } else {
                    doc.xml.len().div_ceil(3) * 4
                };
                if response_bytes.saturating_add(sent) > limits.max_response_bytes {
                    errors.push(
                        RegistryError::error(
                            XdsErrorCode::RepositoryOutOfResources,
                            format!(
                                "the answer would exceed the {} byte response limit; retrieve \
                                 this document in another request",
                                limits.max_response_bytes
                            ),
                        )
                        .at(d.document_unique_id.clone()),
                    );
                    continue;
                }
                response_bytes += sent;
                if let Ok(n) = NhsNumber::parse(&doc.meta.nhs_number) {
                    pseud = Some(st.flow.pseudonym(&n));
                }
                doc_ids.push(doc.meta.unique_id.clone());
                let base64 = if req.mtom {
                    None
                } else {
                    Some(st.flow.inline_base64(&doc).await)
                };
                docs.push(RetrievedDocument {
                    document_unique_id: doc.meta.unique_id.clone(),
                    mime_type: "text/xml".into(),
                    content: doc.xml.clone(),
                    base64,
                });
            }
            None => errors.push(RegistryError::unknown_document(&d.document_unique_id)),
        }
    }
    let outcome = match (docs.is_empty(), errors.is_empty()) {
        (false, true) => "success",
        (false, false) => "partial",
        (true, _) => "not_found",
    };
    let mut h = Handled::new(
        ihe_messaging::build_iti39_response(&req, &docs, &errors, &st.responder, meta(&id)),
        outcome,
    );
    if !errors.is_empty() {
        h.error_code = Some(errors[0].code.as_str().to_owned());
    }
    h.patient_pseudonym = pseud;
    h.document_id = (!doc_ids.is_empty()).then(|| doc_ids.join(" "));
    h.message_id.clone_from(&req.header.message_id);
    h.caller = Some(who);
    h
}

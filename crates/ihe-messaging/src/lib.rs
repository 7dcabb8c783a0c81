//! IHE messaging for the gateway: parses ITI-55 (XCPD), ITI-47 (PDQv3), ITI-38 (XCA query)
//! and ITI-39 (XCA retrieve) requests from raw HTTP bodies, and builds their SOAP 1.2
//! responses and Faults. Pure: no network I/O, no clock, no randomness; message ids and `now`
//! come from the caller so output is deterministic.
//!
//! Each `parse_*` takes the HTTP body and Content-Type (plain `application/soap+xml` or MTOM)
//! and returns the typed request or a [`SoapFault`] ready to render with
//! [`SoapFault::to_response`]. Each `build_*` returns a [`SoapResponse`] ready to send.

pub mod hl7v3;
pub mod limits;
pub mod model;
pub mod mtom;
pub mod saml;
pub mod soap;
pub mod xca;
pub mod xml;

pub use hl7v3::query::{PatientQuery, SubjectId};
pub use hl7v3::response::{ErrorResponseCode, PatientQueryOutcome, QueryErrorDetail};
pub use limits::RequestLimits;
pub use model::*;
pub use saml::{CodedValue, SamlAssertion};
pub use soap::{
    FaultCode, ReplyMeta, SoapFault, SoapHeader, SoapRequest, SoapResponse, Transaction, WsaSubcode,
};
pub use xca::entry::{Author, Code, DocumentEntry, EntryKind};
pub use xca::query::{
    CodeParam, EntryType, FindDocuments, GetDocuments, PatientId, ReturnType, StoredQuery, XcaQuery,
};
pub use xca::retrieve::{DocumentRequest, RetrieveRequest, RetrieveResponse, RetrievedDocument};
pub use xca::{RegistryError, Rejection, Severity, XdsErrorCode};

/// Where the per-request [`RequestLimits`] default comes from for the plain `parse_*` calls.
const DEFAULT_LIMITS: RequestLimits = RequestLimits {
    max_document_requests: 16,
    max_query_values: 64,
    max_id_chars: 256,
    max_text_chars: 1024,
};

fn patient_query(
    body: &[u8],
    content_type: &str,
    tx: Transaction,
    limits: &RequestLimits,
) -> Result<SoapRequest<PatientQuery>, SoapFault> {
    let env = soap::read_request(body, content_type, tx, limits)?;
    let parsed = hl7v3::query::read(&env.body_child, limits).map_err(|mut f| {
        f.relates_to.clone_from(&env.header.message_id);
        f
    })?;
    Ok(SoapRequest {
        header: env.header,
        body: parsed,
        mtom: env.mtom,
    })
}

/// Parses an ITI-55 XCPD Cross Gateway Patient Discovery request.
pub fn parse_iti55(
    body: &[u8],
    content_type: &str,
) -> Result<SoapRequest<PatientQuery>, SoapFault> {
    patient_query(body, content_type, Transaction::Iti55, &DEFAULT_LIMITS)
}

/// [`parse_iti55`] with explicit limits.
pub fn parse_iti55_with(
    body: &[u8],
    content_type: &str,
    limits: &RequestLimits,
) -> Result<SoapRequest<PatientQuery>, SoapFault> {
    patient_query(body, content_type, Transaction::Iti55, limits)
}

/// Parses an ITI-47 PDQv3 Patient Demographics Query request.
pub fn parse_iti47(
    body: &[u8],
    content_type: &str,
) -> Result<SoapRequest<PatientQuery>, SoapFault> {
    patient_query(body, content_type, Transaction::Iti47, &DEFAULT_LIMITS)
}

/// [`parse_iti47`] with explicit limits.
pub fn parse_iti47_with(
    body: &[u8],
    content_type: &str,
    limits: &RequestLimits,
) -> Result<SoapRequest<PatientQuery>, SoapFault> {
    patient_query(body, content_type, Transaction::Iti47, limits)
}

fn patient_response(
    tx: Transaction,
    request: &SoapRequest<PatientQuery>,
    outcome: &PatientQueryOutcome,
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    let body = hl7v3::response::build(tx, &request.body, outcome, cfg, meta);
    soap::plain_response(tx, &request.header, meta, &body)
}

/// Builds the ITI-55 response (PRPA_IN201306UV02 with the XCPD custodian homeCommunityId).
pub fn build_iti55_response(
    request: &SoapRequest<PatientQuery>,
    outcome: &PatientQueryOutcome,
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    patient_response(Transaction::Iti55, request, outcome, cfg, meta)
}

/// Builds the ITI-47 response (PRPA_IN201306UV02).
pub fn build_iti47_response(
    request: &SoapRequest<PatientQuery>,
    outcome: &PatientQueryOutcome,
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    patient_response(Transaction::Iti47, request, outcome, cfg, meta)
}

fn xca_request<T>(
    body: &[u8],
    content_type: &str,
    tx: Transaction,
    limits: &RequestLimits,
    read: impl FnOnce(&xml::Element, &RequestLimits) -> Result<T, RegistryError>,
) -> Result<SoapRequest<T>, Rejection> {
    let env = soap::read_request(body, content_type, tx, limits)?;
    match read(&env.body_child, limits) {
        Ok(parsed) => Ok(SoapRequest {
            header: env.header,
            body: parsed,
            mtom: env.mtom,
        }),
        Err(e) => Err(Rejection::Registry {
            header: Box::new(env.header),
            errors: vec![e],
        }),
    }
}

/// Parses an ITI-38 Cross Gateway Query. Envelope problems are a [`Rejection::Fault`]; query
/// problems (unknown stored query, missing parameter) a [`Rejection::Registry`] to answer
/// with a Failure response ([`Rejection::to_response`]).
pub fn parse_iti38(body: &[u8], content_type: &str) -> Result<SoapRequest<XcaQuery>, Rejection> {
    parse_iti38_with(body, content_type, &DEFAULT_LIMITS)
}

/// [`parse_iti38`] with explicit limits: too many values for one parameter, or a value
/// longer than an identifier may be, is a registry error.
pub fn parse_iti38_with(
    body: &[u8],
    content_type: &str,
    limits: &RequestLimits,
) -> Result<SoapRequest<XcaQuery>, Rejection> {
    xca_request(
        body,
        content_type,
        Transaction::Iti38,
        limits,
        xca::query::read,
    )
}

/// Builds the ITI-38 response: the entries (as LeafClass or ObjectRef, as requested) and any
/// registry errors; status Success, PartialSuccess (errors and entries) or Failure.
pub fn build_iti38_response(
    request: &SoapRequest<XcaQuery>,
    entries: &[DocumentEntry],
    errors: &[RegistryError],
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    let body = xca::query_response::body(request.body.return_type, entries, errors, cfg);
    soap::plain_response(Transaction::Iti38, &request.header, meta, &body)
}

/// Parses an ITI-39 Cross Gateway Retrieve (plain or MTOM). Repeated DocumentRequests for the
/// same document are merged; more than [`RequestLimits::max_document_requests`] is refused.
pub fn parse_iti39(
    body: &[u8],
    content_type: &str,
) -> Result<SoapRequest<RetrieveRequest>, Rejection> {
    parse_iti39_with(body, content_type, &DEFAULT_LIMITS)
}

/// [`parse_iti39`] with explicit limits.
pub fn parse_iti39_with(
    body: &[u8],
    content_type: &str,
    limits: &RequestLimits,
) -> Result<SoapRequest<RetrieveRequest>, Rejection> {
    xca_request(
        body,
        content_type,
        Transaction::Iti39,
        limits,
        xca::retrieve::read,
    )
}

/// Builds the ITI-39 response: MTOM/XOP when the request was MTOM, inline base64 otherwise.
pub fn build_iti39_response(
    request: &SoapRequest<RetrieveRequest>,
    documents: &[RetrievedDocument],
    errors: &[RegistryError],
    cfg: &ResponderConfig,
    meta: ReplyMeta<'_>,
) -> SoapResponse {
    xca::retrieve::build(&request.header, request.mtom, documents, errors, cfg, meta)
}

//! XCA (ITI-38 query, ITI-39 retrieve) on ebXML RegRep 3.0: shared vocabulary, registry
//! errors and response status.

pub mod entry;
pub mod filter;
pub mod query;
pub mod query_response;
pub mod retrieve;

use crate::soap::{ReplyMeta, SoapFault, SoapHeader, SoapResponse, Transaction};
use crate::xml::esc;

pub const QUERY_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
pub const RIM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const RS_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
pub const XDSB_NS: &str = "urn:ihe:iti:xds-b:2007";

pub const FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
pub const GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
pub const STABLE_ENTRY: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
pub const ON_DEMAND_ENTRY: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
pub const STATUS_APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
const STATUS_PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
const STATUS_FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";

/// XDS error codes (ITI TF-3 Table 4.2.4.1-2) used by XCA responding gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XdsErrorCode {
    RegistryError,
    RegistryBusy,
    RegistryOutOfResources,
    RepositoryError,
    RepositoryBusy,
    RepositoryOutOfResources,
    UnknownPatientId,
    UnknownStoredQuery,
    StoredQueryParamNumber,
    TooManyResults,
    UnknownCommunity,
    /// ITI TF-2b 3.38.4.1.3 (ITI38-012): a query by id, or a retrieve, without the
    /// homeCommunityId it needs.
    MissingHomeCommunityId,
    UnavailableCommunity,
    UnknownRepositoryId,
    DocumentUniqueIdError,
    /// Any other code, sent as given.
    Other(String),
}

impl XdsErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            Self::RegistryError => "XDSRegistryError",
            Self::RegistryBusy => "XDSRegistryBusy",
            Self::RegistryOutOfResources => "XDSRegistryOutOfResources",
            Self::RepositoryError => "XDSRepositoryError",
            Self::RepositoryBusy => "XDSRepositoryBusy",
            Self::RepositoryOutOfResources => "XDSRepositoryOutOfResources",
            Self::UnknownPatientId => "XDSUnknownPatientId",
            Self::UnknownStoredQuery => "XDSUnknownStoredQuery",
            Self::StoredQueryParamNumber => "XDSStoredQueryParamNumber",
            Self::TooManyResults => "XDSTooManyResults",
            Self::UnknownCommunity => "XDSUnknownCommunity",
            Self::MissingHomeCommunityId => "XDSMissingHomeCommunityId",
            Self::UnavailableCommunity => "XDSUnavailableCommunity",
            Self::UnknownRepositoryId => "XDSUnknownRepositoryId",
            Self::DocumentUniqueIdError => "XDSDocumentUniqueIdError",
            Self::Other(s) => s,
        }
    }
}

/// Severity of a registry error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One `rs:RegistryError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub code: XdsErrorCode,
    /// `codeContext`: what went wrong, for a developer; never patient data.
    pub context: String,
    pub severity: Severity,
    /// `location`: where, e.g. our homeCommunityId or the document uniqueId.
    pub location: Option<String>,
}

impl RegistryError {
    pub fn error(code: XdsErrorCode, context: impl Into<String>) -> Self {
        Self {
            code,
            context: context.into(),
            severity: Severity::Error,
            location: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

/// Whether a homeCommunityId as sent (`urn:oid:1.2.3`, or a bare OID from a lenient
/// initiator) names our community.
pub(crate) fn is_our_home(sent: &str, cfg: &crate::model::ResponderConfig) -> bool {
    let sent = sent.trim();
    sent.strip_prefix("urn:oid:").unwrap_or(sent) == cfg.home_community_id
}

/// Registry response status from errors and whether any result is returned
/// (ITI TF-3 4.2.4.2: PartialSuccess when some results come back despite errors).
pub(crate) fn status(errors: &[RegistryError], has_results: bool) -> &'static str {
    let has_error = errors.iter().any(|e| e.severity == Severity::Error);
    match (has_error, has_results) {
        (false, _) => STATUS_SUCCESS,
        (true, true) => STATUS_PARTIAL,
        (true, false) => STATUS_FAILURE,
    }
}

/// Writes an `rs:RegistryErrorList` (nothing when there are no errors). Assumes prefix `rs`.
pub(crate) fn write_error_list(out: &mut String, errors: &[RegistryError]) {
    if errors.is_empty() {
        return;
    }
    let highest = if errors.iter().any(|e| e.severity == Severity::Error) {
        "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    } else {
        "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"
    };
    out.push_str("<rs:RegistryErrorList highestSeverity=\"");
    out.push_str(highest);
    out.push_str("\">");
    for e in errors {
        out.push_str("<rs:RegistryError errorCode=\"");
        out.push_str(&esc(e.code.as_str()));
        out.push_str("\" codeContext=\"");
        out.push_str(&esc(&e.context));
        out.push_str("\" severity=\"urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:");
        out.push_str(match e.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        });
        out.push('"');
        if let Some(l) = &e.location {
            out.push_str(" location=\"");
            out.push_str(&esc(l));
            out.push('"');
        }
        out.push_str("/>");
    }
    out.push_str("</rs:RegistryErrorList>");
}

/// Why an XCA request is not answered with results: either a SOAP Fault (envelope problems)
/// or registry errors to put in a normal Failure response (query problems, as ITI-18/38
/// require: e.g. an unknown stored query is `XDSUnknownStoredQuery`, not a Fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Fault(SoapFault),
    Registry {
        header: Box<SoapHeader>,
        errors: Vec<RegistryError>,
    },
}

impl Rejection {
    /// The response to send for this rejection.
    pub fn to_response(&self, tx: Transaction, meta: ReplyMeta<'_>) -> SoapResponse {
        match self {
            Self::Fault(f) => f.to_response(meta.message_id),
            Self::Registry { header, errors } => match tx {
                Transaction::Iti39 => retrieve::build_failure(header, errors, meta),
                _ => query_response::build_failure(header, errors, meta),
            },
        }
    }
}

impl From<SoapFault> for Rejection {
    fn from(f: SoapFault) -> Self {
        Self::Fault(f)
    }
}

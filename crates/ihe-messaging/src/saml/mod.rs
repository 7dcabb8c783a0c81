//! The WS-Security SAML 2.0 assertion (IHE XUA) with its XSPA/NHIN attributes.
//!
//! Parsing ([`read`], called by the SOAP envelope parser) reads what the gateway audits (ATNA)
//! and passes on, and keeps the assertion as a standalone document ([`SamlAssertion::raw`]).
//! Whether to believe it is decided separately by [`SamlVerifier`] (`verify`), which checks
//! the XML signature against configured trust anchors and the required parts; the gateway
//! calls it, because only the gateway knows its trust anchors and the time.

mod standalone;
mod verify;

pub use verify::{
    SamlRejection, SamlVerifier, SignatureAlgorithm, TrustAnchorError, VerifierConfig, WsseFault,
};

use chrono::{DateTime, Utc};

use crate::xml::Element;

pub const SAML2_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

const ATTR_SUBJECT_ID: &str = "urn:oasis:names:tc:xacml:1.0:subject:subject-id";
const ATTR_ORGANIZATION: &str = "urn:oasis:names:tc:xspa:1.0:subject:organization";
const ATTR_ORGANIZATION_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:organization-id";
const ATTR_HOME_COMMUNITY: &str = "urn:nhin:names:saml:homeCommunityId";
const ATTR_ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
const ATTR_PURPOSE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
const ATTR_RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:2.0:resource:resource-id";

/// Why an assertion cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    #[error("the SAML assertion's {field} `{value}` is not an xs:dateTime")]
    BadTime { field: &'static str, value: String },
    #[error("the SAML assertion cannot be read as a document of its own")]
    NotStandalone,
}

/// A coded attribute value (HL7 CE), e.g. the XSPA role or purpose of use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodedValue {
    pub code: String,
    pub code_system: Option<String>,
    pub code_system_name: Option<String>,
    pub display_name: Option<String>,
}

/// What the gateway needs from a XUA assertion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SamlAssertion {
    pub id: Option<String>,
    pub issue_instant: Option<DateTime<Utc>>,
    pub issuer: Option<String>,
    /// `Subject/NameID` (usually the user's X.509 subject or an email-like id).
    pub subject_name_id: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// XSPA subject-id: the user's name as the initiator states it.
    pub subject_id: Option<String>,
    pub organization: Option<String>,
    pub organization_id: Option<String>,
    pub home_community_id: Option<String>,
    pub role: Option<CodedValue>,
    /// Purpose of use; Epic sends the element as `PurposeForUse`, others `PurposeOfUse`.
    pub purpose_of_use: Option<CodedValue>,
    /// XACML resource-id: the patient the request is about, when sent.
    pub resource_id: Option<String>,
    /// `Conditions/AudienceRestriction/Audience` values.
    pub audiences: Vec<String>,
    /// An enveloped `ds:Signature` is present (not verified by parsing: see [`SamlVerifier`]).
    pub signed: bool,
    /// The assertion as a standalone XML document: its bytes exactly as received, with the
    /// namespace declarations it inherited from the Envelope/Security ancestors copied onto
    /// its start tag, so that it reads (and canonicalises under exclusive c14n) as it did in
    /// place. This is what [`SamlVerifier::verify`] checks, and it is the same element the
    /// fields above were read from.
    pub raw: String,
}

impl SamlAssertion {
    /// True when `now` is inside the Conditions window (absent bounds are open).
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.not_before.is_none_or(|nb| now >= nb) && self.not_on_or_after.is_none_or(|na| now < na)
    }
}

fn time(field: &'static str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, SamlError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| SamlError::BadTime {
                field,
                value: s.chars().take(40).collect(),
            }),
    }
}

/// Reads an `saml2:Assertion` element; `source` is the bytes it was parsed from.
pub(crate) fn read(a: &Element, source: &[u8]) -> Result<SamlAssertion, SamlError> {
    let conditions = a.child(SAML2_NS, "Conditions");
    let mut out = SamlAssertion {
        id: a.attr("ID").map(str::to_owned),
        issue_instant: time("IssueInstant", a.attr("IssueInstant"))?,
        issuer: a
            .child(SAML2_NS, "Issuer")
            .and_then(Element::text_trimmed)
            .map(str::to_owned),
        subject_name_id: a
            .path(SAML2_NS, &["Subject", "NameID"])
            .and_then(Element::text_trimmed)
            .map(str::to_owned),
        not_before: time("NotBefore", conditions.and_then(|c| c.attr("NotBefore")))?,
        not_on_or_after: time(
            "NotOnOrAfter",
            conditions.and_then(|c| c.attr("NotOnOrAfter")),
        )?,
        audiences: conditions
            .into_iter()
            .flat_map(|c| c.children_named(SAML2_NS, "AudienceRestriction"))
            .flat_map(|r| r.children_named(SAML2_NS, "Audience"))
            .filter_map(Element::text_trimmed)
            .map(str::to_owned)
            .collect(),
        signed: a.child(DSIG_NS, "Signature").is_some(),
        raw: standalone::document(source, a.span.clone()).ok_or(SamlError::NotStandalone)?,
        ..SamlAssertion::default()
    };
    for statement in a.children_named(SAML2_NS, "AttributeStatement") {
        for attr in statement.children_named(SAML2_NS, "Attribute") {
            let Some(value) = attr.child(SAML2_NS, "AttributeValue") else {
                continue;
            };
            let text = value.text_trimmed().map(str::to_owned);
            match attr.attr("Name").map(str::trim) {
                Some(ATTR_SUBJECT_ID) => out.subject_id = text,
                Some(ATTR_ORGANIZATION) => out.organization = text,
                Some(ATTR_ORGANIZATION_ID) => out.organization_id = text,
                Some(ATTR_HOME_COMMUNITY) => out.home_community_id = text,
                Some(ATTR_RESOURCE_ID) => out.resource_id = text,
                Some(ATTR_ROLE) => out.role = coded(value),
                Some(ATTR_PURPOSE) => out.purpose_of_use = coded(value),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A CE child element (`Role`, `PurposeOfUse`, `PurposeForUse`, whatever its name or
/// namespace) or, failing that, the plain text as the code.
fn coded(value: &Element) -> Option<CodedValue> {
    if let Some(ce) = value.children.iter().find(|c| c.attr("code").is_some()) {
        return Some(CodedValue {
            code: ce.attr("code").unwrap_or_default().to_owned(),
            code_system: ce.attr("codeSystem").map(str::to_owned),
            code_system_name: ce.attr("codeSystemName").map(str::to_owned),
            display_name: ce.attr("displayName").map(str::to_owned),
        });
    }
    value.text_trimmed().map(|t| CodedValue {
        code: t.to_owned(),
        ..CodedValue::default()
    })
}

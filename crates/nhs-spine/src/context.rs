//! Who is asking: the requesting clinician and organisation, taken from the inbound request's
//! SAML assertion by the gateway and carried into the GP Connect audit JWT and the PDS end-user
//! headers.

use serde::{Deserialize, Serialize};

/// The requesting user and organisation of one upstream call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestingContext {
    /// The user's id in the requesting system (SAML subject / XUA `subject-id` source).
    pub user_id: String,
    /// Family name of the user (SAML `subject-id` is usually "Given Family").
    pub family_name: String,
    pub given_names: Vec<String>,
    pub prefix: Option<String>,
    /// SDS user id (smartcard UUID) when the user has one; GP Connect wants `UNK` otherwise.
    pub sds_user_id: Option<String>,
    /// SDS role profile id when known; `UNK` otherwise.
    pub sds_role_profile_id: Option<String>,
    /// Role of the user (XUA `subject-role`), kept for audit.
    pub role: Option<String>,
    /// ODS code of the care organisation the request comes from.
    pub organisation_ods: String,
    pub organisation_name: String,
    /// XUA purpose of use; GP Connect only allows direct care.
    pub purpose_of_use: Option<String>,
}

impl RequestingContext {
    /// Parses a display name "Given Middle Family" into given names and a family name.
    pub fn split_name(full: &str) -> (Vec<String>, String) {
        let mut parts: Vec<String> = full.split_whitespace().map(str::to_owned).collect();
        let family = parts.pop().unwrap_or_default();
        (parts, family)
    }
}

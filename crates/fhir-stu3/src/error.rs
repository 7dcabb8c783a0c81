//! Parse failures (the bundle cannot be used at all) and warnings (something was tolerated).

use std::fmt;

/// Why a byte string is not a usable GP Connect structured-record Bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input is not JSON. `line`/`column` are 1-based, as serde_json reports them.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON is valid but its root is not a FHIR Bundle.
    #[error("not a FHIR Bundle: the root resourceType is {found}")]
    NotABundle { found: String },
    /// A structured record always carries the Patient it is about; without it no document
    /// can say whose record it is.
    #[error(
        "the Bundle has no Patient resource ({entries} entries; resource types present: {present})"
    )]
    NoPatient { entries: usize, present: String },
}

/// Something in the input that was tolerated rather than rejected: the converter reports
/// these so a human can see what the source system got wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// `Type/id` of the resource (or `Bundle`).
    pub resource: String,
    /// JSON path inside the resource, e.g. `reaction[0].severity`.
    pub path: String,
    /// What was tolerated and how it was read.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.resource, self.message)
        } else {
            write!(f, "{} {}: {}", self.resource, self.path, self.message)
        }
    }
}

//! Test support: checks generated XML against material no one on this team wrote.
//!
//! The validators are external programs on purpose (xmllint for XSD, the official C-CDA R2.1
//! Schematron compiled by Python lxml and run by xsltproc): a bug in our own XML code cannot
//! then hide a bug in the check. Schemas and rules come from `../shared` (see its README).
//!
//! The fidelity check (`fidelity`, issue 12) reads a produced C-CDA back with Python lxml and
//! compares it item by item with the GP Connect Bundle it came from (`python/fidelity.py`).
//!
//! A check whose tool is missing fails under CI (`CI=true`) and is skipped loudly on a
//! developer's machine, so that CI can never pass by silently not validating.

mod fidelity;
mod schematron;
mod soap;
mod tools;

use std::path::PathBuf;

pub use fidelity::{fidelity, fidelity_self_test};
pub use soap::soap_body_child;

/// Assert ids the Schematron may report without failing a test (see
/// `shared/validation/ccda-r2.1/README.md`: an erratum that HL7's own examples fail).
pub const SCHEMATRON_ALLOWLIST: &[&str] = &["a-1098-28042"];

/// The `shared/` folder next to the repository (override with `XHUMA_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("XHUMA_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

/// The outcome of one validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Valid,
    /// The validator ran and rejected the document.
    Invalid {
        validator: &'static str,
        messages: Vec<String>,
    },
    /// The validator could not run (tool missing); see [`Checked::assert_ok`].
    ToolMissing {
        tool: &'static str,
    },
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        matches!(self, Checked::Valid)
    }

    /// Panics unless the document is valid. A missing tool panics under `CI=true` and is a
    /// loud skip elsewhere.
    #[track_caller]
    pub fn assert_ok(&self) {
        match self {
            Checked::Valid => {}
            Checked::Invalid {
                validator,
                messages,
            } => {
                let shown: Vec<_> = messages.iter().take(40).collect();
                panic!(
                    "{validator} rejected the document ({} problems):\n{}",
                    messages.len(),
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            Checked::ToolMissing { tool } => tools::missing(tool),
        }
    }

    /// Panics unless the validator ran and rejected the document: negative controls prove
    /// that a check can fail.
    #[track_caller]
    pub fn assert_invalid(&self) {
        match self {
            Checked::Invalid { .. } => {}
            Checked::Valid => panic!("the validator accepted a document it should reject"),
            Checked::ToolMissing { tool } => tools::missing(tool),
        }
    }
}

/// Validates a CDA document against `CDA_SDTC.xsd` (the SDTC variant, as C-CDA requires).
pub fn cda_xsd(xml: &str) -> Checked {
    let xsd = shared_dir().join("schemas/cda/infrastructure/cda/CDA_SDTC.xsd");
    tools::xmllint_schema(&xsd, xml)
}

/// Runs the C-CDA R2.1 Schematron, phase `errors`, and reports the failed asserts that are
/// not on [`SCHEMATRON_ALLOWLIST`]. Run [`cda_xsd`] first: the rules assume a valid document.
pub fn ccda_schematron(xml: &str) -> Checked {
    schematron::check(xml)
}

/// Validates an HL7 V3 interaction (`PRPA_IN201305UV02`, `PRPA_IN201306UV02`, …) against the
/// NE2008 schema named after its root element.
pub fn hl7v3_xsd(xml: &str) -> Checked {
    let Some(root) = soap::root_local_name(xml) else {
        return Checked::Invalid {
            validator: "hl7v3 schema",
            messages: vec!["not well-formed XML: no root element".into()],
        };
    };
    if !root.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Checked::Invalid {
            validator: "hl7v3 schema",
            messages: vec![format!("unexpected root element {root}")],
        };
    }
    let xsd = shared_dir().join(format!(
        "schemas/hl7v3/HL7V3/NE2008/multicacheschemas/{root}.xsd"
    ));
    if !xsd.exists() {
        return Checked::Invalid {
            validator: "hl7v3 schema",
            messages: vec![format!("no HL7 V3 schema for root element {root}")],
        };
    }
    tools::xmllint_schema(&xsd, xml)
}

/// Validates an ebXML/XDS body element (AdhocQueryRequest/Response, RegistryResponse,
/// RetrieveDocumentSetRequest/Response) against `XDS.b_DocumentRepository.xsd`, which
/// imports the ebRIM/ebRS query, rim, rs and lcm schemas.
pub fn ebxml_xsd(xml: &str) -> Checked {
    let xsd = shared_dir().join("schemas/ebxml/XDS.b_DocumentRepository.xsd");
    tools::xmllint_schema(&xsd, xml)
}

/// Checks that a document is well-formed XML (xmllint without a schema).
pub fn well_formed(xml: &str) -> Checked {
    tools::xmllint_well_formed(xml)
}

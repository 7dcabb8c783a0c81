//! The bits of FHIR OperationOutcome the clients need to turn an error answer into a typed error.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct OperationOutcome {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
    #[serde(default)]
    issue: Vec<Issue>,
}

#[derive(Debug, Default, Deserialize)]
struct Issue {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    details: Option<CodeableConcept>,
    #[serde(default)]
    diagnostics: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CodeableConcept {
    #[serde(default)]
    coding: Vec<Coding>,
}

#[derive(Debug, Default, Deserialize)]
struct Coding {
    #[serde(default)]
    code: Option<String>,
}

/// The first issue of an OperationOutcome: the Spine error code (`details.coding[0].code`, e.g.
/// `PATIENT_NOT_FOUND`), falling back to the FHIR issue type, and the diagnostics text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OutcomeSummary {
    pub code: Option<String>,
    pub diagnostics: Option<String>,
}

pub(crate) fn summarise(body: &[u8]) -> OutcomeSummary {
    let Ok(oo) = serde_json::from_slice::<OperationOutcome>(body) else {
        return OutcomeSummary::default();
    };
    if oo.resource_type != "OperationOutcome" {
        return OutcomeSummary::default();
    }
    let Some(issue) = oo.issue.into_iter().next() else {
        return OutcomeSummary::default();
    };
    let code = issue
        .details
        .and_then(|d| d.coding.into_iter().find_map(|c| c.code))
        .or(issue.code);
    OutcomeSummary {
        code,
        // Upstream diagnostics can echo request values; keep them short.
        diagnostics: issue
            .diagnostics
            .map(|d| d.chars().take(300).collect::<String>()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../../shared/fixtures/{rel}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reads_the_pds_error_fixtures() {
        for code in [
            "RESOURCE_NOT_FOUND",
            "INVALIDATED_RESOURCE",
            "INVALID_RESOURCE_ID",
            "ACCESS_DENIED",
        ] {
            let s = summarise(&fixture(&format!("pds/errorResponses/{code}.json")));
            assert_eq!(s.code.as_deref(), Some(code));
        }
    }

    #[test]
    fn non_outcomes_and_garbage_give_nothing() {
        assert_eq!(summarise(b"<html>"), OutcomeSummary::default());
        assert_eq!(
            summarise(br#"{"resourceType":"Patient"}"#),
            OutcomeSummary::default()
        );
    }
}

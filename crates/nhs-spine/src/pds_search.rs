//! PDS FHIR R4 patient search (`GET /Patient?family=…&birthdate=…`), application-restricted.
//!
//! In application-restricted mode PDS gives at most one patient, and only when the match is
//! unique: several candidates are answered with HTTP 200 and an OperationOutcome coded
//! `TOO_MANY_MATCHES` (issue type `multiple-matches`), which is [`SearchOutcome::TooManyMatches`]
//! here, not an error. The search is always non-fuzzy (`_fuzzy-match=false`): fuzzy matching
//! (Soundex, transposed names) raises the chance of another person's record, which a gateway
//! answering without a human in the loop must not take.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use crate::context::RequestingContext;
use crate::error::TransportError;
use crate::fhir;
use crate::pds::{PdsClient, PdsError, PdsPatient, parse_patient_value};

/// Administrative gender as PDS searches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchGender {
    Male,
    Female,
    Other,
    Unknown,
}

impl SearchGender {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

/// The birth date to search on: PDS requires one (with a family name) for a non-fuzzy search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthDate {
    /// `birthdate=eqYYYY-MM-DD`
    On(NaiveDate),
    /// `birthdate=geFROM&birthdate=leTO` (both inclusive), e.g. a year of birth.
    Between(NaiveDate, NaiveDate),
}

/// A demographic search. The type makes PDS's minimum (family name + birth date) mandatory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// May end in `*` (PDS wildcard).
    pub family: String,
    /// Each is sent as its own `given` parameter.
    pub given: Vec<String>,
    pub birthdate: BirthDate,
    pub gender: Option<SearchGender>,
    /// `address-postalcode`; may end in `*`.
    pub postcode: Option<String>,
    /// `_max-results`; application-restricted access allows only 1 (the default).
    pub max_results: u8,
}

impl SearchQuery {
    pub fn new(family: impl Into<String>, birthdate: BirthDate) -> Self {
        Self {
            family: family.into(),
            given: Vec::new(),
            birthdate,
            gender: None,
            postcode: None,
            max_results: 1,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("_fuzzy-match", "false".to_owned()),
            ("_exact-match", "false".to_owned()),
            ("_history", "false".to_owned()),
            ("_max-results", self.max_results.max(1).to_string()),
            ("family", self.family.clone()),
        ];
        for g in &self.given {
            q.push(("given", g.clone()));
        }
        if let Some(g) = self.gender {
            q.push(("gender", g.as_str().to_owned()));
        }
        match self.birthdate {
            BirthDate::On(d) => q.push(("birthdate", format!("eq{}", d.format("%Y-%m-%d")))),
            BirthDate::Between(from, to) => {
                q.push(("birthdate", format!("ge{}", from.format("%Y-%m-%d"))));
                q.push(("birthdate", format!("le{}", to.format("%Y-%m-%d"))));
            }
        }
        if let Some(p) = &self.postcode {
            q.push(("address-postalcode", p.clone()));
        }
        q
    }
}

/// One patient of a searchset, with PDS's match score (1.0 = exact) when given.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchMatch {
    pub patient: PdsPatient,
    pub score: Option<f64>,
}

/// What a PDS search found.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchOutcome {
    NoMatch,
    /// One or more patients, best first (PDS sorts by descending score). Application-
    /// restricted access gives one at most.
    Matches(Vec<SearchMatch>),
    /// More patients matched than `_max-results` allows: the search must be refined.
    TooManyMatches,
}

#[derive(Deserialize)]
struct RawBundle {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    resource: Option<Value>,
    #[serde(default)]
    search: Option<RawSearch>,
}

#[derive(Deserialize)]
struct RawSearch {
    #[serde(default)]
    score: Option<f64>,
}

impl PdsClient {
    /// `GET /Patient?…` (non-fuzzy) on behalf of `ctx`'s organisation.
    pub async fn search(
        &self,
        query: &SearchQuery,
        ctx: &RequestingContext,
    ) -> Result<SearchOutcome, PdsError> {
        let url = format!("{}/Patient", self.base_url());
        let resp = self.send_retrying_auth(&url, &query.params(), ctx).await?;
        match resp.status.as_u16() {
            200 => parse_search(&resp.body).map_err(PdsError::Transport),
            status => Err(search_error(status, &resp.body)),
        }
    }
}

fn search_error(status: u16, body: &[u8]) -> PdsError {
    let s = fhir::summarise(body);
    match status {
        401 | 403 => PdsError::AccessDenied {
            status,
            code: s.code.unwrap_or_else(|| "ACCESS_DENIED".into()),
        },
        429 => PdsError::TooManyRequests,
        400..=499 => PdsError::BadRequest {
            status,
            code: s.code.unwrap_or_default(),
            diagnostics: s.diagnostics.unwrap_or_default(),
        },
        _ => PdsError::Upstream {
            status,
            code: s.code.unwrap_or_default(),
        },
    }
}

/// Reads a 200 search answer: a searchset Bundle, or the `TOO_MANY_MATCHES` OperationOutcome.
pub fn parse_search(body: &[u8]) -> Result<SearchOutcome, TransportError> {
    let invalid = |detail: String| TransportError::InvalidResponse {
        upstream: "pds",
        detail,
    };
    let raw: Value = serde_json::from_slice(body).map_err(|e| invalid(format!("not JSON: {e}")))?;
    if raw["resourceType"] == "OperationOutcome" {
        return match fhir::summarise(body).code.as_deref() {
            Some("TOO_MANY_MATCHES" | "multiple-matches") => Ok(SearchOutcome::TooManyMatches),
            other => Err(invalid(format!(
                "unexpected OperationOutcome {} on a search",
                other.unwrap_or("without a code")
            ))),
        };
    }
    let bundle: RawBundle =
        serde_json::from_value(raw).map_err(|e| invalid(format!("not a Bundle: {e}")))?;
    if bundle.resource_type != "Bundle" {
        return Err(invalid(format!(
            "expected a searchset Bundle, got {:?}",
            bundle.resource_type
        )));
    }
    let mut matches = Vec::with_capacity(bundle.entry.len());
    for e in bundle.entry {
        // Entries other than Patients (e.g. an OperationOutcome with search.mode=outcome) are
        // information, not matches.
        let Some(resource) = e.resource.filter(|r| r["resourceType"] == "Patient") else {
            continue;
        };
        matches.push(SearchMatch {
            patient: parse_patient_value(resource)?,
            score: e.search.and_then(|s| s.score),
        });
    }
    Ok(if matches.is_empty() {
        SearchOutcome::NoMatch
    } else {
        SearchOutcome::Matches(matches)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../../shared/fixtures/pds/{rel}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reads_the_pds_searchset_fixtures() {
        for (file, nhs) in [
            ("sandbox-mocks/PatientSearch.json", "9000000009"),
            ("sandbox-mocks/Sensitive_PatientSearch.json", "9000000025"),
            ("sandbox-mocks/Minimal_PatientSearch.json", "9000000033"),
            ("sandbox-mocks/PatientSearch-Jayne-Smyth.json", "9000000017"),
        ] {
            let SearchOutcome::Matches(m) = parse_search(&fixture(file)).unwrap() else {
                panic!("{file}")
            };
            assert_eq!(m.len(), 1, "{file}");
            assert_eq!(m[0].patient.nhs_number.as_str(), nhs);
            assert_eq!(m[0].score, Some(0.75));
        }
        let SearchOutcome::Matches(m) =
            parse_search(&fixture("sandbox-mocks/Sensitive_PatientSearch.json")).unwrap()
        else {
            panic!()
        };
        assert!(m[0].patient.is_restricted());
    }

    #[test]
    fn too_many_matches_and_empty_sets_are_outcomes_not_errors() {
        let tmm = br#"{"resourceType":"OperationOutcome","issue":[{"severity":"information",
            "code":"multiple-matches","details":{"coding":[{"system":
            "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode","version":"1",
            "code":"TOO_MANY_MATCHES","display":"Too Many Matches"}]}}]}"#;
        assert_eq!(parse_search(tmm).unwrap(), SearchOutcome::TooManyMatches);
        let empty = br#"{"resourceType":"Bundle","type":"searchset","total":0}"#;
        assert_eq!(parse_search(empty).unwrap(), SearchOutcome::NoMatch);
        let err = parse_search(&fixture("errorResponses/INVALID_SEARCH_DATA.json")).unwrap_err();
        assert!(err.to_string().contains("INVALID_SEARCH_DATA"), "{err}");
        assert!(parse_search(b"[").is_err());
    }

    #[test]
    fn query_parameters_follow_the_pds_api() {
        let mut q = SearchQuery::new(
            "Smith",
            BirthDate::On(NaiveDate::from_ymd_opt(2010, 10, 22).unwrap()),
        );
        q.given = vec!["Jane".into()];
        q.gender = Some(SearchGender::Female);
        q.postcode = Some("LS1 6AE".into());
        let p = q.params();
        let get = |k: &str| {
            p.iter()
                .filter(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("birthdate"), ["eq2010-10-22"]);
        assert_eq!(get("_fuzzy-match"), ["false"]);
        assert_eq!(get("_max-results"), ["1"]);
        assert_eq!(get("address-postalcode"), ["LS1 6AE"]);
        q.birthdate = BirthDate::Between(
            NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2010, 12, 31).unwrap(),
        );
        let p = q.params();
        let b: Vec<_> = p.iter().filter(|(n, _)| *n == "birthdate").collect();
        assert_eq!(b.len(), 2);
    }
}

//! PDS FHIR R4 `GET /Patient?…` (search), application-restricted, non-fuzzy, over the
//! sandbox's patients.
//!
//! Matching follows PDS's non-fuzzy search: names and postcodes compared case-insensitively,
//! a trailing `*` is a prefix wildcard, every `given` must match a given name, birth date by
//! `eq`/`ge`/`le` (several `birthdate` parameters form a range), gender exactly, restricted
//! patients left out when a postcode is searched. Application-restricted access returns one
//! patient at most: more matches than `_max-results` (default 1, more than 1 refused with 403)
//! give HTTP 200 with the `TOO_MANY_MATCHES` OperationOutcome, as PDS does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::AppState;
use crate::faults::{self, Api};
use crate::fixtures::PdsAnswer;
use crate::outcome::{fhir_ok, r4};
use crate::pds::{check_access, echo_ids};

const KNOWN: &[&str] = &[
    "_fuzzy-match",
    "_exact-match",
    "_history",
    "_max-results",
    "family",
    "given",
    "gender",
    "birthdate",
    "death-date",
    "address-postalcode",
    "address-postcode",
    "general-practitioner",
    "email",
    "phone",
];

#[derive(Debug, Default)]
struct Criteria {
    family: Option<String>,
    given: Vec<String>,
    gender: Option<String>,
    /// (comparator, YYYY-MM-DD)
    birthdate: Vec<(&'static str, String)>,
    postcode: Option<String>,
    max_results: usize,
}

pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    state.counters.pds.fetch_add(1, Ordering::Relaxed);
    let mut resp = answer(&state, query.as_deref().unwrap_or(""), &headers).await;
    echo_ids(&headers, &mut resp);
    resp
}

async fn answer(state: &AppState, query: &str, headers: &HeaderMap) -> Response {
    if let Some(status) = faults::apply(&state.faults, &state.fault_counters, Api::Pds).await {
        return r4(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "SERVICE_UNAVAILABLE",
            "injected failure",
        );
    }
    if let Some(refusal) = check_access(state, headers) {
        return refusal;
    }
    let criteria = match parse(query) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let found: Vec<(&Value, f64)> = state
        .dir
        .patients
        .values()
        .filter_map(|p| match &p.pds {
            PdsAnswer::Record(r) => Some(r),
            _ => None,
        })
        .filter_map(|r| score(&criteria, r).map(|s| (r, s)))
        .collect();
    if found.len() > criteria.max_results {
        return too_many_matches();
    }
    let entries: Vec<Value> = found
        .into_iter()
        .map(|(r, s)| {
            json!({
                "fullUrl": format!("{}{}/Patient/{}", state.base_url, crate::PDS_PATH,
                    r["id"].as_str().unwrap_or_default()),
                "search": { "score": s },
                "resource": r,
            })
        })
        .collect();
    fhir_ok(
        json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "total": entries.len(),
            "entry": entries,
        })
        .to_string(),
    )
}

fn too_many_matches() -> Response {
    fhir_ok(
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "information",
                "code": "multiple-matches",
                "details": { "coding": [{
                    "system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
                    "version": "1",
                    "code": "TOO_MANY_MATCHES",
                    "display": "Too Many Matches"
                }]}
            }]
        })
        .to_string(),
    )
}

/// Why PDS refuses a search; becomes its OperationOutcome.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    diagnostics: String,
}

impl Refusal {
    fn into_response(self) -> Response {
        r4(self.status, self.code, &self.diagnostics)
    }
}

fn bad(code: &'static str, diagnostics: String) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code,
        diagnostics,
    }
}

fn parse(query: &str) -> Result<Criteria, Refusal> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if pairs.is_empty() {
        return Err(bad(
            "UNSUPPORTED_SERVICE",
            "Invalid request with error - No search parameters provided".into(),
        ));
    }
    let mut c = Criteria {
        max_results: 1,
        ..Criteria::default()
    };
    for (name, value) in pairs {
        match name.as_str() {
            n if !KNOWN.contains(&n) => {
                return Err(bad(
                    "ADDITIONAL_PROPERTIES",
                    format!(
                        "Invalid request with error - Additional properties are not allowed ('{n}' was unexpected)"
                    ),
                ));
            }
            "family" => c.family = Some(value),
            "given" => c.given.push(value),
            "gender" => {
                if !["male", "female", "other", "unknown"].contains(&value.as_str()) {
                    return Err(bad(
                        "INVALID_VALUE",
                        format!("Invalid value - '{value}' in field 'gender'"),
                    ));
                }
                c.gender = Some(value);
            }
            "birthdate" => c.birthdate.push(birthdate(&value)?),
            "address-postalcode" | "address-postcode" => c.postcode = Some(value),
            "_max-results" => match value.parse::<usize>() {
                Ok(1) => c.max_results = 1,
                Ok(2..=50) => {
                    return Err(Refusal {
                        status: StatusCode::FORBIDDEN,
                        code: "INVALID_VALUE",
                        diagnostics: "Multiple results requested when using the API in \
                                      application-restricted mode"
                            .into(),
                    });
                }
                _ => {
                    return Err(bad(
                        "INVALID_VALUE",
                        format!("Invalid value - '{value}' in field '_max-results'"),
                    ));
                }
            },
            "_fuzzy-match" if value == "true" => {
                return Err(bad(
                    "INVALID_SEARCH_DATA",
                    "the sandbox implements non-fuzzy search only".into(),
                ));
            }
            // Accepted and not used by the sandbox's matching.
            _ => {}
        }
    }
    if c.birthdate.is_empty() {
        return Err(bad(
            "MISSING_VALUE",
            "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'".into(),
        ));
    }
    if c.family.as_deref().is_none_or(str::is_empty) {
        return Err(bad(
            "INVALID_SEARCH_DATA",
            "Invalid search data provided - 'No searches were performed as the search criteria did not meet the minimum requirements'".into(),
        ));
    }
    Ok(c)
}

fn birthdate(value: &str) -> Result<(&'static str, String), Refusal> {
    let (cmp, date) = match value.get(..2) {
        Some("eq") => ("eq", &value[2..]),
        Some("ge") => ("ge", &value[2..]),
        Some("le") => ("le", &value[2..]),
        _ => ("eq", value),
    };
    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() || date.len() != 10 {
        return Err(bad(
            "INVALID_VALUE",
            format!("Invalid value - '{value}' in field 'birthdate'"),
        ));
    }
    Ok((cmp, date.to_owned()))
}

/// Case-insensitive, a trailing `*` matching any suffix. `exact` is cleared by a wildcard.
fn text_matches(pattern: &str, value: &str, exact: &mut bool) -> bool {
    let p = pattern.to_lowercase();
    let v = value.to_lowercase();
    match p.strip_suffix('*') {
        Some(prefix) => {
            *exact = false;
            v.starts_with(prefix)
        }
        None => v == p,
    }
}

fn normalise_postcode(p: &str) -> String {
    p.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

/// The match score of a PDS record for the criteria (1.0 exact, less with wildcards), or
/// `None` when it does not match.
fn score(c: &Criteria, r: &Value) -> Option<f64> {
    let mut exact = true;
    let names = r["name"].as_array().map(Vec::as_slice).unwrap_or_default();
    let family = c.family.as_deref().unwrap_or_default();
    let name_ok = names.iter().any(|n| {
        let fam_ok = n["family"]
            .as_str()
            .is_some_and(|f| text_matches(family, f, &mut exact));
        let givens: Vec<&str> = n["given"]
            .as_array()
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        fam_ok
            && c.given.iter().all(|want| {
                givens
                    .iter()
                    .any(|have| text_matches(want, have, &mut exact))
            })
    });
    if !name_ok {
        return None;
    }
    let birth = r["birthDate"].as_str()?;
    for (cmp, date) in &c.birthdate {
        let ok = match *cmp {
            "ge" => birth >= date.as_str(),
            "le" => birth <= date.as_str(),
            _ => birth == date.as_str(),
        };
        if !ok {
            return None;
        }
    }
    if let Some(g) = &c.gender
        && r["gender"].as_str() != Some(g.as_str())
    {
        return None;
    }
    if let Some(pc) = &c.postcode {
        let restricted = r["meta"]["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x["code"] == "R" || x["code"] == "V"));
        if restricted {
            return None;
        }
        let want = normalise_postcode(pc);
        let any = r["address"].as_array().is_some_and(|addrs| {
            addrs.iter().any(|a| {
                a["postalCode"]
                    .as_str()
                    .is_some_and(|have| text_matches(&want, &normalise_postcode(have), &mut exact))
            })
        });
        if !any {
            return None;
        }
    }
    Some(if exact { 1.0 } else { 0.9 })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record() -> Value {
        json!({
            "resourceType": "Patient", "id": "9000000009",
            "name": [{"use": "usual", "family": "Smith", "given": ["Jane", "Anne"]}],
            "gender": "female", "birthDate": "2010-10-22",
            "address": [{"postalCode": "LS1 6AE"}]
        })
    }

    fn criteria(q: &str) -> Criteria {
        parse(q).unwrap()
    }

    #[test]
    fn non_fuzzy_matching_rules() {
        let r = record();
        assert_eq!(
            score(&criteria("family=SMITH&birthdate=eq2010-10-22"), &r),
            Some(1.0)
        );
        assert_eq!(
            score(&criteria("family=Sm*&birthdate=2010-10-22&given=anne"), &r),
            Some(0.9)
        );
        assert_eq!(
            score(
                &criteria("family=Smith&birthdate=ge2010-01-01&birthdate=le2010-12-31"),
                &r
            ),
            Some(1.0)
        );
        assert!(score(&criteria("family=Smith&birthdate=eq2010-10-23"), &r).is_none());
        assert!(score(&criteria("family=Smyth&birthdate=eq2010-10-22"), &r).is_none());
        assert!(
            score(
                &criteria("family=Smith&birthdate=eq2010-10-22&gender=male"),
                &r
            )
            .is_none()
        );
        assert!(
            score(
                &criteria("family=Smith&birthdate=eq2010-10-22&address-postalcode=ls16ae"),
                &r
            )
            .is_some()
        );
        assert!(
            score(
                &criteria("family=Smith&birthdate=eq2010-10-22&address-postalcode=LS2%201AA"),
                &r
            )
            .is_none()
        );
        assert!(
            score(
                &criteria("family=Smith&birthdate=eq2010-10-22&given=Joan"),
                &r
            )
            .is_none()
        );
    }

    #[test]
    fn invalid_searches_are_refused_as_pds_does() {
        let status = |q: &str| parse(q).err().map(|r| r.status.as_u16());
        assert_eq!(status(""), Some(400));
        assert_eq!(status("family=Smith"), Some(400));
        assert_eq!(status("birthdate=eq2010-10-22"), Some(400));
        assert_eq!(status("family=Smith&birthdate=22-10-2010"), Some(400));
        assert_eq!(
            status("family=Smith&birthdate=eq2010-10-22&foo=1"),
            Some(400)
        );
        assert_eq!(
            status("family=Smith&birthdate=eq2010-10-22&gender=mal"),
            Some(400)
        );
        assert_eq!(
            status("family=Smith&birthdate=eq2010-10-22&_max-results=2"),
            Some(403)
        );
        assert_eq!(
            status("family=Smith&birthdate=eq2010-10-22&_max-results=1"),
            None
        );
    }
}

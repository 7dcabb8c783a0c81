//! ITI-18 FindDocuments semantics (ITI TF-2a 3.18.4.1.2.3.7.1), applied to the entries a
//! responding gateway offers: every parameter sent must match (AND across parameters), any
//! value of a list may match (OR within a list), and for the AND/OR parameters
//! (`$XDSDocumentEntryEventCodeList`, `$XDSDocumentEntryConfidentialityCode`) every `Slot`
//! must be matched by at least one of its values.
//!
//! An entry that lacks the attribute a parameter constrains (no creationTime on an On-Demand
//! entry, no eventCodeList, no author person) does not match that parameter.

use chrono::{DateTime, Utc};

use super::STATUS_APPROVED;
use super::entry::{Code, DocumentEntry, EntryKind};
use super::query::{CodeParam, EntryType, FindDocuments};
use crate::model::xds_dtm;

impl FindDocuments {
    /// Whether `entry` satisfies every parameter of this query. The entry is taken to be
    /// Approved (the only status a responding gateway offers) with an empty eventCodeList.
    pub fn matches(&self, entry: &DocumentEntry) -> bool {
        self.matches_with_events(entry, &[])
    }

    /// [`Self::matches`] for an entry that carries event codes.
    pub fn matches_with_events(&self, entry: &DocumentEntry, event_codes: &[Code]) -> bool {
        let kind = match entry.kind {
            EntryKind::Stable { .. } => EntryType::Stable,
            EntryKind::OnDemand => EntryType::OnDemand,
        };
        let creation = match &entry.kind {
            EntryKind::Stable { creation_time, .. } => Some(*creation_time),
            EntryKind::OnDemand => None,
        };
        self.patient_id
            .nhs_number()
            .is_some_and(|n| n.is_ok_and(|n| n.as_str() == entry.patient.as_str()))
            && self.statuses.iter().any(|s| s == STATUS_APPROVED)
            && self.entry_types.contains(&kind)
            && any_code(&self.class_codes, &entry.class_code)
            && any_code(&self.type_codes, &entry.type_code)
            && any_code(&self.format_codes, &entry.format_code)
            && any_code(&self.practice_setting_codes, &entry.practice_setting_code)
            && any_code(
                &self.healthcare_facility_type_codes,
                &entry.healthcare_facility_type_code,
            )
            && self.confidentiality_codes.iter().all(|slot| {
                slot.iter()
                    .any(|p| code_matches(p, &entry.confidentiality_code))
            })
            && self.event_codes.iter().all(|slot| {
                slot.iter()
                    .any(|p| event_codes.iter().any(|c| code_matches(p, c)))
            })
            && in_range(
                creation,
                self.creation_time_from.as_deref(),
                self.creation_time_to.as_deref(),
            )
            && in_range(
                entry.service_start_time,
                self.service_start_time_from.as_deref(),
                self.service_start_time_to.as_deref(),
            )
            && in_range(
                entry.service_stop_time,
                self.service_stop_time_from.as_deref(),
                self.service_stop_time_to.as_deref(),
            )
            && (self.author_persons.is_empty()
                || entry.authors.iter().any(|a| {
                    a.person
                        .as_deref()
                        .is_some_and(|p| self.author_persons.iter().any(|pat| like(pat, p)))
                }))
    }
}

/// An absent list matches everything; otherwise one of its values must match.
fn any_code(params: &[CodeParam], code: &Code) -> bool {
    params.is_empty() || params.iter().any(|p| code_matches(p, code))
}

/// Code equal; scheme equal when the parameter names one.
fn code_matches(p: &CodeParam, c: &Code) -> bool {
    p.code == c.code && p.scheme.as_deref().is_none_or(|s| s == c.scheme)
}

/// `from <= t < to` (ITI-18: From is inclusive, To exclusive), compared at the precision of
/// each bound: the entry's `YYYYMMDDhhmmss` is cut to the bound's length, so `2024` as a To
/// bound excludes all of 2024 and a From bound of `2024` includes all of it.
fn in_range(t: Option<DateTime<Utc>>, from: Option<&str>, to: Option<&str>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(t) = t else {
        return false;
    };
    let dtm = xds_dtm(t);
    let at = |bound: &str| -> (String, String) {
        let b: String = bound.chars().take_while(char::is_ascii_digit).collect();
        let n = b.len().min(dtm.len());
        (dtm[..n].to_owned(), b[..n].to_owned())
    };
    from.is_none_or(|f| {
        let (t, f) = at(f);
        t >= f
    }) && to.is_none_or(|b| {
        let (t, b) = at(b);
        t < b
    })
}

/// SQL `LIKE` as ITI-18 uses it for AuthorPerson: `%` any run of characters, `_` exactly one;
/// everything else literal. Iterative with one backtrack point, so linear in practice and
/// never worse than O(pattern × value).
pub(crate) fn like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == '_' || c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

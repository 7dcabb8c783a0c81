//! Patient-safety matching for ITI-55 / ITI-47: the query's demographics checked against the
//! PDS record found by NHS number (so a wrong NHS number from the EHR is not answered with
//! another person's record), and the PDS demographic search built from a query that has no
//! NHS number. Pure functions; the rules are listed in the crate README.

use chrono::{Datelike, NaiveDate};
use ihe_messaging::{Address, Gender, PatientQuery, PersonName};
use nhs_spine::pds_search::{BirthDate, SearchGender, SearchQuery};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::spine::CachedPatient;

/// The first field of a query that contradicts the PDS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    FamilyName,
    GivenName,
    BirthDate,
    Gender,
    Postcode,
}

impl Mismatch {
    /// Audit / metrics code; names the field, never its value.
    pub fn code(self) -> &'static str {
        match self {
            Self::FamilyName => "mismatch_family_name",
            Self::GivenName => "mismatch_given_name",
            Self::BirthDate => "mismatch_birth_date",
            Self::Gender => "mismatch_gender",
            Self::Postcode => "mismatch_postcode",
        }
    }
}

/// The query's birth time is not an HL7 TS we can compare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("livingSubjectBirthTime must be an HL7 date (YYYY, YYYYMM or YYYYMMDD, optionally longer)")]
pub struct BadBirthTime;

/// A birth date to the precision it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialDate {
    Year(i32),
    Month(i32, u32),
    Day(NaiveDate),
}

impl PartialDate {
    /// From an HL7 TS (`YYYY`, `YYYYMM`, `YYYYMMDD[HH…]`) or a FHIR date (`YYYY[-MM[-DD]]`).
    pub fn parse(s: &str) -> Result<Self, BadBirthTime> {
        let digits: String = s.trim().chars().filter(|c| *c != '-').collect();
        let date_part: String = digits.chars().take_while(char::is_ascii_digit).collect();
        let num = |r: std::ops::Range<usize>| -> Result<u32, BadBirthTime> {
            date_part
                .get(r)
                .and_then(|x| x.parse().ok())
                .ok_or(BadBirthTime)
        };
        let year = i32::try_from(num(0..4)?).map_err(|_| BadBirthTime)?;
        match date_part.len() {
            4 => Ok(Self::Year(year)),
            6 => {
                let m = num(4..6)?;
                NaiveDate::from_ymd_opt(year, m, 1).ok_or(BadBirthTime)?;
                Ok(Self::Month(year, m))
            }
            n if n >= 8 => NaiveDate::from_ymd_opt(year, num(4..6)?, num(6..8)?)
                .map(Self::Day)
                .ok_or(BadBirthTime),
            _ => Err(BadBirthTime),
        }
    }

    fn year(self) -> i32 {
        match self {
            Self::Year(y) | Self::Month(y, _) => y,
            Self::Day(d) => d.year(),
        }
    }

    fn month(self) -> Option<u32> {
        match self {
            Self::Year(_) => None,
            Self::Month(_, m) => Some(m),
            Self::Day(d) => Some(d.month()),
        }
    }

    /// Equal at the precision both sides have.
    fn agrees_with(self, other: Self) -> bool {
        if self.year() != other.year() {
            return false;
        }
        match (self.month(), other.month()) {
            (Some(a), Some(b)) if a != b => false,
            _ => match (self, other) {
                (Self::Day(a), Self::Day(b)) => a == b,
                _ => true,
            },
        }
    }

    fn search_range(self) -> BirthDate {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        match self {
            Self::Day(d) => BirthDate::On(d),
            Self::Year(y) => BirthDate::Between(ymd(y, 1, 1), ymd(y, 12, 31)),
            Self::Month(y, m) => {
                let first = ymd(y, m, 1);
                let next = if m == 12 {
                    ymd(y + 1, 1, 1)
                } else {
                    ymd(y, m + 1, 1)
                };
                BirthDate::Between(first, next.pred_opt().unwrap_or(first))
            }
        }
    }
}

/// Case-, accent- and punctuation-insensitive form: NFKD, combining marks dropped, lower
/// case, letters and digits only (`O'Reilly` = `OREILLY`, `Kociński` = `Kocinski`).
pub fn fold_name(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Given-name tokens: split on spaces and hyphens, then folded.
fn given_tokens<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    names
        .flat_map(|g| g.split(|c: char| c.is_whitespace() || c == '-'))
        .map(fold_name)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Upper case, no whitespace.
pub fn fold_postcode(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Checks every demographic the query carries against the PDS record; fields either side
/// lacks are not compared. The query's birth time must already be valid
/// (see [`query_birth_date`]).
pub fn verify(q: &PatientQuery, p: &CachedPatient) -> Result<(), Mismatch> {
    verify_parts(&q.names, q.birth_time.as_deref(), q.gender, &q.addresses, p)
}

fn verify_parts(
    names: &[PersonName],
    birth_time: Option<&str>,
    gender: Option<Gender>,
    addresses: &[Address],
    p: &CachedPatient,
) -> Result<(), Mismatch> {
    let families: Vec<String> = names
        .iter()
        .filter_map(|n| n.family.as_deref())
        .map(fold_name)
        .filter(|f| !f.is_empty())
        .collect();
    let pds_families: Vec<String> = p
        .names
        .iter()
        .filter_map(|n| n.family.as_deref())
        .map(fold_name)
        .collect();
    if !families.is_empty()
        && !pds_families.is_empty()
        && !families.iter().any(|f| pds_families.contains(f))
    {
        return Err(Mismatch::FamilyName);
    }

    let given = given_tokens(names.iter().flat_map(|n| n.given.iter()));
    let pds_given = given_tokens(p.names.iter().flat_map(|n| n.given.iter()));
    let given_ok = |want: &String| {
        pds_given.iter().any(|have| {
            have == want
                // An initial matches a name starting with it.
                || (want.chars().count() == 1 && have.starts_with(want.as_str()))
        })
    };
    if !given.is_empty() && !pds_given.is_empty() && !given.iter().any(given_ok) {
        return Err(Mismatch::GivenName);
    }

    if let Some(Ok(asked)) = birth_time.map(PartialDate::parse)
        && let Some(Ok(known)) = p.birth_date.as_deref().map(PartialDate::parse)
        && !asked.agrees_with(known)
    {
        return Err(Mismatch::BirthDate);
    }

    let known_gender = match p.gender.as_deref() {
        Some("male") => Some(Gender::Male),
        Some("female") => Some(Gender::Female),
        _ => None,
    };
    if let (Some(asked @ (Gender::Male | Gender::Female)), Some(known)) = (gender, known_gender)
        && asked != known
    {
        return Err(Mismatch::Gender);
    }

    let postcodes: Vec<String> = addresses
        .iter()
        .filter_map(|a| a.postal_code.as_deref())
        .map(fold_postcode)
        .filter(|p| !p.is_empty())
        .collect();
    let pds_postcodes: Vec<String> = p
        .addresses
        .iter()
        .filter_map(|a| a.postal_code.as_deref())
        .map(fold_postcode)
        .collect();
    if !postcodes.is_empty()
        && !pds_postcodes.is_empty()
        && !postcodes.iter().any(|pc| pds_postcodes.contains(pc))
    {
        return Err(Mismatch::Postcode);
    }
    Ok(())
}

/// The query's birth date, if it sent one; an unusable value is an error.
pub fn query_birth_date(q: &PatientQuery) -> Result<Option<PartialDate>, BadBirthTime> {
    q.birth_time.as_deref().map(PartialDate::parse).transpose()
}

/// The non-fuzzy PDS search for a query without an NHS number: `None` unless it has PDS's
/// minimum, a family name and a birth date. Sends the first family name, the first given
/// name, gender when male or female, and the first postcode.
pub fn search_query(q: &PatientQuery, birth: Option<PartialDate>) -> Option<SearchQuery> {
    let birth = birth?;
    let name = q
        .names
        .iter()
        .find(|n| n.family.as_deref().is_some_and(|f| !f.trim().is_empty()))?;
    let mut s = SearchQuery::new(name.family.as_deref()?.trim(), birth.search_range());
    s.given = name
        .given
        .iter()
        .map(|g| g.trim())
        .find(|g| !g.is_empty())
        .map(|g| vec![g.to_owned()])
        .unwrap_or_default();
    s.gender = match q.gender {
        Some(Gender::Male) => Some(SearchGender::Male),
        Some(Gender::Female) => Some(SearchGender::Female),
        _ => None,
    };
    s.postcode = q
        .addresses
        .iter()
        .filter_map(|a| a.postal_code.as_deref())
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_owned);
    Some(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_accents_and_punctuation() {
        assert_eq!(fold_name("Kociński"), "kocinski");
        assert_eq!(fold_name("O'Reilly"), "oreilly");
        assert_eq!(fold_name("ATTSÖN"), fold_name("attson"));
        assert_eq!(fold_name("Smith-Jones"), fold_name("SMITH JONES"));
        assert_eq!(fold_postcode(" ts19 8jp "), "TS198JP");
    }

    fn pds() -> CachedPatient {
        use crate::spine::{CachedAddress, CachedName, PatientStatus};
        CachedPatient {
            status: PatientStatus::Found,
            nhs_number: "9690937278".into(),
            names: vec![CachedName {
                use_: Some("usual".into()),
                prefix: vec![],
                given: vec!["Lucien".into(), "Keith".into()],
                family: Some("SAMUAL".into()),
            }],
            gender: Some("male".into()),
            birth_date: Some("1938-12-11".into()),
            addresses: vec![CachedAddress {
                use_: Some("home".into()),
                lines: vec![],
                postal_code: Some("TS19 8JP".into()),
            }],
            gp_ods_code: None,
        }
    }

    fn name(given: &[&str], family: &str) -> PersonName {
        PersonName {
            use_code: None,
            prefixes: vec![],
            given: given.iter().map(|g| (*g).to_owned()).collect(),
            family: Some(family.into()),
            suffixes: vec![],
        }
    }

    fn addr(pc: &str) -> Address {
        Address {
            postal_code: Some(pc.into()),
            ..Address::default()
        }
    }

    #[test]
    fn each_field_is_compared_only_when_both_sides_have_it() {
        let p = pds();
        let ok = |n: &[PersonName], b, g, a: &[Address]| verify_parts(n, b, g, a, &p);
        assert_eq!(ok(&[], None, None, &[]), Ok(()));
        let full = [name(&["keith"], "Samual")];
        let home = [addr("ts198jp")];
        assert_eq!(
            ok(&full, Some("19381211"), Some(Gender::Male), &home),
            Ok(())
        );
        assert_eq!(
            ok(&[name(&["L"], "samual")], Some("1938"), None, &[]),
            Ok(())
        );
        assert_eq!(
            ok(&[name(&[], "SAMUEL")], None, None, &[]),
            Err(Mismatch::FamilyName)
        );
        assert_eq!(
            ok(&[name(&["Lucy"], "SAMUAL")], None, None, &[]),
            Err(Mismatch::GivenName)
        );
        assert_eq!(
            ok(&full, Some("19381112"), None, &[]),
            Err(Mismatch::BirthDate)
        );
        assert_eq!(
            ok(&full, None, Some(Gender::Female), &[]),
            Err(Mismatch::Gender)
        );
        assert_eq!(ok(&full, None, Some(Gender::Undifferentiated), &[]), Ok(()));
        assert_eq!(
            ok(&full, None, None, &[addr("TS19 8JQ")]),
            Err(Mismatch::Postcode)
        );
    }

    #[test]
    fn birth_dates_compare_at_the_precision_given() {
        let d = |s| PartialDate::parse(s).unwrap();
        assert!(d("19381211").agrees_with(d("1938-12-11")));
        assert!(d("19381211093000+0000").agrees_with(d("1938-12-11")));
        assert!(d("1938").agrees_with(d("1938-12-11")));
        assert!(d("193812").agrees_with(d("1938-12-11")));
        assert!(!d("193811").agrees_with(d("1938-12-11")));
        assert!(!d("19381212").agrees_with(d("1938-12-11")));
        assert!(!d("1939").agrees_with(d("1938-12-11")));
        for bad in ["", "19", "1938121", "19381332", "abcd", "193813"] {
            assert_eq!(PartialDate::parse(bad), Err(BadBirthTime), "{bad:?}");
        }
        assert_eq!(
            d("195102").search_range(),
            BirthDate::Between(
                NaiveDate::from_ymd_opt(1951, 2, 1).unwrap(),
                NaiveDate::from_ymd_opt(1951, 2, 28).unwrap()
            )
        );
    }
}

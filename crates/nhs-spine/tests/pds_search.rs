//! PDS search against the sandbox over real HTTP on loopback: unique match, none, too many,
//! restricted patients, wildcards and PDS's refusals.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{ctx, start};
use nhs_spine::pds::PdsError;
use nhs_spine::pds_search::{BirthDate, SearchGender, SearchOutcome, SearchQuery};

fn on(y: i32, m: u32, d: u32) -> BirthDate {
    BirthDate::On(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn single(outcome: SearchOutcome) -> nhs_spine::pds_search::SearchMatch {
    match outcome {
        SearchOutcome::Matches(mut m) if m.len() == 1 => m.remove(0),
        other => panic!("expected one match, got {other:?}"),
    }
}

#[tokio::test]
async fn search_finds_a_unique_patient_and_scores_exact_matches_1() {
    let env = start(|_| {}).await;
    let pds = env.pds();
    let c = ctx();

    let mut q = SearchQuery::new("dawkin", on(1951, 4, 17));
    let m = single(pds.search(&q, &c).await.unwrap());
    assert_eq!(m.patient.nhs_number.as_str(), "9690937472");
    assert_eq!(m.score, Some(1.0));
    assert!(m.patient.gp_ods_code.is_some());

    // every demographic PDS takes, postcode written differently
    q.given = vec!["Diana".into()];
    q.gender = Some(SearchGender::Female);
    q.postcode = Some("ts211de".into());
    let m = single(pds.search(&q, &c).await.unwrap());
    assert_eq!(m.patient.nhs_number.as_str(), "9690937472");

    // a wildcard is a partial match: score below 1
    let q = SearchQuery::new("DAW*", on(1951, 4, 17));
    assert_eq!(single(pds.search(&q, &c).await.unwrap()).score, Some(0.9));

    // a year of birth as a range
    let q = SearchQuery::new(
        "DAWKIN",
        BirthDate::Between(
            NaiveDate::from_ymd_opt(1951, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(1951, 12, 31).unwrap(),
        ),
    );
    assert_eq!(
        single(pds.search(&q, &c).await.unwrap())
            .patient
            .nhs_number
            .as_str(),
        "9690937472"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_outcomes_none_too_many_and_restricted() {
    let env = start(|_| {}).await;
    let pds = env.pds();
    let c = ctx();

    // a contradicting field: nothing
    let mut q = SearchQuery::new("DAWKIN", on(1951, 4, 17));
    q.gender = Some(SearchGender::Male);
    assert_eq!(pds.search(&q, &c).await.unwrap(), SearchOutcome::NoMatch);
    let q = SearchQuery::new("DAWKIN", on(1951, 4, 18));
    assert_eq!(pds.search(&q, &c).await.unwrap(), SearchOutcome::NoMatch);

    // the same man under two NHS numbers in the fixtures (9690937286, 9690937421)
    let q = SearchQuery::new("SKELLY", on(1925, 4, 21));
    assert_eq!(
        pds.search(&q, &c).await.unwrap(),
        SearchOutcome::TooManyMatches
    );

    // the sandbox's scenario patients share 9690937278's demographics: PDS will not choose
    let q = SearchQuery::new("SAMUAL", on(1938, 12, 11));
    assert_eq!(
        pds.search(&q, &c).await.unwrap(),
        SearchOutcome::TooManyMatches
    );

    // a restricted patient is found, without location details; never by postcode
    let mut q = SearchQuery::new("Smythe", on(2010, 10, 22));
    q.given = vec!["Janet".into()];
    let m = single(pds.search(&q, &c).await.unwrap());
    assert!(m.patient.is_restricted());
    assert!(m.patient.addresses.is_empty() && m.patient.gp_ods_code.is_none());
    q.postcode = Some("LS1 6AE".into());
    assert_eq!(pds.search(&q, &c).await.unwrap(), SearchOutcome::NoMatch);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_refusals_are_typed_errors() {
    let env = start(|_| {}).await;
    let pds = env.pds();
    let c = ctx();
    // application-restricted access may not ask for several results
    let mut q = SearchQuery::new("SAMUAL", on(1938, 12, 11));
    q.max_results = 5;
    match pds.search(&q, &c).await.unwrap_err() {
        PdsError::AccessDenied { status: 403, code } => assert_eq!(code, "INVALID_VALUE"),
        other => panic!("{other:?}"),
    }
    // an empty family name does not meet PDS's minimum
    let q = SearchQuery::new("", on(1938, 12, 11));
    match pds.search(&q, &c).await.unwrap_err() {
        PdsError::BadRequest {
            status: 400, code, ..
        } => assert_eq!(code, "INVALID_SEARCH_DATA"),
        other => panic!("{other:?}"),
    }
    env.sandbox.shutdown().await;
}

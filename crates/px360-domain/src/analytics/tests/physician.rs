use super::{answers, published};
use crate::analytics::Merge;
use crate::analytics::physician::{
    DEFAULT_MIN_SAMPLE, PhysicianAcc, PhysicianRating, rank_department,
};
use uuid::Uuid;

/// A physician with `n` responses answering "doctor_listened" with `word`.
fn physician(n: usize, word: &str) -> PhysicianAcc {
    let p = published();
    let mut acc = PhysicianAcc::default();
    let a = answers(
        &p,
        &[("nps", "9"), ("rating", "1"), ("doctor_listened", word)],
    );
    for _ in 0..n {
        acc.add_response(&p, &a);
    }
    acc
}

#[test]
fn only_physician_questions_count_and_small_samples_are_suppressed() {
    let acc = physician(30, "usually");
    assert_eq!(acc.responses(), 30);
    // Only doctor_listened is about the physician: the NPS and rating answers are left out.
    assert_eq!(acc.0.nps.promoters, 0);
    assert_eq!(acc.0.csat.total, 0);
    match acc.rating(DEFAULT_MIN_SAMPLE) {
        PhysicianRating::Rated { n, scores } => {
            assert_eq!(n, 30);
            assert_eq!(scores.linear_mean.to_f64(), 200.0 / 3.0);
            assert_eq!(scores.top.to_f64(), 0.0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(acc.rating(DEFAULT_MIN_SAMPLE).shown_score(), Some(67));
    let few = physician(29, "always");
    assert_eq!(
        few.rating(DEFAULT_MIN_SAMPLE),
        PhysicianRating::InsufficientData { n: 29 }
    );
    assert_eq!(few.rating(29).shown_score(), Some(100));
    assert_eq!(few.rating(DEFAULT_MIN_SAMPLE).shown_score(), None);
    // A response without a physician answer does not count towards the sample.
    let p = published();
    let mut none = PhysicianAcc::default();
    none.add_response(&p, &answers(&p, &[("nps", "9"), ("rating", "4")]));
    assert_eq!(none.responses(), 0);
    assert_eq!(none.rating(0), PhysicianRating::InsufficientData { n: 0 });
    // Merging two halves crosses the threshold.
    let merged = PhysicianAcc::merge_all([&physician(15, "always"), &physician(15, "never")]);
    assert_eq!(merged.rating(30).shown_score(), Some(50));
    let json = serde_json::to_string(&merged).unwrap();
    assert_eq!(serde_json::from_str::<PhysicianAcc>(&json).unwrap(), merged);
}

#[test]
fn ranking_shares_ranks_on_ties_and_leaves_suppressed_unranked() {
    let id = Uuid::from_u128;
    let ratings = vec![
        (id(1), physician(30, "usually").rating(30)), // 67
        (id(2), physician(40, "always").rating(30)),  // 100
        (id(3), physician(10, "always").rating(30)),  // suppressed, 10
        (id(4), physician(35, "usually").rating(30)), // 67
        (id(5), physician(31, "never").rating(30)),   // 0
        (id(6), physician(20, "never").rating(30)),   // suppressed, 20
    ];
    let ranked = rank_department(ratings);
    let got: Vec<(u128, Option<u32>)> = ranked
        .iter()
        .map(|r| (r.physician.as_u128(), r.rank))
        .collect();
    assert_eq!(
        got,
        [
            (2, Some(1)),
            (1, Some(2)),
            (4, Some(2)),
            (5, Some(4)),
            (6, None),
            (3, None)
        ]
    );
    assert!(rank_department(vec![]).is_empty());
    let json = serde_json::to_value(ranked[5]).unwrap();
    assert_eq!(json["rating"]["kind"], "insufficient_data");
    assert_eq!(json["rank"], serde_json::Value::Null);
}

use super::{answers, k, published};
use crate::analytics::Merge;
use crate::analytics::csat::{CsatAcc, RatingOutOfRange};
use crate::analytics::items::{BoxKind, ItemsAcc, Scale};
use crate::analytics::nps::{NpsAcc, NpsOutOfRange};
use crate::analytics::ratio::Ratio;
use crate::analytics::survey_kpis::SurveyKpis;
use crate::survey::answer::Answer;
use crate::survey::question::Frequency::{self, *};
use crate::survey::scoring::linear_score;

fn r(num: i128, den: i128) -> Ratio {
    Ratio::new(num, den).unwrap()
}

#[test]
fn ratio_rounds_halves_up_exactly() {
    assert_eq!(r(135, 2).round(), 68); // 67.5
    assert_eq!(r(1349, 20).round(), 67); // 67.45
    assert_eq!(r(200, 3).round(), 67); // 66⅔
    assert_eq!(r(100, 3).round(), 33);
    assert_eq!(r(-25, 2).round(), -13); // away from zero for NPS
    assert_eq!(r(0, 5).round(), 0);
    assert_eq!(Ratio::new(1, 0), None);
    assert_eq!(Ratio::new(1, -2), Some(r(-1, 2)));
    assert_eq!(Ratio::new(1, i128::MIN), None);
    assert_eq!(r(1, 2), r(2, 4));
    assert!(r(1, 3) < r(34, 100));
    assert_eq!(Ratio::percent(1, 8).unwrap().round(), 13); // 12.5
    // 91⅔ and 33⅓ average to exactly 62.5.
    let m = Ratio::mean(&[r(275, 3), r(100, 3)]).unwrap();
    assert_eq!((m, m.round()), (r(125, 2), 63));
    assert_eq!(Ratio::mean(&[]), None);
    assert_eq!(r(6, 4).reduced().num(), 3);
    // Sums too large for exact arithmetic fall back to f64, kept to 10⁻⁹.
    let big = [r(1, i128::MAX / 3), r(1, i128::MAX / 5), r(200, 3)];
    let m = Ratio::mean(&big).unwrap();
    assert!((m.to_f64() - 200.0 / 9.0).abs() < 1e-9);
    assert_eq!(serde_json::to_string(&r(1, 2)).unwrap(), "0.5");
}

#[test]
fn nps_of_the_issue_example_is_50() {
    let mut a = NpsAcc::default();
    for x in [10, 9, 10, 4] {
        a.add(x).unwrap();
    }
    assert_eq!(a.nps(), Some(r(50, 1)));
    assert_eq!((a.promoters, a.passives, a.detractors), (3, 0, 1));
    assert_eq!(a.promoter_percent().unwrap().round(), 75);
    assert_eq!(a.detractor_percent().unwrap().round(), 25);
    let nps_of = |xs: &[u8]| {
        let mut a = NpsAcc::default();
        xs.iter().for_each(|x| a.add(*x).unwrap());
        a.nps()
    };
    assert_eq!(nps_of(&[7, 8]), Some(r(0, 1)));
    assert_eq!(nps_of(&[0]), Some(r(-100, 1)));
    assert_eq!(nps_of(&[10]), Some(r(100, 1)));
    // 2 promoters, 1 detractor of 3: 33⅓ → 33.
    assert_eq!(nps_of(&[6, 9, 9]).unwrap().round(), 33);
    assert_eq!(nps_of(&[]), None);
    assert_eq!(a.add(11), Err(NpsOutOfRange));
}

#[test]
fn csat_is_the_top_two_box_share_of_ratings() {
    let mut a = CsatAcc::default();
    for x in [5, 4, 3, 2, 1] {
        a.add(x).unwrap();
    }
    assert_eq!(a.csat(), Some(r(40, 1)));
    let mut b = CsatAcc::default();
    for x in [4, 4, 5, 1] {
        b.add(x).unwrap();
    }
    assert_eq!(b.csat(), Some(r(75, 1)));
    a.merge(&b);
    // 5 of 9
    assert_eq!(a.csat(), Some(r(500, 9)));
    assert_eq!(a.csat().unwrap().round(), 56);
    assert_eq!(b.add(0), Err(RatingOutOfRange));
    assert_eq!(b.add(6), Err(RatingOutOfRange));
    assert_eq!(CsatAcc::default().csat(), None);
}

fn item(answers: &[Answer]) -> (Scale, crate::analytics::items::BoxScores) {
    let mut acc = ItemsAcc::default();
    for a in answers {
        assert!(acc.add(&k("q"), a));
    }
    acc.item(&k("q")).unwrap()
}

#[test]
fn frequency_item_boxes_and_linear_mean() {
    let f = |x: Frequency| Answer::Frequency(x);
    let (scale, s) = item(&[f(Always), f(Always), f(Usually), f(Sometimes)]);
    assert_eq!(scale, Scale::Frequency);
    assert_eq!(s.n, 4);
    assert_eq!(s.top, r(50, 1));
    assert_eq!(s.middle, Some(r(25, 1)));
    assert_eq!(s.bottom, r(25, 1));
    // (100 + 100 + 66⅔ + 33⅓) / 4 = 75
    assert_eq!(s.linear_mean, r(75, 1));
    // (66⅔ + 100) / 2 = 83⅓ → 83; Never is bottom box.
    let (_, s) = item(&[f(Usually), f(Always)]);
    assert_eq!(s.linear_mean, r(250, 3));
    assert_eq!(s.linear_mean.round(), 83);
    let (_, s) = item(&[f(Never)]);
    assert_eq!((s.bottom, s.linear_mean), (r(100, 1), r(0, 1)));
}

#[test]
fn zero_to_ten_yes_no_and_rating_items() {
    // 0–10: top 9–10, middle 7–8, bottom 0–6; linear 10 × answer.
    let (_, s) = item(&[10, 9, 10, 4].map(Answer::Nps));
    assert_eq!(
        (s.top, s.middle, s.bottom),
        (r(75, 1), Some(r(0, 1)), r(25, 1))
    );
    // (100 + 90 + 100 + 40) / 4 = 82.5 → 83
    assert_eq!(s.linear_mean, r(165, 2));
    assert_eq!(s.linear_mean.round(), 83);
    let (_, s) = item(&[9, 9, 9, 0].map(Answer::Nps));
    assert_eq!(s.linear_mean.round(), 68); // 67.5
    // yes/no: Yes 100, No 0; no middle box.
    let (scale, s) = item(&[true, true, false].map(Answer::YesNo));
    assert_eq!(scale, Scale::YesNo);
    assert_eq!(s.middle, None);
    assert_eq!((s.top.round(), s.bottom.round()), (67, 33));
    assert_eq!(s.linear_mean, r(200, 3));
    // 1–5 rating: top 5, middle 3–4, bottom 1–2; linear (answer − 1) × 25.
    let (_, s) = item(&[5, 4, 3, 1].map(Answer::Rating));
    assert_eq!(
        (s.top, s.middle, s.bottom),
        (r(25, 1), Some(r(50, 1)), r(25, 1))
    );
    // (100 + 75 + 50 + 0) / 4 = 56.25 → 56
    assert_eq!(s.linear_mean, r(225, 4));
    assert_eq!(s.linear_mean.round(), 56);
}

#[test]
fn item_points_are_the_survey_scorings_linear_scores() {
    for scale in [
        Scale::Frequency,
        Scale::ZeroToTen,
        Scale::YesNo,
        Scale::Rating,
    ] {
        for i in 0..scale.categories() {
            let a = scale.answer(i).unwrap();
            assert_eq!(Scale::of(&a), Some((scale, i)));
            let (_, s) = item(std::slice::from_ref(&a));
            let want = linear_score(&a).unwrap();
            assert!((s.linear_mean.to_f64() - want).abs() < 1e-9, "{a:?}");
            let top = s.top == r(100, 1);
            assert_eq!(top, scale.box_of(i) == BoxKind::Top, "{a:?}");
        }
        assert_eq!(scale.answer(scale.categories()), None);
    }
    let mut acc = ItemsAcc::default();
    assert!(!acc.add(&k("c"), &Answer::Text("free".into())));
    assert!(!acc.add(&k("c"), &Answer::Rating(9)));
    assert!(acc.0.is_empty());
}

#[test]
fn composites_average_their_items_not_the_pooled_answers() {
    let mut acc = ItemsAcc::default();
    for a in [Always, Never] {
        acc.add(&k("a"), &Answer::Frequency(a));
    }
    for a in [Always, Always, Always, Usually] {
        acc.add(&k("b"), &Answer::Frequency(a));
    }
    let c = acc.composite(&[k("a"), k("b"), k("unanswered")]).unwrap();
    assert_eq!((c.items, c.n), (2, 6));
    // top: (50 + 75) / 2 = 62.5 (pooled would be 4/6 = 66.7)
    assert_eq!(c.top, r(125, 2));
    assert_eq!(c.middle, Some(r(25, 2)));
    assert_eq!(c.bottom, r(25, 1));
    // linear: (50 + 91⅔) / 2 = 70⅚
    assert_eq!(c.linear_mean, r(425, 6));
    assert_eq!(c.rounded(), (63, Some(13), 25, 71));
    assert_eq!(acc.composite(&[k("unanswered")]), None);
    // A key whose type changed between versions keeps both scales apart.
    acc.add(&k("a"), &Answer::YesNo(true));
    let scales: Vec<_> = acc.scores().into_iter().map(|(k, s, _)| (k, s)).collect();
    assert_eq!(
        scales,
        [
            (k("a"), Scale::Frequency),
            (k("a"), Scale::YesNo),
            (k("b"), Scale::Frequency)
        ]
    );
}

#[test]
fn a_response_feeds_nps_csat_and_items() {
    let p = published();
    let mut kpis = SurveyKpis::default();
    let a1 = answers(
        &p,
        &[
            ("nps", "10"),
            ("rating", "5"),
            ("er", "no"),
            ("doctor_listened", "always"),
        ],
    );
    let a2 = answers(
        &p,
        &[
            ("nps", "4"),
            ("why", "wait"),
            ("rating", "2"),
            ("doctor_listened", "sometimes"),
        ],
    );
    kpis.add_response(&p, &a1, None);
    kpis.add_response(&p, &a2, None);
    assert_eq!(kpis.responses, 2);
    assert_eq!(kpis.nps.nps(), Some(r(0, 1)));
    assert_eq!(kpis.csat.csat(), Some(r(50, 1)));
    let (_, er) = kpis.items.item(&k("er")).unwrap();
    assert_eq!((er.n, er.linear_mean), (1, r(0, 1)));
    let (_, doc) = kpis.items.item(&k("doctor_listened")).unwrap();
    assert_eq!(doc.linear_mean, r(200, 3));
    assert_eq!(kpis.items.item(&k("why")), None);
    // Stored form round-trips.
    let json = serde_json::to_string(&kpis).unwrap();
    assert!(
        json.contains(r#""doctor_listened":{"frequency":[0,1,0,1]}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<SurveyKpis>(&json).unwrap(), kpis);
    assert!(serde_json::from_str::<SurveyKpis>(r#"{"responses":1,"extra":2}"#).is_err());
}

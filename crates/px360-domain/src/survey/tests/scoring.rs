use super::{form, published};
use crate::survey::answer::Answer;
use crate::survey::question::Frequency;
use crate::survey::response::validate;
use crate::survey::scoring::*;

#[test]
fn nps_categories_and_group_nps() {
    let cats: Vec<_> = (0..=10).map(|n| NpsCategory::of(n).unwrap()).collect();
    assert!(cats[..=6].iter().all(|c| *c == NpsCategory::Detractor));
    assert_eq!(&cats[7..=8], &[NpsCategory::Passive; 2]);
    assert_eq!(&cats[9..], &[NpsCategory::Promoter; 2]);
    assert_eq!(NpsCategory::of(11), None);
    // 5 promoters, 3 passives, 2 detractors: 50% − 20% = 30.
    let group = [
        [NpsCategory::Promoter; 5].as_slice(),
        &[NpsCategory::Passive; 3],
        &[NpsCategory::Detractor; 2],
    ]
    .concat();
    assert_eq!(group_nps(group), Some(30.0));
    assert_eq!(group_nps([NpsCategory::Detractor]), Some(-100.0));
    assert_eq!(group_nps([]), None);
}

#[test]
fn linear_scores_follow_the_cms_spacing() {
    let f = |f| linear_score(&Answer::Frequency(f)).unwrap();
    assert_eq!(f(Frequency::Never), 0.0);
    assert!((f(Frequency::Sometimes) - 33.333_333).abs() < 1e-4);
    assert!((f(Frequency::Usually) - 66.666_667).abs() < 1e-4);
    assert_eq!(f(Frequency::Always), 100.0);
    let r: Vec<f64> = (1..=5)
        .map(|n| linear_score(&Answer::Rating(n)).unwrap())
        .collect();
    assert_eq!(r, vec![0.0, 25.0, 50.0, 75.0, 100.0]);
    assert_eq!(linear_score(&Answer::Nps(7)), Some(70.0));
    assert_eq!(linear_score(&Answer::YesNo(true)), None);
    assert!(csat_top_two_box(4) && csat_top_two_box(5) && !csat_top_two_box(3));
    assert!(hcahps_top_box(Frequency::Always) && !hcahps_top_box(Frequency::Usually));
    assert_eq!(percent_true([true, false, false, true]), Some(50.0));
    assert_eq!(mean([]), None);
}

#[test]
fn one_response_is_scored_in_question_order() {
    let p = published();
    let o = validate(
        &p,
        &form(&[
            ("nps", "8"),
            ("rating", "5"),
            ("doctor_listened", "usually"),
            ("er", "yes"),
            ("er_wait", "1h_4h"),
        ]),
    )
    .unwrap();
    let s = score(&p, o.answers());
    assert_eq!(s.nps, Some(8));
    assert_eq!(s.nps_category, Some(NpsCategory::Passive));
    assert_eq!(s.csat_top_two_box, Some(100.0));
    assert_eq!(s.hcahps_top_box, Some(0.0));
    let keys: Vec<_> = s.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["nps", "rating", "doctor_listened"]);
    // (80 + 100 + 66⅔) / 3
    assert!((s.linear_mean.unwrap() - 82.222_222).abs() < 1e-4);
    let empty = score(&p, &Default::default());
    assert_eq!(
        (empty.nps, empty.linear_mean, empty.items.len()),
        (None, None, 0)
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["nps_category"], "passive");
}

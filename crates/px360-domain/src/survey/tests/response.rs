use super::{form, published};
use crate::survey::answer::Answer;
use crate::survey::content::tests::k;
use crate::survey::question::Frequency;
use crate::survey::response::{
    ErrorCode, FieldError, MAX_FIELDS, Outcome, Submission, SubmissionError, validate,
};
use proptest::prelude::*;

fn errors(pairs: &[(&str, &str)]) -> Vec<(String, ErrorCode)> {
    validate(&published(), &form(pairs))
        .unwrap_err()
        .errors
        .into_iter()
        .map(|e| (e.key, e.code))
        .collect()
}

const HAPPY: &[(&str, &str)] = &[
    ("nps", "10"),
    ("rating", "4"),
    ("er", "no"),
    ("doctor_listened", "always"),
    ("comment", "  شكرا  "),
];

#[test]
fn a_complete_form_becomes_typed_answers() {
    let Outcome::Complete(c) = validate(&published(), &form(HAPPY)).unwrap() else {
        panic!("complete expected")
    };
    let a = c.answers();
    assert_eq!(a.get(&k("nps")), Some(&Answer::Nps(10)));
    assert_eq!(a.get(&k("rating")), Some(&Answer::Rating(4)));
    assert_eq!(a.get(&k("er")), Some(&Answer::YesNo(false)));
    assert_eq!(
        a.get(&k("doctor_listened")),
        Some(&Answer::Frequency(Frequency::Always))
    );
    assert_eq!(a.get(&k("comment")), Some(&Answer::Text("شكرا".into())));
    assert_eq!(a.len(), 5, "why and er_wait were hidden");
}

#[test]
fn answers_round_trip_through_their_storage_json() {
    let mut pairs = HAPPY.to_vec();
    pairs[0] = ("nps", "3");
    pairs.extend([("why", "wait"), ("why", "staff")]);
    let o = validate(&published(), &form(&pairs)).unwrap();
    let json = serde_json::to_string(o.answers()).unwrap();
    assert!(
        json.contains(r#""why":{"choices":["staff","wait"]}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""doctor_listened":{"frequency":"always"}"#),
        "{json}"
    );
    let back: crate::survey::answer::Answers = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, o.answers());
    assert!(
        serde_json::from_str::<crate::survey::answer::Answers>(r#"{"Bad Key":{"nps":1}}"#).is_err()
    );
}

#[test]
fn show_if_reveals_required_questions_and_hidden_answers_are_dropped() {
    // NPS 5 reveals the required "why"; "er = yes" reveals the required "er_wait".
    let p = published();
    let o = validate(
        &p,
        &form(&[
            ("nps", "5"),
            ("rating", "2"),
            ("er", "yes"),
            ("doctor_listened", "never"),
        ]),
    )
    .unwrap();
    let Outcome::Partial(part) = &o else {
        panic!("{o:?}")
    };
    assert_eq!(part.missing(), &[k("why"), k("er_wait")]);
    let errs = o.require_complete().unwrap_err().errors;
    assert_eq!(
        errs,
        vec![
            FieldError {
                key: "why".into(),
                code: ErrorCode::Required
            },
            FieldError {
                key: "er_wait".into(),
                code: ErrorCode::Required
            },
        ]
    );
    // Stale answers to questions that the current answers hide are dropped, not errors.
    let mut pairs = HAPPY.to_vec();
    pairs.extend([("why", "wait"), ("er_wait", "over_4h")]);
    let o = validate(&p, &form(&pairs)).unwrap();
    assert!(matches!(o, Outcome::Complete(_)));
    assert_eq!(o.answers().get(&k("why")), None);
    assert_eq!(o.answers().get(&k("er_wait")), None);
    // Multiple choice takes repeated fields, sorted and deduplicated.
    let o = validate(
        &p,
        &form(&[
            ("nps", "3"),
            ("why", "wait"),
            ("why", "noise"),
            ("why", "wait"),
            ("rating", "1"),
            ("doctor_listened", "usually"),
        ]),
    )
    .unwrap();
    assert_eq!(
        o.answers().get(&k("why")),
        Some(&Answer::Choices(vec![k("noise"), k("wait")]))
    );
    assert!(matches!(o, Outcome::Complete(_)));
}

#[test]
fn partial_saves_are_allowed_and_empty_inputs_mean_unanswered() {
    let o = validate(
        &published(),
        &form(&[("nps", "9"), ("rating", ""), ("comment", " ")]),
    )
    .unwrap();
    let Outcome::Partial(p) = o else { panic!() };
    assert_eq!(p.missing(), &[k("rating"), k("doctor_listened")]);
    assert_eq!(p.answers().len(), 1);
    let Outcome::Partial(p) = validate(&published(), &Submission::default()).unwrap() else {
        panic!()
    };
    assert_eq!(p.missing()[0], k("nps"));
}

#[test]
fn every_bad_answer_is_reported_by_key_and_code() {
    let long = "x".repeat(501);
    let got = errors(&[
        ("nps", "11"),
        ("rating", "four"),
        ("er", "maybe"),
        ("doctor_listened", "Always"),
        ("comment", &long),
        ("csrf_token", "abc"),
    ]);
    assert_eq!(
        got,
        vec![
            ("csrf_token".into(), ErrorCode::UnknownQuestion),
            ("nps".into(), ErrorCode::OutOfRange),
            ("rating".into(), ErrorCode::NotANumber),
            ("er".into(), ErrorCode::NotAnOption),
            ("doctor_listened".into(), ErrorCode::NotAnOption),
            ("comment".into(), ErrorCode::TooLong),
        ]
    );
    assert_eq!(
        errors(&[("nps", "9"), ("nps", "10")]),
        vec![("nps".into(), ErrorCode::OneValueOnly)]
    );
    assert_eq!(
        errors(&[("nps", "-1")]),
        vec![("nps".into(), ErrorCode::NotANumber)]
    );
    assert_eq!(
        errors(&[("nps", "0010")]),
        vec![("nps".into(), ErrorCode::NotANumber)]
    );
    assert_eq!(
        errors(&[("rating", "0")]),
        vec![("rating".into(), ErrorCode::OutOfRange)]
    );
    assert_eq!(
        errors(&[("nps", "2"), ("why", "food")]),
        vec![("why".into(), ErrorCode::NotAnOption)]
    );
    assert_eq!(
        errors(&[("comment", "a\u{0}b")]),
        vec![("comment".into(), ErrorCode::InvalidText)]
    );
    // Unknown names are cut to key length, so an error never carries a whole pasted text.
    let name = "n".repeat(300);
    assert_eq!(errors(&[(name.as_str(), "1")])[0].0.len(), 40);
    assert_eq!(ErrorCode::TooLong.as_str(), "survey-answer-too-long");
    assert_eq!(
        serde_json::to_string(&ErrorCode::Required).unwrap(),
        "\"survey-answer-required\""
    );
}

#[test]
fn free_text_length_counts_characters_not_bytes() {
    let arabic = "ع".repeat(500); // 1000 bytes
    let o = validate(&published(), &form(&[("comment", &arabic)])).unwrap();
    assert!(o.answers().get(&k("comment")).is_some());
}

#[test]
fn submissions_are_bounded_while_collected() {
    let many = (0..=MAX_FIELDS).map(|i| (format!("f{i}"), String::new()));
    assert_eq!(
        Submission::from_pairs(many),
        Err(SubmissionError::TooManyFields)
    );
    let huge = [("comment".to_string(), "x".repeat(20_001))];
    assert_eq!(
        Submission::from_pairs(huge),
        Err(SubmissionError::ValueTooLong)
    );
}

proptest! {
    #[test]
    fn arbitrary_forms_never_panic_and_only_shown_questions_are_kept(
        pairs in prop::collection::vec(
            (prop::sample::select(vec!["nps", "why", "rating", "er", "er_wait", "doctor_listened", "comment", "other"]),
             prop::sample::select(vec!["", "0", "1", "5", "6", "9", "10", "11", "yes", "no", "wait", "noise",
                                       "over_4h", "never", "always", "x", "ع"])),
            0..12)
    ) {
        let p = published();
        let sub = Submission::from_pairs(pairs.iter().map(|(a, b)| (*a, *b))).unwrap();
        match validate(&p, &sub) {
            Err(e) => prop_assert!(!e.errors.is_empty()),
            Ok(o) => {
                let a = o.answers();
                for q in &p.content().questions {
                    if let (Some(_), Some(c)) = (a.get(&q.key), &q.show_if) {
                        prop_assert!(c.holds(a), "{} kept although hidden", q.key);
                    }
                }
                if let Outcome::Complete(c) = o {
                    for q in p.content().questions.iter().filter(|q| q.required) {
                        let shown = q.show_if.as_ref().is_none_or(|c2| c2.holds(c.answers()));
                        prop_assert!(!shown || c.answers().get(&q.key).is_some());
                    }
                }
            }
        }
    }
}

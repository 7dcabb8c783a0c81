use super::{form, published};
use crate::survey::content::IssueCode;
use crate::survey::content::tests::{k, sample};
use crate::survey::negative::{
    NegativeCondition, NegativeReason, NegativeRule, SurveyResponseNegative,
};
use crate::survey::publish::{PublishError, PublishedSurvey};
use crate::survey::question::Frequency;
use crate::survey::response::{CompleteResponse, validate};
use chrono::{TimeZone, Utc};
use uuid::Uuid;

fn complete(pairs: &[(&str, &str)]) -> CompleteResponse {
    validate(&published(), &form(pairs))
        .unwrap()
        .require_complete()
        .unwrap()
}

fn reasons(pairs: &[(&str, &str)]) -> Vec<(String, NegativeCondition)> {
    let p = published();
    p.negative(&complete(pairs))
        .map(|n| n.reasons)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.question_key.to_string(), r.condition))
        .collect()
}

#[test]
fn a_positive_response_is_not_negative() {
    assert_eq!(
        reasons(&[
            ("nps", "9"),
            ("rating", "3"),
            ("doctor_listened", "usually")
        ]),
        vec![]
    );
}

#[test]
fn each_condition_fires_on_its_question() {
    assert_eq!(
        reasons(&[
            ("nps", "6"),
            ("why", "wait"),
            ("rating", "2"),
            ("doctor_listened", "sometimes")
        ]),
        vec![
            ("nps".into(), NegativeCondition::NpsAtMost(6)),
            ("rating".into(), NegativeCondition::AnyRatingAtMost(2)),
            (
                "doctor_listened".into(),
                NegativeCondition::AnyFrequencyAtMost(Frequency::Sometimes)
            ),
        ]
    );
    assert_eq!(
        reasons(&[
            ("nps", "10"),
            ("rating", "5"),
            ("er", "yes"),
            ("er_wait", "over_4h"),
            ("doctor_listened", "always")
        ]),
        vec![
            (
                "er".into(),
                NegativeCondition::YesNo {
                    key: k("er"),
                    is: true
                }
            ),
            (
                "er_wait".into(),
                NegativeCondition::AnswerIn {
                    key: k("er_wait"),
                    values: vec!["over_4h".into()]
                }
            ),
        ]
    );
}

#[test]
fn the_event_names_the_version_and_reasons() {
    let p = published();
    let n = p
        .content()
        .negative_rule
        .evaluate(
            &p,
            &complete(&[
                ("nps", "0"),
                ("why", "staff"),
                ("rating", "4"),
                ("doctor_listened", "always"),
            ]),
        )
        .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
    let rid = Uuid::from_u128(1);
    let e = n.into_event(&p, rid, at);
    assert_eq!(
        e,
        SurveyResponseNegative {
            response_id: rid,
            template_id: Uuid::from_u128(7),
            hospital_id: Some(Uuid::from_u128(9)),
            version: 3,
            content_hash: p.content_hash().into(),
            reasons: vec![NegativeReason {
                question_key: k("nps"),
                condition: NegativeCondition::NpsAtMost(6)
            }],
            occurred_at: at,
        }
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(
        json["reasons"][0]["condition"],
        serde_json::json!({"nps_at_most": 6})
    );
    assert_eq!(
        SurveyResponseNegative::EVENT_TYPE,
        "survey.response.negative"
    );
}

#[test]
fn rules_are_checked_against_the_survey_at_publish() {
    let rule_issues = |conditions: Vec<NegativeCondition>| {
        let mut c = sample();
        c.negative_rule = NegativeRule { conditions };
        match PublishedSurvey::publish(Uuid::nil(), None, 1, c) {
            Err(PublishError::Invalid(v)) => v.into_iter().map(|i| i.code).collect::<Vec<_>>(),
            Ok(_) => vec![],
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(
        rule_issues(vec![NegativeCondition::NpsAtMost(10)]),
        vec![IssueCode::RuleThresholdOutOfRange]
    );
    assert_eq!(
        rule_issues(vec![NegativeCondition::AnyRatingAtMost(5)]),
        vec![IssueCode::RuleThresholdOutOfRange]
    );
    assert_eq!(
        rule_issues(vec![NegativeCondition::AnyFrequencyAtMost(
            Frequency::Always
        )]),
        vec![IssueCode::RuleThresholdOutOfRange]
    );
    assert_eq!(
        rule_issues(vec![NegativeCondition::YesNo {
            key: k("nps"),
            is: true
        }]),
        vec![IssueCode::RuleMismatch(
            crate::survey::condition::TestMismatch::ImpossibleValue
        )]
    );
    assert_eq!(
        rule_issues(vec![NegativeCondition::AnswerIn {
            key: k("ghost"),
            values: vec!["x".into()]
        }]),
        vec![IssueCode::RuleUnknownQuestion]
    );
    assert_eq!(
        rule_issues(vec![NegativeCondition::AnswerIn {
            key: k("comment"),
            values: vec!["bad".into()]
        }]),
        vec![IssueCode::RuleMismatch(
            crate::survey::condition::TestMismatch::FreeText
        )]
    );
    // A rule on a question type the survey lacks could never fire.
    let mut c = sample();
    c.questions
        .retain(|q| q.key.as_str() != "nps" && q.key.as_str() != "why");
    c.negative_rule = NegativeRule {
        conditions: vec![NegativeCondition::NpsAtMost(6)],
    };
    assert!(
        c.publish_issues()
            .iter()
            .any(|i| i.code == IssueCode::RuleNeverApplies)
    );
    let json = r#"{"any_of":[{"nps_at_most":6},{"any_frequency_at_most":"sometimes"},{"yes_no":{"key":"er","is":true}}]}"#;
    let r: NegativeRule = serde_json::from_str(json).unwrap();
    assert_eq!(r.conditions.len(), 3);
    assert_eq!(serde_json::to_string(&r).unwrap(), json);
}

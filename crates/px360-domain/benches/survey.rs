//! Survey hot paths: validating and scoring one submitted 20-question form (every answer on the
//! patient page) and the send decision (every completed stage with a survey).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use px360_domain::survey::channel::{Channel, ChannelSet, ContactInfo};
use px360_domain::survey::condition::{ShowIf, Test};
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::key::Key;
use px360_domain::survey::negative::{NegativeCondition, NegativeRule};
use px360_domain::survey::publish::PublishedSurvey;
use px360_domain::survey::question::{Bilingual, ChoiceOption, Question, QuestionKind, Subject};
use px360_domain::survey::response::{Outcome, Submission, validate};
use px360_domain::survey::scoring::score;
use px360_domain::survey::trigger::{PastInvitation, TriggerInput, TriggerPolicy, decide};
use std::hint::black_box;
use uuid::Uuid;

fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

/// 20 questions: 6 HCAHPS frequency, 5 ratings, NPS, 3 yes/no, a conditional multiple choice,
/// 2 single choice, 2 free text.
fn survey() -> PublishedSurvey {
    let text = |i: usize| Bilingual::new(format!("Question {i}?"), format!("سؤال {i}؟"));
    let opts = |n: usize| {
        (0..n)
            .map(|i| ChoiceOption {
                key: k(&format!("o{i}")),
                label: Bilingual::new(format!("Option {i}"), format!("خيار {i}")),
            })
            .collect::<Vec<_>>()
    };
    let mut qs = Vec::new();
    let mut push = |kind: QuestionKind, show_if: Option<ShowIf>| {
        let i = qs.len();
        qs.push(Question {
            key: k(&format!("q{i}")),
            text: text(i),
            kind,
            required: true,
            subject: Subject::Stage,
            show_if,
        });
    };
    push(QuestionKind::Nps, None);
    push(
        QuestionKind::MultipleChoice { options: opts(8) },
        Some(ShowIf {
            key: k("q0"),
            test: Test::AtMost(6),
        }),
    );
    for _ in 0..6 {
        push(QuestionKind::Frequency, None);
    }
    for _ in 0..5 {
        push(QuestionKind::Rating, None);
    }
    for _ in 0..3 {
        push(QuestionKind::YesNo, None);
    }
    for _ in 0..2 {
        push(QuestionKind::SingleChoice { options: opts(5) }, None);
    }
    for _ in 0..2 {
        push(QuestionKind::FreeText { max_length: 1000 }, None);
    }
    let content = SurveyContent::new(
        Bilingual::new("Inpatient stay", "الإقامة"),
        qs,
        NegativeRule {
            conditions: vec![
                NegativeCondition::NpsAtMost(6),
                NegativeCondition::AnyRatingAtMost(2),
                NegativeCondition::AnswerIn {
                    key: k("q16"),
                    values: vec!["o4".into()],
                },
            ],
        },
    );
    PublishedSurvey::publish(Uuid::nil(), None, 1, content).unwrap()
}

fn form() -> Submission {
    let mut pairs: Vec<(String, String)> = vec![("q0".into(), "4".into())];
    for o in ["o1", "o3", "o6"] {
        pairs.push(("q1".into(), o.into()));
    }
    for i in 2..8 {
        pairs.push((format!("q{i}"), "usually".into()));
    }
    for i in 8..13 {
        pairs.push((format!("q{i}"), "2".into()));
    }
    for i in 13..16 {
        pairs.push((format!("q{i}"), "yes".into()));
    }
    for i in 16..18 {
        pairs.push((format!("q{i}"), "o4".into()));
    }
    for i in 18..20 {
        pairs.push((
            format!("q{i}"),
            "الممرضات كن لطيفات جدا، لكن الانتظار كان طويلا. ".repeat(4),
        ));
    }
    Submission::from_pairs(pairs).unwrap()
}

fn bench(c: &mut Criterion) {
    let s = survey();
    let f = form();
    c.bench_function("survey_validate_score_20q", |b| {
        b.iter(|| {
            let o = validate(black_box(&s), black_box(&f)).unwrap();
            let Outcome::Complete(r) = o else {
                panic!("complete expected")
            };
            let scores = score(&s, r.answers());
            let neg = s.content().negative_rule.evaluate(&s, &r);
            black_box((scores, neg))
        })
    });

    let policy = TriggerPolicy::default();
    let now: DateTime<Utc> = "2026-03-01T19:30:00Z".parse().unwrap();
    let history = [PastInvitation {
        stage_instance_id: Uuid::from_u128(5),
        send_at: "2026-01-01T09:00:00Z".parse().unwrap(),
    }];
    let input = TriggerInput {
        now,
        journey_instance_id: Uuid::from_u128(1),
        stage_instance_id: Uuid::from_u128(2),
        stage_completed_at: now,
        time_zone: chrono_tz::Asia::Riyadh,
        contact: ContactInfo {
            reachable: ChannelSet::of(&[Channel::Sms, Channel::Email]),
            opted_out: ChannelSet::EMPTY,
            consent: true,
            preferred: None,
        },
        history: &history,
    };
    // 22:30 Riyadh: the quiet-hours shift and the reminder are on the measured path.
    c.bench_function("survey_trigger_decide", |b| {
        b.iter(|| decide(black_box(&policy), black_box(&input)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

#![allow(clippy::unwrap_used)]
use super::*;
use crate::sla::calendar::presets::riyadh;
use crate::sla::clock::{
    ClockContext, ClockRules, GoalRules, History, SlaEvent, SlaEventKind, evaluate,
};
use crate::sla::duration::SlaDuration;
use crate::sla::policy::{Target, Targets, WarnAt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Work,
    Waiting,
    Done,
}

fn rules() -> ClockRules<St> {
    let g = |restart| GoalRules {
        pause_in: vec![St::Waiting],
        stop_in: vec![St::Done],
        stop_on_response: false,
        restart_on_update: restart,
    };
    ClockRules {
        first_response: g(false),
        resolution: g(false),
        next_update: g(true),
        new_cycle_from: vec![St::Done],
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Opened Sunday 11 Jan 2026 08:00 Riyadh (05:00Z), resolution 8 business hours:
/// at risk 15:00 local (12:00Z), due 17:00 local (14:00Z).
fn evaluate_at(extra: Vec<SlaEvent<St>>, now: &str) -> Evaluation {
    let cal = riyadh(&[]);
    let r = rules();
    let t = Targets {
        resolution: Some(Target::business(SlaDuration::hours(8).unwrap())),
        ..Targets::default()
    };
    let ctx = ClockContext {
        rules: &r,
        targets: &t,
        warn_at: WarnAt::default(),
        calendar: &cal,
    };
    let mut h = vec![SlaEvent {
        at: utc("2026-01-11T05:00:00Z"),
        kind: SlaEventKind::Opened { state: St::Work },
    }];
    h.extend(extra);
    evaluate(&History::new(h).unwrap(), &ctx, utc(now))
}

fn escalated(at: &str, level: u8) -> SlaEvent<St> {
    SlaEvent {
        at: utc(at),
        kind: SlaEventKind::Escalated { level },
    }
}

#[test]
fn ladder_fires_in_order_with_deterministic_instants() {
    let ladder = Ladder::standard();
    let e = evaluate_at(vec![], "2026-01-11T11:00:00Z");
    assert!(decide(&e, &ladder, utc("2026-01-11T11:00:00Z")).is_empty());
    assert_eq!(
        next_escalation_at(&e, &ladder),
        Some(utc("2026-01-11T12:00:00Z"))
    );

    let e = evaluate_at(vec![], "2026-01-11T13:00:00Z");
    let d = decide(&e, &ladder, utc("2026-01-11T13:00:00Z"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].level, 1);
    assert_eq!(d[0].to, EscalationTarget::Assignee);
    assert_eq!(d[0].at, utc("2026-01-11T12:00:00Z"));
    assert_eq!(d[0].reason.goal, Goal::Resolution);

    // The worker was down all night: levels 2 and 3 are both due, each with its own instant.
    let e = evaluate_at(
        vec![escalated("2026-01-11T12:00:30Z", 1)],
        "2026-01-11T20:00:00Z",
    );
    let d = decide(&e, &ladder, utc("2026-01-11T20:00:00Z"));
    let got: Vec<(u8, DateTime<Utc>)> = d.iter().map(|x| (x.level, x.at)).collect();
    assert_eq!(
        got,
        vec![
            (2, utc("2026-01-11T14:00:00Z")),
            (3, utc("2026-01-11T18:00:00Z"))
        ]
    );
    assert_eq!(
        d[0].to,
        EscalationTarget::Role(crate::rbac::Role::DepartmentManager)
    );
    assert_eq!(
        d[1].to,
        EscalationTarget::Role(crate::rbac::Role::HospitalAdmin)
    );
}

#[test]
fn recorded_levels_are_never_repeated_in_a_cycle() {
    let ladder = Ladder::standard();
    let hist = vec![
        escalated("2026-01-11T12:00:00Z", 1),
        escalated("2026-01-11T14:00:00Z", 2),
        escalated("2026-01-11T18:00:00Z", 3),
        escalated("2026-01-12T14:00:00Z", 4),
        escalated("2026-01-12T14:00:01Z", 4),
    ];
    let now = utc("2026-01-20T00:00:00Z");
    let e = evaluate_at(hist, "2026-01-20T00:00:00Z");
    assert!(decide(&e, &ladder, now).is_empty());
    assert_eq!(next_escalation_at(&e, &ladder), None);
    // Same history twice: same (empty) answer; a retry cannot escalate again.
    assert_eq!(decide(&e, &ladder, now), decide(&e, &ladder, now));
}

#[test]
fn a_new_cycle_may_escalate_again_and_paused_or_stopped_goals_do_not() {
    let ladder = Ladder::standard();
    let hist = vec![
        escalated("2026-01-11T12:00:00Z", 1),
        SlaEvent {
            at: utc("2026-01-11T13:00:00Z"),
            kind: SlaEventKind::Status { state: St::Done },
        },
        SlaEvent {
            at: utc("2026-01-12T05:00:00Z"),
            kind: SlaEventKind::Status { state: St::Work },
        },
    ];
    let e = evaluate_at(hist.clone(), "2026-01-12T13:00:00Z");
    let d = decide(&e, &ladder, utc("2026-01-12T13:00:00Z"));
    assert_eq!(
        d.iter().map(|x| (x.cycle, x.level)).collect::<Vec<_>>(),
        vec![(2, 1)]
    );

    let mut paused = hist;
    paused.push(SlaEvent {
        at: utc("2026-01-12T06:00:00Z"),
        kind: SlaEventKind::Status { state: St::Waiting },
    });
    let e = evaluate_at(paused, "2026-01-15T13:00:00Z");
    assert!(decide(&e, &ladder, utc("2026-01-15T13:00:00Z")).is_empty());

    let done = vec![SlaEvent {
        at: utc("2026-01-11T13:00:00Z"),
        kind: SlaEventKind::Status { state: St::Done },
    }];
    let e = evaluate_at(done, "2026-01-15T13:00:00Z");
    assert!(decide(&e, &ladder, utc("2026-01-15T13:00:00Z")).is_empty());
}

#[test]
fn invalid_ladders_are_rejected() {
    let s = |level, trigger| EscalationStep {
        level,
        to: EscalationTarget::Assignee,
        trigger,
    };
    assert_eq!(Ladder::new(vec![]), Err(LadderError::Empty));
    assert_eq!(
        Ladder::new(vec![s(2, Trigger::AtRisk)]),
        Err(LadderError::BadLevel { index: 0, level: 2 })
    );
    assert_eq!(
        Ladder::new(vec![s(1, Trigger::Breached), s(2, Trigger::AtRisk)]),
        Err(LadderError::NotEscalating { level: 2 })
    );
    assert_eq!(
        Ladder::new(vec![
            s(1, Trigger::BreachedFor(5)),
            s(2, Trigger::BreachedFor(4))
        ]),
        Err(LadderError::NotEscalating { level: 2 })
    );
    assert_eq!(
        Ladder::new(vec![s(1, Trigger::BreachedFor(100_000))]),
        Err(LadderError::TooLate { level: 1 })
    );
    assert!(Ladder::new(Ladder::standard().steps().to_vec()).is_ok());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Recording what `decide` returned and deciding again (a retry, another worker) yields
    /// nothing new at the same instant, and never the same level again later in the cycle.
    #[test]
    fn recorded_decisions_are_not_repeated(first in 0i64..(5 * 24 * 60), second in 0i64..(5 * 24 * 60)) {
        let ladder = Ladder::standard();
        let open = utc("2026-01-11T05:00:00Z");
        let t1 = open + TimeDelta::minutes(first);
        let t2 = t1 + TimeDelta::minutes(second);
        let fmt = |t: DateTime<Utc>| t.to_rfc3339();
        let d1 = decide(&evaluate_at(vec![], &fmt(t1)), &ladder, t1);
        let recorded: Vec<SlaEvent<St>> = d1
            .iter()
            .map(|d| SlaEvent { at: t1, kind: SlaEventKind::Escalated { level: d.level } })
            .collect();
        proptest::prop_assert!(decide(&evaluate_at(recorded.clone(), &fmt(t1)), &ladder, t1).is_empty());
        let d2 = decide(&evaluate_at(recorded, &fmt(t2)), &ladder, t2);
        for d in &d2 {
            proptest::prop_assert!(!d1.iter().any(|x| x.level == d.level));
            proptest::prop_assert!(d.at <= t2);
        }
        // Levels fire in order: whatever is due at t2 was due at its own trigger instant.
        let all: Vec<u8> = d1.iter().chain(&d2).map(|d| d.level).collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        proptest::prop_assert_eq!(all, sorted);
    }
}

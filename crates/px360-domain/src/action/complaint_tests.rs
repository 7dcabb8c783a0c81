#![allow(clippy::unwrap_used)]
use super::*;
use crate::sla::SlaStatus;
use crate::sla::calendar::presets::riyadh;
use crate::sla::clock::{ClockContext, History, evaluate};
use crate::sla::policy::{Goal, Severity, SlaPolicy};

pub(crate) fn principal(role: Role) -> Principal {
    let h = Some(Uuid::from_u128(1));
    let d = Some(Uuid::from_u128(2));
    match role {
        Role::PxAdmin => Principal::new(Uuid::new_v4(), role, None, None),
        Role::HospitalAdmin | Role::PxCoordinator => Principal::new(Uuid::new_v4(), role, h, None),
        _ => Principal::new(Uuid::new_v4(), role, h, d),
    }
    .unwrap()
}

fn step(c: &Complaint, cmd: ComplaintCommand, by: &Principal) -> ComplaintTransition {
    apply(c, &cmd, by).unwrap()
}

#[test]
fn full_lifecycle_emits_audit_events() {
    let coord = principal(Role::PxCoordinator);
    let nurse = principal(Role::Nurse);
    let c = Complaint::new();
    let t = step(
        &c,
        ComplaintCommand::Assign {
            to: nurse.user_id(),
        },
        &coord,
    );
    assert_eq!(
        t.events,
        vec![ComplaintEvent::Assigned {
            from: None,
            to: nurse.user_id()
        }]
    );
    assert_eq!(t.next.status, ComplaintStatus::New);
    let c = t.next;
    // The assignee works the complaint although a nurse is below coordinator level.
    let c = step(&c, ComplaintCommand::Acknowledge, &nurse).next;
    let c = step(&c, ComplaintCommand::StartWork, &nurse).next;
    let c = step(&c, ComplaintCommand::WaitOnPatient, &nurse).next;
    assert_eq!(c.status, ComplaintStatus::WaitingOnPatient);
    let c = step(&c, ComplaintCommand::PatientReplied, &nurse).next;
    let t = step(
        &c,
        ComplaintCommand::Resolve {
            summary: "  apologised, changed rota ".into(),
        },
        &nurse,
    );
    assert_eq!(
        t.events,
        vec![
            ComplaintEvent::StatusChanged {
                from: ComplaintStatus::InProgress,
                to: ComplaintStatus::Resolved
            },
            ComplaintEvent::Resolved {
                summary: "apologised, changed rota".into()
            },
        ]
    );
    let c = step(&t.next, ComplaintCommand::Close, &coord).next;
    assert_eq!(c.status, ComplaintStatus::Closed);
    let t = step(
        &c,
        ComplaintCommand::Reopen {
            reason: "patient called back".into(),
        },
        &coord,
    );
    assert_eq!(t.next.status, ComplaintStatus::InProgress);
    assert_eq!(t.next.cycle, 2);
    assert!(t.events.contains(&ComplaintEvent::Reopened {
        cycle: 2,
        reason: "patient called back".into()
    }));
}

#[test]
fn illegal_transitions_have_specific_errors() {
    let coord = principal(Role::PxCoordinator);
    let c = Complaint::new();
    assert_eq!(
        apply(&c, &ComplaintCommand::Close, &coord),
        Err(ComplaintError::IllegalTransition {
            from: ComplaintStatus::New,
            command: "close"
        })
    );
    assert_eq!(
        apply(&c, &ComplaintCommand::PatientReplied, &coord),
        Err(ComplaintError::IllegalTransition {
            from: ComplaintStatus::New,
            command: "patient_replied"
        })
    );
    assert_eq!(
        apply(&c, &ComplaintCommand::StartWork, &coord),
        Err(ComplaintError::Unassigned)
    );
    let ack = step(&c, ComplaintCommand::Acknowledge, &coord).next;
    assert_eq!(
        apply(
            &ack,
            &ComplaintCommand::Resolve {
                summary: "   ".into()
            },
            &coord
        ),
        Err(ComplaintError::TextRequired("resolution summary"))
    );
    let closed = Complaint {
        status: ComplaintStatus::Closed,
        assignee: None,
        cycle: 1,
    };
    assert_eq!(
        apply(
            &closed,
            &ComplaintCommand::Assign {
                to: coord.user_id()
            },
            &coord
        ),
        Err(ComplaintError::IllegalTransition {
            from: ComplaintStatus::Closed,
            command: "assign"
        })
    );
    assert_eq!(
        apply(
            &closed,
            &ComplaintCommand::Reopen {
                reason: "x".repeat(super::super::MAX_TEXT + 1)
            },
            &coord
        ),
        Err(ComplaintError::TextRequired("reopen reason"))
    );
    let a = step(
        &c,
        ComplaintCommand::Assign {
            to: coord.user_id(),
        },
        &coord,
    )
    .next;
    assert_eq!(
        apply(
            &a,
            &ComplaintCommand::Assign {
                to: coord.user_id()
            },
            &coord
        ),
        Err(ComplaintError::AlreadyAssigned)
    );
}

#[test]
fn who_may_do_what() {
    let staff = principal(Role::Staff);
    let viewer = principal(Role::Viewer);
    let manager = principal(Role::DepartmentManager);
    let c = Complaint {
        status: ComplaintStatus::New,
        assignee: Some(Uuid::new_v4()),
        cycle: 1,
    };
    // Not the assignee and below coordinator: no work, no assignment.
    assert_eq!(
        apply(&c, &ComplaintCommand::Acknowledge, &staff),
        Err(ComplaintError::NotPermitted {
            role: Role::Staff,
            command: "acknowledge"
        })
    );
    assert!(matches!(
        apply(
            &c,
            &ComplaintCommand::Assign {
                to: staff.user_id()
            },
            &viewer
        ),
        Err(ComplaintError::NotPermitted {
            role: Role::Viewer,
            ..
        })
    ));
    assert!(apply(&c, &ComplaintCommand::Acknowledge, &manager).is_ok());
    // The assignee may resolve but not close or reopen.
    let mine = Complaint {
        status: ComplaintStatus::Resolved,
        assignee: Some(staff.user_id()),
        cycle: 1,
    };
    assert!(matches!(
        apply(&mine, &ComplaintCommand::Close, &staff),
        Err(ComplaintError::NotPermitted { .. })
    ));
    assert!(matches!(
        apply(
            &mine,
            &ComplaintCommand::Reopen { reason: "r".into() },
            &staff
        ),
        Err(ComplaintError::NotPermitted { .. })
    ));
}

/// Every (status, command) pair either succeeds with a StatusChanged/Assigned event or fails
/// with an IllegalTransition naming the status: the table has no holes that panic.
#[test]
fn transition_table_is_total() {
    let coord = principal(Role::PxAdmin);
    let cmds = [
        ComplaintCommand::Acknowledge,
        ComplaintCommand::StartWork,
        ComplaintCommand::WaitOnPatient,
        ComplaintCommand::PatientReplied,
        ComplaintCommand::Resolve {
            summary: "s".into(),
        },
        ComplaintCommand::Close,
        ComplaintCommand::Reopen { reason: "r".into() },
        ComplaintCommand::Assign { to: Uuid::new_v4() },
    ];
    let mut legal = 0;
    for s in ComplaintStatus::ALL {
        let c = Complaint {
            status: s,
            assignee: Some(coord.user_id()),
            cycle: 1,
        };
        for cmd in &cmds {
            match apply(&c, cmd, &coord) {
                Ok(t) => {
                    legal += 1;
                    assert!(!t.events.is_empty());
                }
                Err(ComplaintError::IllegalTransition { from, .. }) => assert_eq!(from, s),
                Err(e) => panic!("{s:?} {cmd:?}: {e}"),
            }
        }
        assert_eq!(ComplaintStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(legal, 16);
}

/// Lifecycle events drive the SLA clock directly.
#[test]
fn lifecycle_feeds_the_sla_clock() {
    let coord = principal(Role::PxCoordinator);
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let mut hist = vec![SlaEvent {
        at: at("2026-01-11T05:00:00Z"),
        kind: SlaEventKind::Opened {
            state: ComplaintStatus::New,
        },
    }];
    let mut c = Complaint::new();
    for (t, cmd) in [
        (
            "2026-01-11T05:20:00Z",
            ComplaintCommand::Assign {
                to: coord.user_id(),
            },
        ),
        ("2026-01-11T05:30:00Z", ComplaintCommand::Acknowledge),
        ("2026-01-11T06:00:00Z", ComplaintCommand::StartWork),
        ("2026-01-11T07:00:00Z", ComplaintCommand::WaitOnPatient),
    ] {
        let tr = step(&c, cmd, &coord);
        hist.extend(tr.events.iter().filter_map(|e| sla_event(e, at(t))));
        c = tr.next;
    }
    let cal = riyadh(&[]);
    let rules = clock_rules();
    let policy = SlaPolicy::demo_default();
    let targets = policy.targets_for("nursing", Severity::High).unwrap();
    let ctx = ClockContext {
        rules: &rules,
        targets,
        warn_at: policy.warn_at(),
        calendar: &cal,
    };
    let e = evaluate(
        &History::new(hist).unwrap(),
        &ctx,
        at("2026-01-12T07:00:00Z"),
    );
    let cur = e.current().unwrap();
    assert_eq!(
        cur.goal(Goal::FirstResponse).unwrap().status,
        SlaStatus::Met
    );
    let res = cur.goal(Goal::Resolution).unwrap();
    assert_eq!(res.status, SlaStatus::Paused);
    assert_eq!(res.elapsed, chrono::TimeDelta::hours(2));
}

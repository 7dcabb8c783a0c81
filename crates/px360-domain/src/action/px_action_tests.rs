#![allow(clippy::unwrap_used)]
use super::*;
use crate::action::complaint::tests::principal;

fn ev(note: &str) -> ActionCommand {
    ActionCommand::AddEvidence {
        evidence: Evidence {
            note: note.into(),
            attachment_id: None,
        },
    }
}

#[test]
fn low_severity_closes_on_submission_with_evidence() {
    let owner = principal(Role::Staff);
    let a = PxAction::new(owner.user_id(), Severity::Low);
    let a = apply(&a, &ActionCommand::Start, &owner).unwrap().next;
    assert_eq!(
        apply(&a, &ActionCommand::SubmitForClosure, &owner),
        Err(ActionError::EvidenceRequired)
    );
    let t = apply(&a, &ev(" new signage at the entrance "), &owner).unwrap();
    assert_eq!(t.next.evidence_count, 1);
    assert!(
        matches!(&t.events[0], ActionEvent::EvidenceAdded { count: 1, evidence } if evidence.note == "new signage at the entrance")
    );
    let t = apply(&t.next, &ActionCommand::SubmitForClosure, &owner).unwrap();
    assert_eq!(t.next.status, ActionStatus::Closed);
    assert_eq!(
        t.events,
        vec![ActionEvent::StatusChanged {
            from: ActionStatus::InProgress,
            to: ActionStatus::Closed
        }]
    );
}

#[test]
fn high_severity_needs_a_second_person() {
    let owner = principal(Role::DepartmentManager);
    let other_manager = principal(Role::DepartmentManager);
    let staff = principal(Role::Staff);
    let a = PxAction::new(owner.user_id(), Severity::High);
    let a = apply(&a, &ActionCommand::Start, &owner).unwrap().next;
    let a = apply(&a, &ev("retrained night shift"), &owner)
        .unwrap()
        .next;
    let t = apply(&a, &ActionCommand::SubmitForClosure, &owner).unwrap();
    assert_eq!(t.next.status, ActionStatus::PendingVerification);
    assert!(t.events.contains(&ActionEvent::SubmittedForVerification {
        by: owner.user_id()
    }));
    let pending = t.next;
    assert_eq!(
        apply(&pending, &ActionCommand::Verify, &owner),
        Err(ActionError::SecondPersonRequired)
    );
    assert!(matches!(
        apply(&pending, &ActionCommand::Verify, &staff),
        Err(ActionError::NotPermitted { .. })
    ));
    // Rejection sends it back to work; verification by another manager closes it.
    let back = apply(
        &pending,
        &ActionCommand::RejectClosure {
            reason: "no photo".into(),
        },
        &other_manager,
    )
    .unwrap();
    assert_eq!(back.next.status, ActionStatus::InProgress);
    assert_eq!(back.next.submitted_by, None);
    let t = apply(&pending, &ActionCommand::Verify, &other_manager).unwrap();
    assert_eq!(t.next.status, ActionStatus::Closed);
    assert!(t.events.contains(&ActionEvent::Verified {
        by: other_manager.user_id()
    }));
    // A manager who submitted on the owner's behalf cannot verify either.
    let a2 = PxAction::new(staff.user_id(), Severity::Critical);
    let a2 = apply(&a2, &ActionCommand::Start, &staff).unwrap().next;
    let a2 = apply(&a2, &ev("x"), &staff).unwrap().next;
    let p2 = apply(&a2, &ActionCommand::SubmitForClosure, &other_manager)
        .unwrap()
        .next;
    assert_eq!(
        apply(&p2, &ActionCommand::Verify, &other_manager),
        Err(ActionError::SecondPersonRequired)
    );
    assert!(apply(&p2, &ActionCommand::Verify, &owner).is_ok());
}

#[test]
fn permissions_and_illegal_moves() {
    let owner = principal(Role::Staff);
    let stranger = principal(Role::Nurse);
    let coord = principal(Role::PxCoordinator);
    let a = PxAction::new(owner.user_id(), Severity::Medium);
    assert_eq!(
        apply(&a, &ActionCommand::Start, &stranger),
        Err(ActionError::NotPermitted {
            role: Role::Nurse,
            command: "start"
        })
    );
    assert_eq!(
        apply(&a, &ActionCommand::Verify, &coord),
        Err(ActionError::IllegalTransition {
            from: ActionStatus::Open,
            command: "verify"
        })
    );
    assert_eq!(
        apply(
            &a,
            &ActionCommand::Reassign {
                to: owner.user_id()
            },
            &coord
        ),
        Err(ActionError::SameOwner)
    );
    let t = apply(
        &a,
        &ActionCommand::Reassign {
            to: stranger.user_id(),
        },
        &coord,
    )
    .unwrap();
    assert_eq!(t.next.owner, stranger.user_id());
    assert_eq!(
        apply(&a, &ActionCommand::Cancel { reason: "".into() }, &coord),
        Err(ActionError::TextRequired("cancellation reason"))
    );
    let c = apply(
        &a,
        &ActionCommand::Cancel {
            reason: "duplicate".into(),
        },
        &coord,
    )
    .unwrap()
    .next;
    assert_eq!(c.status, ActionStatus::Cancelled);
    assert!(matches!(
        apply(&c, &ActionCommand::Reopen { reason: "r".into() }, &coord),
        Err(ActionError::IllegalTransition { .. })
    ));
    assert!(matches!(
        apply(&c, &ActionCommand::Start, &owner),
        Err(ActionError::IllegalTransition { .. })
    ));
    let closed = PxAction {
        status: ActionStatus::Closed,
        ..a
    };
    assert!(matches!(
        apply(
            &closed,
            &ActionCommand::Reopen { reason: "r".into() },
            &owner
        ),
        Err(ActionError::NotPermitted { .. })
    ));
    let r = apply(
        &closed,
        &ActionCommand::Reopen {
            reason: "recurred".into(),
        },
        &coord,
    )
    .unwrap();
    assert_eq!((r.next.status, r.next.cycle), (ActionStatus::InProgress, 2));
    for s in ActionStatus::ALL {
        assert_eq!(ActionStatus::parse(s.as_str()), Some(s));
    }
}

#[test]
fn status_events_map_to_clock_events() {
    let at = chrono::Utc::now();
    let e = ActionEvent::StatusChanged {
        from: ActionStatus::Open,
        to: ActionStatus::InProgress,
    };
    assert_eq!(
        sla_event(&e, at).map(|s| s.kind),
        Some(SlaEventKind::Status {
            state: ActionStatus::InProgress
        })
    );
    assert_eq!(
        sla_event(&ActionEvent::Cancelled { reason: "r".into() }, at),
        None
    );
    assert!(
        clock_rules()
            .resolution
            .stop_in
            .contains(&ActionStatus::Cancelled)
    );
}

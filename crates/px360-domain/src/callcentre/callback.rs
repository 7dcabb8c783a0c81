//! The callback queue. A callback's due time is the SLA engine's first-response target for
//! category [`CALLBACK_CATEGORY`] and the callback's priority (falling back to the policy's
//! severity-wide rule), counted on the hospital's business calendar. The queue is worked in
//! order of due time, then priority, then age.

use crate::sla::calendar::BusinessCalendar;
use crate::sla::clock::{ClockRules, GoalRules};
use crate::sla::policy::{Severity, SlaPolicy};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::cmp::Reverse;
use uuid::Uuid;

pub const CALLBACK_CATEGORY: &str = "callback";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Callback {
    pub id: Uuid,
    pub priority: Severity,
    pub requested_at: DateTime<Utc>,
    /// `None` when the policy sets no first-response target: such callbacks go last.
    pub due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Overdue,
    Waiting,
    NoTarget,
}

impl Callback {
    pub fn schedule(
        id: Uuid,
        priority: Severity,
        requested_at: DateTime<Utc>,
        policy: &SlaPolicy,
        calendar: &BusinessCalendar,
    ) -> Callback {
        let due_at = policy
            .targets_for(CALLBACK_CATEGORY, priority)
            .and_then(|t| t.first_response)
            .map(|t| t.due_from(requested_at, calendar));
        Callback {
            id,
            priority,
            requested_at,
            due_at,
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> QueueStatus {
        match self.due_at {
            None => QueueStatus::NoTarget,
            Some(d) if d < now => QueueStatus::Overdue,
            Some(_) => QueueStatus::Waiting,
        }
    }

    /// The queue order: due first (no target last), higher priority, older request, id.
    #[allow(clippy::type_complexity)]
    fn key(
        &self,
    ) -> (
        bool,
        Option<DateTime<Utc>>,
        Reverse<Severity>,
        DateTime<Utc>,
        Uuid,
    ) {
        (
            self.due_at.is_none(),
            self.due_at,
            Reverse(self.priority),
            self.requested_at,
            self.id,
        )
    }
}

/// A callback's lifecycle as its SLA clock sees it: open until made or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    Open,
    Done,
    Cancelled,
}

impl CallbackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackStatus::Open => "open",
            CallbackStatus::Done => "done",
            CallbackStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(CallbackStatus::Open),
            "done" => Some(CallbackStatus::Done),
            "cancelled" => Some(CallbackStatus::Cancelled),
            _ => None,
        }
    }

    pub fn is_final(self) -> bool {
        self != CallbackStatus::Open
    }
}

/// The callback's SLA clock: only the first-response goal is a callback's promise (the store
/// gives its clock no resolution or next-update target); making or cancelling it stops every
/// goal, and a callback is never reopened.
pub fn clock_rules() -> ClockRules<CallbackStatus> {
    let stop = || GoalRules {
        pause_in: vec![],
        stop_in: vec![CallbackStatus::Done, CallbackStatus::Cancelled],
        stop_on_response: false,
        restart_on_update: false,
    };
    ClockRules {
        first_response: stop(),
        resolution: stop(),
        next_update: stop(),
        new_cycle_from: vec![],
    }
}

/// Sorts callbacks into working order.
pub fn order(queue: &mut [Callback]) {
    queue.sort_by_key(Callback::key);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sla::calendar::presets::riyadh;
    use crate::sla::duration::SlaDuration;
    use crate::sla::policy::{PolicyRule, Target, Targets, WarnAt};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn due_time_comes_from_the_sla_on_business_hours() {
        let cal = riyadh(&[]);
        // Thursday 16:00 Riyadh; high = 4 business hours → 1 h Thursday, then Sunday 08:00–11:00 → Sunday 11:00 local.
        let cb = Callback::schedule(
            Uuid::nil(),
            Severity::High,
            utc("2026-01-08T13:00:00Z"),
            &SlaPolicy::demo_default(),
            &cal,
        );
        assert_eq!(cb.due_at, Some(utc("2026-01-11T08:00:00Z")));
        assert_eq!(cb.status(utc("2026-01-11T10:00:00Z")), QueueStatus::Overdue);
        assert_eq!(cb.status(utc("2026-01-09T09:00:00Z")), QueueStatus::Waiting);
    }

    #[test]
    fn a_callback_specific_rule_wins_and_no_target_goes_last() {
        let cal = riyadh(&[]);
        let policy = SlaPolicy::new(
            WarnAt::default(),
            vec![PolicyRule {
                category: Some(CALLBACK_CATEGORY.into()),
                severity: Severity::Low,
                targets: Targets {
                    first_response: Some(Target::calendar(SlaDuration::hours(2).unwrap())),
                    ..Targets::default()
                },
            }],
        )
        .unwrap();
        let t0 = utc("2026-01-08T13:00:00Z");
        let low = Callback::schedule(Uuid::from_u128(1), Severity::Low, t0, &policy, &cal);
        assert_eq!(low.due_at, Some(utc("2026-01-08T15:00:00Z")));
        let none = Callback::schedule(Uuid::from_u128(2), Severity::High, t0, &policy, &cal);
        assert_eq!(none.status(t0), QueueStatus::NoTarget);
        let mut q = vec![none.clone(), low.clone()];
        order(&mut q);
        assert_eq!(q, [low, none]);
    }

    #[test]
    fn same_due_time_orders_by_priority_then_age() {
        let due = Some(utc("2026-01-10T10:00:00Z"));
        let cb = |id, p, at: &str| Callback {
            id: Uuid::from_u128(id),
            priority: p,
            requested_at: utc(at),
            due_at: due,
        };
        let mut q = vec![
            cb(1, Severity::Low, "2026-01-01T00:00:00Z"),
            cb(2, Severity::Critical, "2026-01-03T00:00:00Z"),
            cb(3, Severity::Critical, "2026-01-02T00:00:00Z"),
        ];
        order(&mut q);
        let ids: Vec<u128> = q.iter().map(|c| c.id.as_u128()).collect();
        assert_eq!(ids, [3, 2, 1]);
    }

    #[test]
    fn the_clock_runs_the_first_response_goal_until_made() {
        use crate::sla::Goal;
        use crate::sla::clock::{
            ClockContext, History, SlaEvent, SlaEventKind, SlaStatus, evaluate,
        };
        let cal = riyadh(&[]);
        let targets = Targets {
            first_response: Some(Target::calendar(SlaDuration::hours(1).unwrap())),
            ..Targets::default()
        };
        let ctx = ClockContext {
            rules: &clock_rules(),
            targets: &targets,
            warn_at: WarnAt::default(),
            calendar: &cal,
        };
        let t0 = utc("2026-01-08T13:00:00Z");
        let open = SlaEvent {
            at: t0,
            kind: SlaEventKind::Opened {
                state: CallbackStatus::Open,
            },
        };
        let h = History::new(vec![open.clone()]).unwrap();
        let e = evaluate(&h, &ctx, utc("2026-01-08T15:00:00Z"));
        let fr = e.current().unwrap().goal(Goal::FirstResponse).unwrap();
        assert_eq!(fr.breached_at, Some(utc("2026-01-08T14:00:00Z")));
        let done = SlaEvent {
            at: utc("2026-01-08T13:30:00Z"),
            kind: SlaEventKind::Status {
                state: CallbackStatus::Done,
            },
        };
        let h = History::new(vec![open, done]).unwrap();
        let e = evaluate(&h, &ctx, utc("2026-01-08T15:00:00Z"));
        let fr = e.current().unwrap().goal(Goal::FirstResponse).unwrap();
        assert_eq!(fr.status, SlaStatus::Met);
        assert_eq!(
            CallbackStatus::parse("cancelled"),
            Some(CallbackStatus::Cancelled)
        );
        assert!(CallbackStatus::Done.is_final() && !CallbackStatus::Open.is_final());
    }
}

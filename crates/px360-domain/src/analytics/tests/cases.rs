use crate::analytics::Merge;
use crate::analytics::NotInState;
use crate::analytics::actions::{ActionState, ActionsAcc};
use crate::analytics::complaints::{
    BucketBound, ComplaintCell, ComplaintError, ComplaintSource, ComplaintsAcc, Severity,
};
use crate::analytics::ratio::Ratio;
use crate::analytics::response_rate::{ResponseRateAcc, ResponseRateError};
use crate::analytics::rollup::Rollup;
use crate::analytics::sla_compliance::{SlaAcc, SlaGoal, SlaOutcome};
use chrono::{TimeZone, Utc};

fn r(num: i128, den: i128) -> Ratio {
    Ratio::new(num, den).unwrap()
}

#[test]
fn response_rate_is_answered_over_invited_and_never_above_100() {
    let mut a = ResponseRateAcc::default();
    assert_eq!(a.rate(), None);
    a.add_invitation(true);
    a.add_invitation(false);
    a.add_invitation(false);
    assert_eq!(a.rate().unwrap().round(), 33);
    a.mark_answered().unwrap();
    assert_eq!(a.rate(), Some(r(200, 3)));
    a.mark_answered().unwrap();
    assert_eq!(a.rate(), Some(r(100, 1)));
    assert_eq!(
        a.mark_answered(),
        Err(ResponseRateError::MoreAnsweredThanSent)
    );
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(json, r#"{"invitations":3,"answered":3}"#);
    assert_eq!(serde_json::from_str::<ResponseRateAcc>(&json).unwrap(), a);
    let bad = serde_json::from_str::<ResponseRateAcc>(r#"{"invitations":1,"answered":2}"#);
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("more answered invitations than invitations")
    );
    assert!(ResponseRateAcc::new(1, 2).is_err());
}

#[test]
fn sla_compliance_counts_decided_goals_only() {
    let mut s = SlaAcc::default();
    for _ in 0..8 {
        s.add(SlaGoal::FirstResponse, SlaOutcome::Met);
    }
    for _ in 0..2 {
        s.add(SlaGoal::FirstResponse, SlaOutcome::Breached);
    }
    for _ in 0..5 {
        s.add(SlaGoal::FirstResponse, SlaOutcome::Open);
    }
    assert_eq!(s.goal(SlaGoal::FirstResponse).compliance(), Some(r(80, 1)));
    assert_eq!(s.goal(SlaGoal::Resolution).compliance(), None);
    // An open case breaches: 8 / 11 = 72.7 → 73.
    s.resolve(SlaGoal::FirstResponse, SlaOutcome::Breached)
        .unwrap();
    assert_eq!(s.first_response.open, 4);
    assert_eq!(
        s.goal(SlaGoal::FirstResponse).compliance().unwrap().round(),
        73
    );
    s.add(SlaGoal::Resolution, SlaOutcome::Open);
    s.resolve(SlaGoal::Resolution, SlaOutcome::Met).unwrap();
    assert_eq!(s.resolution.compliance(), Some(r(100, 1)));
    assert_eq!(
        s.resolve(SlaGoal::Resolution, SlaOutcome::Met),
        Err(NotInState)
    );
}

#[test]
fn action_closure_and_overdue_rates() {
    let t = |d: u32| Utc.with_ymd_and_hms(2026, 12, d, 12, 0, 0).unwrap();
    assert_eq!(
        ActionState::of(t(10), Some(t(10)), t(20)),
        ActionState::ClosedOnTime
    );
    assert_eq!(
        ActionState::of(t(10), Some(t(11)), t(20)),
        ActionState::ClosedLate
    );
    assert_eq!(ActionState::of(t(10), None, t(10)), ActionState::Open);
    assert_eq!(ActionState::of(t(10), None, t(11)), ActionState::Overdue);
    use crate::action::px_action::ActionStatus as S;
    let of = |s, due, closed| ActionState::of_status(s, due, closed, t(20));
    assert_eq!(of(S::Cancelled, Some(t(10)), None), None);
    assert_eq!(
        of(S::PendingVerification, Some(t(10)), None),
        Some(ActionState::Overdue)
    );
    assert_eq!(
        of(S::InProgress, Some(t(25)), None),
        Some(ActionState::Open)
    );
    assert_eq!(of(S::Open, None, None), Some(ActionState::Open));
    assert_eq!(
        of(S::Closed, Some(t(10)), Some(t(12))),
        Some(ActionState::ClosedLate)
    );
    assert_eq!(
        of(S::Closed, None, Some(t(12))),
        Some(ActionState::ClosedOnTime)
    );
    let mut a = ActionsAcc::default();
    for s in [
        ActionState::ClosedOnTime,
        ActionState::ClosedOnTime,
        ActionState::ClosedLate,
        ActionState::Open,
        ActionState::Open,
        ActionState::Overdue,
    ] {
        a.add(s);
    }
    assert_eq!(a.total(), 6);
    assert_eq!(a.closure_rate(), Some(r(50, 1)));
    assert_eq!(a.on_time_closure_rate().unwrap().round(), 67);
    assert_eq!(a.overdue_rate().unwrap().round(), 33);
    a.transition(ActionState::Open, ActionState::Overdue)
        .unwrap();
    a.transition(ActionState::Overdue, ActionState::ClosedLate)
        .unwrap();
    assert_eq!((a.open, a.overdue, a.closed_late), (1, 1, 2));
    assert_eq!(a.overdue_rate(), Some(r(50, 1)));
    assert_eq!(a.transition(ActionState::Open, ActionState::Open), Ok(()));
    let mut empty = ActionsAcc::default();
    assert_eq!(
        empty.transition(ActionState::Open, ActionState::Overdue),
        Err(NotInState)
    );
    assert_eq!(empty.closure_rate(), None);
}

fn cell(cat: &str, severity: Severity, source: ComplaintSource) -> ComplaintCell {
    ComplaintCell {
        category: super::k(cat),
        severity,
        source,
    }
}

#[test]
fn complaints_by_category_severity_source_with_time_to_resolve() {
    let mut c = ComplaintsAcc::default();
    let wait = cell("waiting", Severity::High, ComplaintSource::Phone);
    let staff = cell("staff", Severity::Low, ComplaintSource::Survey);
    let wait_web = cell("waiting", Severity::Low, ComplaintSource::Web);
    for _ in 0..3 {
        c.cell_mut(wait.clone()).add_received();
    }
    c.cell_mut(staff.clone()).add_received();
    c.cell_mut(wait_web.clone()).add_received();
    // 30 min, 3 h, 3 h, 50 h, 40 days
    let h = 3600;
    c.cell_mut(wait.clone()).add_resolved(h / 2).unwrap();
    c.cell_mut(wait.clone()).add_resolved(3 * h).unwrap();
    c.cell_mut(staff.clone()).add_resolved(3 * h).unwrap();
    c.cell_mut(wait.clone()).add_resolved(50 * h).unwrap();
    c.cell_mut(wait_web.clone())
        .add_resolved(40 * 24 * h)
        .unwrap();
    assert_eq!(
        c.cell_mut(wait.clone()).add_resolved(-1),
        Err(ComplaintError::NegativeDuration)
    );
    let total = c.total();
    assert_eq!((total.received, total.resolved), (5, 5));
    // (0.5 + 3 + 3 + 50 + 960) / 5 = 203.3 h
    assert_eq!(total.mean_hours(), Some(r(10165, 50)));
    assert_eq!(total.mean_hours().unwrap().round(), 203);
    // Sorted: 0.5, 3, 3, 50, 960 h. Median = 3rd = 3 h (bucket ≤ 4 h); p90 = 5th (> 30 days).
    assert_eq!(
        total.median_bucket(),
        Some(BucketBound {
            at_most_hours: Some(4)
        })
    );
    assert_eq!(
        total.p90_bucket(),
        Some(BucketBound {
            at_most_hours: None
        })
    );
    assert_eq!(
        total.quantile_bucket(0.2),
        Some(BucketBound {
            at_most_hours: Some(1)
        })
    );
    assert_eq!(total.quantile_bucket(0.0), None);
    let by_cat = c.by_category();
    assert_eq!(by_cat[&super::k("waiting")].received, 4);
    assert_eq!(by_cat[&super::k("staff")].resolved, 1);
    assert_eq!(c.by_severity()[&Severity::High].resolved, 3);
    assert_eq!(c.by_source()[&ComplaintSource::Web].received, 1);
    // Stored as a list of cells; a repeated cell is merged on load.
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        json.starts_with(r#"[{"category":"staff","severity":"low","source":"survey","stats":"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<ComplaintsAcc>(&json).unwrap(), c);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let doubled = serde_json::Value::Array(
        [v.as_array().unwrap().clone(), v.as_array().unwrap().clone()].concat(),
    );
    let mut twice = c.clone();
    twice.merge(&c);
    assert_eq!(
        serde_json::from_value::<ComplaintsAcc>(doubled).unwrap(),
        twice
    );
    assert!(serde_json::from_str::<ComplaintsAcc>(r#"[{"category":"Bad Key","severity":"low","source":"web","stats":{"received":1,"resolved":0,"resolve_seconds":0,"buckets":[0,0,0,0,0,0,0,0,0,0]}}]"#).is_err());
}

#[test]
fn a_rollup_row_round_trips_and_merges_every_part() {
    let mut a = Rollup::default();
    a.response_rate.add_invitation(true);
    a.sla.add(SlaGoal::Resolution, SlaOutcome::Met);
    a.actions.add(ActionState::Open);
    a.survey.nps.add(10).unwrap();
    a.complaints
        .cell_mut(cell("noise", Severity::Medium, ComplaintSource::Email))
        .add_received();
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<Rollup>(&json).unwrap(), a);
    assert_eq!(
        serde_json::from_str::<Rollup>("{}").unwrap(),
        Rollup::default()
    );
    let m = Rollup::merge_all([&a, &a, &Rollup::default()]);
    assert_eq!(m.response_rate.invitations(), 2);
    assert_eq!(m.sla.resolution.met, 2);
    assert_eq!(m.actions.open, 2);
    assert_eq!(m.survey.nps.promoters, 2);
    assert_eq!(m.complaints.total().received, 2);
}

#[test]
fn tiles_and_trends_of_a_row() {
    use crate::analytics::rollup::Kpi;
    use crate::analytics::trend::{Direction, Trend, TrendRule};
    let mut now = Rollup::default();
    let mut before = Rollup::default();
    for i in 0..40u8 {
        now.survey.nps.add(if i < 30 { 10 } else { 3 }).unwrap(); // 75 − 25 = 50
        before.survey.nps.add(if i < 20 { 10 } else { 8 }).unwrap(); // 50 − 0 = 50
        now.response_rate.add_invitation(i % 2 == 0); // 50%
        before.response_rate.add_invitation(i % 4 == 0); // 25%
    }
    now.survey.csat.add(5).unwrap();
    let t = now.tile(Kpi::Nps);
    assert_eq!((t.value, t.shown, t.n), (Some(50.0), Some(50), 40));
    let t = now.tile(Kpi::Csat);
    assert_eq!((t.shown, t.n), (Some(100), 1));
    let t = now.tile(Kpi::ActionClosure);
    assert_eq!((t.value, t.shown, t.n), (None, None, 0));
    let trends = now.tiles_with_trends(&before, &TrendRule::default());
    assert_eq!(trends.len(), Kpi::ALL.len());
    let of = |k: Kpi| trends.iter().find(|(t, _)| t.kpi == k).unwrap().1;
    assert_eq!(
        of(Kpi::Nps),
        Trend::Change {
            direction: Direction::Flat,
            delta: 0.0
        }
    );
    assert_eq!(
        of(Kpi::ResponseRate),
        Trend::Change {
            direction: Direction::Up,
            delta: 25.0
        }
    );
    // One CSAT answer is below the minimum sample.
    assert_eq!(of(Kpi::Csat), Trend::InsufficientData);
    assert_eq!(of(Kpi::ActionOverdue), Trend::InsufficientData);
}

#[test]
fn sla_outcomes_follow_the_engines_status() {
    use crate::sla::clock::SlaStatus;
    assert_eq!(SlaOutcome::of(SlaStatus::Met), SlaOutcome::Met);
    assert_eq!(SlaOutcome::of(SlaStatus::Breached), SlaOutcome::Breached);
    for s in [SlaStatus::OnTrack, SlaStatus::AtRisk, SlaStatus::Paused] {
        assert_eq!(SlaOutcome::of(s), SlaOutcome::Open);
    }
    let mut a = SlaAcc::default();
    a.add(SlaGoal::NextUpdate, SlaOutcome::Breached);
    assert_eq!(a.goal(SlaGoal::NextUpdate).compliance(), Some(r(0, 1)));
    // Rows stored before a goal existed load with zero counts for it.
    let old = r#"{"first_response":{"open":1,"met":0,"breached":0},"resolution":{"open":0,"met":2,"breached":0}}"#;
    let loaded: SlaAcc = serde_json::from_str(old).unwrap();
    assert_eq!((loaded.resolution.met, loaded.next_update.met), (2, 0));
}

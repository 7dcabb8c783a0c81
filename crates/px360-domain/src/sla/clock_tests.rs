#![allow(clippy::unwrap_used)]
use super::*;
use crate::sla::calendar::presets::riyadh;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    New,
    Ack,
    Work,
    Waiting,
    Resolved,
    Closed,
}

fn rules() -> ClockRules<St> {
    use St::*;
    ClockRules {
        first_response: GoalRules {
            pause_in: vec![],
            stop_in: vec![Ack, Work, Waiting, Resolved, Closed],
            stop_on_response: true,
            restart_on_update: false,
        },
        resolution: GoalRules {
            pause_in: vec![Waiting],
            stop_in: vec![Resolved, Closed],
            stop_on_response: false,
            restart_on_update: false,
        },
        next_update: GoalRules {
            pause_in: vec![Waiting],
            stop_in: vec![Resolved, Closed],
            stop_on_response: false,
            restart_on_update: true,
        },
        new_cycle_from: vec![Resolved, Closed],
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
fn hours(h: u32) -> SlaDuration {
    SlaDuration::hours(h).unwrap()
}
fn ev(at: &str, kind: SlaEventKind<St>) -> SlaEvent<St> {
    SlaEvent { at: utc(at), kind }
}
fn status(at: &str, s: St) -> SlaEvent<St> {
    ev(at, SlaEventKind::Status { state: s })
}
fn targets() -> Targets {
    Targets {
        first_response: Some(Target::business(hours(2))),
        resolution: Some(Target::business(hours(8))),
        next_update: Some(Target::business(hours(4))),
    }
}

fn eval(events: Vec<SlaEvent<St>>, t: &Targets, now: &str) -> Evaluation {
    let cal = riyadh(&[]);
    let r = rules();
    let ctx = ClockContext {
        rules: &r,
        targets: t,
        warn_at: WarnAt::default(),
        calendar: &cal,
    };
    evaluate(&History::new(events).unwrap(), &ctx, utc(now))
}

// Sunday 11 Jan 2026, Riyadh (+03): 08:00 local = 05:00Z; lunch 12:00–13:00 local.
const OPEN: &str = "2026-01-11T05:00:00Z";

fn opened() -> SlaEvent<St> {
    ev(OPEN, SlaEventKind::Opened { state: St::New })
}

#[test]
fn running_clock_on_track_then_at_risk_then_breached() {
    let t = targets();
    let e = eval(
        vec![opened(), status("2026-01-11T05:30:00Z", St::Work)],
        &t,
        "2026-01-11T11:00:00Z",
    );
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap().clone();
    assert_eq!(res.elapsed, TimeDelta::hours(5)); // 08–12 and 13–14 local, lunch not counted
    assert_eq!(res.remaining, TimeDelta::hours(3));
    assert_eq!(res.due_at, Some(utc("2026-01-11T14:00:00Z"))); // 17:00 local
    assert_eq!(res.status, SlaStatus::OnTrack);
    assert_eq!(res.next_change_at, Some(utc("2026-01-11T12:00:00Z"))); // 6 h = 15:00 local
    // First response stopped at acknowledgement-equivalent (work started) after 30 min: met.
    let fr = e.current().unwrap().goal(Goal::FirstResponse).unwrap();
    assert_eq!(fr.status, SlaStatus::Met);
    assert_eq!(fr.elapsed, TimeDelta::minutes(30));

    let e = eval(
        vec![opened(), status("2026-01-11T05:30:00Z", St::Work)],
        &t,
        "2026-01-11T13:00:00Z",
    );
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.status, SlaStatus::AtRisk);
    assert_eq!(res.at_risk_at, Some(utc("2026-01-11T12:00:00Z")));
    assert_eq!(res.next_change_at, res.due_at);

    let e = eval(
        vec![opened(), status("2026-01-11T05:30:00Z", St::Work)],
        &t,
        "2026-01-12T06:00:00Z",
    );
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.status, SlaStatus::Breached);
    assert_eq!(res.breached_at, Some(utc("2026-01-11T14:00:00Z")));
    assert_eq!(res.remaining, -TimeDelta::hours(1)); // Monday 08:00–09:00 local
    assert_eq!(res.next_change_at, None);
}

#[test]
fn waiting_on_patient_pauses() {
    let t = targets();
    let h = vec![
        opened(),
        status("2026-01-11T05:10:00Z", St::Ack),
        status("2026-01-11T05:20:00Z", St::Work),
        status("2026-01-11T07:00:00Z", St::Waiting), // 10:00 local, 2 h elapsed
        status("2026-01-12T07:00:00Z", St::Work),    // next day 10:00 local
    ];
    let e = eval(h.clone(), &t, "2026-01-11T12:00:00Z");
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.status, SlaStatus::Paused);
    assert!(res.paused);
    assert_eq!(res.elapsed, TimeDelta::hours(2));
    assert_eq!(res.due_at, None);
    assert_eq!(res.next_change_at, None);
    let e = eval(h, &t, "2026-01-12T08:00:00Z");
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.elapsed, TimeDelta::hours(3));
    // 6 h left from Monday 10:00 local: 10–12, 13–17 → 17:00 local.
    assert_eq!(res.due_at, Some(utc("2026-01-12T14:00:00Z")));
    assert_eq!(res.status, SlaStatus::OnTrack);
}

#[test]
fn resolved_in_time_is_met_and_reopen_starts_a_new_cycle() {
    let t = targets();
    let h = vec![
        opened(),
        ev("2026-01-11T05:05:00Z", SlaEventKind::Responded),
        status("2026-01-11T05:10:00Z", St::Work),
        status("2026-01-11T10:00:00Z", St::Resolved),
        status("2026-01-11T11:00:00Z", St::Closed),
        ev("2026-01-11T11:30:00Z", SlaEventKind::Escalated { level: 1 }),
        status("2026-01-13T05:00:00Z", St::Work), // reopened Tuesday 08:00 local
    ];
    let e = eval(h, &t, "2026-01-13T06:00:00Z");
    assert_eq!(e.cycles.len(), 2);
    let c1 = &e.cycles[0];
    assert_eq!(c1.ended_at, Some(utc("2026-01-13T05:00:00Z")));
    assert_eq!(c1.goal(Goal::Resolution).unwrap().status, SlaStatus::Met);
    assert_eq!(
        c1.goal(Goal::FirstResponse).unwrap().elapsed,
        TimeDelta::minutes(5)
    );
    assert_eq!(c1.escalated, vec![1]);
    let c2 = e.current().unwrap();
    assert_eq!(c2.number, 2);
    assert!(c2.escalated.is_empty());
    assert_eq!(
        c2.goal(Goal::Resolution).unwrap().elapsed,
        TimeDelta::hours(1)
    );
    // In the new cycle work already started, so first response is met at once.
    assert_eq!(c2.goal(Goal::FirstResponse).unwrap().status, SlaStatus::Met);
}

#[test]
fn resolved_late_is_breached_not_met() {
    let t = targets();
    let h = vec![
        opened(),
        status("2026-01-11T05:10:00Z", St::Work),
        status("2026-01-12T10:00:00Z", St::Resolved),
    ];
    let e = eval(h, &t, "2026-01-20T00:00:00Z");
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.status, SlaStatus::Breached);
    assert_eq!(res.stopped_at, Some(utc("2026-01-12T10:00:00Z")));
    assert_eq!(res.breached_at, Some(utc("2026-01-11T14:00:00Z")));
    assert_eq!(res.due_at, None);
}

#[test]
fn next_update_restarts_on_each_update() {
    let t = targets();
    let h = vec![
        opened(),
        status("2026-01-11T05:10:00Z", St::Work),
        ev("2026-01-11T08:00:00Z", SlaEventKind::UpdateSent), // 11:00 local, 3 h in
    ];
    let e = eval(h, &t, "2026-01-11T11:00:00Z"); // 14:00 local
    let nu = e.current().unwrap().goal(Goal::NextUpdate).unwrap();
    assert_eq!(nu.elapsed, TimeDelta::hours(2)); // 11–12, 13–14
    assert_eq!(nu.at_risk_at, None); // the warning of the first window was cleared
    assert_eq!(nu.due_at, Some(utc("2026-01-11T13:00:00Z"))); // 16:00 local
}

#[test]
fn calendar_time_target_runs_through_the_night_and_weekend() {
    let t = Targets {
        resolution: Some(Target::calendar(hours(4))),
        ..Targets::default()
    };
    // Thursday 15 Jan 16:00 local; 4 calendar hours → 20:00 local.
    let h = vec![ev(
        "2026-01-15T13:00:00Z",
        SlaEventKind::Opened { state: St::Work },
    )];
    let e = eval(h, &t, "2026-01-15T18:00:00Z");
    let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
    assert_eq!(res.due_at, Some(utc("2026-01-15T17:00:00Z")));
    assert_eq!(res.status, SlaStatus::Breached);
    assert_eq!(res.elapsed, TimeDelta::hours(5));
}

#[test]
fn events_after_now_are_ignored_and_replay_is_deterministic() {
    let t = targets();
    let h = vec![
        opened(),
        status("2026-01-11T05:10:00Z", St::Work),
        status("2026-01-11T06:00:00Z", St::Resolved),
    ];
    let a = eval(h.clone(), &t, "2026-01-11T05:30:00Z");
    let b = eval(h, &t, "2026-01-11T05:30:00Z");
    assert_eq!(a, b);
    assert_eq!(
        a.current().unwrap().goal(Goal::Resolution).unwrap().status,
        SlaStatus::OnTrack
    );
}

#[test]
fn malformed_histories_are_refused() {
    assert_eq!(History::<St>::new(vec![]).err(), Some(HistoryError::Empty));
    assert_eq!(
        History::new(vec![status(OPEN, St::Work)]).err(),
        Some(HistoryError::NotOpenedFirst)
    );
    assert_eq!(
        History::new(vec![opened(), status("2026-01-11T04:00:00Z", St::Work)]).err(),
        Some(HistoryError::OutOfOrder(1))
    );
    assert_eq!(
        History::new(vec![opened(), opened()]).err(),
        Some(HistoryError::OpenedTwice(1))
    );
    let mut long = vec![opened()];
    long.extend((0..MAX_HISTORY).map(|_| ev(OPEN, SlaEventKind::Responded)));
    assert_eq!(History::new(long).err(), Some(HistoryError::TooLong));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Pause-invariance: elapsed equals the business time since opening minus the business time
    /// spent waiting on the patient, wherever the pauses fall.
    #[test]
    fn pauses_are_not_counted(cuts in proptest::collection::vec(0i64..(20 * 24 * 60), 0..10), now_min in 0i64..(25 * 24 * 60)) {
        let cal = riyadh(&[]);
        let open = utc(OPEN);
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut h = vec![ev(OPEN, SlaEventKind::Opened { state: St::Work })];
        let mut paused = TimeDelta::zero();
        let now = open + TimeDelta::minutes(now_min);
        for (i, w) in cuts.chunks(2).enumerate() {
            let p = open + TimeDelta::minutes(w[0]);
            let r = w.get(1).map(|m| open + TimeDelta::minutes(*m));
            h.push(SlaEvent { at: p, kind: SlaEventKind::Status { state: St::Waiting } });
            if let Some(r) = r { h.push(SlaEvent { at: r, kind: SlaEventKind::Status { state: St::Work } }); }
            let end = r.unwrap_or(now).min(now);
            if p < now { paused += cal.business_duration_between(p, end); }
            let _ = i;
        }
        let t = Targets { resolution: Some(Target::business(SlaDuration::hours(10_000).unwrap())), ..Targets::default() };
        let r = rules();
        let ctx = ClockContext { rules: &r, targets: &t, warn_at: WarnAt::default(), calendar: &cal };
        let e = evaluate(&History::new(h).unwrap(), &ctx, now);
        let res = e.current().unwrap().goal(Goal::Resolution).unwrap();
        prop_assert_eq!(res.elapsed, cal.business_duration_between(open, now) - paused);
        // Monotonic in now.
        let later = evaluate(&History::new(vec![ev(OPEN, SlaEventKind::Opened { state: St::Work })]).unwrap(), &ctx, now + TimeDelta::hours(1));
        prop_assert!(later.current().unwrap().goal(Goal::Resolution).unwrap().elapsed >= cal.business_duration_between(open, now));
    }
}

/// Recomputation after a calendar change is re-evaluation of the same history: adding a holiday
/// on the due day moves the due date to the next working day and turns a breach into on-track.
#[test]
fn calendar_change_is_a_re_evaluation() {
    let t = targets();
    let h = vec![opened(), status("2026-01-11T05:30:00Z", St::Work)];
    let r = rules();
    let before = riyadh(&[]);
    let after = riyadh(&[crate::sla::Holiday::day(
        "closure",
        chrono::NaiveDate::from_ymd_opt(2026, 1, 11).unwrap(),
    )]);
    let hist = History::new(h).unwrap();
    let now = utc("2026-01-11T15:00:00Z");
    let eval_with = |cal| {
        let ctx = ClockContext {
            rules: &r,
            targets: &t,
            warn_at: WarnAt::default(),
            calendar: cal,
        };
        evaluate(&hist, &ctx, now)
            .current()
            .unwrap()
            .goal(Goal::Resolution)
            .unwrap()
            .clone()
    };
    let b = eval_with(&before);
    assert_eq!(b.status, SlaStatus::Breached);
    let a = eval_with(&after);
    assert_eq!(a.status, SlaStatus::OnTrack);
    assert_eq!(a.elapsed, TimeDelta::zero());
    assert_eq!(a.due_at, Some(utc("2026-01-12T14:00:00Z"))); // Monday 17:00 local
}

/// The API serialises evaluations as they are.
#[test]
fn evaluation_serialises_to_json() {
    let e = eval(vec![opened()], &targets(), "2026-01-11T06:00:00Z");
    let v = serde_json::to_value(&e).unwrap();
    let g = &v["cycles"][0]["goals"][1];
    assert_eq!(g["goal"], "resolution");
    assert_eq!(g["status"], "on_track");
    assert_eq!(g["target"]["basis"], "business");
    assert_eq!(g["target"]["within"], 8 * 3600);
    assert_eq!(g["elapsed"], 3600);
    assert_eq!(g["remaining"], 7 * 3600);
    assert_eq!(g["due_at"], "2026-01-11T14:00:00Z");
}

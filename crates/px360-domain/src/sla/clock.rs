//! The SLA clock: replays an item's event history into per-goal state for every cycle.
//!
//! Jira Service Management defines a goal by start, pause and stop conditions and records
//! "completed cycles" plus one "ongoing cycle"; ServiceNow adds reset. We keep that vocabulary
//! but derive it from the item's lifecycle states (the "conditions on states"): a goal
//! is paused while the item is in one of its `pause_in` states, stopped on entering one of its
//! `stop_in` states (or on the first response), and leaving a `new_cycle_from` state (reopen)
//! closes the cycle and starts fresh clocks, keeping the old cycle in the result. Nothing is
//! stored but the history: the state is a pure function of history, rules, targets, calendar and
//! `now`, so a calendar or policy change is a re-evaluation, and replays are deterministic.

use super::calendar::BusinessCalendar;
use super::duration::SlaDuration;
use super::policy::{Goal, Target, Targets, TimeBasis, WarnAt};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::cell::Cell;

/// Histories longer than this are refused rather than replayed (bounded work per item).
pub const MAX_HISTORY: usize = 10_000;

/// When a goal pauses and stops, in terms of the item's lifecycle states `S`.
#[derive(Debug, Clone)]
pub struct GoalRules<S> {
    pub pause_in: Vec<S>,
    pub stop_in: Vec<S>,
    /// A `Responded` event stops this goal (first response).
    pub stop_on_response: bool,
    /// An `UpdateSent` event restarts this goal from zero (next update).
    pub restart_on_update: bool,
}

#[derive(Debug, Clone)]
pub struct ClockRules<S> {
    pub first_response: GoalRules<S>,
    pub resolution: GoalRules<S>,
    pub next_update: GoalRules<S>,
    /// Moving from one of these states to a state outside them starts a new cycle (reopen).
    pub new_cycle_from: Vec<S>,
}

impl<S> ClockRules<S> {
    fn goal(&self, g: Goal) -> &GoalRules<S> {
        match g {
            Goal::FirstResponse => &self.first_response,
            Goal::Resolution => &self.resolution,
            Goal::NextUpdate => &self.next_update,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlaEventKind<S> {
    Opened {
        state: S,
    },
    Status {
        state: S,
    },
    /// A first message to the patient or an acknowledgement with a reference.
    Responded,
    /// A message to the patient that resets the next-update clock.
    UpdateSent,
    /// An escalation decision was recorded (makes escalation idempotent).
    Escalated {
        level: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaEvent<S> {
    pub at: DateTime<Utc>,
    pub kind: SlaEventKind<S>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("history is empty")]
    Empty,
    #[error("history must start with Opened")]
    NotOpenedFirst,
    #[error("event {0} opens the item a second time")]
    OpenedTwice(usize),
    #[error("event {0} is earlier than the event before it")]
    OutOfOrder(usize),
    #[error("history has more than {MAX_HISTORY} events")]
    TooLong,
}

/// A well-formed history: starts with `Opened`, opened once, in time order, bounded.
#[derive(Debug, Clone)]
pub struct History<S> {
    events: Vec<SlaEvent<S>>,
}

impl<S> History<S> {
    pub fn new(events: Vec<SlaEvent<S>>) -> Result<Self, HistoryError> {
        if events.len() > MAX_HISTORY {
            return Err(HistoryError::TooLong);
        }
        match events.first() {
            None => return Err(HistoryError::Empty),
            Some(SlaEvent {
                kind: SlaEventKind::Opened { .. },
                ..
            }) => {}
            Some(_) => return Err(HistoryError::NotOpenedFirst),
        }
        for (i, w) in events.windows(2).enumerate() {
            if w[1].at < w[0].at {
                return Err(HistoryError::OutOfOrder(i + 1));
            }
            if matches!(w[1].kind, SlaEventKind::Opened { .. }) {
                return Err(HistoryError::OpenedTwice(i + 1));
            }
        }
        Ok(History { events })
    }

    pub fn events(&self) -> &[SlaEvent<S>] {
        &self.events
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    OnTrack,
    AtRisk,
    Breached,
    Met,
    Paused,
}

/// Durations serialise as whole seconds, like targets.
fn whole_seconds<Ser: serde::Serializer>(d: &TimeDelta, s: Ser) -> Result<Ser::Ok, Ser::Error> {
    s.serialize_i64(d.num_seconds())
}

/// One goal's clock at `now` (or at the end of a completed cycle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaState {
    pub goal: Goal,
    pub target: Target,
    #[serde(serialize_with = "whole_seconds")]
    pub elapsed: TimeDelta,
    /// Negative once breached.
    #[serde(serialize_with = "whole_seconds")]
    pub remaining: TimeDelta,
    /// While running: the instant the target is reached. `None` while paused or stopped.
    pub due_at: Option<DateTime<Utc>>,
    pub at_risk_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub status: SlaStatus,
    /// Next instant at which `status` changes by itself (warning, then breach): what a
    /// scheduler indexes. `None` when paused, stopped or already breached.
    pub next_change_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cycle {
    /// 1 for the first cycle, +1 per reopen.
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub goals: Vec<SlaState>,
    /// Escalation levels already recorded in this cycle.
    pub escalated: Vec<u8>,
}

impl Cycle {
    pub fn goal(&self, g: Goal) -> Option<&SlaState> {
        self.goals.iter().find(|s| s.goal == g)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// Oldest first; the last one is the current cycle.
    pub cycles: Vec<Cycle>,
}

impl Evaluation {
    pub fn current(&self) -> Option<&Cycle> {
        self.cycles.last()
    }
}

/// Everything a replay needs besides the history.
#[derive(Debug, Clone, Copy)]
pub struct ClockContext<'a, S> {
    pub rules: &'a ClockRules<S>,
    pub targets: &'a Targets,
    pub warn_at: WarnAt,
    pub calendar: &'a BusinessCalendar,
}

/// A measured segment: start, end, business time.
type Measured = (DateTime<Utc>, DateTime<Utc>, TimeDelta);

/// Business time with a one-entry memo: the goals of an item usually run over the same
/// segment, so each segment is measured once, not once per goal.
struct Measure<'a> {
    cal: &'a BusinessCalendar,
    last: Cell<Option<Measured>>,
}

impl Measure<'_> {
    fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if let Some((x, y, d)) = self.last.get()
            && x == a
            && y == b
        {
            return d;
        }
        let d = self.cal.business_duration_between(a, b);
        self.last.set(Some((a, b, d)));
        d
    }
}

struct GoalClock {
    goal: Goal,
    target: Target,
    warn: TimeDelta,
    /// Elapsed up to the start of the running segment.
    elapsed: TimeDelta,
    running_since: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
    at_risk_at: Option<DateTime<Utc>>,
    breached_at: Option<DateTime<Utc>>,
}

impl GoalClock {
    fn measure(&self, cal: &Measure<'_>, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        match self.target.basis {
            TimeBasis::Business => cal.between(a, b),
            TimeBasis::Calendar => b - a,
        }
    }

    fn point(&self, cal: &Measure<'_>, a: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
        let d = SlaDuration::saturating(d);
        match self.target.basis {
            TimeBasis::Business => cal.cal.add_business_duration(a, d),
            TimeBasis::Calendar => a
                .checked_add_signed(d.get())
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// Elapsed, at-risk and breach instants if the running segment were closed at `t`.
    fn progress(
        &self,
        cal: &Measure<'_>,
        t: DateTime<Utc>,
    ) -> (TimeDelta, Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let (mut at_risk, mut breached) = (self.at_risk_at, self.breached_at);
        let Some(s) = self.running_since.filter(|s| *s < t) else {
            return (self.elapsed, at_risk, breached);
        };
        let before = self.elapsed;
        let total = before + self.measure(cal, s, t);
        if at_risk.is_none() && total >= self.warn {
            at_risk = Some(self.point(cal, s, self.warn - before));
        }
        let target = self.target.within.get();
        // Breached once `t` is past the due instant: reaching the target exactly at closing
        // time breaches the moment after, not at the next opening.
        if breached.is_none() && total >= target {
            let due = self.point(cal, s, target - before);
            if t > due {
                breached = Some(due);
            }
        }
        (total, at_risk, breached)
    }

    fn settle(&mut self, cal: &Measure<'_>, t: DateTime<Utc>) {
        if self.running_since.is_some_and(|s| s < t) {
            let (total, at_risk, breached) = self.progress(cal, t);
            self.elapsed = total;
            self.at_risk_at = at_risk;
            self.breached_at = breached;
            self.running_since = Some(t);
        }
    }

    fn apply_state<S: PartialEq>(&mut self, rules: &GoalRules<S>, state: &S, t: DateTime<Utc>) {
        if self.stopped_at.is_some() {
            return;
        }
        if rules.stop_in.contains(state) {
            self.stop(t);
        } else if rules.pause_in.contains(state) {
            self.running_since = None;
        } else if self.running_since.is_none() {
            self.running_since = Some(t);
        }
    }

    fn stop(&mut self, t: DateTime<Utc>) {
        self.stopped_at = Some(t);
        self.running_since = None;
    }

    fn snapshot(&self, cal: &Measure<'_>, now: DateTime<Utc>) -> SlaState {
        let (elapsed, at_risk_at, breached_at) = self.progress(cal, now);
        let target = self.target.within.get();
        let running = self.running_since.is_some();
        let due_at = self.running_since.map(|s| {
            if self.elapsed <= target {
                self.point(cal, s, target - self.elapsed)
            } else {
                breached_at.unwrap_or(s)
            }
        });
        let next_change_at = match self.running_since {
            Some(s) if at_risk_at.is_none() => Some(self.point(cal, s, self.warn - self.elapsed)),
            Some(_) if breached_at.is_none() => due_at,
            _ => None,
        };
        let status = if self.stopped_at.is_some() {
            if breached_at.is_some() {
                SlaStatus::Breached
            } else {
                SlaStatus::Met
            }
        } else if breached_at.is_some() {
            SlaStatus::Breached
        } else if !running {
            SlaStatus::Paused
        } else if at_risk_at.is_some() {
            SlaStatus::AtRisk
        } else {
            SlaStatus::OnTrack
        };
        SlaState {
            goal: self.goal,
            target: self.target,
            elapsed,
            remaining: target - elapsed,
            due_at,
            at_risk_at,
            breached_at,
            stopped_at: self.stopped_at,
            paused: self.stopped_at.is_none() && !running,
            status,
            next_change_at,
        }
    }
}

struct OpenCycle {
    number: u32,
    started_at: DateTime<Utc>,
    clocks: Vec<GoalClock>,
    escalated: Vec<u8>,
}

fn open_cycle<S: PartialEq>(
    ctx: &ClockContext<'_, S>,
    number: u32,
    at: DateTime<Utc>,
    state: &S,
) -> OpenCycle {
    let pct = i32::from(ctx.warn_at.percent());
    let clocks = Goal::ALL
        .iter()
        .filter_map(|&g| {
            let target = ctx.targets.get(g)?;
            let mut c = GoalClock {
                goal: g,
                target,
                warn: target.within.get() * pct / 100,
                elapsed: TimeDelta::zero(),
                running_since: None,
                stopped_at: None,
                at_risk_at: None,
                breached_at: None,
            };
            c.apply_state(ctx.rules.goal(g), state, at);
            Some(c)
        })
        .collect();
    OpenCycle {
        number,
        started_at: at,
        clocks,
        escalated: Vec::new(),
    }
}

fn close_cycle(
    c: &OpenCycle,
    cal: &Measure<'_>,
    at: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
) -> Cycle {
    Cycle {
        number: c.number,
        started_at: c.started_at,
        ended_at: ended,
        goals: c.clocks.iter().map(|k| k.snapshot(cal, at)).collect(),
        escalated: c.escalated.clone(),
    }
}

/// Replays `history` up to `now` (later events are ignored) and reports every cycle.
pub fn evaluate<S: PartialEq>(
    history: &History<S>,
    ctx: &ClockContext<'_, S>,
    now: DateTime<Utc>,
) -> Evaluation {
    let cal = &Measure {
        cal: ctx.calendar,
        last: Cell::new(None),
    };
    let mut done = Vec::new();
    let events = history.events();
    let (first, rest) = match events.split_first() {
        Some((
            SlaEvent {
                at,
                kind: SlaEventKind::Opened { state },
            },
            rest,
        )) => ((*at, state), rest),
        // `History::new` guarantees an Opened first event.
        _ => return Evaluation { cycles: done },
    };
    let (opened_at, mut state) = first;
    let mut cur = open_cycle(ctx, 1, opened_at, state);
    for ev in rest.iter().take_while(|e| e.at <= now) {
        let t = ev.at;
        match &ev.kind {
            SlaEventKind::Opened { .. } => {}
            SlaEventKind::Status { state: next } => {
                if ctx.rules.new_cycle_from.contains(state)
                    && !ctx.rules.new_cycle_from.contains(next)
                {
                    done.push(close_cycle(&cur, cal, t, Some(t)));
                    cur = open_cycle(ctx, cur.number + 1, t, next);
                } else {
                    for c in &mut cur.clocks {
                        c.settle(cal, t);
                        c.apply_state(ctx.rules.goal(c.goal), next, t);
                    }
                }
                state = next;
            }
            SlaEventKind::Responded => {
                for c in &mut cur.clocks {
                    if ctx.rules.goal(c.goal).stop_on_response && c.stopped_at.is_none() {
                        c.settle(cal, t);
                        c.stop(t);
                    }
                }
            }
            SlaEventKind::UpdateSent => {
                for c in &mut cur.clocks {
                    if ctx.rules.goal(c.goal).restart_on_update && c.stopped_at.is_none() {
                        c.elapsed = TimeDelta::zero();
                        c.at_risk_at = None;
                        c.breached_at = None;
                        if c.running_since.is_some() {
                            c.running_since = Some(t);
                        }
                    }
                }
            }
            SlaEventKind::Escalated { level } => {
                if !cur.escalated.contains(level) {
                    cur.escalated.push(*level);
                }
            }
        }
    }
    done.push(close_cycle(&cur, cal, now.max(cur.started_at), None));
    Evaluation { cycles: done }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;

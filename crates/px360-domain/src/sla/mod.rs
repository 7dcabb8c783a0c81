//! The SLA engine's pure core: business calendars ([`calendar`], built from
//! [`working_time`]), bounded durations ([`duration`]), policies per hospital by category and
//! severity ([`policy`]), the clock that replays an item's history into elapsed, remaining,
//! due and status per goal and cycle ([`clock`]), and the escalation ladder ([`escalation`]).
//! No I/O: the store keeps the history, the worker calls [`clock::evaluate`] and
//! [`escalation::decide`] and records what they return.

pub mod calendar;
pub mod clock;
pub mod duration;
pub mod escalation;
pub mod policy;
pub mod working_time;

pub use calendar::BusinessCalendar;
pub use clock::{
    ClockContext, ClockRules, Cycle, Evaluation, GoalRules, History, HistoryError, SlaEvent,
    SlaEventKind, SlaState, SlaStatus, evaluate,
};
pub use duration::{DurationError, SlaDuration};
pub use escalation::{
    Escalate, EscalationStep, EscalationTarget, Ladder, LadderError, Trigger, decide,
};
pub use policy::{
    Goal, PolicyError, PolicyRule, Severity, SlaPolicy, Target, Targets, TimeBasis, WarnAt,
};
pub use working_time::{
    CalendarError, CalendarSpec, Holiday, HolidaySpec, WeeklyHours, WorkingInterval,
};

//! Agent statistics as a mergeable accumulator in the style of [`crate::analytics`]: plain
//! counters, `Default` is empty, [`Merge::merge`] adds, rates are exact [`Ratio`]s computed at
//! the end. The store keeps one per agent per day and merges them for any period or team.

use super::call::{CallRecord, Direction, Outcome};
use crate::analytics::Merge;
use crate::analytics::ratio::Ratio;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentStats {
    pub inbound: u64,
    pub outbound: u64,
    pub answered: u64,
    /// Seconds on answered calls.
    pub talk_secs: u64,
    pub complaints: u64,
    pub feedback: u64,
    pub surveys: u64,
    pub resolved_first_call: u64,
    pub callbacks_on_time: u64,
    pub callbacks_late: u64,
}

impl AgentStats {
    pub fn add_call(&mut self, c: &CallRecord) {
        match c.direction {
            Direction::Inbound => self.inbound += 1,
            Direction::Outbound => self.outbound += 1,
        }
        if c.answered() {
            self.answered += 1;
            self.talk_secs += u64::from(c.duration_secs);
        }
        match c.outcome {
            Outcome::ComplaintCreated => self.complaints += 1,
            Outcome::FeedbackCreated => self.feedback += 1,
            Outcome::SurveyCompleted => self.surveys += 1,
            Outcome::Resolved => self.resolved_first_call += 1,
            _ => {}
        }
    }

    /// A callback was made: on time if before its SLA due time.
    pub fn add_callback(&mut self, on_time: bool) {
        if on_time {
            self.callbacks_on_time += 1;
        } else {
            self.callbacks_late += 1;
        }
    }

    pub fn calls(&self) -> u64 {
        self.inbound + self.outbound
    }

    /// Mean seconds per answered call.
    pub fn average_handle_secs(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.talk_secs), i128::from(self.answered))
    }

    /// % of answered calls resolved there and then.
    pub fn first_call_resolution(&self) -> Option<Ratio> {
        Ratio::percent(self.resolved_first_call, self.answered)
    }

    /// % of callbacks made within their SLA.
    pub fn callback_compliance(&self) -> Option<Ratio> {
        Ratio::percent(
            self.callbacks_on_time,
            self.callbacks_on_time + self.callbacks_late,
        )
    }
}

impl Merge for AgentStats {
    fn merge(&mut self, o: &Self) {
        self.inbound += o.inbound;
        self.outbound += o.outbound;
        self.answered += o.answered;
        self.talk_secs += o.talk_secs;
        self.complaints += o.complaints;
        self.feedback += o.feedback;
        self.surveys += o.surveys;
        self.resolved_first_call += o.resolved_first_call;
        self.callbacks_on_time += o.callbacks_on_time;
        self.callbacks_late += o.callbacks_late;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::callcentre::call::{Caller, Reason};
    use crate::callcentre::lookup::PatientKey;
    use chrono::Utc;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn call(dir: Direction, outcome: Outcome, secs: u32) -> CallRecord {
        CallRecord::new(
            Uuid::nil(),
            dir,
            Caller::Patient,
            Some(PatientKey::mrn("M1").unwrap()),
            Reason::Enquiry,
            outcome,
            secs,
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn counts_and_rates() {
        let mut s = AgentStats::default();
        s.add_call(&call(Direction::Inbound, Outcome::Resolved, 120));
        s.add_call(&call(Direction::Inbound, Outcome::ComplaintCreated, 300));
        s.add_call(&call(Direction::Outbound, Outcome::NoAnswer, 0));
        s.add_callback(true);
        s.add_callback(false);
        assert_eq!((s.calls(), s.answered, s.complaints), (3, 2, 1));
        assert_eq!(s.average_handle_secs().unwrap().round(), 210);
        assert_eq!(s.first_call_resolution().unwrap().round(), 50);
        assert_eq!(s.callback_compliance().unwrap().round(), 50);
        assert_eq!(AgentStats::default().average_handle_secs(), None);
    }

    fn arb_call() -> impl Strategy<Value = CallRecord> {
        (any::<bool>(), 0usize..4, 1u32..3600).prop_map(|(inb, o, secs)| {
            let outcome = [
                Outcome::Resolved,
                Outcome::NoAnswer,
                Outcome::SurveyCompleted,
                Outcome::Transferred,
            ][o];
            let secs = if outcome == Outcome::NoAnswer {
                0
            } else {
                secs
            };
            let dir = if inb {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            call(dir, outcome, secs)
        })
    }

    proptest! {
        #[test]
        fn merging_split_days_equals_counting_all(
            a in proptest::collection::vec(arb_call(), 0..30),
            b in proptest::collection::vec(arb_call(), 0..30),
        ) {
            let (mut x, mut y, mut all) = (AgentStats::default(), AgentStats::default(), AgentStats::default());
            a.iter().for_each(|c| { x.add_call(c); all.add_call(c) });
            b.iter().for_each(|c| { y.add_call(c); all.add_call(c) });
            let mut xy = x;
            xy.merge(&y);
            let mut yx = y;
            yx.merge(&x);
            prop_assert_eq!(xy, all);
            prop_assert_eq!(yx, all);
        }
    }
}

//! Quiet hours in the hospital's time zone: no message is sent inside them; a send time that
//! falls inside moves to the first minute after they end.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `[start, end)` in local wall-clock time; wraps midnight when `start > end` (e.g. 21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuietRaw", into = "QuietRaw")]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Serialize, Deserialize)]
struct QuietRaw {
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("quiet hours must start and end at different whole minutes")]
pub struct QuietHoursError;

impl TryFrom<QuietRaw> for QuietHours {
    type Error = QuietHoursError;
    fn try_from(r: QuietRaw) -> Result<Self, Self::Error> {
        QuietHours::new(r.start, r.end)
    }
}

impl From<QuietHours> for QuietRaw {
    fn from(q: QuietHours) -> Self {
        QuietRaw {
            start: q.start,
            end: q.end,
        }
    }
}

impl QuietHours {
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, QuietHoursError> {
        use chrono::Timelike;
        let whole = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
        if start == end || !whole(start) || !whole(end) {
            return Err(QuietHoursError);
        }
        Ok(QuietHours { start, end })
    }

    pub fn contains_local(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    pub fn contains(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        self.contains_local(at.with_timezone(&tz).time())
    }

    /// `at` itself when outside quiet hours, else the first instant at or after the local end
    /// time. When that wall-clock time does not exist (a DST gap) the first minute after the gap
    /// is used; when it exists twice (DST fold) the earlier one.
    pub fn next_allowed(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let mut t = at;
        // A second round only when the end time fell into a DST gap whose far side is inside
        // the (almost day-long) window again; the next day's end time then exists.
        for _ in 0..3 {
            let local = t.with_timezone(&tz).naive_local();
            if !self.contains_local(local.time()) {
                return t;
            }
            let mut date = local.date();
            if self.start > self.end && local.time() >= self.start {
                // Evening part of a window that wraps midnight: it ends tomorrow.
                date = date.succ_opt().unwrap_or(date);
            }
            t = resolve(tz, date.and_time(self.end), t).max(t);
        }
        t
    }
}

/// A local wall-clock time as an instant, moving forward minute by minute out of a DST gap
/// (gaps are at most a few hours, so this is bounded). In a fold, the earlier instant unless it
/// is not after `after` (we are already in the repeated hour).
fn resolve(tz: Tz, mut t: NaiveDateTime, after: DateTime<Utc>) -> DateTime<Utc> {
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(d) => return d.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => {
                let a = a.with_timezone(&Utc);
                return if a > after { a } else { b.with_timezone(&Utc) };
            }
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    // Unreachable for real zones; fall back to reading the wall clock as UTC.
    Utc.from_utc_datetime(&t)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono_tz::{Asia::Riyadh, Europe::London};
    use proptest::prelude::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn riyadh_night_moves_to_eight_local() {
        let q = QuietHours::new(hm(21, 0), hm(8, 0)).unwrap();
        // 20:59 Riyadh (UTC+3) is still allowed.
        assert_eq!(
            q.next_allowed(utc("2026-03-01T17:59:00Z"), Riyadh),
            utc("2026-03-01T17:59:00Z")
        );
        // 21:00 Riyadh → 08:00 next day = 05:00Z.
        assert_eq!(
            q.next_allowed(utc("2026-03-01T18:00:00Z"), Riyadh),
            utc("2026-03-02T05:00:00Z")
        );
        // 02:30 Riyadh → 08:00 same day.
        assert_eq!(
            q.next_allowed(utc("2026-03-01T23:30:00Z"), Riyadh),
            utc("2026-03-02T05:00:00Z")
        );
        // 07:59:59 is quiet, 08:00 is not.
        assert_eq!(
            q.next_allowed(utc("2026-03-02T04:59:59Z"), Riyadh),
            utc("2026-03-02T05:00:00Z")
        );
        assert!(!q.contains(utc("2026-03-02T05:00:00Z"), Riyadh));
    }

    #[test]
    fn london_across_both_dst_changes() {
        let q = QuietHours::new(hm(21, 0), hm(8, 0)).unwrap();
        // Saturday 28 March 2026 22:00 GMT; clocks go forward on Sunday 29 March at 01:00 GMT,
        // so 08:00 Sunday is BST = 07:00Z (the night is an hour shorter).
        assert_eq!(
            q.next_allowed(utc("2026-03-28T22:00:00Z"), London),
            utc("2026-03-29T07:00:00Z")
        );
        // Saturday 24 October 2026 21:30 BST = 20:30Z; clocks go back on Sunday 25 October at
        // 01:00 GMT, so 08:00 Sunday is GMT = 08:00Z.
        assert_eq!(
            q.next_allowed(utc("2026-10-24T20:30:00Z"), London),
            utc("2026-10-25T08:00:00Z")
        );
        // Quiet hours ending inside the spring gap (01:00–02:00 local does not exist): the first
        // minute after the gap, 02:00 BST = 01:00Z.
        let q = QuietHours::new(hm(23, 0), hm(1, 30)).unwrap();
        assert_eq!(
            q.next_allowed(utc("2026-03-28T23:30:00Z"), London),
            utc("2026-03-29T01:00:00Z")
        );
        // Ending inside the autumn fold (01:30 happens twice): the first 01:30, BST = 00:30Z.
        assert_eq!(
            q.next_allowed(utc("2026-10-24T22:30:00Z"), London),
            utc("2026-10-25T00:30:00Z")
        );
        // Already in the repeated hour (01:10 GMT, the second 01:10): the second 01:30.
        assert_eq!(
            q.next_allowed(utc("2026-10-25T01:10:00Z"), London),
            utc("2026-10-25T01:30:00Z")
        );
    }

    #[test]
    fn daytime_windows_and_bad_windows() {
        let q = QuietHours::new(hm(12, 0), hm(14, 0)).unwrap();
        assert_eq!(
            q.next_allowed(utc("2026-03-01T12:30:00Z"), Tz::UTC),
            utc("2026-03-01T14:00:00Z")
        );
        assert_eq!(
            q.next_allowed(utc("2026-03-01T14:00:00Z"), Tz::UTC),
            utc("2026-03-01T14:00:00Z")
        );
        assert!(QuietHours::new(hm(8, 0), hm(8, 0)).is_err());
        assert!(QuietHours::new(NaiveTime::from_hms_opt(8, 0, 1).unwrap(), hm(9, 0)).is_err());
        let json = serde_json::to_string(&QuietHours::new(hm(21, 0), hm(8, 0)).unwrap()).unwrap();
        assert_eq!(json, r#"{"start":"21:00:00","end":"08:00:00"}"#);
        assert!(
            serde_json::from_str::<QuietHours>(r#"{"start":"08:00:00","end":"08:00:00"}"#).is_err()
        );
    }

    proptest! {
        #[test]
        fn result_is_never_earlier_never_quiet_and_within_a_day(
            secs in 1_700_000_000i64..1_900_000_000,
            sh in 0u32..24, sm in 0u32..60, eh in 0u32..24, em in 0u32..60,
            zone in prop::sample::select(vec![Riyadh, London, chrono_tz::America::New_York, Tz::UTC]),
        ) {
            prop_assume!((sh, sm) != (eh, em));
            let q = QuietHours::new(hm(sh, sm), hm(eh, em)).unwrap();
            let at = DateTime::from_timestamp(secs, 0).unwrap();
            let n = q.next_allowed(at, zone);
            prop_assert!(n >= at);
            prop_assert!(!q.contains(n, zone), "{at} -> {n} still quiet");
            prop_assert!(n - at <= Duration::hours(50));
        }
    }
}

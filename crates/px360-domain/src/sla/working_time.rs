//! The parts of a business calendar: working intervals, weekly hours, holidays, and the
//! serialisable spec PX admins edit. Parsing happens here, once; [`super::calendar`] only
//! computes.

use chrono::{NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const DAY_SECS: u32 = 86_400;
/// Longest single holiday entry; longer closures are almost certainly data errors.
pub const MAX_HOLIDAY_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?} (expected an IANA name such as Asia/Riyadh)")]
    UnknownTimeZone(String),
    #[error("working interval {0:?} is not HH:MM-HH:MM")]
    BadInterval(String),
    #[error("working interval {0:?} ends at or before it starts (split overnight shifts at 24:00)")]
    EmptyInterval(String),
    #[error("unknown weekday {0:?}")]
    UnknownWeekday(String),
    #[error("working intervals overlap on {0}")]
    Overlap(Weekday),
    #[error("calendar has no working time in the week")]
    NoWorkingTime,
    #[error("holiday {name:?} ends ({last}) before it starts ({first})")]
    HolidayReversed {
        name: String,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error("holiday {name:?} spans more than {MAX_HOLIDAY_DAYS} days")]
    HolidayTooLong { name: String },
    #[error("holiday date {0:?} is not YYYY-MM-DD")]
    BadDate(String),
}

/// One working time frame of a day, in seconds after local midnight; `end` may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkingInterval {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl WorkingInterval {
    /// `end = None` means 24:00 (end of day).
    pub fn new(start: NaiveTime, end: Option<NaiveTime>) -> Result<Self, CalendarError> {
        let start_s = start.num_seconds_from_midnight();
        let end_s = end.map_or(DAY_SECS, |e| e.num_seconds_from_midnight());
        if end_s <= start_s {
            return Err(CalendarError::EmptyInterval(format!("{start}-{end:?}")));
        }
        Ok(WorkingInterval {
            start: start_s,
            end: end_s,
        })
    }

    /// Parses `"08:00-16:30"`; `"24:00"` is allowed as an end.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let bad = || CalendarError::BadInterval(s.to_owned());
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let start = parse_hhmm(a).ok_or_else(bad)?;
        let end = parse_hhmm(b).ok_or_else(bad)?;
        if start >= DAY_SECS || end <= start {
            return Err(CalendarError::EmptyInterval(s.to_owned()));
        }
        Ok(WorkingInterval { start, end })
    }

    pub fn seconds(self) -> u32 {
        self.end - self.start
    }
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 3600 + m * 60)
}

/// Working intervals per weekday, sorted, non-overlapping; touching intervals are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyHours {
    pub(crate) days: [Vec<WorkingInterval>; 7],
}

impl WeeklyHours {
    pub fn new(
        days: impl IntoIterator<Item = (Weekday, Vec<WorkingInterval>)>,
    ) -> Result<Self, CalendarError> {
        let mut out: [Vec<WorkingInterval>; 7] = Default::default();
        for (wd, mut ivs) in days {
            let slot = &mut out[wd.num_days_from_monday() as usize];
            ivs.append(slot);
            ivs.sort_unstable();
            let mut merged: Vec<WorkingInterval> = Vec::with_capacity(ivs.len());
            for iv in ivs {
                match merged.last_mut() {
                    Some(last) if iv.start < last.end => return Err(CalendarError::Overlap(wd)),
                    Some(last) if iv.start == last.end => last.end = iv.end,
                    _ => merged.push(iv),
                }
            }
            *slot = merged;
        }
        Ok(WeeklyHours { days: out })
    }

    /// Every day 00:00–24:00.
    pub fn always() -> Self {
        let full = WorkingInterval {
            start: 0,
            end: DAY_SECS,
        };
        WeeklyHours {
            days: std::array::from_fn(|_| vec![full]),
        }
    }

    /// The same intervals on each of `weekdays`.
    pub fn uniform(
        weekdays: &[Weekday],
        intervals: &[WorkingInterval],
    ) -> Result<Self, CalendarError> {
        Self::new(weekdays.iter().map(|w| (*w, intervals.to_vec())))
    }

    pub fn intervals(&self, wd: Weekday) -> &[WorkingInterval] {
        &self.days[wd.num_days_from_monday() as usize]
    }

    pub(crate) fn week_seconds(&self) -> i64 {
        self.days
            .iter()
            .flatten()
            .map(|iv| i64::from(iv.seconds()))
            .sum()
    }
}

/// A named whole-day closure, one date or an inclusive range.
/// Not `Deserialize`: stored holidays arrive as [`HolidaySpec`] and go through [`Holiday::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub(crate) name: String,
    pub(crate) first: NaiveDate,
    pub(crate) last: NaiveDate,
}

impl Holiday {
    pub fn new(name: &str, first: NaiveDate, last: NaiveDate) -> Result<Self, CalendarError> {
        if last < first {
            return Err(CalendarError::HolidayReversed {
                name: name.to_owned(),
                first,
                last,
            });
        }
        if (last - first).num_days() >= MAX_HOLIDAY_DAYS {
            return Err(CalendarError::HolidayTooLong {
                name: name.to_owned(),
            });
        }
        Ok(Holiday {
            name: name.to_owned(),
            first,
            last,
        })
    }

    pub fn day(name: &str, date: NaiveDate) -> Self {
        Holiday {
            name: name.to_owned(),
            first: date,
            last: date,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Serialisable form, as stored per hospital and edited by PX admins. Weekday keys are
/// `mon`..`sun`; intervals are `"HH:MM-HH:MM"`; holidays give `from` and optionally `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarSpec {
    pub time_zone: String,
    pub hours: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<HolidaySpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolidaySpec {
    pub name: String,
    pub from: String,
    pub to: Option<String>,
}

pub(crate) fn parse_weekday(s: &str) -> Result<Weekday, CalendarError> {
    s.parse::<Weekday>()
        .map_err(|_| CalendarError::UnknownWeekday(s.to_owned()))
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| CalendarError::BadDate(s.to_owned()))
}

//! Reporting periods in the hospital's time zone: day, week, month and quarter, the previous
//! period for trends, and the UTC instants that bound a period for queries.
//!
//! Weeks start on a configurable day: Monday gives ISO 8601 weeks (labelled `2026-W49`),
//! Sunday suits the Saudi group (and the US), Saturday other Gulf calendars. A period is a
//! range of local dates; its UTC bounds are the local midnights that start it and the next
//! period, so a 23- or 25-hour DST day is still one day.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
    Month,
    Quarter,
}

/// A hospital's calendar: its zone and the first day of its week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    pub tz: Tz,
    pub week_start: Weekday,
}

impl Calendar {
    pub fn new(tz: Tz, week_start: Weekday) -> Self {
        Calendar { tz, week_start }
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The period of granularity `g` that holds instant `at`.
    pub fn period_of(&self, at: DateTime<Utc>, g: Granularity) -> Period {
        Period::containing(self.local_date(at), g, self.week_start)
    }

    /// The first instant of a local date: its midnight, or where a DST gap swallows midnight
    /// (e.g. America/Santiago in September), the first minute that exists after it.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        // Gaps last at most a few hours; 24 h of minutes bounds the search.
        for m in 0..(24 * 60) {
            let local = midnight + chrono::Duration::minutes(m);
            if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
        }
        midnight.and_utc()
    }

    /// `[start, end)` of a period in UTC.
    pub fn utc_bounds(&self, p: &Period) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.start_of(p.start), self.start_of(p.end()))
    }
}

/// A period: its granularity and first local date (always a period boundary). Built by
/// [`Period::containing`] or parsed from a label ([`Period::parse`]), so it has no `Deserialize`
/// that could start a month on the 15th.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Period {
    pub granularity: Granularity,
    pub start: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("not a period label (expected 2026-12-06, 2026-W49, 2026-12-06/W, 2026-12 or 2026-Q4)")]
    BadLabel,
    #[error("a week of this calendar starts on {0:?}")]
    NotAWeekStart(Weekday),
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    let m = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), m, 1).unwrap_or(d)
}

impl Period {
    /// The period holding local date `d`.
    pub fn containing(d: NaiveDate, g: Granularity, week_start: Weekday) -> Self {
        let start = match g {
            Granularity::Day => d,
            Granularity::Week => {
                let back = d.weekday().days_since(week_start);
                d - Days::new(u64::from(back))
            }
            Granularity::Month => d.with_day(1).unwrap_or(d),
            Granularity::Quarter => quarter_start(d),
        };
        Period {
            granularity: g,
            start,
        }
    }

    /// Parses a [`Period::label`]. A week label must fit the calendar: `2026-W49` only where
    /// weeks start on Monday, `2026-12-06/W` only if that date is a week start.
    pub fn parse(label: &str, week_start: Weekday) -> Result<Self, PeriodError> {
        fn bad<E>(_: E) -> PeriodError {
            PeriodError::BadLabel
        }
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(bad);
        let number = |s: &str| s.parse::<u32>().map_err(bad);
        let (g, start) = if let Some(d) = label.strip_suffix("/W") {
            (Granularity::Week, day(d)?)
        } else if let Some((y, w)) = label.split_once("-W") {
            if week_start != Weekday::Mon {
                return Err(PeriodError::NotAWeekStart(week_start));
            }
            let y = i32::try_from(number(y)?).map_err(bad)?;
            let start = NaiveDate::from_isoywd_opt(y, number(w)?, Weekday::Mon)
                .ok_or(PeriodError::BadLabel)?;
            (Granularity::Week, start)
        } else if let Some((y, q)) = label.split_once("-Q") {
            let y = i32::try_from(number(y)?).map_err(bad)?;
            let start = NaiveDate::from_ymd_opt(y, number(q)?.saturating_mul(3).wrapping_sub(2), 1)
                .ok_or(PeriodError::BadLabel)?;
            (Granularity::Quarter, start)
        } else if label.len() == 7 {
            (Granularity::Month, day(&format!("{label}-01"))?)
        } else {
            (Granularity::Day, day(label)?)
        };
        let p = Period::containing(start, g, week_start);
        if p.start != start {
            return Err(PeriodError::NotAWeekStart(week_start));
        }
        // Only canonical labels: "2026-1-5" parses as a date but is not what `label` writes.
        if p.label() != label {
            return Err(PeriodError::BadLabel);
        }
        Ok(p)
    }

    /// The first date after the period.
    pub fn end(&self) -> NaiveDate {
        let s = self.start;
        let next = match self.granularity {
            Granularity::Day => s.checked_add_days(Days::new(1)),
            Granularity::Week => s.checked_add_days(Days::new(7)),
            Granularity::Month => s.checked_add_months(Months::new(1)),
            Granularity::Quarter => s.checked_add_months(Months::new(3)),
        };
        next.unwrap_or(NaiveDate::MAX)
    }

    pub fn next(&self) -> Period {
        Period {
            granularity: self.granularity,
            start: self.end(),
        }
    }

    /// The period before, for trends.
    pub fn previous(&self) -> Period {
        let s = self.start;
        let prev = match self.granularity {
            Granularity::Day => s.checked_sub_days(Days::new(1)),
            Granularity::Week => s.checked_sub_days(Days::new(7)),
            Granularity::Month => s.checked_sub_months(Months::new(1)),
            Granularity::Quarter => s.checked_sub_months(Months::new(3)),
        };
        Period {
            granularity: self.granularity,
            start: prev.unwrap_or(NaiveDate::MIN),
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d < self.end()
    }

    /// The local dates of the period (1 to 92): the daily roll-ups to merge for it.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end();
        self.start.iter_days().take_while(move |d| *d < end)
    }

    /// `2026-12-06`, `2026-W49` (ISO week, for Monday-start weeks) or `2026-12-06/W` (week of),
    /// `2026-12`, `2026-Q4`.
    pub fn label(&self) -> String {
        let s = self.start;
        match self.granularity {
            Granularity::Day => s.format("%Y-%m-%d").to_string(),
            Granularity::Week if s.weekday() == Weekday::Mon => {
                let w = s.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Granularity::Week => format!("{}/W", s.format("%Y-%m-%d")),
            Granularity::Month => s.format("%Y-%m").to_string(),
            Granularity::Quarter => format!("{}-Q{}", s.year(), s.month0() / 3 + 1),
        }
    }
}

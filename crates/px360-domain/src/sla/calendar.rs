//! Business calendars: a time zone, weekly working hours and holidays.
//!
//! Follows Zammad's calendar model (one IANA time zone, per-weekday business hours with several
//! time frames a day for split shifts, whole-day holidays) and Jira Service Management's rule
//! that SLA time only elapses inside calendar hours. Differences, on purpose:
//! - Holidays are data (named dates or date ranges, e.g. Eid al-Fitr), not an iCalendar
//!   subscription: Hijri-dated holidays move every year and are confirmed by announcement, so the
//!   store loads them per year and a change is a recompute, not a fetch at run time.
//! - Arithmetic is exact to the nanosecond and defined on instants, not wall-clock minutes: a
//!   working interval covers every instant whose local wall-clock reading lies inside it. A local
//!   time skipped by a DST gap maps to the transition instant; an ambiguous local time (autumn)
//!   maps to its earliest instant as an interval start and its latest as an interval end, so a
//!   24-hour calendar in Europe/London has 23-hour and 25-hour days, as the wall clock does.
//! - Cost is linear in the days crossed, with whole clean weeks (no holiday, no offset change)
//!   skipped in one step, and one time-zone lookup per day.

use super::duration::SlaDuration;
pub use super::working_time::{
    CalendarError, CalendarSpec, Holiday, HolidaySpec, MAX_HOLIDAY_DAYS, WeeklyHours,
    WorkingInterval,
};
use super::working_time::{DAY_SECS, parse_date, parse_weekday};
use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// A validated calendar. Construct with [`BusinessCalendar::new`], [`BusinessCalendar::from_spec`]
/// or [`BusinessCalendar::always_open`]; every value of this type has working time in its week,
/// so the arithmetic below always terminates.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    tz: Tz,
    days: [Box<[(u32, u32)]>; 7],
    week: TimeDelta,
    /// Nominal business seconds per weekday (Monday first).
    day_secs: [i64; 7],
    /// Sorted, merged, inclusive date ranges.
    holidays: Vec<(NaiveDate, NaiveDate)>,
    always_open: bool,
}

impl BusinessCalendar {
    pub fn new(tz: Tz, hours: WeeklyHours, holidays: &[Holiday]) -> Result<Self, CalendarError> {
        let week_secs = hours.week_seconds();
        if week_secs == 0 {
            return Err(CalendarError::NoWorkingTime);
        }
        let always_open = hours == WeeklyHours::always();
        let mut ranges: Vec<(NaiveDate, NaiveDate)> =
            holidays.iter().map(|h| (h.first, h.last)).collect();
        ranges.sort_unstable();
        let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.succ_opt().unwrap_or(NaiveDate::MAX) => {
                    last.1 = last.1.max(b)
                }
                _ => merged.push((a, b)),
            }
        }
        Ok(BusinessCalendar {
            tz,
            days: std::array::from_fn(|i| {
                hours.days[i]
                    .iter()
                    .map(|iv| (iv.start, iv.end))
                    .collect::<Vec<_>>()
                    .into_boxed_slice()
            }),
            week: TimeDelta::seconds(week_secs),
            day_secs: std::array::from_fn(|i| {
                hours.days[i].iter().map(|iv| i64::from(iv.seconds())).sum()
            }),
            holidays: merged,
            always_open,
        })
    }

    /// 24×7, no holidays: business time equals elapsed time.
    pub fn always_open(tz: Tz) -> Self {
        // WeeklyHours::always() has working time, so `new` cannot fail; build directly anyway.
        let full: Box<[(u32, u32)]> = vec![(0, DAY_SECS)].into_boxed_slice();
        BusinessCalendar {
            tz,
            days: std::array::from_fn(|_| full.clone()),
            week: TimeDelta::days(7),
            day_secs: [i64::from(DAY_SECS); 7],
            holidays: Vec::new(),
            always_open: true,
        }
    }

    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, CalendarError> {
        let tz: Tz = spec
            .time_zone
            .parse()
            .map_err(|_| CalendarError::UnknownTimeZone(spec.time_zone.clone()))?;
        let mut days = Vec::with_capacity(spec.hours.len());
        for (day, ivs) in &spec.hours {
            let wd = parse_weekday(day)?;
            let ivs = ivs
                .iter()
                .map(|s| WorkingInterval::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            days.push((wd, ivs));
        }
        let hours = WeeklyHours::new(days)?;
        let mut holidays = Vec::with_capacity(spec.holidays.len());
        for h in &spec.holidays {
            let first = parse_date(&h.from)?;
            let last = match &h.to {
                Some(t) => parse_date(t)?,
                None => first,
            };
            holidays.push(Holiday::new(&h.name, first, last)?);
        }
        Self::new(tz, hours, &holidays)
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Nominal business time of a week without holidays or offset changes.
    pub fn week_length(&self) -> TimeDelta {
        self.week
    }

    /// The instant at which `dur` of business time has elapsed after `start`: the earliest `t ≥
    /// start` with `business_duration_between(start, t) == dur`. Zero gives `start` itself, even
    /// outside working hours. Saturates at the end of chrono's range rather than panicking.
    pub fn add_business_duration(&self, start: DateTime<Utc>, dur: SlaDuration) -> DateTime<Utc> {
        let mut rem = dur.get();
        if rem <= TimeDelta::zero() {
            return start;
        }
        if self.always_open && self.holidays.is_empty() {
            return sat_add(start, rem);
        }
        let mut w = DayWalk::new(self, start);
        loop {
            if !w.first_day
                && let Some((end, week)) = w.skippable_week()
                && rem > week
            {
                rem -= week;
                if !w.skip_week(end) {
                    return DateTime::<Utc>::MAX_UTC;
                }
                continue;
            }
            let Some(next_start) = w.next_start() else {
                return DateTime::<Utc>::MAX_UTC;
            };
            if !w.holiday_today() {
                for (a, b) in self.day_intervals(w.d, w.day_start, next_start) {
                    let a = a.max(start);
                    if b <= a {
                        continue;
                    }
                    let avail = b - a;
                    if rem <= avail {
                        return sat_add(a, rem);
                    }
                    rem -= avail;
                }
            }
            if !w.advance(next_start) {
                return DateTime::<Utc>::MAX_UTC;
            }
        }
    }

    /// Business time inside `[a, b)`; negative when `b < a`.
    pub fn business_duration_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if b < a {
            return -self.business_duration_between(b, a);
        }
        if a == b {
            return TimeDelta::zero();
        }
        if self.always_open && self.holidays.is_empty() {
            return b - a;
        }
        let mut sum = TimeDelta::zero();
        let mut w = DayWalk::new(self, a);
        while w.day_start < b {
            if !w.first_day
                && b - w.day_start >= TimeDelta::days(6)
                && let Some((end, week)) = w.skippable_week()
                && end <= b
            {
                sum += week;
                if !w.skip_week(end) {
                    break;
                }
                continue;
            }
            let Some(next_start) = w.next_start() else {
                break;
            };
            if !w.holiday_today() {
                for (s, e) in self.day_intervals(w.d, w.day_start, next_start) {
                    let s = s.max(a);
                    let e = e.min(b);
                    if e > s {
                        sum += e - s;
                    }
                }
            }
            if !w.advance(next_start) {
                break;
            }
        }
        sum
    }

    /// Is `t` inside working hours (and not on a holiday)?
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let Some(later) = t.checked_add_signed(TimeDelta::nanoseconds(1)) else {
            return false;
        };
        self.business_duration_between(t, later) > TimeDelta::zero()
    }

    /// Holiday lookup with a cursor that only moves forward (dates are visited in order).
    fn is_holiday(&self, d: NaiveDate, idx: &mut usize) -> bool {
        while *idx < self.holidays.len() && self.holidays[*idx].1 < d {
            *idx += 1;
        }
        *idx < self.holidays.len() && self.holidays[*idx].0 <= d
    }

    /// UTC intervals of local date `d`, given the instants of its midnight and the next one.
    fn day_intervals(
        &self,
        d: NaiveDate,
        day_start: DateTime<Utc>,
        next_start: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        // A 24-hour day has one offset throughout: plain offsets from midnight, no tz lookup.
        let regular = next_start - day_start == TimeDelta::days(1);
        let mut prev_end = day_start;
        self.days[d.weekday().num_days_from_monday() as usize]
            .iter()
            .map(move |&(s, e)| {
                let (mut a, b) = if regular {
                    (
                        sat_add(day_start, TimeDelta::seconds(i64::from(s))),
                        sat_add(day_start, TimeDelta::seconds(i64::from(e))),
                    )
                } else {
                    let a = self.local_start(d, s);
                    let b = if e == DAY_SECS {
                        next_start
                    } else {
                        self.local_end(d, e)
                    };
                    (a, b)
                };
                // Keep intervals ordered and disjoint whatever the offsets did.
                a = a.max(prev_end);
                let b = b.max(a);
                prev_end = b;
                (a, b)
            })
    }

    fn offset_at(&self, t: DateTime<Utc>) -> TimeDelta {
        let off = self.tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        TimeDelta::seconds(i64::from(off.local_minus_utc()))
    }

    /// `Some(day_start + days)` when `day_start` is exactly local midnight of `d` and the UTC
    /// offset is the same at the start, middle and end of the span, so that no offset change
    /// lies inside it (tzdb has no modern zone changing offset twice within 3.5 days). A UTC
    /// offset lookup costs about a quarter of a local-time resolution, hence this fast path.
    fn same_offset_span(
        &self,
        d: NaiveDate,
        day_start: DateTime<Utc>,
        days: i64,
    ) -> Option<DateTime<Utc>> {
        let o = self.offset_at(day_start);
        if day_start.naive_utc() + o != d.and_time(NaiveTime::MIN) {
            return None;
        }
        let end = day_start.checked_add_signed(TimeDelta::days(days))?;
        if self.offset_at(end) != o {
            return None;
        }
        if days > 1 {
            let mid = day_start.checked_add_signed(TimeDelta::hours(days * 12))?;
            if self.offset_at(mid) != o {
                return None;
            }
        }
        Some(end)
    }

    /// The first instant of local date `d`.
    fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        self.local_start(d, 0)
    }

    fn local_start(&self, d: NaiveDate, secs: u32) -> DateTime<Utc> {
        let naive = naive_at(d, secs);
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => self.first_at_or_after(naive),
        }
    }

    fn local_end(&self, d: NaiveDate, secs: u32) -> DateTime<Utc> {
        let naive = naive_at(d, secs);
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(_, t) => t.with_timezone(&Utc),
            LocalResult::None => self.first_at_or_after(naive),
        }
    }

    /// For a local time inside a DST gap: the first instant whose wall clock reads at least
    /// `naive`, i.e. the transition. Offsets lie within ±14 h, so it is within ±26 h of `naive`
    /// read as UTC; bisection to the second (tzdb transitions fall on whole seconds).
    fn first_at_or_after(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        let guess = naive.and_utc().timestamp();
        let (mut lo, mut hi) = (guess - 26 * 3600, guess + 26 * 3600);
        let wall = |ts: i64| {
            DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.with_timezone(&self.tz).naive_local())
        };
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match wall(mid) {
                Some(w) if w >= naive => hi = mid,
                Some(_) => lo = mid,
                None => break,
            }
        }
        DateTime::<Utc>::from_timestamp(hi, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Walks local dates forward from an instant, knowing each day's first instant. Offsets are
/// probed a week at a time ([`BusinessCalendar::same_offset_span`]): in a week without an offset
/// change the midnights follow by adding 24 h, so a regular week costs three UTC-offset lookups
/// and no local-time resolution.
struct DayWalk<'a> {
    cal: &'a BusinessCalendar,
    d: NaiveDate,
    day_start: DateTime<Utc>,
    first_day: bool,
    /// Days before this date (and from `probed_from`) are known to be 24 h long.
    regular_until: NaiveDate,
    probed_from: NaiveDate,
    week_end: DateTime<Utc>,
    last_probe: Option<NaiveDate>,
    hol: usize,
}

impl<'a> DayWalk<'a> {
    fn new(cal: &'a BusinessCalendar, t: DateTime<Utc>) -> Self {
        let d = t.with_timezone(&cal.tz).date_naive();
        DayWalk {
            cal,
            d,
            day_start: cal.midnight(d),
            first_day: true,
            regular_until: d,
            probed_from: d,
            week_end: DateTime::<Utc>::MIN_UTC,
            last_probe: None,
            hol: cal.holidays.partition_point(|h| h.1 < d),
        }
    }

    fn probe(&mut self) {
        if self.d < self.regular_until || self.last_probe == Some(self.d) {
            return;
        }
        self.last_probe = Some(self.d);
        self.probed_from = self.d;
        let Some(end_d) = self.d.checked_add_days(chrono::Days::new(7)) else {
            return;
        };
        if let Some(end) = self.cal.same_offset_span(self.d, self.day_start, 7) {
            self.regular_until = end_d;
            self.week_end = end;
        }
    }

    /// When the week from today has no offset change: the start of `d+7` and the week's
    /// business time, the nominal week less the nominal hours of its holiday days.
    fn skippable_week(&mut self) -> Option<(DateTime<Utc>, TimeDelta)> {
        self.probe();
        if self.probed_from != self.d || self.regular_until <= self.d {
            return None;
        }
        let hols = &self.cal.holidays;
        while self.hol < hols.len() && hols[self.hol].1 < self.d {
            self.hol += 1;
        }
        let mut closed = 0i64;
        for &(first, last) in hols[self.hol..]
            .iter()
            .take_while(|h| h.0 < self.regular_until)
        {
            let mut day = first.max(self.d);
            while day <= last && day < self.regular_until {
                closed += self.cal.day_secs[day.weekday().num_days_from_monday() as usize];
                let Some(n) = day.succ_opt() else { break };
                day = n;
            }
        }
        Some((self.week_end, self.cal.week - TimeDelta::seconds(closed)))
    }

    fn skip_week(&mut self, end: DateTime<Utc>) -> bool {
        self.d = self.regular_until;
        self.day_start = end;
        self.first_day = false;
        true
    }

    fn next_start(&mut self) -> Option<DateTime<Utc>> {
        // Spans within one day (most clock segments) do not pay for a week probe.
        if !self.first_day {
            self.probe();
        }
        let next = self.d.succ_opt()?;
        Some(
            if next <= self.regular_until && self.d >= self.probed_from {
                sat_add(self.day_start, TimeDelta::days(1))
            } else {
                self.cal
                    .same_offset_span(self.d, self.day_start, 1)
                    .unwrap_or_else(|| self.cal.midnight(next))
            },
        )
    }

    fn holiday_today(&mut self) -> bool {
        self.cal.is_holiday(self.d, &mut self.hol)
    }

    fn advance(&mut self, next_start: DateTime<Utc>) -> bool {
        match self.d.succ_opt() {
            Some(n) => {
                self.d = n;
                self.day_start = next_start;
                self.first_day = false;
                true
            }
            None => false,
        }
    }
}

fn naive_at(d: NaiveDate, secs: u32) -> NaiveDateTime {
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap_or(NaiveTime::MIN);
    d.and_time(t)
}

fn sat_add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Reference calendars used in tests, benches and the demo seed.
pub mod presets {
    use super::*;

    /// Saudi group: Sunday–Thursday, split shift 08:00–12:00 and 13:00–17:00 (8 h), Asia/Riyadh,
    /// with the given holidays.
    pub fn riyadh(holidays: &[Holiday]) -> BusinessCalendar {
        let shift = [
            WorkingInterval {
                start: 8 * 3600,
                end: 12 * 3600,
            },
            WorkingInterval {
                start: 13 * 3600,
                end: 17 * 3600,
            },
        ];
        let week = [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
        ];
        let hours = WeeklyHours::new(week.iter().map(|w| (*w, shift.to_vec())))
            .unwrap_or_else(|_| WeeklyHours::always());
        BusinessCalendar::new(chrono_tz::Asia::Riyadh, hours, holidays)
            .unwrap_or_else(|_| BusinessCalendar::always_open(chrono_tz::Asia::Riyadh))
    }

    /// Saudi public holidays of 1447 AH / 2026 as data: Founding Day (22 Feb), Eid al-Fitr,
    /// Eid al-Adha, National Day (23 Sep). Eid dates are the expected ones and move each year.
    pub fn saudi_holidays_2026() -> Vec<Holiday> {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        vec![
            Holiday::day("Founding Day", d(2026, 2, 22)),
            Holiday {
                name: "Eid al-Fitr".into(),
                first: d(2026, 3, 19),
                last: d(2026, 3, 24),
            },
            Holiday {
                name: "Eid al-Adha".into(),
                first: d(2026, 5, 25),
                last: d(2026, 5, 30),
            },
            Holiday::day("National Day", d(2026, 9, 23)),
        ]
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;

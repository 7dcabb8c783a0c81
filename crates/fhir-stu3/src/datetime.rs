//! FHIR `date` / `dateTime` with partial precision, read leniently.

use crate::read::{Ctx, Path};

/// A date or dateTime as sent, plus its parsed value when it could be parsed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FhirDateTime {
    /// The text exactly as in the input (kept for narratives when it cannot be parsed).
    pub raw: String,
    pub value: Option<PartialDateTime>,
}

/// A point in time to the precision the source gave (year, month, day, minute or second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartialDateTime {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
    /// Hour and minute.
    pub time: Option<(u8, u8)>,
    pub second: Option<u8>,
    /// Offset from UTC in minutes; `None` when the source sent a time without a zone.
    pub offset_minutes: Option<i16>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl FhirDateTime {
    pub(crate) fn read(ctx: &mut Ctx<'_>, path: Path<'_>, raw: String) -> Self {
        match PartialDateTime::parse(&raw) {
            Some(v) => {
                if v.time.is_some() && v.offset_minutes.is_none() {
                    ctx.warn(
                        path,
                        format!("the dateTime {raw:?} has no timezone; read as local time"),
                    );
                }
                if raw.contains(' ') {
                    ctx.warn(
                        path,
                        format!("the dateTime {raw:?} uses a space instead of 'T'"),
                    );
                }
                Self {
                    raw,
                    value: Some(v),
                }
            }
            None => {
                ctx.warn(
                    path,
                    format!("{raw:?} is not a valid FHIR date or dateTime; kept as text only"),
                );
                Self { raw, value: None }
            }
        }
    }

    /// Parses without recording warnings (for tests and callers holding plain text).
    pub fn parse(raw: &str) -> Self {
        Self {
            raw: raw.to_owned(),
            value: PartialDateTime::parse(raw),
        }
    }
}

fn num(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl PartialDateTime {
    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` and `YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (date, rest) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mut parts = date.split('-');
        let year = num(parts.next()?, 4)? as u16;
        if year == 0 {
            return None;
        }
        let month = parts
            .next()
            .map(|m| num(m, 2))
            .map_or(Ok(None), |m| m.map(|v| Some(v as u8)).ok_or(()));
        let month = month.ok()?;
        let day = parts
            .next()
            .map(|d| num(d, 2))
            .map_or(Ok(None), |d| d.map(|v| Some(v as u8)).ok_or(()));
        let day = day.ok()?;
        if parts.next().is_some() {
            return None;
        }
        if let Some(m) = month
            && !(1..=12).contains(&m)
        {
            return None;
        }
        if let Some(d) = day {
            let m = month?;
            if d == 0 || d > days_in_month(year, m) {
                return None;
            }
        }
        let mut out = Self {
            year,
            month,
            day,
            time: None,
            second: None,
            offset_minutes: None,
        };
        let Some(rest) = rest else {
            return Some(out);
        };
        day?;
        // Split the zone off the time.
        let (time, zone) = if let Some(t) = rest.strip_suffix('Z') {
            (t, Some(0i16))
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let z = &rest[i..];
            let sign: i16 = if z.starts_with('-') { -1 } else { 1 };
            let zz = &z[1..];
            let (h, m) = zz.split_once(':').unwrap_or((zz.get(..2)?, zz.get(2..)?));
            let h = num(h, 2)? as i16;
            let m = num(m, 2)? as i16;
            if h > 14 || m > 59 {
                return None;
            }
            (&rest[..i], Some(sign * (h * 60 + m)))
        } else {
            (rest, None)
        };
        let mut tp = time.split(':');
        let h = num(tp.next()?, 2)? as u8;
        let mi = num(tp.next()?, 2)? as u8;
        let sec = match tp.next() {
            Some(sec) => {
                let whole = sec.split('.').next().unwrap_or(sec);
                if let Some(frac) = sec.split('.').nth(1)
                    && !frac.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                Some(num(whole, 2)? as u8)
            }
            None => None,
        };
        if tp.next().is_some() || h > 23 || mi > 59 || sec.is_some_and(|s| s > 60) {
            return None;
        }
        out.time = Some((h, mi));
        out.second = sec;
        out.offset_minutes = zone;
        Some(out)
    }

    /// HL7 V3 TS literal: `YYYY[MM[DD[HHMM[SS][±ZZZZ]]]]`.
    pub fn to_hl7(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(19);
        let _ = write!(s, "{:04}", self.year);
        if let Some(m) = self.month {
            let _ = write!(s, "{m:02}");
        }
        if let Some(d) = self.day {
            let _ = write!(s, "{d:02}");
        }
        if let Some((h, mi)) = self.time {
            let _ = write!(s, "{h:02}{mi:02}");
            if let Some(sec) = self.second {
                let _ = write!(s, "{sec:02}");
            }
            if let Some(off) = self.offset_minutes {
                let sign = if off < 0 { '-' } else { '+' };
                let a = off.unsigned_abs();
                let _ = write!(s, "{sign}{:02}{:02}", a / 60, a % 60);
            }
        }
        s
    }

    /// A key that orders instants (converted to UTC where a zone is known) at whatever
    /// precision they have; missing parts sort first.
    pub fn sort_key(&self) -> (u16, u8, u8, i32) {
        let minutes = self
            .time
            .map(|(h, m)| {
                i32::from(h) * 60 + i32::from(m) - i32::from(self.offset_minutes.unwrap_or(0))
            })
            .unwrap_or(0);
        (
            self.year,
            self.month.unwrap_or(0),
            self.day.unwrap_or(0),
            minutes,
        )
    }

    /// How a UK clinician reads it: `21-Apr-1925`, `Apr-1925`, `1925`, or with `10:30`.
    pub fn to_display(&self) -> String {
        let mut s = String::new();
        if let Some(d) = self.day {
            s.push_str(&format!("{d:02}-"));
        }
        if let Some(m) = self.month {
            s.push_str(MONTHS[usize::from(m.clamp(1, 12)) - 1]);
            s.push('-');
        }
        s.push_str(&format!("{:04}", self.year));
        if let Some((h, mi)) = self.time
            && (h, mi) != (0, 0)
        {
            s.push_str(&format!(" {h:02}:{mi:02}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precisions() {
        let p = |s| PartialDateTime::parse(s).map(|v| v.to_hl7());
        assert_eq!(p("1925"), Some("1925".into()));
        assert_eq!(p("1925-04"), Some("192504".into()));
        assert_eq!(p("1925-04-21"), Some("19250421".into()));
        assert_eq!(
            p("2019-03-28T10:30:00+00:00"),
            Some("20190328103000+0000".into())
        );
        assert_eq!(
            p("2019-03-28T10:30:00.123-05:30"),
            Some("20190328103000-0530".into())
        );
        assert_eq!(
            p("2019-03-28T10:30:00Z"),
            Some("20190328103000+0000".into())
        );
        assert_eq!(p("2019-03-28T10:30:00"), Some("20190328103000".into()));
    }

    #[test]
    fn malformed() {
        for s in [
            "19",
            "",
            "2019-13-01",
            "2019-02-30",
            "2019-02-03T25:00",
            "abcd",
            "2019-1-1",
            "2019-01-01T10",
        ] {
            assert_eq!(PartialDateTime::parse(s), None, "{s}");
        }
    }

    #[test]
    fn display() {
        let d = PartialDateTime::parse("1925-04-21").expect("valid");
        assert_eq!(d.to_display(), "21-Apr-1925");
        let d = PartialDateTime::parse("2019-03-28T10:30:00+00:00").expect("valid");
        assert_eq!(d.to_display(), "28-Mar-2019 10:30");
    }
}

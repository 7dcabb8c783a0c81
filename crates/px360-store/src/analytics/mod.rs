//! Analytics storage (issue 17): the daily survey roll-ups and the KPI reads.
//!
//! - [`rollup`]: maintenance of `analytics_daily` (migration 0013): recompute one hospital-day
//!   from the raw invitations and responses, the scheduler's incremental refresh (watermark on
//!   `updated_at`) and the full rebuild;
//! - [`survey`]: survey KPIs (response rate, NPS, CSAT, HCAHPS items) read from the roll-ups for
//!   any filter and range of local days, with breakdowns and daily series;
//! - [`physicians`]: physician ratings from the physician-tagged questions;
//! - [`cases`]: complaints, SLA compliance and PX actions, read live from their tables (orders
//!   of magnitude fewer rows than responses, and their state changes with time);
//! - [`generate`]: synthetic responses for the scale benchmark.
//!
//! Every read takes an [`AnalyticsFilter`] whose hospital and department the API sets from the
//! caller's scope: the scope is a `WHERE` condition of the SQL, never a filter applied after.

pub mod cases;
pub mod generate;
pub mod physicians;
pub mod rollup;
pub mod survey;

use chrono::NaiveDate;
use chrono_tz::Tz;
use uuid::Uuid;

/// What a KPI read covers. `None` means every value of that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyticsFilter {
    pub hospital: Option<Uuid>,
    pub department: Option<Uuid>,
    pub physician: Option<Uuid>,
    pub journey_template: Option<Uuid>,
    pub stage_code: Option<String>,
    pub channel: Option<String>,
    pub language: Option<String>,
}

/// Local days `[from, to)`, in each hospital's own time zone (a roll-up row's `day` already is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        DayRange { from, to }
    }

    fn bounds(&self) -> (String, String) {
        (day_text(self.from), day_text(self.to))
    }
}

pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A roll-up dimension that can break a KPI down (drill-down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Hospital,
    Department,
    Physician,
    Journey,
    Stage,
    Channel,
    Language,
    Day,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Hospital,
        Dimension::Department,
        Dimension::Physician,
        Dimension::Journey,
        Dimension::Stage,
        Dimension::Channel,
        Dimension::Language,
        Dimension::Day,
    ];

    /// The column (a literal: never built from input).
    pub(crate) fn column(self) -> &'static str {
        match self {
            Dimension::Hospital => "hospital_id",
            Dimension::Department => "department_id",
            Dimension::Physician => "physician_id",
            Dimension::Journey => "journey_template_id",
            Dimension::Stage => "stage_code",
            Dimension::Channel => "channel",
            Dimension::Language => "language",
            Dimension::Day => "day",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Hospital => "hospital",
            Dimension::Department => "department",
            Dimension::Physician => "physician",
            Dimension::Journey => "journey",
            Dimension::Stage => "stage",
            Dimension::Channel => "channel",
            Dimension::Language => "language",
            Dimension::Day => "day",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A hospital's zone, UTC when the stored name does not parse (it is validated on write).
pub(crate) fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// `WHERE` conditions of a roll-up read: the filter and the day range, with their binds.
pub(crate) struct Where {
    conds: Vec<String>,
    binds: Vec<String>,
}

impl Where {
    pub(crate) fn new(f: &AnalyticsFilter, range: &DayRange) -> Self {
        let mut w = Where {
            conds: Vec::new(),
            binds: Vec::new(),
        };
        let (from, to) = range.bounds();
        w.push("day >=", from);
        w.push("day <", to);
        if let Some(h) = f.hospital {
            w.push("hospital_id =", h.to_string());
        }
        if let Some(d) = f.department {
            w.push("department_id =", d.to_string());
        }
        if let Some(p) = f.physician {
            w.push("physician_id =", p.to_string());
        }
        if let Some(j) = f.journey_template {
            w.push("journey_template_id =", j.to_string());
        }
        if let Some(s) = &f.stage_code {
            w.push("stage_code =", s.clone());
        }
        if let Some(c) = &f.channel {
            w.push("channel =", c.clone());
        }
        if let Some(l) = &f.language {
            w.push("language =", l.clone());
        }
        w
    }

    fn push(&mut self, cond: &'static str, v: String) {
        self.binds.push(v);
        self.conds.push(format!("{cond} ${}", self.binds.len()));
    }

    /// A fixed condition (a literal of the calling query).
    pub(crate) fn raw(&mut self, cond: &'static str) {
        self.conds.push(cond.to_owned());
    }

    pub(crate) fn sql(&self) -> String {
        format!("WHERE {}", self.conds.join(" AND "))
    }

    pub(crate) fn binds(&self) -> &[String] {
        &self.binds
    }
}

//! What the complaint and action pages share: choices for selects, people's names, the SLA
//! clock as a page shows it (elapsed, remaining, due in the hospital's zone with the zone named,
//! paused, breached, cycles), and who may see patient identifiers.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{Stamp, stamp};
use chrono::{DateTime, TimeDelta, Utc};
use fluent_templates::fluent_bundle::FluentValue;
use px360_api::AppState;
use px360_domain::rbac::{Principal, Role};
use px360_domain::sla::{Evaluation, Goal, SlaState, SlaStatus};
use px360_store::complaints::Category;
use px360_store::org::ScopeFilter;
use std::collections::HashMap;
use uuid::Uuid;

/// One option of a select.
pub struct Pick {
    pub value: String,
    pub label: Label,
    pub selected: bool,
}

impl Pick {
    pub fn msg(value: &str, text: String, selected: &str) -> Pick {
        Pick {
            value: value.to_owned(),
            label: Label { text, data: false },
            selected: value == selected,
        }
    }

    pub fn data(value: &str, text: &str, selected: &str) -> Pick {
        Pick {
            value: value.to_owned(),
            label: Label::data(text),
            selected: value == selected,
        }
    }
}

/// Choices from codes with catalogue labels `<prefix>-<code>`, after an optional empty choice.
pub fn coded(
    t: &Tr,
    prefix: &str,
    codes: &[&str],
    selected: &str,
    none: Option<&str>,
) -> Vec<Pick> {
    let mut v: Vec<Pick> = none
        .map(|k| Pick::msg("", t.get(k), selected))
        .into_iter()
        .collect();
    v.extend(
        codes
            .iter()
            .map(|c| Pick::msg(c, t.get(&format!("{prefix}-{c}")), selected)),
    );
    v
}

pub const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// Category names in the page's language (the taxonomy is stored in both).
pub struct Categories(pub Vec<Category>);

impl Categories {
    pub async fn load(st: &AppState) -> Result<Self, UiError> {
        Ok(Categories(st.db.complaint_categories(false).await?))
    }

    pub fn name(&self, t: &Tr, code: &str) -> Label {
        match self.0.iter().find(|c| c.code == code) {
            Some(c) if t.0 == crate::i18n::Lang::Ar => Label {
                text: c.name_ar.clone(),
                data: false,
            },
            Some(c) => Label {
                text: c.name_en.clone(),
                data: false,
            },
            None => Label::data(code),
        }
    }

    /// The active categories as choices (an inactive one only when it is the selected value).
    pub fn picks(&self, t: &Tr, selected: &str, none: Option<&str>) -> Vec<Pick> {
        let mut v: Vec<Pick> = none
            .map(|k| Pick::msg("", t.get(k), selected))
            .into_iter()
            .collect();
        v.extend(
            self.0
                .iter()
                .filter(|c| c.is_active || c.code == selected)
                .map(|c| Pick {
                    value: c.code.clone(),
                    label: self.name(t, &c.code),
                    selected: c.code == selected,
                }),
        );
        v
    }
}

/// Display names of the accounts a page mentions (assignees, owners, authors).
pub struct People {
    pub names: HashMap<Uuid, String>,
    pub users: Vec<px360_store::auth::UserRow>,
}

impl People {
    pub async fn load(st: &AppState) -> Result<Self, UiError> {
        let users = st.db.users(&ScopeFilter::default()).await?;
        Ok(People {
            names: users
                .iter()
                .map(|u| (u.id, u.display_name.clone()))
                .collect(),
            users,
        })
    }

    pub fn name(&self, id: Option<Uuid>) -> Option<String> {
        id.map(|id| {
            self.names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        })
    }

    /// Active accounts that may work on an object at `at` (`resource`'s update permission):
    /// the choices for assigning or reassigning it.
    pub fn able(
        &self,
        resource: px360_domain::rbac::Resource,
        at: &px360_domain::rbac::ObjectScope,
        selected: &str,
    ) -> Vec<Pick> {
        self.users
            .iter()
            .filter(|u| u.is_active)
            .filter(|u| {
                Principal::new(u.id, u.role, u.hospital_id, u.department_id)
                    .is_ok_and(|p| p.may(resource, px360_domain::rbac::Action::Update, at))
            })
            .map(|u| Pick::data(&u.id.to_string(), &u.display_name, selected))
            .collect()
    }
}

/// Patient identifiers (MRN, complainant contact) are shown in full from PX Coordinator up and
/// masked below.
pub fn sees_patient(p: &Principal) -> bool {
    p.role().level() >= Role::PxCoordinator.level()
}

/// A duration as hours and minutes in the page's language (`-` when negative: overdue by).
pub fn span(t: &Tr, d: TimeDelta) -> String {
    let mins = d.num_minutes().abs();
    t.with(
        "sla-span",
        &[
            ("h", FluentValue::from(mins / 60)),
            ("m", FluentValue::from(mins % 60)),
        ],
    )
}

/// A change of state, `from → to` in the reading direction (the arrow points left in Arabic).
pub fn change(t: &Tr, from: &str, to: &str) -> String {
    let arrow = if t.0.dir() == "rtl" { "←" } else { "→" };
    format!("{from} {arrow} {to}")
}

/// An instant as wall-clock time in the hospital's zone, the zone named.
pub fn at(t: &Tr, when: DateTime<Utc>, zone: &str) -> Stamp {
    stamp(t, &px360_store::ts(when), zone)
}

pub fn at_opt(t: &Tr, when: Option<DateTime<Utc>>, zone: &str) -> Option<Stamp> {
    when.map(|w| at(t, w, zone))
}

/// One goal of the current cycle, ready for the page.
pub struct GoalView {
    pub label: String,
    pub status: String,
    pub badge: &'static str,
    pub elapsed: String,
    /// Remaining business time, or how long ago it was breached.
    pub remaining: String,
    pub due: Option<Stamp>,
    pub breached: Option<Stamp>,
    /// When the goal was met (or stopped).
    pub stopped: Option<Stamp>,
    pub paused: bool,
}

/// The SLA clock of an item as the page shows it.
pub struct ClockView {
    pub goals: Vec<GoalView>,
    pub cycle: usize,
    pub cycles: usize,
    pub paused: bool,
    pub breached: bool,
}

fn status_key(s: SlaStatus) -> (&'static str, &'static str) {
    match s {
        SlaStatus::OnTrack => ("sla-status-on_track", "text-bg-success"),
        SlaStatus::AtRisk => ("sla-status-at_risk", "text-bg-warning"),
        SlaStatus::Breached => ("sla-status-breached", "text-bg-danger"),
        SlaStatus::Met => ("sla-status-met", "text-bg-secondary"),
        SlaStatus::Paused => ("sla-status-paused", "text-bg-info"),
    }
}

fn goal_view(t: &Tr, s: &SlaState, zone: &str) -> GoalView {
    let (key, badge) = status_key(s.status);
    let label = match s.goal {
        Goal::FirstResponse => "sla-goal-first_response",
        Goal::Resolution => "sla-goal-resolution",
        Goal::NextUpdate => "sla-goal-next_update",
    };
    let remaining = if s.remaining < TimeDelta::zero() {
        t.with(
            "sla-overdue-by",
            &[("span", FluentValue::from(span(t, s.remaining)))],
        )
    } else {
        span(t, s.remaining)
    };
    GoalView {
        label: t.get(label),
        status: t.get(key),
        badge,
        elapsed: span(t, s.elapsed),
        remaining,
        due: at_opt(t, s.due_at, zone),
        breached: at_opt(t, s.breached_at, zone),
        stopped: at_opt(t, s.stopped_at, zone),
        paused: s.paused,
    }
}

/// The current cycle's first-response and resolution goals (the next-update goal too, when the
/// policy has one).
pub fn clock_view(t: &Tr, e: &Evaluation, zone: &str) -> ClockView {
    let cur = e.current();
    let goals: Vec<GoalView> = cur
        .map(|c| c.goals.iter().map(|g| goal_view(t, g, zone)).collect())
        .unwrap_or_default();
    ClockView {
        paused: cur.is_some_and(|c| c.goals.iter().any(|g| g.paused)),
        breached: cur.is_some_and(|c| c.goals.iter().any(|g| g.breached_at.is_some())),
        cycle: cur.map_or(1, |c| c.number as usize),
        cycles: e.cycles.len(),
        goals,
    }
}

/// A list row's SLA state: breached, paused, met (`done`: resolved or closed), stopped, or the
/// wall-clock time left to the resolution due moment.
pub fn row_sla(
    t: &Tr,
    done: bool,
    open: bool,
    paused: bool,
    due: Option<DateTime<Utc>>,
    breached: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (String, &'static str) {
    if breached.is_some() || due.is_some_and(|d| d < now && open) {
        (t.get("sla-status-breached"), "text-bg-danger")
    } else if done {
        (t.get("sla-status-met"), "text-bg-secondary")
    } else if paused {
        (t.get("sla-status-paused"), "text-bg-info")
    } else if !open || due.is_none() {
        (t.get("sla-status-stopped"), "text-bg-secondary")
    } else {
        let left = due.map(|d| d - now).unwrap_or_default();
        (
            t.with("sla-left", &[("span", FluentValue::from(span(t, left)))]),
            "text-bg-success",
        )
    }
}

/// The hospital's IANA zone name (UTC when unknown).
pub async fn zone_of(st: &AppState, hospital: Uuid) -> String {
    st.db
        .hospital(&hospital.to_string())
        .await
        .map(|h| h.timezone.name().to_owned())
        .unwrap_or_else(|_| "UTC".into())
}

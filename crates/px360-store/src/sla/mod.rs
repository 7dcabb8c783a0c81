//! SLA storage: per-hospital business calendars, policies and escalation ladders ([`config`]),
//! every item's clock history and its evaluated state ([`clock`]), and the breach scan with its
//! escalations and notifications ([`scan`]).
//!
//! The domain's clock is a pure function of an item's history, so the store keeps only the
//! history (`sla_events`) plus, in `sla_clocks`, the evaluation the lists and the scheduler need
//! (due moments, breached/warned, and `next_check_at`, the next instant the clock changes by
//! itself). Any change of history, calendar or policy re-evaluates; nothing is patched in place.

pub mod clock;
pub mod config;
pub mod recompute;
pub mod scan;

use serde::{Deserialize, Serialize};

/// What an SLA clock belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Complaint,
    Action,
    /// A call-centre callback: its due time is the first-response goal of its clock.
    Callback,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Complaint => "complaint",
            ItemKind::Action => "action",
            ItemKind::Callback => "callback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complaint" => Some(ItemKind::Complaint),
            "action" => Some(ItemKind::Action),
            "callback" => Some(ItemKind::Callback),
            _ => None,
        }
    }
}

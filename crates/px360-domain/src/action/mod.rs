//! Complaint and PX action lifecycles as pure state machines, and when actions are raised
//! ([`origin`]: from negative survey responses, from complaints, by hand).
//!
//! Each `apply` takes the current lifecycle projection, a command and the acting principal, and
//! returns the next projection plus the domain events to audit, or a specific error. Scope (is
//! this complaint in the principal's hospital/department?) is the RBAC matrix's job at the API;
//! these machines decide what the role and the person (assignee, owner, second verifier) may do.
//! Status changes convert into SLA clock events with `sla_event`, so the SLA history is a
//! by-product of the lifecycle, never maintained separately.

pub mod complaint;
pub mod origin;
pub mod px_action;

use crate::rbac::{Principal, Role};

/// Free-text fields that a transition requires (resolution summary, reasons) are bounded.
pub const MAX_TEXT: usize = 4_000;

fn text_ok(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().count() <= MAX_TEXT
}

fn at_least(p: &Principal, r: Role) -> bool {
    p.role().level() >= r.level()
}

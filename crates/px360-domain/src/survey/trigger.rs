//! The send decision for a completed journey stage that references a survey: a pure function of
//! the stage, the template's trigger policy, the patient's contact situation, their invitation
//! history and `now`, so that the worker can record it (with its reason) and a retry decides the
//! same.

use super::channel::{Channel, ChannelSet, ContactInfo, NoChannel, choose};
use super::quiet::QuietHours;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const MAX_REMINDERS: u8 = 5;
pub const MAX_DELAY_MINUTES: u32 = 30 * 24 * 60;
pub const MAX_EXPIRY_HOURS: u32 = 90 * 24;
pub const MAX_RECONTACT_DAYS: u16 = 365;

/// When and how a template's invitations go out. Built only through [`TriggerPolicy::new`] or
/// its JSON form, both of which check the bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRaw", into = "PolicyRaw")]
pub struct TriggerPolicy {
    raw: PolicyRaw,
}

/// JSON form; every field has a default, so `{}` is the default policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyRaw {
    /// Percentage of completed stages that get a survey (0–100).
    pub sampling_percent: u8,
    /// No new invitation within this many days of another to the same patient.
    pub recontact_days: u16,
    pub delay_minutes: u32,
    /// `None` = no quiet hours.
    pub quiet_hours: Option<QuietHours>,
    pub expiry_hours: u32,
    pub reminder_count: u8,
    pub reminder_spacing_hours: u32,
    pub channel_order: Vec<Channel>,
}

impl Default for PolicyRaw {
    fn default() -> Self {
        let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        PolicyRaw {
            sampling_percent: 100,
            recontact_days: 7,
            delay_minutes: 0,
            quiet_hours: QuietHours::new(hm(21), hm(8)).ok(),
            expiry_hours: 7 * 24,
            reminder_count: 1,
            reminder_spacing_hours: 48,
            channel_order: Channel::DEFAULT_ORDER.to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("sampling percentage must be 0–100")]
    Sampling,
    #[error("recontact window must be at most {MAX_RECONTACT_DAYS} days")]
    Recontact,
    #[error("delay must be at most {MAX_DELAY_MINUTES} minutes")]
    Delay,
    #[error("expiry must be 1–{MAX_EXPIRY_HOURS} hours")]
    Expiry,
    #[error("at most {MAX_REMINDERS} reminders, spaced 1 hour or more and less than the expiry")]
    Reminders,
    #[error("channel order must list each channel at most once, and at least one")]
    Channels,
}

impl TryFrom<PolicyRaw> for TriggerPolicy {
    type Error = PolicyError;
    fn try_from(raw: PolicyRaw) -> Result<Self, Self::Error> {
        TriggerPolicy::new(raw)
    }
}

impl From<TriggerPolicy> for PolicyRaw {
    fn from(p: TriggerPolicy) -> Self {
        p.raw
    }
}

impl TriggerPolicy {
    pub fn new(raw: PolicyRaw) -> Result<Self, PolicyError> {
        if raw.sampling_percent > 100 {
            return Err(PolicyError::Sampling);
        }
        if raw.recontact_days > MAX_RECONTACT_DAYS {
            return Err(PolicyError::Recontact);
        }
        if raw.delay_minutes > MAX_DELAY_MINUTES {
            return Err(PolicyError::Delay);
        }
        if !(1..=MAX_EXPIRY_HOURS).contains(&raw.expiry_hours) {
            return Err(PolicyError::Expiry);
        }
        if raw.reminder_count > MAX_REMINDERS
            || (raw.reminder_count > 0
                && !(1..raw.expiry_hours).contains(&raw.reminder_spacing_hours))
        {
            return Err(PolicyError::Reminders);
        }
        let set = ChannelSet::of(&raw.channel_order);
        let distinct = Channel::ALL.iter().filter(|c| set.contains(**c)).count();
        if raw.channel_order.is_empty() || distinct != raw.channel_order.len() {
            return Err(PolicyError::Channels);
        }
        Ok(TriggerPolicy { raw })
    }

    pub fn settings(&self) -> &PolicyRaw {
        &self.raw
    }
}

/// An earlier (or already scheduled) invitation to the same patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastInvitation {
    pub stage_instance_id: Uuid,
    pub send_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
pub struct TriggerInput<'a> {
    pub now: DateTime<Utc>,
    pub journey_instance_id: Uuid,
    pub stage_instance_id: Uuid,
    pub stage_completed_at: DateTime<Utc>,
    /// The hospital's time zone, for quiet hours.
    pub time_zone: Tz,
    pub contact: ContactInfo,
    /// The patient's invitations inside (at least) the recontact window, and any for this stage.
    pub history: &'a [PastInvitation],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub channel: Channel,
    pub send_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Strictly increasing, all before `expires_at`, none in quiet hours.
    pub reminders: Vec<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// This stage instance was already invited (a repeated stage completion).
    Duplicate,
    NoConsent,
    NotSampled,
    /// No address on any channel the policy allows.
    NoUsableChannel,
    /// Reachable only on channels the patient opted out of.
    OptedOut,
    /// Another invitation within the recontact window.
    RecontactedRecently,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Duplicate => "duplicate",
            SkipReason::NoConsent => "no_consent",
            SkipReason::NotSampled => "not_sampled",
            SkipReason::NoUsableChannel => "no_usable_channel",
            SkipReason::OptedOut => "opted_out",
            SkipReason::RecontactedRecently => "recontacted_recently",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    Send(Invitation),
    Skip { reason: SkipReason },
}

/// Deterministic sampling: the same journey and stage instance always fall on the same side, so
/// a retried or replayed completion decides the same. Uniform over 0.00–99.99.
pub fn sampled(journey_instance_id: Uuid, stage_instance_id: Uuid, percent: u8) -> bool {
    let mut h = Sha256::new();
    h.update(journey_instance_id.as_bytes());
    h.update(stage_instance_id.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first) % 10_000 < u64::from(percent) * 100
}

pub fn decide(policy: &TriggerPolicy, input: &TriggerInput<'_>) -> Decision {
    let p = &policy.raw;
    let skip = |reason| Decision::Skip { reason };
    if input
        .history
        .iter()
        .any(|h| h.stage_instance_id == input.stage_instance_id)
    {
        return skip(SkipReason::Duplicate);
    }
    if !input.contact.consent {
        return skip(SkipReason::NoConsent);
    }
    if !sampled(
        input.journey_instance_id,
        input.stage_instance_id,
        p.sampling_percent,
    ) {
        return skip(SkipReason::NotSampled);
    }
    let channel = match choose(&p.channel_order, &input.contact) {
        Ok(c) => c,
        Err(NoChannel::Unreachable) => return skip(SkipReason::NoUsableChannel),
        Err(NoChannel::OptedOut) => return skip(SkipReason::OptedOut),
    };
    let shift = |t: DateTime<Utc>| match &p.quiet_hours {
        Some(q) => q.next_allowed(t, input.time_zone),
        None => t,
    };
    // A late worker never schedules into the past.
    let due =
        (input.stage_completed_at + Duration::minutes(i64::from(p.delay_minutes))).max(input.now);
    let send_at = shift(due);
    // The window is measured at the moment the patient would be contacted, in both directions:
    // an invitation already scheduled for later counts too.
    let window = Duration::days(i64::from(p.recontact_days));
    if input
        .history
        .iter()
        .any(|h| (send_at - h.send_at).abs() < window)
    {
        return skip(SkipReason::RecontactedRecently);
    }
    let expires_at = send_at + Duration::hours(i64::from(p.expiry_hours));
    let mut reminders = Vec::with_capacity(usize::from(p.reminder_count));
    let mut prev = send_at;
    for _ in 0..p.reminder_count {
        let r = shift(prev + Duration::hours(i64::from(p.reminder_spacing_hours)));
        if r >= expires_at {
            break;
        }
        reminders.push(r);
        prev = r;
    }
    Decision::Send(Invitation {
        channel,
        send_at,
        expires_at,
        reminders,
    })
}

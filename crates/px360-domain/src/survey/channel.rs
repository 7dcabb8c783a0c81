//! Delivery channels, a patient's reachable channels and opt-outs, and the choice among them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Whatsapp,
    Sms,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Whatsapp, Channel::Sms, Channel::Email];
    /// The default preference: WhatsApp is read most in the Gulf, SMS reaches every phone,
    /// email is last.
    pub const DEFAULT_ORDER: [Channel; 3] = Self::ALL;

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    fn bit(self) -> u8 {
        match self {
            Channel::Whatsapp => 1,
            Channel::Sms => 2,
            Channel::Email => 4,
        }
    }
}

/// A set of channels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChannelSet(u8);

impl ChannelSet {
    pub const EMPTY: ChannelSet = ChannelSet(0);

    pub fn of(channels: &[Channel]) -> Self {
        ChannelSet(channels.iter().fold(0, |acc, c| acc | c.bit()))
    }
    pub fn contains(self, c: Channel) -> bool {
        self.0 & c.bit() != 0
    }
    pub fn with(self, c: Channel) -> Self {
        ChannelSet(self.0 | c.bit())
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What the trigger needs to know about a patient's contact details, without the details
/// themselves: which channels have an address, which the patient opted out of (a STOP reply, an
/// unsubscribe link), consent, and an optional own preference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactInfo {
    /// Channels with a usable address: a mobile number enables SMS (and WhatsApp when the number
    /// is known to be on WhatsApp), an email address enables email.
    pub reachable: ChannelSet,
    pub opted_out: ChannelSet,
    /// Consent to be contacted for patient-experience surveys.
    pub consent: bool,
    pub preferred: Option<Channel>,
}

/// Why no channel could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoChannel {
    /// No address on any channel the policy allows.
    Unreachable,
    /// Reachable, but opted out of every such channel.
    OptedOut,
}

/// The first channel in `order` (after the patient's own preference, when the policy allows it)
/// that is reachable and not opted out of.
pub fn choose(order: &[Channel], contact: &ContactInfo) -> Result<Channel, NoChannel> {
    let allowed = ChannelSet::of(order);
    let usable = |c: Channel| {
        allowed.contains(c) && contact.reachable.contains(c) && !contact.opted_out.contains(c)
    };
    if let Some(p) = contact.preferred
        && usable(p)
    {
        return Ok(p);
    }
    if let Some(c) = order.iter().copied().find(|c| usable(*c)) {
        return Ok(c);
    }
    if order.iter().any(|c| contact.reachable.contains(*c)) {
        Err(NoChannel::OptedOut)
    } else {
        Err(NoChannel::Unreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(reachable: &[Channel], opted_out: &[Channel]) -> ContactInfo {
        ContactInfo {
            reachable: ChannelSet::of(reachable),
            opted_out: ChannelSet::of(opted_out),
            consent: true,
            preferred: None,
        }
    }

    #[test]
    fn default_order_is_whatsapp_sms_email_restricted_to_what_the_patient_has() {
        use Channel::*;
        let o = &Channel::DEFAULT_ORDER;
        assert_eq!(
            choose(o, &contact(&[Email, Sms, Whatsapp], &[])),
            Ok(Whatsapp)
        );
        assert_eq!(choose(o, &contact(&[Email, Sms], &[])), Ok(Sms));
        assert_eq!(
            choose(o, &contact(&[Email, Sms, Whatsapp], &[Whatsapp])),
            Ok(Sms)
        );
        assert_eq!(choose(o, &contact(&[Email, Sms], &[Sms])), Ok(Email));
        assert_eq!(
            choose(o, &contact(&[Sms], &[Sms])),
            Err(NoChannel::OptedOut)
        );
        assert_eq!(
            choose(o, &contact(&[], &[Sms])),
            Err(NoChannel::Unreachable)
        );
        // A policy that only allows email ignores the phone.
        assert_eq!(
            choose(&[Email], &contact(&[Sms], &[])),
            Err(NoChannel::Unreachable)
        );
        let mut c = contact(&[Email, Sms, Whatsapp], &[]);
        c.preferred = Some(Email);
        assert_eq!(choose(o, &c), Ok(Email));
        c.opted_out = ChannelSet::of(&[Email]);
        assert_eq!(
            choose(o, &c),
            Ok(Whatsapp),
            "an opted-out preference is ignored"
        );
        assert_eq!(Channel::parse("sms"), Some(Sms));
        assert!(ChannelSet::EMPTY.with(Sms).contains(Sms));
    }
}

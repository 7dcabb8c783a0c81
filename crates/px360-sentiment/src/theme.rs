//! The themes a comment can be about.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    WaitingTime,
    StaffAttitude,
    Cleanliness,
    Billing,
    Communication,
    PainManagement,
    Food,
    ParkingAccess,
    Discharge,
    Appointment,
    Medication,
    PhysicianCare,
    NursingCare,
}

impl Theme {
    pub const ALL: [Theme; 13] = [
        Theme::WaitingTime,
        Theme::StaffAttitude,
        Theme::Cleanliness,
        Theme::Billing,
        Theme::Communication,
        Theme::PainManagement,
        Theme::Food,
        Theme::ParkingAccess,
        Theme::Discharge,
        Theme::Appointment,
        Theme::Medication,
        Theme::PhysicianCare,
        Theme::NursingCare,
    ];

    /// Stable id used in lexicon files, the evaluation set and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::WaitingTime => "waiting_time",
            Theme::StaffAttitude => "staff_attitude",
            Theme::Cleanliness => "cleanliness",
            Theme::Billing => "billing",
            Theme::Communication => "communication",
            Theme::PainManagement => "pain_management",
            Theme::Food => "food",
            Theme::ParkingAccess => "parking_access",
            Theme::Discharge => "discharge",
            Theme::Appointment => "appointment",
            Theme::Medication => "medication",
            Theme::PhysicianCare => "physician_care",
            Theme::NursingCare => "nursing_care",
        }
    }

    pub fn parse(id: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == id)
    }

    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A small set of themes as a bit mask (13 themes fit in a u16).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ThemeSet(pub u16);

impl ThemeSet {
    pub fn insert(&mut self, t: Theme) {
        self.0 |= t.bit();
    }
    pub fn union(&mut self, o: ThemeSet) {
        self.0 |= o.0;
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Theme> {
        Theme::ALL
            .into_iter()
            .filter(move |t| self.0 & t.bit() != 0)
    }
}

//! Placing a mention by hand. The matcher leaves a mention at group level when it names no
//! configured hospital (unmatched) or several (ambiguous); someone who sees the whole group then
//! decides which hospital it is about. Only those two are assignable: a located mention (or our
//! own post) already has its hospital, and moving it would silently move its complaint or
//! action too. Assigning again to the same hospital is a retry and changes nothing.

use super::matching::Location;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignError {
    /// The matcher placed it at a hospital (or it is our own post), or it was assigned to
    /// another one already.
    AlreadyLocated,
}

impl AssignError {
    pub fn code(self) -> &'static str {
        match self {
            AssignError::AlreadyLocated => "social.assign.already_located",
        }
    }
}

/// What assigning a mention at `current` to `hospital` does: `Some(new location)`, `None` for a
/// retry that changes nothing.
pub fn assign(current: &Location, hospital: Uuid) -> Result<Option<Location>, AssignError> {
    match current {
        Location::Unmatched | Location::Ambiguous { .. } => Ok(Some(Location::Hospital {
            hospital_id: hospital,
        })),
        Location::Hospital { hospital_id } if *hospital_id == hospital => Ok(None),
        Location::Hospital { .. } | Location::OwnPost { .. } => Err(AssignError::AlreadyLocated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_group_level_mentions_are_placed_by_hand() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let to_a = Some(Location::Hospital { hospital_id: a });
        assert_eq!(assign(&Location::Unmatched, a), Ok(to_a.clone()));
        let amb = Location::Ambiguous {
            hospital_ids: vec![a, b],
        };
        assert_eq!(assign(&amb, a), Ok(to_a));
        assert_eq!(assign(&Location::Hospital { hospital_id: a }, a), Ok(None));
        assert_eq!(
            assign(&Location::Hospital { hospital_id: a }, b),
            Err(AssignError::AlreadyLocated)
        );
        assert_eq!(
            assign(&Location::OwnPost { hospital_id: a }, a),
            Err(AssignError::AlreadyLocated)
        );
        assert_eq!(
            AssignError::AlreadyLocated.code(),
            "social.assign.already_located"
        );
    }
}

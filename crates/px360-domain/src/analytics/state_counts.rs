//! Counters of items that move between states (a case's SLA goal, an action), so a roll-up row
//! can be updated in place when one item changes state instead of being recomputed.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no item is counted in the state it is said to leave")]
pub struct NotInState;

/// Moves one count from `from` to `to`.
pub(crate) fn move_one(from: &mut u64, to: &mut u64) -> Result<(), NotInState> {
    *from = from.checked_sub(1).ok_or(NotInState)?;
    *to = to.saturating_add(1);
    Ok(())
}

//! The call centre without I/O: the patient lookup key ([`lookup`], a redacting newtype), call
//! records ([`call`]), surveys taken by phone ([`phone_survey`], the survey engine's validation
//! marked phone mode), the callback queue under the SLA engine ([`callback`]) and agent
//! statistics as mergeable accumulators ([`stats`]).

pub mod call;
pub mod callback;
pub mod lookup;
pub mod phone_survey;
pub mod stats;

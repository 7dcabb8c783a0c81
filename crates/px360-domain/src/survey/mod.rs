//! Surveys, without I/O: the template model and its lifecycle, response validation, scores, the
//! negative-response rule and the send decision. Store, worker, API and patient page build on
//! these types.
//!
//! - [`key`], [`question`], [`condition`]: the parts of a template;
//! - [`content`]: a draft's content, its JSON form and the publish checks;
//! - [`publish`], [`lifecycle`]: frozen versions and Draft → Published → Archived;
//! - [`answer`], [`response`]: validating a submitted form into typed answers;
//! - [`scoring`], [`negative`]: what is stored with a response and the event it may raise;
//! - [`channel`], [`quiet`], [`trigger`]: whether, when and how to invite a patient.

pub mod answer;
pub mod channel;
pub mod condition;
pub mod content;
pub mod key;
pub mod lifecycle;
pub mod negative;
pub mod publish;
pub mod question;
pub mod quiet;
pub mod response;
pub mod scoring;
pub mod trigger;

#[cfg(test)]
mod tests;

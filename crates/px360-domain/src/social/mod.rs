//! Social media monitoring without I/O: the mention/review model ([`mention`]), JSON and CSV
//! import with per-row errors ([`import`]), the webhook's shared-secret signature
//! ([`webhook`]), text normalisation for English and Arabic ([`normalise`]), matching a
//! mention to hospitals by handles and keywords in linear time ([`matching`]), and whether a
//! mention can become a complaint or an action ([`convert`]), and placing an unlocated one by
//! hand ([`assign`]).

pub mod assign;
pub mod convert;
pub mod import;
pub mod matching;
pub mod mention;
pub mod normalise;
pub mod webhook;

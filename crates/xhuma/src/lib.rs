//! The Xhuma gateway: answers an EHR's IHE requests (ITI-55 XCPD, ITI-47 PDQv3, ITI-38/39 XCA)
//! from the NHS Spine (PDS, SDS, GP Connect), converting the GP record to C-CDA.
//!
//! This crate owns the service around the libraries: configuration ([`config`]), caching
//! ([`cache`], [`singleflight`]), the audit trail ([`audit`], [`pseudonym`]), the request flow
//! ([`flow`]), patient discovery and its patient-safety matching ([`discovery`], [`matching`]),
//! the HTTP surface ([`app`], [`soap`], [`preview`], [`ops`]), inbound security
//! ([`security`]), the accept loop with its connection bound and timeouts (`listen`), start-up ([`server`]) and the `xhuma convert` command ([`convert_cli`]).
//! Parsing IHE messages, talking to Spine and converting records belong to `ihe-messaging`,
//! `nhs-spine` and `ccda-convert`; [`spine`] and [`soap`] adapt them.

pub mod app;
pub mod audit;
pub mod cache;
pub mod config;
pub mod convert_cli;
mod cpu;
pub mod discovery;
pub mod flow;
mod listen;
pub mod matching;
pub mod ops;
pub mod preview;
pub mod pseudonym;
pub mod security;
pub mod server;
pub mod singleflight;
pub mod soap;
pub mod spine;
pub mod xua;

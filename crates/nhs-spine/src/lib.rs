//! Clients for the NHS Spine APIs the gateway depends on:
//!
//! * [`pds::PdsClient`]: PDS FHIR R4 `GET /Patient/{nhs}` with application-restricted OAuth 2.0
//!   (signed client assertion, cached token) and typed outcomes ([`pds::PdsLookup`]).
//! * [`pds::PdsClient::search`] ([`pds_search`]): non-fuzzy demographic search, one unique match
//!   or [`pds_search::SearchOutcome::TooManyMatches`].
//! * [`sds::SdsClient`]: SDS FHIR R4 Device + Endpoint lookup of a practice's ASID, MHS party key
//!   and GP Connect FHIR base URL.
//! * [`gpconnect::GpConnectClient`]: GP Connect Access Record Structured
//!   (`$gpc.getstructuredrecord`) through the Spine Secure Proxy, with the unsigned audit JWT the
//!   GP Connect specification requires and typed errors ([`gpconnect::GpConnectError`]).
//!
//! All three share the resilience layer (per-upstream timeout, retry with exponential backoff and
//! jitter on transient failures only, a circuit breaker per upstream) and emit
//! `spine_upstream_requests_total{upstream,outcome}` and
//! `spine_upstream_duration_seconds{upstream}` through the `metrics` facade. Nothing here logs
//! NHS numbers, bodies or tokens.
//!
//! Configuration structs are serde-deserialisable so a service's config file maps onto them;
//! [`keys::generate_ephemeral`] creates a run-time RSA key and its JWKS for the sandbox quick start.

pub mod config;
pub mod context;
pub mod error;
pub mod gpconnect;
pub mod keys;
pub mod pds;
pub mod pds_search;
pub mod sds;

mod breaker;
mod fhir;
mod oauth;
mod tls;
mod transport;

pub use config::{ResilienceConfig, TlsConfig};
pub use context::RequestingContext;
pub use error::TransportError;
pub use nhs_number::NhsNumber;

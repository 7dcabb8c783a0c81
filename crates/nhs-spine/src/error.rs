//! Failures below the level of an API's own errors, shared by the three clients.

/// The upstream could not be asked or did not answer usefully.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("{upstream} did not answer within the configured timeout")]
    Timeout { upstream: &'static str },
    #[error("could not reach {upstream}: {detail}")]
    Network {
        upstream: &'static str,
        detail: String,
    },
    #[error("{upstream} is failing: circuit breaker open, not calling it for now")]
    CircuitOpen { upstream: &'static str },
    #[error("{upstream} answered with something unusable: {detail}")]
    InvalidResponse {
        upstream: &'static str,
        detail: String,
    },
}

/// A configuration problem found when a client is built or a request prepared.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid URL in {field}: {detail}")]
    Url { field: &'static str, detail: String },
    #[error("cannot read {what} from {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

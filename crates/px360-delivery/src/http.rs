//! What the HTTP adapters share: the client, transport-error classification and
//! `Retry-After` parsing.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::provider::SendError;

/// Timeouts for one HTTP provider. A provider that hangs must not hold a worker slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpTimeouts {
    #[serde(with = "secs")]
    pub connect: Duration,
    #[serde(with = "secs")]
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
        }
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = f64::deserialize(d)?;
        if !(s.is_finite() && s > 0.0 && s <= 600.0) {
            return Err(serde::de::Error::custom("seconds must be in (0, 600]"));
        }
        Ok(Duration::from_secs_f64(s))
    }
}

pub(crate) fn client(t: HttpTimeouts) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(t.connect)
        .timeout(t.request)
        // Provider APIs never legitimately redirect a send; following one could replay
        // credentials elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("px360-delivery/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Transport failures are all worth retrying: the provider may be back in a moment.
pub(crate) fn transport_error(e: &reqwest::Error) -> SendError {
    let what = if e.is_timeout() {
        "provider timed out"
    } else if e.is_connect() {
        "could not connect to the provider"
    } else if e.is_body() || e.is_decode() {
        "provider response was cut off or unreadable"
    } else {
        "HTTP request to the provider failed"
    };
    SendError::transient(what)
}

/// Upper bound on bodies read from providers: their answers are small JSON documents.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Reads at most `MAX_RESPONSE_BYTES` of the body.
pub(crate) async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, SendError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&e))? {
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(SendError::transient("provider response too large"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

pub(crate) fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Classification shared by every HTTP provider for statuses whose body says nothing
/// more specific: 429 throttled, 5xx and 408 transient.
pub(crate) fn generic_status(status: u16, retry_after: Option<Duration>) -> Option<SendError> {
    match status {
        429 => Some(SendError::RateLimited { retry_after }),
        408 | 500..=599 => Some(SendError::Transient {
            retry_after,
            reason: format!("provider answered HTTP {status}"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        // RFC 9110's example date, 10 s after `now`.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}

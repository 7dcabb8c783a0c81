//! The client address behind trusted reverse proxies, for rate limits and the audit log.
//!
//! Without configured proxies the peer address is the client, and `X-Forwarded-For` /
//! `Forwarded` are ignored (anyone can send them). With trusted proxies (CIDRs), a request whose
//! peer is one of them is attributed to the rightmost hop of its forwarding chain that is not a
//! trusted proxy: hops to the right of it were added by our proxies, hops to the left by the
//! client itself, which may lie. `Forwarded` (RFC 7239) wins over `X-Forwarded-For` when a
//! request has both. A hop that is not an address (`unknown`, an obfuscated `_name`) ends the
//! walk at the last address known to be genuine.
//!
//! [`resolve`] runs as middleware and stores the answer as a [`ClientIp`] request extension;
//! the audit context ([`crate::auth::Ctx`]) and the rate limiters ([`ClientIpKey`]) read it.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

/// Forwarding hops considered per request: more than any real proxy chain, and a bound on the
/// work a client can cause with a long header.
const MAX_HOPS: usize = 32;

/// The configured trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(Arc::new(nets))
    }

    /// Parse a comma-separated list of CIDRs or single addresses (`10.0.0.0/8, 192.0.2.7`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{item:?} is not a CIDR (e.g. 10.0.0.0/8) or an IP address")
                })?;
            nets.push(net);
        }
        Ok(Self::new(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client address of a request from `peer` with these headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if self.is_empty() || !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_hops(headers).unwrap_or_else(|| x_forwarded_for_hops(headers));
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let Some(ip) = hop.map(canonical) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) as plain IPv4, so
/// IPv4 CIDRs match it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Hops of every `X-Forwarded-For` header, in order (`None`: not an address).
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|h| parse_node(h.trim()))
        .collect()
}

/// `for=` of every element of every `Forwarded` header, in order; `None` when there is no such
/// header (an element without `for=` is a hop of unknown address).
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut any = false;
    let mut hops = Vec::new();
    for v in headers.get_all("forwarded") {
        any = true;
        let Ok(v) = v.to_str() else {
            hops.push(None);
            continue;
        };
        for element in v.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            });
            hops.push(node.and_then(|n| parse_node(n.trim_matches('"'))));
        }
    }
    any.then_some(hops)
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`. `unknown`, `_obfuscated` and anything else: `None`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The resolved client address of a request (set by [`resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: resolve the client address once per request.
pub async fn resolve(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let ip = trusted.client_ip(peer, req.headers());
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The client address of a request: the resolved one, else the peer.
pub fn of(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ClientIp>().map(|c| c.0).or_else(|| {
        ext.get::<ConnectInfo<SocketAddr>>()
            .map(|c| canonical(c.0.ip()))
    })
}

/// Rate-limit key: the client address ([`resolve`] must run before the limiter).
#[derive(Debug, Clone, Copy)]
pub struct ClientIpKey;

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<Self::Key, GovernorError> {
        of(req.extensions()).ok_or(GovernorError::UnableToExtractKey)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn untrusted_peer_or_no_configuration_uses_the_peer() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(t.client_ip(ip("192.0.2.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn rightmost_untrusted_hop_wins() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // The client forged the first hop; our proxies appended the real client and themselves.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(t.client_ip(ip("192.0.2.7"), &h), ip("203.0.113.9"));
        // Several header lines form one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(t.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        // Only trusted hops: the leftmost is the client.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(t.client_ip(ip("10.0.0.2"), &h), ip("10.9.9.9"));
        // No header: the peer.
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_header_forms() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.5",
        )]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        // Forwarded wins over X-Forwarded-For.
        let h = headers(&[
            ("forwarded", "for=198.51.100.2:80"),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("198.51.100.2"));
        // An unknown or obfuscated hop stops at the last genuine address.
        let h = headers(&[("forwarded", "for=1.2.3.4, for=unknown, for=10.0.0.3")]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        let h = headers(&[("x-forwarded-for", "1.2.3.4, _hidden")]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_and_parse_errors() {
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(t.client_ip(ip("::ffff:127.0.0.1"), &h), ip("203.0.113.9"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn long_chains_are_bounded() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let chain = vec!["10.0.0.9"; 10_000].join(", ");
        let h = headers(&[("x-forwarded-for", &format!("1.2.3.4, {chain}"))]);
        // Walking stops after MAX_HOPS trusted hops: the client is then the last one seen.
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.9"));
    }
}

//! The client-address rule every HTTP door (REST and GraphQL) shares.
//!
//! `X-Forwarded-For` and `X-Real-IP` are written by whoever sends the request, so they
//! are believed only when the TCP peer is a configured trusted proxy
//! (`NOVA_TRUSTED_PROXIES`, empty by default). Then the client is the right-most hop that
//! is not itself a trusted proxy, as nginx's `real_ip_recursive on` does: each trusted
//! proxy appends the address it saw, so everything left of the first untrusted hop (from
//! the right) is the client's own claim.
//!
//! ```
//! use http::HeaderMap;
//! use nova_core::client::{ClientAddr, TrustedProxies};
//!
//! let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
//! let mut headers = HeaderMap::new();
//! headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.3".parse().unwrap());
//! // From the ingress: the right-most hop that is not a proxy.
//! let ingress = "10.0.0.2".parse().unwrap();
//! assert_eq!(ClientAddr::resolve(ingress, &headers, &trusted).ip().to_string(), "203.0.113.7");
//! // From anyone else: the header is ignored.
//! let direct = "198.51.100.9".parse().unwrap();
//! assert_eq!(ClientAddr::resolve(direct, &headers, &trusted).ip(), direct);
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed (CIDRs; a bare address is /32 or
/// /128).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No trusted proxy: forwarding headers are never believed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated CIDRs or addresses (`10.0.0.0/8, 127.0.0.1, fd00::/8`); empty
    /// is none.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut nets = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{part:?} is not a CIDR or an IP address"))?;
            nets.push(net.trunc());
        }
        Ok(Self(nets))
    }
}

/// The address of the client of one request, as resolved by [`ClientAddr::resolve`].
/// `nova-runtime`'s HTTP stack puts it in every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(IpAddr);

impl ClientAddr {
    /// The client behind `peer`: `peer` itself unless it is a trusted proxy; else the
    /// right-most `X-Forwarded-For` hop that is not a trusted proxy (the left-most when
    /// all are), else `X-Real-IP`, else `peer`. A malformed hop ends the walk at the
    /// trusted proxy that reported it.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        let peer = canonical(peer);
        if !trusted.contains(peer) {
            return Self(peer);
        }
        // Several X-Forwarded-For lines are one list, in order.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if hops.is_empty() {
            let real_ip = headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_hop);
            return Self(real_ip.unwrap_or(peer));
        }
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !trusted.contains(ip) {
                break;
            }
        }
        Self(client)
    }

    /// A client seen directly (no proxy in between).
    pub fn direct(ip: IpAddr) -> Self {
        Self(canonical(ip))
    }

    /// The address.
    pub fn ip(&self) -> IpAddr {
        self.0
    }

    /// The rate-limit bucket of this client: the IPv4 address, or the IPv6 /64 (one
    /// subscriber usually gets a whole /64, so per-address buckets would be free to
    /// multiply).
    pub fn bucket(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(network))
            }
        }
    }

    /// The client of a request, as nova-runtime's HTTP stack resolved it (`None` when
    /// the router runs without it, e.g. in a `oneshot` test).
    pub fn from_extensions(extensions: &http::Extensions) -> Option<Self> {
        extensions.get::<ClientAddr>().copied()
    }
}

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One forwarding hop: an address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) are
/// the IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn resolve(peer: &str, h: &HeaderMap, trusted: &str) -> String {
        ClientAddr::resolve(ip(peer), h, &trusted.parse().unwrap())
            .ip()
            .to_string()
    }

    #[test]
    fn forwarding_headers_are_ignored_without_trusted_proxies() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-real-ip", "2.2.2.2")]);
        // Even from loopback or a private network: nothing is trusted by default.
        assert_eq!(resolve("127.0.0.1", &h, ""), "127.0.0.1");
        assert_eq!(resolve("10.0.0.2", &h, ""), "10.0.0.2");
        assert_eq!(resolve("198.51.100.9", &h, "10.0.0.0/8"), "198.51.100.9");
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = "10.0.0.0/8, 127.0.0.1";
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")]);
        assert_eq!(resolve("127.0.0.1", &h, trusted), "203.0.113.7");
        // Split over several header lines: one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7:4711, 10.1.2.3"),
        ]);
        assert_eq!(resolve("10.0.0.1", &h, trusted), "203.0.113.7");
        // Every hop a proxy: the left-most.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.2.3")]);
        assert_eq!(resolve("10.0.0.1", &h, trusted), "10.9.9.9");
        // Garbage right of the client: stop at the proxy that wrote it.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, nonsense, 10.1.2.3")]);
        assert_eq!(resolve("10.0.0.1", &h, trusted), "10.1.2.3");
        // No X-Forwarded-For: X-Real-IP from a trusted proxy, else the peer.
        let h = headers(&[("x-real-ip", "203.0.113.8")]);
        assert_eq!(resolve("10.0.0.1", &h, trusted), "203.0.113.8");
        assert_eq!(resolve("10.0.0.1", &HeaderMap::new(), trusted), "10.0.0.1");
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        let a = ClientAddr::direct(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientAddr::direct(ip("2001:db8:1:2:ffff:1:2:3"));
        let c = ClientAddr::direct(ip("2001:db8:1:3::1"));
        assert_eq!(a.bucket(), "2001:db8:1:2::/64");
        assert_eq!(a.bucket(), b.bucket());
        assert_ne!(a.bucket(), c.bucket());
        let mapped = ClientAddr::direct(ip("::ffff:203.0.113.7"));
        assert_eq!(mapped.bucket(), "203.0.113.7");
        let trusted: TrustedProxies = "127.0.0.1/32".parse().unwrap();
        assert!(trusted.contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn bad_proxy_lists_are_refused() {
        assert!("10.0.0.0/8,nonsense".parse::<TrustedProxies>().is_err());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!(
            "10.1.2.3/8"
                .parse::<TrustedProxies>()
                .unwrap()
                .contains(ip("10.200.0.1"))
        );
    }
}

//! The address a request really came from.
//!
//! `X-Forwarded-For` is attacker-controlled unless a proxy we trust wrote it, so it
//! is read only when the peer is a trusted proxy, and then from the right: the first
//! hop that is not one of our proxies is the client. Every line of the header counts,
//! as one list in order: a proxy that adds a line of its own (HAProxy's `option
//! forwardfor`) puts the address it saw last, after whatever the client sent.
//! (The `Forwarded` header is not read: a proxy that writes only `X-Forwarded-For`
//! would pass a client's own `Forwarded` through untouched.)
//!
//! An IPv4 client reaching a dual-stack socket appears as `::ffff:a.b.c.d`; it is
//! taken as the IPv4 address it is, so it gets its own rate-limit bucket rather than
//! sharing one /64 with every other IPv4 client.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ClientIp {
    /// What rate limits count by: the address, or for IPv6 its /64 network (one
    /// subscriber usually holds a whole /64, and could otherwise rotate through it).
    pub fn rate_key(&self) -> String {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// The client's address: `peer` itself, or when `peer` is a trusted proxy, the last hop
/// of `forwarded_for` (all its lines joined with commas) that is not one.
pub fn resolve(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // A malformed entry ends what can be believed; keep the last good hop.
            Err(_) => break,
        }
    }
    client
}

pub fn from_request(req: &HttpRequest) -> IpAddr {
    let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let trusted: &[IpNet] = req.app_data::<web::Data<Config>>().map(|c| c.trusted_proxies.as_slice()).unwrap_or(&[]);
    // One list, whatever the number of lines; a line that is not text ends it there.
    let lines: Vec<&str> = req.headers().get_all("x-forwarded-for").map_while(|line| line.to_str().ok()).collect();
    let forwarded = (!lines.is_empty()).then(|| lines.join(","));
    resolve(peer, forwarded.as_deref(), trusted)
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp(from_request(req))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_count_ipv6_by_its_64() {
        let a = ClientIp("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientIp("2001:db8:1:2:ffff:ffff:0:9".parse().unwrap());
        assert_eq!(a.rate_key(), b.rate_key());
        assert_ne!(a.rate_key(), ClientIp("2001:db8:1:3::1".parse().unwrap()).rate_key());
        assert_eq!(ClientIp("192.0.2.7".parse().unwrap()).rate_key(), "192.0.2.7");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let trusted = crate::config::parse_proxies("10.0.0.1").unwrap();
        assert_eq!(resolve(ip("203.0.113.9"), Some("1.2.3.4"), &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxy_header_gives_first_untrusted_hop_from_the_right() {
        let trusted = crate::config::parse_proxies("10.0.0.0/8").unwrap();
        let header = "6.6.6.6, 198.51.100.7, 10.0.0.2";
        assert_eq!(resolve(ip("10.0.0.1"), Some(header), &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = crate::config::parse_proxies("10.0.0.0/8").unwrap();
        assert_eq!(resolve(ip("::ffff:192.0.2.7"), None, &trusted), ip("192.0.2.7"));
        assert_eq!(resolve(ip("::ffff:10.0.0.1"), Some("::ffff:198.51.100.7"), &trusted), ip("198.51.100.7"));
        let (a, b) = (ClientIp(resolve(ip("::ffff:192.0.2.7"), None, &[])), ClientIp(ip("::ffff:192.0.2.8")));
        assert_ne!(a.rate_key(), ClientIp(resolve(b.0, None, &[])).rate_key(), "two IPv4 clients, two buckets");
    }

    #[test]
    fn malformed_hop_stops_the_walk() {
        let trusted = crate::config::parse_proxies("10.0.0.0/8").unwrap();
        assert_eq!(resolve(ip("10.0.0.1"), Some("1.2.3.4, garbage"), &trusted), ip("10.0.0.1"));
    }
}

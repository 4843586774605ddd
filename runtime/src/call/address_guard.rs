//! Server-side request forgery: URLs that come from an app's customers
//! (outbound webhook endpoints) must not reach the app's own network. An
//! [`AddressGuard`] refuses loopback, private, link-local, unique-local,
//! shared (carrier-grade NAT), multicast and unspecified addresses, and the
//! cloud metadata services among them; the transport applies it to every
//! address a host name resolves to, at every connection (DNS can change
//! between registration and delivery), and to addresses written in URLs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which addresses a guarded transport may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressGuard {
    /// Loopback is allowed (tests, and a developer's machine).
    pub allow_loopback: bool,
}

impl AddressGuard {
    /// Public addresses only.
    pub fn public_only() -> Self {
        AddressGuard {
            allow_loopback: false,
        }
    }

    /// Public addresses and loopback.
    pub fn public_and_loopback() -> Self {
        AddressGuard {
            allow_loopback: true,
        }
    }

    /// Why `ip` is refused, or `None` when it may be used.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        match ip {
            IpAddr::V4(v4) => self.refusal_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.refusal_v4(v4),
                None => self.refusal_v6(v6),
            },
        }
    }

    fn refusal_v4(&self, ip: Ipv4Addr) -> Option<&'static str> {
        let [a, b, ..] = ip.octets();
        if ip.is_loopback() {
            return (!self.allow_loopback).then_some("a loopback address");
        }
        if ip.is_private() {
            return Some("a private address");
        }
        if ip.is_link_local() {
            // 169.254.169.254 is the metadata service of most clouds.
            return Some("a link-local address (cloud metadata lives here)");
        }
        if a == 100 && (64..128).contains(&b) {
            return Some("a shared (carrier-grade NAT) address");
        }
        if ip.is_unspecified() || a == 0 {
            return Some("an unspecified address");
        }
        if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
            return Some("a broadcast, multicast or reserved address");
        }
        None
    }

    fn refusal_v6(&self, ip: Ipv6Addr) -> Option<&'static str> {
        let first = ip.segments()[0];
        if ip.is_loopback() {
            return (!self.allow_loopback).then_some("a loopback address");
        }
        if ip.is_unspecified() {
            return Some("an unspecified address");
        }
        if first & 0xfe00 == 0xfc00 {
            return Some("a unique-local address (cloud metadata lives here)");
        }
        if first & 0xffc0 == 0xfe80 {
            return Some("a link-local address");
        }
        if ip.is_multicast() {
            return Some("a multicast address");
        }
        // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
        if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
            let [.., a, b, c, d] = ip.octets();
            return self.refusal_v4(Ipv4Addr::new(a, b, c, d));
        }
        None
    }
}

/// A host the guard refused: the error in the connection's chain that
/// makes the transport report it as permanent (`Insecure`).
#[derive(Debug)]
pub(crate) struct RefusedAddress(pub(crate) String);

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefusedAddress {}

/// reqwest's resolver, guarded: a host with any refused address is refused
/// whole (an attacker's name can list a public address first).
pub(crate) struct GuardedResolver {
    pub(crate) guard: AddressGuard,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some((addr, why)) = addrs
                .iter()
                .find_map(|a| guard.refusal(a.ip()).map(|why| (a, why)))
            {
                let message = format!("{host} resolves to {} ({why}): refused", addr.ip());
                return Err(
                    Box::new(RefusedAddress(message)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        AddressGuard::public_only()
            .refusal(ip.parse().expect("an address"))
            .is_some()
    }

    #[test]
    fn internal_addresses_are_refused_public_ones_allowed() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
        let loopback_ok = AddressGuard::public_and_loopback();
        assert_eq!(loopback_ok.refusal("127.0.0.1".parse().unwrap()), None);
        assert_eq!(loopback_ok.refusal("::1".parse().unwrap()), None);
        assert!(loopback_ok.refusal("10.0.0.1".parse().unwrap()).is_some());
    }
}

//! Network rules: arbitrary `network = [...]` entries parsed, then names
//! and addresses checked against them as the sandbox does on every request.
//!
//! Checked: no panic, and the rules' documented semantics: no rules reach
//! nothing; names match ignoring case and one trailing dot; an IPv4-mapped
//! IPv6 address is judged as the IPv4 address it carries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::Arbitrary;
use corral::network::{NetRules, is_public};

#[derive(Arbitrary, Debug)]
struct Input {
    rules: Vec<String>,
    names: Vec<(String, u16)>,
    v4: Vec<([u8; 4], u16)>,
    v6: Vec<([u8; 16], u16)>,
}

/// One input, as libFuzzer hands it to the target.
pub fn run(data: &[u8]) {
    let Some(input) = super::arbitrary::<Input>(data) else { return };
    let Ok(rules) = NetRules::parse(&input.rules) else { return };
    assert_eq!(rules.is_empty(), input.rules.is_empty());
    for (name, port) in &input.names {
        let allowed = rules.allows_name(name, *port);
        if rules.is_empty() {
            assert!(!allowed, "no rules, yet {name}:{port} is allowed");
        }
        if !name.ends_with('.') {
            assert_eq!(allowed, rules.allows_name(&format!("{name}."), *port), "{name}.");
        }
        assert_eq!(allowed, rules.allows_name(&name.to_ascii_uppercase(), *port), "{name}");
    }
    for (octets, port) in &input.v4 {
        let v4 = Ipv4Addr::from(*octets);
        let mapped = SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), *port);
        let plain = SocketAddr::new(IpAddr::V4(v4), *port);
        assert_eq!(rules.allows_addr(plain), rules.allows_addr(mapped), "{plain} vs {mapped}");
        assert_eq!(rules.allows_resolved(plain), rules.allows_resolved(mapped));
        assert_eq!(is_public(plain.ip()), is_public(mapped.ip()), "{plain} vs {mapped}");
        if rules.is_empty() {
            assert!(!rules.allows_addr(plain));
        }
        if v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() {
            assert!(!is_public(plain.ip()), "{v4} counts as public");
        }
    }
    for (octets, port) in &input.v6 {
        let addr = SocketAddr::new(IpAddr::V6(Ipv6Addr::from(*octets)), *port);
        let allowed = rules.allows_addr(addr);
        if rules.is_empty() {
            assert!(!allowed);
        }
        if allowed {
            assert!(rules.allows_resolved(addr));
        }
    }
}

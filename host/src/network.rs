//! Network rules: which destinations a component may reach.
//!
//! A component's `network` list is parsed once, at load, into [`NetRules`];
//! every outgoing `wasi:http` request and every `wasi:sockets` address is
//! checked against it on the call path without allocating.
//!
//! # Rule forms
//!
//! | rule | matches | port |
//! | --- | --- | --- |
//! | `example.com` | the name `example.com` only | any |
//! | `example.com:443` | the name `example.com` only | 443 |
//! | `*.example.com` | names ending in `.example.com` (`a.example.com`, `a.b.example.com`), not `example.com` itself | any |
//! | `*.example.com:443` | as above | 443 |
//! | `*` / `*:443` | any name (addresses are still checked, see below) | any / 443 |
//! | `203.0.113.7` / `203.0.113.7:8080` | that IPv4 address | any / 8080 |
//! | `10.0.0.0/8` / `10.0.0.0/8:443` | addresses in that CIDR block | any / 443 |
//! | `::1` / `[::1]:8080` | that IPv6 address (brackets when a port follows) | any / 8080 |
//! | `fd00::/8` / `[fd00::/8]:443` | addresses in that IPv6 block | any / 443 |
//!
//! # Empty list = deny all
//!
//! A component with no rules reaches nothing: every `wasi:http` request is
//! refused before any name is resolved, and TCP and UDP are switched off.
//!
//! # Semantics
//!
//! - Names are compared case-insensitively, ignoring one trailing dot.
//!   Internationalised names must be written in their ASCII (punycode) form.
//! - A request naming a host (`http://api.example.com/`) needs a *name rule*
//!   that matches it and its port. The host then resolves the name itself and
//!   connects to an address it checked, so the guest never picks the address.
//! - Every resolved address must be *public*, or be granted by an *address
//!   rule* (an IP or CIDR rule matching the address and port). Loopback,
//!   private (RFC 1918, unique local), link-local (including the cloud
//!   metadata address 169.254.169.254), unspecified, shared (100.64.0.0/10),
//!   multicast, broadcast, documentation and reserved addresses are not public
//!   ([`is_public`]). So `localhost:8080` as a name rule does not reach
//!   127.0.0.1: that needs the rule `127.0.0.1:8080`, whatever name led there.
//! - A request naming an address (`http://127.0.0.1:8080/`) needs an address
//!   rule for it; name rules never match addresses.
//! - IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are checked as the IPv4
//!   address they carry.
//! - `wasi:sockets` (raw TCP and UDP) is checked by address only: a connect
//!   or datagram needs an address rule. Name lookup through `wasi:sockets` is
//!   never offered, because wasmtime-wasi resolves any name it is given and a
//!   lookup of `<secret>.attacker.example` is itself a leak; names are granted
//!   through `wasi:http`, where the host resolves only names a rule allows.
//!
//! ```
//! use std::net::SocketAddr;
//! use corral::network::NetRules;
//!
//! let rules = NetRules::parse(["*.example.com:443", "127.0.0.1:8080"]).unwrap();
//! assert!(rules.allows_name("API.example.com", 443));
//! assert!(!rules.allows_name("example.com", 443));
//! assert!(!rules.allows_name("api.example.com", 80));
//! assert!(rules.allows_addr("127.0.0.1:8080".parse::<SocketAddr>().unwrap()));
//! assert!(!rules.allows_addr("127.0.0.1:8081".parse::<SocketAddr>().unwrap()));
//!
//! assert!(NetRules::parse(["exa mple.com"]).is_err());
//! assert!(NetRules::default().is_empty());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Why a rule could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network rule {rule:?}: {reason}")]
pub struct RuleError {
    /// The rule as written.
    pub rule: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// What a rule's host part matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Exactly this name (lowercase, no trailing dot).
    Name(Box<str>),
    /// Names ending in this suffix, which starts with a dot.
    Suffix(Box<str>),
    /// Any name.
    AnyName,
    /// Addresses in this block (a single address is a /32 or /128).
    Net(IpNet),
}

/// One parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRule {
    target: Target,
    /// `None`: any port.
    port: Option<u16>,
}

/// A component's parsed rules. The default is empty, which denies everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetRules {
    rules: Vec<NetRule>,
}

/// How a connection attempt was decided, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// A rule granted it.
    Allowed,
    /// No rule names this destination.
    DeniedRule,
    /// A rule names the destination, but it resolved to an address that is
    /// not public and not granted by an address rule.
    DeniedAddress,
}

impl Decision {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::DeniedRule => "denied_rule",
            Decision::DeniedAddress => "denied_address",
        }
    }

    /// Every decision, for registering metric series up front.
    pub const ALL: [Decision; 3] =
        [Decision::Allowed, Decision::DeniedRule, Decision::DeniedAddress];
}

impl NetRules {
    /// Parses every rule; the first bad one is the error.
    pub fn parse<I, S>(rules: I) -> Result<NetRules, RuleError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rules =
            rules.into_iter().map(|r| NetRule::parse(r.as_ref())).collect::<Result<_, _>>()?;
        Ok(NetRules { rules })
    }

    /// Whether there are no rules, so nothing is reachable.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a name rule matches `host` on `port`. `host` is a name, not
    /// an address literal; case and one trailing dot are ignored.
    pub fn allows_name(&self, host: &str, port: u16) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return false;
        }
        self.rules.iter().any(|rule| {
            rule.port_matches(port)
                && match &rule.target {
                    Target::Name(name) => host.eq_ignore_ascii_case(name),
                    Target::Suffix(suffix) => {
                        host.len() > suffix.len()
                            && host.is_char_boundary(host.len() - suffix.len())
                            && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                    }
                    Target::AnyName => true,
                    Target::Net(_) => false,
                }
        })
    }

    /// Whether an address rule matches `addr` (IPv4-mapped IPv6 addresses
    /// are matched as IPv4).
    pub fn allows_addr(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        self.rules.iter().any(|rule| {
            rule.port_matches(addr.port())
                && matches!(&rule.target, Target::Net(net) if net.contains(&ip))
        })
    }

    /// Whether an address `host` resolved to may be connected to: granted by
    /// an address rule, or public.
    pub fn allows_resolved(&self, addr: SocketAddr) -> bool {
        self.allows_addr(addr) || is_public(addr.ip())
    }
}

impl NetRule {
    /// Parses one rule in any of the forms in the module table.
    pub fn parse(text: &str) -> Result<NetRule, RuleError> {
        let err = |reason| RuleError { rule: text.to_owned(), reason };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(err("is empty"));
        }
        if trimmed != text {
            return Err(err("has leading or trailing spaces"));
        }
        // `[v6 or v6/len]:port`
        if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| err("has '[' without ']'"))?;
            let port = after.strip_prefix(':').ok_or_else(|| {
                err("needs ':port' after ']' (write a bare IPv6 address without brackets)")
            })?;
            let net = parse_net(inside)
                .filter(|net| matches!(net, IpNet::V6(_)))
                .ok_or_else(|| err("brackets must hold an IPv6 address or CIDR block"))?;
            return Ok(NetRule {
                target: Target::Net(net),
                port: Some(parse_port(port).map_err(err)?),
            });
        }
        // A bare IPv6 address or block: more than one ':' and no brackets.
        if text.matches(':').count() > 1 {
            let net =
                parse_net(text).ok_or_else(|| err("is not a valid IPv6 address or CIDR block"))?;
            return Ok(NetRule { target: Target::Net(net), port: None });
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(parse_port(port).map_err(err)?)),
            None => (text, None),
        };
        let target = if host == "*" {
            Target::AnyName
        } else if let Some(suffix) = host.strip_prefix("*.") {
            check_name(suffix).map_err(err)?;
            Target::Suffix(format!(".{}", suffix.to_ascii_lowercase()).into())
        } else if host.contains('*') {
            return Err(err("'*' is allowed only as a whole leading label, as in '*.example.com'"));
        } else if host.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && host.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'/')
        {
            Target::Net(
                parse_net(host).ok_or_else(|| err("is not a valid IPv4 address or CIDR block"))?,
            )
        } else {
            check_name(host).map_err(err)?;
            Target::Name(host.to_ascii_lowercase().into())
        };
        Ok(NetRule { target, port })
    }

    fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }
}

impl fmt::Display for NetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.target, self.port) {
            (Target::Net(net @ IpNet::V6(_)), Some(port)) => write!(f, "[{}]:{port}", Shown(*net)),
            (target, port) => {
                match target {
                    Target::Name(name) => f.write_str(name)?,
                    Target::Suffix(suffix) => write!(f, "*{suffix}")?,
                    Target::AnyName => f.write_str("*")?,
                    Target::Net(net) => write!(f, "{}", Shown(*net))?,
                }
                match port {
                    Some(port) => write!(f, ":{port}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Shows a single-address block as the bare address.
struct Shown(IpNet);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            self.0.addr().fmt(f)
        } else {
            self.0.fmt(f)
        }
    }
}

impl serde::Serialize for NetRules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.rules.iter().map(ToString::to_string))
    }
}

/// An address or a CIDR block whose host bits are zero.
fn parse_net(text: &str) -> Option<IpNet> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    let net = text.parse::<IpNet>().ok()?;
    // `10.0.0.1/8` is almost certainly a typo for an address or a block.
    (net.trunc() == net).then_some(net)
}

fn parse_port(text: &str) -> Result<u16, &'static str> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err("port must be a number from 1 to 65535"),
        Ok(port) => Ok(port),
    }
}

/// A DNS name: dot-separated labels of letters, digits and '-', none empty,
/// none starting or ending with '-', at most 63 bytes each and 253 in all.
fn check_name(name: &str) -> Result<(), &'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err("host name must be 1 to 253 characters");
    }
    for label in name.split('.') {
        let bytes = label.as_bytes();
        let valid = (1..=63).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-';
        if !valid {
            return Err(
                "host names are dot-separated labels of letters, digits and '-' (write internationalised names in punycode)",
            );
        }
    }
    Ok(())
}

/// Whether `ip` is a globally reachable unicast address. Everything a
/// component must not reach by default is not public: loopback, private,
/// link-local, unspecified, shared, multicast, broadcast, documentation,
/// benchmarking and reserved ranges. IPv4-mapped and IPv4-compatible IPv6
/// addresses are judged as the IPv4 address.
///
/// ```
/// use corral::network::is_public;
/// for denied in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
///                "0.0.0.0", "100.64.0.1", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1"] {
///     assert!(!is_public(denied.parse().unwrap()), "{denied}");
/// }
/// assert!(is_public("93.184.215.14".parse().unwrap()));
/// assert!(is_public("2606:4700::1111".parse().unwrap()));
/// ```
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4() {
        // `::a.b.c.d` (deprecated IPv4-compatible); `::ffff:` was handled by
        // to_canonical. `::` and `::1` land here as 0.0.0.0 and 0.0.0.1.
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64, could reach private v4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(list: &[&str]) -> NetRules {
        NetRules::parse(list).unwrap()
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn reason(rule: &str) -> &'static str {
        NetRule::parse(rule).unwrap_err().reason
    }

    #[test]
    fn empty_allow_list_denies_every_host() {
        let none = NetRules::default();
        assert!(none.is_empty());
        assert!(!none.allows_name("example.com", 443));
        assert!(!none.allows_addr(addr("127.0.0.1:80")));
        assert!(!none.allows_addr(addr("93.184.215.14:443")));
    }

    #[test]
    fn exact_name_matches_case_insensitively_and_only_itself() {
        let r = rules(&["Example.COM"]);
        assert!(r.allows_name("example.com", 1));
        assert!(r.allows_name("EXAMPLE.com.", 65535));
        assert!(!r.allows_name("api.example.com", 443));
        assert!(!r.allows_name("example.com.evil", 443));
        assert!(!r.allows_name("xexample.com", 443));
    }

    #[test]
    fn port_restricts_a_name_rule() {
        let r = rules(&["example.com:443"]);
        assert!(r.allows_name("example.com", 443));
        assert!(!r.allows_name("example.com", 80));
    }

    #[test]
    fn wildcard_matches_subdomains_but_not_the_bare_domain() {
        let r = rules(&["*.example.com:443"]);
        assert!(r.allows_name("a.example.com", 443));
        assert!(r.allows_name("A.B.Example.Com", 443));
        assert!(!r.allows_name("example.com", 443));
        assert!(!r.allows_name("badexample.com", 443));
        assert!(!r.allows_name("a.example.com", 8443));
    }

    #[test]
    fn star_matches_any_name_but_no_address() {
        let r = rules(&["*:443"]);
        assert!(r.allows_name("anything.test", 443));
        assert!(!r.allows_name("anything.test", 80));
        assert!(!r.allows_addr(addr("93.184.215.14:443")));
    }

    #[test]
    fn address_and_cidr_rules_match_addresses_not_names() {
        let r = rules(&["127.0.0.1:8080", "10.0.0.0/8", "[::1]:9000", "fd00::/8"]);
        assert!(r.allows_addr(addr("127.0.0.1:8080")));
        assert!(!r.allows_addr(addr("127.0.0.1:8081")));
        assert!(!r.allows_addr(addr("127.0.0.2:8080")));
        assert!(r.allows_addr(addr("10.200.3.4:1")));
        assert!(r.allows_addr(addr("[::1]:9000")));
        assert!(!r.allows_addr(addr("[::1]:9001")));
        assert!(r.allows_addr(addr("[fd12::1]:22")));
        assert!(!r.allows_name("127.0.0.1", 8080));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_matched_as_ipv4() {
        let r = rules(&["127.0.0.1:8080"]);
        assert!(r.allows_addr(addr("[::ffff:127.0.0.1]:8080")));
        assert!(!is_public("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_name_rule_does_not_grant_a_private_address() {
        let r = rules(&["localhost:8080"]);
        assert!(r.allows_name("localhost", 8080));
        assert!(!r.allows_resolved(addr("127.0.0.1:8080")));
        assert!(r.allows_resolved(addr("93.184.215.14:8080")));
        let granted = rules(&["localhost:8080", "127.0.0.1:8080"]);
        assert!(granted.allows_resolved(addr("127.0.0.1:8080")));
    }

    #[test]
    fn non_public_ranges_are_refused_by_default() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn bad_rules_name_the_problem() {
        assert_eq!(reason(""), "is empty");
        assert_eq!(reason(" example.com"), "has leading or trailing spaces");
        assert_eq!(reason("example.com:0"), "port must be a number from 1 to 65535");
        assert_eq!(reason("example.com:http"), "port must be a number from 1 to 65535");
        assert_eq!(reason("example.com:70000"), "port must be a number from 1 to 65535");
        assert!(reason("exa_mple.com").starts_with("host names are"));
        assert!(reason("-example.com").starts_with("host names are"));
        assert!(reason("a..b").starts_with("host names are"));
        assert!(reason("a*.example.com").starts_with("'*' is allowed only"));
        assert!(reason("*.*.example.com").starts_with("host names are"));
        assert_eq!(reason("10.0.0.1/8"), "is not a valid IPv4 address or CIDR block");
        assert_eq!(reason("300.1.1.1"), "is not a valid IPv4 address or CIDR block");
        assert_eq!(reason("10.0.0.0/33"), "is not a valid IPv4 address or CIDR block");
        assert_eq!(
            reason("[::1]"),
            "needs ':port' after ']' (write a bare IPv6 address without brackets)"
        );
        assert_eq!(reason("[10.0.0.1]:80"), "brackets must hold an IPv6 address or CIDR block");
        assert_eq!(reason("fe80::zz"), "is not a valid IPv6 address or CIDR block");
        let err = NetRules::parse(["ok.example", "bad rule"]).unwrap_err();
        assert_eq!(err.to_string(), format!("network rule \"bad rule\": {}", reason("bad rule")));
    }

    #[test]
    fn rules_print_as_written_in_canonical_form() {
        let r = rules(&[
            "Example.com:443",
            "*.Example.com",
            "*",
            "10.0.0.0/8:22",
            "127.0.0.1",
            "[::1]:80",
            "fd00::/8",
        ]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!([
                "example.com:443",
                "*.example.com",
                "*",
                "10.0.0.0/8:22",
                "127.0.0.1",
                "[::1]:80",
                "fd00::/8"
            ])
        );
    }

    #[test]
    fn decisions_have_metric_labels() {
        let labels: Vec<_> = Decision::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(labels, ["allowed", "denied_rule", "denied_address"]);
    }
}

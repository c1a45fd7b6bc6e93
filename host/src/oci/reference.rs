//! `oci://` references and sha256 digests, parsed once when the config
//! loads so that a malformed one never reaches the network.
//!
//! | form | example |
//! | --- | --- |
//! | pinned | `oci://ghcr.io/acme/fs@sha256:<64 hex>` |
//! | tag | `oci://127.0.0.1:5000/tools/text:1.2.0` |
//!
//! - The registry host is always written: there is no default registry,
//!   so a reference never reaches a host its text does not name.
//! - A reference names a tag or a digest, not both and not neither (no
//!   implicit `latest`).
//! - Repository and tag follow the OCI distribution grammar: path
//!   components of `a-z 0-9` joined by `.`, `_`, `__` or `-`; a tag of at
//!   most 128 of `A-Z a-z 0-9 _ . -`, not starting with `.` or `-`.
//!
//! ```
//! use corral::oci::{OciReference, Target};
//! let pinned: OciReference = format!("oci://127.0.0.1:5000/tools/text@sha256:{}", "ab".repeat(32))
//!     .parse()
//!     .unwrap();
//! assert!(matches!(pinned.target, Target::Digest(_)));
//! assert!(pinned.is_loopback());
//! assert!("oci://ghcr.io/acme/fs".parse::<OciReference>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// The scheme of a component `path` pulled from a registry.
pub const OCI_PREFIX: &str = "oci://";

/// A sha256 content digest, written `sha256:<64 lowercase hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hash = Sha256::digest(bytes);
        Digest(format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>()))
    }

    /// The 64 hex digits, which name the file in the store.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = String;

    fn from_str(text: &str) -> Result<Digest, String> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("digest {text:?} is not sha256:<hex>"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("digest {text:?}: expected 64 lowercase hex digits after sha256:"));
        }
        Ok(Digest(text.to_owned()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a reference points at in its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A manifest digest: immutable, and served from the store offline.
    Digest(Digest),
    /// A tag: resolved to a manifest digest at every pull.
    Tag(String),
}

/// A parsed `oci://HOST[:PORT]/REPO@sha256:<hex>` or `oci://HOST[:PORT]/REPO:TAG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    /// `HOST[:PORT]`, the only host a pull or push of it talks to.
    pub registry: String,
    /// The repository path, e.g. `acme/tools/fs`.
    pub repository: String,
    /// The tag or digest.
    pub target: Target,
}

impl OciReference {
    /// The same repository pinned to `digest`.
    pub fn pinned(&self, digest: Digest) -> OciReference {
        OciReference { target: Target::Digest(digest), ..self.clone() }
    }

    /// The registry's host without its port (IPv6 brackets removed).
    pub fn host(&self) -> &str {
        match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => self.registry.split(':').next().unwrap_or(&self.registry),
        }
    }

    /// Whether the registry is this machine (`localhost`, `127.0.0.0/8`,
    /// `::1`), where plain HTTP exposes nothing to the network.
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The reference in `oci-client`'s form.
    pub(crate) fn to_client(&self) -> oci_client::Reference {
        let (registry, repository) = (self.registry.clone(), self.repository.clone());
        match &self.target {
            Target::Digest(digest) => {
                oci_client::Reference::with_digest(registry, repository, digest.to_string())
            }
            Target::Tag(tag) => oci_client::Reference::with_tag(registry, repository, tag.clone()),
        }
    }
}

impl FromStr for OciReference {
    type Err = String;

    fn from_str(text: &str) -> Result<OciReference, String> {
        let rest = text
            .strip_prefix(OCI_PREFIX)
            .ok_or_else(|| format!("{text:?} does not start with {OCI_PREFIX}"))?;
        let (registry, path) = rest.split_once('/').ok_or_else(|| {
            format!("{text:?}: expected oci://HOST[:PORT]/REPO:TAG or @sha256:...")
        })?;
        if registry.is_empty()
            || !registry.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            return Err(format!("{text:?}: registry {registry:?} is not HOST[:PORT]"));
        }
        let (repository, target) = match path.split_once('@') {
            Some((repository, digest)) => (repository, Target::Digest(digest.parse()?)),
            None => match path.rsplit_once(':') {
                Some((repository, tag)) if !tag.contains('/') => {
                    (repository, Target::Tag(tag.to_owned()))
                }
                _ => {
                    return Err(format!(
                        "{text:?}: name a tag (REPO:TAG) or a digest (REPO@sha256:...)"
                    ));
                }
            },
        };
        if let Target::Tag(tag) = &target
            && !is_tag(tag)
        {
            return Err(format!("{text:?}: tag {tag:?} is not 1-128 of A-Z a-z 0-9 _ . -"));
        }
        if repository.contains(':') {
            return Err(format!("{text:?}: name a tag or a digest, not both"));
        }
        if !repository.split('/').all(is_path_component) {
            return Err(format!(
                "{text:?}: repository {repository:?} must be lowercase a-z 0-9 components joined by . _ - and /"
            ));
        }
        Ok(OciReference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            target,
        })
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Digest(digest) => {
                write!(f, "{OCI_PREFIX}{}/{}@{digest}", self.registry, self.repository)
            }
            Target::Tag(tag) => {
                write!(f, "{OCI_PREFIX}{}/{}:{tag}", self.registry, self.repository)
            }
        }
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || b"._-".contains(b))
        && !part.contains("..")
        && !part.contains("___")
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b);
    (1..=128).contains(&tag.len())
        && tag.bytes().all(ok)
        && !tag.starts_with('.')
        && !tag.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex() -> String {
        "0123456789abcdef".repeat(4)
    }

    #[test]
    fn pinned_reference_parses_and_prints_back() {
        let text = format!("oci://ghcr.io/acme/tools/fs@sha256:{}", hex());
        let reference: OciReference = text.parse().unwrap();
        assert_eq!(reference.registry, "ghcr.io");
        assert_eq!(reference.repository, "acme/tools/fs");
        assert_eq!(reference.target, Target::Digest(format!("sha256:{}", hex()).parse().unwrap()));
        assert_eq!(reference.to_string(), text);
        assert!(!reference.is_loopback());
    }

    #[test]
    fn tag_reference_with_port_parses() {
        let reference: OciReference = "oci://127.0.0.1:5000/text:1.2.0".parse().unwrap();
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(reference.host(), "127.0.0.1");
        assert_eq!(reference.target, Target::Tag("1.2.0".into()));
        assert!(reference.is_loopback());
    }

    #[test]
    fn loopback_names_and_addresses_are_loopback() {
        for text in ["oci://localhost:5000/a:1", "oci://[::1]:5000/a:1", "oci://127.3.2.1/a:1"] {
            assert!(text.parse::<OciReference>().unwrap().is_loopback(), "{text}");
        }
        assert!(!"oci://10.0.0.1:5000/a:1".parse::<OciReference>().unwrap().is_loopback());
    }

    #[test]
    fn reference_without_tag_or_digest_is_refused() {
        let err = "oci://ghcr.io/acme/fs".parse::<OciReference>().unwrap_err();
        assert!(err.contains("name a tag"), "{err}");
    }

    #[test]
    fn reference_with_tag_and_digest_is_refused() {
        let err = format!("oci://ghcr.io/acme/fs:1@sha256:{}", hex())
            .parse::<OciReference>()
            .unwrap_err();
        assert!(err.contains("not both"), "{err}");
    }

    #[test]
    fn malformed_parts_are_refused() {
        for text in [
            "https://ghcr.io/acme/fs:1",
            "oci://ghcr.io/Acme/fs:1",
            "oci:///acme/fs:1",
            "oci://ghcr.io/acme/fs:-1",
            "oci://ghcr.io/acme/fs@sha256:abc",
            "oci://ghcr.io/acme//fs:1",
            "oci://user@ghcr.io/fs:1",
        ] {
            assert!(text.parse::<OciReference>().is_err(), "{text}");
        }
    }

    #[test]
    fn digest_of_bytes_is_sha256() {
        assert_eq!(
            Digest::of(b"abc").as_str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

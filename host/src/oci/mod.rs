//! Components from OCI registries: `path = "oci://HOST/REPO@sha256:..."`
//! (or `:TAG`) in a `[[component]]`, and `corral push`.
//!
//! | step | what happens |
//! | --- | --- |
//! | tag | resolved to its manifest's digest at every load ([`resolve`]); the digest is logged |
//! | manifest | looked up in the store by digest, else pulled and checked against the digest |
//! | layer | the manifest's one wasm layer (`application/wasm`), at most `[oci] max_blob_mib` |
//! | blob | looked up in the store by the layer's digest, else pulled and checked against it |
//! | compile | only bytes whose sha256 matched reach the compiler |
//!
//! - **Verified before use.** A manifest pulled by digest must hash to it;
//!   a layer must hash to the digest its manifest names. A mismatch is an
//!   error naming the expected and actual digests, and the bytes are not
//!   kept. The store is checked on every read too ([`store`]).
//! - **Offline once pulled.** A pinned reference whose manifest and layer
//!   are in the store loads without a connection. A tag always asks the
//!   registry (tags move); pin a digest to serve with the registry down.
//! - **Reached as written.** Only the registry host named in the reference
//!   is contacted, over HTTPS (webpki and system roots); plain HTTP only for
//!   a loopback registry or one listed in `[oci] insecure`. What the
//!   registry itself points to is followed by `oci-client` as the
//!   distribution protocol requires: its token realm and blob redirects
//!   (a CDN, for ghcr.io and Docker Hub); the digest check makes their
//!   bytes as trustworthy as the registry's.
//! - **One component per failure.** Every error names the reference and
//!   its cause; the loader names the component, and the others serve.
//! - **Anonymous.** Pulls and pushes send no credentials: public
//!   repositories, or registries that allow anonymous access.
//!
//! The layout pushed and expected is the CNCF TAG Runtime "wasm OCI
//! artifact" (as wkg, oras and wassette use): an OCI image manifest whose
//! config has media type `application/vnd.wasm.config.v0+json` and whose
//! single layer is the component, `application/wasm`.

pub mod reference;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use oci_client::Client;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;

pub use self::reference::{Digest, OCI_PREFIX, OciReference, Target};
use self::store::BlobStore;
use crate::config::Config;

/// Media type of a component layer in the wasm OCI artifact layout.
pub const WASM_LAYER: &str = "application/wasm";
/// Media type of the config blob in the wasm OCI artifact layout.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The layer media type of the older wasm-to-oci layout, accepted on pull.
const LEGACY_WASM_LAYER: &str = oci_client::manifest::WASM_LAYER_MEDIA_TYPE;
/// Manifest media types asked for: OCI and Docker image manifests (no
/// index: a component has no platforms to choose from).
const MANIFEST_TYPES: &[&str] =
    &[oci_client::manifest::OCI_IMAGE_MEDIA_TYPE, oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE];
/// Connection set-up to a registry, TCP and TLS.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence while reading a registry's answer.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a reference could not be pulled, resolved or pushed.
#[derive(Debug, thiserror::Error)]
#[error("{reference}: {kind}")]
pub struct OciError {
    /// The reference as written.
    pub reference: String,
    /// What went wrong.
    pub kind: OciErrorKind,
}

/// What went wrong with a reference.
#[derive(Debug, thiserror::Error)]
pub enum OciErrorKind {
    /// The registry could not be reached or refused the request.
    #[error("{0}")]
    Registry(String),
    /// Bytes did not hash to the digest that names them.
    #[error("{what} digest mismatch {place}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// `manifest` or `layer`.
        what: &'static str,
        /// The digest that names the bytes.
        expected: String,
        /// The digest of the bytes received or read.
        actual: String,
        /// Where the bytes came from.
        place: String,
    },
    /// The manifest is not an image manifest with one wasm layer.
    #[error("{0}")]
    Manifest(String),
    /// The layer is larger than `[oci] max_blob_mib` allows.
    #[error("the component layer is {size} bytes, above the limit of {limit} (oci.max_blob_mib)")]
    TooLarge {
        /// Its size, as declared or as received so far.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The local store could not be read or written.
    #[error("store {}: {source}", path.display())]
    Store {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No directory for the store was configured or could be derived.
    #[error("no directory for the OCI store: set [oci] dir (or CORRAL_CACHE_DIR, or HOME)")]
    NoStore,
}

impl OciErrorKind {
    fn about(self, reference: &OciReference) -> OciError {
        OciError { reference: reference.to_string(), kind: self }
    }
}

/// How registries are reached: HTTPS, except plain HTTP for loopback
/// registries and the ones listed as insecure.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `HOST[:PORT]` spoken to over plain HTTP although not loopback.
    pub insecure: Vec<String>,
}

impl Access {
    /// Whether `reference`'s registry is spoken to over plain HTTP.
    pub fn plain_http(&self, reference: &OciReference) -> bool {
        reference.is_loopback() || self.insecure.contains(&reference.registry)
    }

    /// A client for `reference`'s registry alone.
    fn client(&self, reference: &OciReference) -> Result<Client, OciError> {
        // reqwest takes the process's rustls provider: ring, as the rest of
        // the host uses. Already installed (by us or anyone) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let protocol = if self.plain_http(reference) {
            ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            platform_resolver: None,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            user_agent: concat!("corral/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        Client::try_from(config).map_err(|err| OciErrorKind::Registry(cause(&err)).about(reference))
    }
}

/// The manifest digest a reference stands for: a pinned one as written
/// (no network), a tag as the registry resolves it now.
pub async fn resolve(reference: &OciReference, access: &Access) -> Result<Digest, OciError> {
    match &reference.target {
        Target::Digest(digest) => Ok(digest.clone()),
        Target::Tag(_) => Ok(pull_manifest(reference, &access.client(reference)?).await?.0),
    }
}

/// A component fetched for a reference.
#[derive(Debug)]
pub struct Pulled {
    /// The component's bytes, checked against their digest.
    pub wasm: Vec<u8>,
    /// The manifest digest it was found under.
    pub manifest: Digest,
    /// Whether any of it came over the network (false: all from the store).
    pub from_registry: bool,
}

/// Where pulled components are kept, and the rules for pulling more.
#[derive(Debug, Clone)]
pub struct ComponentStore {
    blobs: Option<BlobStore>,
    access: Access,
    max_blob_bytes: u64,
}

impl ComponentStore {
    /// A store in `dir` (none: every pull fails with [`OciErrorKind::NoStore`]).
    pub fn new(dir: Option<PathBuf>, access: Access, max_blob_bytes: u64) -> ComponentStore {
        ComponentStore { blobs: dir.map(BlobStore::new), access, max_blob_bytes }
    }

    /// The store a configuration's `[oci]` table describes: `dir` against
    /// the config file's directory, else `oci` in the compile cache
    /// directory (`[engine] cache_dir` as written, else its default).
    pub fn from_config(config: &Config) -> ComponentStore {
        let dir = match &config.oci.dir {
            Some(dir) => Some(config.base_dir.join(dir)),
            None => config
                .engine
                .cache_dir
                .clone()
                .or_else(crate::sandbox::CompileCache::default_dir)
                .map(|dir| dir.join("oci")),
        };
        let access = Access { insecure: config.oci.insecure.clone() };
        ComponentStore::new(dir, access, config.oci.max_blob_mib << 20)
    }

    /// The directory of the store, when there is one.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.blobs.as_ref().map(BlobStore::dir)
    }

    /// The component `reference` names: from the store when it holds the
    /// manifest and the layer (pinned references only), else pulled,
    /// checked and stored.
    pub async fn component(&self, reference: &OciReference) -> Result<Pulled, OciError> {
        let about = |kind: OciErrorKind| kind.about(reference);
        let blobs = self.blobs.as_ref().ok_or_else(|| about(OciErrorKind::NoStore))?;
        if let Target::Digest(digest) = &reference.target
            && let Some(wasm) = self.stored(blobs, digest).map_err(about)?
        {
            return Ok(Pulled { wasm, manifest: digest.clone(), from_registry: false });
        }
        let client = self.access.client(reference)?;
        let (digest, manifest) = match &reference.target {
            Target::Digest(digest) => match blobs.get(digest, "manifest").map_err(about)? {
                Some(manifest) => (digest.clone(), manifest),
                None => pull_manifest(reference, &client).await?,
            },
            Target::Tag(_) => {
                let (digest, manifest) = pull_manifest(reference, &client).await?;
                tracing::info!(%reference, %digest, "tag resolved");
                (digest, manifest)
            }
        };
        blobs.put(&digest, &manifest).map_err(about)?;
        let (layer, layer_digest) = wasm_layer(&manifest, self.max_blob_bytes).map_err(about)?;
        let wasm = match blobs.get(&layer_digest, "layer").map_err(about)? {
            Some(wasm) => wasm,
            None => {
                let pinned = reference.pinned(digest.clone());
                let wasm = pull_layer(&pinned, &client, &layer, self.max_blob_bytes).await?;
                blobs.put(&layer_digest, &wasm).map_err(about)?;
                wasm
            }
        };
        Ok(Pulled { wasm, manifest: digest, from_registry: true })
    }

    /// The component of a stored manifest, when the store holds it and its layer.
    fn stored(&self, blobs: &BlobStore, digest: &Digest) -> Result<Option<Vec<u8>>, OciErrorKind> {
        let Some(manifest) = blobs.get(digest, "manifest")? else {
            return Ok(None);
        };
        let (_, layer_digest) = wasm_layer(&manifest, self.max_blob_bytes)?;
        blobs.get(&layer_digest, "layer")
    }
}

/// Publishes `wasm` at `reference` in the wasm OCI artifact layout and
/// returns the reference pinned to the manifest's digest. The manifest
/// holds nothing but the two blobs' descriptors, so the same component
/// pushed twice has the same digest.
pub async fn push(
    wasm: &[u8],
    reference: &OciReference,
    access: &Access,
) -> Result<OciReference, OciError> {
    let about = |kind: OciErrorKind| kind.about(reference);
    let failed = |err: OciDistributionError| about(OciErrorKind::Registry(cause(&err)));
    let client = access.client(reference)?;
    let image = reference.to_client();
    client.store_auth_if_needed(image.resolve_registry(), &RegistryAuth::Anonymous).await;
    let layer = Digest::of(wasm);
    let config = serde_json::json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer.as_str()],
    })
    .to_string()
    .into_bytes();
    let blobs = [(WASM_CONFIG, config.as_slice()), (WASM_LAYER, wasm)];
    let mut descriptors = Vec::new();
    for (media_type, bytes) in blobs {
        let digest = Digest::of(bytes);
        if !client.blob_exists(&image, digest.as_str()).await.map_err(failed)? {
            client.push_blob(&image, bytes.to_vec(), digest.as_str()).await.map_err(failed)?;
        }
        descriptors.push(OciDescriptor {
            media_type: media_type.to_owned(),
            digest: digest.to_string(),
            size: bytes.len() as i64,
            ..OciDescriptor::default()
        });
    }
    let layers = descriptors.split_off(1);
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_owned()),
        config: descriptors.remove(0),
        layers,
        ..OciImageManifest::default()
    };
    let body = serde_json::to_vec(&manifest).map_err(|err| {
        about(OciErrorKind::Manifest(format!("cannot encode the manifest: {err}")))
    })?;
    let digest = Digest::of(&body);
    let content_type = http::HeaderValue::from_static(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE);
    client.push_manifest_raw(&image, body, content_type).await.map_err(failed)?;
    Ok(reference.pinned(digest))
}

/// The manifest `reference` names and its digest, checked against the
/// reference's digest when it has one.
async fn pull_manifest(
    reference: &OciReference,
    client: &Client,
) -> Result<(Digest, Vec<u8>), OciError> {
    let about = |kind: OciErrorKind| kind.about(reference);
    let (body, _) = client
        .pull_manifest_raw(&reference.to_client(), &RegistryAuth::Anonymous, MANIFEST_TYPES)
        .await
        .map_err(|err| about(client_error(err, "manifest")))?;
    let actual = Digest::of(&body);
    if let Target::Digest(expected) = &reference.target
        && *expected != actual
    {
        return Err(about(OciErrorKind::DigestMismatch {
            what: "manifest",
            expected: expected.to_string(),
            actual: actual.to_string(),
            place: "from the registry".into(),
        }));
    }
    Ok((actual, body.to_vec()))
}

/// The one wasm layer of a manifest, and its digest, within `max_bytes`.
fn wasm_layer(manifest: &[u8], max_bytes: u64) -> Result<(OciDescriptor, Digest), OciErrorKind> {
    let manifest: OciImageManifest = serde_json::from_slice(manifest)
        .map_err(|err| OciErrorKind::Manifest(format!("not an OCI image manifest: {err}")))?;
    let is_wasm = |layer: &&OciDescriptor| {
        layer.media_type == WASM_LAYER || layer.media_type == LEGACY_WASM_LAYER
    };
    let mut wasm = manifest.layers.iter().filter(is_wasm);
    let (Some(layer), None) = (wasm.next(), wasm.next()) else {
        let types: Vec<&str> = manifest.layers.iter().map(|l| l.media_type.as_str()).collect();
        return Err(OciErrorKind::Manifest(format!(
            "the manifest must have exactly one wasm layer ({WASM_LAYER}); its layers: [{}]",
            types.join(", ")
        )));
    };
    let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
    if size > max_bytes {
        return Err(OciErrorKind::TooLarge { size, limit: max_bytes });
    }
    let digest = layer
        .digest
        .parse()
        .map_err(|err: String| OciErrorKind::Manifest(format!("wasm layer: {err}")))?;
    Ok((layer.clone(), digest))
}

/// The layer's bytes from the registry, at most `max_bytes`, checked
/// against the layer's digest.
async fn pull_layer(
    reference: &OciReference,
    client: &Client,
    layer: &OciDescriptor,
    max_bytes: u64,
) -> Result<Vec<u8>, OciError> {
    use futures_util::StreamExt as _;
    let about = |kind: OciErrorKind| kind.about(reference);
    let too_large = |size| about(OciErrorKind::TooLarge { size, limit: max_bytes });
    let mut stream = client
        .pull_blob_stream(&reference.to_client(), layer)
        .await
        .map_err(|err| about(client_error(err, "layer")))?;
    if let Some(length) = stream.content_length
        && length > max_bytes
    {
        return Err(too_large(length));
    }
    let mut wasm = Vec::with_capacity(layer.size.clamp(0, 64 << 20) as usize);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) if (wasm.len() + chunk.len()) as u64 > max_bytes => {
                return Err(too_large((wasm.len() + chunk.len()) as u64));
            }
            Ok(chunk) => wasm.extend_from_slice(&chunk),
            // oci-client's own check at the end of the stream: ours below
            // says the same, with the digests.
            Err(err) if err.get_ref().is_some_and(|inner| inner.is::<DigestError>()) => break,
            Err(err) => {
                return Err(about(OciErrorKind::Registry(format!(
                    "reading the layer: {}",
                    chain(&err)
                ))));
            }
        }
    }
    let actual = Digest::of(&wasm);
    if actual.as_str() != layer.digest {
        return Err(about(OciErrorKind::DigestMismatch {
            what: "layer",
            expected: layer.digest.clone(),
            actual: actual.to_string(),
            place: "from the registry".into(),
        }));
    }
    Ok(wasm)
}

/// An `oci-client` error as one of ours: its digest check as a mismatch,
/// everything else as the registry's failure.
fn client_error(err: OciDistributionError, what: &'static str) -> OciErrorKind {
    match err {
        OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
            OciErrorKind::DigestMismatch {
                what,
                expected,
                actual,
                place: "from the registry".into(),
            }
        }
        err => OciErrorKind::Registry(cause(&err)),
    }
}

/// What the registry (or the way to it) said, in a sentence.
fn cause(err: &OciDistributionError) -> String {
    match err {
        OciDistributionError::RequestError(err) if err.is_connect() => {
            format!("cannot connect to the registry: {}", chain(err))
        }
        OciDistributionError::RequestError(err) if err.is_timeout() => {
            format!("the registry did not answer in time: {}", chain(err))
        }
        OciDistributionError::RegistryError { envelope, url } => {
            let errors: Vec<String> =
                envelope.errors.iter().map(|e| format!("{:?}: {}", e.code, e.message)).collect();
            format!("the registry answered {} for {url}", errors.join("; "))
        }
        err => chain(err),
    }
}

/// An error and its sources, joined by `: `.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let next_text = next.to_string();
        if !text.contains(&next_text) {
            text.push_str(": ");
            text.push_str(&next_text);
        }
        source = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layers: &[(&str, i64)]) -> Vec<u8> {
        let layers: Vec<_> = layers
            .iter()
            .map(|(media_type, size)| {
                serde_json::json!({
                    "mediaType": media_type, "size": size,
                    "digest": format!("sha256:{}", "ab".repeat(32)),
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "config": { "mediaType": WASM_CONFIG, "size": 2, "digest": format!("sha256:{}", "cd".repeat(32)) },
            "layers": layers,
        }))
        .unwrap()
    }

    #[test]
    fn the_one_wasm_layer_is_the_component() {
        let (layer, digest) = wasm_layer(&manifest(&[(WASM_LAYER, 10)]), 10).unwrap();
        assert_eq!((layer.size, digest.hex()), (10, "ab".repeat(32).as_str()));
    }

    #[test]
    fn manifest_without_a_wasm_layer_is_refused_naming_its_layers() {
        let err = wasm_layer(&manifest(&[("application/vnd.oci.image.layer.v1.tar", 10)]), 10)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the manifest must have exactly one wasm layer (application/wasm); its layers: [application/vnd.oci.image.layer.v1.tar]"
        );
    }

    #[test]
    fn manifest_with_two_wasm_layers_is_refused() {
        let two = manifest(&[(WASM_LAYER, 10), (LEGACY_WASM_LAYER, 10)]);
        assert!(matches!(wasm_layer(&two, 10), Err(OciErrorKind::Manifest(_))));
    }

    #[test]
    fn layer_declared_above_the_limit_is_refused_before_any_download() {
        let err = wasm_layer(&manifest(&[(WASM_LAYER, 11)]), 10).unwrap_err();
        assert!(matches!(err, OciErrorKind::TooLarge { size: 11, limit: 10 }), "{err}");
    }

    #[test]
    fn plain_http_only_for_loopback_and_listed_registries() {
        let access = Access { insecure: vec!["registry.lan:5000".into()] };
        let plain = |text: &str| access.plain_http(&text.parse().unwrap());
        assert!(plain("oci://127.0.0.1:5000/a:1"));
        assert!(plain("oci://localhost/a:1"));
        assert!(plain("oci://registry.lan:5000/a:1"));
        assert!(!plain("oci://registry.lan/a:1"));
        assert!(!plain("oci://ghcr.io/a:1"));
    }

    #[test]
    fn malformed_reference_in_a_config_names_the_component() {
        let text = "[[component]]\nname = \"fs\"\npath = \"oci://ghcr.io/acme/fs\"\n";
        let err = Config::from_toml(text, "t.toml".as_ref(), "/".as_ref()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config: component \"fs\": path: \"oci://ghcr.io/acme/fs\": name a tag (REPO:TAG) or a digest (REPO@sha256:...)"
        );
    }

    #[test]
    fn default_store_is_under_the_compile_cache_dir() {
        let text = "[engine]\ncache_dir = \"/var/cache/corral\"\n";
        let config = Config::from_toml(text, "t.toml".as_ref(), "/etc".as_ref()).unwrap();
        let store = ComponentStore::from_config(&config);
        assert_eq!(store.dir(), Some(std::path::Path::new("/var/cache/corral/oci")));
    }
}

//! Every committed fuzz input, replayed through its target in the ordinary
//! test build: the hand-written seeds (`fuzz/seeds/<target>/`) and the
//! minimised corpus of the long runs (`fuzz/corpora/<target>.tar.xz`). The
//! targets are the very functions libFuzzer drives (`fuzz/src/targets/`),
//! compiled here without coverage instrumentation, so a regression on a
//! known input fails `cargo test`; the instrumented runs that look for new
//! inputs are `bash .ci/fuzz.sh SECONDS` (see `fuzz/README.md`).

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod corral_fuzz;

/// The inputs of `target`: its seeds and its corpus, by file name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let fuzz = corral_fuzz::root().join("fuzz");
    let mut inputs = Vec::new();
    let mut read_dir = |dir: &Path, label: &str| {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        files.sort();
        for file in files.into_iter().filter(|f| f.is_file()) {
            let name = format!("{label}/{}", file.file_name().unwrap().to_string_lossy());
            inputs.push((name, std::fs::read(&file).expect("a readable input")));
        }
    };
    read_dir(&fuzz.join("seeds").join(target), "seeds");
    let corpus = fuzz.join("corpora").join(format!("{target}.tar.xz"));
    if corpus.exists() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let status = std::process::Command::new("tar")
            .args(["-xJf"])
            .arg(&corpus)
            .args(["--strip-components=1", "-C"])
            .arg(dir.path())
            .status()
            .expect("tar runs (xz is needed to read the corpora)");
        assert!(status.success(), "tar could not unpack {}", corpus.display());
        read_dir(dir.path(), &format!("corpora/{target}.tar.xz"));
    }
    inputs
}

/// Replays every input of `target`, each in its own unwind boundary, and
/// fails naming every input that panicked.
fn replay(target: &str) {
    let (_, init, run) = corral_fuzz::targets::ALL
        .into_iter()
        .find(|(name, _, _)| *name == target)
        .expect("a known target");
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no committed input for fuzz target {target}");
    init();
    let failed: Vec<&str> = inputs
        .iter()
        .filter(|(_, data)| std::panic::catch_unwind(|| run(data)).is_err())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz target {target}: {} of {} committed inputs panicked: {}",
        failed.len(),
        inputs.len(),
        failed.join(", ")
    );
}

/// One test per target (they run in parallel), and the list of targets
/// they cover, checked against `fuzz/fuzz_targets/` below.
macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        const REPLAYED: &[&str] = &[$(stringify!($target)),*];
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*
    };
}

replay_tests!(arguments, config, guest_result, mcp_http, mcp_stdio, native_client, net_rules);

#[test]
fn every_fuzz_target_is_replayed() {
    let mut files: Vec<String> = std::fs::read_dir(corral_fuzz::root().join("fuzz/fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .filter_map(|e| Some(e.ok()?.path().file_stem()?.to_string_lossy().into_owned()))
        .collect();
    files.sort();
    let targets: Vec<&str> = corral_fuzz::targets::ALL.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(targets, files, "corral_fuzz::targets::ALL and fuzz/fuzz_targets/ disagree");
    assert_eq!(REPLAYED, files, "the tests here and fuzz/fuzz_targets/ disagree");
}

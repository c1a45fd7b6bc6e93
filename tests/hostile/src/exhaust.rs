//! Tools that exhaust a resource: CPU, memory, stack, output, time.
//!
//! `black_box` keeps the optimiser from proving the work useless and
//! deleting it: a loop the compiler removes tests no limit.

use corral_sdk::{ToolError, log};
use schemars::JsonSchema;
use serde::Deserialize;
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// Wasm pages are 64 KiB, but the host's OS pages are 4 KiB: touching one
/// byte in every 4 KiB commits every page on any host.
const PAGE: usize = 4096;

/// Loops forever; only fuel or the epoch deadline ends it.
pub fn spin() -> Result<String, ToolError> {
    let mut counter: u64 = 0;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Arguments of `burn`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct BurnArgs {
    /// Rounds of mixing.
    pub iterations: u64,
}

/// Mixes a 64-bit hash `iterations` times; returns it as hex.
pub fn burn(iterations: u64) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..iterations {
        hash = black_box((hash ^ round).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29));
    }
    format!("{hash:016x}")
}

/// Arguments of `alloc`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AllocArgs {
    /// MiB to allocate and touch.
    pub mib: u64,
}

/// Allocates `mib` MiB in 1 MiB chunks and writes to every 4 KiB of them.
///
/// Chunks, not one buffer, so that any `mib` is a memory bomb that fails at
/// the host's limit: one `Vec` of 2 GiB or more would instead fail at once
/// with a capacity overflow (wasm32's `isize::MAX`). An allocation the host
/// refuses aborts the guest (Rust's allocation-failure handler), which is
/// the memory-limit outcome the host must classify.
pub fn alloc(mib: u64) -> Result<String, ToolError> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut touched: u64 = 0;
    for _ in 0..mib {
        let mut chunk = vec![0u8; MIB];
        for byte in chunk.iter_mut().step_by(PAGE) {
            *byte = 1;
            touched += 1;
        }
        chunks.push(black_box(chunk));
    }
    black_box(&chunks);
    Ok(format!("allocated {mib} MiB, touched {touched} pages"))
}

/// Allocates 1 MiB chunks, touched, forever.
pub fn grow_forever() -> Result<String, ToolError> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        chunks.push(vec![1; MIB]);
        black_box(&chunks);
    }
}

/// Arguments of `recurse`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecurseArgs {
    /// How deep to recurse.
    pub depth: u64,
}

/// Recurses `depth` deep and returns the depth reached; the addition
/// after the call keeps it from being a tail call the compiler could make
/// a loop.
///
/// Frames are kept small on purpose. Rust on wasm keeps locals whose
/// address is taken on a shadow stack in linear memory (1 MiB); big frames
/// would overflow that first, which traps as an out-of-bounds memory
/// access, not as the wasm stack overflow (`max_wasm_stack`) this fixture
/// is for.
pub fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    black_box(recurse(black_box(depth - 1))) + 1
}

/// Arguments of `flood`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FloodArgs {
    /// Size of the text item, in bytes.
    pub bytes: u64,
}

/// One text item of `bytes` bytes of `x`.
pub fn flood(bytes: u64) -> Result<String, ToolError> {
    let bytes = usize::try_from(bytes)
        .map_err(|_| ToolError::new(format!("{bytes} bytes do not fit in memory")))?;
    Ok("x".repeat(bytes))
}

/// Arguments of `log_flood`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LogFloodArgs {
    /// How many messages.
    pub count: u64,
    /// Bytes per message.
    pub size: u64,
}

/// Sends `count` info messages of `size` bytes.
pub fn log_flood(count: u64, size: u64) -> Result<String, ToolError> {
    let message = flood(size)?;
    for _ in 0..count {
        log::info(&message);
    }
    Ok(format!("logged {count} messages of {size} bytes"))
}

/// Asks the client a new question, again and again, whatever the answer:
/// a guest that would flood the client with requests. Returns only if the
/// host lets it ask `u32::MAX` questions.
pub fn ask_loop() -> Result<String, ToolError> {
    const SCHEMA: &str = r#"{"type":"object","properties":{"ok":{"type":"boolean"}}}"#;
    for i in 0..u32::MAX {
        let _ = corral_sdk::Elicitation::new(format!("question {i}?"))
            .id(format!("q{i}"))
            .ask_with_schema(SCHEMA);
    }
    Ok("asked every question".to_owned())
}

/// Arguments of `stdout`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StdoutArgs {
    /// Bytes to write to each stream.
    pub bytes: u64,
}

/// Writes `bytes` bytes to stdout, then to stderr, in 64 KiB chunks.
pub fn stdout(bytes: u64) -> Result<String, ToolError> {
    let chunk = [b'o'; 64 * 1024];
    for stream in [Stream::Out, Stream::Err] {
        let mut left = bytes;
        while left > 0 {
            let size = usize::try_from(left).map_or(chunk.len(), |left| left.min(chunk.len()));
            stream.write_all(&chunk[..size]).map_err(|error| {
                ToolError::new(format!("{stream:?}: {error} (kind {:?})", error.kind()))
            })?;
            left -= size as u64;
        }
    }
    Ok("ok".to_owned())
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

impl Stream {
    fn write_all(self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            // Stdout is line-buffered, and a component call has no process
            // exit to flush it.
            Self::Out => {
                let mut out = std::io::stdout();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Self::Err => std::io::stderr().write_all(bytes),
        }
    }
}

/// Arguments of `panic`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PanicArgs {
    /// The panic message.
    pub message: String,
}

/// Panics: in wasm, a trap after the message is printed to stderr.
pub fn panic(message: &str) -> Result<String, ToolError> {
    panic!("{message}");
}

/// Arguments of `sleep`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SleepArgs {
    /// Milliseconds to sleep.
    pub ms: u64,
}

/// Blocks in the WASI monotonic clock's poll, executing no wasm meanwhile:
/// fuel does not run out, only a wall-clock deadline ends it early.
pub fn sleep(ms: u64) -> String {
    std::thread::sleep(Duration::from_millis(ms));
    format!("slept {ms} ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_is_deterministic() {
        assert_eq!(burn(1000), burn(1000));
        assert_ne!(burn(1000), burn(1001));
    }

    #[test]
    fn alloc_touches_one_page_per_4_kib() {
        assert_eq!(alloc(1).unwrap(), "allocated 1 MiB, touched 256 pages");
    }

    #[test]
    fn recurse_returns_its_depth() {
        assert_eq!(recurse(100), 100);
    }

    #[test]
    fn flood_returns_exactly_the_bytes_asked() {
        assert_eq!(flood(5).unwrap(), "xxxxx");
    }

    #[test]
    fn log_flood_sends_count_messages() {
        corral_sdk::testing::take_events();
        log_flood(3, 2).unwrap();
        assert_eq!(corral_sdk::testing::take_events().len(), 3);
    }
}

/// Arguments of `residue`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResidueArgs {
    /// KiB of fresh heap to fill with the marker after the scan.
    pub kib: u32,
}

/// A 64-byte block of memory, aligned so the scan can step through memory
/// by whole blocks.
#[repr(C, align(64))]
struct Block([u8; 64]);

/// Byte `i` of the marker. `seed` comes through `black_box`, so the marker
/// is computed at run time and never sits in the data segment.
fn marker_byte(seed: u8, i: usize) -> u8 {
    (i as u8).wrapping_mul(37) ^ seed
}

/// Counts the 64-byte blocks of this instance's whole linear memory that
/// hold the marker, fills `kib` KiB of fresh heap with it, and counts again:
/// `"<before> <after>"`. In a fresh instance `before` is 0 however much an
/// earlier call wrote; `after` shows the scan finds what it looks for.
pub fn residue(kib: u32) -> String {
    let seed = black_box(0x5c_u8);
    let before = count_marked_blocks(seed);
    let mut blocks: Vec<Block> = (0..kib as usize * 16).map(|_| Block([0; 64])).collect();
    for block in &mut blocks {
        for (i, byte) in block.0.iter_mut().enumerate() {
            *byte = marker_byte(seed, i);
        }
    }
    black_box(&blocks);
    let after = count_marked_blocks(seed);
    format!("{before} {after}")
}

#[cfg(target_arch = "wasm32")]
fn count_marked_blocks(seed: u8) -> usize {
    let end = core::arch::wasm32::memory_size(0) * 65536;
    // Address 0 is valid wasm memory, but start past it: Rust treats a null
    // pointer as never dereferenceable.
    (64..end)
        .step_by(64)
        .filter(|&addr| {
            // SAFETY: every address below memory_size * 64 KiB is mapped in
            // a wasm instance, and a volatile read of bytes has no validity
            // requirement.
            let block = unsafe { core::ptr::read_volatile(addr as *const [u8; 64]) };
            block.iter().enumerate().all(|(i, &byte)| byte == marker_byte(seed, i))
        })
        .count()
}

/// Natively (unit tests) there is no single linear memory to scan.
#[cfg(not(target_arch = "wasm32"))]
fn count_marked_blocks(_seed: u8) -> usize {
    0
}

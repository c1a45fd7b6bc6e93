//! Hostile guests: one component whose tools try to exhaust or escape the
//! sandbox, as fixtures for the host's containment tests.
//!
//! Each tool does exactly one bad thing, named by the tool, so a test can
//! call it and assert the outcome the host classified (timeout, out of
//! fuel, memory limit, stack overflow, trap, output too large) and that
//! the host still serves `echo` afterwards. Capability probes (`read`,
//! `write`, `env`, `connect`, ...) report how WASI refused, including the
//! `io::ErrorKind`, so a test can check the refusal and not just a failure.
//!
//! | tool | does |
//! | --- | --- |
//! | `spin {}` | loops forever |
//! | `burn {iterations}` | a finite hash-mixing loop; returns the hash |
//! | `alloc {mib}` | allocates and touches `mib` MiB |
//! | `grow_forever {}` | allocates 1 MiB chunks until stopped |
//! | `recurse {depth}` | non-tail recursion `depth` deep |
//! | `read`, `write`, `list`, `mkdir`, `symlink_read` `{path, ...}` | filesystem probes |
//! | `env {}`, `args {}` | what the environment and argv hold |
//! | `connect {address}`, `resolve {host}` | network probes (TCP connect, DNS) |
//! | `udp_send {address}`, `listen {address}` | network probes (a UDP datagram, a TCP listener) |
//! | `flood {bytes}` | one text item that large |
//! | `log_flood {count, size}` | `count` log messages of `size` bytes |
//! | `ask_loop {}` | asks the client a new question forever, ignoring the answers |
//! | `stdout {bytes}` | writes that much to stdout and to stderr |
//! | `panic {message}` | panics |
//! | `sleep {ms}` | blocks in a host call (the WASI clock) |
//! | `stdin {}` | reads stdin to its end |
//! | `echo {text}` | an ordinary call, to check the host still serves |
//! | `counter {}` | bumps a static counter and returns it: 1 in a fresh instance |
//! | `residue {kib}` | counts marker blocks left in linear memory, writes `kib` KiB of them, counts again |

use std::sync::atomic::{AtomicU64, Ordering};

use corral_sdk::{NoArgs, Structured, Tool, Toolbox};

mod exhaust;
mod probe;

/// The hostile tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(Tool::new("spin", "Loop forever", |_: NoArgs| exhaust::spin()))
        .with(Tool::new(
            "burn",
            "Mix a hash for the given number of iterations",
            |args: exhaust::BurnArgs| Ok(exhaust::burn(args.iterations)),
        ))
        .with(Tool::new(
            "alloc",
            "Allocate and touch the given number of MiB",
            |args: exhaust::AllocArgs| exhaust::alloc(args.mib),
        ))
        .with(Tool::new(
            "grow_forever",
            "Allocate 1 MiB chunks until the host stops it",
            |_: NoArgs| exhaust::grow_forever(),
        ))
        .with(Tool::new("recurse", "Recurse to the given depth", |args: exhaust::RecurseArgs| {
            Ok(exhaust::recurse(args.depth).to_string())
        }))
        .with(Tool::new("read", "Read a file as text", |args: probe::PathArgs| {
            probe::read(&args.path)
        }))
        .with(Tool::new("write", "Write text to a file", |args: probe::WriteArgs| {
            probe::write(&args.path, &args.content)
        }))
        .with(Tool::new("list", "List a directory's entry names", |args: probe::PathArgs| {
            probe::list(&args.path)
        }))
        .with(Tool::new("mkdir", "Create a directory", |args: probe::PathArgs| {
            probe::mkdir(&args.path)
        }))
        .with(Tool::new(
            "symlink_read",
            "Read the target of a symbolic link, then the file it points to",
            |args: probe::PathArgs| probe::symlink_read(&args.path),
        ))
        .with(Tool::new("env", "Return every environment variable", |_: NoArgs| {
            Ok(Structured(probe::env()))
        }))
        .with(Tool::new(
            "args",
            "Return the command-line arguments as a JSON array",
            |_: NoArgs| probe::args(),
        ))
        .with(Tool::new(
            "connect",
            "Open a TCP connection to host:port, then close it",
            |args: probe::ConnectArgs| probe::connect(&args.address),
        ))
        .with(Tool::new(
            "resolve",
            "Resolve a host name to addresses",
            |args: probe::ResolveArgs| probe::resolve(&args.host),
        ))
        .with(Tool::new(
            "udp_send",
            "Send one UDP datagram to ip:port from an ephemeral port",
            |args: probe::ConnectArgs| probe::udp_send(&args.address),
        ))
        .with(Tool::new("listen", "Bind a TCP listener to ip:port", |args: probe::ConnectArgs| {
            probe::listen(&args.address)
        }))
        .with(Tool::new(
            "flood",
            "Return one text item of the given size",
            |args: exhaust::FloodArgs| exhaust::flood(args.bytes),
        ))
        .with(Tool::new(
            "log_flood",
            "Send count log messages of size bytes each",
            |args: exhaust::LogFloodArgs| exhaust::log_flood(args.count, args.size),
        ))
        .with(Tool::new(
            "ask_loop",
            "Ask the client a new question forever, whatever it answers",
            |_: NoArgs| exhaust::ask_loop(),
        ))
        .with(Tool::new(
            "stdout",
            "Write the given number of bytes to stdout and to stderr",
            |args: exhaust::StdoutArgs| exhaust::stdout(args.bytes),
        ))
        .with(Tool::new("panic", "Panic with the message", |args: exhaust::PanicArgs| {
            exhaust::panic(&args.message)
        }))
        .with(Tool::new("sleep", "Sleep for the given milliseconds", |args: exhaust::SleepArgs| {
            Ok(exhaust::sleep(args.ms))
        }))
        .with(Tool::new("stdin", "Read stdin to its end; return the byte count", |_: NoArgs| {
            probe::stdin()
        }))
        .with(Tool::new("echo", "Return the text", |args: probe::EchoArgs| Ok(args.text)))
        .with(Tool::new(
            "counter",
            "Increment a counter kept in a static and return it",
            |_: NoArgs| {
                static CALLS: AtomicU64 = AtomicU64::new(0);
                Ok((CALLS.fetch_add(1, Ordering::Relaxed) + 1).to_string())
            },
        ))
        .with(Tool::new(
            "residue",
            "Count marker blocks an earlier call left in memory, then write some",
            |args: exhaust::ResidueArgs| Ok(exhaust::residue(args.kib)),
        ))
}

corral_sdk::export!(tools);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_valid_definition() {
        let definitions = tools().definitions().expect("tools are well defined");
        let names: Vec<_> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "spin",
                "burn",
                "alloc",
                "grow_forever",
                "recurse",
                "read",
                "write",
                "list",
                "mkdir",
                "symlink_read",
                "env",
                "args",
                "connect",
                "resolve",
                "udp_send",
                "listen",
                "flood",
                "log_flood",
                "ask_loop",
                "stdout",
                "panic",
                "sleep",
                "stdin",
                "echo",
                "counter",
                "residue",
            ]
        );
    }

    #[test]
    fn env_declares_an_object_output_schema() {
        let definitions = tools().definitions().unwrap();
        let env = definitions.iter().find(|d| d.name == "env").unwrap();
        let schema: serde_json::Value =
            serde_json::from_str(env.output_schema.as_deref().unwrap()).unwrap();
        assert_eq!(schema["type"], "object");
    }
}

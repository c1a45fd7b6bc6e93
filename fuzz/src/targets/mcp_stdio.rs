//! The stdio door and the MCP core behind it: arbitrary bytes as a desktop
//! client's stdin (both protocol generations, any framing), until EOF.
//!
//! Checked: no panic; every line the host writes is one JSON-RPC message.

use std::sync::OnceLock;

use corral::app::{App, NativeMode};
use corral::config::Config;
use tokio::io::AsyncReadExt as _;

struct Host {
    config: Config,
    app: App,
}

fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let config = super::host_config();
        let app = super::runtime().block_on(async {
            let app = App::start(&config, NativeMode::Skip).expect("the host starts");
            app.loaded().await;
            app
        });
        Host { config, app }
    })
}

/// Compiles the component, before the first input is timed.
pub fn init() {
    host();
}

/// One input, as libFuzzer hands it to the target.
pub fn run(input: &[u8]) {
    let host = host();
    super::runtime().block_on(async {
        let (output, mut written) = tokio::io::duplex(1 << 16);
        let reading = tokio::spawn(async move {
            let mut out = Vec::new();
            written.read_to_end(&mut out).await.map(|_| out)
        });
        corral::stdio::serve(&host.app, &host.config.server, input, output, std::future::pending())
            .await
            .expect("writing to the duplex cannot fail while it is read");
        let out = reading.await.expect("the reader ran").expect("the duplex reads");
        for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let message: serde_json::Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                panic!("the host wrote a line that is not JSON ({e}): {line:?}")
            });
            assert_eq!(message["jsonrpc"], "2.0", "not a JSON-RPC message: {message}");
        }
    });
}

//! `fetch`: an HTTP client tool over `wasi:http`, reaching only what the host
//! grants the component.
//!
//! | tool | does | hints |
//! | --- | --- | --- |
//! | `fetch {url, method?, body?, content_type?, max_chars?, raw?}` | GET (or POST) an `http(s)` URL; returns status, selected headers and the body as text, HTML reduced to readable text | read-only unless POST, open world, structured |
//!
//! The component holds no policy of its own: the host checks every request
//! against the component's network rules, resolves the name itself and
//! refuses loopback, private and link-local addresses unless they are granted
//! by address. [`transport`] turns the host's refusals and timeouts into
//! messages that say what happened, e.g. `request to http://10.0.0.1/ was
//! denied: no network rule of this component grants 10.0.0.1:80`.

use corral_sdk::{Structured, Tool, Toolbox};

pub mod request;
pub mod text;
pub mod transport;

/// The component's tools.
pub fn tools() -> Toolbox {
    Toolbox::new().with(
        Tool::new(
            "fetch",
            "Fetch an http or https URL with GET (or POST with a text body) and return \
             the status, selected headers and the body as text. HTML is reduced to \
             readable text unless raw is true; the text is cut at max_chars (default \
             100000). Non-text bodies (images, archives, ...) are refused. Only hosts \
             the server operator granted this tool can be reached.",
            |args: request::FetchArgs| {
                let plan = request::Plan::from_args(&args)?;
                transport::fetch(&plan).map(Structured)
            },
        )
        .title("Fetch URL")
        .read_only(true)
        .open_world(true),
    )
}

corral_sdk::export!(tools);

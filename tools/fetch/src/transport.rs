//! Sending the request through `wasi:http` and reading the response.
//!
//! Redirects are not followed: a 3xx result carries its `location` header,
//! and fetching it is a new call that the host checks like any other.

use std::collections::BTreeMap;

use corral_sdk::ToolError;
use schemars::JsonSchema;
use serde::Serialize;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

use crate::request::{self, Plan};
use crate::text;

/// Response headers worth showing an agent; the rest are dropped.
pub const SHOWN_HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "content-language",
    "last-modified",
    "etag",
    "location",
    "retry-after",
    "www-authenticate",
];

/// What `fetch` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchResult {
    /// The URL fetched (without fragment).
    pub url: String,
    /// HTTP status code.
    pub status: u16,
    /// The response headers in [`SHOWN_HEADERS`], by lowercase name.
    pub headers: BTreeMap<String, String>,
    /// The body as text (HTML reduced to text unless `raw`).
    pub body: String,
    /// Whether `body` was cut at `max_chars`.
    pub truncated: bool,
    /// Size of the body as received, in bytes.
    pub body_bytes: usize,
}

/// Sends the request and reads the whole response.
pub fn fetch(plan: &Plan) -> Result<FetchResult, ToolError> {
    let fail = |what: &str| {
        let url = plan.url.clone();
        let what = what.to_owned();
        move |code: ErrorCode| ToolError::new(describe(&url, &what, &code))
    };
    let (status, headers, body) = exchange(plan).map_err(|(what, code)| fail(what)(code))?;
    let content_type = headers.get("content-type").map(String::as_str);
    let text = text::body_text(content_type, &body, plan.raw, plan.max_chars)?;
    Ok(FetchResult {
        url: plan.url.clone(),
        status,
        body_bytes: body.len(),
        headers,
        body: text.text,
        truncated: text.truncated,
    })
}

type Exchanged = (u16, BTreeMap<String, String>, Vec<u8>);

/// One request and response; an error names the step it failed in.
fn exchange(plan: &Plan) -> Result<Exchanged, (&'static str, ErrorCode)> {
    let mut header_list = vec![
        ("user-agent".to_owned(), b"corral-fetch/0.1".to_vec()),
        (
            "accept".to_owned(),
            b"text/html, text/*, application/json, application/xml;q=0.9, */*;q=0.1".to_vec(),
        ),
    ];
    if let Some((content_type, body)) = &plan.body {
        header_list.push(("content-type".to_owned(), content_type.as_bytes().to_vec()));
        // A known length, so the body is not sent chunked, which some
        // servers refuse.
        header_list.push(("content-length".to_owned(), body.len().to_string().into_bytes()));
    }
    let headers =
        Fields::from_list(&header_list).map_err(internal("building the request headers"))?;
    let request = OutgoingRequest::new(headers);
    let method = match plan.method {
        request::Method::Get => Method::Get,
        request::Method::Post => Method::Post,
    };
    let scheme = if plan.https { Scheme::Https } else { Scheme::Http };
    request.set_method(&method).map_err(internal("setting the method"))?;
    request.set_scheme(Some(&scheme)).map_err(internal("setting the scheme"))?;
    request.set_authority(Some(&plan.authority)).map_err(internal("setting the host"))?;
    request
        .set_path_with_query(Some(&plan.path_with_query))
        .map_err(internal("setting the path"))?;
    let outgoing = request.body().map_err(internal("opening the request body"))?;

    let pending = outgoing_handler::handle(request, None).map_err(|code| ("sending", code))?;
    if let Some((_, body)) = &plan.body {
        let stream = outgoing.write().map_err(internal("writing the request body"))?;
        for chunk in body.as_bytes().chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|err| ("writing the request body", stream_error_code(err)))?;
        }
        drop(stream);
    }
    OutgoingBody::finish(outgoing, None).map_err(|code| ("finishing the request body", code))?;

    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(("waiting for the response", code)),
        Some(Err(())) | None => {
            return Err(("waiting for the response", ErrorCode::InternalError(None)));
        }
    };
    let status = response.status();
    let mut shown = BTreeMap::new();
    for (name, value) in response.headers().entries() {
        let name = name.to_ascii_lowercase();
        if SHOWN_HEADERS.contains(&name.as_str()) {
            shown.insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    let incoming = response.consume().map_err(internal("opening the response body"))?;
    let stream = incoming.stream().map_err(internal("opening the response body"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(err) => return Err(("reading the response body", stream_error_code(err))),
        }
    }
    drop(stream);
    let _trailers = IncomingBody::finish(incoming);
    Ok((status, shown, body))
}

/// Maps a failure with no `wasi:http` error code of its own (a bad header,
/// a body opened twice) to an internal error of `step`.
fn internal<E>(step: &'static str) -> impl FnOnce(E) -> (&'static str, ErrorCode) {
    move |_| (step, ErrorCode::InternalError(None))
}

/// The `wasi:http` error behind a stream failure, when there is one.
fn stream_error_code(err: StreamError) -> ErrorCode {
    match err {
        StreamError::LastOperationFailed(io) => wasip2::http::types::http_error_code(&io)
            .unwrap_or_else(|| ErrorCode::InternalError(Some(io.to_debug_string()))),
        StreamError::Closed => ErrorCode::HttpResponseIncomplete,
    }
}

/// A message that says what went wrong, in the agent's terms.
pub fn describe(url: &str, step: &str, code: &ErrorCode) -> String {
    match code {
        ErrorCode::HttpRequestDenied => format!(
            "request to {url} was denied by the host: no network rule of this tool grants that host and port"
        ),
        ErrorCode::DestinationIpProhibited => format!(
            "request to {url} was denied by the host: the host name resolves to an address that is not public (loopback, private or link-local) and no address rule of this tool grants it"
        ),
        ErrorCode::DnsTimeout => format!("cannot resolve the host of {url}: the lookup timed out"),
        ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
            format!("cannot resolve the host of {url}: no such host")
        }
        ErrorCode::ConnectionRefused => format!("cannot connect to {url}: connection refused"),
        ErrorCode::ConnectionTimeout => {
            format!("cannot connect to {url}: the connection timed out")
        }
        ErrorCode::ConnectionReadTimeout => {
            format!("{url} did not answer in time ({step}): the read timed out")
        }
        ErrorCode::HttpResponseBodySize(Some(limit)) => {
            format!("the response from {url} is larger than the host's limit of {limit} bytes")
        }
        ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_)
        | ErrorCode::TlsProtocolError => {
            format!("TLS with {url} failed ({step}): {code:?}")
        }
        ErrorCode::InternalError(Some(detail)) => {
            format!("fetching {url} failed while {step}: {detail}")
        }
        other => format!("fetching {url} failed while {step}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_say_the_host_refused() {
        let text = describe("http://10.0.0.1/", "sending", &ErrorCode::HttpRequestDenied);
        assert_eq!(
            text,
            "request to http://10.0.0.1/ was denied by the host: no network rule of this tool grants that host and port"
        );
        let text = describe("http://localhost:1/", "sending", &ErrorCode::DestinationIpProhibited);
        assert!(text.contains("not public"), "{text}");
    }

    #[test]
    fn timeouts_name_the_step() {
        let text = describe(
            "http://a.test/",
            "waiting for the response",
            &ErrorCode::ConnectionReadTimeout,
        );
        assert_eq!(
            text,
            "http://a.test/ did not answer in time (waiting for the response): the read timed out"
        );
    }

    #[test]
    fn size_limit_names_the_limit() {
        let text =
            describe("http://a.test/", "reading", &ErrorCode::HttpResponseBodySize(Some(1024)));
        assert_eq!(
            text,
            "the response from http://a.test/ is larger than the host's limit of 1024 bytes"
        );
    }
}

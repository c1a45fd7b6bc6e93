//! Turning a response body into text an agent can read.
//!
//! - Textual media types (`text/*`, JSON, XML, JavaScript, form data, and
//!   any `+json` or `+xml` type) are decoded: UTF-8 and US-ASCII as they
//!   are, ISO-8859-1 byte for byte, anything else as UTF-8 with invalid
//!   sequences replaced.
//! - A body without a `Content-Type` is text if it is valid UTF-8.
//! - `text/html` and XHTML are reduced to readable text (html2text: scripts
//!   and styles dropped, headings and emphasis marked lightly, links as
//!   numbered references) unless the caller asked for the raw markup.
//! - Anything else (images, archives, PDFs, ...) is refused with its type
//!   and size, so the agent knows what it hit.

use corral_sdk::ToolError;

/// Width of the text HTML is reduced to.
const HTML_WIDTH: usize = 100;

/// A body as text, cut to the requested length.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyText {
    /// The text.
    pub text: String,
    /// Whether it was cut at `max_chars`.
    pub truncated: bool,
}

/// Decodes `body` according to `content_type` (the header value, if any).
pub fn body_text(
    content_type: Option<&str>,
    body: &[u8],
    raw: bool,
    max_chars: usize,
) -> Result<BodyText, ToolError> {
    let (mime, charset) = parse_content_type(content_type.unwrap_or(""));
    let text = if mime.is_empty() {
        String::from_utf8(body.to_vec()).map_err(|_| {
            ToolError::new(format!(
                "the response has no Content-Type and its {} bytes are not UTF-8 text",
                body.len()
            ))
        })?
    } else if is_textual(&mime) {
        decode(body, charset.as_deref())
    } else {
        return Err(ToolError::new(format!(
            "the response is not text: Content-Type {mime}, {} bytes",
            body.len()
        )));
    };
    let text = if !raw && (mime == "text/html" || mime == "application/xhtml+xml") {
        html2text::config::plain()
            .string_from_read(text.as_bytes(), HTML_WIDTH)
            .map_err(|err| ToolError::new(format!("cannot reduce the HTML to text: {err}")))?
    } else {
        text
    };
    Ok(cut(text, max_chars))
}

/// `("type/subtype", charset)`, both lowercase.
fn parse_content_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (key, val) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| val.trim().trim_matches('"').to_ascii_lowercase())
    });
    (mime, charset)
}

fn is_textual(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || matches!(
            mime,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/ecmascript"
                | "application/x-www-form-urlencoded"
                | "application/x-ndjson"
                | "application/yaml"
                | "application/toml"
        )
}

fn decode(body: &[u8], charset: Option<&str>) -> String {
    match charset {
        Some("iso-8859-1" | "latin1" | "latin-1") => body.iter().map(|b| char::from(*b)).collect(),
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}

fn cut(mut text: String, max_chars: usize) -> BodyText {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => {
            text.truncate(end);
            BodyText { text, truncated: true }
        }
        None => BodyText { text, truncated: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content_type: Option<&str>, body: &[u8]) -> Result<BodyText, String> {
        body_text(content_type, body, false, 1000).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn plain_text_and_json_are_returned_as_they_are() {
        assert_eq!(read(Some("text/plain"), b"hello").unwrap().text, "hello");
        assert_eq!(
            read(Some("application/json; charset=UTF-8"), b"{\"a\":1}").unwrap().text,
            "{\"a\":1}"
        );
        assert_eq!(read(Some("application/problem+json"), b"{}").unwrap().text, "{}");
    }

    #[test]
    fn html_is_reduced_to_readable_text() {
        let html = b"<html><head><style>p{}</style><script>var x;</script></head><body><h1>Title</h1><p>Some <b>bold</b> text.</p></body></html>";
        let text = read(Some("text/html; charset=utf-8"), html).unwrap().text;
        // Headings and emphasis keep a light Markdown-like marking.
        assert!(text.contains("# Title"), "{text}");
        assert!(text.contains("Some **bold** text."), "{text}");
        assert!(!text.contains("<p>"), "{text}");
        assert!(!text.contains("var x"), "{text}");
    }

    #[test]
    fn raw_keeps_the_markup() {
        let body = body_text(Some("text/html"), b"<p>x</p>", true, 100).unwrap();
        assert_eq!(body.text, "<p>x</p>");
    }

    #[test]
    fn binary_bodies_are_refused_with_type_and_size() {
        assert_eq!(
            read(Some("image/png"), &[0x89, b'P', b'N', b'G']).unwrap_err(),
            "the response is not text: Content-Type image/png, 4 bytes"
        );
        assert_eq!(
            read(None, &[0xff, 0xfe, 0x00]).unwrap_err(),
            "the response has no Content-Type and its 3 bytes are not UTF-8 text"
        );
    }

    #[test]
    fn latin1_is_decoded_byte_for_byte() {
        assert_eq!(
            read(Some("text/plain; charset=ISO-8859-1"), &[0x63, 0x61, 0x66, 0xe9]).unwrap().text,
            "café"
        );
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let body = body_text(Some("text/plain"), "ééééé".as_bytes(), false, 3).unwrap();
        assert_eq!(body, BodyText { text: "ééé".into(), truncated: true });
    }
}

//! Constructors for the items of a tool result.
//!
//! Each returns a [`Content`], the WIT variant the host turns into an MCP
//! content block. Binary data is passed as raw bytes; the host encodes it as
//! base64 on the wire, so a tool never does.
//!
//! ```
//! use corral_sdk::content;
//!
//! let items = vec![
//!     content::text("Here is the chart:"),
//!     content::image(vec![0x89, b'P', b'N', b'G'], "image/png"),
//!     content::resource_text("file:///data/notes.md", "text/markdown", "# Notes"),
//! ];
//! assert_eq!(items.len(), 3);
//! ```

use crate::types::{Blob, Content, EmbeddedResource, ResourceContents, ResourceLink};

/// A text item.
pub fn text(text: impl Into<String>) -> Content {
    Content::Text(text.into())
}

/// An image item: raw bytes and their MIME type (`image/png`, `image/jpeg`, ...).
pub fn image(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Content {
    Content::Image(Blob { data: data.into(), mime_type: mime_type.into() })
}

/// An audio item: raw bytes and their MIME type (`audio/wav`, `audio/mpeg`, ...).
pub fn audio(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Content {
    Content::Audio(Blob { data: data.into(), mime_type: mime_type.into() })
}

/// An embedded resource whose contents are text.
pub fn resource_text(
    uri: impl Into<String>,
    mime_type: impl Into<String>,
    text: impl Into<String>,
) -> Content {
    Content::Resource(EmbeddedResource {
        uri: uri.into(),
        mime_type: Some(mime_type.into()),
        contents: ResourceContents::Text(text.into()),
    })
}

/// An embedded resource whose contents are bytes.
pub fn resource_blob(
    uri: impl Into<String>,
    mime_type: impl Into<String>,
    data: impl Into<Vec<u8>>,
) -> Content {
    Content::Resource(EmbeddedResource {
        uri: uri.into(),
        mime_type: Some(mime_type.into()),
        contents: ResourceContents::Blob(data.into()),
    })
}

/// A link to a resource the client may fetch, with only its URI and name.
///
/// For a title, description, MIME type or size, build the [`ResourceLink`]
/// record directly and wrap it in [`Content::ResourceLink`].
pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Content {
    Content::ResourceLink(ResourceLink {
        uri: uri.into(),
        name: name.into(),
        title: None,
        description: None,
        mime_type: None,
        size: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_text_carries_uri_mime_type_and_text() {
        assert_eq!(
            resource_text("test://r", "text/plain", "hello"),
            Content::Resource(EmbeddedResource {
                uri: "test://r".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("hello".into()),
            })
        );
    }

    #[test]
    fn resource_blob_keeps_raw_bytes() {
        let Content::Resource(resource) =
            resource_blob("test://b", "application/octet-stream", [0u8, 255])
        else {
            panic!("not a resource");
        };
        assert_eq!(resource.contents, ResourceContents::Blob(vec![0, 255]));
    }

    #[test]
    fn resource_link_leaves_optional_fields_empty() {
        let Content::ResourceLink(link) = resource_link("file:///a", "a") else {
            panic!("not a link");
        };
        assert_eq!((link.title, link.mime_type, link.size), (None, None, None));
    }
}

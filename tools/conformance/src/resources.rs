//! The resources of the `resources-*` scenarios, and the template of
//! `resources-templates-read`.
//!
//! The conformance component is served with an empty namespace, so its
//! URIs keep the suite's `test://` scheme. A URI it does not serve (as in
//! `sep-2164-resource-not-found`) is `not-found`, which the SDK answers
//! for it.

use crate::RED_PIXEL_PNG;
use corral_sdk::Error;
use corral_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// The URI of the resource the subscription scenarios watch.
pub const WATCHED: &str = "test://watched-resource";

/// `test://static-text`, of `resources-read-text`.
pub fn static_text() -> Resource {
    Resource::new("test://static-text", "static-text", || {
        Ok("This is the content of the static text resource.")
    })
    .title("Static Text Resource")
    .description("A static text resource for testing")
    .mime_type("text/plain")
}

/// `test://static-binary`, of `resources-read-binary`.
pub fn static_binary() -> Resource {
    Resource::new("test://static-binary", "static-binary", || Ok(RED_PIXEL_PNG))
        .title("Static Binary Resource")
        .description("A static binary resource (a 1x1 red PNG) for testing")
        .mime_type("image/png")
}

/// `test://watched-resource`, of `resources-subscribe` and `resources-unsubscribe`.
pub fn watched() -> Resource {
    Resource::new(WATCHED, "watched-resource", || Ok("Watched resource content"))
        .title("Watched Resource")
        .description(
            "A resource clients subscribe to; test_update_watched_resource announces a change",
        )
        .mime_type("text/plain")
}

/// The template `test://template/{id}/data`, of `resources-templates-read`.
pub fn template() -> ResourceTemplate {
    ResourceTemplate::new("test://template/{id}/data", "template", |vars: TemplateVars| {
        let data = TemplateData {
            data: format!("Data for ID: {}", vars.id),
            id: vars.id,
            template_test: true,
        };
        Ok(serde_json::to_string(&data)?)
    })
    .title("Resource Template")
    .description("A resource template with parameter substitution")
    .mime_type("application/json")
    .complete("id", |partial| partial.matching(["123", "456", "789"]))
}

/// The tool that announces a change of the watched resource, so that a
/// subscribed client can see `notifications/resources/updated` arrive.
pub fn update_tool() -> Tool {
    Tool::new(
        "test_update_watched_resource",
        "Announces that test://watched-resource changed, to the clients subscribed to it",
        |_: NoArgs| -> Result<String, Error> {
            corral_sdk::resource_updated(WATCHED);
            Ok(format!("Announced an update of {WATCHED}"))
        },
    )
}

/// The variables of `test://template/{id}/data`.
#[derive(Debug, Deserialize)]
pub struct TemplateVars {
    id: String,
}

/// What a read of the template gives, in the scenario's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateData {
    id: String,
    template_test: bool,
    data: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::testing::{self, HostEvent};
    use corral_sdk::types::{ResourceBody, ResourceContents, ResourceError};

    fn server() -> Server {
        Server::new()
            .resource(static_text())
            .resource(static_binary())
            .resource(watched())
            .template(template())
    }

    fn read(uri: &str) -> ResourceBody {
        let mut bodies = server().read_resource(uri).expect("the resource reads");
        assert_eq!(bodies.len(), 1, "{uri}");
        bodies.remove(0)
    }

    #[test]
    fn static_text_has_the_specified_text() {
        assert_eq!(
            read("test://static-text"),
            ResourceBody {
                uri: "test://static-text".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text(
                    "This is the content of the static text resource.".into()
                ),
            }
        );
    }

    #[test]
    fn static_binary_is_a_png_blob() {
        let body = read("test://static-binary");
        assert_eq!(body.mime_type.as_deref(), Some("image/png"));
        let ResourceContents::Blob(bytes) = body.contents else { panic!("not a blob") };
        assert!(bytes.starts_with(b"\x89PNG"));
    }

    #[test]
    fn template_substitutes_the_id() {
        assert_eq!(
            read("test://template/123/data"),
            ResourceBody {
                uri: "test://template/123/data".into(),
                mime_type: Some("application/json".into()),
                contents: ResourceContents::Text(
                    r#"{"id":"123","templateTest":true,"data":"Data for ID: 123"}"#.into()
                ),
            }
        );
    }

    #[test]
    fn an_unknown_uri_is_not_found_naming_it() {
        let uri = "test://nonexistent-resource-for-conformance-testing";
        assert_eq!(server().read_resource(uri), Err(ResourceError::NotFound(uri.into())));
    }

    #[test]
    fn every_resource_has_a_description() {
        let definitions = server().resource_definitions().unwrap();
        assert_eq!(definitions.len(), 3);
        assert!(definitions.iter().all(|definition| definition.description.is_some()));
    }

    #[test]
    fn the_update_tool_announces_the_watched_resource() {
        update_tool().call("{}").unwrap();
        assert_eq!(testing::take_events(), [HostEvent::ResourceUpdated { uri: WATCHED.into() }]);
    }
}

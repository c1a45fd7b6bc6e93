//! Resources: data a client reads by URI, one at a time ([`Resource`]) or
//! by families ([`ResourceTemplate`]); see [`Resource`] for how a read is
//! dispatched.

use crate::completion::{Completers, IntoCompletion, Partial};
use crate::error::Error;
use crate::types::{ResourceBody, ResourceContents, ResourceDef, ResourceTemplateDef};
use crate::uri_template::{UriTemplate, UriTemplateError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;

/// A value a resource handler can return: what reading the resource gives.
///
/// | handler returns | contents |
/// | --- | --- |
/// | `String`, `&str` | one text body |
/// | `Vec<u8>`, `&[u8]` | one binary body |
/// | [`ResourceBody`] | as given |
/// | `Vec<ResourceBody>` | as given (MCP allows several) |
///
/// Bodies the SDK builds carry the URI that was read and the MIME type the
/// resource (or template) declares.
pub trait IntoResourceContents {
    /// Converts the value into the bodies of a read of `uri`.
    fn into_resource_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceBody>;
}

impl IntoResourceContents for String {
    fn into_resource_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceBody> {
        vec![body(uri, mime_type, ResourceContents::Text(self))]
    }
}

impl IntoResourceContents for &str {
    fn into_resource_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceBody> {
        self.to_owned().into_resource_contents(uri, mime_type)
    }
}

impl IntoResourceContents for Vec<u8> {
    fn into_resource_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceBody> {
        vec![body(uri, mime_type, ResourceContents::Blob(self))]
    }
}

impl IntoResourceContents for &[u8] {
    fn into_resource_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceBody> {
        self.to_vec().into_resource_contents(uri, mime_type)
    }
}

impl IntoResourceContents for ResourceBody {
    fn into_resource_contents(self, _: &str, _: Option<&str>) -> Vec<ResourceBody> {
        vec![self]
    }
}

impl IntoResourceContents for Vec<ResourceBody> {
    fn into_resource_contents(self, _: &str, _: Option<&str>) -> Vec<ResourceBody> {
        self
    }
}

fn body(uri: &str, mime_type: Option<&str>, contents: ResourceContents) -> ResourceBody {
    ResourceBody { uri: uri.to_owned(), mime_type: mime_type.map(str::to_owned), contents }
}

/// The type-erased read: the URI read and the declared MIME type in, bodies out.
type Read = Box<dyn Fn(&str, Option<&str>) -> Result<Vec<ResourceBody>, Error>>;

/// One resource at a fixed URI.
///
/// The host lists resources and templates once, when it loads the
/// component, and reads one by calling `read-resource` with the concrete
/// URI. [`Server`](crate::Server) answers it with the resource of exactly
/// that URI, or else the first template (in the order given) whose URI
/// template matches; with neither, the read is `not-found`.
///
/// A resource's URI must have the component's namespace as its scheme
/// (`notes://...` for a component named `notes`), unless the component is
/// configured with an empty namespace; the host refuses others. The same
/// holds for templates.
///
/// ```
/// use corral_sdk::Resource;
///
/// let readme = Resource::new("docs://readme", "readme", || Ok("# Hello"))
///     .description("What this component does")
///     .mime_type("text/markdown");
/// assert_eq!(readme.uri(), "docs://readme");
/// ```
pub struct Resource {
    definition: ResourceDef,
    read: Read,
}

impl Resource {
    /// A resource at `uri`, named `name` (unique within the component), whose
    /// contents `handler` returns when read.
    ///
    /// Title, description, MIME type and size all start unset.
    pub fn new<R, F>(uri: impl Into<String>, name: impl Into<String>, handler: F) -> Self
    where
        R: IntoResourceContents,
        F: Fn() -> Result<R, Error> + 'static,
    {
        Self {
            definition: ResourceDef {
                uri: uri.into(),
                name: name.into(),
                title: None,
                description: None,
                mime_type: None,
                size: None,
            },
            read: Box::new(move |uri, mime_type| {
                handler().map(|contents| contents.into_resource_contents(uri, mime_type))
            }),
        }
    }

    /// A human-readable name for display (MCP `title`).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.definition.title = Some(title.into());
        self
    }

    /// What the resource holds, for the client and the model.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// The MIME type of its contents; bodies the SDK builds carry it too.
    #[must_use]
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime_type.into());
        self
    }

    /// Its size in bytes, if known when listing.
    #[must_use]
    pub fn size(mut self, size: u64) -> Self {
        self.definition.size = Some(size);
        self
    }

    /// Its URI.
    pub fn uri(&self) -> &str {
        &self.definition.uri
    }

    /// The definition the host lists to clients.
    pub fn definition(&self) -> ResourceDef {
        self.definition.clone()
    }

    /// Reads it.
    pub fn read(&self) -> Result<Vec<ResourceBody>, Error> {
        (self.read)(&self.definition.uri, self.definition.mime_type.as_deref())
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource").field("definition", &self.definition).finish_non_exhaustive()
    }
}

/// The type-erased read of a template: URI, its variables and the declared MIME type in.
type TemplateRead =
    Box<dyn Fn(&str, Map<String, Value>, Option<&str>) -> Result<Vec<ResourceBody>, Error>>;

/// A family of resources whose URIs fit a URI template, such as
/// `notes://{name}` (see [`UriTemplate`] for the form).
///
/// The handler gets the matched variables as a type it deserializes them
/// into: a struct with one `String` field per variable, or a
/// `BTreeMap<String, String>`. Variables that do not deserialize into it
/// (a field the type validates refuses them) mean there is no such
/// resource: the read is `not-found`.
///
/// ```
/// use corral_sdk::{Error, ResourceTemplate};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Page {
///     id: String,
/// }
///
/// let pages = ResourceTemplate::new("wiki://pages/{id}", "page", |page: Page| {
///     if page.id == "home" { Ok(format!("Page {}", page.id)) } else { Err(Error::not_found(format!("wiki://pages/{}", page.id))) }
/// })
/// .mime_type("text/plain")
/// .complete("id", |partial| partial.matching(["home", "help"]));
/// assert_eq!(pages.uri_template(), "wiki://pages/{id}");
/// ```
pub struct ResourceTemplate {
    definition: ResourceTemplateDef,
    // Parsed when built, refused when listed: a component whose template is
    // wrong fails to load, naming it (see `Server`).
    template: Result<UriTemplate, UriTemplateError>,
    read: TemplateRead,
    completers: Completers,
}

impl ResourceTemplate {
    /// A family of resources fitting `uri_template`, named `name` (unique
    /// within the component), read by `handler`.
    ///
    /// Title, description and MIME type start unset; no variable is completed.
    pub fn new<V, R, F>(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: F,
    ) -> Self
    where
        V: DeserializeOwned,
        R: IntoResourceContents,
        F: Fn(V) -> Result<R, Error> + 'static,
    {
        let uri_template = uri_template.into();
        Self {
            template: UriTemplate::parse(&uri_template),
            definition: ResourceTemplateDef {
                uri_template,
                name: name.into(),
                title: None,
                description: None,
                mime_type: None,
            },
            read: Box::new(move |uri, variables, mime_type| {
                let variables = serde_json::from_value::<V>(Value::Object(variables))
                    .map_err(|_| Error::not_found(uri))?;
                handler(variables).map(|contents| contents.into_resource_contents(uri, mime_type))
            }),
            completers: Completers::default(),
        }
    }

    /// A human-readable name for display (MCP `title`).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.definition.title = Some(title.into());
        self
    }

    /// What the family's resources hold, for the client and the model.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.definition.description = Some(description.into());
        self
    }

    /// The MIME type of every resource of the family; bodies the SDK builds carry it too.
    #[must_use]
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.definition.mime_type = Some(mime_type.into());
        self
    }

    /// Completes the template variable `variable` with `completer`; see
    /// [`completion`](crate::completion). Naming a variable the template does
    /// not have fails the component's load.
    #[must_use]
    pub fn complete<R, F>(mut self, variable: impl Into<String>, completer: F) -> Self
    where
        R: IntoCompletion,
        F: Fn(&Partial<'_>) -> R + 'static,
    {
        self.completers.add(variable.into(), completer);
        self
    }

    /// The URI template as written.
    pub fn uri_template(&self) -> &str {
        &self.definition.uri_template
    }

    /// The definition the host lists to clients, or why the template is wrong:
    /// it does not parse, or a completer names a variable it does not have.
    pub fn definition(&self) -> Result<ResourceTemplateDef, String> {
        let template = self.template.as_ref().map_err(ToString::to_string)?;
        for variable in self.completers.arguments() {
            if !template.variables().any(|name| name == variable) {
                return Err(format!(
                    "URI template `{}` completes `{variable}`, which is not one of its variables",
                    template.as_str()
                ));
            }
        }
        Ok(self.definition.clone())
    }

    /// Reads `uri` if it is one of the family; `None` if it is not.
    pub fn read(&self, uri: &str) -> Option<Result<Vec<ResourceBody>, Error>> {
        let variables = self.template.as_ref().ok()?.matches(uri)?;
        let variables =
            variables.into_iter().map(|(name, value)| (name, Value::String(value))).collect();
        Some((self.read)(uri, variables, self.definition.mime_type.as_deref()))
    }

    pub(crate) fn completers(&self) -> &Completers {
        &self.completers
    }
}

impl fmt::Debug for ResourceTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTemplate")
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize)]
    struct Id {
        id: String,
    }

    fn data_template() -> ResourceTemplate {
        ResourceTemplate::new("test://template/{id}/data", "data", |vars: Id| {
            Ok(format!("Data for ID: {}", vars.id))
        })
        .mime_type("application/json")
    }

    #[test]
    fn a_resource_body_carries_its_uri_and_mime_type() {
        let resource = Resource::new("test://static-text", "static-text", || Ok("hello"))
            .mime_type("text/plain");
        assert_eq!(
            resource.read(),
            Ok(vec![ResourceBody {
                uri: "test://static-text".into(),
                mime_type: Some("text/plain".into()),
                contents: ResourceContents::Text("hello".into()),
            }])
        );
    }

    #[test]
    fn bytes_become_a_binary_body() {
        let resource = Resource::new("test://b", "b", || Ok(&[1u8, 2][..]));
        assert_eq!(resource.read().unwrap()[0].contents, ResourceContents::Blob(vec![1, 2]));
    }

    #[test]
    fn a_template_reads_with_the_matched_variables_and_the_concrete_uri() {
        let bodies = data_template().read("test://template/123/data").unwrap().unwrap();
        assert_eq!(
            bodies,
            [ResourceBody {
                uri: "test://template/123/data".into(),
                mime_type: Some("application/json".into()),
                contents: ResourceContents::Text("Data for ID: 123".into()),
            }]
        );
    }

    #[test]
    fn a_uri_outside_the_family_is_not_read() {
        assert!(data_template().read("test://template/123").is_none());
    }

    #[test]
    fn variables_may_be_taken_as_a_map() {
        let template =
            ResourceTemplate::new("m://{a}/{b}", "m", |vars: BTreeMap<String, String>| {
                Ok(format!("{}+{}", vars["a"], vars["b"]))
            });
        let bodies = template.read("m://x/y").unwrap().unwrap();
        assert_eq!(bodies[0].contents, ResourceContents::Text("x+y".into()));
    }

    #[test]
    fn variables_the_type_refuses_are_not_found() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Number {
            id: u32,
        }
        let template = ResourceTemplate::new("n://{id}", "n", |_: Number| Ok("x"));
        let error = template.read("n://abc").unwrap().unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::NotFound("n://abc".into()));
    }

    #[test]
    fn a_template_that_does_not_parse_fails_its_definition() {
        let template = ResourceTemplate::new("x://{a}{b}", "x", |_: Id| Ok("x"));
        assert!(template.definition().unwrap_err().starts_with("URI template `x://{a}{b}`"));
    }

    #[test]
    fn completing_an_unknown_variable_fails_the_definition() {
        let template = data_template().complete("name", |_| Vec::<String>::new());
        assert_eq!(
            template.definition().unwrap_err(),
            "URI template `test://template/{id}/data` completes `name`, which is not one of its variables"
        );
    }
}

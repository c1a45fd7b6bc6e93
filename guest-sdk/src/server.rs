//! Everything one component offers, and dispatch of each request to it.

use crate::completion::Partial;
use crate::prompt::Prompt;
use crate::resource::{Resource, ResourceTemplate};
use crate::tool::Tool;
use crate::toolbox::{Toolbox, ToolboxError};
use crate::types::{
    CallError, CallResult, Completion, CompletionRef, CompletionRequest, PromptDef, PromptError,
    PromptResult, ResourceBody, ResourceDef, ResourceError, ResourceTemplateDef, ToolDef,
};
use std::fmt;

/// The tools, resources, resource templates and prompts of one component.
///
/// [`export!`](crate::export) serves it: each export of
/// `corral:mcp@0.2.0` (`tools`, `resources`, `prompts`, `completion`)
/// calls the method of the same name. A [`Toolbox`] or a `Vec<Tool>`
/// converts into a `Server` offering only those tools. Every method is a
/// plain function, so a tool crate's native tests call them directly.
///
/// ```
/// use corral_sdk::{NoArgs, Prompt, Resource, ResourceTemplate, Server, Tool};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Day {
///     day: String,
/// }
///
/// fn server() -> Server {
///     Server::new()
///         .tool(Tool::new("ping", "Answer pong", |_: NoArgs| Ok("pong")))
///         .resource(Resource::new("diary://today", "today", || Ok("Sunny")).mime_type("text/plain"))
///         .template(ResourceTemplate::new("diary://days/{day}", "day", |day: Day| {
///             Ok(format!("Nothing happened on {}", day.day))
///         }))
///         .prompt(Prompt::new("plan", "Plan the day", |_: NoArgs| Ok("Plan my day.")))
/// }
///
/// let bodies = server().read_resource("diary://days/monday").unwrap();
/// assert_eq!(bodies[0].uri, "diary://days/monday");
/// ```
#[derive(Debug, Default)]
pub struct Server {
    toolbox: Toolbox,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
}

impl Server {
    /// A server offering nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds tools, listed after the ones already there.
    #[must_use]
    pub fn tools(mut self, tools: impl Into<Toolbox>) -> Self {
        self.toolbox.extend(tools.into());
        self
    }

    /// Adds a tool, listed after the ones already there.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> Self {
        self.toolbox = self.toolbox.with(tool);
        self
    }

    /// Adds a resource, listed after the ones already there.
    #[must_use]
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// Adds a resource template, listed (and tried on a read) after the ones already there.
    #[must_use]
    pub fn template(mut self, template: ResourceTemplate) -> Self {
        self.templates.push(template);
        self
    }

    /// Adds a prompt, listed after the ones already there.
    #[must_use]
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// The tools the host lists to clients (`list-tools`).
    pub fn tool_definitions(&self) -> Result<Vec<ToolDef>, DefinitionError> {
        self.toolbox.definitions().map_err(DefinitionError::Tools)
    }

    /// The task support of the tools that declare one (`list-task-support`).
    pub fn task_supports(&self) -> Vec<(String, crate::TaskSupport)> {
        self.toolbox.task_supports()
    }

    /// The resources the host lists to clients (`list-resources`). Fails if
    /// two share a URI.
    pub fn resource_definitions(&self) -> Result<Vec<ResourceDef>, DefinitionError> {
        let mut definitions: Vec<ResourceDef> = Vec::with_capacity(self.resources.len());
        for resource in &self.resources {
            if definitions.iter().any(|seen| seen.uri == resource.uri()) {
                return Err(DefinitionError::Duplicate {
                    what: "resources",
                    name: resource.uri().to_owned(),
                });
            }
            definitions.push(resource.definition());
        }
        Ok(definitions)
    }

    /// The resource templates the host lists to clients
    /// (`list-resource-templates`). Fails if one does not parse, two are
    /// the same, or a completer names no variable.
    pub fn template_definitions(&self) -> Result<Vec<ResourceTemplateDef>, DefinitionError> {
        let mut definitions: Vec<ResourceTemplateDef> = Vec::with_capacity(self.templates.len());
        for template in &self.templates {
            if definitions.iter().any(|seen| seen.uri_template == template.uri_template()) {
                return Err(DefinitionError::Duplicate {
                    what: "resource templates",
                    name: template.uri_template().to_owned(),
                });
            }
            let definition = template.definition().map_err(|reason| DefinitionError::Invalid {
                part: format!("resource template `{}`", template.uri_template()),
                reason,
            })?;
            definitions.push(definition);
        }
        Ok(definitions)
    }

    /// The prompts the host lists to clients (`list-prompts`). Fails if two
    /// share a name, an argument type is not a struct of strings, or a
    /// completer names no argument.
    pub fn prompt_definitions(&self) -> Result<Vec<PromptDef>, DefinitionError> {
        let mut definitions: Vec<PromptDef> = Vec::with_capacity(self.prompts.len());
        for prompt in &self.prompts {
            if definitions.iter().any(|seen| seen.name == prompt.name()) {
                return Err(DefinitionError::Duplicate {
                    what: "prompts",
                    name: prompt.name().to_owned(),
                });
            }
            let definition = prompt.definition().map_err(|reason| DefinitionError::Invalid {
                part: format!("prompt `{}`", prompt.name()),
                reason,
            })?;
            definitions.push(definition);
        }
        Ok(definitions)
    }

    /// Runs the tool called `name` on `arguments` (`call-tool`); see [`Toolbox::call`].
    pub fn call_tool(&self, name: &str, arguments: &str) -> Result<CallResult, CallError> {
        self.toolbox.call(name, arguments)
    }

    /// Reads `uri` (`read-resource`): the resource of exactly that URI, or
    /// else the first template whose family it belongs to; `not-found` with
    /// the URI if none.
    pub fn read_resource(&self, uri: &str) -> Result<Vec<ResourceBody>, ResourceError> {
        let read = match self.resources.iter().find(|resource| resource.uri() == uri) {
            Some(resource) => resource.read(),
            None => match self.templates.iter().find_map(|template| template.read(uri)) {
                Some(read) => read,
                None => return Err(ResourceError::NotFound(uri.to_owned())),
            },
        };
        read.map_err(crate::Error::into_resource_error)
    }

    /// Fills in the prompt called `name` with `arguments`, a JSON object of
    /// strings as text (`get-prompt`).
    pub fn get_prompt(&self, name: &str, arguments: &str) -> Result<PromptResult, PromptError> {
        match self.prompts.iter().find(|prompt| prompt.name() == name) {
            Some(prompt) => prompt.get(arguments),
            None => Err(PromptError::UnknownPrompt(format!(
                "no prompt named `{name}` in this component; it has: {}",
                self.prompts.iter().map(Prompt::name).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Suggests values for a prompt argument or template variable
    /// (`complete`); see [`completion`](crate::completion). A reference to a
    /// prompt or template the component does not have is an error naming it.
    pub fn complete(&self, request: &CompletionRequest) -> Result<Completion, String> {
        let completers = match &request.ref_ {
            CompletionRef::Prompt(name) => self
                .prompts
                .iter()
                .find(|prompt| prompt.name() == name)
                .map(Prompt::completers)
                .ok_or_else(|| format!("no prompt named `{name}` in this component"))?,
            CompletionRef::ResourceTemplate(uri_template) => self
                .templates
                .iter()
                .find(|template| template.uri_template() == uri_template)
                .map(ResourceTemplate::completers)
                .ok_or_else(|| {
                    format!("no resource template `{uri_template}` in this component")
                })?,
        };
        completers.complete(&request.argument, &Partial::new(&request.value, &request.context))
    }
}

impl From<Toolbox> for Server {
    fn from(toolbox: Toolbox) -> Self {
        Self { toolbox, ..Self::default() }
    }
}

impl From<Vec<Tool>> for Server {
    fn from(tools: Vec<Tool>) -> Self {
        Toolbox::from(tools).into()
    }
}

/// A mistake in how a component defines what it offers, found when the
/// host lists it (so the component fails to load, naming it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinitionError {
    /// A tool is wrongly defined.
    Tools(ToolboxError),
    /// Two of one kind share an identifier.
    Duplicate {
        /// What they are: `resources`, `resource templates`, `prompts`.
        what: &'static str,
        /// The identifier they share (URI, URI template, name).
        name: String,
    },
    /// A resource template or a prompt is wrongly defined.
    Invalid {
        /// Which one: `prompt `summarize``.
        part: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tools(error) => error.fmt(f),
            Self::Duplicate { what, name } => write!(f, "two {what} are `{name}`"),
            Self::Invalid { part, reason } => write!(f, "{part}: {reason}"),
        }
    }
}

impl std::error::Error for DefinitionError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::NoArgs;
    use crate::types::ResourceContents;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Id {
        id: String,
    }

    fn server() -> Server {
        Server::new()
            .resource(Resource::new("t://fixed/data", "fixed", || Ok("fixed")))
            .template(
                ResourceTemplate::new("t://{id}/data", "by-id", |vars: Id| Ok(vars.id))
                    .complete("id", |partial| partial.matching(["alpha", "beta"])),
            )
            .prompt(Prompt::new("p", "A prompt", |_: NoArgs| Ok("hi")))
    }

    fn text(bodies: Vec<ResourceBody>) -> ResourceContents {
        bodies.into_iter().next().expect("one body").contents
    }

    #[test]
    fn an_exact_resource_wins_over_a_template() {
        assert_eq!(
            text(server().read_resource("t://fixed/data").unwrap()),
            ResourceContents::Text("fixed".into())
        );
        assert_eq!(
            text(server().read_resource("t://other/data").unwrap()),
            ResourceContents::Text("other".into())
        );
    }

    #[test]
    fn an_unknown_uri_is_not_found_with_the_uri() {
        assert_eq!(
            server().read_resource("t://nothing"),
            Err(ResourceError::NotFound("t://nothing".into()))
        );
    }

    #[test]
    fn an_unknown_prompt_is_named_with_the_available_ones() {
        assert_eq!(
            server().get_prompt("q", "{}"),
            Err(PromptError::UnknownPrompt(
                "no prompt named `q` in this component; it has: p".into()
            ))
        );
    }

    #[test]
    fn completion_goes_to_the_referenced_template_variable() {
        let request = CompletionRequest {
            ref_: CompletionRef::ResourceTemplate("t://{id}/data".into()),
            argument: "id".into(),
            value: "al".into(),
            context: vec![],
        };
        assert_eq!(server().complete(&request).unwrap().values, ["alpha"]);
    }

    #[test]
    fn completion_of_an_unknown_prompt_names_it() {
        let request = CompletionRequest {
            ref_: CompletionRef::Prompt("q".into()),
            argument: "x".into(),
            value: String::new(),
            context: vec![],
        };
        assert_eq!(
            server().complete(&request),
            Err("no prompt named `q` in this component".into())
        );
    }

    #[test]
    fn duplicate_prompts_are_refused() {
        let server = server().prompt(Prompt::new("p", "Again", |_: NoArgs| Ok("x")));
        assert_eq!(server.prompt_definitions().unwrap_err().to_string(), "two prompts are `p`");
    }

    #[test]
    fn duplicate_resources_are_refused() {
        let server = server().resource(Resource::new("t://fixed/data", "again", || Ok("x")));
        assert_eq!(
            server.resource_definitions().unwrap_err().to_string(),
            "two resources are `t://fixed/data`"
        );
    }

    #[test]
    fn a_toolbox_is_a_server_of_tools_only() {
        let server =
            Server::from(Toolbox::new().with(Tool::new("ping", "Ping", |_: NoArgs| Ok("pong"))));
        assert_eq!(server.tool_definitions().unwrap().len(), 1);
        assert!(server.resource_definitions().unwrap().is_empty());
        assert!(server.template_definitions().unwrap().is_empty());
        assert!(server.prompt_definitions().unwrap().is_empty());
    }
}

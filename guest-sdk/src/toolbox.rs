//! The set of tools one component offers, and dispatch by name.

use crate::schema::NotAnObject;
use crate::tool::Tool;
use crate::types::{CallError, CallResult, ToolDef};
use std::fmt;

/// The tools of one component, in the order they are listed to clients.
///
/// Build one from a `Vec<Tool>` (or any iterator of tools), or with
/// [`Toolbox::with`]. [`export!`](crate::export) serves it: `list-tools`
/// answers with [`Toolbox::definitions`] and `call-tool` with
/// [`Toolbox::call`]. Both are plain functions, so a tool crate's native
/// tests can call them directly.
#[derive(Debug, Default)]
pub struct Toolbox {
    tools: Vec<Tool>,
}

impl Toolbox {
    /// An empty toolbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool, listed after the ones already there.
    #[must_use]
    pub fn with(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Moves `other`'s tools after these.
    pub(crate) fn extend(&mut self, mut other: Toolbox) {
        self.tools.append(&mut other.tools);
    }

    /// The tools' names, in listing order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(Tool::name)
    }

    /// The definitions the host lists to clients, schemas included.
    ///
    /// Fails on a mistake in the component itself: two tools with one name,
    /// or a tool whose argument or output type is not a JSON object.
    pub fn definitions(&self) -> Result<Vec<ToolDef>, ToolboxError> {
        let mut definitions: Vec<ToolDef> = Vec::with_capacity(self.tools.len());
        for tool in &self.tools {
            if definitions.iter().any(|seen| seen.name == tool.name()) {
                return Err(ToolboxError::DuplicateName(tool.name().to_owned()));
            }
            let definition = tool
                .definition()
                .map_err(|error| ToolboxError::Schema { tool: tool.name().to_owned(), error })?;
            definitions.push(definition);
        }
        Ok(definitions)
    }

    /// The task support each tool that declares one declares, by name.
    pub fn task_supports(&self) -> Vec<(String, crate::TaskSupport)> {
        self.tools
            .iter()
            .filter_map(|tool| Some((tool.name().to_owned(), tool.declared_task_support()?)))
            .collect()
    }

    /// Runs the tool called `name` on `arguments` (a JSON object as text).
    ///
    /// An unknown name gives [`CallError::UnknownTool`] with a message that
    /// names it and lists the tools that do exist.
    pub fn call(&self, name: &str, arguments: &str) -> Result<CallResult, CallError> {
        match self.tools.iter().find(|tool| tool.name() == name) {
            Some(tool) => tool.call(arguments),
            None => Err(CallError::UnknownTool(format!(
                "no tool named `{name}` in this component; it has: {}",
                self.names().collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

impl From<Vec<Tool>> for Toolbox {
    fn from(tools: Vec<Tool>) -> Self {
        Self { tools }
    }
}

impl FromIterator<Tool> for Toolbox {
    fn from_iter<I: IntoIterator<Item = Tool>>(tools: I) -> Self {
        Self { tools: tools.into_iter().collect() }
    }
}

/// A mistake in how a component defines its tools, found when they are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolboxError {
    /// Two tools share this name.
    DuplicateName(String),
    /// This tool's argument or output type is not a JSON object.
    Schema {
        /// The tool's name.
        tool: String,
        /// What its schema declared instead.
        error: NotAnObject,
    },
}

impl fmt::Display for ToolboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateName(name) => write!(f, "two tools are named `{name}`"),
            Self::Schema { tool, error } => write!(f, "tool `{tool}`: {error}"),
        }
    }
}

impl std::error::Error for ToolboxError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::NoArgs;
    use crate::types::Content;

    fn constant(name: &'static str) -> Tool {
        Tool::new(name, format!("Answer {name}"), move |_: NoArgs| Ok(name))
    }

    #[test]
    fn call_dispatches_by_name() {
        let toolbox = Toolbox::from(vec![constant("a"), constant("b")]);
        let result = toolbox.call("b", "{}").unwrap();
        assert_eq!(result.content, vec![Content::Text("b".into())]);
    }

    #[test]
    fn unknown_tool_is_named_with_the_available_ones() {
        let toolbox = Toolbox::new().with(constant("a")).with(constant("b"));
        assert_eq!(
            toolbox.call("c", "{}"),
            Err(CallError::UnknownTool("no tool named `c` in this component; it has: a, b".into()))
        );
    }

    #[test]
    fn definitions_keep_listing_order() {
        let toolbox: Toolbox = [constant("z"), constant("a")].into_iter().collect();
        let names: Vec<_> =
            toolbox.definitions().unwrap().into_iter().map(|definition| definition.name).collect();
        assert_eq!(names, ["z", "a"]);
    }

    #[test]
    fn duplicate_names_are_refused() {
        let toolbox = Toolbox::from(vec![constant("a"), constant("a")]);
        assert_eq!(toolbox.definitions(), Err(ToolboxError::DuplicateName("a".into())));
    }

    #[test]
    fn schema_error_names_the_tool() {
        let toolbox = Toolbox::new().with(Tool::new("echo", "Echo", |text: String| Ok(text)));
        let error = toolbox.definitions().unwrap_err();
        assert!(error.to_string().starts_with("tool `echo`: "), "{error}");
    }
}

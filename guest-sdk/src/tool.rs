//! One tool: its name, description, hints, and typed handler.

use crate::TaskSupport;
use crate::arguments::parse;
use crate::error::Error;
use crate::result::IntoCallResult;
use crate::schema::{self, NotAnObject};
use crate::types::{Annotations, CallError, CallResult, ToolDef};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;

/// The type-erased handler: JSON arguments in, result or call error out.
type Handler = Box<dyn Fn(&str) -> Result<CallResult, CallError>>;

/// A tool: a typed handler with the metadata MCP clients see.
///
/// The handler takes one argument, a type that describes the tool's
/// arguments. Its JSON Schema (the tool's `inputSchema`) is derived from the
/// type with `schemars`, doc comments included, and the call's arguments
/// are parsed into it with `serde`. It returns anything that implements
/// [`IntoCallResult`], or an [`Error`] that the model will see (or that
/// tells the host the call needs a capability or the client's input; see
/// [`Error`]).
///
/// ```
/// use corral_sdk::{Structured, Tool};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// /// Arguments of `add`.
/// #[derive(Deserialize, JsonSchema)]
/// struct Add {
///     /// The first term.
///     a: i64,
///     /// The second term.
///     b: i64,
/// }
///
/// #[derive(Serialize, JsonSchema)]
/// struct Sum {
///     sum: i64,
/// }
///
/// let tool = Tool::new("add", "Add two integers", |args: Add| {
///     Ok(Structured(Sum { sum: args.a + args.b }))
/// })
/// .title("Adder")
/// .read_only(true)
/// .idempotent(true);
/// assert_eq!(tool.name(), "add");
/// ```
pub struct Tool {
    name: String,
    title: Option<String>,
    description: String,
    annotations: Annotations,
    task_support: Option<TaskSupport>,
    // Schemas are derived only when the host lists the tools (once, at
    // load), never on the call path.
    input_schema: fn() -> Value,
    output_schema: fn() -> Option<Value>,
    handler: Handler,
}

impl Tool {
    /// A tool named `name` (unique within the component) that runs `handler`.
    ///
    /// `description` is what the model reads to decide when to call the
    /// tool: say what it does and what it returns. Annotations all start
    /// unset, meaning "the author said nothing" (clients then assume the
    /// MCP defaults: not read-only, destructive, not idempotent, open world).
    pub fn new<A, R, F>(name: impl Into<String>, description: impl Into<String>, handler: F) -> Self
    where
        A: DeserializeOwned + JsonSchema,
        R: IntoCallResult,
        F: Fn(A) -> Result<R, Error> + 'static,
    {
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            annotations: Annotations {
                read_only: None,
                destructive: None,
                idempotent: None,
                open_world: None,
            },
            task_support: None,
            input_schema: schema::schema_of::<A>,
            output_schema: R::output_schema,
            handler: Box::new(move |arguments| {
                let arguments = parse::<A>(arguments).map_err(CallError::InvalidArguments)?;
                match handler(arguments) {
                    Ok(result) => Ok(result.into_call_result()),
                    Err(error) => error.into_call_outcome(),
                }
            }),
        }
    }

    /// A human-readable name for display (MCP `title`); the `name` stays the identifier.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Hints that the tool does not modify its environment (MCP `readOnlyHint`).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.annotations.read_only = Some(read_only);
        self
    }

    /// Hints whether its modifications may destroy data, as opposed to only
    /// adding to it (MCP `destructiveHint`; meaningful when not read-only).
    #[must_use]
    pub fn destructive(mut self, destructive: bool) -> Self {
        self.annotations.destructive = Some(destructive);
        self
    }

    /// Hints that calling it again with the same arguments has no further
    /// effect (MCP `idempotentHint`; meaningful when not read-only).
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.annotations.idempotent = Some(idempotent);
        self
    }

    /// Hints whether it reaches an open world of external entities (the web)
    /// rather than a closed one (a granted directory) (MCP `openWorldHint`).
    #[must_use]
    pub fn open_world(mut self, open_world: bool) -> Self {
        self.annotations.open_world = Some(open_world);
        self
    }

    /// Whether the tool may run as an MCP task (`execution.taskSupport`):
    /// a long call its client polls and fetches later, under the host's
    /// task limits rather than its per-call ones. Unset, the host decides
    /// (by default: never). The host's configuration may override it.
    #[must_use]
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = Some(support);
        self
    }

    /// The task support the tool declares, if any.
    pub fn declared_task_support(&self) -> Option<TaskSupport> {
        self.task_support
    }

    /// The tool's name, its identifier within the component.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition the host lists to clients, with the schemas derived now.
    ///
    /// Fails when the argument type (or the [`Structured`](crate::Structured)
    /// output type) does not describe a JSON object, which MCP requires.
    pub fn definition(&self) -> Result<ToolDef, NotAnObject> {
        let input_schema = schema::into_object_schema((self.input_schema)())?;
        let output_schema = (self.output_schema)().map(schema::into_object_schema).transpose()?;
        Ok(ToolDef {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            input_schema: input_schema.to_string(),
            output_schema: output_schema.map(|schema| schema.to_string()),
            annotations: self.annotations,
        })
    }

    /// Runs the tool on `arguments`, a JSON object as text.
    ///
    /// Arguments that do not parse into the tool's argument type give
    /// [`CallError::InvalidArguments`] naming the offending field; an
    /// [`Error`] from the handler gives a result with `is_error` set, or the
    /// call error its kind calls for.
    pub fn call(&self, arguments: &str) -> Result<CallResult, CallError> {
        (self.handler)(arguments)
    }
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("description", &self.description)
            .field("annotations", &self.annotations)
            .finish_non_exhaustive()
    }
}

/// The argument type of a tool that takes no arguments.
///
/// Its schema is an object with no properties. Unknown arguments are
/// ignored rather than refused, so that a client sending `{}` or extra keys
/// still gets the tool's result.
///
/// ```
/// use corral_sdk::{NoArgs, Tool};
///
/// let tool = Tool::new("ping", "Answer pong", |_: NoArgs| Ok("pong"));
/// assert_eq!(tool.name(), "ping");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct NoArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::AskError;
    use crate::types::{Capability, Content};

    #[derive(Debug, Deserialize, JsonSchema)]
    struct ReadFile {
        path: String,
        max_bytes: Option<u64>,
    }

    fn read_file_tool() -> Tool {
        Tool::new("read_file", "Read a file", |args: ReadFile| {
            if args.path == "/missing" {
                return Err(Error::new("no such file: /missing"));
            }
            Ok(format!("{}:{:?}", args.path, args.max_bytes))
        })
    }

    fn invalid(message: &str) -> Result<CallResult, CallError> {
        Err(CallError::InvalidArguments(message.into()))
    }

    #[test]
    fn call_parses_arguments_and_runs_the_handler() {
        let result = read_file_tool().call(r#"{"path": "/data/a", "max_bytes": 5}"#).unwrap();
        assert_eq!(result.content, vec![Content::Text("/data/a:Some(5)".into())]);
    }

    #[test]
    fn missing_field_is_invalid_arguments_naming_it() {
        assert_eq!(read_file_tool().call("{}"), invalid("missing field `path` at line 1 column 2"));
    }

    #[test]
    fn wrong_type_is_invalid_arguments_naming_the_field() {
        assert_eq!(
            read_file_tool().call(r#"{"path": "/a", "max_bytes": "lots"}"#),
            invalid("`max_bytes`: invalid type: string \"lots\", expected u64 at line 1 column 34")
        );
    }

    #[test]
    fn malformed_json_is_invalid_arguments() {
        let error = read_file_tool().call("{\"path\":").unwrap_err();
        assert!(matches!(error, CallError::InvalidArguments(m) if m.contains("EOF")));
    }

    #[test]
    fn handler_error_is_an_error_result_not_a_call_error() {
        let result = read_file_tool().call(r#"{"path": "/missing"}"#).unwrap();
        assert!(result.is_error);
        assert_eq!(result.content, vec![Content::Text("no such file: /missing".into())]);
    }

    #[test]
    fn an_unsupported_question_is_a_missing_capability_call_error() {
        let tool = Tool::new("ask", "Ask the user", |_: NoArgs| -> Result<String, Error> {
            Err(AskError::Unsupported(Capability::Elicitation))?
        });
        assert_eq!(tool.call("{}"), Err(CallError::MissingCapability(Capability::Elicitation)));
    }

    #[test]
    fn a_pending_question_ends_the_call() {
        let tool = Tool::new("ask", "Ask the user", |_: NoArgs| -> Result<String, Error> {
            Err(AskError::Pending)?
        });
        assert!(matches!(tool.call("{}"), Err(CallError::Failed(_))));
    }

    #[test]
    fn a_client_that_did_not_answer_is_an_error_result() {
        let tool = Tool::new("ask", "Ask the user", |_: NoArgs| -> Result<String, Error> {
            Err(AskError::Timeout)?
        });
        let result = tool.call("{}").unwrap();
        assert!(result.is_error);
        assert_eq!(result.content, vec![Content::Text("the client did not answer in time".into())]);
    }

    #[test]
    fn absent_arguments_mean_the_empty_object() {
        let tool = Tool::new("ping", "Answer pong", |_: NoArgs| Ok("pong"));
        for arguments in ["", "  ", "null", "{}"] {
            assert!(tool.call(arguments).is_ok(), "arguments {arguments:?}");
        }
    }

    #[test]
    fn no_args_ignores_unknown_arguments() {
        let tool = Tool::new("ping", "Answer pong", |_: NoArgs| Ok("pong"));
        assert!(tool.call(r#"{"extra": 1}"#).is_ok());
    }

    #[test]
    fn definition_carries_metadata_annotations_and_schema() {
        let definition = read_file_tool()
            .title("Read file")
            .read_only(true)
            .open_world(false)
            .definition()
            .unwrap();
        assert_eq!(definition.title.as_deref(), Some("Read file"));
        assert_eq!(definition.description, "Read a file");
        assert_eq!(
            definition.annotations,
            Annotations {
                read_only: Some(true),
                destructive: None,
                idempotent: None,
                open_world: Some(false),
            }
        );
        let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], serde_json::json!(["path"]));
        assert_eq!(definition.output_schema, None);
    }

    #[test]
    fn no_args_schema_is_an_object() {
        let tool = Tool::new("ping", "Answer pong", |_: NoArgs| Ok("pong"));
        let schema: Value = serde_json::from_str(&tool.definition().unwrap().input_schema).unwrap();
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn non_object_arguments_fail_the_definition() {
        let tool = Tool::new("echo", "Echo", |text: String| Ok(text));
        assert!(tool.definition().is_err());
    }
}

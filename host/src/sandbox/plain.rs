//! Plain components: a component that exports no `corral:mcp` interface
//! but plain typed functions is served with one tool per function.
//!
//! - A world-level function `f` is the tool `f`; a function `f` of an
//!   exported interface `ns:pkg/iface@1.0.0` (or an inline `iface`) is
//!   `iface_f`; kebab-case becomes snake_case (`get-weather` is
//!   `get_weather`).
//! - The input schema has one property per parameter ([`wit_json`] maps the
//!   types); the return value is the structured output: a record as the
//!   object itself, anything else as `{"value": ...}`; the text content is
//!   that object as JSON. A `result` return's `err` is an `isError` result
//!   carrying the error value (a string as it is, anything else as JSON).
//! - A function whose types have no JSON form (a resource handle, an async
//!   value), and a resource's methods, are refused at load, each named with
//!   its reason ([`Refused`]); the rest of the component serves.
//! - Descriptions come from the WIT doc comments when the component carries
//!   them (a `package-docs` custom section, as `wit-component` writes it),
//!   else they name the function and where it comes from. Today's
//!   toolchains (cargo with wit-bindgen, componentize-py, componentize-js)
//!   drop the section from the components they build.
//! - componentize-py's own `exports` interface (its `init`, called by its
//!   build, not by anyone else) is not a tool.

use serde_json::{Map, Value};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Instance, Type, Val};

use super::checks::is_valid_tool_name;
use super::state::CallState;
use super::types::{Annotations, CallError, CallResult, Content, Refused, ToolDef};
use super::wit_json::{self, Unsupported, snake};

/// One exported function served as a tool.
pub(super) struct PlainFunction {
    /// The tool's name.
    tool: String,
    /// The function, as `iface#f` or `f`.
    function: String,
    index: ComponentExportIndex,
    /// Parameters, by WIT name.
    params: Vec<(String, Type)>,
    result: Option<Type>,
}

/// What a plain component offers.
#[derive(Default)]
pub(super) struct Plain {
    pub functions: Vec<PlainFunction>,
    pub tools: Vec<ToolDef>,
    pub refused: Vec<Refused>,
}

/// The functions of `component`'s exports served as tools, with the ones
/// refused. `docs` is its `package-docs` section, if it has one.
pub(super) fn discover(engine: &Engine, component: &Component, docs: Option<&Value>) -> Plain {
    let mut plain = Plain::default();
    let ty = component.component_type();
    for (name, export) in ty.exports(engine) {
        match export.ty {
            ComponentItem::ComponentFunc(func) => {
                let index = component.get_export_index(None, name);
                let docs = docs.and_then(|d| world_func_docs(d, name));
                plain.add(None, name, &func, index, docs);
            }
            ComponentItem::ComponentInstance(instance) => {
                let short = interface_name(name);
                if is_componentize_py_init(short, instance.exports(engine).map(|(n, _)| n)) {
                    continue;
                }
                let Some(instance_index) = component.get_export_index(None, name) else { continue };
                for (func_name, item) in instance.exports(engine) {
                    let ComponentItem::ComponentFunc(func) = item.ty else { continue };
                    let index = component.get_export_index(Some(&instance_index), func_name);
                    let docs = docs.and_then(|d| interface_func_docs(d, short, func_name));
                    plain.add(Some((name, short)), func_name, &func, index, docs);
                }
            }
            _ => {}
        }
    }
    plain
}

impl Plain {
    fn add(
        &mut self,
        interface: Option<(&str, &str)>,
        name: &str,
        func: &ComponentFunc,
        index: Option<ComponentExportIndex>,
        docs: Option<String>,
    ) {
        let function = match interface {
            Some((full, _)) => format!("{full}#{name}"),
            None => name.to_owned(),
        };
        let tool = match interface {
            Some((_, short)) => snake(&format!("{short}-{name}")),
            None => snake(name),
        };
        let refuse = |reason: String| Refused { function: function.clone(), reason };
        let refusal = if name.starts_with('[') {
            // `[constructor]r`, `[method]r.f`, `[static]r.f`.
            Some(format!(
                "it belongs to the resource {:?}, whose handles live in the instance, which ends with the call",
                resource_of(name)
            ))
        } else if func.async_() {
            Some("it is an async function (not served yet)".into())
        } else if func.results().len() > 1 {
            Some("it has more than one result".into())
        } else if !is_valid_tool_name(&tool) {
            Some(format!("its tool name {tool:?} is not a valid MCP tool name"))
        } else {
            let taken = self.functions.iter().find(|f| f.tool == tool);
            taken.map(|other| format!("its tool name {tool:?} is taken by {}", other.function))
        };
        if let Some(reason) = refusal {
            self.refused.push(refuse(reason));
            return;
        }
        let Some(index) = index else {
            self.refused.push(refuse("its export could not be found".into()));
            return;
        };
        let params: Vec<(String, Type)> = func.params().map(|(n, t)| (n.to_owned(), t)).collect();
        let result = func.results().next();
        let schemas = tool_schemas(&params, result.as_ref());
        let (input_schema, output_schema) = match schemas {
            Ok(schemas) => schemas,
            Err(Unsupported(what)) => {
                self.refused.push(refuse(format!("it uses {what}, which has no JSON form")));
                return;
            }
        };
        let description = docs.unwrap_or_else(|| match interface {
            Some((full, _)) => {
                format!("Calls the WIT function `{name}` of the interface `{full}`.")
            }
            None => format!("Calls the WIT function `{name}` of the component's world."),
        });
        self.tools.push(ToolDef {
            name: tool.clone(),
            title: None,
            description,
            input_schema: input_schema.to_string(),
            output_schema: output_schema.map(|s| s.to_string()),
            annotations: Annotations::default(),
        });
        self.functions.push(PlainFunction { tool, function, index, params, result });
    }
}

/// The input schema of the parameters and the output schema of the result.
fn tool_schemas(
    params: &[(String, Type)],
    result: Option<&Type>,
) -> Result<(Value, Option<Value>), Unsupported> {
    let input = wit_json::object(params.iter().map(|(n, t)| (snake(n), t.clone())))?;
    let output = match result.map(payload) {
        None | Some(None) => None,
        Some(Some(ty @ Type::Record(_))) => Some(wit_json::schema(&ty)?),
        Some(Some(ty)) => Some(wit_json::object(std::iter::once(("value".to_owned(), ty)))?),
    };
    // An `err` payload must have a JSON form too.
    if let Some(Type::Result(r)) = result
        && let Some(err) = r.err()
    {
        wit_json::schema(&err)?;
    }
    Ok((input, output))
}

/// The type a successful call returns: the `ok` side of a `result`.
fn payload(ty: &Type) -> Option<Type> {
    match ty {
        Type::Result(r) => r.ok(),
        other => Some(other.clone()),
    }
}

/// `ns:pkg/iface@1.0.0` is `iface`; an inline interface keeps its name.
fn interface_name(export: &str) -> &str {
    let path = export.split('@').next().unwrap_or(export);
    path.rsplit('/').next().unwrap_or(path)
}

/// `[method]counter.next` belongs to `counter`.
fn resource_of(name: &str) -> &str {
    let rest = name.split_once(']').map_or(name, |(_, rest)| rest);
    rest.split('.').next().unwrap_or(rest)
}

/// componentize-py leaves an interface `exports` with one function, `init`,
/// that its build calls to set up the interpreter; it is not a tool.
fn is_componentize_py_init<'a>(
    interface: &str,
    mut functions: impl Iterator<Item = &'a str>,
) -> bool {
    interface == "exports" && functions.next() == Some("init") && functions.next().is_none()
}

impl Plain {
    /// The function behind `tool`.
    pub fn function(&self, tool: &str) -> Option<&PlainFunction> {
        self.functions.iter().find(|f| f.tool == tool)
    }
}

impl PlainFunction {
    /// Calls the function in `instance` with `arguments` (a JSON object as
    /// text) and turns what it returns into a tool result.
    pub async fn call(
        &self,
        store: &mut wasmtime::Store<CallState>,
        instance: &Instance,
        arguments: &str,
    ) -> wasmtime::Result<Result<CallResult, CallError>> {
        let params = match self.arguments(arguments) {
            Ok(params) => params,
            Err(message) => return Ok(Err(CallError::InvalidArguments(message))),
        };
        let func = instance
            .get_func(&mut *store, self.index)
            .ok_or_else(|| wasmtime::Error::msg(format!("export of {} not found", self.tool)))?;
        let mut results = vec![Val::Bool(false); usize::from(self.result.is_some())];
        func.call_async(&mut *store, &params, &mut results).await?;
        Ok(Ok(self.result_of(results.pop())))
    }

    fn arguments(&self, arguments: &str) -> Result<Vec<Val>, String> {
        let json: Value =
            serde_json::from_str(arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
        let empty = Map::new();
        let object = match &json {
            Value::Object(object) => object,
            Value::Null => &empty,
            _ => return Err("arguments must be a JSON object".into()),
        };
        let members = wit_json::members(&self.params, object, "")?;
        Ok(members.into_iter().map(|(_, v)| v).collect())
    }

    fn result_of(&self, value: Option<Val>) -> CallResult {
        let payload = match (value, &self.result) {
            (Some(Val::Result(Err(error))), Some(Type::Result(_))) => {
                let text = match error.as_deref() {
                    None => format!("{} returned an error", self.tool),
                    Some(Val::String(message)) => message.clone(),
                    Some(other) => wit_json::from_val(other).to_string(),
                };
                return CallResult {
                    content: vec![Content::Text(text)],
                    structured: None,
                    is_error: true,
                };
            }
            (Some(Val::Result(Ok(ok))), Some(Type::Result(_))) => ok.map(|v| *v),
            (value, _) => value,
        };
        let Some(payload) = payload else {
            return CallResult { content: Vec::new(), structured: None, is_error: false };
        };
        let structured = match wit_json::from_val(&payload) {
            object @ Value::Object(_) if matches!(payload, Val::Record(_)) => object,
            value => Value::Object(Map::from_iter([("value".to_owned(), value)])),
        };
        let text = structured.to_string();
        CallResult {
            content: vec![Content::Text(text.clone())],
            structured: Some(text),
            is_error: false,
        }
    }
}

/// The `package-docs` custom section of a component, as `wit-component`
/// writes it (a version byte, 0 or 1, then JSON), if it has one at its top
/// level.
pub(super) fn package_docs(wasm: &[u8]) -> Option<Value> {
    let mut rest = wasm.strip_prefix(b"\0asm")?.get(4..)?;
    while let Some((&id, after)) = rest.split_first() {
        let (size, after) = leb128(after)?;
        let (section, next) = (after.get(..size)?, after.get(size..)?);
        if id == 0 {
            let (name_len, body) = leb128(section)?;
            if body.get(..name_len)? == b"package-docs" {
                let data = body.get(name_len..)?;
                return match data.split_first() {
                    Some((0 | 1, json)) => serde_json::from_slice(json).ok(),
                    _ => None,
                };
            }
        }
        rest = next;
    }
    None
}

fn leb128(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut value = 0usize;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// Docs of a world-level function `f`: `worlds.*.funcs.f`.
fn world_func_docs(docs: &Value, func: &str) -> Option<String> {
    let worlds = docs.get("worlds")?.as_object()?;
    worlds.values().find_map(|world| func_docs(world.get("funcs")?.get(func)?))
}

/// Docs of `f` in an exported interface: a named one in the package
/// (`interfaces.iface.funcs.f`), or an inline one of a world
/// (`worlds.*.interfaces.iface.funcs.f`, or `interface_exports`).
fn interface_func_docs(docs: &Value, interface: &str, func: &str) -> Option<String> {
    let in_interface = |map: &Value| func_docs(map.get(interface)?.get("funcs")?.get(func)?);
    if let Some(found) = docs.get("interfaces").and_then(in_interface) {
        return Some(found);
    }
    let worlds = docs.get("worlds")?.as_object()?;
    worlds.values().find_map(|world| {
        ["interface_exports", "interfaces"]
            .iter()
            .find_map(|key| world.get(*key).and_then(in_interface))
    })
}

/// A function's docs: a string (version 0) or `{"docs": ...}` (version 1).
fn func_docs(entry: &Value) -> Option<String> {
    let text = match entry {
        Value::String(text) => text,
        other => other.get("docs")?.as_str()?,
    };
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

//! The catalogue of tools: which component serves which exposed tool name.
//!
//! Tool names are unique across the host. By default a component's tools
//! are exposed as `<component>_<tool>`; `namespace = "x"` in the config
//! changes the prefix and `namespace = ""` exposes the bare names. Two tools
//! that would be exposed under the same name are a load error naming both
//! components, never a silent shadowing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::policy::Policy;
use crate::sandbox::{
    CallOutcome, CallReport, CapturedStdio, EventSink, Failure, LoadError, LoadedComponent,
    Sandbox, ToolDef,
};

/// Why the catalogue could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A component file could not be read.
    #[error("component \"{component}\": cannot read {path}")]
    Read {
        /// The component's name.
        component: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration or a grant in it is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A component did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Two components expose the same tool name.
    #[error(
        "tool name {name:?} is exposed by both component \"{first}\" and component \"{second}\"; \
         give one of them a different namespace"
    )]
    DuplicateTool {
        /// The clashing exposed name.
        name: String,
        /// The component loaded first.
        first: String,
        /// The component loaded second.
        second: String,
    },
}

/// One exposed tool.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    /// The name clients call it by.
    pub name: String,
    /// The name the component knows it by.
    pub guest_name: String,
    /// Index of the component in [`Registry::components`].
    pub component: usize,
    /// The definition as the component declared it.
    pub def: ToolDef,
}

/// Loaded components and the tools they expose.
pub struct Registry {
    components: Vec<Arc<LoadedComponent>>,
    tools: BTreeMap<String, ToolEntry>,
}

impl Registry {
    /// Loads every component of `config` into `sandbox`.
    pub async fn load(config: &Config, sandbox: &Sandbox) -> Result<Registry, RegistryError> {
        let mut loaded = Vec::with_capacity(config.components.len());
        for entry in &config.components {
            let wasm = read_component(&config.base_dir, &entry.name, &entry.path)?;
            let policy = Policy::resolve(entry, &config.base_dir, config.limits)?;
            let component = sandbox.load(&entry.name, &wasm, policy).await?;
            let namespace = entry.namespace.clone().unwrap_or_else(|| entry.name.clone());
            loaded.push((component, namespace));
        }
        Registry::new(loaded)
    }

    /// Builds the catalogue from loaded components and their namespaces.
    pub fn new(components: Vec<(LoadedComponent, String)>) -> Result<Registry, RegistryError> {
        let mut tools: BTreeMap<String, ToolEntry> = BTreeMap::new();
        let mut loaded = Vec::with_capacity(components.len());
        for (index, (component, namespace)) in components.into_iter().enumerate() {
            for def in component.tools() {
                let name = exposed_name(&namespace, &def.name);
                if let Some(existing) = tools.get(&name) {
                    let first: &Arc<LoadedComponent> = &loaded[existing.component];
                    return Err(RegistryError::DuplicateTool {
                        name,
                        first: first.name().to_owned(),
                        second: component.name().to_owned(),
                    });
                }
                let entry = ToolEntry {
                    name: name.clone(),
                    guest_name: def.name.clone(),
                    component: index,
                    def: def.clone(),
                };
                tools.insert(name, entry);
            }
            loaded.push(Arc::new(component));
        }
        Ok(Registry { components: loaded, tools })
    }

    /// Every exposed tool, ordered by name.
    pub fn tools(&self) -> impl Iterator<Item = &ToolEntry> {
        self.tools.values()
    }

    /// The tool exposed as `name`.
    pub fn tool(&self, name: &str) -> Option<&ToolEntry> {
        self.tools.get(name)
    }

    /// The loaded components, in config order.
    pub fn components(&self) -> &[Arc<LoadedComponent>] {
        &self.components
    }

    /// The component serving `entry`.
    pub fn component_of(&self, entry: &ToolEntry) -> &Arc<LoadedComponent> {
        &self.components[entry.component]
    }

    /// Calls the tool exposed as `name`; an unknown name is an
    /// `unknown_tool` report, not an error.
    pub async fn call(
        &self,
        sandbox: &Sandbox,
        name: &str,
        arguments: &str,
        events: EventSink,
    ) -> CallReport {
        match self.tool(name) {
            Some(entry) => {
                sandbox.call(self.component_of(entry), &entry.guest_name, arguments, events).await
            }
            None => {
                let failure =
                    Failure::new(CallOutcome::UnknownTool, format!("unknown tool: {name}"));
                CallReport {
                    outcome: failure.outcome,
                    result: failure.into_result(),
                    fuel_consumed: 0,
                    elapsed: std::time::Duration::ZERO,
                    stdio: CapturedStdio::default(),
                }
            }
        }
    }
}

/// The bytes of a component: a bundled one for `builtin:<name>`, else the
/// file at `path` relative to `base_dir`.
fn read_component(
    base_dir: &std::path::Path,
    component: &str,
    path: &std::path::Path,
) -> Result<std::borrow::Cow<'static, [u8]>, RegistryError> {
    if let Some(builtin) = path.to_str().and_then(|p| p.strip_prefix(crate::config::BUILTIN_PREFIX))
    {
        return crate::bundled::ALL
            .iter()
            .find(|(name, _)| *name == builtin)
            .map(|(_, bytes)| std::borrow::Cow::Borrowed(*bytes))
            .ok_or_else(|| {
                RegistryError::Config(crate::config::ConfigError::invalid(
                    format!("component {component:?}: path"),
                    format!(
                        "no built-in tool {builtin:?} (built-in: fs, text, conformance, fetch)"
                    ),
                ))
            });
    }
    let path = base_dir.join(path);
    std::fs::read(&path).map(std::borrow::Cow::Owned).map_err(|source| RegistryError::Read {
        component: component.to_owned(),
        path,
        source,
    })
}

/// `<namespace>_<tool>`, or the bare tool name for an empty namespace.
pub fn exposed_name(namespace: &str, tool: &str) -> String {
    if namespace.is_empty() { tool.to_owned() } else { format!("{namespace}_{tool}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_prefixes_tool_names() {
        assert_eq!(exposed_name("fs", "read_file"), "fs_read_file");
        assert_eq!(exposed_name("", "read_file"), "read_file");
    }
}

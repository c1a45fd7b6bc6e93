//! A kept instance, for benchmarks only: the baseline against which the
//! cost of a fresh instance per call is measured.

use wasmtime::Store;
use wasmtime::component::Instance;

use super::component::Exports;
use super::state::CallState;
use super::types::CallResult;
use super::{EPOCH_TICK, Failure, LoadedComponent, Sandbox, outcome};

/// An instance kept alive across calls. Corral never serves calls this way
/// (state would leak from one call to the next); it exists so benchmarks can
/// measure what a fresh instance per call costs against this baseline.
pub struct ReusedInstance<'a> {
    store: Store<CallState>,
    instance: Instance,
    component: &'a LoadedComponent,
    limits: crate::policy::Limits,
}

impl Sandbox {
    /// Instantiates `component` once for repeated calls; see [`ReusedInstance`].
    pub async fn reused_instance<'a>(
        &self,
        component: &'a LoadedComponent,
    ) -> Result<ReusedInstance<'a>, Failure> {
        let limits = component.policy.limits;
        let mut store = self.new_store(component, &limits, None);
        match component.pre.instantiate_async(&mut store).await {
            Ok(instance) => Ok(ReusedInstance { store, instance, component, limits }),
            Err(err) => Err(outcome::classify(
                &err,
                store.data(),
                &limits,
                self.settings.max_wasm_stack_kib,
            )),
        }
    }
}

impl ReusedInstance<'_> {
    /// Calls a tool on the kept instance, refilling fuel and the deadline.
    pub async fn call(&mut self, tool: &str, arguments: &str) -> Result<CallResult, String> {
        let _ = self.store.set_fuel(self.limits.fuel);
        self.store.set_epoch_deadline(
            self.limits.timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1,
        );
        let store = &mut self.store;
        let called = match &self.component.exports {
            Exports::V1 { tools } => match tools.load(&mut *store, &self.instance) {
                Ok(tools) => tools
                    .call_call_tool(store, tool, arguments)
                    .await
                    .map(|r| r.map(Into::into).map_err(|e| format!("{e:?}"))),
                Err(err) => Err(err),
            },
            Exports::V2 { tools: Some(tools), .. } => match tools.load(&mut *store, &self.instance)
            {
                Ok(tools) => tools
                    .call_call_tool(store, tool, arguments)
                    .await
                    .map(|r| r.map(Into::into).map_err(|e| format!("{e:?}"))),
                Err(err) => Err(err),
            },
            Exports::V2 { tools: None, .. } => return Err("the component has no tools".into()),
            Exports::Plain(plain) => match plain.function(tool) {
                Some(function) => function
                    .call(store, &self.instance, arguments)
                    .await
                    .map(|r| r.map_err(|e| format!("{e:?}"))),
                None => return Err(format!("no tool {tool:?}")),
            },
        };
        match called {
            Ok(result) => result,
            Err(err) => Err(format!("{err:#}")),
        }
    }
}

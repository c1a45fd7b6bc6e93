//! A kept instance, for benchmarks only: the baseline against which the
//! cost of a fresh instance per call is measured.

use wasmtime::Store;

use super::bindings;
use super::state::CallState;
use super::{CallResult, EPOCH_TICK, Failure, LoadedComponent, Sandbox, outcome};

/// An instance kept alive across calls. Corral never serves calls this way
/// (state would leak from one call to the next); it exists so benchmarks can
/// measure what a fresh instance per call costs against this baseline.
pub struct ReusedInstance {
    store: Store<CallState>,
    tools: bindings::Tool,
    limits: crate::policy::Limits,
}

impl Sandbox {
    /// Instantiates `component` once for repeated calls; see [`ReusedInstance`].
    pub async fn reused_instance(
        &self,
        component: &LoadedComponent,
    ) -> Result<ReusedInstance, Failure> {
        let limits = component.policy.limits;
        let mut store = self.new_store(component, &limits, None);
        match component.pre.instantiate_async(&mut store).await {
            Ok(tools) => Ok(ReusedInstance { store, tools, limits }),
            Err(err) => Err(outcome::classify(
                &err,
                store.data(),
                &limits,
                self.settings.max_wasm_stack_kib,
            )),
        }
    }
}

impl ReusedInstance {
    /// Calls a tool on the kept instance, refilling fuel and the deadline.
    pub async fn call(&mut self, tool: &str, arguments: &str) -> Result<CallResult, String> {
        let _ = self.store.set_fuel(self.limits.fuel);
        self.store.set_epoch_deadline(
            self.limits.timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1,
        );
        match self.tools.corral_mcp_tools().call_call_tool(&mut self.store, tool, arguments).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(err)) => Err(format!("{err:?}")),
            Err(err) => Err(format!("{err:#}")),
        }
    }
}

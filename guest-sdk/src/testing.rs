//! Native test support: what a tool asked of the host, recorded per thread.
//!
//! Only compiled for non-wasm targets, where there is no host to call. Each
//! test runs on its own thread, so tests do not see each other's events.
//!
//! ```
//! use corral_sdk::testing::{HostEvent, take_events};
//! use corral_sdk::{LogLevel, log, progress};
//!
//! log::info("started");
//! progress(1.0, Some(2.0), None);
//! assert_eq!(
//!     take_events(),
//!     vec![
//!         HostEvent::Log { level: LogLevel::Info, message: "started".into() },
//!         HostEvent::Progress { done: 1.0, total: Some(2.0), message: None },
//!     ]
//! );
//! assert!(take_events().is_empty());
//! ```

use crate::types::LogLevel;
use std::cell::RefCell;

/// One call a tool made to the `corral:mcp/host` interface.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// A [`log`](crate::log()) call.
    Log {
        /// Its level.
        level: LogLevel,
        /// Its message.
        message: String,
    },
    /// A [`progress`](crate::progress) call.
    Progress {
        /// Work done so far.
        done: f64,
        /// Total work, if known.
        total: Option<f64>,
        /// What is being done.
        message: Option<String>,
    },
}

thread_local! {
    static EVENTS: RefCell<Vec<HostEvent>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn record(event: HostEvent) {
    EVENTS.with(|events| events.borrow_mut().push(event));
}

/// Returns the events recorded on this thread since the last call, and forgets them.
pub fn take_events() -> Vec<HostEvent> {
    EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut()))
}

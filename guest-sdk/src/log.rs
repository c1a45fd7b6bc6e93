//! One function per log level, for [`log`](crate::log()) calls that read well.
//!
//! ```
//! use corral_sdk::log;
//!
//! log::info("indexing /data");
//! log::warning(format!("skipped {} unreadable files", 2));
//! ```

use crate::types::LogLevel;

/// Logs at `debug`: detail for whoever debugs the tool.
pub fn debug(message: impl AsRef<str>) {
    crate::log(LogLevel::Debug, message);
}

/// Logs at `info`: what the tool is doing.
pub fn info(message: impl AsRef<str>) {
    crate::log(LogLevel::Info, message);
}

/// Logs at `notice`: normal but significant.
pub fn notice(message: impl AsRef<str>) {
    crate::log(LogLevel::Notice, message);
}

/// Logs at `warning`: something is off, but the call goes on.
pub fn warning(message: impl AsRef<str>) {
    crate::log(LogLevel::Warning, message);
}

/// Logs at `error`: an operation failed.
pub fn error(message: impl AsRef<str>) {
    crate::log(LogLevel::Error, message);
}

/// Logs at `critical`.
pub fn critical(message: impl AsRef<str>) {
    crate::log(LogLevel::Critical, message);
}

/// Logs at `alert`: action must be taken immediately.
pub fn alert(message: impl AsRef<str>) {
    crate::log(LogLevel::Alert, message);
}

/// Logs at `emergency`: the system is unusable.
pub fn emergency(message: impl AsRef<str>) {
    crate::log(LogLevel::Emergency, message);
}

//! Settings declared once. Each field of a configuration table is declared
//! with its default and, for a number, its allowed range, in one place (the
//! [`settings!`] macro), and everything else comes from that declaration:
//!
//! - the field's doc line `Default: ...` (and its range);
//! - the table's `Default`, which serde uses for every key a file leaves out;
//! - the range check, whose error names the table and key;
//! - the table's [`Setting`]s, which `corral check` prints and against which
//!   a test holds the README's configuration example.
//!
//! ```text
//! settings! {
//!     /// How `corral serve` listens.
//!     #[derive(Debug, Clone, Deserialize)]
//!     #[serde(deny_unknown_fields)]
//!     pub struct ServerConfig in "server" {
//!         /// Largest request body, in KiB; larger ones get 413.
//!         pub max_body_kib: u64 = 4096, range 1..=1_048_576;
//!         /// Address to bind (`--listen` overrides it).
//!         pub listen: SocketAddr = loopback(7070), toml "\"127.0.0.1:7070\"";
//!     }
//! }
//! ```
//!
//! A default written as a literal is shown as written; any other needs its
//! TOML form (`toml "..."`), or how it is decided when it has none
//! (`toml "none: beside the config file"`).

/// One setting of a table, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its table (`server`, `engine`, `limits`, ...).
    pub table: &'static str,
    /// Its key.
    pub key: &'static str,
    /// Its default as TOML, or how it is decided when it has none (then
    /// starting with `none`).
    pub default: &'static str,
    /// Its allowed range, for a number.
    pub range: Option<(u64, u64)>,
}

impl Setting {
    /// Whether the default is a TOML value (not `none...`).
    pub fn has_value(&self) -> bool {
        !self.default.starts_with("none")
    }
}

/// The TOML form of a default: as written, or as given.
macro_rules! shown {
    ($shown:literal ; $default:expr) => {
        $shown
    };
    (; $default:expr) => {
        stringify!($default)
    };
}

/// A range as the doc line says it.
macro_rules! range_text {
    () => {
        ""
    };
    ($lo:literal, $hi:literal) => {
        concat!(" (", stringify!($lo), " to ", stringify!($hi), ")")
    };
}

/// A range as [`Setting::range`] holds it.
macro_rules! range_value {
    () => {
        None
    };
    ($lo:literal, $hi:literal) => {
        Some(($lo, $hi))
    };
}

/// Checks one field against its range, if it has one.
macro_rules! check_range {
    ($self:ident, $table:literal, $field:ident) => {};
    ($self:ident, $table:literal, $field:ident, $lo:literal, $hi:literal) => {
        let value: u64 = $self.$field.into();
        if !($lo..=$hi).contains(&value) {
            return Err($crate::config::ConfigError::invalid(
                concat!($table, ".", stringify!($field)),
                format!("{value} is out of range {}..={}", $lo as u64, $hi as u64),
            ));
        }
    };
}

/// Declares a configuration table: see the module doc.
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $table:literal {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident: $ty:ty = $default:expr
                    $(, toml $shown:literal)?
                    $(, range $lo:literal ..= $hi:literal)?
                ;
            )*
        }
    ) => {
        $(#[$meta])*
        #[serde(default)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Default: `",
                    $crate::config::settings::shown!($($shown)? ; $default),
                    "`",
                    $crate::config::settings::range_text!($($lo, $hi)?),
                    "."
                )]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $name {
            /// Every setting of this table, with its default and range.
            pub const SETTINGS: &'static [$crate::config::settings::Setting] = &[
                $(
                    $crate::config::settings::Setting {
                        table: $table,
                        key: stringify!($field),
                        default: $crate::config::settings::shown!($($shown)? ; $default),
                        range: $crate::config::settings::range_value!($($lo, $hi)?),
                    },
                )*
            ];

            /// Checks every number against its range; the error names the
            /// table and the key.
            #[allow(unused_variables)]
            fn check_ranges(&self) -> Result<(), $crate::config::ConfigError> {
                $($crate::config::settings::check_range!(self, $table, $field $(, $lo, $hi)?);)*
                Ok(())
            }
        }
    };
}

/// Declares a table whose every key may be left out to inherit (the
/// limits: a component's `[component.limits]` over `[limits]` over the
/// defaults): a struct of `Option`s as the file writes it, and one of the
/// values every key resolves to, from one declaration of each key's
/// default and range.
macro_rules! overridable {
    (
        $(#[$meta:meta])*
        pub struct $name:ident resolves to $values:ident in $table:literal {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident: $ty:ty = $default:literal, range $lo:literal ..= $hi:literal;
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Default: `", stringify!($default), "`",
                    $crate::config::settings::range_text!($lo, $hi), "."
                )]
                pub $field: Option<$ty>,
            )*
        }

        /// Every limit resolved: what a file set, else its default.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $values {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl $name {
            /// Every key, with its default and range.
            pub const SETTINGS: &'static [$crate::config::settings::Setting] = &[
                $(
                    $crate::config::settings::Setting {
                        table: $table,
                        key: stringify!($field),
                        default: stringify!($default),
                        range: Some(($lo, $hi)),
                    },
                )*
            ];

            /// `self` where set, else `fallback`.
            pub fn or(self, fallback: $name) -> $name {
                $name { $($field: self.$field.or(fallback.$field),)* }
            }

            /// Every key: as set, else its default.
            pub fn resolved(self) -> $values {
                $values { $($field: self.$field.unwrap_or($default),)* }
            }

            /// Checks every key that is set against its range; `ctx` names
            /// where the table is (`limits`, `component "x": limits`).
            pub fn validate(&self, ctx: &str) -> Result<(), $crate::config::ConfigError> {
                $(
                    if let Some(value) = self.$field {
                        let value: u64 = value.into();
                        if !($lo..=$hi).contains(&value) {
                            return Err($crate::config::ConfigError::invalid(
                                format!("{ctx}.{}", stringify!($field)),
                                format!("{value} is out of range {}..={}", $lo as u64, $hi as u64),
                            ));
                        }
                    }
                )*
                Ok(())
            }
        }
    };
}

pub(crate) use {check_range, overridable, range_text, range_value, settings, shown};

/// Every table's settings, for `corral check` and the README test.
pub fn all() -> impl Iterator<Item = &'static Setting> {
    use super::{ClusterConfig, EngineConfig, LimitOverrides, NativeConfig, OciConfig};
    use super::{ServerConfig, TasksConfig};
    [
        EngineConfig::SETTINGS,
        ServerConfig::SETTINGS,
        TasksConfig::SETTINGS,
        ClusterConfig::SETTINGS,
        OciConfig::SETTINGS,
        LimitOverrides::SETTINGS,
        NativeConfig::SETTINGS,
    ]
    .into_iter()
    .flatten()
}

/// The README's configuration examples held against the declarations: a
/// key the README shows exists, a value it shows for a table of defaults
/// is the default, a "default N" it says in a comment is the default, and
/// every setting is shown.
#[cfg(test)]
mod readme {
    use std::collections::{BTreeMap, BTreeSet};

    use super::{Setting, all};

    /// One `key = value  # comment` line of a TOML example.
    struct Line {
        table: String,
        key: String,
        value: Option<String>,
        comment: String,
        /// In the "Configuration" section's example, which shows defaults.
        defaults: bool,
    }

    /// The lines of every ```toml block of `text` under the tables
    /// `tables`; `# key = value` lines count, with no value.
    fn lines(text: &str, tables: &BTreeSet<&str>) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut in_block = false;
        let mut table = String::new();
        let mut section = "";
        for raw in text.lines() {
            let line = raw.trim();
            if let Some(heading) = raw.strip_prefix("## ") {
                section = heading.trim();
            }
            if line.starts_with("```") {
                in_block = line == "```toml";
                table.clear();
                continue;
            }
            if !in_block {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let name = header.trim_start_matches('[').split(']').next().unwrap_or("");
                table = name.trim().to_owned();
                continue;
            }
            if !tables.contains(table.as_str()) {
                continue;
            }
            let (commented, body) = match line.strip_prefix("# ") {
                Some(body) => (true, body),
                None => (false, line),
            };
            let Some((key, rest)) = body.split_once('=') else { continue };
            let key = key.trim();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                continue;
            }
            let (value, comment) = match rest.split_once(" #") {
                Some((value, comment)) => (value.trim(), comment.trim()),
                None => (rest.trim(), ""),
            };
            lines.push(Line {
                table: table.clone(),
                key: key.to_owned(),
                value: (!commented).then(|| value.to_owned()),
                comment: comment.to_owned(),
                defaults: section == "Configuration",
            });
        }
        lines
    }

    /// A TOML value, parsed, for comparing `4096` with `4_096`.
    fn toml_value(text: &str) -> Option<toml::Value> {
        toml::from_str::<toml::Table>(&format!("v = {text}")).ok()?.remove("v")
    }

    #[test]
    fn the_readme_shows_every_setting_with_its_default() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let text = std::fs::read_to_string(path).expect("README.md");
        let settings: BTreeMap<(&str, &str), &Setting> =
            all().map(|s| ((s.table, s.key), s)).collect();
        let tables: BTreeSet<&str> = settings.keys().map(|(table, _)| *table).collect();
        let mut shown = BTreeSet::new();
        let mut wrong = Vec::new();
        for line in lines(&text, &tables) {
            let Some(setting) = settings.get(&(line.table.as_str(), line.key.as_str())) else {
                wrong.push(format!("[{}] {}: no such setting", line.table, line.key));
                continue;
            };
            // The Configuration section's example shows every default;
            // other examples show other values, and may say the default in
            // a comment ("default 512").
            let claimed = if line.defaults {
                shown.insert((setting.table, setting.key));
                line.value.clone()
            } else {
                line.comment
                    .split("default ")
                    .nth(1)
                    .and_then(|rest| rest.split([' ', ';', ',', ')']).next())
                    .filter(|word| word.starts_with(|c: char| c.is_ascii_digit() || c == '"'))
                    .map(str::to_owned)
            };
            if let Some(claimed) = claimed {
                let expected = if setting.has_value() { toml_value(setting.default) } else { None };
                if expected.is_none() || toml_value(&claimed) != expected {
                    wrong.push(format!(
                        "[{}] {}: the README says {claimed}, the code's default is {}",
                        setting.table, setting.key, setting.default
                    ));
                }
            }
        }
        for (table, key) in settings.keys() {
            // A native server's name and image have no default to show.
            if !shown.contains(&(*table, *key)) && *table != "native" {
                wrong.push(format!("[{table}] {key}: not in the README's configuration"));
            }
        }
        assert!(wrong.is_empty(), "README.md and the settings disagree:\n{}", wrong.join("\n"));
    }
}

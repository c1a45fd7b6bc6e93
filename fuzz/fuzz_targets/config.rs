//! The configuration file: arbitrary text parsed and validated as `corral
//! check` and `corral serve` do, then every component's grants resolved.
//!
//! Checked: no panic; a refused file has an error message that names where.

#![no_main]

use std::path::Path;

use corral::config::Config;
use corral::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let config = match Config::from_toml(text, Path::new("<fuzz>"), &base) {
        Ok(config) => config,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    for component in &config.components {
        if let Err(err) = Policy::resolve(component, &config.base_dir, config.limits) {
            assert!(
                err.to_string().contains(&component.name),
                "{err} does not name {}",
                component.name
            );
        }
    }
});

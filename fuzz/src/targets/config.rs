//! The configuration file: arbitrary text parsed and validated as `corral
//! check` and `corral serve` do, then every component's grants resolved.
//!
//! Checked: no panic; a refused file has an error message that names where.

use std::path::Path;

use corral::config::Config;
use corral::policy::Policy;

/// One input, as libFuzzer hands it to the target.
pub fn run(data: &[u8]) {
    let Some(text) = super::arbitrary::<&str>(data) else { return };
    let base = super::super::root().join("fuzz").join("seeds");
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
}

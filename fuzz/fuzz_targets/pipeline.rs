//! The pipeline file and `--set` overrides from any text: the first NUL-separated part is the
//! TOML file, the others `key=value` overrides. A pipeline or an error naming the file, never
//! a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use themata::pipeline_file::{Overrides, Pipeline};

fuzz_target!(|data: &str| {
    let mut parts = data.split('\0');
    let toml = parts.next().unwrap_or("");
    let overrides = Overrides {
        set: parts.map(str::to_string).collect(),
        ..Default::default()
    };
    match Pipeline::from_toml(toml, Path::new("/nonexistent/fuzz.toml"), &overrides) {
        Ok(p) => assert!(!p.name.is_empty()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("/nonexistent/fuzz.toml"), "{msg}");
            assert_eq!(e.exit_code(), 2, "{msg}");
        }
    }
});

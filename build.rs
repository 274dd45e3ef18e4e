//! Sets `THEMATA_BUILD`: a hash of the sources the binary is built from (both crates'
//! `src/`, the report template, the manifests and the lock file), so that a stage's
//! fingerprint changes when the code that made its tables does, not only with the version.

use std::path::{Path, PathBuf};

const INPUTS: &[&str] = &[
    "src",
    "crates/core/src",
    "templates",
    "Cargo.toml",
    "crates/core/Cargo.toml",
    "Cargo.lock",
];

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            files(&e, out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

/// 64-bit FNV-1a.
fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h = (*h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut all = Vec::new();
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
        files(&root.join(input), &mut all);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &all {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        fnv(&mut h, rel.as_bytes());
        fnv(&mut h, &[0]);
        fnv(&mut h, &std::fs::read(f).unwrap_or_default());
        fnv(&mut h, &[0]);
    }
    println!("cargo:rustc-env=THEMATA_BUILD={h:016x}");
}

//! What decides whether a stage is fresh: its key (settings, input files, the stage it
//! reads from, themata's version and build) and the fingerprint over it.

use crate::files::{file_hash, hex};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The build of this binary: a hash of the sources it was compiled from (see `build.rs`), so
/// that a code change reruns stages even when the version stays the same.
pub const BUILD: &str = env!("THEMATA_BUILD");

/// What a stage's output depends on: settings, input files and the stage it reads from.
/// Two runs with equal keys produce identical outputs.
#[derive(Debug, Clone)]
pub struct StageKey {
    /// The settings that shape the output.
    pub settings: serde_json::Value,
    /// Input files and their content hashes.
    pub inputs: BTreeMap<String, String>,
    /// The fingerprint of the stage read from.
    pub upstream: String,
    /// SHA-256 over all of these, themata's version and build.
    pub fingerprint: String,
}

impl StageKey {
    /// The key of `stage`.
    pub fn new(
        stage: &str,
        settings: serde_json::Value,
        inputs: BTreeMap<String, String>,
        upstream: String,
    ) -> Self {
        let list: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let fingerprint = fingerprint(&[
            crate::VERSION,
            BUILD,
            stage,
            &settings.to_string(),
            &list.join("\n"),
            &upstream,
        ]);
        StageKey {
            settings,
            inputs,
            upstream,
            fingerprint,
        }
    }
}

/// Content hashes of files, by the names given (in parallel; an unreadable file hashes as
/// such).
pub fn input_hashes(files: &[(PathBuf, String)]) -> BTreeMap<String, String> {
    let hashes: Vec<String> = files
        .par_iter()
        .map(|(path, _)| match file_hash(path) {
            Ok(h) => h,
            Err(e) => format!("unreadable: {}", e.kind()),
        })
        .collect();
    files
        .iter()
        .map(|(_, rel)| rel.clone())
        .zip(hashes)
        .collect()
}

/// How input maps differ: "2 changed, 1 added (first: a.txt)".
pub fn inputs_diff(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> String {
    let changed: Vec<&String> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let mut parts = Vec::new();
    for (n, what, list) in [
        (changed.len(), "changed", &changed),
        (added.len(), "added", &added),
        (removed.len(), "removed", &removed),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what} (first: {})", list[0]));
        }
    }
    parts.join(", ")
}

/// The settings that differ between two JSON values, as `path: old → new` (at most `limit`).
pub fn settings_diff(
    old: &serde_json::Value,
    new: &serde_json::Value,
    limit: usize,
) -> Vec<String> {
    fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let null = Value::Null;
                    walk(
                        &p,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        out,
                    );
                }
            }
            _ if a != b => out.push(format!("{path}: {a} → {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    let n = out.len();
    if n > limit {
        out.truncate(limit);
        out.push(format!("and {} more", n - limit));
    }
    out
}

/// Hex SHA-256 of a list of parts (each length-prefixed, so parts cannot run together).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_diff_names_changed_paths() {
        let a = serde_json::json!({"cluster": {"k": 5, "seed": 1}, "themes": []});
        let b = serde_json::json!({"cluster": {"k": 3, "seed": 1}, "themes": ["x"]});
        assert_eq!(
            settings_diff(&a, &b, 5),
            ["cluster.k: 5 → 3", "themes: [] → [\"x\"]"]
        );
        assert_eq!(settings_diff(&a, &b, 1)[1], "and 1 more");
        assert!(settings_diff(&a, &a, 5).is_empty());
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a"]), fingerprint(&["a"]));
    }
    #[test]
    fn keys_depend_on_the_build() {
        let k = StageKey::new(
            "ingest",
            serde_json::json!({}),
            BTreeMap::new(),
            String::new(),
        );
        assert_eq!(
            k.fingerprint,
            fingerprint(&[crate::VERSION, BUILD, "ingest", "{}", "", ""])
        );
        assert_ne!(
            k.fingerprint,
            fingerprint(&[crate::VERSION, "another build", "ingest", "{}", "", ""])
        );
        assert_eq!(BUILD.len(), 16);
    }

    #[test]
    fn input_maps_differ_by_name() {
        let a = BTreeMap::from([("a".to_string(), "1".to_string()), ("b".into(), "2".into())]);
        let b = BTreeMap::from([("a".to_string(), "9".to_string()), ("c".into(), "3".into())]);
        assert_eq!(
            inputs_diff(&a, &b),
            "1 changed (first: a), 1 added (first: c), 1 removed (first: b)"
        );
    }
}

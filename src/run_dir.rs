//! The run directory: atomic file writes and the manifest.
//!
//! Every file is written under a temporary name in its final directory and renamed into
//! place, so a reader never sees a half-written table. The manifest is rewritten (also
//! atomically) after each stage's outputs are in place.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";

/// Write `path` through a temporary file in the same directory, then rename it into place.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    write(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    tmp.as_file_mut().flush().map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Write a text file atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    atomic_write(path, |f| f.write_all(text.as_bytes()))
}

/// What one stage did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StageRecord {
    /// SHA-256 over themata's version, the stage's settings, its input files' content hashes
    /// and the fingerprint of the stage it reads from.
    pub fingerprint: String,
    /// themata's version that ran the stage.
    #[serde(default)]
    pub version: String,
    /// Settings that shaped the stage's output.
    pub settings: serde_json::Value,
    /// Input files and their content hashes (ingest: the input files; tfidf: a stop-words
    /// file).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// Fingerprint of the stage whose tables this one read (empty for ingest).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub upstream: String,
    /// Files written, by name in their directory, with their content hashes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// Rows written per table.
    pub rows: BTreeMap<String, u64>,
    pub seconds: f64,
    /// Timings of the stage's steps and sizes behind them, e.g. `analyze_seconds` and
    /// `analyze_bytes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub themata_version: String,
    pub pipeline: String,
    pub pipeline_file: String,
    pub seed: u64,
    pub threads: usize,
    pub stages: BTreeMap<String, StageRecord>,
}

impl Manifest {
    /// The manifest in `dir`, or an empty one.
    pub fn load(dir: &Path) -> Manifest {
        std::fs::read_to_string(dir.join(MANIFEST))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Data(e.to_string()))?;
        write_text(&dir.join(MANIFEST), &(text + "\n"))
    }
}

/// Hex SHA-256 (first 16 bytes) of a file's content, read in blocks.
pub fn file_hash(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::ingest::hex(&h.finalize()[..16]))
}

/// Is `file_name` a temporary of [`atomic_write`] for `target` (`.{target}.XXXXXX.tmp`)?
pub fn is_temporary_of(file_name: &str, target: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|r| r.strip_prefix(target))
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_suffix(".tmp"))
        .is_some_and(|mid| !mid.is_empty() && !mid.contains('/'))
}

/// Remove temporaries that a killed run left behind for any of `targets` in `dir`.
/// Returns how many were removed.
pub fn remove_stale_temporaries(dir: &Path, targets: &[&str]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if targets.iter().any(|t| is_temporary_of(&name, t))
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
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
    crate::ingest::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        let r = atomic_write(&p, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_text(&p, "whole").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "whole");
    }

    #[test]
    fn manifest_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest {
            pipeline: "x".into(),
            ..Default::default()
        };
        m.stages.insert(
            "ingest".into(),
            StageRecord {
                seconds: 1.5,
                ..Default::default()
            },
        );
        m.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()), m);
    }

    #[test]
    fn temporaries_are_recognised_and_removed() {
        assert!(is_temporary_of(
            ".tfidf.parquet.a1B2c3.tmp",
            "tfidf.parquet"
        ));
        assert!(!is_temporary_of("tfidf.parquet", "tfidf.parquet"));
        assert!(!is_temporary_of(".tfidf.parquet..tmp", "tfidf.parquet"));
        assert!(!is_temporary_of(".x.parquet.a1B2c3.tmp", "tfidf.parquet"));
        let dir = tempfile::tempdir().unwrap();
        for n in [".a.parquet.xyz123.tmp", "a.parquet", ".other.abc.tmp"] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path(), &["a.parquet"]), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".other.abc.tmp", "a.parquet"]);
    }

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
    fn file_hash_reads_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "abc").unwrap();
        // SHA-256("abc"), first 16 bytes
        assert_eq!(file_hash(&p).unwrap(), "ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a"]), fingerprint(&["a"]));
    }
}

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
    /// SHA-256 over the stage's settings, its inputs' hashes and themata's version.
    pub fingerprint: String,
    /// Settings that shaped the stage's output.
    pub settings: serde_json::Value,
    /// Input files and their content hashes (ingest only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// Rows written per table.
    pub rows: BTreeMap<String, u64>,
    pub seconds: f64,
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
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a"]), fingerprint(&["a"]));
    }
}

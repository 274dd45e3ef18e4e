//! The manifest: what each stage of the run in an output directory did.
//!
//! `manifest.json` records, per stage, the settings that decide whether the stage is fresh
//! (apart from what the stage found, its results), its input files' content hashes, the
//! fingerprint of the stage it read from, a fingerprint over all of these, themata's version
//! and build, the content hash of every file it wrote, row counts, timings and warnings. It
//! is rewritten (atomically) after each stage's outputs are in place.

use crate::error::{Error, Result};
use crate::files::write_text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = "manifest.json";

/// What one stage did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StageRecord {
    /// SHA-256 over themata's version and build, the stage's settings, its input files'
    /// content hashes and the fingerprint of the stage it reads from.
    pub fingerprint: String,
    /// themata's version that ran the stage.
    #[serde(default)]
    pub version: String,
    /// The build of themata that ran the stage (a hash of its sources).
    #[serde(default)]
    pub build: String,
    /// Settings that shaped the stage's output: what decides freshness.
    pub settings: serde_json::Value,
    /// What the stage found that its tables do not hold (the space k-means ran in, the k
    /// sweep); never compared for freshness.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub results: serde_json::Value,
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
    /// Wall time of the stage.
    pub seconds: f64,
    /// Timings of the stage's steps and sizes behind them, e.g. `analyze_seconds` and
    /// `analyze_bytes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// Warnings met.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The engine that ran the stage when it was not this binary: `spark` for the Spark
    /// driver (`python -m themata.spark`), whose fingerprints are its own. Such a stage is
    /// fresh when its recorded settings and input files are this run's and its outputs are
    /// the ones it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
}

/// The run recorded in an output directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// themata's version of the last run.
    pub themata_version: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The pipeline file.
    pub pipeline_file: String,
    /// The clustering seed.
    pub seed: u64,
    /// Threads of the last run.
    pub threads: usize,
    /// The stages whose outputs are in place, by name.
    pub stages: BTreeMap<String, StageRecord>,
}

impl Manifest {
    /// The manifest in `dir`, or an empty one when there is none. A manifest that cannot
    /// be read or parsed (truncated, edited by hand, not a manifest) also gives an empty one,
    /// so every stage reruns, with the reason as `Err` for a warning naming the file.
    pub fn load(dir: &Path) -> (Manifest, Option<String>) {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Manifest::default(), None)
            }
            Err(e) => return (Manifest::default(), Some(damaged(&path, &e.to_string()))),
        };
        match serde_json::from_str(&text) {
            Ok(m) => (m, None),
            Err(e) => (Manifest::default(), Some(damaged(&path, &e.to_string()))),
        }
    }

    /// Write the manifest to `dir` (atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Table {
            path: dir.join(MANIFEST),
            message: e.to_string(),
        })?;
        write_text(&dir.join(MANIFEST), &(text + "\n"))
    }
}

fn damaged(path: &Path, what: &str) -> String {
    format!(
        "{}: damaged manifest ({what}); every stage reruns",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest {
            pipeline: "x".into(),
            ..Default::default()
        };
        m.stages.insert(
            "cluster".into(),
            StageRecord {
                seconds: 1.5,
                results: serde_json::json!({"space": "lsa (5 dimensions)"}),
                ..Default::default()
            },
        );
        m.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()), (m, None));
    }

    #[test]
    fn a_missing_manifest_is_no_run_and_a_damaged_one_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()), (Manifest::default(), None));
        let m = Manifest {
            pipeline: "x".into(),
            ..Default::default()
        };
        m.save(dir.path()).unwrap();
        let path = dir.path().join(MANIFEST);
        let text = std::fs::read_to_string(&path).unwrap();
        for bad in [&text[..text.len() / 2], "", "[1, 2]", "{\"stages\": 3}"] {
            std::fs::write(&path, bad).unwrap();
            let (got, warning) = Manifest::load(dir.path());
            assert_eq!(got, Manifest::default());
            let w = warning.expect("a warning");
            assert!(w.starts_with(&path.display().to_string()), "{w}");
            assert!(w.contains("damaged manifest ("), "{w}");
            assert!(w.ends_with("every stage reruns"), "{w}");
        }
    }
}

//! Integration tests: one binary, one module per area. Every test works in its own
//! temporary directory.

mod analyzer_oracles;
mod errors;
mod example;
mod explain;
mod formats;
mod freshness;
mod hierarchy;
mod keyness;
mod layers;
mod model;
mod reliability;
mod reports;
mod shards;
mod sklearn_oracle;
mod stages;
mod themes;
mod trends;
mod update;

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The BBC News corpus (not part of the repository): `THEMATA_BBC`, by default
/// `../shared/corpora/bbc` beside the repository, as in CI.
pub fn bbc() -> PathBuf {
    let bbc = std::env::var("THEMATA_BBC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("../shared/corpora/bbc"));
    assert!(bbc.is_dir(), "no BBC corpus at {}", bbc.display());
    bbc
}

/// Run the themata binary.
pub fn themata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("themata runs")
}

/// Run the themata binary in `dir`: its exit code (`None` when a signal ended it) and stderr.
pub fn themata_in(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("themata runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Run and insist on success, returning stderr.
pub fn themata_ok(args: &[&str]) -> String {
    let out = themata(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "themata {args:?} failed: {stderr}");
    stderr
}

pub fn table(dir: &Path, name: &str) -> DataFrame {
    themata::tables::read(dir, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn u32s(df: &DataFrame, col: &str) -> Vec<u32> {
    df.column(col)
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

pub fn opt_u32s(df: &DataFrame, col: &str) -> Vec<Option<u32>> {
    df.column(col).unwrap().u32().unwrap().iter().collect()
}

pub fn f64s(df: &DataFrame, col: &str) -> Vec<f64> {
    df.column(col)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

pub fn strs(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect()
}

/// Run the example pipeline into `dir` (tables in `dir/out`, report in `dir/report`).
pub fn run_example(dir: &Path, extra: &[&str]) -> String {
    run_example_with(dir, "--quiet", extra)
}

/// [`run_example`] with `verbosity` (`--quiet` or `-v`) instead of `--quiet`.
pub fn run_example_with(dir: &Path, verbosity: &str, extra: &[&str]) -> String {
    let out = dir.join("out");
    let report = format!("report.dir={}", dir.join("report").display());
    let mut args = vec![
        "run",
        "pipelines/khamenei.toml",
        verbosity,
        "--output",
        out.to_str().unwrap(),
        "--set",
        &report,
    ];
    args.extend_from_slice(extra);
    themata_ok(&args)
}

pub const TABLES: &[&str] = &[
    "documents.parquet",
    "passages.parquet",
    "vocabulary.parquet",
    "tfidf.parquet",
    "assignments.parquet",
    "clusters.parquet",
    "cluster_terms.parquet",
    "theme_seeds.parquet",
    "theme_hierarchy.parquet",
    "explanations.parquet",
    "duplicates.parquet",
    "centroids.parquet",
    "lsa_components.parquet",
    "term_counts.parquet",
    "surface_forms.parquet",
    "theme_trends.parquet",
    "keyness.parquet",
];

//! themata: batch text analytics — which passages of a corpus talk about which themes.
//!
//! This is the binary's library: everything that reads or writes. The pipeline itself —
//! passages, analysis, TF-IDF, LSA, k-means — is the pure `themata_core`; here are the
//! layers above it, each importing only the ones listed before it:
//!
//! 1. [`error`], [`files`]: errors, atomic writes and content hashes;
//! 2. [`formats`]: finding input files and reading text, Markdown, HTML, JSON Lines, CSV and
//!    Parquet into documents;
//! 3. [`tables`]: each stage's Parquet tables, written and read back;
//! 4. [`keyness`], [`collocations`], [`explain`]: the terms key to a group of passages,
//!    pairs of terms that occur together more than chance, and why a passage got its theme;
//! 5. [`report`], [`evaluate`]: the report (json, markdown, html, charts, the passage map),
//!    and scores against gold labels;
//! 6. [`pipeline_file`]: the TOML file, composed of each stage's settings;
//! 7. [`engine`]: the stages, their freshness and the manifest;
//! 8. [`apply`]: a run's fitted model placed on new documents.
//!
//! Nothing here prints: the binary (`main.rs`, `cli.rs`) shows progress and messages.

pub mod apply;
pub mod collocations;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod files;
pub mod formats;
pub mod keyness;
pub mod pipeline_file;
pub mod report;
pub mod tables;

pub use error::{Error, Result};

/// themata's version, recorded in manifests and Parquet metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

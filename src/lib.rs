//! themata: batch text analytics — which passages of a corpus talk about which themes.
//!
//! A staged pipeline: [`ingest`] → [`text`] analysis → [`vectorize`] (TF-IDF) →
//! [`cluster`] → [`tables`] and [`report`]. [`pipeline::Runner`] chains the stages.

pub mod cluster;
pub mod config;
pub mod error;
pub mod ingest;
pub mod pipeline;
pub mod report;
pub mod run_dir;
pub mod tables;
pub mod text;
pub mod vectorize;

pub use error::{Error, Result};

/// themata's version, recorded in manifests and Parquet metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub mod charts;
pub mod clean;
pub mod evaluate;
pub mod html;
pub mod map;
pub mod markup;
pub mod meta;
pub mod records;
pub mod reduce;
pub mod sweep;

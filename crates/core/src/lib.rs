//! themata-core: the pure pipeline of themata — text to passages, analysis, counting and
//! TF-IDF, LSA, k-means, seeds, c-TF-IDF, the k sweep and agreement metrics.
//!
//! No file or terminal IO, no printing: callers hand in text and settings and get values
//! back; long work reports its progress through an [`Observer`]. The `themata` binary does
//! all reading and writing; a Python wheel can wrap this crate as it is.
//!
//! The modules follow the data, each importing only the ones before it:
//!
//! ```text
//! model ─► math ─► ingest ─► analyze ─► tfidf ─► cluster ─► fitted, stable, trends
//! ```
//!
//! - [`model`]: the values that travel between stages (documents, passages, one sparse
//!   matrix type, the vocabulary, a clustering) and the name table of every fixed value set.
//! - [`math`]: LSA (randomized SVD), k-means pieces, validity indices, c-TF-IDF, agreement.
//! - [`ingest`], [`analyze`], [`tfidf`], [`cluster`]: one folder per stage. Each owns its
//!   settings (`Params`, checked by `check()` before any work, with a typed error naming the
//!   key), and its state; state that is a sum or a union has `partial` / `merge` / `finish`.
//! - [`fitted`]: a run's fitted model (vocabulary, LSA basis, centroids, floors) applied to
//!   new passages without refitting; [`stable`]: a new fit's clusters matched to a previous
//!   run's, so that theme ids and names stay put; [`trends`]: themes over time and by
//!   group (buckets, shares, thin slices, c-TF-IDF terms per bucket).

#![deny(missing_docs)]

pub mod analyze;
pub mod cluster;
pub mod fitted;
pub mod ingest;
pub mod math;
pub mod model;
mod observe;
mod params;
pub mod stable;
pub mod tfidf;
pub mod trends;

pub use observe::{Observer, Silent, Task};
pub use params::ParamError;

/// Every error of the pipeline, by stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is invalid.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// Ingest could not produce a corpus.
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    /// The TF-IDF stage could not weigh the corpus.
    #[error(transparent)]
    Tfidf(#[from] tfidf::TfidfError),
    /// Clustering failed.
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
}

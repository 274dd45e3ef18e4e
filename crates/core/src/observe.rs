//! How long computations report their progress: through an [`Observer`] the caller hands
//! in (as ripgrep's searcher reports through its `Sink`), never by printing.

/// A unit of work whose progress can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Reading input files (counted in files).
    ReadFiles,
    /// Analysing passages into terms (counted in passages).
    Analyze,
    /// Weighting the counted terms (no count).
    Weigh,
    /// Clustering with `k` clusters, or sweeping a range of k (`None`; no count).
    Cluster {
        /// The number of clusters, when fixed.
        k: Option<usize>,
        /// The range swept when k is chosen (`k_min`, `k_max`).
        range: (usize, usize),
    },
}

/// Receives progress from long computations. Every method has an empty default, and may be
/// called from any thread.
pub trait Observer: Sync {
    /// `task` starts; `len` is its number of steps when known.
    fn start(&self, task: Task, len: Option<u64>) {
        let _ = (task, len);
    }
    /// `n` more steps of `task` are done.
    fn advance(&self, task: Task, n: u64) {
        let _ = (task, n);
    }
    /// `task` is over.
    fn finish(&self, task: Task) {
        let _ = task;
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

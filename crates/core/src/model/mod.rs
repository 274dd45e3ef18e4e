//! The values that travel between stages, and the name table of every fixed value set.
//!
//! Tables on disk hold these values; the binary writes and reads them through [`Named`],
//! so a status or a reason has exactly one spelling, and a value read back that is not in
//! the table is an error rather than a default.

mod clustering;
mod corpus;
mod names;
mod sparse;
mod vocabulary;

pub use clustering::{
    Assignment, AssignmentStatus, ClusterInfo, ClusterSeconds, ClusterTerm, Clustering,
    ExplainSpace, Explanation, HierarchyNode, LsaBasis, Measure, Role, SeedState, SeedStatus,
    SweepRow, ThemeChange, ThemeMerge, ThemeStrength, UNASSIGNED,
};
pub use corpus::{
    Corpus, Document, DocumentMeta, DuplicateKind, DuplicatePair, Passage, PassageStatus, Reason,
};
pub use names::Named;
pub use sparse::SparseRows;
pub use vocabulary::{DropReason, Term, Vocabulary};

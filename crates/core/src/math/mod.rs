//! The numerical kernels the stages are built from: LSA, k-means, validity indices,
//! c-TF-IDF, keyness and agreement metrics. They know matrices and labels, not passages or themes.

pub mod agreement;
pub mod ctfidf;
pub mod keyness;
pub mod kmeans;
pub mod lloyd;
pub mod lsa;
pub mod rows;
pub mod sharded;
pub mod validity;

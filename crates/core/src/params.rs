//! What every stage's settings share: the error a failed check gives.

/// A setting that cannot be used, named by its dotted key in the pipeline file
/// (`cluster.k`, `analyzer.language`, ...).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ParamError {
    /// The dotted key of the setting, e.g. `tfidf.min_df`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ParamError {
    /// An error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ParamError {
            key: key.into(),
            message: message.into(),
        }
    }
}

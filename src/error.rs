//! Typed errors of the library. The binary maps them to exit codes:
//! configuration and usage problems exit with 2, everything else with 1.

use std::path::PathBuf;

/// Everything that can go wrong inside themata.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file (or a `--set` override) is malformed or invalid.
    #[error("{file}: {message}")]
    Config { file: PathBuf, message: String },

    /// An input file or directory cannot be used.
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A Parquet table could not be written or read back.
    #[error("{path}: {message}")]
    Table { path: PathBuf, message: String },

    /// The data cannot go through a stage (empty corpus, no terms left, ...).
    #[error("{0}")]
    Data(String),
}

impl Error {
    /// Process exit code for this error: 2 for configuration errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The errors of the binary's library: IO, tables, the pipeline file, and the pipeline's own
//! errors. The binary maps them to exit codes: configuration and usage problems exit with 2,
//! everything else with 1.

use std::path::PathBuf;

/// Everything that can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file (or a `--set` override) is malformed or invalid.
    #[error("{file}: {message}")]
    Config {
        /// The pipeline file.
        file: PathBuf,
        /// What is wrong, with the line or key.
        message: String,
    },

    /// An input file or directory cannot be used.
    #[error("{path}: {message}")]
    Input {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },

    /// A Parquet table could not be written or read back.
    #[error("{path}: {message}")]
    Table {
        /// The table's file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// Another run holds the output directory (and this one was told not to wait).
    #[error(
        "{}: another themata run{} is writing this directory (lock file {}); wait for it to \
         finish, or run without --no-wait to wait",
        dir.display(),
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        lock_file.display()
    )]
    Locked {
        /// The output directory.
        dir: PathBuf,
        /// Its lock file.
        lock_file: PathBuf,
        /// The holder's process id, when its lock file names one.
        holder: Option<u32>,
    },

    /// The command line asks for what the run cannot give (an unknown group, a bad range).
    #[error("{0}")]
    Usage(String),

    /// The data cannot go through a stage (empty corpus, no terms left, a dead theme, ...).
    #[error(transparent)]
    Pipeline(#[from] themata_core::Error),
}

impl Error {
    /// Process exit code for this error: 2 for configuration and usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// An IO error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A pipeline-file error.
    pub fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            message: message.into(),
        }
    }
}

macro_rules! from_stage_errors {
    ($($t:ty),+) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Pipeline(e.into())
            }
        }
    )+};
}
from_stage_errors!(
    themata_core::ingest::IngestError,
    themata_core::tfidf::TfidfError,
    themata_core::cluster::ClusterError
);

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The library's error type. Every message names the file and the line, column or TOML path
//! at fault and says what was expected, so the CLI can print it as it is.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A TOML syntax or type error; toml's message carries the line, column and a snippet.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// One or more semantic errors, each `field: message`.
    #[error("{path}: {}", .problems.join(&format!("\n{}: ", .path.display())))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
    /// A data file (CSV) with a problem at a line.
    #[error("{path}:{line}: {message}")]
    Data {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

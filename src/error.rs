//! The one place where failures become user-facing lines and exit codes.

use std::process::ExitCode;

use thiserror::Error;

use crate::input::InputError;

/// How a run ended, as the scheduler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything was done.
    Success = 0,
    /// The run finished, but some groups were not imported (invalid or failed).
    Incomplete = 1,
    /// Nothing was attempted: usage error, unreadable input, validation failed, configuration
    /// or credentials rejected.
    NothingAttempted = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A failure that stops a command.
#[derive(Debug, Error)]
pub enum Error {
    /// Flags that cannot work together or cannot be parsed.
    #[error("{0}")]
    Usage(String),
    /// Input files that cannot be used, one per file.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Inputs(Vec<InputError>),
    /// Writing output failed.
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// Missing or refused credentials.
    #[error("{0}")]
    Credentials(String),
    /// Validation found problems and `--allow-partial` was not given.
    #[error("{0}")]
    Invalid(String),
    /// The report cannot be written.
    #[error("{0}")]
    Report(String),
    /// The HTTP client could not be set up.
    #[error("{0}")]
    Client(String),
    /// The state file cannot be used.
    #[error("{0}")]
    State(String),
}

impl Error {
    /// The exit code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_)
            | Error::Inputs(_)
            | Error::Output(_)
            | Error::Credentials(_)
            | Error::Invalid(_)
            | Error::Report(_)
            | Error::Client(_)
            | Error::State(_) => Exit::NothingAttempted,
        }
    }

    /// Prints the failure to stderr, one plain line per problem.
    pub fn print(&self) {
        for line in self.to_string().lines() {
            eprintln!("error: {line}");
        }
    }
}

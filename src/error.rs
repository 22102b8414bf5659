//! Failures that stop a command, each kept with its typed source, and the exit codes a
//! scheduler sees. The console module is the one place that prints them.

use std::process::ExitCode;

use thiserror::Error;

use crate::input::InputError;
use crate::report::ReportError;
use crate::settings::SettingsError;
use crate::state::StateError;
use crate::upload::ClientError;

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
    /// Flags, config file or environment that cannot work.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Input files that cannot be used, one per file.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Inputs(Vec<InputError>),
    /// Validation held something back and `--allow-partial` was not given.
    #[error("nothing was sent: {held_back} held back (conflicting names or invalid rows, see above); fix the input, or pass --allow-partial to send the {valid} valid groups")]
    Invalid {
        /// Groups and rows held back.
        held_back: usize,
        /// Groups that could go.
        valid: usize,
    },
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// The report or summary cannot be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server's members could not be read back.
    #[error(transparent)]
    Readback(#[from] crate::upload::readback::ReadbackError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The web page (`ui`) could not be served.
    #[error("cannot serve the web page on 127.0.0.1: {0}")]
    Serve(#[source] std::io::Error),
    /// Writing to stdout failed.
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// SIGTERM or Ctrl-C before anything was sent (an upload handles its own).
    #[error("interrupted (SIGTERM or Ctrl-C) before anything was sent; run the same command again")]
    Interrupted,
}

impl Error {
    /// The exit code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            // `--help` and `--version` are clap "errors" that succeed.
            Error::Settings(SettingsError::Clap(e)) if !e.use_stderr() => Exit::Success,
            // A closed pipe (`velt-groups check ... | head`) is the reader's choice, not a failure.
            Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
            Error::Settings(_)
            | Error::Inputs(_)
            | Error::Invalid { .. }
            | Error::State(_)
            | Error::Report(_)
            | Error::Client(_)
            | Error::Readback(_)
            | Error::Runtime(_)
            | Error::Serve(_)
            | Error::Output(_)
            | Error::Interrupted => Exit::NothingAttempted,
        }
    }
}

//! velt-groups: imports an HR directory into Velt organization user groups.
//!
//! The modules read as the pipeline: [`read`] -> [`map`] -> [`normalize`] -> [`upload`] ->
//! [`report`], with [`input`] running the first three for every command, [`check`] and
//! [`import`] the commands, and [`error`] the one place where failures become messages and
//! exit codes.

// Errors carry their full location (file, sheet, row, column) by value: they are built once per
// failing file or row, never in a hot loop, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod cli;
pub mod config;
pub mod error;
pub mod import;
pub mod input;
pub mod location;
pub mod map;
pub mod membership;
pub mod normalize;
pub mod read;
pub mod report;
pub mod settings;
pub mod state;
pub mod upload;

use error::Exit;

/// Runs one command and reports its failure, if any, on stderr.
pub fn run(cli: cli::Cli) -> Exit {
    let result = match &cli.command {
        cli::Command::Check(args) => check::run(args),
        cli::Command::Import(args) => import::run(args),
    };
    match result {
        Ok(exit) => exit,
        // A closed pipe (`velt-groups check ... | head`) is the reader's choice, not a failure.
        Err(error::Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            e.print();
            e.exit()
        }
    }
}

//! velt-groups: imports an HR directory into Velt organization user groups.
//!
//! The modules read as the pipeline: [`read`] -> [`map`] -> [`normalize`] (driven together by
//! [`input`]) -> [`plan`] -> [`upload`] -> [`report`], with [`state`] remembering what the
//! server confirmed. Around them: [`cli`] and [`settings`] turn flags, the config file and the
//! environment into typed settings; [`cmd`] holds the commands, each a short driver over the
//! stages, and [`ui`] serves a local web page over the same stages; [`error`] types every
//! failure and [`console`] is the one place that talks to the person at the terminal.

// Errors carry their full location (file, sheet, row, column) by value: they are built once per
// failing file or row, never in a hot loop, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod cmd;
pub mod console;
pub mod current;
pub mod error;
pub mod input;
pub mod location;
pub mod map;
pub mod normalize;
pub mod plan;
pub mod read;
pub mod report;
pub mod secret;
pub mod settings;
pub mod state;
pub mod ui;
pub mod upload;

use error::{Error, Exit};
use settings::CommandSettings;

/// Parses `args` (the whole command line), runs the command, and says how it ended. Every
/// failure is printed here, through [`console`].
pub fn run(args: Vec<std::ffi::OsString>) -> Exit {
    let result = settings::parse(args).map_err(Error::from).and_then(|settings| {
        console::warnings(&settings.warnings);
        match &settings.command {
            CommandSettings::Check(s) => cmd::check::run(s),
            CommandSettings::Import(s) => cmd::import::run(s),
            CommandSettings::Verify(s) => cmd::verify::run(s),
            CommandSettings::Ui(s) => ui::run(s),
            CommandSettings::Completions(shell) => console::completions(*shell),
            CommandSettings::Man => console::man_page(),
        }
    });
    match result {
        Ok(exit) => exit,
        Err(e) => console::fail(&e),
    }
}

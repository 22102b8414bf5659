//! velt-groups: imports an HR directory into Velt organization user groups.
//!
//! The modules read as the pipeline: [`read`] -> [`map`] -> [`normalize`] (driven together by
//! [`input`]) -> [`plan`] -> [`upload`] -> [`report`], with [`state`] remembering what the
//! server confirmed. Around them: [`cli`] and [`settings`] turn flags, the config file and the
//! environment into typed settings; [`cmd`] holds the commands, each a short driver over the
//! stages, and [`ui`] serves a local web page over the same stages; [`error`] types every
//! failure and [`console`] is the one place that talks to the person at the terminal (or, with
//! `--log-format json`, to a log shipper); [`observe`] tells the tools that watch a scheduled
//! run how it went (metrics file, webhooks).

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
pub mod observe;
pub mod plan;
pub mod read;
pub mod report;
pub mod secret;
pub mod settings;
pub mod state;
pub mod ui;
pub mod upload;
pub mod wording;

use error::Exit;
use settings::CommandSettings;

/// Parses `args` (the whole command line), runs the command, and says how it ended. Every
/// failure is printed here, through [`console`].
pub fn run(args: Vec<std::ffi::OsString>) -> Exit {
    let asked = observe::asked_for_json(&args);
    let settings = match settings::parse(args) {
        Ok(settings) => settings,
        Err(e) => return observe::refused(asked, e.into()),
    };
    let command = match &settings.command {
        CommandSettings::Check(_) => Some("check"),
        CommandSettings::Import(_) => Some("import"),
        CommandSettings::Verify(_) => Some("verify"),
        CommandSettings::Ui(_) => Some("ui"),
        CommandSettings::Completions(_) | CommandSettings::Man => None,
    };
    // A run (not `completions` or `man`) is logged, measured and notified about.
    if let Some(command) = command {
        observe::start(command, &settings.monitor);
    }
    console::warnings(&settings.warnings);
    let result = match &settings.command {
        CommandSettings::Check(s) => cmd::check::run(s),
        CommandSettings::Import(s) => cmd::import::run(s),
        CommandSettings::Verify(s) => cmd::verify::run(s),
        CommandSettings::Ui(s) => ui::run(s),
        CommandSettings::Completions(shell) => console::completions(*shell),
        CommandSettings::Man => console::man_page(),
    };
    let (exit, error) = match result {
        Ok(exit) => (exit, None),
        Err(e) => (console::fail(&e), Some(e)),
    };
    observe::finish(&settings.monitor, exit, error.as_ref())
}

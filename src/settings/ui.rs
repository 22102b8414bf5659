//! `velt-groups ui`: the web page's settings. Flags give the port, the browser and the server;
//! the config file may also give the page's starting choices (organization, columns, members)
//! and what an import does (state, full, remove-departed, max-removals), as for `import`.

use std::path::PathBuf;

use super::server::upload_settings;
use super::{input_settings, parse_limit, SettingsError};
use crate::cli::{InputOptions, RunOptions, ServerOptions, UiOptions};
use crate::plan::Limit;
use crate::upload::UploadSettings;

/// `ui`.
#[derive(Debug, Clone)]
pub struct UiSettings {
    /// Port on 127.0.0.1; 0 lets the system choose a free one.
    pub port: u16,
    /// Whether to open the page in a browser.
    pub open: bool,
    /// The server and how hard to push it; the credentials may be empty (then only dry runs).
    pub upload: UploadSettings,
    /// The page's starting choices (organization, columns, members...); no inputs.
    pub input: InputOptions,
    /// `--state`.
    pub state: Option<PathBuf>,
    /// `full` from the config file.
    pub full: bool,
    /// `remove-departed` from the config file.
    pub remove_departed: bool,
    /// `max-removals` from the config file.
    pub max_removals: Option<Limit>,
}

impl UiSettings {
    /// Whether both credentials are set, so the page can import and not only dry-run.
    pub fn has_credentials(&self) -> bool {
        let c = &self.upload.credentials;
        !c.api_key.expose().is_empty() && !c.auth_token.expose().is_empty()
    }
}

/// Validates the page's settings up front, so a typo fails at start, not on the first file.
pub(super) fn ui_settings(
    ui: UiOptions,
    server: ServerOptions,
    run: RunOptions,
    mut input: InputOptions,
) -> Result<UiSettings, SettingsError> {
    let state = ui.state.clone().or(run.state.clone());
    // The flags of the page's imports, from the command line or the file's `ui` or run keys.
    let run = RunOptions {
        full: run.full || ui.full,
        remove_departed: run.remove_departed || ui.remove_departed,
        max_removals: ui.max_removals.clone().or(run.max_removals),
        ..run
    };
    // Members are the page's choice: only what needs a state is checked here.
    super::requirements(&run, state.is_some(), true)?;
    let max_removals = run.max_removals.as_deref().map(parse_limit).transpose()?;
    // The files come from the page; the other input options are checked now.
    input.inputs = vec![PathBuf::from("-")];
    input_settings(input.clone())?;
    input.inputs.clear();
    Ok(UiSettings {
        port: ui.port.unwrap_or(0),
        open: !ui.no_open,
        upload: upload_settings(server, true)?,
        input,
        state,
        full: run.full,
        remove_departed: run.remove_departed,
        max_removals,
    })
}

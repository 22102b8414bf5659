//! The one settings layer: flags, the `--config` file and the environment merge here into typed
//! [`Settings`], validated before any input is read. Precedence: a flag, then the environment
//! (credentials only), then the file, then the defaults below. Nothing downstream sees a raw
//! flag string.

mod file;
mod monitor;
mod paths;
mod server;
mod ui;

use std::ffi::OsString;
use std::num::NonZeroU64;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use thiserror::Error;

use crate::cli::{Cli, Command, InputOptions, OutputFormat, RunOptions, ServerOptions, UiOptions};
use crate::input::InputSettings;
use crate::map::MapOptions;
use crate::plan::Limit;
use crate::read::ReadOptions;
use crate::secret::{API_KEY_ENV, AUTH_TOKEN_ENV, NOTIFY_ENV};
use crate::upload::UploadSettings;
pub use file::keys as config_keys;
use file::{overlay, ConfigFile, Rebase};
pub use monitor::MonitorSettings;
pub use server::api_base;
use server::upload_settings;
pub use ui::UiSettings;

/// Defaults, where the flags' help text states them.
pub(super) mod default {
    pub const API_BASE: &str = "https://api.velt.dev";
    pub const CHUNK_SIZE: usize = 20;
    pub const MEMBER_CHUNK_SIZE: usize = 25;
    pub const USER_CHUNK_SIZE: usize = 30;
    pub const RATE: f64 = 5.0;
    pub const MAX_RATE: f64 = crate::upload::adaptive::DEFAULT_MAX;
    pub const BURST: u32 = 1;
    pub const CONCURRENCY: usize = 16;
    pub const MAX_RETRIES: u32 = 5;
    pub const TIMEOUT_SECONDS: f64 = 30.0;
    pub const BACKOFF_MIN_MS: u64 = 500;
    pub const BACKOFF_MAX_MS: u64 = 60_000;
}

/// Settings that cannot work, found before anything is read or sent.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// clap's own usage errors, and `--help`/`--version` (clap prints those itself).
    #[error("{0}")]
    Clap(#[from] clap::Error),
    /// The config file cannot be read.
    #[error("cannot read the config file {}: {source}", path.display())]
    ConfigUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file holds something wrong.
    #[error("{}{}: {detail}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Config {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        detail: String,
    },
    /// A flag (or key) with a value that cannot work.
    #[error("{flag} {problem}")]
    Invalid {
        /// The flag, e.g. `--rate`.
        flag: &'static str,
        /// What is wrong with it, e.g. `must be at least 1`.
        problem: String,
    },
    /// A flag that only means something with another one.
    #[error("{flag} needs {needs}; {why}")]
    Requires {
        /// The flag given.
        flag: &'static str,
        /// The flag missing.
        needs: &'static str,
        /// What the first flag does, so the operator can tell whether to add or drop it.
        why: &'static str,
    },
    /// An output would be written over an input.
    #[error("{flag} {} is the input {}; writing it would destroy the export; name another file", output.display(), input.display())]
    OutputIsInput {
        /// `--report`, `--summary-json` or `--state`.
        flag: &'static str,
        /// The output path.
        output: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// An output names a file the run reads or holds (the config file, the state's lock...).
    #[error("{flag} {} is {what} ({}); writing it would destroy it; name another file", output.display(), path.display())]
    OutputIsHeld {
        /// `--report`, `--summary-json` or `--state`.
        flag: &'static str,
        /// The output path.
        output: PathBuf,
        /// What the file is, e.g. `the --config file`.
        what: &'static str,
        /// That file.
        path: PathBuf,
    },
    /// Two outputs name one file.
    #[error("{first} and {second} both name {}; give them different files", path.display())]
    OutputsClash {
        /// The first flag.
        first: &'static str,
        /// The second flag.
        second: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// `--ca-file` cannot be read or holds no certificate.
    #[error("--ca-file {}: {detail}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// `--encoding` names no encoding.
    #[error("unknown encoding '{0}'; try utf-8, utf-16le, utf-16be or windows-1252")]
    UnknownEncoding(String),
    /// No input file named.
    #[error("no input file; name one or more after the command (or as `inputs` in the --config file)")]
    NoInputs,
    /// Credentials missing for a run that sends.
    #[error("{}", missing_credentials(.0))]
    MissingCredentials(Vec<&'static str>),
    /// A bug: the settings layer could not merge its own structures.
    #[error("internal error merging settings: {0}")]
    Internal(String),
}

/// `VELT_API_KEY and VELT_AUTH_TOKEN are not set; export them ...`: every missing variable at
/// once, and the config file as the other place, never the flags (they leak into history).
fn missing_credentials(missing: &[&str]) -> String {
    let (verb, pronoun) = if missing.len() > 1 {
        ("are", "them")
    } else {
        ("is", "it")
    };
    format!(
        "{} {verb} not set; export {pronoun} (or set api-key and auth-token in the --config file)",
        missing.join(" and ")
    )
}

impl SettingsError {
    fn invalid(flag: &'static str, problem: impl Into<String>) -> Self {
        SettingsError::Invalid {
            flag,
            problem: problem.into(),
        }
    }
}

/// Something about the settings worth a word that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A secret came from a flag, which shell history and process lists keep.
    SecretOnCommandLine {
        /// `--api-key`, `--auth-token` or `--notify`.
        flag: &'static str,
        /// The variable to use instead.
        env: &'static str,
    },
    /// The config file holds credentials and others can read it.
    SharedConfig(PathBuf),
    /// A secret too short to be a real one (a placeholder, a typo).
    ShortSecret(&'static str),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::SecretOnCommandLine { flag, env } => write!(
                f,
                "{flag} puts the secret in shell history and process lists; set {env} instead"
            ),
            Warning::SharedConfig(path) => write!(
                f,
                "{} holds credentials and others can read it; chmod 600 it",
                path.display()
            ),
            Warning::ShortSecret(env) => write!(
                f,
                "{env} is shorter than {} characters, too short to be a real Velt secret; check it",
                crate::secret::MIN_CHARS
            ),
        }
    }
}

/// Everything a run needs, typed and validated.
#[derive(Debug)]
pub struct Settings {
    /// The command and its settings.
    pub command: CommandSettings,
    /// Worth a word before the run starts.
    pub warnings: Vec<Warning>,
    /// Logs, metrics and notifications.
    pub monitor: MonitorSettings,
}

/// One command's settings.
#[derive(Debug)]
pub enum CommandSettings {
    /// `check`.
    Check(Box<CheckSettings>),
    /// `import`.
    Import(Box<ImportSettings>),
    /// `verify`.
    Verify(Box<VerifySettings>),
    /// `ui`.
    Ui(Box<UiSettings>),
    /// `completions SHELL`: a completion script on stdout.
    Completions(clap_complete::Shell),
    /// `man`: the man page on stdout.
    Man,
}

/// `verify`.
#[derive(Debug)]
pub struct VerifySettings {
    /// The inputs and how to read them (members always on).
    pub input: InputSettings,
    /// The server and how hard to push it.
    pub upload: UploadSettings,
    /// `--state`, read only.
    pub state: Option<PathBuf>,
    /// How to print the differences.
    pub format: OutputFormat,
    /// `--quiet`: no closing count line.
    pub quiet: bool,
}

/// `check`.
#[derive(Debug)]
pub struct CheckSettings {
    /// The inputs and how to read them.
    pub input: InputSettings,
    /// How to print.
    pub format: OutputFormat,
    /// `--quiet`: no closing count line.
    pub quiet: bool,
}

/// `import`.
#[derive(Debug)]
pub struct ImportSettings {
    /// The inputs and how to read them.
    pub input: InputSettings,
    /// The server and how hard to push it.
    pub upload: UploadSettings,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--allow-partial`.
    pub allow_partial: bool,
    /// `--report`, when given.
    pub report: Option<PathBuf>,
    /// `--summary-json`.
    pub summary_json: Option<PathBuf>,
    /// `--state`.
    pub state: Option<PathBuf>,
    /// `--full`.
    pub full: bool,
    /// `--remove-departed`.
    pub remove_departed: bool,
    /// `--max-removals`.
    pub max_removals: Option<Limit>,
    /// `--quiet`.
    pub quiet: bool,
    /// `--repair`.
    pub repair: bool,
    /// `--check-state`.
    pub check_state: bool,
}

/// Parses the command line, lays it over the config file and the environment, and validates.
pub fn parse(args: Vec<OsString>) -> Result<Settings, SettingsError> {
    let matches = Cli::command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let config = cli.config.as_deref().map(ConfigFile::load).transpose()?;
    let mut warnings = Vec::new();
    if let Some(c) = config.as_ref().filter(|c| c.shared_secrets) {
        warnings.push(Warning::SharedConfig(c.path().to_owned()));
    }
    let mut monitor = MonitorSettings::default();
    let command = match cli.command {
        Command::Check(args) => {
            warnings.extend(secret_flags(
                matches.subcommand_matches("check").expect("the check command matched"),
            ));
            let input = input_settings(merge(config.as_ref(), args.input)?)?;
            monitor = monitor::monitor_settings(
                merge(config.as_ref(), args.log)?,
                merge(config.as_ref(), args.monitor)?,
                &input.paths,
                &[],
                &paths::held(config.as_ref().map(|c| c.path()), None, None),
            )?;
            let output = merge(config.as_ref(), args.output)?;
            CommandSettings::Check(Box::new(CheckSettings {
                input,
                format: output.format.unwrap_or(OutputFormat::Table),
                quiet: output.quiet,
            }))
        }
        Command::Import(args) => {
            let sub = matches
                .subcommand_matches("import")
                .expect("the import command matched");
            warnings.extend(secret_flags(sub));
            let run: RunOptions = merge(config.as_ref(), args.run)?;
            let server: ServerOptions = merge(config.as_ref(), args.server)?;
            let input = merge(config.as_ref(), args.input)?;
            let config_path = config.as_ref().map(|c| c.path());
            let held = paths::held(config_path, server.ca_file.as_deref(), run.state.as_deref());
            let import = import_settings(run, server, input, config_path)?;
            let report_files = import.report.as_deref().map(crate::report::files).unwrap_or_default();
            let outputs: Vec<(&'static str, &std::path::Path)> = report_files
                .iter()
                .map(|p| ("--report (or a file written beside it)", p.as_path()))
                .chain(import.summary_json.as_deref().map(|p| ("--summary-json", p)))
                .chain(import.state.as_deref().map(|p| ("--state", p)))
                .collect();
            monitor = monitor::monitor_settings(
                merge(config.as_ref(), args.log)?,
                merge(config.as_ref(), args.monitor)?,
                &import.input.paths,
                &outputs,
                &held,
            )?;
            CommandSettings::Import(Box::new(import))
        }
        Command::Verify(args) => {
            let sub = matches
                .subcommand_matches("verify")
                .expect("the verify command matched");
            warnings.extend(secret_flags(sub));
            let output = merge(config.as_ref(), args.output)?;
            let mut input: InputOptions = merge(config.as_ref(), args.input)?;
            // Members are what can be read back: verify always compares them.
            input.members = true;
            let server: ServerOptions = merge(config.as_ref(), args.server)?;
            let input = input_settings(input)?;
            let state = merge(config.as_ref(), args.verify)?.state;
            // The state is only read, but a metrics file written over it would destroy it.
            let outputs: Vec<(&'static str, &std::path::Path)> =
                state.as_deref().map(|p| ("--state", p)).into_iter().collect();
            monitor = monitor::monitor_settings(
                merge(config.as_ref(), args.log)?,
                merge(config.as_ref(), args.monitor)?,
                &input.paths,
                &outputs,
                &paths::held(
                    config.as_ref().map(|c| c.path()),
                    server.ca_file.as_deref(),
                    state.as_deref(),
                ),
            )?;
            CommandSettings::Verify(Box::new(VerifySettings {
                input,
                upload: upload_settings(server, false)?,
                state,
                format: output.format.unwrap_or(OutputFormat::Table),
                quiet: output.quiet,
            }))
        }
        Command::Ui(args) => {
            let sub = matches.subcommand_matches("ui").expect("the ui command matched");
            warnings.extend(secret_flags(sub));
            monitor = monitor::log_only(merge(config.as_ref(), args.log)?);
            let ui: UiOptions = merge(config.as_ref(), args.ui)?;
            let server: ServerOptions = merge(config.as_ref(), args.server)?;
            // The file's run and input options count too: the page starts from them.
            let run: RunOptions = merge(config.as_ref(), RunOptions::default())?;
            if let Some(file) = args.input.inputs.first() {
                return Err(SettingsError::invalid(
                    "ui",
                    format!(
                        "takes its files on the page, not on the command line; drop {}",
                        file.display()
                    ),
                ));
            }
            let input: InputOptions = merge(config.as_ref(), args.input)?;
            let settings = ui::ui_settings(ui, server.clone(), run, input)?;
            // The page's imports write the state: never over the config or the CA file.
            if let Some(state) = &settings.state {
                let held = paths::held(config.as_ref().map(|c| c.path()), server.ca_file.as_deref(), None);
                paths::refuse_outputs_over_held(&[("--state", state.as_path())], &held)?;
            }
            CommandSettings::Ui(Box::new(settings))
        }
        Command::Completions(args) => CommandSettings::Completions(args.shell),
        Command::Man => CommandSettings::Man,
    };
    warnings.extend(short_secrets(&command));
    Ok(Settings {
        command,
        warnings,
        monitor,
    })
}

/// Warns for each secret too short to be real (see [`crate::secret::too_short`]).
fn short_secrets(command: &CommandSettings) -> Vec<Warning> {
    let upload = match command {
        CommandSettings::Import(s) => &s.upload,
        CommandSettings::Verify(s) => &s.upload,
        CommandSettings::Ui(s) => &s.upload,
        _ => return Vec::new(),
    };
    let c = &upload.credentials;
    [(&c.api_key, API_KEY_ENV), (&c.auth_token, AUTH_TOKEN_ENV)]
        .into_iter()
        .filter(|(secret, _)| crate::secret::too_short(secret))
        .map(|(_, env)| Warning::ShortSecret(env))
        .collect()
}

fn merge<T>(config: Option<&ConfigFile>, flags: T) -> Result<T, SettingsError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Rebase,
{
    match config {
        Some(config) => overlay(config.section()?, flags),
        None => Ok(flags),
    }
}

/// Warns for each secret given as a flag rather than through the environment.
fn secret_flags(matches: &ArgMatches) -> Vec<Warning> {
    [
        ("api_key", "--api-key", API_KEY_ENV),
        ("auth_token", "--auth-token", AUTH_TOKEN_ENV),
        ("notify", "--notify", NOTIFY_ENV),
    ]
    .into_iter()
    // Only ids the command has and was given: clap refuses to be asked about others.
    .filter(|(id, _, _)| {
        matches.ids().any(|given| given.as_str() == *id) && matches.value_source(id) == Some(ValueSource::CommandLine)
    })
    .map(|(_, flag, env)| Warning::SecretOnCommandLine { flag, env })
    .collect()
}

/// Refuses a flag given without the one it needs (after the config file is merged in, which
/// is why clap's `requires` cannot do it).
pub(super) fn requirements(run: &RunOptions, has_state: bool, has_members: bool) -> Result<(), SettingsError> {
    // (given, flag, missing, needs, what the flag does)
    let requirements = [
        (
            run.full,
            "--full",
            !has_state,
            "--state",
            "it sends the groups a state file says are there",
        ),
        (
            run.remove_departed,
            "--remove-departed",
            !has_members,
            "--members",
            "it removes members who left a group",
        ),
        (
            run.remove_departed,
            "--remove-departed",
            !has_state,
            "--state",
            "only users this tool added, as the state records them, are ever removed",
        ),
        (
            run.repair,
            "--repair",
            !has_members,
            "--members",
            "it sends the memberships the server lacks",
        ),
        (
            run.check_state,
            "--check-state",
            !has_state,
            "--state",
            "it checks the state file",
        ),
    ];
    if let Some((_, flag, _, needs, why)) = requirements
        .into_iter()
        .find(|(given, _, missing, _, _)| *given && *missing)
    {
        return Err(SettingsError::Requires { flag, needs, why });
    }
    Ok(())
}

fn import_settings(
    run: RunOptions,
    server: ServerOptions,
    input: InputOptions,
    config: Option<&std::path::Path>,
) -> Result<ImportSettings, SettingsError> {
    requirements(&run, run.state.is_some(), input.members)?;
    let max_removals = run.max_removals.as_deref().map(parse_limit).transpose()?;
    let held = paths::held(config, server.ca_file.as_deref(), run.state.as_deref());
    let input = input_settings(input)?;
    let report_files = run.report.as_deref().map(crate::report::files).unwrap_or_default();
    let outputs: Vec<(&'static str, &std::path::Path)> = report_files
        .iter()
        .map(|p| ("--report (or a file written beside it)", p.as_path()))
        .chain(
            [
                ("--summary-json", run.summary_json.as_deref()),
                ("--state", run.state.as_deref()),
            ]
            .into_iter()
            .filter_map(|(flag, path)| Some((flag, path?))),
        )
        .collect();
    paths::refuse_outputs_over_inputs(&outputs, &input.paths)?;
    paths::refuse_outputs_over_held(&outputs, &held)?;
    paths::refuse_clashing_outputs(&outputs)?;
    // After the outputs are checked: it reads the --ca-file.
    let upload = upload_settings(server, run.dry_run)?;
    Ok(ImportSettings {
        input,
        upload,
        dry_run: run.dry_run,
        allow_partial: run.allow_partial,
        report: run.report,
        summary_json: run.summary_json,
        state: run.state,
        full: run.full,
        remove_departed: run.remove_departed,
        max_removals,
        quiet: run.quiet,
        repair: run.repair,
        check_state: run.check_state,
    })
}

/// Validates the input options.
pub fn input_settings(args: InputOptions) -> Result<InputSettings, SettingsError> {
    if args.inputs.is_empty() {
        return Err(SettingsError::NoInputs);
    }
    let delimiter = args.delimiter.as_deref().map(parse_delimiter).transpose()?;
    let encoding = args
        .encoding
        .as_deref()
        .map(|label| {
            encoding_rs::Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| SettingsError::UnknownEncoding(label.to_owned()))
        })
        .transpose()?;
    let header_row = args
        .header_row
        .map(|n| {
            NonZeroU64::new(n)
                .map(NonZeroU64::get)
                .ok_or_else(|| SettingsError::invalid("--header-row", "counts from 1"))
        })
        .transpose()?;
    let org = match args.org.as_deref().map(str::trim) {
        Some("") => return Err(SettingsError::invalid("--org", "needs a non-empty organization ID")),
        other => other.map(str::to_owned),
    };
    let current = current_rules(&args)?;
    let kinds = group_by(&args)?;
    let first = kinds.first();
    let name_column = match (first, args.name_column) {
        (Some(first), Some(named)) if !first.column.is_empty() && named.trim() != first.column => {
            return Err(SettingsError::invalid(
                "--group-by",
                format!(
                    "names the column '{}' for its first kind and --name-column names '{named}'; give the column once",
                    first.column
                ),
            ))
        }
        (Some(first), _) if !first.column.is_empty() => Some(first.column.clone()),
        (_, named) => named,
    };
    let id_column = first.and_then(|f| f.code_column.clone()).or(args.id_column);
    let first_prefix = match first {
        Some(f) if f.id_prefix.is_some() => f.id_prefix.clone(),
        _ => id_prefix(args.id_prefix.as_deref())?,
    };
    let extra_columns = kinds
        .iter()
        .skip(1)
        .map(|k| (k.column.clone(), k.code_column.clone()))
        .collect();
    let filters = args
        .filters
        .iter()
        .map(|f| crate::map::Filter::parse(f).map_err(|problem| SettingsError::invalid("--where", problem)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(InputSettings {
        paths: args.inputs,
        names: Vec::new(),
        read: ReadOptions {
            delimiter,
            encoding,
            sheet: args.sheet,
        },
        map: MapOptions {
            name_column,
            id_column,
            org_column: args.org_column,
            org,
            header_row,
            members: args.members,
            user_column: args.user_column,
            keep_email_case: args.keep_email_case,
            full_name_column: args.full_name_column,
            first_name_column: args.first_name_column,
            last_name_column: args.last_name_column,
            email_column: args.email_column,
            status_column: args.status_column,
            end_date_column: args.end_date_column,
            start_date_column: args.start_date_column,
            include_inactive: args.include_inactive,
            filters,
            kinds: extra_columns,
        },
        normalize: crate::normalize::Options {
            strict_names: args.strict_names,
            id_prefix: first_prefix,
            kind: first.map(|f| f.kind.clone()).unwrap_or_default(),
        },
        current,
        kinds,
    })
}

/// The rules of who counts as current, from their flags.
fn current_rules(args: &InputOptions) -> Result<crate::current::Rules, SettingsError> {
    use crate::current::{date::DateFormat, vocab};
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<jiff::civil::Date>()
                .map_err(|_| SettingsError::invalid("--as-of", format!("takes a date as YYYY-MM-DD, not '{text}'")))
        })
        .transpose()?;
    let date_format = args
        .date_format
        .as_deref()
        .map(|text| DateFormat::parse(text).map_err(|problem| SettingsError::invalid("--date-format", problem)))
        .transpose()?;
    // A config array's items may hold commas too ("Retired, Deceased").
    let keys = |values: &[String]| -> Vec<String> {
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(vocab::key)
            .filter(|k| !k.is_empty())
            .collect()
    };
    let overrides = vocab::Overrides {
        active: keys(&args.active_values),
        inactive: keys(&args.inactive_values),
    };
    if let Some(both) = overrides.active.iter().find(|v| overrides.inactive.contains(v)) {
        return Err(SettingsError::invalid(
            "--active-values",
            format!("and --inactive-values both name '{both}'; give it to one of them"),
        ));
    }
    Ok(crate::current::Rules {
        include_inactive: args.include_inactive,
        as_of,
        overrides,
        date_format,
    })
}

/// `--group-by`, `--hierarchy-separator` and `--leaf-only` as the kinds of group to make.
/// Empty: the department kind alone, unsplit (today's groups and IDs exactly).
fn group_by(args: &InputOptions) -> Result<Vec<crate::normalize::KindSpec>, SettingsError> {
    use crate::cli::GroupBy;
    use crate::normalize::{Kind, KindSpec};
    let flag = "--group-by";
    let mut kinds: Vec<KindSpec> = Vec::new();
    for (i, given) in args.group_by.iter().enumerate() {
        let table = match given {
            GroupBy::Flag(text) => {
                let Some((kind, column)) = text.split_once('=') else {
                    return Err(SettingsError::invalid(
                        flag,
                        format!("takes KIND=COLUMN (e.g. office=Location), not '{text}'"),
                    ));
                };
                crate::cli::GroupByTable::new(kind, column)
            }
            GroupBy::Table(table) => table.clone(),
        };
        let kind = table.kind.trim();
        if !crate::normalize::slug::is_valid_id(kind) || kind.len() > 23 {
            return Err(SettingsError::invalid(
                flag,
                format!("takes a kind of lower-case letters, digits and dashes (e.g. office), not '{kind}'"),
            ));
        }
        let column = table.column.trim();
        // The first kind without a column is the department column as detected (the page
        // groups by more without naming it).
        if column.is_empty() && i > 0 {
            return Err(SettingsError::invalid(
                flag,
                format!("names no column for the kind '{kind}'"),
            ));
        }
        if kinds.iter().any(|k| k.kind.as_str() == kind) {
            return Err(SettingsError::invalid(flag, format!("names the kind '{kind}' twice")));
        }
        // Kinds after the first are apart from the first (and each other) by their prefix.
        let prefix = match (table.id_prefix.as_deref(), i) {
            (Some(p), _) => id_prefix(Some(p))?,
            (None, 0) => None,
            (None, _) => Some(format!("{kind}-")),
        };
        if let Some(other) = kinds.iter().find(|k| k.id_prefix == prefix) {
            return Err(SettingsError::invalid(
                flag,
                format!(
                    "gives the kinds '{}' and '{kind}' one ID prefix ({}), so their groups could share IDs; give one of them another id-prefix",
                    other.kind,
                    prefix.as_deref().unwrap_or("none")
                ),
            ));
        }
        kinds.push(KindSpec {
            kind: Kind::new(kind),
            column: column.to_owned(),
            code_column: table.code_column.clone().filter(|c| !c.trim().is_empty()),
            id_prefix: prefix,
            separator: table.hierarchy_separator.clone().or(args.hierarchy_separator.clone()),
            leaf_only: table.leaf_only.unwrap_or(args.leaf_only),
        });
    }
    if kinds.is_empty() && args.hierarchy_separator.is_some() {
        // The department column, split: its column is the one detected or named.
        kinds.push(KindSpec {
            kind: Kind::department(),
            column: String::new(),
            code_column: None,
            id_prefix: None,
            separator: args.hierarchy_separator.clone(),
            leaf_only: args.leaf_only,
        });
    }
    for k in &kinds {
        if k.separator.is_some() && k.code_column.is_some() {
            return Err(SettingsError::invalid(
                "--group-by",
                format!(
                    "gives the kind '{}' a code column and a hierarchy separator; a code names one group, not a path: drop one of them",
                    k.kind
                ),
            ));
        }
        if k.separator.as_deref().is_some_and(str::is_empty) {
            return Err(SettingsError::invalid(
                "--hierarchy-separator",
                "needs a non-empty separator (e.g. ' > ')",
            ));
        }
        if k.leaf_only && k.separator.is_none() {
            return Err(SettingsError::invalid(
                "--leaf-only",
                format!("needs --hierarchy-separator (the kind '{}' has none)", k.kind),
            ));
        }
    }
    if args.leaf_only && kinds.is_empty() {
        return Err(SettingsError::invalid("--leaf-only", "needs --hierarchy-separator"));
    }
    Ok(kinds)
}

/// `--id-prefix`: checked here so that every ID it makes is a valid group ID, and short
/// enough to leave most of the 64 characters to the name.
fn id_prefix(prefix: Option<&str>) -> Result<Option<String>, SettingsError> {
    let Some(prefix) = prefix.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let body = prefix.strip_suffix('-').unwrap_or_default();
    if !crate::normalize::slug::is_valid_id(body) || prefix.len() > 24 {
        return Err(SettingsError::invalid(
            "--id-prefix",
            "takes lower-case letters, digits and single dashes, ending with a dash, at most 24 characters (e.g. dept-)",
        ));
    }
    Ok(Some(prefix.to_owned()))
}

fn parse_delimiter(text: &str) -> Result<u8, SettingsError> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && !t.as_bytes()[0].is_ascii_alphanumeric() && t != "\"" => {
            Ok(t.as_bytes()[0])
        }
        _ => Err(SettingsError::invalid(
            "--delimiter",
            format!("takes one punctuation character or \"tab\", not '{text}'"),
        )),
    }
}

/// Parses `--max-removals`: `25` or `10%`.
fn parse_limit(text: &str) -> Result<Limit, SettingsError> {
    let t = text.trim();
    let bad = || {
        SettingsError::invalid(
            "--max-removals",
            format!("takes a count (25) or a percentage (10%), not '{text}'"),
        )
    };
    match t.strip_suffix('%') {
        Some(p) => {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            if (0.0..=100.0).contains(&p) {
                Ok(Limit::Share(p / 100.0))
            } else {
                Err(bad())
            }
        }
        None => t.parse().map(Limit::Count).map_err(|_| bad()),
    }
}

#[cfg(test)]
mod tests;

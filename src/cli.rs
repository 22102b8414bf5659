//! Command-line arguments as clap sees them, and as the `--config` file spells them.
//!
//! Each options struct is both the flags (clap) and the config file's keys (serde, the flags'
//! names without the dashes), so a key cannot drift from its flag. Every field is optional or
//! a switch: defaults live in the settings module, which merges flags, file and environment and
//! validates the result before any input is read. Nothing here imports the rest of the crate.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

/// Import an HR directory (CSV or spreadsheet) into Velt organization user groups.
#[derive(Debug, Parser)]
#[command(name = "velt-groups", version = env!("VELT_GROUPS_VERSION"), about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// TOML file holding any of the options below (flags override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, map and normalize the inputs and show the groups an import would create; sends nothing.
    Check(Box<CheckArgs>),
    /// Create the groups in Velt (credentials from VELT_API_KEY and VELT_AUTH_TOKEN).
    Import(Box<ImportArgs>),
    /// Read back every group's members from the server and compare them with the export
    /// (exit 0 in sync, 1 drift found, 2 could not check).
    Verify(Box<VerifyArgs>),
    /// Open a local web page (127.0.0.1 only) to check a spreadsheet and import it.
    Ui(Box<UiArgs>),
    /// Print a shell completion script, e.g. `velt-groups completions bash > /etc/bash_completion.d/velt-groups`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `velt-groups man > velt-groups.1`.
    #[command(hide = true)]
    Man,
}

/// `velt-groups verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output options.
    #[command(flatten)]
    pub output: CheckOptions,
    /// What to compare against.
    #[command(flatten)]
    pub verify: VerifyOptions,
    /// Server options.
    #[command(flatten)]
    pub server: ServerOptions,
    /// Input options.
    #[command(flatten)]
    pub input: InputOptions,
    /// Metrics and notifications.
    #[command(flatten)]
    pub monitor: MonitorOptions,
    /// How stderr is written.
    #[command(flatten)]
    pub log: LogOptions,
}

/// `verify`'s own options.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct VerifyOptions {
    /// State file: also say which differences it believes otherwise (read only).
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PathBuf>,
}

/// `velt-groups completions`. Not a config key: it has nothing to do with a run.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `velt-groups check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output options.
    #[command(flatten)]
    pub output: CheckOptions,
    /// Input options.
    #[command(flatten)]
    pub input: InputOptions,
    /// Metrics and notifications.
    #[command(flatten)]
    pub monitor: MonitorOptions,
    /// How stderr is written.
    #[command(flatten)]
    pub log: LogOptions,
}

/// `velt-groups import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the run does and where it writes.
    #[command(flatten)]
    pub run: RunOptions,
    /// Server options.
    #[command(flatten)]
    pub server: ServerOptions,
    /// Input options.
    #[command(flatten)]
    pub input: InputOptions,
    /// Metrics and notifications.
    #[command(flatten)]
    pub monitor: MonitorOptions,
    /// How stderr is written.
    #[command(flatten)]
    pub log: LogOptions,
}

/// `velt-groups ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Where the page is served.
    #[command(flatten)]
    pub ui: UiOptions,
    /// Server options.
    #[command(flatten)]
    pub server: ServerOptions,
    /// How stderr is written.
    #[command(flatten)]
    pub log: LogOptions,
    /// The page's starting choices (organization, columns, members...), as for `import`;
    /// the files themselves are chosen on the page.
    #[command(flatten)]
    pub input: InputOptions,
}

/// The web page's own options.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct UiOptions {
    /// Port on 127.0.0.1 to serve the page on [default: a free one].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Print the page's address without opening a browser.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub no_open: bool,
    /// State file (SQLite), as for import: groups already confirmed with the same name are
    /// not sent again.
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PathBuf>,
    /// As for import: imports from the page send every group even if the state says it is
    /// there. Needs --state.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub full: bool,
    /// As for import: imports from the page with members also remove users this tool added
    /// that the export no longer has in a group. Needs --state.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub remove_departed: bool,
    /// As for import: most removals allowed in one import from the page, a count (25) or a
    /// share of the recorded members (10%).
    #[arg(long, value_name = "N|P%")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_removals: Option<String>,
}

/// `check`'s and `verify`'s output.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CheckOptions {
    /// Output format [default: table].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat>,
    /// No closing count line on stderr (problems, warnings and errors still show), as
    /// `import --quiet` shows no progress: a scheduled run logs only what needs reading.
    #[arg(long, short)]
    #[serde(skip_serializing_if = "is_false")]
    pub quiet: bool,
}

/// How `check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Aligned columns for people; problems on stderr.
    Table,
    /// One row per group, the same columns as the results report.
    Csv,
    /// Everything, in the documented JSON shape.
    Json,
}

/// What an import does and where it writes.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RunOptions {
    /// Do everything but send: validate, plan the requests, write the report.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub dry_run: bool,
    /// Send the valid groups even when some rows or groups are invalid (they are reported).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub allow_partial: bool,
    /// Results report: .csv, .json or .xlsx (default: velt-groups-report-TIME.csv here).
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<PathBuf>,
    /// Also write the run's summary as JSON here (for schedulers and monitoring).
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_json: Option<PathBuf>,
    /// State file (SQLite): groups already confirmed with the same name are not sent again,
    /// and a killed run resumes where it stopped.
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PathBuf>,
    /// Send every group even if the state says it is there (the state is still updated).
    /// Needs --state.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub full: bool,
    /// With --members and --state: also remove users this tool added to a group earlier and
    /// that today's export no longer has in it (never users someone else added).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub remove_departed: bool,
    /// Most removals allowed in one run, a count (25) or a share of the recorded members (10%);
    /// above it nothing is removed. Default: 10%, but at least 5.
    #[arg(long, value_name = "N|P%")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_removals: Option<String>,
    /// With --members: read back each group's members first and send what the server lacks,
    /// whatever the state believes (what `verify` reports missing); people left out as not
    /// current whom the server still lists are removed.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub repair: bool,
    /// Check the whole state file for damage now. Without it, the file is checked when it is
    /// not as the last run left it, and at least once a week. Needs --state.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub check_state: bool,
    /// No progress bar or progress lines.
    #[arg(long, short)]
    #[serde(skip_serializing_if = "is_false")]
    pub quiet: bool,
}

/// How to reach the server and how hard to push it.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ServerOptions {
    /// API base URL (plain http only for loopback addresses) [default: `https://api.velt.dev`].
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// API key. Prefer the VELT_API_KEY environment variable: flags leak into shell history
    /// and process lists.
    #[arg(long, value_name = "KEY", env = "VELT_API_KEY", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Auth token. Prefer the VELT_AUTH_TOKEN environment variable.
    #[arg(long, value_name = "TOKEN", env = "VELT_AUTH_TOKEN", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
    /// Extra CA certificate(s) to trust, PEM (a corporate TLS-inspecting proxy, a private
    /// server), besides the bundled roots and the operating system's store.
    #[arg(long, value_name = "PEM_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Create each organization first if it does not exist (sets createOrganization).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub create_organization: bool,
    /// Groups per request [default: 20]. Velt documents no cap for user groups and caps other
    /// ID lists at 30; 20 stays under that with room to spare.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<usize>,
    /// User IDs per membership request (--members) [default: 25]; other Velt ID lists stop at 30.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_chunk_size: Option<usize>,
    /// Users per organization-user request (--members) [default: 30]: other Velt ID lists stop at 30.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_chunk_size: Option<usize>,
    /// Access role given to the organization users added (--members); Velt's default when unset.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_role: Option<AccessRole>,
    /// Requests per second, fractions allowed, or `auto` to find the most the server accepts
    /// [default: 5]. Velt publishes no number for these endpoints; a stricter server is
    /// detected (429) and the pace lowered.
    #[arg(long, value_name = "PER_SECOND|auto", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateArg>,
    /// The most requests per second `--rate auto` may reach [default: 500].
    #[arg(long, value_name = "PER_SECOND", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<f64>,
    /// Requests the rate limiter lets through at once [default: 1].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Requests in flight at most [default: 16]; only needs to cover rate x server latency.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Retries of a failed request (429, 5xx, timeouts, broken connections) [default: 5].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Seconds to wait for an answer [default: 30] (connecting: at most 10 of them).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// First retry delay in milliseconds [default: 500]; it doubles per retry (with jitter).
    #[arg(long, value_name = "MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_min_ms: Option<u64>,
    /// Longest retry delay in milliseconds [default: 60000]; also the longest Retry-After honoured.
    #[arg(long, value_name = "MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_max_ms: Option<u64>,
}

/// `--rate`: a number of requests per second, or `auto`. Any number parses; whether it can
/// work (positive, finite) is the settings' call, which words the error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateArg {
    /// Find the most the server accepts.
    Auto,
    /// This many requests per second.
    PerSecond(f64),
}

/// What `--rate` and the `rate` key take, for error messages.
const RATE_EXPECTED: &str = "a number of requests per second or \"auto\"";

impl std::str::FromStr for RateArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") {
            return Ok(RateArg::Auto);
        }
        s.parse()
            .map(RateArg::PerSecond)
            .map_err(|_| format!("expected {RATE_EXPECTED}"))
    }
}

impl std::fmt::Display for RateArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateArg::Auto => f.write_str("auto"),
            RateArg::PerSecond(r) => write!(f, "{r}"),
        }
    }
}

impl Serialize for RateArg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RateArg::Auto => serializer.serialize_str("auto"),
            RateArg::PerSecond(r) => serializer.serialize_f64(*r),
        }
    }
}

/// `rate = 5`, `rate = 2.5` and `rate = "auto"` in a config file.
impl<'de> Deserialize<'de> for RateArg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RateArg;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(RATE_EXPECTED)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RateArg, E> {
                Ok(RateArg::PerSecond(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RateArg, E> {
                Ok(RateArg::PerSecond(v as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RateArg, E> {
                Ok(RateArg::PerSecond(v as f64))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RateArg, E> {
                v.parse()
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The `accessRole` of an organization user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessRole {
    /// Can read the organization's documents.
    Viewer,
    /// Can edit them.
    Editor,
}

impl AccessRole {
    /// The word Velt takes.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Viewer => "viewer",
            AccessRole::Editor => "editor",
        }
    }
}

/// Where the departments come from and how to read them.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct InputOptions {
    /// CSV, XLSX, XLSM, XLSB, XLS or ODS files (department lists or employee exports).
    #[arg(value_name = "INPUT")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PathBuf>,
    /// One organization ID for every row (an organization column is then ignored).
    #[arg(long, value_name = "ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Header of the department-name column (or its 1-based number).
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_column: Option<String>,
    /// Header of the department-code column; codes become the group IDs.
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Header of the organization column.
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_column: Option<String>,
    /// Sheet to read, by name or 1-based number (default: the first with a recognizable header).
    #[arg(long, value_name = "NAME|N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Row that holds the header, 1-based (default: detected within the first 20 rows).
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
    /// CSV delimiter: a character, or "tab" (default: sniffed among , ; tab |).
    #[arg(long, value_name = "CHAR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// CSV encoding, e.g. utf-8, utf-16le, windows-1252, iso-8859-1 (default: from the BOM,
    /// else UTF-8, else Windows-1252).
    #[arg(long, value_name = "LABEL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Also make each group's members match the export (needs a user column).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub members: bool,
    /// Header of the user-ID column (default: a work e-mail column, else an employee ID).
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_column: Option<String>,
    /// Send e-mail user IDs as written instead of lower-cased.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub keep_email_case: bool,
    /// Header of the person's full-name column (default: Name, Full Name, Preferred Name...).
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name_column: Option<String>,
    /// Header of the first-name column (joined with the last name when there is no full name).
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name_column: Option<String>,
    /// Header of the last-name column.
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name_column: Option<String>,
    /// Header of the e-mail column sent with each organization user.
    #[arg(long, value_name = "HEADER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_column: Option<String>,
    /// Hold back names typed several ways ("R&D", "R & D") instead of merging them into one group.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub strict_names: bool,
    /// Put this before every group ID ("dept-" makes "dept-sales"): lower-case letters, digits
    /// and dashes, ending with a dash. Off by default.
    #[arg(long, value_name = "PREFIX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
    /// Header of the employment-status column, or "none" (default: Status, Employment Status,
    /// Worker Status, Active, Leaver...; every one found is used).
    #[arg(long, value_name = "HEADER|none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_column: Option<String>,
    /// Header of the termination-date column, or "none" (default: Termination Date, End Date...).
    #[arg(long, value_name = "HEADER|none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_column: Option<String>,
    /// Header of the start-date column, or "none" (default: Hire Date, Start Date...).
    #[arg(long, value_name = "HEADER|none")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_column: Option<String>,
    /// Keep leavers and people not yet started (status and dates decide nothing; --where still does).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub include_inactive: bool,
    /// Judge end and start dates as of this day, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Status values that mean current, comma-separated (beside the built-in ones).
    #[arg(long, value_name = "VALUES", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_values: Vec<String>,
    /// Status values that mean the person left, comma-separated (beside the built-in ones).
    #[arg(long, value_name = "VALUES", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inactive_values: Vec<String>,
    /// How dates such as 03/04/2024 are read: DMY, MDY, or a pattern such as %d.%m.%Y
    /// [default: decided per column from the dates that read only one way].
    #[arg(long, value_name = "DMY|MDY|PATTERN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// Keep only rows where COLUMN holds one of the values (=) or none of them (!=);
    /// case-insensitive, repeatable, all must hold.
    #[arg(long = "where", value_name = "COLUMN=VALUE[,VALUE...]")]
    #[serde(rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Groups of a kind from a column, repeatable (department=Department --group-by
    /// office=Location); kinds after the first get their kind as ID prefix (office-berlin).
    #[arg(long, value_name = "KIND=COLUMN", value_parser = group_by_flag)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<GroupBy>,
    /// Splits a value into the levels of a path ("Engineering > Platform"), each level a group
    /// that the person joins.
    #[arg(long, value_name = "TEXT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hierarchy_separator: Option<String>,
    /// With --hierarchy-separator: a person joins only the deepest level's group.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub leaf_only: bool,
}

/// One `--group-by`: `KIND=COLUMN` as a flag, or a table in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupBy {
    /// `KIND=COLUMN`, checked with the other settings.
    Flag(String),
    /// `[[group-by]]` with `kind`, `column` and the optional keys.
    Table(GroupByTable),
}

/// A `[[group-by]]` table of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GroupByTable {
    /// The kind (`office`).
    pub kind: String,
    /// The header (or 1-based number) of its column.
    pub column: String,
    /// The header of its code column, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_column: Option<String>,
    /// Put before its IDs (default: the kind and a dash, for every kind after the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
    /// Its own `--hierarchy-separator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy_separator: Option<String>,
    /// Its own `--leaf-only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_only: Option<bool>,
}

impl GroupByTable {
    /// A kind from its column alone, as `--group-by KIND=COLUMN` gives it.
    pub fn new(kind: &str, column: &str) -> Self {
        GroupByTable {
            kind: kind.to_owned(),
            column: column.to_owned(),
            code_column: None,
            id_prefix: None,
            hierarchy_separator: None,
            leaf_only: None,
        }
    }
}

fn group_by_flag(text: &str) -> Result<GroupBy, String> {
    Ok(GroupBy::Flag(text.to_owned()))
}

/// How stderr is written; every command has it.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct LogOptions {
    /// stderr as text for people, or one JSON object per line for a log shipper [default: text].
    #[arg(long, value_enum, value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people (and a progress bar on a terminal).
    #[default]
    Text,
    /// One JSON object per line, the documented events only; no progress bar.
    Json,
}

/// What a scheduled run tells the tools that watch it besides its logs: a metrics file, webhooks.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct MonitorOptions {
    /// After the run, success or not, write Prometheus metrics here (for node_exporter's
    /// textfile collector), replaced whole.
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_file: Option<PathBuf>,
    /// Webhook URL (Slack, Teams workflow, Mattermost...) told how the run went; repeatable.
    /// Prefer VELT_GROUPS_NOTIFY (space-separated): the URL carries a token.
    #[arg(
        long,
        value_name = "URL",
        env = "VELT_GROUPS_NOTIFY",
        hide_env_values = true,
        value_delimiter = ' '
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    /// When to notify: after every run, or only after one that failed, stopped, held rows
    /// back, left work undone or found drift [default: problems].
    #[arg(long, value_enum, value_name = "WHEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_on: Option<NotifyOn>,
}

/// `--notify-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyOn {
    /// After every run.
    Always,
    /// After a run that failed, stopped, held rows back, left work undone or found drift.
    #[default]
    Problems,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

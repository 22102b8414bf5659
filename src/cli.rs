//! Command-line arguments as clap sees them. They stay close to the flags; [`crate::settings`]
//! turns them into typed settings and rejects bad combinations.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Import an HR directory (CSV or spreadsheet) into Velt organization user groups.
#[derive(Debug, Parser)]
#[command(name = "velt-groups", version, about, long_about = None, max_term_width = 100)]
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
}

/// `velt-groups import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Do everything but send: validate, plan the requests, write the report.
    #[arg(long)]
    pub dry_run: bool,
    /// Send the valid groups even when some rows or groups are invalid (they are reported).
    #[arg(long)]
    pub allow_partial: bool,
    /// Results report: .csv, .json or .xlsx (default: velt-groups-report-TIME.csv here).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Also write the run's summary as JSON here (for schedulers and monitoring).
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// State file (SQLite): groups already confirmed with the same name are not sent again,
    /// and a killed run resumes where it stopped.
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Send every group even if the state says it is there (the state is still updated).
    #[arg(long)]
    pub full: bool,
    /// With --members and --state: also remove users this tool added to a group earlier and
    /// that today's export no longer has in it (never users someone else added).
    #[arg(long)]
    pub remove_departed: bool,
    /// Most removals allowed in one run, a count (25) or a share of the recorded members (10%);
    /// above it nothing is removed. Default: 10%, but at least 5.
    #[arg(long, value_name = "N|P%")]
    pub max_removals: Option<String>,
    /// No progress bar or progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    /// Server options.
    #[command(flatten)]
    pub upload: UploadArgs,
    /// Input options.
    #[command(flatten)]
    pub input: InputArgs,
}

/// How to reach the server and how hard to push it.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// API base URL (plain http only for loopback addresses).
    #[arg(long, value_name = "URL", default_value = "https://api.velt.dev")]
    pub api_base: String,
    /// API key. Prefer the VELT_API_KEY environment variable: flags leak into shell history
    /// and process lists.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Auth token. Prefer the VELT_AUTH_TOKEN environment variable.
    #[arg(long, value_name = "TOKEN")]
    pub auth_token: Option<String>,
    /// Create each organization first if it does not exist (sets createOrganization).
    #[arg(long)]
    pub create_organization: bool,
    /// Groups per request. Velt documents no cap for user groups and caps other ID lists at
    /// 30; 20 stays under that with room to spare.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub chunk_size: usize,
    /// User IDs per membership request (--members); other Velt ID lists stop at 30.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub member_chunk_size: usize,
    /// Requests per second (fractions allowed). Velt publishes no number for these endpoints;
    /// a stricter server is detected (429) and the pace lowered.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 5.0)]
    pub rate: f64,
    /// Requests the rate limiter lets through at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub burst: u32,
    /// Requests in flight at most; only needs to cover rate x server latency.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// Retries of a failed request (429, 5xx, timeouts, broken connections).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,
    /// Seconds to wait for an answer (connecting: at most 10 of them).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// First retry delay in milliseconds; it doubles per retry (with jitter).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub backoff_min_ms: u64,
    /// Longest retry delay in milliseconds; also the longest Retry-After honoured.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub backoff_max_ms: u64,
    /// Credentials from the config file (used when the environment has none).
    #[arg(skip)]
    pub file_secrets: crate::config::FileSecrets,
}

/// `velt-groups check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Input options.
    #[command(flatten)]
    pub input: InputArgs,
}

/// How `check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people; problems on stderr.
    Table,
    /// One row per group, the same columns as the results report.
    Csv,
    /// Everything, in the documented JSON shape.
    Json,
}

/// Where the departments come from and how to read them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// CSV, XLSX, XLSM, XLSB, XLS or ODS files (department lists or employee exports).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// One organization ID for every row (an organization column is then ignored).
    #[arg(long, value_name = "ID")]
    pub org: Option<String>,
    /// Header of the department-name column (or its 1-based number).
    #[arg(long, value_name = "HEADER")]
    pub name_column: Option<String>,
    /// Header of the department-code column; codes become the group IDs.
    #[arg(long, value_name = "HEADER")]
    pub id_column: Option<String>,
    /// Header of the organization column.
    #[arg(long, value_name = "HEADER")]
    pub org_column: Option<String>,
    /// Sheet to read, by name or 1-based number (default: the first with a recognizable header).
    #[arg(long, value_name = "NAME|N")]
    pub sheet: Option<String>,
    /// Row that holds the header, 1-based (default: detected within the first 20 rows).
    #[arg(long, value_name = "N")]
    pub header_row: Option<u64>,
    /// CSV delimiter: a character, or "tab" (default: sniffed among , ; tab |).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// CSV encoding, e.g. utf-8, utf-16le, windows-1252, iso-8859-1 (default: from the BOM,
    /// else UTF-8, else Windows-1252).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Also make each group's members match the export (needs a user column).
    #[arg(long)]
    pub members: bool,
    /// Header of the user-ID column (default: a work e-mail column, else an employee ID).
    #[arg(long, value_name = "HEADER")]
    pub user_column: Option<String>,
    /// Send e-mail user IDs as written instead of lower-cased.
    #[arg(long)]
    pub keep_email_case: bool,
    /// Hold back names that differ by more than case and spaces but make one group ID
    /// ("R&D", "R-D"), instead of sending them as one group.
    #[arg(long)]
    pub strict_names: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

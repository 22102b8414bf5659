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
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, map and normalize the inputs and show the groups an import would create; sends nothing.
    Check(CheckArgs),
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_are_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

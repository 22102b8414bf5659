//! `--config FILE`: every option in a TOML file, for scheduled runs. Flags override the file
//! (its values become the flags' defaults), the environment overrides nothing but the
//! credentials, which may also sit in the file. Relative paths in the file are relative to the
//! file, so a cron job works from any directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;

use crate::cli::Cli;
use crate::error::Error;
use crate::settings::Secret;

/// The file's keys: the flags' names without the dashes in front.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    inputs: Option<Vec<PathBuf>>,
    org: Option<String>,
    name_column: Option<String>,
    id_column: Option<String>,
    org_column: Option<String>,
    sheet: Option<String>,
    header_row: Option<u64>,
    delimiter: Option<String>,
    encoding: Option<String>,
    format: Option<String>,
    api_base: Option<String>,
    api_key: Option<String>,
    auth_token: Option<String>,
    create_organization: Option<bool>,
    chunk_size: Option<usize>,
    rate: Option<f64>,
    burst: Option<u32>,
    concurrency: Option<usize>,
    max_retries: Option<u32>,
    timeout: Option<f64>,
    backoff_min_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
    report: Option<PathBuf>,
    summary_json: Option<PathBuf>,
    state: Option<PathBuf>,
    full: Option<bool>,
    allow_partial: Option<bool>,
    dry_run: Option<bool>,
    quiet: Option<bool>,
    members: Option<bool>,
    user_column: Option<String>,
    keep_email_case: Option<bool>,
    strict_names: Option<bool>,
    remove_departed: Option<bool>,
    max_removals: Option<String>,
    member_chunk_size: Option<usize>,
}

/// Credentials found in the config file, used when the environment has none.
#[derive(Debug, Clone, Default)]
pub struct FileSecrets {
    /// `api-key`.
    pub api_key: Option<Secret>,
    /// `auth-token`.
    pub auth_token: Option<Secret>,
}

/// Parses the command line, with `--config`'s values as defaults.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let Some(path) = config_path(&args) else {
        return Cli::try_parse_from(args);
    };
    let config = match load(&path) {
        Ok(c) => c,
        Err(e) => {
            e.print();
            std::process::exit(crate::error::Exit::NothingAttempted as i32);
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let cmd = Cli::command()
        .mut_subcommand("check", |c| with_defaults(c, &config, &base))
        .mut_subcommand("import", |c| with_defaults(c, &config, &base));
    let matches = cmd.try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let crate::cli::Command::Import(import) = &mut cli.command {
        import.upload.file_secrets = FileSecrets {
            api_key: config.api_key.map(Secret::new),
            auth_token: config.auth_token.map(Secret::new),
        };
    }
    Ok(cli)
}

/// `--config PATH` or `--config=PATH`, wherever it stands.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    None
}

fn load(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the config file {}: {e}", path.display())))?;
    let config: ConfigFile = toml::from_str(&text).map_err(|e| {
        let detail = e.message().to_owned();
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        match line {
            Some(line) => Error::Usage(format!("{}, line {line}: {detail}", path.display())),
            None => Error::Usage(format!("{}: {detail}", path.display())),
        }
    })?;
    if config.api_key.is_some() || config.auth_token.is_some() {
        warn_if_shared(path);
    }
    Ok(config)
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds credentials and others can read it; chmod 600 it",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path) {}

/// Sets the file's values as the subcommand's defaults (flags still win).
fn with_defaults(mut cmd: Command, c: &ConfigFile, base: &Path) -> Command {
    let has = |cmd: &Command, id: &str| cmd.get_arguments().any(|a| a.get_id() == id);
    let path = |p: &PathBuf| base.join(p).to_string_lossy().into_owned();
    let set = |cmd: Command, id: &'static str, value: Option<String>| -> Command {
        match value {
            Some(v) if has(&cmd, id) => cmd.mut_arg(id, |a| a.default_value(v).required(false)),
            _ => cmd,
        }
    };
    let text = |v: &Option<String>| v.clone();
    cmd = set(cmd, "org", text(&c.org));
    cmd = set(cmd, "name_column", text(&c.name_column));
    cmd = set(cmd, "id_column", text(&c.id_column));
    cmd = set(cmd, "org_column", text(&c.org_column));
    cmd = set(cmd, "sheet", text(&c.sheet));
    cmd = set(cmd, "header_row", c.header_row.map(|v| v.to_string()));
    cmd = set(cmd, "delimiter", text(&c.delimiter));
    cmd = set(cmd, "encoding", text(&c.encoding));
    cmd = set(cmd, "format", text(&c.format));
    cmd = set(cmd, "api_base", text(&c.api_base));
    cmd = set(cmd, "create_organization", c.create_organization.map(|v| v.to_string()));
    cmd = set(cmd, "chunk_size", c.chunk_size.map(|v| v.to_string()));
    cmd = set(cmd, "rate", c.rate.map(|v| v.to_string()));
    cmd = set(cmd, "burst", c.burst.map(|v| v.to_string()));
    cmd = set(cmd, "concurrency", c.concurrency.map(|v| v.to_string()));
    cmd = set(cmd, "max_retries", c.max_retries.map(|v| v.to_string()));
    cmd = set(cmd, "timeout", c.timeout.map(|v| v.to_string()));
    cmd = set(cmd, "backoff_min_ms", c.backoff_min_ms.map(|v| v.to_string()));
    cmd = set(cmd, "backoff_max_ms", c.backoff_max_ms.map(|v| v.to_string()));
    cmd = set(cmd, "report", c.report.as_ref().map(path));
    cmd = set(cmd, "summary_json", c.summary_json.as_ref().map(path));
    cmd = set(cmd, "state", c.state.as_ref().map(path));
    cmd = set(cmd, "full", c.full.map(|v| v.to_string()));
    cmd = set(cmd, "allow_partial", c.allow_partial.map(|v| v.to_string()));
    cmd = set(cmd, "dry_run", c.dry_run.map(|v| v.to_string()));
    cmd = set(cmd, "quiet", c.quiet.map(|v| v.to_string()));
    cmd = set(cmd, "members", c.members.map(|v| v.to_string()));
    cmd = set(cmd, "user_column", text(&c.user_column));
    cmd = set(cmd, "keep_email_case", c.keep_email_case.map(|v| v.to_string()));
    cmd = set(cmd, "strict_names", c.strict_names.map(|v| v.to_string()));
    cmd = set(cmd, "remove_departed", c.remove_departed.map(|v| v.to_string()));
    cmd = set(cmd, "max_removals", text(&c.max_removals));
    cmd = set(cmd, "member_chunk_size", c.member_chunk_size.map(|v| v.to_string()));
    if let Some(inputs) = &c.inputs {
        let values: Vec<String> = inputs.iter().map(path).collect();
        cmd = cmd.mut_arg("inputs", |a| a.default_values(values).required(false));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_config_flag() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["vg", "import", "--config", "a.toml"])),
            Some("a.toml".into())
        );
        assert_eq!(
            config_path(&args(&["vg", "import", "--config=b.toml", "x.csv"])),
            Some("b.toml".into())
        );
        assert_eq!(config_path(&args(&["vg", "import", "--", "--config"])), None);
        assert_eq!(config_path(&args(&["vg", "import", "x.csv"])), None);
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "rate = 5\nchunksize = 3\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("c.toml, line 2: unknown field `chunksize`"), "{err}");
    }
}

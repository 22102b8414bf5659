//! `--config FILE`: every option in a TOML file, for scheduled runs. Its keys are the flags'
//! names without the dashes; the options structs of [`crate::cli`] are the file's schema, so a
//! key and its flag cannot drift apart. Relative paths in the file are relative to the file, so
//! a cron job works from any directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::SettingsError;
use crate::cli::{
    CheckOptions, Cli, InputOptions, LogOptions, MonitorOptions, RunOptions, ServerOptions, UiOptions, VerifyOptions,
};

/// A config file, read and checked for unknown keys.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    text: String,
    /// Whether it holds credentials that other users can read.
    pub shared_secrets: bool,
}

impl ConfigFile {
    /// Reads `path`; an unknown key is an error naming its line.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ConfigUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let file = ConfigFile {
            path: path.to_owned(),
            text,
            shared_secrets: false,
        };
        let table: toml::Table = toml::from_str(&file.text).map_err(|e| file.located(&e))?;
        let known = keys();
        if let Some(key) = table.keys().find(|k| !known.contains(k.as_str())) {
            return Err(SettingsError::Config {
                path: path.to_owned(),
                line: file.line_of_key(key),
                detail: format!("unknown field `{key}`; the keys are the flags' names without the dashes"),
            });
        }
        file.refuse_foreign_paths(&table)?;
        // Every value is checked now, also those the command at hand does not use: a nightly
        // import must not be the first to find a typo made while testing with `check`.
        file.section::<InputOptions>()?;
        file.section::<RunOptions>()?;
        file.section::<ServerOptions>()?;
        file.section::<CheckOptions>()?;
        file.section::<UiOptions>()?;
        file.section::<LogOptions>()?;
        file.section::<MonitorOptions>()?;
        // A webhook URL carries a token: it is a credential too.
        let secrets = ["api-key", "auth-token", "notify"]
            .iter()
            .any(|k| table.contains_key(*k));
        Ok(ConfigFile {
            shared_secrets: secrets && readable_by_others(path),
            ..file
        })
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options of one struct, with paths made relative to the file's folder. Keys of the
    /// other structs are ignored here (they were checked as a whole in [`ConfigFile::load`]).
    pub fn section<T: DeserializeOwned + Rebase>(&self) -> Result<T, SettingsError> {
        let mut options: T = toml::from_str(&self.text).map_err(|e| self.located(&e))?;
        options.rebase(self.path.parent().unwrap_or(Path::new("")));
        Ok(options)
    }

    fn located(&self, e: &toml::de::Error) -> SettingsError {
        let line = e.span().map(|s| self.text[..s.start].matches('\n').count() + 1);
        // TOML's messages quote the value they could not take (`integer `12345``): on a
        // secret's line, say what is wrong without it.
        let secret = line.and_then(|l| self.text.lines().nth(l - 1)).and_then(secret_key_of);
        let detail = match secret {
            // A webhook URL carries its token: `notify` is a secret's line too.
            Some(key @ "notify") => format!(
                "the value of {key} cannot be read; write it as a list of quoted URLs, {key} = [\"https://...\"] (the value is not shown: it carries a token)"
            ),
            Some(key) => format!(
                "the value of {key} cannot be read; write it as a quoted string, {key} = \"...\" (the value is not shown: it is a secret)"
            ),
            None => self.redacted(e.message()),
        };
        SettingsError::Config {
            path: self.path.clone(),
            line,
            detail,
        }
    }

    /// `text` without the values written on the secrets' lines (for a message whose location
    /// is unknown, or that quotes another line).
    fn redacted(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for line in self.text.lines().filter(|l| secret_key_of(l).is_some()) {
            let Some((_, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches(['"', '\'']).trim();
            if !value.is_empty() {
                out = out.replace(value, "[redacted]");
            }
        }
        out
    }

    /// Refuses a path written for Windows (`C:\velt\state.db`, `\\server\share`) in a
    /// config read elsewhere: here it is a relative file name, and would make a file named
    /// `C:\velt\state.db` beside the config.
    fn refuse_foreign_paths(&self, table: &toml::Table) -> Result<(), SettingsError> {
        if cfg!(windows) {
            return Ok(());
        }
        let paths = path_keys();
        for (key, value) in table.iter().filter(|(k, _)| paths.contains(k.as_str())) {
            let texts: Vec<&str> = match value {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(items) => items.iter().filter_map(toml::Value::as_str).collect(),
                _ => Vec::new(),
            };
            if let Some(text) = texts.into_iter().find(|t| is_windows_path(t)) {
                return Err(SettingsError::Config {
                    path: self.path.clone(),
                    line: self.line_of_key(key),
                    detail: format!(
                        "{key} = '{text}' is a Windows path, and this is not Windows (it would name a file '{text}' beside the config); write a path of this system, e.g. /var/lib/velt-groups/state.db, or one relative to the config file"
                    ),
                });
            }
        }
        Ok(())
    }

    fn line_of_key(&self, key: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                let line = line.trim_start().trim_start_matches('"');
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(['=', '"', '.']))
            })
            .map(|i| i + 1)
    }
}

/// The secret a config line sets (`api-key = ...`, `"auth-token" = ...`), if any.
fn secret_key_of(line: &str) -> Option<&'static str> {
    let key = line.split('=').next()?.trim().trim_matches(['"', '\'']);
    ["api-key", "auth-token", "notify"].into_iter().find(|k| *k == key)
}

/// Every key a config file may hold: the long name of every flag of every command, and
/// `inputs`. Taken from the clap definitions, so a new flag is a new key with nothing to list.
pub fn keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for command in Cli::command().get_subcommands().filter(|c| configurable(c)) {
        for arg in command.get_arguments() {
            match arg.get_long() {
                Some("help" | "version" | "config") => {}
                Some(long) => {
                    keys.insert(long.to_owned());
                }
                None if arg.is_positional() => {
                    keys.insert(arg.get_id().to_string());
                }
                None => {}
            }
        }
    }
    keys
}

/// The keys whose values are paths: the flags that take a path (clap's `PathBuf` values).
fn path_keys() -> BTreeSet<String> {
    let path = clap::builder::ValueParser::path_buf().type_id();
    let mut keys = BTreeSet::new();
    for command in Cli::command().get_subcommands().filter(|c| configurable(c)) {
        for arg in command
            .get_arguments()
            .filter(|a| a.get_value_parser().type_id() == path)
        {
            keys.insert(arg.get_long().map_or_else(|| arg.get_id().to_string(), str::to_owned));
        }
    }
    keys
}

/// `C:\dir`, `C:/dir`, `C:file` (a drive letter), or `\\server\share` (UNC).
fn is_windows_path(text: &str) -> bool {
    let b = text.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    drive || text.starts_with("\\\\")
}

/// Whether a command's flags are config keys: not those of `completions` and `man`, which
/// print something about the tool itself and take nothing from a run's config.
pub(super) fn configurable(command: &clap::Command) -> bool {
    !matches!(command.get_name(), "completions" | "man")
}

/// Options laid over each other: the flags' values win over the file's. Both are the same
/// struct; a value the flags did not set (`None`, an unset switch) is not serialized, so the
/// file's shows through.
pub fn overlay<T: Serialize + DeserializeOwned>(file: T, flags: T) -> Result<T, SettingsError> {
    let table = |t: &T| toml::Table::try_from(t).map_err(|e| SettingsError::Internal(e.to_string()));
    let mut merged = table(&file)?;
    merged.extend(table(&flags)?);
    merged
        .try_into()
        .map_err(|e: toml::de::Error| SettingsError::Internal(e.to_string()))
}

/// Paths in a config file are relative to the file.
pub trait Rebase {
    /// Joins relative paths to `base`.
    fn rebase(&mut self, base: &Path);
}

fn rebase(path: &mut PathBuf, base: &Path) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

impl Rebase for InputOptions {
    fn rebase(&mut self, base: &Path) {
        self.inputs.iter_mut().for_each(|p| rebase(p, base));
    }
}

impl Rebase for RunOptions {
    fn rebase(&mut self, base: &Path) {
        for path in [&mut self.report, &mut self.summary_json, &mut self.state]
            .into_iter()
            .flatten()
        {
            rebase(path, base);
        }
    }
}

impl Rebase for VerifyOptions {
    fn rebase(&mut self, base: &Path) {
        if let Some(path) = &mut self.state {
            rebase(path, base);
        }
    }
}

impl Rebase for UiOptions {
    fn rebase(&mut self, base: &Path) {
        if let Some(path) = &mut self.state {
            rebase(path, base);
        }
    }
}

impl Rebase for ServerOptions {
    fn rebase(&mut self, base: &Path) {
        if let Some(path) = &mut self.ca_file {
            rebase(path, base);
        }
    }
}

impl Rebase for CheckOptions {
    fn rebase(&mut self, _: &Path) {}
}

impl Rebase for LogOptions {
    fn rebase(&mut self, _: &Path) {}
}

impl Rebase for MonitorOptions {
    fn rebase(&mut self, base: &Path) {
        super::monitor::rebase(self, base);
    }
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

// Windows has no mode bits to check; its ACLs are the folder's business.
#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let (_dir, path) = file("rate = 5\nchunksize = 3\n");
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("c.toml, line 2: unknown field `chunksize`"), "{err}");
    }

    /// Every flag that makes sense in a file is a key, and every key is a flag: a TOML with
    /// one value for each key lands in the options structs, and nothing is left over.
    #[test]
    fn every_key_names_a_flag_and_every_flag_is_a_key() {
        let keys = keys();
        assert!(keys.len() >= 35, "{keys:?}");
        assert!(
            !keys.contains("shell"),
            "completions' argument is no config key: {keys:?}"
        );
        let mut text = String::new();
        for command in Cli::command().get_subcommands().filter(|c| configurable(c)) {
            for arg in command.get_arguments() {
                let key = match arg.get_long() {
                    Some("help" | "version" | "config") => continue,
                    Some(long) => long.to_owned(),
                    None => arg.get_id().to_string(),
                };
                if text.contains(&format!("\n{key} =")) {
                    continue;
                }
                let value = match arg.get_action() {
                    clap::ArgAction::SetTrue => "true".to_owned(),
                    clap::ArgAction::Append => "[\"x.csv\"]".to_owned(),
                    _ => match key.as_str() {
                        "rate" | "timeout" | "max-rate" => "1.5".to_owned(),
                        "chunk-size" | "member-chunk-size" | "user-chunk-size" | "burst" | "concurrency"
                        | "max-retries" | "backoff-min-ms" | "backoff-max-ms" | "header-row" | "port" => "7".to_owned(),
                        "format" | "log-format" => "\"json\"".to_owned(),
                        "notify-on" => "\"always\"".to_owned(),
                        "access-role" => "\"viewer\"".to_owned(),
                        _ => "\"x\"".to_owned(),
                    },
                };
                text.push_str(&format!("\n{key} = {value}"));
            }
        }
        let (_dir, path) = file(&text);
        let config = ConfigFile::load(&path).unwrap();
        // Serialized back, the structs hold exactly the keys that went in.
        let mut back = BTreeSet::new();
        let mut collect = |t: toml::Table| back.extend(t.keys().cloned());
        collect(toml::Table::try_from(config.section::<InputOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<RunOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<ServerOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<CheckOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<UiOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<LogOptions>().unwrap()).unwrap());
        collect(toml::Table::try_from(config.section::<MonitorOptions>().unwrap()).unwrap());
        assert_eq!(back, keys);
    }

    /// Regression (issue 21): `state = 'C:\velt\state.db'` read on Linux made a file of that
    /// name beside the config.
    #[test]
    fn a_windows_path_is_refused_where_it_is_not_one() {
        assert_eq!(
            path_keys(),
            ["ca-file", "inputs", "metrics-file", "report", "state", "summary-json"]
                .map(str::to_owned)
                .into()
        );
        for (text, line) in [
            ("rate = 5\nstate = 'C:\\velt\\state.db'\n", 2),
            ("report = \"D:/reports/r.csv\"\n", 1),
            ("inputs = ['hr.csv', '\\\\fileserver\\hr\\export.csv']\n", 1),
            ("ca-file = 'c:corp.pem'\n", 1),
            ("metrics-file = 'C:\\metrics\\velt.prom'\n", 1),
        ] {
            let (dir, path) = file(text);
            let got = ConfigFile::load(&path);
            if cfg!(windows) {
                assert!(got.is_ok(), "{text}");
                continue;
            }
            let err = got.unwrap_err().to_string();
            assert!(err.contains(&format!("c.toml, line {line}: ")), "{err}");
            assert!(err.contains("is a Windows path, and this is not Windows"), "{err}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "nothing created");
        }
        // A colon later in a name is no drive.
        let (_dir, path) = file("state = 'state:1.db'\nreport = 'r.csv'\n");
        assert!(ConfigFile::load(&path).is_ok());
    }

    /// Regression (issue 21): an unquoted numeric api-key was echoed in the TOML error.
    #[test]
    fn a_secret_that_cannot_be_read_is_not_echoed() {
        for text in [
            "api-key = 8675309123\n",
            "rate = 5\nauth-token = 8675309123\n",
            "\"api-key\" = 8675309123.5\n",
            "api-key = 0x8675309123\n",
            "api-key = [\"8675309123\"]\n",
            "auth-token = { v = \"8675309123\" }\n",
            "api-key = 8675309123 junk\n",
            "api-key = \"8675309123\nrate = 1\n",
        ] {
            let (_dir, path) = file(text);
            let err = ConfigFile::load(&path).unwrap_err().to_string();
            assert!(!err.contains("8675309123"), "{text:?}: {err}");
            assert!(err.contains("c.toml, line"), "{text:?}: {err}");
        }
    }

    #[test]
    fn flags_win_and_the_file_shows_through() {
        let file = ServerOptions {
            chunk_size: Some(3),
            rate: Some(crate::cli::RateArg::PerSecond(9.0)),
            create_organization: true,
            ..ServerOptions::default()
        };
        let flags = ServerOptions {
            chunk_size: Some(5),
            ..ServerOptions::default()
        };
        let merged = overlay(file, flags).unwrap();
        assert_eq!(merged.chunk_size, Some(5));
        assert_eq!(merged.rate, Some(crate::cli::RateArg::PerSecond(9.0)));
        assert!(merged.create_organization);
    }

    #[test]
    fn rate_takes_an_integer_a_fraction_or_auto() {
        use crate::cli::RateArg;
        for (text, want) in [
            ("rate = 5\n", RateArg::PerSecond(5.0)),
            ("rate = 2.5\n", RateArg::PerSecond(2.5)),
            ("rate = \"auto\"\nmax-rate = 80\n", RateArg::Auto),
        ] {
            let (_dir, path) = file(text);
            let server: ServerOptions = ConfigFile::load(&path).unwrap().section().unwrap();
            assert_eq!(server.rate, Some(want), "{text}");
        }
        // A flag's `auto` beats the file's number, and back.
        let file_rate = ServerOptions {
            rate: Some(RateArg::PerSecond(9.0)),
            max_rate: Some(80.0),
            ..ServerOptions::default()
        };
        let flags = ServerOptions {
            rate: Some(RateArg::Auto),
            ..ServerOptions::default()
        };
        let merged = overlay(file_rate, flags).unwrap();
        assert_eq!((merged.rate, merged.max_rate), (Some(RateArg::Auto), Some(80.0)));
        let (_dir, path) = file("rate = \"fast\"\n");
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 1: invalid value: string \"fast\", expected a number"),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let (dir, path) =
            file("state = \"s.db\"\nreport = \"/abs/r.csv\"\ninputs = [\"hr.csv\"]\nca-file = \"ca/corp.pem\"\n");
        let config = ConfigFile::load(&path).unwrap();
        let run: RunOptions = config.section().unwrap();
        assert_eq!(run.state, Some(dir.path().join("s.db")));
        assert_eq!(run.report, Some(PathBuf::from("/abs/r.csv")));
        let input: InputOptions = config.section().unwrap();
        assert_eq!(input.inputs, vec![dir.path().join("hr.csv")]);
        let server: ServerOptions = config.section().unwrap();
        assert_eq!(server.ca_file, Some(dir.path().join("ca/corp.pem")));
    }
}

//! Turns parsed flags into typed settings, rejecting what cannot work before anything is read.

use std::num::NonZeroU64;

use crate::cli::{InputArgs, UploadArgs};
use crate::error::Error;
use crate::input::InputSettings;
use crate::map::MapOptions;
use crate::read::ReadOptions;
use crate::upload::UploadSettings;

/// Validates the input flags.
pub fn input_settings(args: &InputArgs) -> Result<InputSettings, Error> {
    let delimiter = args.delimiter.as_deref().map(parse_delimiter).transpose()?;
    let encoding = args
        .encoding
        .as_deref()
        .map(|label| {
            encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown encoding '{label}'; try utf-8, utf-16le, utf-16be or windows-1252"
                ))
            })
        })
        .transpose()?;
    let header_row = args
        .header_row
        .map(|n| {
            NonZeroU64::new(n)
                .map(NonZeroU64::get)
                .ok_or_else(|| Error::Usage("--header-row counts from 1".into()))
        })
        .transpose()?;
    let org = match args.org.as_deref().map(str::trim) {
        Some("") => return Err(Error::Usage("--org needs a non-empty organization ID".into())),
        other => other.map(str::to_owned),
    };
    Ok(InputSettings {
        paths: args.inputs.clone(),
        read: ReadOptions {
            delimiter,
            encoding,
            sheet: args.sheet.clone(),
        },
        map: MapOptions {
            name_column: args.name_column.clone(),
            id_column: args.id_column.clone(),
            org_column: args.org_column.clone(),
            org,
            header_row,
            members: args.members,
            user_column: args.user_column.clone(),
            keep_email_case: args.keep_email_case,
            ..MapOptions::default()
        },
        normalize: crate::normalize::Options {
            strict_names: args.strict_names,
        },
    })
}

fn parse_delimiter(text: &str) -> Result<u8, Error> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && !t.as_bytes()[0].is_ascii_alphanumeric() && t != "\"" => {
            Ok(t.as_bytes()[0])
        }
        _ => Err(Error::Usage(format!(
            "--delimiter takes one punctuation character or \"tab\", not '{text}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_is_https_or_loopback_http() {
        for ok in [
            "https://api.velt.dev",
            "http://127.0.0.1:8787",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(api_base(ok).is_ok(), "{ok}");
        }
        for bad in ["http://api.velt.dev", "http://10.0.0.1", "ftp://x", "not a url"] {
            assert!(api_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        let c = Credentials {
            api_key: s.clone(),
            auth_token: s,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("a").is_err());
        assert!(parse_delimiter("\"").is_err());
    }
}

/// A secret string: its `Debug` and `Display` never show it, so it cannot reach a log line,
/// a panic message or a report by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The API key and auth token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `x-velt-api-key`.
    pub api_key: Secret,
    /// `x-velt-auth-token`.
    pub auth_token: Secret,
}

/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "VELT_API_KEY";
/// Environment variable holding the auth token.
pub const AUTH_TOKEN_ENV: &str = "VELT_AUTH_TOKEN";

/// The API base: https, or plain http only to a loopback address (a rehearsal against the
/// fake server), never plain http across a network with the secrets in its headers.
pub fn api_base(text: &str) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(text).map_err(|e| Error::Usage(format!("--api-base '{text}' is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::Usage(format!(
            "--api-base '{text}' is plain http; use https (plain http is allowed only for loopback addresses)"
        ))),
        other => Err(Error::Usage(format!("--api-base must be an https URL, not {other}:"))),
    }
}

/// Validates the server flags. Credentials come from the environment (or the flags, with a
/// warning); they are required unless `dry_run`.
pub fn upload_settings(args: &UploadArgs, dry_run: bool) -> Result<UploadSettings, Error> {
    let api_base = api_base(&args.api_base)?;
    // Flags, then the environment, then the config file.
    let secret = |flag: &Option<String>, file: &Option<Secret>, flag_name: &str, env: &str| -> Result<Secret, Error> {
        if let Some(value) = flag {
            eprintln!("warning: {flag_name} puts the secret in shell history and process lists; set {env} instead");
            return Ok(Secret::new(value.clone()));
        }
        match (std::env::var(env), file) {
            (Ok(v), _) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            (_, Some(s)) => Ok(s.clone()),
            _ if dry_run => Ok(Secret::new("")),
            _ => Err(Error::Credentials(format!(
                "{env} is not set; export it (or use {flag_name})"
            ))),
        }
    };
    let files = &args.file_secrets;
    let credentials = Credentials {
        api_key: secret(&args.api_key, &files.api_key, "--api-key", API_KEY_ENV)?,
        auth_token: secret(&args.auth_token, &files.auth_token, "--auth-token", AUTH_TOKEN_ENV)?,
    };
    if args.chunk_size == 0 || args.member_chunk_size == 0 {
        return Err(Error::Usage(
            "--chunk-size and --member-chunk-size must be at least 1".into(),
        ));
    }
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err(Error::Usage(format!(
            "--rate must be a positive number of requests per second, not {}",
            args.rate
        )));
    }
    let burst =
        std::num::NonZeroU32::new(args.burst).ok_or_else(|| Error::Usage("--burst must be at least 1".into()))?;
    if args.concurrency == 0 {
        return Err(Error::Usage("--concurrency must be at least 1".into()));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(Error::Usage("--timeout must be a positive number of seconds".into()));
    }
    if args.backoff_min_ms == 0 || args.backoff_max_ms < args.backoff_min_ms {
        return Err(Error::Usage(
            "--backoff-min-ms must be at least 1 and at most --backoff-max-ms".into(),
        ));
    }
    Ok(UploadSettings {
        api_base,
        credentials,
        chunk_size: args.chunk_size,
        member_chunk_size: args.member_chunk_size,
        rate: args.rate,
        burst,
        concurrency: args.concurrency,
        max_retries: args.max_retries,
        timeout: std::time::Duration::from_secs_f64(args.timeout),
        create_organization: args.create_organization,
        backoff_base: std::time::Duration::from_millis(args.backoff_min_ms),
        backoff_cap: std::time::Duration::from_millis(args.backoff_max_ms),
    })
}

//! The server options: where to send, with which credentials, how hard to push.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use super::{default, SettingsError};
use crate::cli::{RateArg, ServerOptions};
use crate::secret::{Credentials, Secret, API_KEY_ENV, AUTH_TOKEN_ENV};
use crate::upload::{Rate, UploadSettings};

/// The API base: https, or plain http only to a loopback address (a rehearsal against the
/// fake server), never plain http across a network with the secrets in its headers.
pub fn api_base(text: &str) -> Result<reqwest::Url, SettingsError> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        // The text is echoed only when it cannot hold a password (`user:pass@host`).
        let shown = if text.contains('@') { "the value" } else { text };
        SettingsError::invalid("--api-base", format!("'{shown}' is not a URL: {e}"))
    })?;
    let loopback = crate::upload::is_loopback(&url);
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        // Not echoed: a user name and password in the URL are credentials.
        return Err(SettingsError::invalid(
            "--api-base",
            "must be a plain base URL, without a user name, password, query or fragment (credentials go in VELT_API_KEY and VELT_AUTH_TOKEN)",
        ));
    }
    // A path prefix (a gateway's `/velt`) is kept: the endpoints' paths are joined under it,
    // which needs it to end with a slash.
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(SettingsError::invalid(
            "--api-base",
            format!("'{text}' is plain http; use https (plain http is allowed only for loopback addresses)"),
        )),
        other => Err(SettingsError::invalid(
            "--api-base",
            format!("must be an https URL, not {other}:"),
        )),
    }
}

/// Validates the server options. Credentials are required unless `dry_run`.
pub(super) fn upload_settings(args: ServerOptions, dry_run: bool) -> Result<UploadSettings, SettingsError> {
    let api_base = api_base(args.api_base.as_deref().unwrap_or(default::API_BASE))?;
    let secret = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (api_key, auth_token) = (secret(args.api_key), secret(args.auth_token));
    let missing: Vec<&'static str> = [(API_KEY_ENV, &api_key), (AUTH_TOKEN_ENV, &auth_token)]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(env, _)| env)
        .collect();
    if !missing.is_empty() && !dry_run {
        return Err(SettingsError::MissingCredentials(missing));
    }
    let credentials = Credentials {
        api_key: Secret::new(api_key.unwrap_or_default()),
        auth_token: Secret::new(auth_token.unwrap_or_default()),
    };
    let chunk_size = args.chunk_size.unwrap_or(default::CHUNK_SIZE);
    let member_chunk_size = args.member_chunk_size.unwrap_or(default::MEMBER_CHUNK_SIZE);
    let user_chunk_size = args.user_chunk_size.unwrap_or(default::USER_CHUNK_SIZE);
    if chunk_size == 0 || member_chunk_size == 0 || user_chunk_size == 0 {
        return Err(SettingsError::invalid(
            "--chunk-size, --member-chunk-size and --user-chunk-size",
            "must be at least 1",
        ));
    }
    // Bounded so every rate has a period a clock can hold: a request every 1000 s at the
    // slowest, a million a second at the fastest.
    let per_second = |flag: &'static str, rate: f64| {
        if !(rate.is_finite() && rate > 0.0) {
            Err(SettingsError::invalid(
                flag,
                format!("must be a positive number of requests per second, not {rate}"),
            ))
        } else if !(0.001..=1_000_000.0).contains(&rate) {
            Err(SettingsError::invalid(
                flag,
                format!("must be between 0.001 and 1000000 requests per second, not {rate}"),
            ))
        } else {
            Ok(rate)
        }
    };
    // Checked with a fixed --rate too: a config file shared by both kinds of run must not
    // hide a typo until the day it runs with `auto`.
    let max_rate = per_second("--max-rate", args.max_rate.unwrap_or(default::MAX_RATE))?;
    let rate = match args.rate.unwrap_or(RateArg::PerSecond(default::RATE)) {
        RateArg::Auto => Rate::Auto { max: max_rate },
        RateArg::PerSecond(r) => Rate::Fixed(per_second("--rate", r)?),
    };
    let burst = NonZeroU32::new(args.burst.unwrap_or(default::BURST))
        .ok_or_else(|| SettingsError::invalid("--burst", "must be at least 1"))?;
    let concurrency = args.concurrency.unwrap_or(default::CONCURRENCY);
    if concurrency == 0 {
        return Err(SettingsError::invalid("--concurrency", "must be at least 1"));
    }
    let timeout = args.timeout.unwrap_or(default::TIMEOUT_SECONDS);
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(SettingsError::invalid(
            "--timeout",
            "must be a positive number of seconds",
        ));
    }
    if timeout > 86_400.0 {
        return Err(SettingsError::invalid(
            "--timeout",
            "must be at most 86400 seconds (a day)",
        ));
    }
    let backoff_min = args.backoff_min_ms.unwrap_or(default::BACKOFF_MIN_MS);
    let backoff_max = args.backoff_max_ms.unwrap_or(default::BACKOFF_MAX_MS);
    if backoff_min == 0 || backoff_max < backoff_min {
        return Err(SettingsError::invalid(
            "--backoff-min-ms",
            "must be at least 1 and at most --backoff-max-ms",
        ));
    }
    let extra_roots = args
        .ca_file
        .as_deref()
        .map(ca_certificates)
        .transpose()?
        .unwrap_or_default();
    Ok(UploadSettings {
        api_base,
        extra_roots,
        credentials,
        chunk_size,
        member_chunk_size,
        rate,
        burst,
        concurrency,
        max_retries: args.max_retries.unwrap_or(default::MAX_RETRIES),
        timeout: Duration::from_secs_f64(timeout),
        create_organization: args.create_organization,
        user_chunk_size,
        access_role: args.access_role.map(|r| r.as_str().to_owned()),
        backoff_base: Duration::from_millis(backoff_min),
        backoff_cap: Duration::from_millis(backoff_max),
    })
}

/// The certificates of a `--ca-file`, read now so that a wrong file stops the run before
/// anything is read or sent, not at the first request.
fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, SettingsError> {
    let fail = |detail: String| SettingsError::CaFile {
        path: path.to_owned(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    // reqwest skips what is not a certificate block, so a DER file or a key reads as "none".
    let certs = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| fail(format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        let hint = if bytes.first() == Some(&0x30) {
            " (it looks like DER; convert it: openssl x509 -inform der -in FILE -out ca.pem)"
        } else {
            ""
        };
        return Err(fail(format!(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----){hint}"
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_must_hold_a_pem_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = ca_certificates(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.pem: cannot be read"), "{err}");
        let der = dir.path().join("ca.der");
        std::fs::write(&der, [0x30, 0x82, 0x01, 0x0a]).unwrap();
        let err = ca_certificates(&der).unwrap_err().to_string();
        assert!(
            err.contains("holds no PEM certificate") && err.contains("looks like DER"),
            "{err}"
        );
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
        let err = ca_certificates(&key).unwrap_err().to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }

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
}

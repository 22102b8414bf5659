//! The HTTP side of uploading: the client (rustls, timeouts, the secrets as sensitive
//! headers) and one POST whose every outcome, transport failures included, is an [`Answer`].

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use thiserror::Error;

use super::api::{self, Answer};
use super::sanitize;
use super::UploadSettings;
use crate::plan::Endpoint;

/// The HTTP client cannot be set up.
#[derive(Debug, Error)]
pub enum ClientError {
    /// A credential holds a character an HTTP header cannot carry.
    #[error("the {0} value has characters a header cannot carry")]
    Header(&'static str),
    /// TLS or the client itself could not start.
    #[error("cannot set up HTTPS: {0}")]
    Tls(#[source] reqwest::Error),
}

/// The most bytes of an answer read; Velt's answers are a few kilobytes per chunk.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Builds the HTTP client: rustls, timeouts, the secrets as sensitive default headers
/// (reqwest keeps sensitive values out of its `Debug` output), and no redirects: a redirect
/// would carry the secrets to wherever it points, and its answer would be believed.
///
/// Trusted: the bundled Mozilla roots, the operating system's store (where a company installs
/// the CA of its TLS-inspecting proxy) and `--ca-file`. Proxies come from `HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (any case), and on Windows and macOS from the
/// system's settings too: reqwest reads them when the client is built. A loopback
/// `--api-base` is never proxied: the server is on this machine, and plain http to a proxy
/// would hand it both credentials in clear text.
pub fn client(settings: &UploadSettings) -> Result<reqwest::Client, ClientError> {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-velt-api-key", settings.credentials.api_key.expose()),
        ("x-velt-auth-token", settings.credentials.auth_token.expose()),
    ] {
        let mut value = HeaderValue::from_str(value).map_err(|_| ClientError::Header(name))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut builder = reqwest::Client::builder();
    if is_loopback(&settings.api_base) {
        builder = builder.no_proxy();
    }
    for cert in &settings.extra_roots {
        builder = builder.add_root_certificate(cert.clone());
    }
    builder
        .default_headers(headers)
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("velt-groups/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ClientError::Tls)
}

/// Whether a URL names this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Posts `body` and classifies the answer; every transport failure is an [`Answer`] too.
/// Every text the answer carries is cleaned here ([`sanitize::answer`]), before anything
/// stores or prints it.
pub(super) async fn post(
    client: &reqwest::Client,
    settings: &UploadSettings,
    endpoint: Endpoint,
    body: Bytes,
) -> Answer {
    let secrets = [
        settings.credentials.api_key.expose(),
        settings.credentials.auth_token.expose(),
    ];
    let answer = exchange(client, settings, api::path(endpoint), body, api::classify).await;
    sanitize::answer(answer, &secrets)
}

/// Posts a `users/get` page request: a 2xx is read as a page of users, anything else as
/// [`post`] reads it; the users are left as the server sent them (they are compared, not
/// printed: see [`sanitize::answer`]).
pub(super) async fn get_users(client: &reqwest::Client, settings: &UploadSettings, body: Bytes) -> Answer {
    let secrets = [
        settings.credentials.api_key.expose(),
        settings.credentials.auth_token.expose(),
    ];
    let answer = exchange(
        client,
        settings,
        api::GET_USERS,
        body,
        |status, retry_after, body, now| {
            if (200..300).contains(&status) {
                api::users_page(status, body)
            } else {
                api::classify(status, retry_after, body, now)
            }
        },
    )
    .await;
    sanitize::answer(answer, &secrets)
}

/// How an answer's status, `Retry-After` and body become an [`Answer`].
type Reader = fn(u16, Option<&str>, &[u8], SystemTime) -> Answer;

async fn exchange(
    client: &reqwest::Client,
    settings: &UploadSettings,
    path: &str,
    body: Bytes,
    read: Reader,
) -> Answer {
    // Relative to the base, so a prefix in --api-base (`https://gw.example/velt/`) is kept;
    // the base always ends with a slash (settings::api_base).
    let url = match settings.api_base.join(path.trim_start_matches('/')) {
        Ok(url) => url,
        Err(e) => return Answer::Fatal(format!("bad --api-base: {e}")),
    };
    let sent = client.post(url).body(body).send().await;
    match sent {
        Ok(resp) if resp.status().is_redirection() => {
            let location = resp
                .headers()
                .get(LOCATION)
                .map_or("nowhere".into(), |v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            Answer::Fatal(format!(
                "HTTP {}: the server redirects to {location}; redirects are not followed (nothing was sent there); check --api-base",
                resp.status().as_u16()
            ))
        }
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match read_capped(resp, MAX_ANSWER_BYTES).await {
                Ok(bytes) => read(status, retry_after.as_deref(), &bytes, SystemTime::now()),
                Err(Read::TooLarge) => Answer::Fatal(format!(
                    "HTTP {status}: the answer is larger than {} MB; it was not read, and these items are not confirmed",
                    MAX_ANSWER_BYTES / (1024 * 1024)
                )),
                Err(Read::Cut(e)) => {
                    Answer::Transient(format!("HTTP {status}: the answer was cut off ({})", root_cause(&e)))
                }
            }
        }
        Err(e) if e.is_timeout() => Answer::Overloaded(format!(
            "no answer within {}s (--timeout)",
            settings.timeout.as_secs_f64()
        )),
        Err(e) if e.is_connect() => Answer::Transient(format!("cannot connect: {}", root_cause(&e))),
        Err(e) => Answer::Transient(format!("connection failed: {}", root_cause(&e))),
    }
}

/// Why an answer's body was not read whole.
enum Read {
    /// It is longer than the cap.
    TooLarge,
    /// The connection broke.
    Cut(reqwest::Error),
}

/// Reads the body a chunk at a time, stopping past `max` bytes, so a runaway answer costs
/// `max` bytes of memory, not its length.
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Bytes, Read> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(Read::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Read::Cut)? {
        if body.len() + chunk.len() > max {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The innermost cause, which says what happened ("connection reset by peer") where the outer
/// layers only say where.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

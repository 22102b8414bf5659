//! `--notify URL`: a JSON message to each webhook after the run. The body has a `text` field,
//! which Slack, Microsoft Teams workflow and Mattermost incoming webhooks show as the message,
//! and the run's record under `velt_groups` for anything else. It carries counts, group names
//! and the report's path, never a credential or a row's data.
//!
//! Bounded: the whole step takes at most [`TOTAL`]; an attempt at most [`ATTEMPT`]; one retry,
//! only after a quick failure (a 5xx, a refused connection). Redirects are never followed. The
//! URL carries a token: it is named by its place in the list and its host only, and scrubbed
//! from every error text.

use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use super::Record;
use crate::console::log::{self, Event, Level};
use crate::console::{self, count};
use crate::secret::Secret;
use crate::upload::{root_cause, sanitize};

/// The most the notification step adds to a run.
pub const TOTAL: Duration = Duration::from_secs(15);
/// The most one attempt takes.
pub const ATTEMPT: Duration = Duration::from_secs(10);
/// A failure faster than this may be retried (once).
const QUICK: Duration = Duration::from_secs(5);
/// The pause before the retry.
const PAUSE: Duration = Duration::from_secs(1);
/// The most bytes of a webhook's error answer read (for the log).
const MAX_ANSWER: usize = 4096;

/// How one webhook fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its place in the list, from 1.
    pub webhook: usize,
    /// Its host, the one part of the URL shown.
    pub host: String,
    /// The HTTP status it accepted the message with, or why it did not.
    pub result: Result<u16, String>,
}

/// Sends the notification for `record` to every URL, at once, within [`TOTAL`]; logs each
/// outcome.
pub fn send(urls: &[Secret], record: &Record) -> Vec<Delivery> {
    let body = Bytes::from(body(record).to_string());
    let hosts: Vec<String> = urls
        .iter()
        .map(|u| {
            url::Url::parse(u.expose())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let results = deliver_all(urls, body);
    let deliveries: Vec<Delivery> = results
        .into_iter()
        .zip(hosts)
        .enumerate()
        .map(|(i, (result, host))| Delivery {
            webhook: i + 1,
            host,
            result,
        })
        .collect();
    for d in &deliveries {
        let fields = json!({"webhook": d.webhook, "host": d.host});
        match &d.result {
            Ok(status) => {
                let mut fields = fields;
                fields["status"] = (*status).into();
                log::event(Level::Info, Event::NotificationSent, fields);
            }
            Err(e) if log::json() => {
                let mut fields = fields;
                fields["error"] = e.clone().into();
                log::event(Level::Error, Event::NotificationFailed, fields);
            }
            Err(e) => console::error(format!(
                "notification to webhook {} of {} ({}) failed: {e}; the exit code is unchanged",
                d.webhook,
                urls.len(),
                d.host
            )),
        }
    }
    deliveries
}

fn deliver_all(urls: &[Secret], body: Bytes) -> Vec<Result<u16, String>> {
    let failed = |why: String| urls.iter().map(|_| Err(why.clone())).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return failed(format!("cannot start the async runtime: {e}")),
    };
    // A loopback webhook (plain http is allowed only there) is never sent through a proxy:
    // the proxy would read its token in clear text.
    let build = |direct: bool| {
        let builder = reqwest::Client::builder();
        let builder = if direct { builder.no_proxy() } else { builder };
        builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT)
            .connect_timeout(QUICK)
            .user_agent(concat!("velt-groups/", env!("CARGO_PKG_VERSION")))
            .build()
    };
    let (proxied, direct) = match (build(false), build(true)) {
        (Ok(p), Ok(d)) => (p, d),
        (Err(e), _) | (_, Err(e)) => return failed(format!("cannot set up the HTTP client: {}", root_cause(&e))),
    };
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + TOTAL;
        let each = urls.iter().map(|url| async {
            let loopback = url::Url::parse(url.expose()).is_ok_and(|u| crate::upload::is_loopback(&u));
            let client = if loopback { &direct } else { &proxied };
            let delivered = tokio::time::timeout_at(deadline, deliver(client, url, body.clone(), deadline)).await;
            let result = delivered.unwrap_or_else(|_| {
                Err(format!(
                    "no answer within {} s (the notification step's bound)",
                    TOTAL.as_secs()
                ))
            });
            // Whatever a server or the network said, the URL (its token) is not repeated.
            result.map_err(|e| scrub(&e, url))
        });
        futures_util::future::join_all(each).await
    })
}

/// Removes the URL, its path (where Slack's token is), and its query's and user part's values
/// (where a Teams workflow's `sig=` or a password is), from `text`.
fn scrub(text: &str, url: &Secret) -> String {
    let mut parts = vec![url.expose().to_owned()];
    if let Ok(u) = url::Url::parse(url.expose()) {
        if u.path().len() > 1 {
            parts.push(u.path().to_owned());
        }
        // Only values long enough to be a token: `api-version=2016-06-01` stays readable.
        let long = |v: &str| v.chars().count() >= crate::secret::MIN_CHARS;
        parts.extend(u.query_pairs().map(|(_, v)| v.into_owned()).filter(|v| long(v)));
        parts.extend(u.password().map(str::to_owned));
        parts.push(u.to_string());
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    sanitize::text(text, &parts)
}

/// Why an attempt failed, and whether a retry may help.
struct Failure {
    why: String,
    retry: bool,
}

async fn deliver(
    client: &reqwest::Client,
    url: &Secret,
    body: Bytes,
    deadline: tokio::time::Instant,
) -> Result<u16, String> {
    let started = tokio::time::Instant::now();
    match attempt(client, url, body.clone()).await {
        Ok(status) => Ok(status),
        Err(f)
            if f.retry
                && started.elapsed() < QUICK
                && deadline.saturating_duration_since(tokio::time::Instant::now()) > PAUSE =>
        {
            tokio::time::sleep(PAUSE).await;
            attempt(client, url, body)
                .await
                .map_err(|again| format!("{} (and again after a retry: {})", f.why, again.why))
        }
        Err(f) => Err(f.why),
    }
}

async fn attempt(client: &reqwest::Client, url: &Secret, body: Bytes) -> Result<u16, Failure> {
    let sent = client
        .post(url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) if e.is_timeout() => {
            return Err(Failure {
                why: format!("no answer within {} s", ATTEMPT.as_secs()),
                retry: false,
            })
        }
        Err(e) if e.is_connect() => {
            return Err(Failure {
                why: format!("cannot connect: {}", root_cause(&e.without_url())),
                retry: true,
            })
        }
        Err(e) => {
            return Err(Failure {
                why: format!("connection failed: {}", root_cause(&e.without_url())),
                retry: false,
            })
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    if status.is_redirection() {
        // Where it points is not said: a redirect may carry the token on.
        return Err(Failure {
            why: format!(
                "HTTP {}: the webhook redirects; redirects are not followed",
                status.as_u16()
            ),
            retry: false,
        });
    }
    let said = answer_text(resp).await;
    Err(Failure {
        why: format!("HTTP {}{said}", status.as_u16()),
        retry: status.is_server_error(),
    })
}

/// The start of an error answer (`: invalid_token`), or nothing.
async fn answer_text(mut resp: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ANSWER {
        match tokio::time::timeout(Duration::from_secs(1), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX_ANSWER);
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text.trim().chars().take(200).collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The message: `text` for chat tools, the record under its own key for anything else.
pub fn body(record: &Record) -> serde_json::Value {
    let shared = Record {
        error: record.shared_error.clone(),
        ..record.clone()
    };
    json!({"text": paragraph(&shared), "velt_groups": shared})
}

/// One paragraph a person reads in a chat channel.
pub fn paragraph(record: &Record) -> String {
    let host = record.host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default();
    let how = match record.outcome {
        "success" => "succeeded".to_owned(),
        "drift" => "found drift".to_owned(),
        "incomplete" => "finished with work left undone".to_owned(),
        _ => "failed".to_owned(),
    };
    let mut parts = vec![format!(
        "velt-groups {}{host} {how} (exit {}).",
        record.command, record.exit_code
    )];
    if let Some(error) = &record.error {
        parts.push(format!(
            "{}.",
            error.lines().collect::<Vec<_>>().join(" ").trim_end_matches('.')
        ));
    }
    if let Some(s) = &record.summary {
        if let Some(stopped) = &s.stopped {
            parts.push(format!("Stopped: {}.", stopped.trim_end_matches('.')));
        }
        let counts =
            |what: &str,
             by_org: &std::collections::BTreeMap<String, std::collections::BTreeMap<&'static str, usize>>| {
                by_org
                    .iter()
                    .map(|(org, counts)| {
                        let c: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
                        format!("{what}{org}: {}", c.join(", "))
                    })
                    .collect::<Vec<_>>()
            };
        let mut lines = counts("groups in ", &s.organizations);
        lines.extend(counts("organization users in ", &s.users));
        lines.extend(counts("memberships in ", &s.memberships));
        if !lines.is_empty() {
            parts.push(format!("{}.", lines.join("; ")));
        }
        if s.requests > 0 {
            parts.push(format!(
                "{}, {}, {} answered 429.",
                count(s.requests as usize, "request"),
                count(s.retries as usize, "retry"),
                s.rate_limited
            ));
        }
    }
    if !record.failed_groups.is_empty() {
        let more = match record.more_failed {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        parts.push(format!("Not added: {}{more}.", record.failed_groups.join(", ")));
    }
    if let Some(n) = record.rows_held_back.filter(|n| *n > 0) {
        parts.push(format!("{} held back.", count(n, "input row")));
    }
    if let Some(d) = &record.differences {
        let total: usize = d.values().flat_map(|k| k.values()).sum();
        let by_org: Vec<String> = d
            .iter()
            .filter(|(_, k)| k.values().any(|n| *n > 0))
            .map(|(org, k)| {
                let c: Vec<String> = k
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect();
                format!("{org}: {}", c.join(", "))
            })
            .collect();
        let detail = if by_org.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_org.join("; "))
        };
        parts.push(format!("{}{detail}.", count(total, "difference")));
    }
    if let Some(report) = record.summary.as_ref().and_then(|s| s.report.as_deref()) {
        parts.push(format!("Report: {report}."));
    }
    parts.push(format!("Run {}.", record.run_id));
    parts.join(" ")
}

/// The machine's name, for the message (a fleet of hosts runs the same job).
pub fn hostname() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            return (!name.is_empty()).then_some(name);
        }
        None
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok()
    }
}

#[cfg(test)]
mod tests {
    /// What a webhook server answers may quote its own URL's token in any part of it.
    #[test]
    fn a_webhook_error_keeps_no_part_of_its_token() {
        let url = crate::secret::Secret::new(
            "https://prod-1.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=Zx9SigNatureTokenValue1",
        );
        for said in [
            "HTTP 401: signature 'Zx9SigNatureTokenValue1' is invalid",
            "HTTP 401: https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=Zx9SigNatureTokenValue1",
        ] {
            let clean = super::scrub(said, &url);
            assert!(!clean.contains("Zx9SigNatureTokenValue1"), "{clean}");
        }
        let slack = crate::secret::Secret::new("https://hooks.example/services/T0/B0/SlackTokenValue9");
        let clean = super::scrub("HTTP 404: no such hook /services/T0/B0/SlackTokenValue9", &slack);
        assert_eq!(clean, "HTTP 404: no such hook [redacted]");
    }
}

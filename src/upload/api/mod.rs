//! The Velt user-group API as the uploader speaks it: request bodies, and the one pure function
//! that decides what an answer means ([`classify`]). See `docs/velt-api.md`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::plan::Endpoint;

mod users;
pub use users::{get_users_body, users_page, ServerUser, UsersPage};

/// The path that adds user groups.
pub const ADD_GROUPS: &str = "/v2/organizations/usergroups/add";
/// The path that adds users to a group.
pub const ADD_MEMBERS: &str = "/v2/organizations/usergroups/users/add";
/// The path that removes users from a group.
pub const REMOVE_MEMBERS: &str = "/v2/organizations/usergroups/users/delete";

/// The path that makes users organization users.
pub const ADD_USERS: &str = "/v2/users/add";
/// The path that reads users back (by group or by ID).
pub const GET_USERS: &str = "/v2/users/get";

/// The path an endpoint is posted to.
pub fn path(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::AddGroups => ADD_GROUPS,
        Endpoint::AddUsers => ADD_USERS,
        Endpoint::AddMembers => ADD_MEMBERS,
        Endpoint::RemoveMembers => REMOVE_MEMBERS,
    }
}

/// The error an answer carries, for the report (empty for entries).
pub fn error_text(answer: &Answer) -> String {
    match answer {
        Answer::Entries(_) | Answer::Users(_) => String::new(),
        Answer::RateLimited { error, .. }
        | Answer::Transient(error)
        | Answer::Overloaded(error)
        | Answer::Refused(error)
        | Answer::Credentials(error)
        | Answer::Fatal(error) => error.clone(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddGroups<'a> {
    organization_id: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    create_organization: bool,
    organization_user_groups: Vec<GroupBody<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody<'a> {
    group_id: &'a str,
    group_name: &'a str,
}

/// The body of an add-groups request, built once so a retry resends the very same bytes.
pub fn add_groups_body<'a>(
    org: &str,
    create_organization: bool,
    groups: impl Iterator<Item = (&'a str, &'a str)>,
) -> Bytes {
    #[derive(Serialize)]
    struct Envelope<'a> {
        data: AddGroups<'a>,
    }
    let body = Envelope {
        data: AddGroups {
            organization_id: org,
            create_organization,
            organization_user_groups: groups
                .map(|(group_id, group_name)| GroupBody { group_id, group_name })
                .collect(),
        },
    };
    Bytes::from(serde_json::to_vec(&body).expect("plain strings serialize"))
}

/// The body of a `/v2/users/add` request: `(userId, name, email)`, empty name or e-mail left
/// out; `access_role` (`viewer`/`editor`) on every user when set.
pub fn add_users_body<'a>(
    org: &str,
    access_role: Option<&str>,
    users: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct User<'a> {
        user_id: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        name: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        email: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        access_role: Option<&'a str>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Users<'a> {
        organization_id: &'a str,
        users: Vec<User<'a>>,
    }
    #[derive(Serialize)]
    struct Envelope<'a> {
        data: Users<'a>,
    }
    let body = Envelope {
        data: Users {
            organization_id: org,
            users: users
                .map(|(user_id, name, email)| User {
                    user_id,
                    name,
                    email,
                    access_role,
                })
                .collect(),
        },
    };
    Bytes::from(serde_json::to_vec(&body).expect("plain strings serialize"))
}

/// The body of a users/add or users/delete request (same shape for both).
pub fn members_body<'a>(org: &str, group: &str, users: impl Iterator<Item = &'a str>) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Members<'a> {
        organization_id: &'a str,
        organization_user_group_id: &'a str,
        user_ids: Vec<&'a str>,
    }
    #[derive(Serialize)]
    struct Envelope<'a> {
        data: Members<'a>,
    }
    let body = Envelope {
        data: Members {
            organization_id: org,
            organization_user_group_id: group,
            user_ids: users.collect(),
        },
    };
    Bytes::from(serde_json::to_vec(&body).expect("plain strings serialize"))
}

/// One item's entry in an answer: in `result.data` of a 2xx, or in `error.details` of an
/// error answer that reports per item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    /// Whether the server added the item.
    #[serde(default)]
    pub success: bool,
    /// Why not, as a word: `already-exists`, `not-found`, `internal`...
    #[serde(default)]
    pub code: Option<String>,
    /// The server's words.
    #[serde(default)]
    pub message: Option<String>,
}

/// What one item's entry means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Added.
    Confirmed,
    /// Refused as a duplicate: it is there, which is what was asked.
    Exists,
    /// A passing failure of this item alone: send it again (alone, not with its chunk).
    Retry(String),
    /// Refused; resending cannot help.
    Failed(String),
}

/// Reads one item's entry. Rules (never on message text, which differs between Velt's pages):
/// `success: true` -> confirmed; `code: already-exists` -> exists; `code: internal` -> retry
/// this item; any other code, or `success: false` without one -> failed with the server's
/// message; no entry at all -> failed, "not confirmed". For a `removal`, `code: not-found`
/// is done: the user is not in the group, which is what was asked.
pub fn item_outcome(entry: Option<&Entry>, removal: bool) -> ItemOutcome {
    let Some(e) = entry else {
        return ItemOutcome::Failed("not confirmed by the server (no entry for it in the answer)".into());
    };
    let message = e.message.as_deref().unwrap_or("no reason given");
    match (e.success, e.code.as_deref()) {
        (true, _) => ItemOutcome::Confirmed,
        (false, Some("already-exists")) => ItemOutcome::Exists,
        (false, Some("not-found")) if removal => ItemOutcome::Confirmed,
        (false, Some("internal")) => ItemOutcome::Retry(format!("internal error on the server: {message}")),
        (false, Some(code)) => ItemOutcome::Failed(format!("refused by the server ({code}): {message}")),
        (false, None) => ItemOutcome::Failed(format!("refused by the server: {message}")),
    }
}

/// What an answer means for the groups of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 2xx: each group's outcome is its own entry; a group without one is not confirmed.
    Entries(HashMap<String, Entry>),
    /// 429: slow down; wait `retry_after` when the server says, then retry.
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// Status word and message, for the report.
        error: String,
    },
    /// 5xx but 504, or a broken connection: retry after a backoff.
    Transient(String),
    /// No answer within `--timeout`, or 504 or 408 (a gateway's or the server's own timeout):
    /// the server is slower than the pace. Retried as [`Answer::Transient`]; `--rate auto`
    /// also cuts the pace. (A 503 is no such sign: it says as often "down for maintenance".)
    Overloaded(String),
    /// 400: the request as a whole was refused; a chunk of several groups is split and resent.
    Refused(String),
    /// 401/403: the credentials are wrong; stop the run.
    Credentials(String),
    /// Any other 4xx, or a 2xx that cannot be read: fail these groups, no retry.
    Fatal(String),
    /// A page of `users/get`.
    Users(UsersPage),
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

/// An error answer that reports per item, as Velt's bulk endpoints do on partial failure.
#[derive(Deserialize)]
struct DetailsEnvelope {
    error: DetailsBody,
}

#[derive(Deserialize)]
struct DetailsBody {
    details: HashMap<String, Entry>,
}

#[derive(Deserialize)]
struct SuccessEnvelope {
    result: SuccessBody,
}

#[derive(Deserialize)]
struct SuccessBody {
    #[serde(default)]
    data: HashMap<String, Entry>,
}

/// Decides what an HTTP answer means. Rules:
/// - 2xx with `result.data` -> [`Answer::Entries`]; a 2xx body that does not decode -> `Fatal`
///   (retrying cannot make it readable, and its groups are not confirmed);
/// - any other status but 401, 403 and 429 whose body has per-item `error.details` ->
///   `Entries` too (a partial failure: read each item with [`item_outcome`]);
/// - 429 -> `RateLimited`, with `Retry-After` (seconds or an HTTP date) when present;
/// - 408 and 504 -> `Overloaded` (a timeout: the server is slower than the pace); every other
///   5xx -> `Transient`;
/// - 400 -> `Refused`; 401 and 403 -> `Credentials`; any other status -> `Fatal`.
///
/// Errors read as `STATUS_WORD (HTTP nnn): message` from Velt's error envelope.
pub fn classify(status: u16, retry_after: Option<&str>, body: &[u8], now: SystemTime) -> Answer {
    if (200..300).contains(&status) {
        return match serde_json::from_slice::<SuccessEnvelope>(body) {
            Ok(ok) => Answer::Entries(ok.result.data),
            Err(e) => Answer::Fatal(format!("HTTP {status}: the answer could not be read ({e})")),
        };
    }
    let error = describe(status, body);
    // A partial failure (Velt's bulk endpoints answer 500 and store the items that succeeded)
    // is read item by item; not for auth failures and 429s, which are about the call.
    if !matches!(status, 401 | 403 | 429) {
        if let Ok(d) = serde_json::from_slice::<DetailsEnvelope>(body) {
            if !d.error.details.is_empty() {
                return Answer::Entries(d.error.details);
            }
        }
    }
    match status {
        429 => Answer::RateLimited {
            retry_after: retry_after.and_then(|v| parse_retry_after(v, now)),
            error,
        },
        408 | 504 => Answer::Overloaded(error),
        500..=599 => Answer::Transient(error),
        400 => Answer::Refused(error),
        401 | 403 => Answer::Credentials(error),
        _ => Answer::Fatal(error),
    }
}

/// `UNAVAILABLE (HTTP 503): warming up`, or the status alone when the body says nothing.
fn describe(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(e) if !e.error.status.is_empty() || !e.error.message.is_empty() => {
            let word = if e.error.status.is_empty() {
                "ERROR"
            } else {
                &e.error.status
            };
            format!("{word} (HTTP {status}): {}", e.error.message)
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                // A proxy's HTML error page: a short, single-line excerpt is enough.
                let excerpt: String = text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(120)
                    .collect();
                format!("HTTP {status}: {excerpt}")
            }
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date; a date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        // try_from: a server may send 1e300 (found by fuzzing); that is no delay to honour.
        return (secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).ok()).flatten();
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;

//! The Velt user-group API as the uploader speaks it: request bodies, and the one pure function
//! that decides what an answer means ([`classify`]). See `docs/velt-api.md`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::plan::Endpoint;

/// The path that adds user groups.
pub const ADD_GROUPS: &str = "/v2/organizations/usergroups/add";
/// The path that adds users to a group.
pub const ADD_MEMBERS: &str = "/v2/organizations/usergroups/users/add";
/// The path that removes users from a group.
pub const REMOVE_MEMBERS: &str = "/v2/organizations/usergroups/users/delete";

/// The path an endpoint is posted to.
pub fn path(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::AddGroups => ADD_GROUPS,
        Endpoint::AddMembers => ADD_MEMBERS,
        Endpoint::RemoveMembers => REMOVE_MEMBERS,
    }
}

/// The error an answer carries, for the report (empty for entries).
pub fn error_text(answer: &Answer) -> String {
    match answer {
        Answer::Entries(_) => String::new(),
        Answer::RateLimited { error, .. }
        | Answer::Transient(error)
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

/// One group's (or user's) entry in a success answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    /// Whether the server added (or already had) the group.
    #[serde(default)]
    pub success: bool,
    /// The server's words.
    #[serde(default)]
    pub message: Option<String>,
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
    /// 5xx, 408, a timeout or a broken connection: retry after a backoff.
    Transient(String),
    /// 400: the request as a whole was refused; a chunk of several groups is split and resent.
    Refused(String),
    /// 401/403: the credentials are wrong; stop the run.
    Credentials(String),
    /// Any other 4xx, or a 2xx that cannot be read: fail these groups, no retry.
    Fatal(String),
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
/// - 429 -> `RateLimited`, with `Retry-After` (seconds or an HTTP date) when present;
/// - 408 and every 5xx -> `Transient`;
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
    match status {
        429 => Answer::RateLimited {
            retry_after: retry_after.and_then(|v| parse_retry_after(v, now)),
            error,
        },
        408 | 500..=599 => Answer::Transient(error),
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
mod tests {
    use super::*;

    fn at(status: u16, body: &str) -> Answer {
        classify(status, None, body.as_bytes(), SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn body_is_the_documented_envelope() {
        let body = add_groups_body(
            "acme",
            true,
            [("eng", "Engineering"), ("r-d", "R&D \"Labs\"")].into_iter(),
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"data": {"organizationId": "acme", "createOrganization": true,
                "organizationUserGroups": [{"groupId": "eng", "groupName": "Engineering"},
                                           {"groupId": "r-d", "groupName": "R&D \"Labs\""}]}})
        );
        let plain = add_groups_body("acme", false, [("eng", "E")].into_iter());
        assert!(!String::from_utf8_lossy(&plain).contains("createOrganization"));
        let members = members_body("acme", "eng", ["u1", "ada@x.io"].into_iter());
        let v: serde_json::Value = serde_json::from_slice(&members).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"data": {"organizationId": "acme", "organizationUserGroupId": "eng", "userIds": ["u1", "ada@x.io"]}})
        );
    }

    #[test]
    fn classification_table() {
        let err = |word: &str| format!(r#"{{"error": {{"message": "m", "status": "{word}"}}}}"#);
        let ok = r#"{"result": {"status": "success", "message": "x", "data": {
            "a": {"success": true, "id": "77ab", "message": "Organization user group added."},
            "b": {"success": false, "message": "nope"}}}}"#;
        match at(200, ok) {
            Answer::Entries(map) => {
                assert!(map["a"].success);
                assert_eq!(
                    map["b"],
                    Entry {
                        success: false,
                        message: Some("nope".into())
                    }
                );
                assert!(!map.contains_key("c"));
            }
            other => panic!("{other:?}"),
        }
        let table: Vec<(u16, String, Answer)> = vec![
            (
                429,
                err("RESOURCE_EXHAUSTED"),
                Answer::RateLimited {
                    retry_after: None,
                    error: "RESOURCE_EXHAUSTED (HTTP 429): m".into(),
                },
            ),
            (500, err("INTERNAL"), Answer::Transient("INTERNAL (HTTP 500): m".into())),
            (
                502,
                "<html><body>Bad   Gateway</body></html>".into(),
                Answer::Transient("HTTP 502: <html><body>Bad Gateway</body></html>".into()),
            ),
            (
                503,
                err("UNAVAILABLE"),
                Answer::Transient("UNAVAILABLE (HTTP 503): m".into()),
            ),
            (504, "".into(), Answer::Transient("HTTP 504".into())),
            (408, "".into(), Answer::Transient("HTTP 408".into())),
            (
                400,
                err("INVALID_ARGUMENT"),
                Answer::Refused("INVALID_ARGUMENT (HTTP 400): m".into()),
            ),
            (
                401,
                err("UNAUTHENTICATED"),
                Answer::Credentials("UNAUTHENTICATED (HTTP 401): m".into()),
            ),
            (
                403,
                err("PERMISSION_DENIED"),
                Answer::Credentials("PERMISSION_DENIED (HTTP 403): m".into()),
            ),
            (404, err("NOT_FOUND"), Answer::Fatal("NOT_FOUND (HTTP 404): m".into())),
            (
                409,
                err("ALREADY_EXISTS"),
                Answer::Fatal("ALREADY_EXISTS (HTTP 409): m".into()),
            ),
        ];
        for (status, body, want) in table {
            assert_eq!(at(status, &body), want, "HTTP {status}");
        }
        assert!(
            matches!(at(200, "not json"), Answer::Fatal(e) if e.starts_with("HTTP 200: the answer could not be read"))
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.5 ", now), Some(Duration::from_millis(500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(10)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(10));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        // Regression (fuzzing): a huge float made Duration::from_secs_f64 panic.
        assert_eq!(parse_retry_after("4444444E445", now), None);
        assert_eq!(parse_retry_after("1e300", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        match classify(429, Some("2"), b"", now) {
            Answer::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(2))),
            other => panic!("{other:?}"),
        }
    }
}

//! `users/get` as the read-back speaks it: the request for one group's members, and the page
//! of users it answers.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::Answer;

/// One page of users read back with `users/get`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsersPage {
    /// The users on this page.
    pub users: Vec<ServerUser>,
    /// The token of the next page; none on the last.
    pub next: Option<String>,
    /// The answer's size, for the read-back's bound on bytes.
    pub bytes: usize,
}

/// A user as the server holds them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerUser {
    /// `userId`.
    pub user_id: String,
    /// `name`, when the server has one.
    #[serde(default)]
    pub name: Option<String>,
    /// `email`, when the server has one.
    #[serde(default)]
    pub email: Option<String>,
}

/// Reads a 2xx answer of `users/get`: `result.data` is the list, and the next page's token is
/// `nextPageToken` (or `pageToken`, as one of Velt's pages spells it), on `result` or beside it.
/// An answer without `result.data` (or with `null` there) is unreadable, not an empty group:
/// taking it for one would report every member missing, and `--repair` would re-send them.
pub fn users_page(status: u16, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Result {
        data: Vec<ServerUser>,
        next_page_token: Option<String>,
        page_token: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        result: Result,
        next_page_token: Option<String>,
        page_token: Option<String>,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(e) => {
            let next = [
                e.result.next_page_token,
                e.result.page_token,
                e.next_page_token,
                e.page_token,
            ]
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty());
            Answer::Users(UsersPage {
                users: e.result.data,
                next,
                bytes: body.len(),
            })
        }
        Err(e) => Answer::Fatal(format!("HTTP {status}: the list of users could not be read ({e})")),
    }
}

/// The body of a `users/get` request for the members of one group.
pub fn get_users_body(org: &str, group: &str, page_size: usize, token: Option<&str>) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Get<'a> {
        organization_id: &'a str,
        organization_user_group_ids: [&'a str; 1],
        page_size: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        page_token: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Envelope<'a> {
        data: Get<'a>,
    }
    let body = Envelope {
        data: Get {
            organization_id: org,
            organization_user_group_ids: [group],
            page_size,
            page_token: token,
        },
    };
    Bytes::from(serde_json::to_vec(&body).expect("plain strings serialize"))
}

//! Reading back what the server holds: the members of each group, through `users/get`, page
//! by page. It is the only read Velt offers (there is no call to list groups), and it needs
//! "advanced queries" turned on in the Velt console. Every page takes a permit from the same
//! kind of limiter as the uploads, and is retried as they are.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::Semaphore;

use super::api::{self, Answer, ServerUser};
use super::http::{self, ClientError};
use super::pace::Pace;
use super::retry::{self, Decision, Tries};
use super::UploadSettings;

/// Users of one group at most (about 100 MB held): past it the list is not believed.
const MAX_USERS: usize = 1_000_000;

/// Users per page asked for; the server may send fewer (it pages anyway).
const PAGE_SIZE: usize = 1000;

/// Pages of one group at most: a server whose tokens never end must not keep the run forever
/// (or fill memory: a page is at most 8 MB). Ten thousand pages of a thousand users is far
/// beyond any organization.
const MAX_PAGES: usize = 10_000;

/// Why the server's members could not be read.
#[derive(Debug, Error)]
pub enum ReadbackError {
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// 401/403.
    #[error("the server refused to list users ({0}); check VELT_API_KEY and VELT_AUTH_TOKEN, and if an import works with them, turn on \"advanced queries\" in the Velt console, which users/get needs")]
    Credentials(String),
    /// The server will not list users: most likely "advanced queries" are off.
    #[error("the server will not list the users of a group ({0}); Velt's users/get needs \"advanced queries\": turn them on in the Velt console (Configurations), then run this again")]
    Refused(String),
    /// The server's pages never end.
    #[error("the server kept sending pages of the members of group '{group}' of {org} (more than {pages} pages or a million users); stopped rather than report a partial list")]
    TooManyPages {
        /// Organization.
        org: String,
        /// Group.
        group: String,
        /// The cap.
        pages: usize,
    },
    /// The server kept failing.
    #[error("cannot read the members of group '{group}' of {org}: {error}")]
    Failed {
        /// Organization.
        org: String,
        /// Group.
        group: String,
        /// The last failure.
        error: String,
    },
}

/// Per group ID, the users the server holds in it, by user ID.
pub type Members = BTreeMap<String, BTreeMap<String, ServerUser>>;

/// Reads the members of every group of `groups` in `org`.
pub async fn members(settings: &UploadSettings, org: &str, groups: &[String]) -> Result<Members, ReadbackError> {
    let client = http::client(settings)?;
    let pace = Arc::new(Pace::new(settings.rate, settings.burst));
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for group in groups {
        let (client, pace, slots) = (client.clone(), Arc::clone(&pace), Arc::clone(&slots));
        let (settings, org, group) = (settings.clone(), org.to_owned(), group.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("the semaphore is never closed");
            let users = group_members(&client, &settings, &pace, &org, &group).await;
            (group, users)
        });
    }
    let mut out = Members::new();
    while let Some(joined) = tasks.join_next().await {
        // A task only ends by returning; a panic would be a bug worth surfacing.
        let (group, users) = joined.expect("readback task panicked");
        out.insert(group, users?);
    }
    Ok(out)
}

async fn group_members(
    client: &reqwest::Client,
    settings: &UploadSettings,
    pace: &Pace,
    org: &str,
    group: &str,
) -> Result<BTreeMap<String, ServerUser>, ReadbackError> {
    let mut users = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut seen_tokens: HashMap<String, ()> = HashMap::new();
    for _ in 0..MAX_PAGES {
        let body = api::get_users_body(org, group, PAGE_SIZE, token.as_deref());
        let page = page(client, settings, pace, body).await.map_err(|e| match e {
            PageError::Credentials(e) => ReadbackError::Credentials(e),
            PageError::Refused(e) => ReadbackError::Refused(e),
            PageError::Failed(error) => ReadbackError::Failed {
                org: org.to_owned(),
                group: group.to_owned(),
                error,
            },
        })?;
        for user in page.users {
            users.insert(user.user_id.clone(), user);
        }
        if users.len() > MAX_USERS {
            break;
        }
        match page.next {
            // A token seen before would loop forever.
            Some(next) if seen_tokens.insert(next.clone(), ()).is_none() => token = Some(next),
            _ => return Ok(users),
        }
    }
    Err(ReadbackError::TooManyPages {
        org: org.to_owned(),
        group: group.to_owned(),
        pages: MAX_PAGES,
    })
}

enum PageError {
    Credentials(String),
    Refused(String),
    Failed(String),
}

/// One page, with the uploads' retry rules (429 pauses, 5xx retried with backoff).
async fn page(
    client: &reqwest::Client,
    settings: &UploadSettings,
    pace: &Pace,
    body: bytes::Bytes,
) -> Result<api::UsersPage, PageError> {
    let mut backoff = retry::Backoff::new(settings.backoff_base, settings.backoff_cap, fastrand::u64(..));
    let mut tries = Tries::default();
    loop {
        let sent = pace.permit().await;
        let answer = http::get_users(client, settings, body.clone()).await;
        match &answer {
            Answer::RateLimited { .. } => tries.rate_limited += 1,
            Answer::Transient(_) => tries.errors += 1,
            _ => {}
        }
        let decision = retry::decide(&answer, 1, tries, settings.max_retries, settings.backoff_cap, || {
            backoff.next().expect("endless")
        });
        match (decision, answer) {
            (_, Answer::Users(page)) => {
                pace.answered();
                return Ok(page);
            }
            (Decision::Halt, Answer::Credentials(e)) => return Err(PageError::Credentials(e)),
            (Decision::Pause(wait), _) => {
                pace.rate_limited(sent, wait);
                tokio::time::sleep(wait).await;
            }
            (Decision::Retry(wait), _) => tokio::time::sleep(wait).await,
            (_, answer @ Answer::Refused(_)) => return Err(PageError::Refused(api::error_text(&answer))),
            (_, answer) => return Err(PageError::Failed(api::error_text(&answer))),
        }
    }
}

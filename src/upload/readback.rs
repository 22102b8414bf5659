//! Reading back what the server holds: the members of each group, through `users/get`, page
//! by page. It is the only read Velt offers (there is no call to list groups), and it needs
//! "advanced queries" turned on in the Velt console. Every page takes a permit from the same
//! kind of limiter as the uploads, and is retried as they are.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::api::{self, Answer, ServerUser};
use super::http::{self, ClientError};
use super::pace::Pace;
use super::retry::{self, Decision, Tries};
use super::UploadSettings;

/// Users of one group at most (about 100 MB held): past it the list is not believed.
const MAX_USERS: usize = 1_000_000;

/// Users per page asked for; the server may send fewer (it pages anyway).
const PAGE_SIZE: usize = 1000;

/// Pages of one group at most: a server whose tokens never end must not keep the run forever.
/// Ten thousand pages of a thousand users is far beyond any organization.
const MAX_PAGES: usize = 10_000;

/// Pages in a row that list no one new (empty, or only users already listed) and still name
/// a next page: a server paging through a filter may send a few, one that sends more is not
/// getting anywhere (and at 5 requests a second would otherwise take the page cap's half hour
/// per group to say so).
const MAX_EMPTY_PAGES: usize = 5;

/// Answer bytes held at once: every list of a read-back that keeps them all (`--repair`), or
/// the lists in flight of one that compares each group and lets it go (`verify`). About
/// 600,000 users at a generous 200 bytes each. Each page is capped too (8 MB,
/// `http::MAX_ANSWER_BYTES`); this keeps a server padding its pages from filling memory one
/// page at a time.
pub const MAX_BYTES: usize = 128 * 1024 * 1024;

/// The longest one read-back (one organization's groups) may take, retries included.
pub const MAX_TIME: Duration = Duration::from_secs(30 * 60);

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
    /// The server's list cannot be believed whole: it never ends, goes round in a circle, or
    /// is too large; nothing was compared or sent.
    #[error("could not check the members of group '{group}' of {org}: {why}; nothing was compared or sent (check --api-base, or ask Velt support about users/get)")]
    Unbounded {
        /// Organization.
        org: String,
        /// Group.
        group: String,
        /// What went wrong.
        why: String,
    },
    /// The whole read-back took too long.
    #[error("could not check the members of {org}: reading them back took longer than {} minutes; nothing was compared or sent (try again when the server is less busy, or with a higher --rate)", MAX_TIME.as_secs() / 60)]
    TooSlow {
        /// Organization.
        org: String,
    },
    /// The server kept failing, or answered something that is not a list.
    #[error("could not check the members of group '{group}' of {org}: {error}")]
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

/// Reads the members of every group of `groups` in `org`, within [`MAX_TIME`] and
/// [`MAX_BYTES`]: a list that cannot be read whole is an error, never a shorter list.
pub async fn members(settings: &UploadSettings, org: &str, groups: &[String]) -> Result<Members, ReadbackError> {
    let mut out = Members::new();
    // Every list is kept, so the byte budget covers them all.
    each_group(settings, org, groups, Budget::Kept, MAX_BYTES, |group, users| {
        out.insert(group, users);
    })
    .await?;
    Ok(out)
}

/// Whether lists handed over count against [`MAX_BYTES`] after they are handed over.
#[derive(Clone, Copy, PartialEq)]
enum Budget {
    /// The caller keeps every list: the budget is for all of them.
    Kept,
    /// The caller compares each list and lets it go: the budget is for the lists in flight.
    Streamed,
}

/// Reads the members of every group of `groups` in `org` and hands each group's list to
/// `each`, in the order of `groups`, as soon as it and those before it are read. At most
/// `--concurrency` groups are read at once, and the lists not yet handed over (in flight, or
/// read ahead of a slower group) may come to at most [`MAX_BYTES`] together: memory is bounded
/// by bytes, whatever the size of the organization. Within [`MAX_TIME`] for them all.
pub async fn stream(
    settings: &UploadSettings,
    org: &str,
    groups: &[String],
    each: impl FnMut(String, BTreeMap<String, ServerUser>),
) -> Result<(), ReadbackError> {
    each_group(settings, org, groups, Budget::Streamed, MAX_BYTES, each).await
}

async fn each_group(
    settings: &UploadSettings,
    org: &str,
    groups: &[String],
    budget: Budget,
    limit: usize,
    each: impl FnMut(String, BTreeMap<String, ServerUser>),
) -> Result<(), ReadbackError> {
    tokio::time::timeout(MAX_TIME, read_in_order(settings, org, groups, budget, limit, each))
        .await
        .unwrap_or_else(|_| Err(ReadbackError::TooSlow { org: org.to_owned() }))
}

async fn read_in_order(
    settings: &UploadSettings,
    org: &str,
    groups: &[String],
    budget: Budget,
    limit: usize,
    mut each: impl FnMut(String, BTreeMap<String, ServerUser>),
) -> Result<(), ReadbackError> {
    let client = http::client(settings)?;
    let pace = Arc::new(Pace::new(settings.rate, settings.burst));
    let bytes = Arc::new(AtomicUsize::new(0));
    let window = settings.concurrency.max(1);
    let mut running = std::collections::VecDeque::new();
    let mut next = groups.iter();
    let result = loop {
        while running.len() < window {
            let Some(group) = next.next() else { break };
            let (client, pace, bytes) = (client.clone(), Arc::clone(&pace), Arc::clone(&bytes));
            let (settings, org, group) = (settings.clone(), org.to_owned(), group.clone());
            running.push_back(tokio::spawn(async move {
                let users = group_members(&client, &settings, &pace, (&bytes, limit), &org, &group).await;
                (group, users)
            }));
        }
        let Some(task) = running.pop_front() else { break Ok(()) };
        // A task only ends by returning; a panic would be a bug worth surfacing.
        let (group, users) = task.await.expect("readback task panicked");
        match users {
            Ok((users, read)) => {
                each(group, users);
                if budget == Budget::Streamed {
                    bytes.fetch_sub(read, Ordering::Relaxed);
                }
            }
            Err(e) => break Err(e),
        }
    };
    for task in running {
        task.abort();
    }
    result
}

async fn group_members(
    client: &reqwest::Client,
    settings: &UploadSettings,
    pace: &Pace,
    (bytes, limit): (&AtomicUsize, usize),
    org: &str,
    group: &str,
) -> Result<(BTreeMap<String, ServerUser>, usize), ReadbackError> {
    let unbounded = |why: String| ReadbackError::Unbounded {
        org: org.to_owned(),
        group: group.to_owned(),
        why,
    };
    let mut users = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut seen_tokens: HashSet<String> = HashSet::new();
    let mut empty_in_a_row = 0;
    let mut read = 0;
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
        read += page.bytes;
        let total = bytes.fetch_add(page.bytes, Ordering::Relaxed) + page.bytes;
        if total > limit {
            return Err(unbounded(format!(
                "the server's lists come to more than {} MB",
                limit / (1024 * 1024)
            )));
        }
        let before = users.len();
        users.extend(page.users.into_iter().map(|u| (u.user_id.clone(), u)));
        empty_in_a_row = if users.len() == before { empty_in_a_row + 1 } else { 0 };
        if users.len() > MAX_USERS {
            return Err(unbounded(format!("the server lists more than {MAX_USERS} users")));
        }
        let Some(next) = page.next else {
            return Ok((users, read));
        };
        // A token seen before would loop forever, and stopping there would take a partial
        // list for the whole one.
        if !seen_tokens.insert(next.clone()) {
            return Err(unbounded(
                "the server's page tokens go round in a circle (a page names an earlier page as the next)".into(),
            ));
        }
        if empty_in_a_row >= MAX_EMPTY_PAGES {
            return Err(unbounded(format!(
                "the server sent {MAX_EMPTY_PAGES} empty pages in a row (or pages listing no one new), each naming another page"
            )));
        }
        token = Some(next);
    }
    Err(unbounded(format!(
        "the server kept sending pages (more than {MAX_PAGES})"
    )))
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
            Answer::Overloaded(_) => {
                tries.errors += 1;
                pace.slow(sent);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use fake_velt::{FakeConfig, FakeVelt, OrgUser};

    /// A fake server with six groups of forty members each, and settings for it (one group
    /// read at a time).
    fn server() -> (FakeVelt, UploadSettings, Vec<String>) {
        let fake = FakeVelt::start(FakeConfig::default());
        let groups: Vec<String> = (0..6).map(|g| format!("g{g}")).collect();
        for (g, group) in groups.iter().enumerate() {
            fake.add_group("acme", group, group);
            for u in 0..40 {
                let user = format!("u{g}-{u}");
                fake.add_org_user("acme", &user, OrgUser::default());
                fake.add_member("acme", group, &user);
            }
        }
        let settings = UploadSettings {
            api_base: fake.url().parse().unwrap(),
            credentials: crate::secret::Credentials {
                api_key: crate::secret::Secret::new(fake_velt::API_KEY),
                auth_token: crate::secret::Secret::new(fake_velt::AUTH_TOKEN),
            },
            extra_roots: Vec::new(),
            chunk_size: 100,
            member_chunk_size: 100,
            rate: super::super::Rate::Fixed(1000.0),
            burst: std::num::NonZeroU32::new(10).unwrap(),
            concurrency: 1,
            max_retries: 1,
            timeout: Duration::from_secs(10),
            create_organization: false,
            user_chunk_size: 100,
            access_role: None,
            backoff_base: Duration::from_millis(5),
            backoff_cap: Duration::from_millis(50),
        };
        (fake, settings, groups)
    }

    /// Issue 22: a read-back that compares each group and lets it go holds the lists in flight
    /// only, so a budget too small for the organization (but enough for a group or two) still
    /// reads every group, in order; one that keeps every list is stopped by the same budget.
    #[test]
    fn a_streamed_read_back_is_bounded_by_the_lists_in_flight_not_the_organization() {
        let (_fake, settings, groups) = server();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let client = http::client(&settings).unwrap();
        let pace = Pace::new(settings.rate, settings.burst);
        let (one, read) = runtime
            .block_on(group_members(
                &client,
                &settings,
                &pace,
                (&AtomicUsize::new(0), MAX_BYTES),
                "acme",
                "g0",
            ))
            .unwrap();
        assert_eq!(one.len(), 40);
        let limit = read * 5 / 2;
        let mut seen = Vec::new();
        runtime
            .block_on(each_group(
                &settings,
                "acme",
                &groups,
                Budget::Streamed,
                limit,
                |g, users| {
                    seen.push((g, users.len()));
                },
            ))
            .unwrap();
        let want: Vec<(String, usize)> = groups.iter().map(|g| (g.clone(), 40)).collect();
        assert_eq!(seen, want);
        let kept = runtime.block_on(each_group(&settings, "acme", &groups, Budget::Kept, limit, |_, _| {}));
        assert!(
            matches!(&kept, Err(ReadbackError::Unbounded { why, .. }) if why.contains("more than")),
            "{kept:?}"
        );
    }
}

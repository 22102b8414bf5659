//! Uploading: sends groups to `POST /v2/organizations/usergroups/add`, chunked per
//! organization, as fast as the pace allows and never faster, and learns the outcome of every
//! single group.
//!
//! - Every request, retries included, takes a permit from the shared [`pace::Pace`];
//!   `--concurrency` bounds requests in flight.
//! - 429, 5xx, 408, timeouts and broken connections are retried with capped exponential
//!   backoff; a 429 pauses every sender (see [`pace`]).
//! - A 400 on a chunk of several groups splits it in two and resends both halves, so one bad
//!   group (or a server cap below `--chunk-size`) cannot sink the others.
//! - 401/403 stops the run at once; so does a server that is plainly down (several chunks in a
//!   row failed after all their retries): groups never sent are reported "not attempted".
//! - A group is added only when its own entry in `result.data` says so.

pub mod api;
pub mod pace;
pub mod progress;
pub mod retry;

use std::collections::VecDeque;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::watch;

use crate::settings::Credentials;
use api::Answer;
use pace::Pace;
use progress::Progress;

/// Chunks in a row that failed after all their retries before the server counts as down.
pub const DOWN_AFTER_CHUNKS: usize = 5;

/// A 429 does not spend the retry budget like an error does (the server says when, not that it
/// failed), but a chunk stops after this many times `--max-retries` of them.
const RATE_LIMIT_BUDGET: u32 = 4;

/// How the uploader talks to the server.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// API base URL, e.g. `https://api.velt.dev`.
    pub api_base: reqwest::Url,
    /// API key and auth token.
    pub credentials: Credentials,
    /// Groups per request.
    pub chunk_size: usize,
    /// User IDs per membership request.
    pub member_chunk_size: usize,
    /// Requests per second.
    pub rate: f64,
    /// Requests allowed at once by the limiter.
    pub burst: NonZeroU32,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries per request after the first attempt.
    pub max_retries: u32,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Sets `createOrganization`.
    pub create_organization: bool,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay (also the longest `Retry-After` honoured).
    pub backoff_cap: Duration,
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v2/organizations/usergroups/add`.
    AddGroups,
    /// `POST /v2/organizations/usergroups/users/add`.
    AddMembers,
    /// `POST /v2/organizations/usergroups/users/delete`.
    RemoveMembers,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::AddGroups => api::ADD_GROUPS,
            Endpoint::AddMembers => api::ADD_MEMBERS,
            Endpoint::RemoveMembers => api::REMOVE_MEMBERS,
        }
    }
}

/// One thing to send: a group, or one user's membership of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// What to do with it.
    pub endpoint: Endpoint,
    /// Organization.
    pub org: String,
    /// The `groupId` (the group itself, or the one the user joins or leaves).
    pub group: String,
    /// What `result.data` is keyed by: the `groupId`, or the `userId`.
    pub item: String,
    /// The `groupName` (groups only).
    pub name: String,
}

impl Work {
    /// A group to add.
    pub fn group(org: &str, id: &str, name: &str) -> Self {
        Work {
            endpoint: Endpoint::AddGroups,
            org: org.to_owned(),
            group: id.to_owned(),
            item: id.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A user to add to (or remove from) a group.
    pub fn member(endpoint: Endpoint, org: &str, group: &str, user: &str) -> Self {
        Work {
            endpoint,
            org: org.to_owned(),
            group: group.to_owned(),
            item: user.to_owned(),
            name: String::new(),
        }
    }
}

/// A group's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupResult {
    /// The server confirmed it.
    pub added: bool,
    /// Requests that carried it.
    pub attempts: u32,
    /// Why it is not added.
    pub error: String,
}

/// Why a run stopped before every group was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// 401/403: the credentials were refused.
    Credentials(String),
    /// Every chunk of the last stretch failed after its retries.
    ServerDown(String),
    /// Ctrl-C.
    Interrupted,
}

impl Stop {
    /// The error written for groups that were never sent.
    pub fn not_attempted(&self) -> String {
        match self {
            Stop::Credentials(_) => "not attempted: credentials rejected".into(),
            Stop::ServerDown(_) => "not attempted: server unavailable".into(),
            Stop::Interrupted => "not attempted: interrupted".into(),
        }
    }
}

/// What an upload did.
#[derive(Debug)]
pub struct Outcome {
    /// One per [`Work`], same order.
    pub results: Vec<GroupResult>,
    /// Requests sent.
    pub requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The rate in force at the end (lower than `--rate` after 429s).
    pub final_rate: f64,
    /// Set when the run stopped early.
    pub stop: Option<Stop>,
    /// The first failure to record a confirmation, if any.
    pub record_error: Option<String>,
}

struct Inner {
    settings: UploadSettings,
    client: reqwest::Client,
    work: Vec<Work>,
    pace: Pace,
    results: Mutex<Vec<Option<GroupResult>>>,
    attempts: Mutex<Vec<u32>>,
    queue: Mutex<VecDeque<Vec<usize>>>,
    stop: watch::Sender<Option<Stop>>,
    down_streak: AtomicUsize,
    progress: Arc<Progress>,
    seed: AtomicUsize,
    record: Option<Arc<dyn Confirmations>>,
    record_error: Mutex<Option<String>>,
}

/// Where confirmations are recorded as they arrive (the state file), so a run killed at any
/// moment loses none that it recorded.
pub trait Confirmations: Send + Sync {
    /// The server confirmed these `items` ((groupId, groupName) for groups, (userId, "") for
    /// memberships) of `group` in `org`.
    fn confirmed(&self, endpoint: Endpoint, org: &str, group: &str, items: &[(&str, &str)]) -> Result<(), String>;
}

/// Splits `work` (sorted) into requests: at most `groups` groups of one organization, or at
/// most `members` users of one group, per request.
pub fn chunks(work: &[Work], groups: usize, members: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, w) in work.iter().enumerate() {
        let fits = |first: &Work, len: usize| match w.endpoint {
            Endpoint::AddGroups => len < groups && first.endpoint == w.endpoint && first.org == w.org,
            Endpoint::AddMembers | Endpoint::RemoveMembers => {
                len < members && first.endpoint == w.endpoint && first.org == w.org && first.group == w.group
            }
        };
        match out.last_mut() {
            Some(last) if fits(&work[last[0]], last.len()) => last.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// Builds the HTTP client: rustls, timeouts, and the secrets as sensitive default headers
/// (reqwest keeps sensitive values out of its `Debug` output).
pub fn client(settings: &UploadSettings) -> Result<reqwest::Client, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-velt-api-key", settings.credentials.api_key.expose()),
        ("x-velt-auth-token", settings.credentials.auth_token.expose()),
    ] {
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| format!("the {name} value has characters a header cannot carry"))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("velt-groups/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))
}

/// Sends every group of `work` and returns each one's outcome; confirmations go to `record` as
/// they arrive. `interrupt` resolving (Ctrl-C) stops the run: requests in flight are abandoned,
/// and nothing new is sent.
pub async fn upload(
    settings: UploadSettings,
    work: Vec<Work>,
    progress: Arc<Progress>,
    record: Option<Arc<dyn Confirmations>>,
    interrupt: impl Future<Output = ()> + Send + 'static,
) -> Result<Outcome, String> {
    let started = Instant::now();
    let client = client(&settings)?;
    let queue: VecDeque<Vec<usize>> = chunks(&work, settings.chunk_size, settings.member_chunk_size).into();
    let (stop, _) = watch::channel(None);
    let n = work.len();
    let inner = Arc::new(Inner {
        pace: Pace::new(settings.rate, settings.burst),
        client,
        results: Mutex::new(vec![None; n]),
        attempts: Mutex::new(vec![0; n]),
        queue: Mutex::new(queue),
        stop,
        down_streak: AtomicUsize::new(0),
        progress,
        seed: AtomicUsize::new(0x5eed),
        record,
        record_error: Mutex::new(None),
        work,
        settings,
    });
    let watcher = {
        let inner = Arc::clone(&inner);
        tokio::spawn(async move {
            interrupt.await;
            inner.halt(Stop::Interrupted);
        })
    };
    let workers: Vec<_> = (0..inner.settings.concurrency.max(1))
        .map(|_| {
            let inner = Arc::clone(&inner);
            tokio::spawn(async move {
                loop {
                    if inner.stopped().is_some() {
                        break;
                    }
                    let next = inner.queue.lock().expect("queue lock").pop_front();
                    let Some(chunk) = next else { break };
                    send(Arc::clone(&inner), chunk).await;
                }
            })
        })
        .collect();
    for w in workers {
        // A worker only ends by finishing its loop; a panic would be a bug worth surfacing.
        w.await.expect("upload worker panicked");
    }
    watcher.abort();
    inner.progress.finish();
    let stop = inner.stopped();
    let attempts = inner.attempts.lock().expect("attempts lock").clone();
    let results = inner
        .results
        .lock()
        .expect("results lock")
        .iter()
        .zip(attempts)
        .map(|(r, attempts)| {
            let mut r = r.clone().unwrap_or_else(|| GroupResult {
                added: false,
                attempts: 0,
                error: stop.as_ref().map_or("not attempted".into(), Stop::not_attempted),
            });
            r.attempts = attempts;
            r
        })
        .collect();
    let record_error = inner.record_error.lock().expect("record lock").clone();
    Ok(Outcome {
        results,
        requests: inner.progress.requests(),
        retries: inner.progress.retries(),
        elapsed: started.elapsed(),
        final_rate: inner.pace.rate(),
        stop,
        record_error,
    })
}

impl Inner {
    fn stopped(&self) -> Option<Stop> {
        self.stop.borrow().clone()
    }

    /// Stops the run (the first reason wins).
    fn halt(&self, why: Stop) {
        self.stop.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(why);
                true
            } else {
                false
            }
        });
    }

    fn settle(&self, chunk: &[usize], f: impl Fn(&str) -> GroupResult) {
        let mut results = self.results.lock().expect("results lock");
        for &i in chunk {
            results[i] = Some(f(&self.work[i].item));
        }
        drop(results);
        self.progress.done(chunk.len() as u64);
    }

    fn fail(&self, chunk: &[usize], error: &str) {
        self.settle(chunk, |_| GroupResult {
            added: false,
            attempts: 0,
            error: error.to_owned(),
        });
    }

    fn backoff(&self) -> retry::Backoff {
        let seed = self.seed.fetch_add(1, Ordering::Relaxed) as u64;
        retry::Backoff::new(self.settings.backoff_base, self.settings.backoff_cap, seed)
    }

    /// Hands the chunk's confirmed groups to the recorder (blocking this worker thread for the
    /// one transaction: the record must be on disk before the chunk counts as done).
    fn record_added(&self, chunk: &[usize], entries: &std::collections::HashMap<String, api::Entry>) {
        let Some(record) = &self.record else { return };
        let added: Vec<(&str, &str)> = chunk
            .iter()
            .map(|&i| &self.work[i])
            .filter(|w| entries.get(&w.item).is_some_and(|e| e.success))
            .map(|w| (w.item.as_str(), w.name.as_str()))
            .collect();
        if added.is_empty() {
            return;
        }
        let first = &self.work[chunk[0]];
        let recorded =
            tokio::task::block_in_place(|| record.confirmed(first.endpoint, &first.org, &first.group, &added));
        if let Err(e) = recorded {
            self.record_error.lock().expect("record lock").get_or_insert(e);
        }
    }

    /// A chunk failed after all its retries: the server may be down.
    fn chunk_exhausted(&self, error: &str) {
        if self.down_streak.fetch_add(1, Ordering::Relaxed) + 1 >= DOWN_AFTER_CHUNKS {
            self.halt(Stop::ServerDown(error.to_owned()));
        }
    }

    async fn post(&self, endpoint: Endpoint, body: Bytes) -> Answer {
        let url = match self.settings.api_base.join(endpoint.path()) {
            Ok(url) => url,
            Err(e) => return Answer::Fatal(format!("bad --api-base: {e}")),
        };
        let sent = self.client.post(url).body(body).send().await;
        match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match resp.bytes().await {
                    Ok(bytes) => api::classify(status, retry_after.as_deref(), &bytes, SystemTime::now()),
                    Err(e) => Answer::Transient(format!("HTTP {status}: the answer was cut off ({})", root_cause(&e))),
                }
            }
            Err(e) if e.is_timeout() => Answer::Transient(format!(
                "no answer within {}s (--timeout)",
                self.settings.timeout.as_secs_f64()
            )),
            Err(e) if e.is_connect() => Answer::Transient(format!("cannot connect: {}", root_cause(&e))),
            Err(e) => Answer::Transient(format!("connection failed: {}", root_cause(&e))),
        }
    }
}

/// The innermost cause, which says what happened ("connection reset by peer") where the outer
/// layers only say where.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Sends one chunk until it has an outcome (recursing into halves on a 400).
fn send(inner: Arc<Inner>, chunk: Vec<usize>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let first = &inner.work[chunk[0]];
        let endpoint = first.endpoint;
        let items = chunk
            .iter()
            .map(|&i| (inner.work[i].item.as_str(), inner.work[i].name.as_str()));
        let body = match endpoint {
            Endpoint::AddGroups => api::add_groups_body(&first.org, inner.settings.create_organization, items),
            Endpoint::AddMembers | Endpoint::RemoveMembers => {
                api::members_body(&first.org, &first.group, items.map(|(user, _)| user))
            }
        };
        let mut backoff = inner.backoff();
        let mut errors = 0u32;
        let mut rate_limited = 0u32;
        let mut stop_rx = inner.stop.subscribe();
        loop {
            if let Some(stop) = inner.stopped() {
                return inner.fail(&chunk, &stop.not_attempted());
            }
            tokio::select! {
                _ = inner.pace.permit() => {}
                _ = stop_rx.wait_for(Option::is_some) => continue,
            }
            {
                let mut attempts = inner.attempts.lock().expect("attempts lock");
                for &i in &chunk {
                    attempts[i] += 1;
                }
            }
            inner.progress.request();
            let answer = tokio::select! {
                a = inner.post(endpoint, body.clone()) => a,
                _ = stop_rx.wait_for(Option::is_some) => {
                    return inner.fail(&chunk, "interrupted before the server answered; it may have been added, and the next run sends it again");
                }
            };
            let error = match answer {
                Answer::Entries(entries) => {
                    inner.down_streak.store(0, Ordering::Relaxed);
                    inner.pace.succeeded();
                    inner.record_added(&chunk, &entries);
                    return inner.settle(&chunk, |id| match entries.get(id) {
                        Some(e) if e.success => GroupResult {
                            added: true,
                            ..GroupResult::default()
                        },
                        Some(e) => GroupResult {
                            added: false,
                            attempts: 0,
                            error: format!(
                                "refused by the server: {}",
                                e.message.as_deref().unwrap_or("no reason given")
                            ),
                        },
                        None => GroupResult {
                            added: false,
                            attempts: 0,
                            error: "not confirmed by the server (no entry for it in the answer)".into(),
                        },
                    });
                }
                Answer::Refused(_) if chunk.len() > 1 => {
                    inner.down_streak.store(0, Ordering::Relaxed);
                    let mut left = chunk;
                    let right = left.split_off(left.len() / 2);
                    send(Arc::clone(&inner), left).await;
                    return send(inner, right).await;
                }
                Answer::Refused(error) | Answer::Fatal(error) => {
                    inner.down_streak.store(0, Ordering::Relaxed);
                    return inner.fail(&chunk, &error);
                }
                Answer::Credentials(error) => {
                    inner.halt(Stop::Credentials(error.clone()));
                    return inner.fail(&chunk, &error);
                }
                Answer::RateLimited { retry_after, error } => {
                    rate_limited += 1;
                    let wait = retry_after
                        .unwrap_or_else(|| backoff.next().expect("endless"))
                        .min(inner.settings.backoff_cap);
                    inner.pace.slow_down(wait);
                    if rate_limited > inner.settings.max_retries.max(1) * RATE_LIMIT_BUDGET {
                        inner.chunk_exhausted(&error);
                        return inner.fail(&chunk, &error);
                    }
                    inner.progress.retry();
                    continue;
                }
                Answer::Transient(error) => error,
            };
            errors += 1;
            if errors > inner.settings.max_retries {
                inner.chunk_exhausted(&error);
                let tries = errors;
                return inner.fail(&chunk, &format!("{error} (gave up after {tries} attempts)"));
            }
            inner.progress.retry();
            let wait = backoff.next().expect("endless");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop_rx.wait_for(Option::is_some) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(org: &str, id: &str) -> Work {
        Work::group(org, id, &id.to_uppercase())
    }

    #[test]
    fn chunks_never_mix_organizations() {
        let work = vec![
            w("a", "1"),
            w("a", "2"),
            w("a", "3"),
            w("b", "1"),
            w("c", "1"),
            w("c", "2"),
        ];
        assert_eq!(chunks(&work, 2, 9), vec![vec![0, 1], vec![2], vec![3], vec![4, 5]]);
        assert_eq!(chunks(&work, 1, 9).len(), 6);
        assert_eq!(chunks(&work, 100, 9), vec![vec![0, 1, 2], vec![3], vec![4, 5]]);
        assert!(chunks(&[], 5, 5).is_empty());
    }

    #[test]
    fn member_chunks_never_mix_groups_or_actions() {
        let m = |e, g: &str, u: &str| Work::member(e, "a", g, u);
        let work = vec![
            m(Endpoint::AddMembers, "g1", "u1"),
            m(Endpoint::AddMembers, "g1", "u2"),
            m(Endpoint::AddMembers, "g1", "u3"),
            m(Endpoint::AddMembers, "g2", "u1"),
            m(Endpoint::RemoveMembers, "g2", "u2"),
        ];
        assert_eq!(chunks(&work, 99, 2), vec![vec![0, 1], vec![2], vec![3], vec![4]]);
    }
}

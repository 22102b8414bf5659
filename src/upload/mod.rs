//! Uploading: sends groups to `POST /v2/organizations/usergroups/add`, chunked per
//! organization, as fast as the pace allows and never faster, and learns the outcome of every
//! single group.
//!
//! - Every request, retries included, takes a permit from the shared [`pace::Pace`], at the
//!   rate its [`adaptive::Controller`] allows; `--concurrency` bounds requests in flight.
//! - 429, 5xx, 408, timeouts and broken connections are retried with capped exponential
//!   backoff; a 429 delays its own request by its `Retry-After` and lowers the rate (see
//!   [`adaptive`]).
//! - A 400 on a chunk of several groups splits it in two and resends both halves, so one bad
//!   group (or a server cap below `--chunk-size`) cannot sink the others.
//! - 401/403 stops the run at once; so does a server that is plainly down (several chunks in a
//!   row failed after all their retries): groups never sent are reported "not attempted".
//! - A group is added only when its own entry in `result.data` says so.

pub mod adaptive;
pub mod api;
mod chunking;
mod http;
pub mod pace;
pub mod progress;
pub mod readback;
pub mod retry;
pub mod sanitize;
mod types;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::watch;

use crate::plan::{Done, Endpoint, Results, Work};
use api::{Answer, ItemOutcome};
pub use chunking::{chunks, count as count_requests, Item};
pub use http::{client, is_loopback, root_cause, ClientError};
pub use pace::{Pace, Rate};
use progress::Progress;
use retry::{Decision, Tries};
pub use types::{Confirmations, Outcome, RecordError, Stop, UploadSettings};

/// Chunks in a row that failed after all their retries before the server counts as down.
pub const DOWN_AFTER_CHUNKS: usize = 5;

struct Inner {
    settings: UploadSettings,
    client: reqwest::Client,
    work: Vec<Work>,
    pace: Arc<Pace>,
    results: Mutex<Vec<Option<Done>>>,
    attempts: Mutex<Vec<u32>>,
    queue: Mutex<VecDeque<Vec<usize>>>,
    stop: watch::Sender<Option<Stop>>,
    down_streak: AtomicUsize,
    progress: Arc<Progress>,
    record: Option<Arc<dyn Confirmations>>,
    record_error: Mutex<Option<RecordError>>,
}

/// Sends every item of `work` at `pace` (shared by the stages of a run, so the users and
/// memberships go on at the rate the groups found) and returns each one's outcome;
/// confirmations go to `record` as they arrive. `interrupt` resolving (Ctrl-C) stops the run:
/// requests in flight are abandoned, and nothing new is sent.
pub async fn upload_paced(
    pace: Arc<Pace>,
    settings: UploadSettings,
    work: Vec<Work>,
    progress: Arc<Progress>,
    record: Option<Arc<dyn Confirmations>>,
    interrupt: impl Future<Output = ()> + Send + 'static,
) -> Result<Outcome, ClientError> {
    let started = Instant::now();
    let client = client(&settings)?;
    let queue: VecDeque<Vec<usize>> = chunks(&work, |e| settings.chunk_limit(e)).into();
    let (stop, _) = watch::channel(None);
    let n = work.len();
    let inner = Arc::new(Inner {
        pace,
        client,
        results: Mutex::new(vec![None; n]),
        attempts: Mutex::new(vec![0; n]),
        queue: Mutex::new(queue),
        stop,
        down_streak: AtomicUsize::new(0),
        progress,
        record,
        record_error: Mutex::new(None),
        work,
        settings,
    });
    inner.progress.set_allowed_rate(inner.pace.rate());
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
    // Its copy of `inner` goes with it, so the work can be taken back below.
    let _ = watcher.await;
    inner.progress.finish();
    let stop = inner.stopped();
    let attempts = std::mem::take(&mut *inner.attempts.lock().expect("attempts lock"));
    let done = std::mem::take(&mut *inner.results.lock().expect("results lock"));
    let record_error = inner.record_error.lock().expect("record lock").take();
    let (requests, retries, rate_limited) = (
        inner.progress.requests(),
        inner.progress.retries(),
        inner.progress.rate_limited(),
    );
    let (final_rate, learned) = (inner.pace.rate(), inner.pace.learned());
    let done: Vec<Done> = done
        .into_iter()
        .zip(attempts)
        .map(|(done, attempts)| {
            let mut done = done.unwrap_or_else(|| Done {
                // A chunk still being retried when the run stopped was sent: it failed.
                error: match (&stop, attempts) {
                    (Some(stop), n) if n > 0 => stop.cut_short(n).into(),
                    (stop, _) => stop
                        .as_ref()
                        .map_or("not attempted".into(), |s| s.not_attempted().into()),
                },
                ..Done::default()
            });
            done.attempts = attempts;
            done
        })
        .collect();
    // The keys move into the results rather than being copied: a million work items are
    // the largest thing an upload holds.
    let work = match Arc::try_unwrap(inner) {
        Ok(inner) => inner.work,
        Err(inner) => inner.work.clone(),
    };
    let results = Results::from_work(work, done);
    Ok(Outcome {
        results,
        requests,
        retries,
        elapsed: started.elapsed(),
        final_rate,
        settled_rate: learned.settled,
        rate_limited,
        slowed: learned.slowed,
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

    fn settle(&self, chunk: &[usize], f: impl Fn(&str) -> Done) {
        let mut results = self.results.lock().expect("results lock");
        for &i in chunk {
            results[i] = Some(f(&self.work[i].key.item));
        }
        drop(results);
        self.progress.done(chunk.len() as u64);
    }

    fn settle_each(&self, settled: &[(usize, ItemOutcome)]) {
        let mut results = self.results.lock().expect("results lock");
        for (i, outcome) in settled {
            results[*i] = Some(match outcome {
                ItemOutcome::Confirmed => Done {
                    confirmed: true,
                    ..Done::default()
                },
                ItemOutcome::Exists => Done {
                    confirmed: true,
                    existed: true,
                    ..Done::default()
                },
                ItemOutcome::Retry(error) | ItemOutcome::Failed(error) => Done {
                    error: error.as_str().into(),
                    ..Done::default()
                },
            });
        }
        drop(results);
        self.progress.done(settled.len() as u64);
    }

    /// The request body for these items, built once per attempt set so a retry resends the
    /// very same bytes.
    fn body(&self, chunk: &[usize]) -> Bytes {
        let first = &self.work[chunk[0]].key;
        let items = chunk.iter().map(|&i| &self.work[i]);
        match first.endpoint {
            Endpoint::AddGroups => api::add_groups_body(
                first.org(),
                self.settings.create_organization,
                items.map(|w| (&*w.key.item, w.name())),
            ),
            Endpoint::AddUsers => api::add_users_body(
                first.org(),
                self.settings.access_role.as_deref(),
                items.map(|w| (&*w.key.item, w.name(), w.email())),
            ),
            Endpoint::AddMembers | Endpoint::RemoveMembers => {
                api::members_body(first.org(), first.group(), items.map(|w| &*w.key.item))
            }
        }
    }

    fn fail(&self, chunk: &[usize], error: &str) {
        self.settle(chunk, |_| Done {
            error: error.into(),
            ..Done::default()
        });
    }

    /// Each chunk's jitter is seeded afresh from the process's random source, so processes on
    /// one host (and chunks of one run) do not retry in step.
    fn backoff(&self) -> retry::Backoff {
        retry::Backoff::new(self.settings.backoff_base, self.settings.backoff_cap, fastrand::u64(..))
    }

    /// Hands the items the server holds (added, or there already) to the recorder, blocking
    /// this worker thread for the one transaction: the record must be on disk before the
    /// items count as done.
    fn record(&self, settled: &[(usize, ItemOutcome)]) {
        let Some(record) = &self.record else { return };
        let held: Vec<(&Work, bool)> = settled
            .iter()
            .filter_map(|(i, o)| match o {
                ItemOutcome::Confirmed => Some((&self.work[*i], false)),
                ItemOutcome::Exists => Some((&self.work[*i], true)),
                ItemOutcome::Retry(_) | ItemOutcome::Failed(_) => None,
            })
            .collect();
        let refused: Vec<&Work> = settled
            .iter()
            .filter(|(_, o)| matches!(o, ItemOutcome::Failed(_)))
            .map(|(i, _)| &self.work[*i])
            .collect();
        let recorded = tokio::task::block_in_place(|| {
            if !held.is_empty() {
                record.confirmed(&held)?;
            }
            if !refused.is_empty() {
                record.refused(&refused)?;
            }
            Ok(())
        });
        if let Err(e) = recorded {
            self.record_error.lock().expect("record lock").get_or_insert(e);
        }
    }

    /// Records the intent to send `chunk` before it goes.
    fn intend(&self, chunk: &[usize]) {
        let Some(record) = &self.record else { return };
        let items: Vec<&Work> = chunk.iter().map(|&i| &self.work[i]).collect();
        if let Err(e) = tokio::task::block_in_place(|| record.intend(&items)) {
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
        http::post(&self.client, &self.settings, endpoint, body).await
    }
}

/// Sends one chunk until it has an outcome (recursing into halves on a 400).
fn send(inner: Arc<Inner>, chunk: Vec<usize>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let mut chunk = chunk;
        let endpoint = inner.work[chunk[0]].key.endpoint;
        let mut body = inner.body(&chunk);
        inner.intend(&chunk);
        let mut backoff = inner.backoff();
        let mut tries = Tries::default();
        let mut stop_rx = inner.stop.subscribe();
        loop {
            if let Some(stop) = inner.stopped() {
                return inner.fail(&chunk, &stop.not_attempted());
            }
            let sent = tokio::select! {
                sent = inner.pace.permit() => sent,
                _ = stop_rx.wait_for(Option::is_some) => continue,
            };
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
            match &answer {
                Answer::RateLimited { .. } => {
                    tries.rate_limited += 1;
                    inner.progress.rate_limited_once();
                }
                Answer::Transient(_) => tries.errors += 1,
                Answer::Overloaded(_) => {
                    tries.errors += 1;
                    inner.pace.slow(sent);
                    inner.progress.set_allowed_rate(inner.pace.rate());
                }
                _ => {}
            }
            let s = &inner.settings;
            let decision = retry::decide(&answer, chunk.len(), tries, s.max_retries, s.backoff_cap, || {
                backoff.next().expect("endless")
            });
            if !matches!(
                answer,
                Answer::RateLimited { .. } | Answer::Transient(_) | Answer::Overloaded(_)
            ) {
                inner.down_streak.store(0, Ordering::Relaxed);
                inner.pace.answered();
            }
            match (decision, answer) {
                (Decision::Settle, Answer::Entries(entries)) => {
                    inner.progress.set_allowed_rate(inner.pace.rate());
                    let (again, settled): (Vec<_>, Vec<_>) = chunk
                        .iter()
                        .map(|&i| {
                            let removal = endpoint == Endpoint::RemoveMembers;
                            (i, api::item_outcome(entries.get(&*inner.work[i].key.item), removal))
                        })
                        .partition(|(_, o)| matches!(o, ItemOutcome::Retry(_)));
                    inner.record(&settled);
                    inner.settle_each(&settled);
                    let Some((_, ItemOutcome::Retry(error))) = again.first().cloned() else {
                        return;
                    };
                    // Only the items the server failed on its side go again, alone.
                    chunk = again.into_iter().map(|(i, _)| i).collect();
                    tries.errors += 1;
                    if tries.errors > inner.settings.max_retries {
                        let tries = tries.errors;
                        return inner.fail(&chunk, &format!("{error} (gave up after {tries} attempts)"));
                    }
                    body = inner.body(&chunk);
                    let wait = backoff.next().expect("endless");
                    inner.progress.retried(&error, wait);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop_rx.wait_for(Option::is_some) => {}
                    }
                }
                (Decision::Split, _) => {
                    let mut left = chunk;
                    let right = left.split_off(left.len() / 2);
                    send(Arc::clone(&inner), left).await;
                    return send(inner, right).await;
                }
                (Decision::Halt, Answer::Credentials(error)) => {
                    inner.halt(Stop::Credentials(error.clone()));
                    return inner.fail(&chunk, &error);
                }
                (Decision::Pause(wait), answer) => {
                    // Only this request waits out its Retry-After; the others go on at the
                    // lowered rate (everyone waits only if the server refuses them all).
                    inner.pace.rate_limited(sent, wait);
                    inner.progress.set_allowed_rate(inner.pace.rate());
                    inner.progress.retried(&api::error_text(&answer), wait);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop_rx.wait_for(Option::is_some) => {}
                    }
                }
                (Decision::GiveUp { pause }, answer) => {
                    let error = api::error_text(&answer);
                    if let Some(wait) = pause {
                        inner.pace.rate_limited(sent, wait);
                        inner.progress.set_allowed_rate(inner.pace.rate());
                        inner.chunk_exhausted(&error);
                        return inner.fail(&chunk, &error);
                    }
                    inner.chunk_exhausted(&error);
                    let tries = tries.errors;
                    return inner.fail(&chunk, &format!("{error} (gave up after {tries} attempts)"));
                }
                (Decision::Retry(wait), answer) => {
                    inner.progress.retried(&api::error_text(&answer), wait);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop_rx.wait_for(Option::is_some) => {}
                    }
                }
                (Decision::Fail | Decision::Settle | Decision::Halt, answer) => {
                    return inner.fail(&chunk, &api::error_text(&answer));
                }
            }
        }
    })
}

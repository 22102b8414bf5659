//! The uploader's counters: requests, retries and items done, bumped as they happen. A
//! [`Watch`] (the console's bar) is told of each change; anything else reads them when it
//! likes (the console's log lines, the run's summary).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Told of every change, from the uploader's tasks.
pub trait Watch: Send + Sync {
    /// Something changed.
    fn changed(&self, progress: &Progress);
    /// The upload is over.
    fn finish(&self);
    /// A request will be sent again after `wait`, because of `why` (the server's answer).
    fn retried(&self, _progress: &Progress, _why: &str, _wait: Duration) {}
    /// The server answered 429.
    fn rate_limited(&self, _progress: &Progress) {}
    /// The pace's rate went from `from` to `to` requests per second.
    fn rate_changed(&self, _progress: &Progress, _from: f64, _to: f64) {}
}

/// Counters the uploader bumps.
pub struct Progress {
    total: u64,
    done: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    /// The pace's rate in force, as `f64` bits.
    allowed_rate: AtomicU64,
    started: Instant,
    watch: Option<Box<dyn Watch>>,
}

impl Progress {
    /// Progress over `total` items, told to `watch`.
    pub fn new(total: u64, watch: Option<Box<dyn Watch>>) -> Self {
        Progress {
            total,
            done: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            allowed_rate: AtomicU64::new(0),
            started: Instant::now(),
            watch,
        }
    }

    fn changed(&self) {
        if let Some(w) = &self.watch {
            w.changed(self);
        }
    }

    /// A request is about to go.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.changed();
    }

    /// A request will be retried.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A request will be sent again after `wait`, because of `why`.
    pub fn retried(&self, why: &str, wait: Duration) {
        self.retry();
        if let Some(w) = &self.watch {
            w.retried(self, why, wait);
        }
    }

    /// The server answered 429: slow down.
    pub fn rate_limited_once(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        if let Some(w) = &self.watch {
            w.rate_limited(self);
        }
    }

    /// The pace's rate changed to `rate` requests per second.
    pub fn set_allowed_rate(&self, rate: f64) {
        let before = f64::from_bits(self.allowed_rate.swap(rate.to_bits(), Ordering::Relaxed));
        // The first value is where the stage starts, not a change.
        if before != 0.0 && before != rate {
            if let Some(w) = &self.watch {
                w.rate_changed(self, before, rate);
            }
        }
    }

    /// `n` more items have their outcome.
    pub fn done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        self.changed();
    }

    /// The upload is over.
    pub fn finish(&self) {
        if let Some(w) = &self.watch {
            w.finish();
        }
    }

    /// Items to do.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Items with an outcome so far.
    pub fn done_count(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Retries so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// 429 answers so far.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// The rate the pace allows now, requests per second (below `--rate` after 429s).
    pub fn allowed_rate(&self) -> f64 {
        f64::from_bits(self.allowed_rate.load(Ordering::Relaxed))
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Achieved requests per second since the start.
    pub fn rate(&self) -> f64 {
        self.requests() as f64 / self.elapsed().as_secs_f64().max(1e-9)
    }
}

//! Pacing: one shared `governor` limiter that every request (retries included) takes a permit
//! from, plus the two ways a server's "slow down" changes it: a pause for every sender until the
//! `Retry-After` has passed, and a lower rate afterwards (multiplicative decrease, slow
//! recovery toward `--rate`), so a server stricter than the setting is not hammered again the
//! moment the pause ends.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};
use tokio::time::Instant;

/// After a 429 the rate drops to this share of what it was.
const DECREASE: f64 = 0.7;
/// Without a 429 for [`RECOVER_AFTER`], the rate rises by this factor (up to `--rate`).
const INCREASE: f64 = 1.1;
/// How long the rate must hold before it is raised again.
const RECOVER_AFTER: Duration = Duration::from_secs(2);
/// The rate never drops below this share of `--rate`.
const FLOOR: f64 = 0.05;

struct State {
    rate: f64,
    limiter: Arc<DefaultDirectRateLimiter>,
    changed: Instant,
    paused_until: Option<Instant>,
}

/// The shared pace of a run.
pub struct Pace {
    max_rate: f64,
    burst: NonZeroU32,
    state: Mutex<State>,
}

fn limiter(rate: f64, burst: NonZeroU32) -> Arc<DefaultDirectRateLimiter> {
    let period = Duration::from_secs_f64(1.0 / rate);
    let quota = Quota::with_period(period)
        .expect("a positive rate has a positive period")
        .allow_burst(burst);
    Arc::new(RateLimiter::direct(quota))
}

impl Pace {
    /// `rate` requests per second at most, `burst` at once.
    pub fn new(rate: f64, burst: NonZeroU32) -> Self {
        Pace {
            max_rate: rate,
            burst,
            state: Mutex::new(State {
                rate,
                limiter: limiter(rate, burst),
                changed: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Waits until a request may go: past any pause, then a permit from the limiter.
    pub async fn permit(&self) {
        loop {
            let (pause, limiter, period) = {
                let s = self.state.lock().expect("pace lock");
                (s.paused_until, Arc::clone(&s.limiter), 1.0 / s.rate)
            };
            if let Some(until) = pause.filter(|u| *u > Instant::now()) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            // A little jitter keeps the waiting workers from waking in step; it is kept well
            // under the period so that it does not eat into the rate.
            let jitter = Duration::from_secs_f64((period / 50.0).min(0.002));
            limiter.until_ready_with_jitter(Jitter::up_to(jitter)).await;
            // A 429 may have paused everyone while this worker waited for its permit.
            let paused = self
                .state
                .lock()
                .expect("pace lock")
                .paused_until
                .is_some_and(|u| u > Instant::now());
            if !paused {
                return;
            }
        }
    }

    /// The server said slow down: everyone waits `wait`, then goes on at a lower rate.
    pub fn slow_down(&self, wait: Duration) {
        let now = Instant::now();
        let mut s = self.state.lock().expect("pace lock");
        let until = now + wait;
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
        // One decrease per pause: the other workers' 429s from the same burst say nothing new.
        if now.duration_since(s.changed) >= wait.max(Duration::from_secs_f64(1.0 / s.rate)) {
            s.rate = (s.rate * DECREASE).max(self.max_rate * FLOOR);
            s.limiter = limiter(s.rate, self.burst);
            s.changed = now;
        }
    }

    /// A request went through: after a quiet spell, creep back toward `--rate`.
    pub fn succeeded(&self) {
        let now = Instant::now();
        let mut s = self.state.lock().expect("pace lock");
        if s.rate < self.max_rate && now.duration_since(s.changed) >= RECOVER_AFTER {
            s.rate = (s.rate * INCREASE).min(self.max_rate);
            s.limiter = limiter(s.rate, self.burst);
            s.changed = now;
        }
    }

    /// The rate in force now.
    pub fn rate(&self) -> f64 {
        self.state.lock().expect("pace lock").rate
    }
}

//! Pacing: one schedule shared by every request of a run (retries included), at the rate the
//! [`Controller`] allows, and the answers fed back to it. A 429 delays only its own request (by
//! its `Retry-After`, see the uploader) and lowers the rate; every sender waits only when the
//! server refuses request after request.
//!
//! The schedule is a GCRA ("virtual scheduling", as `governor` implements it) kept here
//! rather than in a `governor` limiter because the rate changes all the time: a new limiter
//! per change would hand out a fresh burst at every change, right into a server whose bucket
//! the last 429 said was empty. A `governor` limiter still holds the hard ceiling (`--rate`,
//! or `--max-rate` with `auto`) that never changes: whatever the controller decides, no
//! second ever carries more than that.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::adaptive::Controller;

/// How the rate is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// `--rate R`: at most R requests per second, lowered for a while after 429s.
    Fixed(f64),
    /// `--rate auto`: found from the server's answers, up to `max` (`--max-rate`).
    Auto {
        /// `--max-rate`.
        max: f64,
    },
}

impl Rate {
    /// The rate a run starts at.
    pub fn start(self) -> f64 {
        self.controller().rate()
    }

    /// The highest rate the run may reach.
    pub fn ceiling(self) -> f64 {
        match self {
            Rate::Fixed(r) | Rate::Auto { max: r } => r,
        }
    }

    fn controller(self) -> Controller {
        match self {
            Rate::Fixed(r) => Controller::fixed(r),
            Rate::Auto { max } => Controller::auto(max),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rate::Fixed(r) => write!(f, "{r}"),
            Rate::Auto { .. } => f.write_str("auto"),
        }
    }
}

/// What the pace learned, for the summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learned {
    /// The rate in force now.
    pub rate: f64,
    /// The mean rate held since the first 429 (`None` before any).
    pub settled: Option<f64>,
    /// The rate where 429s last started (`None` before any).
    pub limit: Option<f64>,
    /// Times the rate was cut because the server was slow (timeouts, overloaded answers).
    pub slowed: u64,
}

struct State {
    controller: Controller,
    /// GCRA's theoretical arrival time: when the next request would go at an even pace.
    tat: Instant,
}

/// The shared pace of a run.
pub struct Pace {
    burst: NonZeroU32,
    /// The ceiling, as a plain `governor` limiter: the controller's schedule stays under it,
    /// and this makes sure of it.
    ceiling: governor::DefaultDirectRateLimiter,
    state: Mutex<State>,
    /// One waiter at a time, first come first served (tokio's mutex is fair): the others
    /// queue behind it instead of all waking at every slot.
    turn: tokio::sync::Mutex<()>,
}

impl Pace {
    /// A pace set by `rate`, letting `burst` requests through at once.
    pub fn new(rate: Rate, burst: NonZeroU32) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate.ceiling());
        let quota = governor::Quota::with_period(period)
            .expect("a positive rate has a positive period")
            .allow_burst(burst);
        Pace {
            burst,
            ceiling: governor::RateLimiter::direct(quota),
            state: Mutex::new(State {
                controller: rate.controller(),
                tat: Instant::now(),
            }),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Waits until a request may go, and returns when it went (the uploader hands it back
    /// with a 429, so a 429 for a request sent before the last cut is not counted twice).
    pub async fn permit(&self) -> Instant {
        let _turn = self.turn.lock().await;
        loop {
            let now = Instant::now();
            let slot = {
                let mut s = self.state.lock().expect("pace lock");
                let period = Duration::from_secs_f64(1.0 / s.controller.rate());
                let tolerance = period * (self.burst.get() - 1);
                let paused = s.controller.paused_until().map(Instant::from_std);
                let slot = s.tat.checked_sub(tolerance).unwrap_or(now).max(now);
                let slot = paused.map_or(slot, |p| slot.max(p));
                if slot <= now {
                    s.tat = s.tat.max(now) + period;
                    None
                } else {
                    Some(slot)
                }
            };
            let Some(slot) = slot else {
                self.ceiling.until_ready().await;
                return Instant::now();
            };
            // A cut while sleeping moves the schedule later: the loop looks again on waking.
            tokio::time::sleep_until(slot).await;
        }
    }

    /// A clean answer (anything but a 429 or a transient failure).
    pub fn answered(&self) {
        let now = Instant::now();
        self.update(|c| c.on_success(now.into_std()));
    }

    /// A 429 for the request sent at `sent`, which waits `wait` before it goes again.
    pub fn rate_limited(&self, sent: Instant, wait: Duration) {
        let now = Instant::now();
        self.update(|c| c.on_rate_limited(now.into_std(), sent.into_std(), wait));
    }

    /// A timeout (no answer within `--timeout`, or a 504 or 408) for the request sent at `sent`.
    pub fn slow(&self, sent: Instant) {
        let now = Instant::now();
        self.update(|c| c.on_slowness(now.into_std(), sent.into_std()));
    }

    fn update(&self, f: impl FnOnce(&mut Controller)) {
        let now = Instant::now();
        let mut s = self.state.lock().expect("pace lock");
        let before = s.controller.rate();
        f(&mut s.controller);
        let after = s.controller.rate();
        if after == before {
            return;
        }
        // The debt already scheduled was counted in periods of the old rate.
        if s.tat > now {
            s.tat = now + (s.tat - now).mul_f64(before / after);
        }
        if after < before {
            // After a cut the server's bucket is empty: no burst of ours on top of it.
            let tolerance = Duration::from_secs_f64(1.0 / after) * (self.burst.get() - 1);
            s.tat = s.tat.max(now + tolerance);
        }
    }

    /// The rate in force now.
    pub fn rate(&self) -> f64 {
        self.state.lock().expect("pace lock").controller.rate()
    }

    /// What the pace learned so far.
    pub fn learned(&self) -> Learned {
        let s = self.state.lock().expect("pace lock");
        Learned {
            rate: s.controller.rate(),
            settled: s.controller.settled(),
            limit: s.controller.limit(),
            slowed: s.controller.slowed(),
        }
    }
}

//! The rate controller: how many requests per second to allow, as a pure function of the
//! answers the server gave and when (no clock, no I/O; [`super::pace::Pace`] wraps it).
//!
//! It borrows from TCP congestion control (slow start, then CUBIC), as the AWS SDKs' adaptive
//! retry mode does for throttling:
//!
//! - **Slow start** (`--rate auto` only): from [`START`] requests/s, every clean answer adds
//!   [`SLOW_START_GAIN`] requests/s. Answers arrive at the rate in force, so the rate doubles
//!   about every half second while the server keeps up, and grows no faster than answers come
//!   back when latency or `--concurrency` holds the run back.
//! - **A 429 cuts the rate** to [`DECREASE`] of the rate where 429s started. That rate is the
//!   lower of the rate allowed and the rate the server actually accepted over the last
//!   [`WINDOW`]: a throttling server accepts its limit, so the second figure is the better
//!   guess after an overshoot. Only a 429 for a request sent after the last cut counts: those
//!   already on the way were sent at the old rate and say nothing new.
//! - **Then CUBIC growth**: the rate climbs back towards the remembered rate fast, flattens near
//!   it (reached [`REGAIN`] after the cut), and only then probes above it, slowly at first, so
//!   a limit that went up is found again and one that did not costs few 429s.
//! - **A pause for everyone** only when the server refuses request after request:
//!   [`PAUSE_AFTER`] fresh 429s with no clean answer in between. A lone 429 delays only its own
//!   request (by its `Retry-After`); a server that refuses everything is waited out.
//!
//! - **Slowness cuts the rate too** (`--rate auto` only): a request that timed out, or a 504
//!   or 408 (a gateway's or the server's timeout), for a request sent after the last cut,
//!   halves the rate (TCP's answer to a lost packet), with no pause: a server that slows down
//!   under load until it stops answering sends no 429, and pushing on only makes every request
//!   time out. A fixed `--rate` is the operator's: only the server's own 429s lower it.
//!
//! A fixed `--rate R` is the same controller started at R with R as its ceiling, so a stray
//! 429 costs a 10% dip for about two seconds instead of a pause for every sender.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The rate `--rate auto` starts from, requests/s: the old fixed default, which no server has
/// been seen to refuse.
pub const START: f64 = 5.0;
/// The most `--rate auto` goes to unless `--max-rate` says otherwise, requests/s. Only the
/// fastest servers come near it with 16 requests in flight (16 at 50 ms is 320/s).
pub const DEFAULT_MAX: f64 = 500.0;
/// Requests/s added per clean answer in slow start (2 ln 2: the rate doubles every half
/// second when answers come back at the rate in force).
pub const SLOW_START_GAIN: f64 = 2.0 * std::f64::consts::LN_2;
/// After a 429 the rate drops to this share of the rate where 429s started. CUBIC's 0.7 made
/// every stray 429 at a server's exact limit cost 30% of the pace; 0.9 is enough to refill a
/// token bucket, and a limit far below is followed in a few quick steps.
pub const DECREASE: f64 = 0.9;
/// After a timeout or an overloaded answer the rate drops to this share of the rate where
/// they started: a timeout comes a whole `--timeout` after its request, when many more were
/// sent at the same rate, so a 10% step would follow far too slowly.
pub const DECREASE_ON_SLOWNESS: f64 = 0.5;
/// After a cut, the time to climb back to the rate where 429s started.
pub const REGAIN: Duration = Duration::from_secs(2);
/// The window over which the accepted rate is measured.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Fresh 429s in a row, without a clean answer, after which every sender waits.
pub const PAUSE_AFTER: u32 = 3;
/// The rate never drops below this share of the starting rate.
pub const FLOOR: f64 = 0.05;
/// A 429 at more than this times the remembered limit means the limit has moved up. (Near
/// the limit, CUBIC meets the 429 at about 1.1 times it.)
const PROBED: f64 = 1.2;
/// Clean answers in the window needed to measure the accepted rate; fewer are noise.
const MIN_SAMPLES: usize = 4;
/// Time constant of the mean rate [`Controller::settled`] reports: a few CUBIC cycles, so it
/// smooths the saw-tooth but follows a limit that changed.
pub const SETTLE: Duration = Duration::from_secs(10);

/// Where the controller is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// No 429 yet: growing (`auto`), or at the ceiling (a fixed rate).
    SlowStart,
    /// After a 429: CUBIC growth towards, then past, the rate where 429s started.
    Cubic {
        /// The rate where 429s started last.
        limit: f64,
        /// Time since the cut, counting only time with answers coming in.
        age: Duration,
    },
}

/// The rate controller of one run (shared by its stages).
#[derive(Debug, Clone)]
pub struct Controller {
    rate: f64,
    floor: f64,
    ceiling: f64,
    phase: Phase,
    /// When the last cut happened; 429s for requests sent before it are not counted again.
    cut_at: Option<Instant>,
    /// Fresh 429s since the last clean answer.
    streak: u32,
    /// Clean answers since the last cut.
    since_cut: u32,
    paused_until: Option<Instant>,
    /// Clean answers over the last [`WINDOW`].
    accepted: VecDeque<Instant>,
    last_answer: Option<Instant>,
    /// Time-weighted mean of the rate since the first cut, over [`SETTLE`].
    held: Option<f64>,
    /// The highest accepted rate measured over most of a [`WINDOW`].
    peak: Option<f64>,
    /// Cuts made for slowness (timeouts, overloaded answers), not for 429s.
    slowed: u64,
    /// `--rate auto`: slowness counts too.
    adaptive: bool,
}

impl Controller {
    /// `--rate auto`: from [`START`] (or `max`, if lower) up to `max`.
    pub fn auto(max: f64) -> Self {
        let start = START.min(max);
        Controller {
            adaptive: true,
            ..Self::new(start, max, start * FLOOR)
        }
    }

    /// A fixed `--rate`: at most `rate`, lowered for a while after 429s.
    pub fn fixed(rate: f64) -> Self {
        Self::new(rate, rate, rate * FLOOR)
    }

    fn new(rate: f64, ceiling: f64, floor: f64) -> Self {
        Controller {
            rate,
            floor,
            ceiling,
            phase: Phase::SlowStart,
            cut_at: None,
            streak: 0,
            since_cut: 0,
            paused_until: None,
            accepted: VecDeque::new(),
            last_answer: None,
            held: None,
            peak: None,
            slowed: 0,
            adaptive: false,
        }
    }

    /// The rate allowed now, requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The phase (for tests and the summary).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Until when every sender waits, if the server refused everything lately.
    pub fn paused_until(&self) -> Option<Instant> {
        self.paused_until
    }

    /// The rate where 429s last started (the server's limit, as far as it showed it).
    pub fn limit(&self) -> Option<f64> {
        match self.phase {
            Phase::SlowStart => None,
            Phase::Cubic { limit, .. } => Some(limit),
        }
    }

    /// The rate the run settled on, to pin a later run to: after a 429, the mean rate held
    /// over the last [`SETTLE`] or so; before any, the highest rate the server was seen to
    /// accept (what `--concurrency` and latency allowed). `None` with too few answers.
    pub fn settled(&self) -> Option<f64> {
        self.held.or(self.peak)
    }

    /// The rate the server accepted over the last [`WINDOW`]: clean answers over the time
    /// between the first and the last of them, so that idle time (before a stage, during a
    /// pause) does not make it look low. `None` with too few answers to tell.
    pub fn accepted_rate(&self, now: Instant) -> Option<f64> {
        let recent: Vec<&Instant> = self
            .accepted
            .iter()
            .rev()
            .take_while(|t| now.saturating_duration_since(**t) <= WINDOW)
            .collect();
        let (newest, oldest) = (recent.first()?, recent.last()?);
        let span = newest.saturating_duration_since(**oldest).as_secs_f64();
        (recent.len() >= MIN_SAMPLES && span > 0.0).then(|| (recent.len() - 1) as f64 / span)
    }

    /// A clean answer (anything but a 429 or a transient failure) came in at `now`.
    pub fn on_success(&mut self, now: Instant) {
        let active = self.advance(now);
        self.streak = 0;
        self.since_cut += 1;
        self.accepted.push_back(now);
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
        {
            self.accepted.pop_front();
        }
        if let (Some(first), n) = (self.accepted.front(), self.accepted.len()) {
            let span = now.saturating_duration_since(*first);
            if n >= MIN_SAMPLES && span >= WINDOW / 2 {
                let rate = (n - 1) as f64 / span.as_secs_f64();
                self.peak = Some(self.peak.map_or(rate, |p| p.max(rate)));
            }
        }
        self.rate = match &mut self.phase {
            Phase::SlowStart => (self.rate + SLOW_START_GAIN).min(2.0 * self.rate),
            Phase::Cubic { limit, age } => {
                *age += active;
                cubic(*limit, *age)
            }
        }
        .clamp(self.floor, self.ceiling);
    }

    /// A 429 came in at `now` for a request sent at `sent`; that request waits `retry_after`
    /// (the server's `Retry-After`, or a backoff delay) before it goes again.
    pub fn on_rate_limited(&mut self, now: Instant, sent: Instant, retry_after: Duration) {
        let active = self.advance(now);
        if let Phase::Cubic { age, .. } = &mut self.phase {
            *age += active;
        }
        if self.cut_at.is_some_and(|cut| sent < cut) {
            return;
        }
        let accepted = match self.phase {
            // Well above the remembered limit: the limit went up (or the guess was low); the
            // last window shows where it is now.
            Phase::Cubic { limit, .. } if self.rate > PROBED * limit => self.accepted_rate(now),
            // A 429 means the server's bucket is empty, as it was at the last cut: what it
            // accepted in between is what it refilled, its limit, whatever its burst (the
            // last window would count the burst too, and guess high).
            Phase::Cubic { age, .. } if age >= WINDOW && self.since_cut as usize >= MIN_SAMPLES => {
                Some(f64::from(self.since_cut) / age.as_secs_f64())
            }
            // Out of slow start, or a cut soon after the last: the last window.
            _ => self.accepted_rate(now),
        };
        let limit = accepted.unwrap_or(self.rate).min(self.rate).max(self.floor);
        self.phase = Phase::Cubic {
            limit,
            age: Duration::ZERO,
        };
        self.rate = (limit * DECREASE).clamp(self.floor, self.ceiling);
        self.cut_at = Some(now);
        self.since_cut = 0;
        self.held.get_or_insert(self.rate);
        self.streak += 1;
        if self.streak >= PAUSE_AFTER {
            let until = now + retry_after;
            self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
        }
    }

    /// A request sent at `sent` timed out, or was answered 504 or 408, at `now`: the server
    /// is slower than the pace (`--rate auto` only; a fixed rate ignores it). Cuts to [`DECREASE_ON_SLOWNESS`] of the lower of the rate
    /// allowed and the rate accepted, once per cut (requests already on their way when the
    /// rate was cut say nothing new); never a pause.
    pub fn on_slowness(&mut self, now: Instant, sent: Instant) {
        let active = self.advance(now);
        if let Phase::Cubic { age, .. } = &mut self.phase {
            *age += active;
        }
        if !self.adaptive || self.cut_at.is_some_and(|cut| sent < cut) {
            return;
        }
        let limit = self
            .accepted_rate(now)
            .unwrap_or(self.rate)
            .min(self.rate)
            .max(self.floor);
        self.phase = Phase::Cubic {
            limit,
            age: Duration::ZERO,
        };
        self.rate = (limit * DECREASE_ON_SLOWNESS).clamp(self.floor, self.ceiling);
        self.cut_at = Some(now);
        self.since_cut = 0;
        self.held.get_or_insert(self.rate);
        self.slowed += 1;
    }

    /// Cuts made for slowness so far.
    pub fn slowed(&self) -> u64 {
        self.slowed
    }

    /// Moves the clock to `now`: returns the time since the last answer that counts as active
    /// (a gap longer than a few periods is idle time, between stages or at the end of a
    /// stage, and must not make CUBIC jump), and adds it to the time-weighted rate.
    fn advance(&mut self, now: Instant) -> Duration {
        let gap = self
            .last_answer
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last_answer = Some(self.last_answer.map_or(now, |last| last.max(now)));
        let longest = Duration::from_secs_f64((2.0 / self.rate).max(1.0));
        let active = gap.min(longest);
        if self.cut_at.is_some() {
            let weight = 1.0 - (-active.as_secs_f64() / SETTLE.as_secs_f64()).exp();
            self.held = self.held.map(|held| held + (self.rate - held) * weight);
        }
        active
    }
}

/// CUBIC's curve, relative to `limit`: `DECREASE x limit` at the cut, `limit` after
/// [`REGAIN`], then above it ever faster.
fn cubic(limit: f64, age: Duration) -> f64 {
    let k = REGAIN.as_secs_f64();
    let c = (1.0 - DECREASE) / k.powi(3);
    limit * (1.0 + c * (age.as_secs_f64() - k).powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds answers at `rate` per second from `from` for `seconds`, every one clean; returns
    /// the time after the last.
    fn clean(c: &mut Controller, from: Instant, seconds: f64) -> Instant {
        let mut t = from;
        let end = from + Duration::from_secs_f64(seconds);
        while t < end {
            t += Duration::from_secs_f64(1.0 / c.rate());
            c.on_success(t);
        }
        t
    }

    const SECOND: Duration = Duration::from_secs(1);

    /// Regression (issue 21): `--rate auto` read only 429s; a server that slowed down until
    /// requests timed out was never given a lower pace.
    #[test]
    fn timeouts_cut_the_rate_once_per_cut_and_never_pause() {
        let t0 = Instant::now();
        let mut c = Controller::auto(500.0);
        let t = clean(&mut c, t0, 2.0);
        let before = c.rate();
        assert!(before > 20.0, "{before}");
        c.on_slowness(t, t - SECOND / 10);
        let cut = c.rate();
        assert!(cut <= before * DECREASE_ON_SLOWNESS + 1e-9, "{before} -> {cut}");
        assert!(matches!(c.phase(), Phase::Cubic { .. }));
        assert_eq!(c.paused_until(), None);
        // Timeouts of requests sent before the cut say nothing new.
        c.on_slowness(t + SECOND / 100, t - SECOND / 20);
        assert_eq!(c.rate(), cut);
        // One sent after it does.
        c.on_slowness(t + SECOND, t + SECOND / 2);
        assert!(c.rate() < cut);
        assert_eq!(c.slowed(), 2);
        assert_eq!(c.paused_until(), None);
        // A fixed rate is the operator's.
        let mut fixed = Controller::fixed(50.0);
        fixed.on_slowness(t, t);
        assert_eq!((fixed.rate(), fixed.slowed()), (50.0, 0));
    }

    #[test]
    fn slow_start_doubles_about_every_half_second_and_stops_at_the_ceiling() {
        let t0 = Instant::now();
        let mut c = Controller::auto(500.0);
        assert_eq!(c.rate(), START);
        let t = clean(&mut c, t0, 0.5);
        assert!((9.0..=11.0).contains(&c.rate()), "{}", c.rate());
        clean(&mut c, t, 10.0);
        assert_eq!(c.rate(), 500.0);
        assert_eq!(c.phase(), Phase::SlowStart);
    }

    #[test]
    fn a_429_cuts_to_the_accepted_rate_and_cubic_regains_it() {
        let t0 = Instant::now();
        let mut c = Controller::auto(500.0);
        // The server accepts 37/s: one clean answer every 1/37 s for two seconds, at an
        // allowed rate that slow start has taken to 40/s.
        let mut t = t0;
        for _ in 0..74 {
            t += Duration::from_secs_f64(1.0 / 37.0);
            c.on_success(t);
        }
        let before = c.rate();
        assert!(before > 37.0, "{before}");
        c.on_rate_limited(t, t, SECOND);
        let limit = c.limit().unwrap();
        assert!((36.0..=38.0).contains(&limit), "the accepted rate, not {limit}");
        assert!((c.rate() - DECREASE * limit).abs() < 1e-9);
        assert_eq!(c.paused_until(), None, "a lone 429 pauses nobody");
        // Clean answers: back near the limit after REGAIN, flat around it, then above it.
        let cut = t;
        let t = clean(&mut c, t, REGAIN.as_secs_f64() - 0.1);
        assert!(c.rate() > 0.99 * limit && c.rate() <= limit, "{}", c.rate());
        let t = clean(&mut c, t, 0.5);
        assert!(c.rate() < 1.01 * limit, "flat near the limit: {}", c.rate());
        clean(&mut c, t, 3.0);
        assert!(c.rate() > 1.2 * limit, "probing above: {}", c.rate());
        assert!(c.settled().unwrap() > 0.9 * limit);
        assert!(cut < t);
    }

    #[test]
    fn only_429s_for_requests_sent_after_the_cut_count() {
        let t0 = Instant::now();
        let mut c = Controller::fixed(40.0);
        let t = clean(&mut c, t0, 2.0);
        c.on_rate_limited(t, t - SECOND / 10, SECOND);
        let once = c.rate();
        assert!(once < 40.0);
        // In flight at the cut: sent before it.
        for i in 1..5 {
            c.on_rate_limited(t + SECOND / 100 * i, t - SECOND / 20, SECOND);
        }
        assert_eq!(c.rate(), once);
        // Sent after it: the cut was not enough.
        let later = t + SECOND / 10;
        c.on_rate_limited(later, t + SECOND / 20, SECOND);
        assert!(c.rate() < once);
    }

    #[test]
    fn a_fixed_rate_dips_and_comes_back_after_a_stray_429() {
        let t0 = Instant::now();
        let mut c = Controller::fixed(37.0);
        let t = clean(&mut c, t0, 3.0);
        assert_eq!(c.rate(), 37.0);
        c.on_rate_limited(t, t, SECOND);
        assert!(c.rate() >= 0.85 * 37.0, "a dip, not a halving: {}", c.rate());
        let t = clean(&mut c, t, 4.0);
        assert!(c.rate() > 36.0, "{}", c.rate());
        clean(&mut c, t, 2.0);
        assert_eq!(c.rate(), 37.0, "never above --rate");
    }

    #[test]
    fn a_server_that_refuses_everything_pauses_every_sender() {
        let t0 = Instant::now();
        let mut c = Controller::fixed(20.0);
        let mut t = clean(&mut c, t0, 2.0);
        for i in 0..PAUSE_AFTER {
            let sent = t;
            t += SECOND / 10;
            c.on_rate_limited(t, sent, 5 * SECOND);
            if i + 1 < PAUSE_AFTER {
                assert_eq!(c.paused_until(), None);
            }
        }
        assert_eq!(c.paused_until(), Some(t + 5 * SECOND));
        assert!(c.rate() < 20.0 * 0.8);
        // Never below the floor, however long it goes on.
        for _ in 0..100 {
            let sent = t;
            t += SECOND / 10;
            c.on_rate_limited(t, sent, SECOND);
        }
        assert_eq!(c.rate(), 20.0 * FLOOR);
    }

    #[test]
    fn a_limit_that_halves_then_recovers_is_followed_both_ways() {
        let t0 = Instant::now();
        let mut c = Controller::auto(500.0);
        // A server that accepts `limit` per second: every request gets an answer in 10 ms,
        // and a token bucket of 5 decides.
        let mut t = t0;
        let mut tokens = 5.0_f64;
        let mut run = |c: &mut Controller, limit: f64, seconds: f64, t: &mut Instant| {
            let end = *t + Duration::from_secs_f64(seconds);
            let mut refused = 0;
            while *t < end {
                let step = 1.0 / c.rate();
                tokens = (tokens + step * limit).min(5.0);
                let sent = *t;
                *t += Duration::from_secs_f64(step);
                if tokens >= 1.0 {
                    tokens -= 1.0;
                    c.on_success(*t);
                } else {
                    refused += 1;
                    c.on_rate_limited(*t, sent, SECOND);
                }
            }
            refused
        };
        run(&mut c, 40.0, 10.0, &mut t);
        assert!((32.0..=44.0).contains(&c.rate()), "found 40/s: {}", c.rate());
        let refused = run(&mut c, 20.0, 10.0, &mut t);
        assert!((16.0..=22.0).contains(&c.rate()), "followed it down: {}", c.rate());
        assert!(refused < 20, "{refused} refused following it down");
        run(&mut c, 40.0, 10.0, &mut t);
        assert!((32.0..=44.0).contains(&c.rate()), "and back up: {}", c.rate());
    }

    #[test]
    fn idle_time_does_not_count_towards_growth() {
        let t0 = Instant::now();
        let mut c = Controller::auto(500.0);
        let mut t = t0;
        for _ in 0..200 {
            t += SECOND / 100;
            c.on_success(t);
        }
        c.on_rate_limited(t, t, SECOND);
        assert!((c.limit().unwrap() - 100.0).abs() < 1.0, "{:?}", c.limit());
        // A minute without answers (between stages), then one clean answer: the curve moves
        // on by at most a second, not a minute.
        c.on_success(t + 60 * SECOND);
        assert!(c.rate() <= 100.0, "{} after idling", c.rate());
    }
}

//! Retries as data: the decision of what to do after an answer ([`decide`], a pure function
//! of the answer and the tries so far), and the backoff delays ([`Backoff`], an iterator
//! testable without a clock). Waiting happens in one place, the uploader's loop.

use std::time::Duration;

use super::api::Answer;

/// A 429 does not spend the retry budget like an error does (the server says when, not that it
/// failed), but a chunk stops after this many times `--max-retries` of them.
pub const RATE_LIMIT_BUDGET: u32 = 4;

/// What the uploader does next with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The answer has an entry per item: read each item's outcome from it.
    Settle,
    /// The request as a whole was refused: send each half of the chunk on its own.
    Split,
    /// Fail the chunk with the answer's error; retrying cannot help.
    Fail,
    /// The credentials were refused: stop the whole run.
    Halt,
    /// The server asked to slow down: this chunk waits this long, then retries (the pace
    /// lowers the rate for everyone).
    Pause(Duration),
    /// A passing failure: wait this long, then retry.
    Retry(Duration),
    /// Out of retries: fail the chunk, and count it towards "the server is down". A 429 that
    /// ends the tries still lowers the rate (`pause`).
    GiveUp {
        /// The pause a last 429 asked for.
        pause: Option<Duration>,
    },
}

/// Answers a chunk has had so far, this one included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tries {
    /// Transient failures (5xx, 408, timeouts, broken connections).
    pub errors: u32,
    /// 429s.
    pub rate_limited: u32,
}

/// Decides what to do after `answer` for a chunk of `items` items. Rules:
/// - entries -> settle; 401/403 -> halt; a 400 on several items -> split, on one -> fail;
///   any other refusal -> fail;
/// - 429 -> wait `Retry-After` (or the next backoff delay), capped at `cap`; give up after
///   [`RATE_LIMIT_BUDGET`] x `max_retries` of them (at least that many for `max_retries` 0);
/// - transient -> retry after the next backoff delay; give up after `max_retries` retries.
///
/// `next_delay` is only called when a backoff delay is needed, so the jitter sequence is the
/// same whatever the answers.
pub fn decide(
    answer: &Answer,
    items: usize,
    tries: Tries,
    max_retries: u32,
    cap: Duration,
    next_delay: impl FnOnce() -> Duration,
) -> Decision {
    match answer {
        Answer::Entries(_) | Answer::Users(_) => Decision::Settle,
        Answer::Refused(_) if items > 1 => Decision::Split,
        Answer::Refused(_) | Answer::Fatal(_) => Decision::Fail,
        Answer::Credentials(_) => Decision::Halt,
        Answer::RateLimited { retry_after, .. } => {
            let wait = retry_after.unwrap_or_else(next_delay).min(cap);
            if tries.rate_limited > max_retries.max(1) * RATE_LIMIT_BUDGET {
                Decision::GiveUp { pause: Some(wait) }
            } else {
                Decision::Pause(wait)
            }
        }
        Answer::Transient(_) | Answer::Overloaded(_) if tries.errors > max_retries => Decision::GiveUp { pause: None },
        Answer::Transient(_) | Answer::Overloaded(_) => Decision::Retry(next_delay()),
    }
}

/// Exponential backoff with "equal jitter": attempt n waits between d/2 and d, where
/// d = min(base * 2^n, cap). The floor keeps retries from bunching at zero; the random half
/// keeps many workers from retrying in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
    rng: fastrand::Rng,
}

impl Backoff {
    /// Starts at `base`, never above `cap`; `seed` makes the jitter repeatable in tests.
    pub fn new(base: Duration, cap: Duration, seed: u64) -> Self {
        Backoff {
            next: base.min(cap),
            cap,
            rng: fastrand::Rng::with_seed(seed),
        }
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (self.next * 2).min(self.cap);
        let half = d / 2;
        let jitter = self.rng.u64(0..=half.as_millis() as u64);
        Some(half + Duration::from_millis(jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        let ms = Duration::from_millis;
        let cap = ms(1000);
        let entries = Answer::Entries(Default::default());
        let refused = Answer::Refused("INVALID_ARGUMENT".into());
        let fatal = Answer::Fatal("NOT_FOUND".into());
        let creds = Answer::Credentials("UNAUTHENTICATED".into());
        let slow = |after: Option<u64>| Answer::RateLimited {
            retry_after: after.map(ms),
            error: "RESOURCE_EXHAUSTED".into(),
        };
        let (slow300, slow_none, slow9000) = (slow(Some(300)), slow(None), slow(Some(9_000)));
        let flaky = Answer::Transient("UNAVAILABLE".into());
        let t = |errors, rate_limited| Tries { errors, rate_limited };
        // (answer, items, tries, max_retries, decision)
        let table: Vec<(&Answer, usize, Tries, u32, Decision)> = vec![
            (&entries, 5, t(0, 0), 5, Decision::Settle),
            (&refused, 5, t(0, 0), 5, Decision::Split),
            (&refused, 2, t(0, 0), 5, Decision::Split),
            (&refused, 1, t(0, 0), 5, Decision::Fail),
            (&fatal, 5, t(0, 0), 5, Decision::Fail),
            (&creds, 5, t(0, 0), 5, Decision::Halt),
            (&slow300, 5, t(0, 1), 5, Decision::Pause(ms(300))),
            (&slow_none, 5, t(0, 1), 5, Decision::Pause(ms(77))),
            (&slow9000, 5, t(0, 1), 5, Decision::Pause(cap)),
            (&slow300, 5, t(0, 20), 5, Decision::Pause(ms(300))),
            (&slow300, 5, t(0, 21), 5, Decision::GiveUp { pause: Some(ms(300)) }),
            (&slow300, 5, t(0, 4), 0, Decision::Pause(ms(300))),
            (&slow300, 5, t(0, 5), 0, Decision::GiveUp { pause: Some(ms(300)) }),
            (&flaky, 5, t(1, 0), 5, Decision::Retry(ms(77))),
            (&flaky, 5, t(5, 3), 5, Decision::Retry(ms(77))),
            (&flaky, 5, t(6, 0), 5, Decision::GiveUp { pause: None }),
            (&flaky, 5, t(1, 0), 0, Decision::GiveUp { pause: None }),
        ];
        for (answer, items, tries, max_retries, want) in table {
            let got = decide(answer, items, tries, max_retries, cap, || ms(77));
            assert_eq!(
                got, want,
                "{answer:?} on {items} items after {tries:?}, max {max_retries}"
            );
        }
        // No delay is drawn when none is needed.
        let _ = decide(&slow(Some(1)), 1, t(0, 1), 5, cap, || panic!("drew a delay"));
        let _ = decide(&entries, 1, t(0, 0), 5, cap, || panic!("drew a delay"));
    }

    #[test]
    fn grows_doubles_and_caps_with_bounded_jitter() {
        let delays: Vec<Duration> = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 42)
            .take(8)
            .collect();
        let ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (d, ceiling) in delays.iter().zip(ceilings) {
            let ceiling = Duration::from_millis(ceiling);
            assert!(
                *d >= ceiling / 2 && *d <= ceiling,
                "{d:?} outside [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
        // Same seed, same delays; another seed, other delays.
        let again: Vec<Duration> = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 42)
            .take(8)
            .collect();
        assert_eq!(delays, again);
        let other: Vec<Duration> = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 43)
            .take(8)
            .collect();
        assert_ne!(delays, other);
    }
}

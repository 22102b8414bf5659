//! Backoff as data: an iterator of delays, exponential with jitter and a cap, testable without
//! a clock. Waiting happens in one place, the uploader.

use std::time::Duration;

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

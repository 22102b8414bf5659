//! Progress for people and for logs: a bar on a terminal, a line every few seconds elsewhere
//! (cron, CI, systemd), nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Counters the uploader bumps; the display reads them.
pub struct Progress {
    total: u64,
    done: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    started: Instant,
    bar: Option<ProgressBar>,
}

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An indicatif bar.
    Bar,
    /// A log line every few seconds.
    Log,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// A bar on a terminal, log lines elsewhere, nothing when quiet.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Log
        }
    }
}

impl Progress {
    /// Progress over `total` groups.
    pub fn new(total: u64, mode: Mode) -> Arc<Self> {
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} groups  {msg}  ETA {eta}")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            bar
        });
        let progress = Arc::new(Progress {
            total,
            done: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            started: Instant::now(),
            bar,
        });
        if mode == Mode::Log {
            let p = Arc::clone(&progress);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(LOG_EVERY);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if p.done.load(Ordering::Relaxed) >= p.total {
                        break;
                    }
                    eprintln!("velt-groups: {}", p.line());
                }
            });
        }
        progress
    }

    /// A request is about to go.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    /// A request will be retried.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` more groups have their outcome.
    pub fn done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Retries so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Achieved requests per second since the start.
    pub fn rate(&self) -> f64 {
        self.requests() as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{:.1} req/s, {} retries", self.rate(), self.retries()));
        }
    }

    /// `1200/5000 groups, 48.0 requests/s, 3 retries, about 1m20s left`.
    pub fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = if done > 0 {
            let secs = elapsed / done as f64 * (self.total - done.min(self.total)) as f64;
            format!(", about {} left", human_duration(Duration::from_secs_f64(secs)))
        } else {
            String::new()
        };
        format!(
            "{done}/{} groups, {:.1} requests/s, {} retries{left}",
            self.total,
            self.rate(),
            self.retries()
        )
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `45s`, `3m05s`, `2h01m`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_millis(4500)), "4.5s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(human_duration(Duration::from_secs(7260)), "2h01m");
    }
}

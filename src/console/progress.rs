//! Progress for people and for logs: a bar on a terminal, a line every few seconds elsewhere
//! (cron, CI, systemd), nothing with `--quiet`; with `--log-format json`, no progress but an
//! event for each retry, 429 and change of rate.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::log::{self, Event, Level};
use crate::upload::progress::{Progress, Watch};

/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

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
        if quiet || log::json() {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Log
        }
    }
}

struct Bar(ProgressBar);

impl Watch for Bar {
    fn changed(&self, p: &Progress) {
        self.0.set_position(p.done_count());
        self.0
            .set_message(format!("{:.1} req/s, {} retries", p.rate(), p.retries()));
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A rate change is logged when the rate drops, or has grown by this factor since the last
/// one logged: `--rate auto` grows a little with every answer.
const RATE_LOGGED_GROWTH: f64 = 1.25;

/// The JSON log's view of one upload stage.
struct Events {
    stage: &'static str,
    /// The rate last logged, as `f64` bits.
    logged_rate: std::sync::atomic::AtomicU64,
}

impl Watch for Events {
    fn changed(&self, _: &Progress) {}

    fn finish(&self) {}

    fn retried(&self, _: &Progress, why: &str, wait: Duration) {
        let fields = json!({"stage": self.stage, "reason": why, "wait_seconds": wait.as_secs_f64()});
        log::event(Level::Warning, Event::RequestRetried, fields);
    }

    fn rate_limited(&self, p: &Progress) {
        let fields = json!({"stage": self.stage, "rate_limited": p.rate_limited()});
        log::event(Level::Warning, Event::RateLimited, fields);
    }

    fn rate_changed(&self, _: &Progress, from: f64, to: f64) {
        use std::sync::atomic::Ordering;
        let logged = f64::from_bits(self.logged_rate.load(Ordering::Relaxed));
        let logged = if logged > 0.0 { logged } else { from };
        if to < logged || to >= logged * RATE_LOGGED_GROWTH {
            self.logged_rate.store(to.to_bits(), Ordering::Relaxed);
            let fields = json!({"stage": self.stage, "from": logged, "to": to});
            log::event(Level::Info, Event::RateChanged, fields);
        }
    }
}

/// Progress over `total` items of `stage`, shown as `mode` says. Must run inside the Tokio
/// runtime (the log lines come from a task of their own).
pub fn start(stage: &'static str, total: u64, mode: Mode) -> Arc<Progress> {
    if log::json() {
        let events = Events {
            stage,
            logged_rate: Default::default(),
        };
        return Arc::new(Progress::new(total, Some(Box::new(events))));
    }
    let watch: Option<Box<dyn Watch>> = (mode == Mode::Bar).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} groups  {msg}  ETA {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        Box::new(Bar(bar)) as Box<dyn Watch>
    });
    let progress = Arc::new(Progress::new(total, watch));
    if mode == Mode::Log {
        let p = Arc::clone(&progress);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LOG_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                if p.done_count() >= p.total() {
                    break;
                }
                eprintln!("velt-groups: {}", line(&p));
            }
        });
    }
    progress
}

/// `1200/5000 groups, 48.0 requests/s, 3 retries, about 1m20s left`.
pub fn line(p: &Progress) -> String {
    let (done, total) = (p.done_count(), p.total());
    let elapsed = p.elapsed().as_secs_f64();
    let left = if done > 0 {
        let secs = elapsed / done as f64 * (total - done.min(total)) as f64;
        format!(", about {} left", human_duration(Duration::from_secs_f64(secs)))
    } else {
        String::new()
    };
    format!(
        "{done}/{total} groups, {:.1} requests/s, {} retries{left}",
        p.rate(),
        p.retries()
    )
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

    #[test]
    fn log_line() {
        let p = Progress::new(10, None);
        p.request();
        p.retry();
        p.done(5);
        let text = line(&p);
        assert!(text.starts_with("5/10 groups, "), "{text}");
        assert!(text.contains(" requests/s, 1 retries, about "), "{text}");
    }
}

//! Progress for people and for logs: a bar on a terminal, a line every few seconds elsewhere
//! (cron, CI, systemd), nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

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
        if quiet {
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

/// Progress over `total` items, shown as `mode` says. Must run inside the Tokio runtime (the
/// log lines come from a task of their own).
pub fn start(total: u64, mode: Mode) -> Arc<Progress> {
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

//! `--log-format json`: stderr as one JSON object per line, for a log shipper (journald,
//! Loki, CloudWatch, Datadog). Each object has `timestamp` (UTC, RFC 3339), `level`, `event`
//! (one of [`Event`]'s names, a fixed set the README documents) and `run_id`, then the event's
//! own fields. The console's functions call [`event`] instead of printing when this is on, so
//! nothing else reaches stderr, and the texts are the ones the terminal would show: the same
//! scrubbed server messages, never a secret.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Set once, when the run starts with `--log-format json`.
static JSON: OnceLock<String> = OnceLock::new();

/// Every event a JSON log carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The run began: `version`, `command`.
    RunStarted,
    /// The inputs were read and normalized: `files`, `organizations`, `groups`, ...
    InputRead,
    /// A problem found in the input: `severity`, `file`, `sheet`, `rows`, `column`, `message`.
    ValidationProblem,
    /// A request will be sent again: `stage`, `reason`, `wait_seconds`.
    RequestRetried,
    /// The pace changed: `stage`, `from`, `to` (requests per second).
    RateChanged,
    /// The server answered 429: `stage`, `rate_limited` (so far in the stage).
    RateLimited,
    /// One upload stage is over: `stage`, its counts and figures.
    StageFinished,
    /// A notification went out (`webhook`, `host`, `status`) ...
    NotificationSent,
    /// ... or did not (`webhook`, `host`, `error`); the exit code is unchanged.
    NotificationFailed,
    /// Anything else a person would read on the terminal: `message`.
    Message,
    /// The run ended: `exit_code`, `outcome`, `elapsed_seconds`, `summary`, ...
    RunFinished,
}

impl Event {
    /// The event's name in the log.
    pub fn name(self) -> &'static str {
        match self {
            Event::RunStarted => "run started",
            Event::InputRead => "input read",
            Event::ValidationProblem => "validation problem",
            Event::RequestRetried => "request retried",
            Event::RateChanged => "rate changed",
            Event::RateLimited => "rate limited",
            Event::StageFinished => "stage finished",
            Event::NotificationSent => "notification sent",
            Event::NotificationFailed => "notification failed",
            Event::Message => "message",
            Event::RunFinished => "run finished",
        }
    }
}

/// How much an event matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Progress and outcomes.
    Info,
    /// Worth a look; the run goes on.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Turns JSON logging on for the rest of the process, every event carrying `run_id`.
pub fn start(run_id: &str) {
    let _ = JSON.set(run_id.to_owned());
}

/// Whether stderr is JSON lines.
pub fn json() -> bool {
    JSON.get().is_some()
}

/// Writes one event (JSON mode only): `fields` is an object whose keys follow the common ones.
pub fn event(level: Level, event: Event, fields: Value) {
    let Some(run_id) = JSON.get() else { return };
    let mut line = Map::new();
    line.insert("timestamp".into(), Value::String(timestamp(jiff::Timestamp::now())));
    line.insert("level".into(), level.name().into());
    line.insert("event".into(), event.name().into());
    line.insert("run_id".into(), run_id.clone().into());
    if let Value::Object(fields) = fields {
        line.extend(fields);
    }
    let text = Value::Object(line).to_string();
    // One write per line under the lock: events from the uploader's tasks never interleave.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// `message` events, or the text as the terminal shows it.
pub fn message(level: Level, prefix: &str, text: impl std::fmt::Display) {
    if json() {
        event(
            level,
            Event::Message,
            serde_json::json!({ "message": text.to_string() }),
        );
    } else {
        eprintln!("{prefix}{text}");
    }
}

/// UTC, to the millisecond: `2026-12-04T02:30:00.123Z`.
pub fn timestamp(t: jiff::Timestamp) -> String {
    format!("{t:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_to_the_millisecond() {
        let t: jiff::Timestamp = "2026-12-04T02:30:00.123456Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-12-04T02:30:00.123Z");
    }
}

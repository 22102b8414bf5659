//! What a run tells the tools that watch it: the `run started` and `run finished` log events,
//! the metrics file (`--metrics-file`, [`metrics`]) and the webhooks (`--notify`, [`notify`]).
//! The commands hand over what they learn as they go (the inputs, the summary, `verify`'s
//! differences); [`finish`] runs once the command is over, whatever its outcome, so a night
//! that failed early still writes its metrics and tells someone.

pub mod metrics;
pub mod notify;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use crate::cli::NotifyOn;
use crate::console::{self, log, log::Event, log::Level};
use crate::error::{Error, Exit};
use crate::plan::{GroupOutcome, Status};
use crate::report::Summary;
use crate::settings::MonitorSettings;

/// What the run learned so far; `None` outside a run (`completions`, `man`, unit tests).
static RUN: Mutex<Option<Learned>> = Mutex::new(None);

struct Learned {
    run_id: String,
    command: &'static str,
    started: jiff::Timestamp,
    clock: Instant,
    summary: Option<Summary>,
    failed_groups: Vec<String>,
    more_failed: usize,
    rows_held_back: Option<usize>,
    people_left_out: Option<BTreeMap<&'static str, usize>>,
    differences: Option<Differences>,
}

/// `verify`'s differences: per organization, per kind (`missing`, `extra`, `name`, `email`).
pub type Differences = BTreeMap<String, BTreeMap<&'static str, usize>>;

/// The kinds of difference `verify` finds, as the metrics label them.
pub const DIFFERENCE_KINDS: [&str; 5] = ["missing", "extra", "name", "email", "left-out"];

/// How a run went, as the log, the metrics file and the webhooks see it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Names this run in every log line, the metrics' neighbours and the notification.
    pub run_id: String,
    /// `import`, `verify`, `check` or `ui`.
    pub command: &'static str,
    /// The tool's version.
    pub version: &'static str,
    /// The machine it ran on.
    pub host: Option<String>,
    /// When the run started (UTC).
    #[serde(serialize_with = "utc")]
    pub started: jiff::Timestamp,
    /// When it ended (UTC).
    #[serde(serialize_with = "utc")]
    pub finished: jiff::Timestamp,
    /// Wall time, seconds.
    pub elapsed_seconds: f64,
    /// The exit code.
    pub exit_code: u8,
    /// `success`, `incomplete`, `drift` (verify) or `failed`.
    pub outcome: &'static str,
    /// The error that ended the run, as printed.
    pub error: Option<String>,
    /// The same error as a webhook may carry it: an error about the input files quotes their
    /// cells (names, unknown status values), which a chat channel must not get, so it is said
    /// by count only.
    #[serde(skip)]
    pub shared_error: Option<String>,
    /// Input rows held back (invalid, or behind a conflicting name), when the inputs were read.
    pub rows_held_back: Option<usize>,
    /// People left out as not current, by reason (`left`, `not_started`, `filtered`), when the
    /// inputs were read. Not a problem: an export lists leavers every night.
    pub people_left_out: Option<BTreeMap<&'static str, usize>>,
    /// `import`'s summary, when it got that far.
    pub summary: Option<Summary>,
    /// The first [`MAX_NAMED`] groups that failed, `name (organization)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_groups: Vec<String>,
    /// How many more failed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_failed: usize,
    /// `verify`'s differences per organization and kind, when it compared.
    pub differences: Option<Differences>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn utc<S: serde::Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&log::timestamp(*t))
}

impl Record {
    /// Whether the run needs a person: it failed, stopped, held rows back, left work undone
    /// or found drift.
    pub fn has_problems(&self) -> bool {
        self.exit_code != 0
            || self.rows_held_back.is_some_and(|n| n > 0)
            || self.summary.as_ref().is_some_and(|s| s.stopped.is_some())
            || self
                .differences
                .as_ref()
                .is_some_and(|d| d.values().flat_map(|k| k.values()).any(|n| *n > 0))
    }
}

/// A run of `command` starts: a run ID, and with `--log-format json` the log's first event.
pub fn start(command: &'static str, monitor: &MonitorSettings) {
    let run_id = run_id();
    if monitor.log_format == crate::cli::LogFormat::Json {
        log::start(&run_id);
    }
    log::event(
        Level::Info,
        Event::RunStarted,
        json!({"version": env!("VELT_GROUPS_VERSION"), "command": command}),
    );
    *lock() = Some(Learned {
        run_id,
        command,
        started: jiff::Timestamp::now(),
        clock: Instant::now(),
        summary: None,
        failed_groups: Vec::new(),
        more_failed: 0,
        rows_held_back: None,
        people_left_out: None,
        differences: None,
    });
    // Not for `ui`: the page's server answers Ctrl-C itself.
    if command != "ui" {
        watch_signals(monitor.clone());
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Learned>> {
    // A panic elsewhere while holding it leaves nothing half-written worth refusing.
    RUN.lock().unwrap_or_else(|e| e.into_inner())
}

/// 16 hex digits from the system's random source (the clock if that fails).
fn run_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = jiff::Timestamp::now().as_nanosecond();
        bytes = (nanos as u64).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inputs were read: logged, and the rows held back counted.
pub fn input_read(plan: &crate::normalize::Plan) {
    console::input_read(plan);
    let conflicting: usize = plan
        .conflicts
        .iter()
        .flat_map(|c| c.names.iter().map(|(_, rows)| rows.len()))
        .sum();
    let mut left_out: BTreeMap<&'static str, usize> = ["left", "not_started", "filtered"]
        .into_iter()
        .map(|r| (r, 0))
        .collect();
    for l in &plan.left_out {
        let reason = if l.why.is_inactive() {
            "left"
        } else if l.why.is_not_started() {
            "not_started"
        } else {
            "filtered"
        };
        *left_out.entry(reason).or_default() += 1;
    }
    if let Some(run) = lock().as_mut() {
        run.rows_held_back = Some(plan.invalid.len() + conflicting);
        run.people_left_out = Some(left_out);
    }
}

/// Failed groups named in the record at most; the report has them all.
pub const MAX_NAMED: usize = 20;

/// Set once an upload began: from then on the upload answers SIGTERM and Ctrl-C itself
/// (stops sending, writes the report) and the run ends as usual.
static UPLOADING: AtomicBool = AtomicBool::new(false);

/// An upload begins: SIGTERM and Ctrl-C are its to handle from now on.
pub fn upload_started() {
    UPLOADING.store(true, Ordering::SeqCst);
}

/// With a JSON log, a metrics file or webhooks, SIGTERM or Ctrl-C before any upload (while
/// the inputs are read, while `verify` reads back) still ends the run with `run finished`,
/// the metrics and the notification, then exit 2, instead of the process vanishing.
fn watch_signals(monitor: MonitorSettings) {
    let watched = monitor.log_format == crate::cli::LogFormat::Json
        || monitor.metrics_file.is_some()
        || !monitor.notify.is_empty();
    if !watched {
        return;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("velt-groups-signals".into())
        .spawn(move || {
            runtime.block_on(signal());
            // An upload stops itself, and a run already finishing is left to finish.
            if UPLOADING.load(Ordering::SeqCst) {
                return;
            }
            let Some(run) = lock().take() else { return };
            let error = Error::Interrupted;
            let exit = console::fail(&error);
            std::process::exit(complete(run, &monitor, exit, Some(&error)) as i32);
        });
    drop(spawned);
}

/// Resolves on Ctrl-C or SIGTERM.
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        // No handler could be set: wait for nothing, the default behaviour stays.
        std::future::pending::<()>().await;
    }
}

/// `import`'s summary, as written to the report, and the groups that failed.
pub fn summary(summary: &Summary, groups: &[GroupOutcome]) {
    let failed: Vec<&GroupOutcome> = groups.iter().filter(|g| g.status == Status::Failed).collect();
    if let Some(run) = lock().as_mut() {
        run.summary = Some(summary.clone());
        run.failed_groups = failed
            .iter()
            .take(MAX_NAMED)
            .map(|g| format!("{} ({})", g.group_name, g.organization_id))
            .collect();
        run.more_failed = failed.len().saturating_sub(MAX_NAMED);
    }
}

/// `verify` compared `organizations` and found `differences` (organization, kind).
pub fn differences<'a>(
    organizations: impl IntoIterator<Item = &'a str>,
    differences: impl IntoIterator<Item = (&'a str, &'static str)>,
) {
    let mut found = Differences::new();
    for org in organizations {
        found.insert(org.to_owned(), DIFFERENCE_KINDS.iter().map(|k| (*k, 0)).collect());
    }
    for (org, kind) in differences {
        *found.entry(org.to_owned()).or_default().entry(kind).or_default() += 1;
    }
    if let Some(run) = lock().as_mut() {
        run.differences = Some(found);
    }
}

/// The error as one text: clap's first line (the rest is usage for a person), or the whole.
fn shared_error_text(error: &Error) -> String {
    match error {
        Error::Inputs(problems) => format!(
            "{} the input files could not be used as they are; the log and `velt-groups check` name {}",
            if problems.len() == 1 { "One of" } else { "Some of" },
            if problems.len() == 1 {
                "the problem"
            } else {
                "the problems"
            },
        ),
        other => error_text(other),
    }
}

fn error_text(error: &Error) -> String {
    match error {
        Error::Settings(crate::settings::SettingsError::Clap(e)) => console::clap_error(e),
        other => other.to_string(),
    }
}

/// The command and whether `--log-format json` is on the command line, read before the
/// settings are: settings that cannot work are then reported as JSON too. (`log-format` in a
/// config file is only known once the settings parse.)
pub fn asked_for_json(args: &[std::ffi::OsString]) -> Option<&'static str> {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let json = args.windows(2).any(|w| w[0] == "--log-format" && w[1] == "json") || args.contains(&"--log-format=json");
    let command = ["check", "import", "verify", "ui"]
        .into_iter()
        .find(|c| args.contains(c));
    json.then(|| command.unwrap_or("velt-groups"))
}

/// Settings that cannot work: printed, as JSON lines between `run started` and `run finished`
/// when `asked` says so (see [`asked_for_json`]).
pub fn refused(asked: Option<&'static str>, error: Error) -> Exit {
    let help = matches!(&error, Error::Settings(crate::settings::SettingsError::Clap(e)) if !e.use_stderr());
    match asked.filter(|_| !help) {
        Some(command) => {
            let monitor = MonitorSettings {
                log_format: crate::cli::LogFormat::Json,
                ..MonitorSettings::default()
            };
            start(command, &monitor);
            let exit = console::fail(&error);
            finish(&monitor, exit, Some(&error))
        }
        None => console::fail(&error),
    }
}

/// The run is over with `exit` (and `error`, if one ended it): notify, write the metrics,
/// log `run finished`. None of them changes the exit code: a failure is logged.
pub fn finish(monitor: &MonitorSettings, exit: Exit, error: Option<&Error>) -> Exit {
    // Taken once: by this, or by the signal watcher if a signal came first.
    let Some(run) = lock().take() else { return exit };
    complete(run, monitor, exit, error)
}

fn complete(run: Learned, monitor: &MonitorSettings, exit: Exit, error: Option<&Error>) -> Exit {
    let record = Record {
        outcome: match (exit, run.command) {
            (Exit::Success, _) => "success",
            (Exit::Incomplete, "verify") => "drift",
            (Exit::Incomplete, _) => "incomplete",
            (Exit::NothingAttempted, _) => "failed",
        },
        run_id: run.run_id,
        command: run.command,
        version: env!("VELT_GROUPS_VERSION"),
        host: notify::hostname(),
        started: run.started,
        finished: jiff::Timestamp::now(),
        elapsed_seconds: run.clock.elapsed().as_secs_f64(),
        exit_code: exit as u8,
        error: error.map(error_text),
        shared_error: error.map(shared_error_text),
        rows_held_back: run.rows_held_back,
        people_left_out: run.people_left_out,
        summary: run.summary,
        failed_groups: run.failed_groups,
        more_failed: run.more_failed,
        differences: run.differences,
    };
    let wanted = match monitor.notify_on {
        NotifyOn::Always => true,
        NotifyOn::Problems => record.has_problems(),
    };
    let deliveries = if wanted && !monitor.notify.is_empty() {
        notify::send(&monitor.notify, &record)
    } else {
        Vec::new()
    };
    if let Some(path) = &monitor.metrics_file {
        let text = metrics::render(&record, &deliveries);
        if let Err(e) = crate::report::write_atomic(path, |out| out.write_all(text.as_bytes())) {
            console::error(format!(
                "cannot write the metrics file {}: {e}; check the folder exists and is writable (the exit code is unchanged)",
                path.display()
            ));
        }
    }
    let level = match exit {
        Exit::Success => Level::Info,
        Exit::Incomplete => Level::Warning,
        Exit::NothingAttempted => Level::Error,
    };
    let mut fields = serde_json::to_value(&record).unwrap_or_default();
    if let Some(fields) = fields.as_object_mut() {
        // Every line carries these already.
        fields.remove("run_id");
        fields.remove("version");
    }
    log::event(level, Event::RunFinished, fields);
    exit
}

#[cfg(test)]
mod tests;

//! The one place that talks to the person at the terminal: errors as one plain line each,
//! warnings, the problems found in the input, what a dry run would do, and the run's summary.
//! Everything here goes to stderr; stdout carries only a command's output (`check`'s table).

pub mod log;
mod man;
pub mod progress;

use crate::error::{Error, Exit};
use crate::location::compress_rows;
use crate::normalize::{Problem, Severity};
use crate::plan::{Action, Endpoint, Plan, RemovalGuard, Status};
use crate::report::Summary;
use crate::settings::{SettingsError, Warning};
use crate::upload::{self, Rate, Stop, UploadSettings};
use log::{message, Event, Level};
use progress::human_duration;
use serde_json::json;

/// Prints a failure and returns its exit code.
pub fn fail(error: &Error) -> Exit {
    match error {
        // clap words its own usage errors, help and version.
        Error::Settings(SettingsError::Clap(e)) if log::json() && e.use_stderr() => {
            message(Level::Error, "", clap_error(e));
        }
        Error::Settings(SettingsError::Clap(e)) => {
            let _ = e.print();
        }
        Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => {
            for line in other.to_string().lines() {
                message(Level::Error, "error: ", line);
            }
        }
    }
    error.exit()
}

/// clap's first line, without its `error: `: the rest is usage for a person at a terminal.
pub fn clap_error(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// Writes the completion script for `shell` to stdout, generated from the flags themselves.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit, Error> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "velt-groups", &mut script);
    write_stdout(&script)
}

/// Writes the man page (roff) to stdout, generated from the flags themselves.
pub fn man_page() -> Result<Exit, Error> {
    write_stdout(&man::render().map_err(Error::Output)?)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit, Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(Error::Output)?;
    Ok(Exit::Success)
}

/// Prints an error line that does not stop the run.
pub fn error(text: impl std::fmt::Display) {
    message(Level::Error, "error: ", text);
}

/// Prints the settings' warnings.
pub fn warnings(warnings: &[Warning]) {
    for w in warnings {
        message(Level::Warning, "warning: ", w);
    }
}

/// Problems, one line per kind of problem per table and column, rows compressed, so ten
/// thousand employees without a department make one line, not ten thousand.
pub fn problems(problems: &[Problem]) {
    if log::json() {
        for (p, rows) in grouped(problems) {
            let level = match p.severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            };
            let fields = json!({
                "severity": severity_word(p.severity),
                "file": p.location.file,
                "sheet": p.location.sheet,
                "rows": compress_rows(rows.iter().copied()),
                "row_count": rows.len(),
                "column": p.location.column.as_deref().filter(|c| !c.is_empty()),
                "message": p.message,
            });
            log::event(level, Event::ValidationProblem, fields);
        }
        return;
    }
    for line in problem_lines(problems) {
        eprintln!("{line}");
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Problems of one kind, table and column together, with their rows.
fn grouped(problems: &[Problem]) -> Vec<(&Problem, Vec<u64>)> {
    let mut groups: Vec<(&Problem, Vec<u64>)> = Vec::new();
    for p in problems {
        let same = groups.iter_mut().find(|(q, _)| {
            q.severity == p.severity
                && q.message == p.message
                && q.location.file == p.location.file
                && q.location.sheet == p.location.sheet
                && q.location.column == p.location.column
        });
        match same {
            Some((_, rows)) => rows.extend(p.location.row),
            None => groups.push((p, p.location.row.into_iter().collect())),
        }
    }
    groups
}

/// The lines [`problems`] prints, for the web page to show them worded as the terminal does.
pub fn problem_lines(problems: &[Problem]) -> Vec<String> {
    grouped(problems)
        .into_iter()
        .map(|(p, rows)| {
            let word = severity_word(p.severity);
            let mut at = p.location.file.clone();
            if let Some(sheet) = &p.location.sheet {
                at.push_str(&format!(", sheet '{sheet}'"));
            }
            match rows.len() {
                0 => {}
                1 => at.push_str(&format!(", row {}", rows[0])),
                n => at.push_str(&format!(", rows {} ({n} rows)", compress_rows(rows.iter().copied()))),
            }
            if let Some(column) = p.location.column.as_deref().filter(|c| !c.is_empty()) {
                at.push_str(&format!(", column '{column}'"));
            }
            format!("{word}: {at}: {}", p.message)
        })
        .collect()
}

/// Prints a line of `check`'s or `import`'s own (the summary of what was found).
pub fn line(text: impl std::fmt::Display) {
    message(Level::Info, "", text);
}

/// What was read: the tables, and what the normalizer made of them (JSON logs only; the
/// terminal shows it in the summary).
pub fn input_read(plan: &crate::normalize::Plan) {
    if !log::json() {
        return;
    }
    let files: Vec<_> = plan
        .tables
        .iter()
        .map(|t| json!({"file": t.file, "sheet": t.sheet}))
        .collect();
    let count = |severity| plan.problems.iter().filter(|p| p.severity == severity).count();
    let fields = json!({
        "files": files,
        "organizations": plan.organizations.len(),
        "groups": plan.group_count(),
        "conflicts": plan.conflicts.len(),
        "invalid_rows": plan.invalid.len(),
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
    });
    log::event(Level::Info, Event::InputRead, fields);
}

/// One upload stage ("groups", "organization users", "memberships") is over (JSON logs only;
/// the terminal shows the run's summary).
pub fn stage_finished(stage: &str, outcome: &upload::Outcome) {
    if !log::json() {
        return;
    }
    let confirmed = outcome.results.values().filter(|d| d.confirmed).count();
    let fields = json!({
        "stage": stage,
        "items": outcome.results.len(),
        "confirmed": confirmed,
        "failed": outcome.results.len() - confirmed,
        "requests": outcome.requests,
        "retries": outcome.retries,
        "rate_limited": outcome.rate_limited,
        "elapsed_seconds": outcome.elapsed.as_secs_f64(),
        "final_rate": outcome.final_rate,
        "settled_rate": outcome.settled_rate,
        "stopped": outcome.stop.as_ref().map(describe_stop),
    });
    let level = if outcome.stop.is_some() || confirmed < outcome.results.len() {
        Level::Warning
    } else {
        Level::Info
    };
    log::event(level, Event::StageFinished, fields);
}

/// `1 group`, `2 groups`, `3 retries`.
pub fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}

/// Says the removals were held back.
pub fn removal_guard(guard: &RemovalGuard) {
    error(guard);
}

/// What a dry run would send, and how long it would take.
pub fn dry_run(plan: &Plan, settings: &UploadSettings) {
    for m in plan
        .members
        .iter()
        .flatten()
        .filter(|m| m.action == Action::Remove && m.status == Status::Planned)
    {
        message(
            Level::Info,
            "",
            format!(
                "dry run: would remove {} from {} ({})",
                m.user_id, m.group_id, m.organization_id
            ),
        );
    }
    let f = Sending::of(plan, settings);
    // "about 0.0s" reads as a fault; a short run is said as such.
    let time = |rate: f64| match f.seconds_at(rate) {
        s if s < 1.0 => "under a second".to_owned(),
        s => format!("about {}", human_duration(std::time::Duration::from_secs_f64(s))),
    };
    let pace = match settings.rate {
        Rate::Fixed(rate) => format!("at {rate} requests/s that takes {}", time(rate)),
        // The server's limit is what `auto` finds out, so the time can only be a range.
        Rate::Auto { max } => format!(
            "at --rate auto that takes from {} (at --max-rate {max} requests/s) to {} (at {} requests/s, where it starts), as the server's limit, --concurrency and latency allow",
            time(max),
            time(settings.rate.start()),
            settings.rate.start()
        ),
    };
    let memberships = match (f.users, f.memberships) {
        (0, 0) => String::new(),
        (0, n) => format!(" and {}", count(n, "membership change")),
        (u, n) => format!(
            ", {} and {}",
            count(u, "organization user"),
            count(n, "membership change")
        ),
    };
    message(
        Level::Info,
        "",
        format!(
            "dry run: would send {}{memberships} in {} to {}; {pace}",
            count(f.groups, "group"),
            count(f.requests, "request"),
            settings.api_base,
        ),
    );
}

/// What a plan would send: items, requests and the time they take at the configured rate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sending {
    /// Groups to add.
    pub groups: usize,
    /// Organization users to add.
    pub users: usize,
    /// Membership changes.
    pub memberships: usize,
    /// Requests, chunked as the uploader chunks them.
    pub requests: usize,
    /// Seconds at the rate the run starts at, after the first `--burst`.
    pub seconds: f64,
    burst: usize,
}

impl Sending {
    /// The figures of `plan` under `settings`.
    pub fn of(plan: &Plan, settings: &UploadSettings) -> Self {
        use upload::Item;
        // The items in the order the uploader sends them (groups, users, memberships), as
        // views of the plan: copying a million memberships into work items only to count
        // their requests was a dry run's peak of memory.
        let planned = |s: Status| s == Status::Planned;
        let groups = plan.groups.iter().filter(|o| planned(o.status)).map(|o| Item {
            endpoint: Endpoint::AddGroups,
            org: &o.organization_id,
            group: &o.group_id,
        });
        let users = plan.users.iter().flatten().filter(|u| planned(u.status)).map(|u| Item {
            endpoint: Endpoint::AddUsers,
            org: &u.organization_id,
            group: "",
        });
        let members = plan
            .members
            .iter()
            .flatten()
            .filter(|m| planned(m.status))
            .map(|m| Item {
                endpoint: m.action.endpoint(),
                org: &m.organization_id,
                group: &m.group_id,
            });
        let (g, u, m) = (groups.clone().count(), users.clone().count(), members.clone().count());
        let requests = upload::count_requests(groups.chain(users).chain(members), |e| settings.chunk_limit(e));
        Sending {
            groups: g,
            users: u,
            memberships: m,
            requests,
            seconds: requests.saturating_sub(settings.burst.get() as usize) as f64 / settings.rate.start(),
            burst: settings.burst.get() as usize,
        }
    }

    /// Seconds the requests take at `rate`, after the first `--burst`.
    pub fn seconds_at(&self, rate: f64) -> f64 {
        self.requests.saturating_sub(self.burst) as f64 / rate
    }
}

/// Says how an upload ended early.
pub fn stopped(stop: &Stop) {
    error(describe_stop(stop));
}

/// Why a run stopped, in words.
pub fn describe_stop(stop: &Stop) -> String {
    match stop {
        Stop::Credentials(e) => format!(
            "the server refused the credentials ({e}); check VELT_API_KEY and VELT_AUTH_TOKEN; nothing more was sent"
        ),
        Stop::ServerDown(e) => format!(
            "stopped early: {} chunks in a row failed after all their retries (last: {e}); the groups not sent are reported as not attempted, so the next run sends them",
            upload::DOWN_AFTER_CHUNKS
        ),
        Stop::Interrupted => "interrupted: groups not confirmed are reported as failed; run the same command again to send them".into(),
    }
}

/// Says a confirmation could not be recorded in the state.
pub fn record_failed(e: &upload::RecordError) {
    error(format!("{e}; what was confirmed after that may be sent again next run"));
}

/// Says the report could not be written and where the fallback CSV went instead.
pub fn report_fallback(error: &crate::report::ReportError, fallback: &std::path::Path) {
    message(Level::Error, "error: ", error);
    message(
        Level::Warning,
        "",
        format!("the report was written as CSV to {} instead", fallback.display()),
    );
}

/// The web page's address, as the first line on stdout (a script or a person opens it).
pub fn ui_address(url: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{url}");
    let _ = out.flush();
}

/// Says the browser could not be opened; the address printed above still works.
pub fn browser_failed(error: impl std::fmt::Display) {
    message(
        Level::Warning,
        "warning: ",
        format!("cannot open a browser ({error}); open the address above yourself"),
    );
}

/// Says an import of the web page was interrupted by a signal, and where its report was kept.
pub fn ui_interrupted(kept: &[std::path::PathBuf]) {
    match kept {
        [] => eprintln!(
            "velt-groups: the import was interrupted before its report was written; run it again to send the rest"
        ),
        _ => {
            let paths: Vec<String> = kept.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "velt-groups: the import was interrupted; its report is {}; run it again to send the rest",
                paths.join(" and ")
            );
        }
    }
}

/// Says the web page's server stopped.
pub fn ui_stopped() {
    message(Level::Info, "velt-groups: ", "stopped");
}

/// Says Ctrl-C or SIGTERM arrived.
pub fn interrupted() {
    message(Level::Warning, "velt-groups: ", "interrupted; finishing the report");
}

/// Says so when concurrency, not a fixed `--rate`, held the run back. (With `--rate auto`
/// that is the expected end when the server sets no limit, and the summary says so.)
pub fn advise_concurrency(settings: &UploadSettings, outcome: &upload::Outcome) {
    let Rate::Fixed(rate) = settings.rate else {
        return;
    };
    let achieved = outcome.requests as f64 / outcome.elapsed.as_secs_f64().max(1e-9);
    let slowed_by_server = outcome.final_rate < rate;
    if outcome.requests as usize > 4 * settings.concurrency
        && achieved < 0.9 * rate
        && !slowed_by_server
        && outcome.retries == 0
    {
        let latency = settings.concurrency as f64 / achieved;
        let needed = (rate * latency).ceil() as usize + 1;
        message(
            Level::Info,
            "note: ",
            format!(
                "{achieved:.1} requests/s of --rate {rate}: with about {:.0} ms per request, --concurrency {} is the limit; --concurrency {needed} would reach the rate",
                latency * 1000.0,
                settings.concurrency
            ),
        );
    }
}

/// Lines of failure causes printed at most; the report has every one.
const MAX_CAUSES: usize = 3;

/// Why things failed, grouped by cause, most common first ("12 groups failed: cannot connect:
/// connection refused"), so the cause is on the terminal, not only in the report. Items never
/// sent are left out: [`stopped`] already said why.
pub fn failure_causes(outcome: &upload::Outcome) {
    let mut causes: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for (key, done) in outcome.results.iter() {
        if done.confirmed || done.error.starts_with("not attempted") {
            continue;
        }
        let noun = match key.endpoint {
            crate::plan::Endpoint::AddGroups => "group",
            crate::plan::Endpoint::AddUsers => "organization user",
            crate::plan::Endpoint::AddMembers | crate::plan::Endpoint::RemoveMembers => "membership change",
        };
        *causes.entry((noun, &*done.error)).or_default() += 1;
    }
    let mut causes: Vec<_> = causes.into_iter().collect();
    causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((noun, cause), n) in causes.iter().take(MAX_CAUSES) {
        error(format!("{} failed: {cause}", count(*n, noun)));
    }
    if causes.len() > MAX_CAUSES {
        let rest: usize = causes[MAX_CAUSES..].iter().map(|c| c.1).sum();
        error(format!(
            "{rest} more failed for {} other causes; see the report",
            causes.len() - MAX_CAUSES
        ));
    }
    // rustls names an untrusted chain "invalid peer certificate: UnknownIssuer"; in a company
    // network that is most often a TLS-inspecting proxy whose CA the tool was not given.
    if causes.iter().any(|((_, cause), _)| cause.contains("UnknownIssuer")) {
        message(
            Level::Info,
            "note: ",
            "the server's certificate is signed by a CA this machine does not trust; behind a TLS-inspecting proxy or with a private CA, give its certificate with --ca-file (PEM) or add it to the system's certificate store",
        );
    }
}

/// The run's summary: counts per organization, requests, and where the report is.
pub fn summary(summary: &Summary) {
    // JSON logs carry the summary whole in `run finished`.
    if log::json() {
        return;
    }
    for (org, counts) in &summary.organizations {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org}: {}", parts.join(", "));
    }
    for (org, counts) in &summary.users {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org} organization users: {}", parts.join(", "));
    }
    for (org, counts) in &summary.memberships {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org} memberships: {}", parts.join(", "));
    }
    for (kind, counts) in &summary.kinds {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{kind} groups: {}", parts.join(", "));
    }
    for (kind, n) in summary.without_group.iter().filter(|(_, n)| **n > 0) {
        eprintln!("{} with no {kind}: in no {kind} group", count(*n as usize, "row"));
    }
    for renamed in &summary.renamed {
        eprintln!("{renamed}");
    }
    if summary.requests > 0 {
        eprintln!(
            "{} ({}) in {}, {:.1} requests/s",
            count(summary.requests as usize, "request"),
            count(summary.retries as usize, "retry"),
            human_duration(std::time::Duration::from_secs_f64(summary.elapsed_seconds)),
            summary.achieved_rate
        );
    }
    let refused = format!(
        "{} ({:.1}% of requests)",
        count(summary.rate_limited as usize, "time"),
        100.0 * summary.rate_limited as f64 / summary.requests.max(1) as f64
    );
    match (summary.auto_rate, summary.settled_rate) {
        // Nothing accepted, nothing learned: a rate to pin would be a guess.
        _ if summary.requests > 0 && summary.rate_limited >= summary.requests => eprintln!(
            "the server refused every request ({refused}) and accepted none, so no rate can be learned from this run; another client may be using up the limit of this API key: try again later, or ask Velt support about the limit"
        ),
        (true, Some(settled)) if summary.slowed_down > 0 && summary.rate_limited == 0 => eprintln!(
            "--rate auto slowed down {} as the server slowed (timeouts) and held about {settled:.1} requests/s; to pin a nightly run to it: --rate {}",
            count(summary.slowed_down as usize, "time"),
            suggested_rate(settled)
        ),
        (true, Some(settled)) if summary.rate_limited > 0 => eprintln!(
            "--rate auto settled at {settled:.1} requests/s; the server asked to slow down {refused}; to pin a nightly run to it: --rate {}",
            suggested_rate(settled)
        ),
        (true, Some(settled)) => eprintln!(
            "--rate auto met no limit: it reached {settled:.1} requests/s, as far as --concurrency, latency and --max-rate allow"
        ),
        (false, settled) if summary.rate_limited > 0 => {
            let held = settled.unwrap_or(summary.final_rate);
            eprintln!(
                "the server asked to slow down {refused}; the run held about {held:.1} requests/s; try --rate {} (or --rate auto)",
                suggested_rate(held)
            );
        }
        _ => {}
    }
    if let Some(report) = &summary.report {
        eprintln!("report: {report}");
    }
}

/// A `--rate` to try after 429s: the rate the run settled at, rounded down to a plain number.
fn suggested_rate(final_rate: f64) -> String {
    if final_rate >= 1.0 {
        format!("{}", final_rate.floor())
    } else {
        format!("{:.2}", final_rate.max(0.01))
    }
}

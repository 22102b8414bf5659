//! `velt-groups import`: the pipeline in order. Read, map and normalize the inputs; plan
//! against the state; stop if validation held anything back; then either show the plan (dry
//! run) or carry it out (groups first, then memberships); then report.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::console;
use crate::console::progress::{self, Mode};
use crate::error::{Error, Exit};
use crate::input;
use crate::plan::Work;
use crate::plan::{Known, Plan, PlanOptions, Status};
use crate::report::{self, Report, ReportFile, Summary};
use crate::settings::ImportSettings;
use crate::state::State;
use crate::upload::{self, Confirmations, Stop, UploadSettings};

/// Runs `import`.
pub fn run(s: &ImportSettings) -> Result<Exit, Error> {
    let report = ReportFile::new(s.report.clone())?;
    if let Some(path) = &s.summary_json {
        report::check_summary(path)?;
    }
    let state = match &s.state {
        Some(path) => Some(Arc::new(State::open(path, s.upload.api_base.as_str())?)),
        None => None,
    };
    let normalized = input::load(&s.input).map_err(Error::Inputs)?;
    console::problems(&normalized.problems);
    let known = match &state {
        Some(state) => state.known(organizations(&normalized).iter().map(String::as_str))?,
        None => Known::default(),
    };
    let options = PlanOptions {
        full: s.full,
        members: s.input.map.members,
        remove_departed: s.remove_departed,
        max_removals: s.max_removals,
    };
    let mut plan = Plan::build(&normalized, &known, options);
    let held_back = plan.held_back();
    if held_back > 0 && !s.allow_partial {
        // The report still replaces the last one, so a fixed nightly path never shows
        // yesterday's outcome as today's.
        let why = format!("not attempted: validation failed ({held_back} held back; see the invalid rows)");
        not_attempted(&mut plan, &why);
        let mut summary = Summary::count(&plan.groups, plan.users.as_deref(), plan.members.as_deref());
        summary.stopped = Some("validation failed; nothing was sent".into());
        write_outputs(s, &report, &normalized, &plan, &mut summary)?;
        return Err(Error::Invalid {
            held_back,
            valid: normalized.group_count(),
        });
    }
    if let Some(guard) = &plan.removal_guard {
        console::removal_guard(guard);
    }
    let mut stats = Stats::default();
    let exit = if s.dry_run {
        dry_run_table(&plan).map_err(Error::Output)?;
        console::dry_run(&plan, &s.upload);
        Exit::Success
    } else {
        let record = state.map(|s| s as Arc<dyn Confirmations>);
        execute(&mut plan, s, record, &mut stats)?
    };
    let mut summary = Summary::count(&plan.groups, plan.users.as_deref(), plan.members.as_deref());
    stats.fill(&mut summary);
    write_outputs(s, &report, &normalized, &plan, &mut summary)?;
    console::summary(&summary);
    Ok(if plan.complete() {
        exit
    } else {
        exit.max(Exit::Incomplete)
    })
}

/// What a dry run would send, on stdout as `check` prints its table: each group to add, per
/// organization, with its source row count.
fn dry_run_table(plan: &Plan) -> std::io::Result<()> {
    use std::io::Write;
    let rows: Vec<[String; 4]> = plan
        .groups
        .iter()
        .filter(|o| o.status == Status::Planned)
        .map(|o| {
            [
                o.organization_id.clone(),
                o.group_id.clone(),
                o.group_name.clone(),
                o.sources.len().to_string(),
            ]
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    super::check::write_rows(super::check::TABLE_HEADERS, &rows, &mut out)?;
    out.flush()
}

/// Marks everything that was planned as failed, never sent, for `why`.
fn not_attempted(plan: &mut Plan, why: &str) {
    let groups = plan.groups.iter_mut().map(|o| (&mut o.status, &mut o.error));
    let members = plan.members.iter_mut().flatten().map(|m| (&mut m.status, &mut m.error));
    for (status, error) in groups.chain(members) {
        if *status == Status::Planned {
            *status = Status::Failed;
            *error = why.to_owned();
        }
    }
}

/// Writes the report (or its CSV fallback) and the summary JSON.
fn write_outputs(
    s: &ImportSettings,
    report: &ReportFile,
    normalized: &crate::normalize::Plan,
    plan: &Plan,
    summary: &mut Summary,
) -> Result<(), Error> {
    summary.report = Some(report.path().display().to_string());
    let written = report.write(&Report {
        input: normalized,
        groups: &plan.groups,
        users: plan.users.as_deref(),
        members: plan.members.as_deref(),
        summary,
    });
    if let Err(e) = written {
        // What was sent must not be lost to a report-format problem: the plainest format
        // beside it, and the exit code by what happened to the groups.
        let fallback = report.fallback();
        summary.report = Some(fallback.path().display().to_string());
        let retry = fallback.write(&Report {
            input: normalized,
            groups: &plan.groups,
            users: plan.users.as_deref(),
            members: plan.members.as_deref(),
            summary,
        });
        if let Err(second) = retry {
            console::error(&second);
            return Err(e.into());
        }
        console::report_fallback(&e, fallback.path());
    }
    if let Some(path) = &s.summary_json {
        report::write_summary(path, summary)?;
    }
    Ok(())
}

/// Every organization the export names, held-back rows included (their stale groups count).
fn organizations(normalized: &crate::normalize::Plan) -> BTreeSet<String> {
    let valid = normalized.organizations.iter().map(|o| &o.id);
    let conflicts = normalized.conflicts.iter().map(|c| &c.organization_id);
    let invalid = normalized.invalid.iter().map(|r| &r.organization_id);
    valid
        .chain(conflicts)
        .chain(invalid)
        .filter(|o| !o.is_empty())
        .cloned()
        .collect()
}

/// Sends the groups, then the memberships of the groups that were confirmed.
fn execute(
    plan: &mut Plan,
    s: &ImportSettings,
    record: Option<Arc<dyn Confirmations>>,
    stats: &mut Stats,
) -> Result<Exit, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mode = Mode::detect(s.quiet);
    let groups = send(&runtime, &s.upload, plan.group_work(), record.clone(), mode)?;
    plan.record_groups(&groups.results);
    let mut exit = stats.add(&s.upload, &groups);
    plan.after_groups(groups.stop.as_ref().map(Stop::not_attempted).as_deref());
    // Only organization users can join groups: the users go before their memberships.
    let work = plan.user_work();
    if !work.is_empty() {
        let users = send(&runtime, &s.upload, work, record.clone(), mode)?;
        exit = exit.max(stats.add(&s.upload, &users));
        plan.record_users(&users.results, users.stop.as_ref().map(Stop::not_attempted).as_deref());
    } else {
        plan.record_users(&Default::default(), None);
    }
    let work = plan.member_work();
    if !work.is_empty() {
        let members = send(&runtime, &s.upload, work, record, mode)?;
        plan.record_members(&members.results);
        exit = exit.max(stats.add(&s.upload, &members));
    }
    Ok(exit)
}

fn send(
    runtime: &tokio::runtime::Runtime,
    settings: &UploadSettings,
    work: Vec<Work>,
    record: Option<Arc<dyn Confirmations>>,
    mode: Mode,
) -> Result<upload::Outcome, Error> {
    runtime.block_on(async {
        let progress = progress::start(work.len() as u64, mode);
        Ok(upload::upload(settings.clone(), work, progress, record, interrupted()).await?)
    })
}

/// Resolves on Ctrl-C, or on SIGTERM (a scheduler stopping the job), or on Ctrl-Break (Windows).
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    // Windows: Ctrl-C and Ctrl-Break. Closing the console window, logging off and "End task"
    // end the process without a chance to write the report (Windows gives handlers no time
    // worth having), as `kill -9` does on Unix; the state file is safe either way.
    #[cfg(windows)]
    {
        match tokio::signal::windows::ctrl_break() {
            Ok(mut brk) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = brk.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    console::interrupted();
}

/// Requests, retries and time over the run's uploads (groups, then memberships).
#[derive(Default)]
struct Stats {
    requests: u64,
    retries: u64,
    elapsed: std::time::Duration,
    stopped: Option<String>,
    rate_limited: u64,
    final_rate: Option<f64>,
}

impl Stats {
    /// Adds one upload's figures, says how it ended, and returns the exit code it implies.
    fn add(&mut self, settings: &UploadSettings, outcome: &upload::Outcome) -> Exit {
        self.requests += outcome.requests;
        self.retries += outcome.retries;
        self.elapsed += outcome.elapsed;
        self.rate_limited += outcome.rate_limited;
        self.final_rate = Some(outcome.final_rate.min(self.final_rate.unwrap_or(f64::INFINITY)));
        console::advise_concurrency(settings, outcome);
        console::failure_causes(outcome);
        let mut exit = Exit::Success;
        if let Some(stop) = &outcome.stop {
            console::stopped(stop);
            self.stopped = Some(console::describe_stop(stop));
            if let Stop::Credentials(_) = stop {
                exit = Exit::NothingAttempted;
            }
        }
        if let Some(e) = &outcome.record_error {
            console::record_failed(e);
            exit = exit.max(Exit::Incomplete);
        }
        exit
    }

    fn fill(&self, summary: &mut Summary) {
        summary.requests = self.requests;
        summary.retries = self.retries;
        summary.elapsed_seconds = self.elapsed.as_secs_f64();
        summary.achieved_rate = self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9);
        summary.stopped = self.stopped.clone();
        summary.rate_limited = self.rate_limited;
        summary.final_rate = self.final_rate.unwrap_or(0.0);
    }
}

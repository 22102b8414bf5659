//! `velt-groups import`: validate, then send (or, with `--dry-run`, plan), then report.

use std::sync::Arc;

use crate::check::{count, print_problems};
use crate::cli::ImportArgs;
use crate::error::{Error, Exit};
use crate::membership::{self, MemberOptions};
use crate::normalize::Plan;
use crate::report::{self, MemberOutcome, Outcome, ReportFile, Status, Summary};
use crate::state::State;
use crate::upload::progress::{human_duration, Mode, Progress};
use crate::upload::{self, Stop, UploadSettings, Work};

/// Runs `import`.
pub fn run(args: &ImportArgs) -> Result<Exit, Error> {
    let input = crate::settings::input_settings(&args.input)?;
    let settings = crate::settings::upload_settings(&args.upload, args.dry_run)?;
    let report = ReportFile::new(args.report.clone()).map_err(Error::Report)?;
    let result = run_with(args, &input, &settings, &report);
    if result.is_err() {
        report.discard_placeholder();
    }
    result
}

fn run_with(
    args: &ImportArgs,
    input: &crate::input::InputSettings,
    settings: &UploadSettings,
    report: &ReportFile,
) -> Result<Exit, Error> {
    let state = match &args.state {
        Some(path) => Some(Arc::new(
            State::open(path, settings.api_base.as_str()).map_err(|e| Error::State(e.to_string()))?,
        )),
        None => None,
    };
    let plan = crate::input::load(input).map_err(Error::Inputs)?;
    print_problems(&plan.problems);
    let mut outcomes = report::planned(&plan);
    let invalid = outcomes.iter().filter(|o| o.status == Status::Invalid).count();
    if invalid > 0 && !args.allow_partial {
        return Err(Error::Invalid(format!(
            "nothing was sent: {invalid} held back (conflicting names or invalid rows, see above); fix the input, or pass --allow-partial to send the {} valid groups",
            plan.group_count()
        )));
    }
    if let Some(state) = &state {
        apply_state(state, &mut outcomes, args.full)?;
    }
    let member_opts = MemberOptions {
        remove_departed: args.remove_departed,
        max_removals: args.max_removals.as_deref().map(membership::parse_limit).transpose()?,
        full: args.full,
        dry_run: args.dry_run,
    };
    let mut exit = Exit::Success;
    let mut members = None;
    let mut stats = Stats::default();
    if args.dry_run {
        let mut work = work_of(&outcomes);
        let groups = work.len();
        if input.map.members {
            let planned = membership::plan(&plan, &outcomes, state.as_deref(), member_opts)?;
            for m in planned
                .iter()
                .filter(|m| m.action == "remove" && m.status == Status::Planned)
            {
                eprintln!(
                    "dry run: would remove {} from {} ({})",
                    m.user_id, m.group_id, m.organization_id
                );
            }
            work.extend(membership::work(&planned));
            members = Some(planned);
        }
        let requests = upload::chunks(&work, settings.chunk_size, settings.member_chunk_size).len();
        let seconds = requests.saturating_sub(settings.burst.get() as usize) as f64 / settings.rate;
        let memberships = match work.len() - groups {
            0 => String::new(),
            n => format!(" and {}", count(n, "membership change")),
        };
        eprintln!(
            "dry run: would send {}{memberships} in {} to {}; at {} requests/s that takes about {}",
            count(groups, "group"),
            count(requests, "request"),
            settings.api_base,
            settings.rate,
            human_duration(std::time::Duration::from_secs_f64(seconds))
        );
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Client(format!("cannot start the async runtime: {e}")))?;
        let record = state.clone().map(|s| s as Arc<dyn upload::Confirmations>);
        let mode = Mode::detect(args.quiet);
        let outcome = send(&runtime, settings, work_of(&outcomes), record.clone(), mode)?;
        let mut results = outcome.results.iter();
        for o in outcomes.iter_mut().filter(|o| o.status == Status::Planned) {
            let r = results.next().expect("one result per planned group");
            o.status = if r.added { Status::Added } else { Status::Failed };
            o.attempts = r.attempts;
            o.error = r.error.clone();
        }
        exit = stats.add(settings, &outcome);
        if input.map.members {
            let mut planned = membership::plan(&plan, &outcomes, state.as_deref(), member_opts)?;
            match &outcome.stop {
                // Groups came first and did not finish: no membership is sent.
                Some(stop) => {
                    for m in planned.iter_mut().filter(|m| m.status == Status::Planned) {
                        m.status = Status::Failed;
                        m.error = stop.not_attempted();
                    }
                }
                None => {
                    let work = membership::work(&planned);
                    if !work.is_empty() {
                        let outcome = send(&runtime, settings, work, record, mode)?;
                        let mut results = outcome.results.iter();
                        for m in planned.iter_mut().filter(|m| m.status == Status::Planned) {
                            let r = results.next().expect("one result per planned membership");
                            m.status = match (r.added, m.action) {
                                (true, "remove") => Status::Removed,
                                (true, _) => Status::Added,
                                (false, _) => Status::Failed,
                            };
                            m.attempts = r.attempts;
                            m.error = r.error.clone();
                        }
                        exit = exit.max(stats.add(settings, &outcome));
                    }
                }
            }
            members = Some(planned);
        }
    }
    let mut summary = Summary::count(&outcomes);
    stats.fill(&mut summary);
    if let Some(m) = &members {
        summary.count_members(m);
    }
    finish(report, &plan, &outcomes, members.as_deref(), &mut summary)?;
    if let Some(path) = &args.summary_json {
        write_summary(path, &summary)?;
    }
    let groups_done = outcomes.iter().all(|o| {
        matches!(
            o.status,
            Status::Added | Status::Planned | Status::Unchanged | Status::Stale
        )
    });
    let members_done = members.iter().flatten().all(|m| {
        matches!(
            m.status,
            Status::Added | Status::Removed | Status::Planned | Status::Unchanged
        )
    });
    Ok(if groups_done && members_done {
        exit
    } else {
        exit.max(Exit::Incomplete)
    })
}

/// Requests, retries and time over the run's uploads (groups, then memberships).
#[derive(Default)]
struct Stats {
    requests: u64,
    retries: u64,
    elapsed: std::time::Duration,
    stopped: Option<String>,
}

impl Stats {
    /// Adds one upload's figures, reports how it ended, and returns the exit code it implies.
    fn add(&mut self, settings: &UploadSettings, outcome: &upload::Outcome) -> Exit {
        self.requests += outcome.requests;
        self.retries += outcome.retries;
        self.elapsed += outcome.elapsed;
        advise_concurrency(settings, outcome);
        let mut exit = Exit::Success;
        if let Some(stop) = &outcome.stop {
            eprintln!("error: {}", describe_stop(stop));
            self.stopped = Some(describe_stop(stop));
            if let Stop::Credentials(_) = stop {
                exit = Exit::NothingAttempted;
            }
        }
        if let Some(e) = &outcome.record_error {
            eprintln!("error: {e}; what was confirmed after that may be sent again next run");
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
    }
}

/// Marks groups the state already holds with the same name `unchanged` (unless `full`), and
/// lists the state's groups that today's export no longer has as `stale`.
fn apply_state(state: &State, outcomes: &mut Vec<Outcome>, full: bool) -> Result<(), Error> {
    let orgs: std::collections::BTreeSet<String> = outcomes.iter().map(|o| o.organization_id.clone()).collect();
    let mut stale = Vec::new();
    for org in orgs.iter().filter(|o| !o.is_empty()) {
        let known = state.confirmed(org).map_err(|e| Error::State(e.to_string()))?;
        let today: std::collections::HashSet<&str> = outcomes
            .iter()
            .filter(|o| o.organization_id == *org)
            .map(|o| o.group_id.as_str())
            .collect();
        for (id, name) in &known {
            if !today.contains(id.as_str()) {
                stale.push(Outcome {
                    organization_id: org.clone(),
                    group_id: id.clone(),
                    group_name: name.clone(),
                    status: Status::Stale,
                    attempts: 0,
                    error: "in the state from an earlier run, not in this export; Velt has no delete-group call, so it stays".into(),
                    sources: Vec::new(),
                });
            }
        }
        if full {
            continue;
        }
        for o in outcomes
            .iter_mut()
            .filter(|o| o.organization_id == *org && o.status == Status::Planned)
        {
            if known.get(&o.group_id) == Some(&o.group_name) {
                o.status = Status::Unchanged;
            }
        }
    }
    outcomes.extend(stale);
    outcomes.sort_by(|a, b| (&a.organization_id, &a.group_id).cmp(&(&b.organization_id, &b.group_id)));
    Ok(())
}

fn write_summary(path: &std::path::Path, summary: &Summary) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(summary).expect("summary serializes");
    std::fs::write(path, text + "\n")
        .map_err(|e| Error::Report(format!("cannot write the summary to {}: {e}", path.display())))
}

/// The planned groups as upload work, in report order (sorted by organization and ID).
fn work_of(outcomes: &[Outcome]) -> Vec<Work> {
    outcomes
        .iter()
        .filter(|o| o.status == Status::Planned)
        .map(|o| Work::group(&o.organization_id, &o.group_id, &o.group_name))
        .collect()
}

fn send(
    runtime: &tokio::runtime::Runtime,
    settings: &UploadSettings,
    work: Vec<Work>,
    record: Option<Arc<dyn upload::Confirmations>>,
    mode: Mode,
) -> Result<upload::Outcome, Error> {
    runtime.block_on(async {
        let progress = Progress::new(work.len() as u64, mode);
        upload::upload(settings.clone(), work, Arc::clone(&progress), record, interrupted())
            .await
            .map_err(Error::Client)
    })
}

/// Resolves on Ctrl-C, or on SIGTERM (a scheduler stopping the job).
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
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("velt-groups: interrupted; finishing the report");
}

fn describe_stop(stop: &Stop) -> String {
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

/// Says so when concurrency, not the rate, held the run back.
fn advise_concurrency(settings: &UploadSettings, outcome: &upload::Outcome) {
    let achieved = outcome.requests as f64 / outcome.elapsed.as_secs_f64().max(1e-9);
    let slowed_by_server = outcome.final_rate < settings.rate;
    if outcome.requests as usize > 4 * settings.concurrency
        && achieved < 0.9 * settings.rate
        && !slowed_by_server
        && outcome.retries == 0
    {
        let latency = settings.concurrency as f64 / achieved;
        let needed = (settings.rate * latency).ceil() as usize + 1;
        eprintln!(
            "note: {achieved:.1} requests/s of --rate {}: with about {:.0} ms per request, --concurrency {} is the limit; --concurrency {needed} would reach the rate",
            settings.rate,
            latency * 1000.0,
            settings.concurrency
        );
    }
}

/// Writes the report and prints the summary.
fn finish(
    report: &ReportFile,
    plan: &Plan,
    outcomes: &[Outcome],
    members: Option<&[MemberOutcome]>,
    summary: &mut Summary,
) -> Result<(), Error> {
    summary.report = Some(report.path().display().to_string());
    report.write(plan, outcomes, members, summary).map_err(Error::Report)?;
    for (org, counts) in &summary.organizations {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org}: {}", parts.join(", "));
    }
    for (org, counts) in &summary.memberships {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org} memberships: {}", parts.join(", "));
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
    eprintln!("report: {}", report.path().display());
    Ok(())
}

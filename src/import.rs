//! `velt-groups import`: validate, then send (or, with `--dry-run`, plan), then report.

use std::sync::Arc;

use crate::check::{count, print_problems};
use crate::cli::ImportArgs;
use crate::error::{Error, Exit};
use crate::normalize::Plan;
use crate::report::{self, Outcome, ReportFile, Status, Summary};
use crate::state::State;
use crate::upload::progress::{human_duration, Mode, Progress};
use crate::upload::{self, Stop, UploadSettings, Work};

/// Runs `import`.
pub fn run(args: &ImportArgs) -> Result<Exit, Error> {
    let input = crate::settings::input_settings(&args.input)?;
    let settings = crate::settings::upload_settings(&args.upload, args.dry_run)?;
    let report = ReportFile::new(args.report.clone()).map_err(Error::Report)?;
    let state = match &args.state {
        Some(path) => Some(Arc::new(
            State::open(path, settings.api_base.as_str()).map_err(|e| Error::State(e.to_string()))?,
        )),
        None => None,
    };
    let plan = crate::input::load(&input).map_err(Error::Inputs)?;
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
    let mut summary;
    let mut exit = Exit::Success;
    if args.dry_run {
        summary = Summary::count(&outcomes);
        let work = work_of(&outcomes);
        let requests = upload::chunks(&work, settings.chunk_size).len();
        let seconds = requests.saturating_sub(settings.burst.get() as usize) as f64 / settings.rate;
        eprintln!(
            "dry run: would send {} in {} to {}; at {} requests/s that takes about {}",
            count(work.len(), "group"),
            count(requests, "request"),
            settings.api_base,
            settings.rate,
            human_duration(std::time::Duration::from_secs_f64(seconds))
        );
    } else {
        let record = state.clone().map(|s| s as Arc<dyn upload::Confirmations>);
        let outcome = send(&settings, &outcomes, record, Mode::detect(args.quiet))?;
        let mut results = outcome.results.iter();
        for o in outcomes.iter_mut().filter(|o| o.status == Status::Planned) {
            let r = results.next().expect("one result per planned group");
            o.status = if r.added { Status::Added } else { Status::Failed };
            o.attempts = r.attempts;
            o.error = r.error.clone();
        }
        summary = Summary::count(&outcomes);
        summary.requests = outcome.requests;
        summary.retries = outcome.retries;
        summary.elapsed_seconds = outcome.elapsed.as_secs_f64();
        summary.achieved_rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64().max(1e-9);
        summary.stopped = outcome.stop.as_ref().map(describe_stop);
        advise_concurrency(&settings, &outcome);
        if let Some(stop) = &outcome.stop {
            eprintln!("error: {}", describe_stop(stop));
            if let Stop::Credentials(_) = stop {
                exit = Exit::NothingAttempted;
            }
        }
        if let Some(e) = &outcome.record_error {
            eprintln!("error: {e}; groups confirmed after that may be sent again next run");
            exit = exit.max(Exit::Incomplete);
        }
    }
    finish(&report, &plan, &outcomes, &mut summary)?;
    if let Some(path) = &args.summary_json {
        write_summary(path, &summary)?;
    }
    let all_done = outcomes.iter().all(|o| {
        matches!(
            o.status,
            Status::Added | Status::Planned | Status::Unchanged | Status::Stale
        )
    });
    Ok(if all_done { exit } else { exit.max(Exit::Incomplete) })
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
        .map(|o| Work {
            org: o.organization_id.clone(),
            id: o.group_id.clone(),
            name: o.group_name.clone(),
        })
        .collect()
}

fn send(
    settings: &UploadSettings,
    outcomes: &[Outcome],
    record: Option<Arc<dyn upload::Confirmations>>,
    mode: Mode,
) -> Result<upload::Outcome, Error> {
    let work = work_of(outcomes);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Client(format!("cannot start the async runtime: {e}")))?;
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
fn finish(report: &ReportFile, plan: &Plan, outcomes: &[Outcome], summary: &mut Summary) -> Result<(), Error> {
    summary.report = Some(report.path().display().to_string());
    report.write(plan, outcomes, summary).map_err(Error::Report)?;
    for (org, counts) in &summary.organizations {
        let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{n} {status}")).collect();
        eprintln!("{org}: {}", parts.join(", "));
    }
    if summary.requests > 0 {
        eprintln!(
            "{} ({}) in {}, {:.1} requests/s",
            count(summary.requests as usize, "request"),
            count(summary.retries as usize, "retry").replace("retrys", "retries"),
            human_duration(std::time::Duration::from_secs_f64(summary.elapsed_seconds)),
            summary.achieved_rate
        );
    }
    eprintln!("report: {}", report.path().display());
    Ok(())
}

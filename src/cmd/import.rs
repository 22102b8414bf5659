//! `velt-groups import`: the pipeline in order. Read, map and normalize the inputs; plan
//! against the state; stop if validation held anything back; then either show the plan (dry
//! run) or carry it out (groups first, then memberships); then report. The steps
//! ([`prepare`], [`execute`], [`write_report`]) are public: the web page (`ui`) runs the same ones.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use crate::console;
use crate::console::progress::{self, Mode};
use crate::error::{Error, Exit};
use crate::input;
use crate::observe;
use crate::plan::Work;
use crate::plan::{GroupMembers, Known, Plan, PlanOptions, SentUser, Status};
use crate::report::{self, Report, ReportFile, Summary};
use crate::settings::ImportSettings;
use crate::state::{State, WholeCheck};
use crate::upload::progress::Progress;
use crate::upload::{self, Confirmations, Pace, Stop, UploadSettings};

/// Runs `import`.
pub fn run(s: &ImportSettings) -> Result<Exit, Error> {
    let report = ReportFile::new(s.report.clone())?;
    if let Some(path) = &s.summary_json {
        report::check_summary(path)?;
    }
    // The state is opened (and checked whole when due, `PRAGMA quick_check`) and read while
    // the inputs are: a large state takes about as long to read as a large export takes to
    // read. Its error still comes first, as when one followed the other.
    let (state, normalized) = std::thread::scope(|scope| {
        let state = scope.spawn(|| {
            let check = if s.check_state {
                WholeCheck::Now
            } else {
                WholeCheck::WhenDue
            };
            let state = open_state(s.state.as_deref(), &s.upload, check)?;
            let known = known(state.as_deref());
            Ok::<_, Error>((state, known))
        });
        let normalized = input::load(&s.input);
        let state = state.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (state, normalized)
    });
    // Errors in the order of old: opening the state, the inputs, then reading the state.
    let (state, known) = state?;
    let mut normalized = normalized.map_err(Error::Inputs)?;
    let known = known?;
    observe::input_read(&normalized);
    console::problems(&normalized.problems);
    if let Some(state) = &state {
        warn_other_bases(state, &normalized)?;
    }
    if let Some(left_out) = crate::current::describe(&normalized) {
        console::line(left_out);
    }
    let options = PlanOptions {
        full: s.full,
        members: s.input.map.members,
        remove_departed: s.remove_departed,
        max_removals: s.max_removals,
        repair: s.repair,
    };
    let mut plan = prepare(
        &normalized,
        state.as_deref(),
        known,
        options,
        s.repair.then_some(&s.upload),
    )?;
    if !s.dry_run && plan.sends_anything() {
        // The upload does not need them, and a million people's worth is better given back
        // (a night with nothing to send ends first).
        normalized.release_members();
    }
    let held_back = plan.held_back();
    if held_back > 0 && !s.allow_partial {
        // The report still replaces the last one, so a fixed nightly path never shows
        // yesterday's outcome as today's.
        let why = format!("not attempted: validation failed ({held_back} held back; see the invalid rows)");
        plan.not_attempted(&why);
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
        execute(
            &mut plan,
            &s.upload,
            record,
            &mut stats,
            &Terminal(Mode::detect(s.quiet)),
        )?
    };
    let mut summary = Summary::count(&plan.groups, plan.users.as_deref(), plan.members.as_deref());
    stats.fill(&mut summary);
    write_outputs(s, &report, &normalized, &plan, &mut summary)?;
    console::summary(&summary);
    let exit = if plan.complete() {
        exit
    } else {
        exit.max(Exit::Incomplete)
    };
    // The process ends with this command: freeing a million records one by one takes longer
    // (a tenth of a run) than the system takes to reclaim them all.
    std::mem::forget(plan);
    std::mem::forget(normalized);
    Ok(exit)
}

/// Says so when the state holds records of an organization of the export under another API
/// base: records are kept per server, so none of those counts for this run (a server named
/// two ways is one key already, see `state::base_key`; this is another server, or a base
/// mistyped).
fn warn_other_bases(state: &State, normalized: &crate::normalize::Plan) -> Result<(), Error> {
    for org in organizations(normalized) {
        let others = state.other_bases(&org)?;
        if !others.is_empty() {
            console::line(format!(
                "warning: the state file has records of organization {org} under {} as well; this run sends to {}, and records are kept per API base, so none of those counts here (if that is this server, give the same --api-base)",
                others.join(", "),
                state.api_base()
            ));
        }
    }
    Ok(())
}

/// Opens the state file, when there is one, for the API base the run writes to.
pub fn open_state(
    path: Option<&Path>,
    upload: &UploadSettings,
    check: WholeCheck,
) -> Result<Option<Arc<State>>, Error> {
    Ok(match path {
        Some(path) => Some(Arc::new(State::open(path, upload.api_base.as_str(), check)?)),
        None => None,
    })
}

/// What `state` knows (nothing without one).
pub fn known(state: Option<&State>) -> Result<Known, Error> {
    Ok(match state {
        Some(state) => state.known()?,
        None => Known::default(),
    })
}

/// Plans every group and membership of `normalized` against `known`, what the state knows
/// (and, to `repair`, against what the server reads back).
pub fn prepare(
    normalized: &crate::normalize::Plan,
    state: Option<&State>,
    mut known: Known,
    options: PlanOptions,
    repair: Option<&UploadSettings>,
) -> Result<Plan, Error> {
    if let Some(upload) = repair {
        self::repair(&mut known, normalized, upload, state.is_some())?;
    }
    if let (Some(state), true) = (state, options.remove_departed) {
        // A removal sends the user's ID, which the state holds only for these few.
        for (org, group, hashes) in known.unnamed(normalized) {
            for user in state.named(&org, &group, &hashes)? {
                known.name(&org, &user);
            }
        }
    }
    let plan = Plan::build(normalized, &known, options);
    if let Some(state) = state {
        state.expect_kinds(&plan.groups);
    }
    Ok(plan)
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

/// Writes the report (or its CSV fallback) and the summary JSON.
fn write_outputs(
    s: &ImportSettings,
    report: &ReportFile,
    normalized: &crate::normalize::Plan,
    plan: &Plan,
    summary: &mut Summary,
) -> Result<(), Error> {
    write_report(report, normalized, plan, summary)?;
    observe::summary(summary, &plan.groups);
    if let Some(path) = &s.summary_json {
        report::write_summary(path, summary)?;
    }
    Ok(())
}

/// Writes the report, or its CSV fallback when that fails; `summary.report` names the file.
pub fn write_report(
    report: &ReportFile,
    normalized: &crate::normalize::Plan,
    plan: &Plan,
    summary: &mut Summary,
) -> Result<(), Error> {
    summary.report = Some(report.path().display().to_string());
    summary.left_out = crate::current::counts(normalized);
    summary.without_group = normalized
        .without_group
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| (kind.to_string(), *n))
        .collect();
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
    Ok(())
}

/// `--repair`: what the server lists replaces what the state believes, in both directions.
/// Read back: every group of today's export, and every group the state has members (added,
/// already there, or pending) in, so a removal of a departed member is also decided on the
/// server's list. Then, per group read back:
/// - a member counts as there exactly when the server lists them (`present`), whatever the
///   state recorded (`already-exists` once, gone since, is sent again);
/// - a member is this tool's to remove only when the state records adding them (or a stopped
///   run was adding them) *and* the server lists them: what it does not list is not removed;
/// - an organization user the server lists counts as there with the name and e-mail it shows;
///   others as the state recorded them (a group's read-back lists only its members, so an
///   organization user in no group cannot be told apart from one deleted).
fn repair(
    known: &mut Known,
    normalized: &crate::normalize::Plan,
    settings: &UploadSettings,
    has_state: bool,
) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    for org in &normalized.organizations {
        // The groups of people left out too (a leaver still there is what a repair must see),
        // and every group the state has members in.
        let mut groups: BTreeSet<String> = crate::current::groups_to_read(normalized, org).into_iter().collect();
        for table in [&known.members, &known.present, &known.pending] {
            groups.extend(table.get(&org.id).into_iter().flat_map(|g| g.keys().cloned()));
        }
        let groups: Vec<String> = groups.into_iter().collect();
        let server = runtime.block_on(upload::readback::members(settings, &org.id, &groups))?;
        let members = known.members.entry(org.id.clone()).or_default();
        let present = known.present.entry(org.id.clone()).or_default();
        let pending = known.pending.entry(org.id.clone()).or_default();
        for (group, held) in &server {
            let there = GroupMembers::of(held.keys().map(String::as_str));
            let ours = |set: Option<&GroupMembers>| set.map(|s| s.intersection(&there)).unwrap_or_default();
            let added = if has_state {
                ours(members.get(group))
            } else {
                there.clone()
            };
            members.insert(group.clone(), added);
            pending.insert(group.clone(), ours(pending.get(group)));
            present.insert(group.clone(), there);
        }
        // What the server lists is named as it spells it: a removal may send any of them.
        for held in server.values() {
            for user in held.keys() {
                known.name(&org.id, user);
            }
        }
        // What the server holds replaces what the state says was sent.
        known
            .users
            .entry(org.id.clone())
            .or_default()
            .extend(server.values().flat_map(|held| held.values()).map(|u| {
                let (name, email) = (
                    u.name.as_deref().unwrap_or_default(),
                    u.email.as_deref().unwrap_or_default(),
                );
                SentUser::new(u.user_id.as_bytes(), name.as_bytes(), email.as_bytes())
            }));
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

/// How a run shows its progress and learns it must stop (the terminal, or the web page).
pub trait Observer: Sync {
    /// Counters for one upload of `total` `what` ("groups"...), made inside the run's runtime.
    fn progress(&self, what: &'static str, total: u64) -> Arc<Progress>;
    /// Resolves when the run must stop.
    fn interrupted(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The terminal: a bar or log lines as `Mode` says, and Ctrl-C or SIGTERM.
struct Terminal(Mode);

impl Observer for Terminal {
    fn progress(&self, what: &'static str, total: u64) -> Arc<Progress> {
        progress::start(what, total, self.0)
    }

    fn interrupted(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(interrupted())
    }
}

/// Sends the groups, then the memberships of the groups that were confirmed.
pub fn execute(
    plan: &mut Plan,
    upload: &UploadSettings,
    record: Option<Arc<dyn Confirmations>>,
    stats: &mut Stats,
    observer: &dyn Observer,
) -> Result<Exit, Error> {
    observe::upload_started();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    // One pace for every stage: users and memberships go on at the rate the groups found.
    let pace = Arc::new(Pace::new(upload.rate, upload.burst));
    let send_all = |what, work: Vec<Work>, record| send(&runtime, &pace, upload, what, work, record, observer);
    let groups = send_all("groups", plan.group_work(), record.clone())?;
    plan.record_groups(&groups.results);
    let mut exit = stats.add(upload, &groups);
    // A stop (credentials refused, server down, Ctrl-C) ends the run: no later stage sends.
    let mut stopped = groups.stop.as_ref().map(Stop::not_attempted);
    plan.after_groups(stopped.as_deref());
    // Only organization users can join groups: the users go before their memberships.
    let work = if stopped.is_none() {
        plan.user_work()
    } else {
        Vec::new()
    };
    if !work.is_empty() {
        let users = send_all("organization users", work, record.clone())?;
        exit = exit.max(stats.add(upload, &users));
        stopped = users.stop.as_ref().map(Stop::not_attempted);
        plan.record_users(&users.results);
    } else if stopped.is_none() {
        // Every user is there already: this only lets their memberships go.
        plan.record_users(&Default::default());
    }
    if let Some(why) = &stopped {
        plan.not_attempted(why);
    }
    let work = plan.member_work();
    if !work.is_empty() {
        let members = send_all("memberships", work, record)?;
        plan.record_members(&members.results);
        exit = exit.max(stats.add(upload, &members));
    }
    Ok(exit)
}

fn send(
    runtime: &tokio::runtime::Runtime,
    pace: &Arc<Pace>,
    settings: &UploadSettings,
    what: &'static str,
    work: Vec<Work>,
    record: Option<Arc<dyn Confirmations>>,
    observer: &dyn Observer,
) -> Result<upload::Outcome, Error> {
    runtime.block_on(async {
        let progress = observer.progress(what, work.len() as u64);
        let pace = Arc::clone(pace);
        let outcome =
            upload::upload_paced(pace, settings.clone(), work, progress, record, observer.interrupted()).await?;
        console::stage_finished(what, &outcome);
        Ok(outcome)
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
#[derive(Debug, Default)]
pub struct Stats {
    confirmed: bool,
    requests: u64,
    retries: u64,
    elapsed: std::time::Duration,
    stopped: Option<String>,
    rate_limited: u64,
    slowed: u64,
    final_rate: Option<f64>,
    settled_rate: Option<f64>,
    auto_rate: bool,
}

impl Stats {
    /// Adds one upload's figures, says how it ended, and returns the exit code it implies.
    fn add(&mut self, settings: &UploadSettings, outcome: &upload::Outcome) -> Exit {
        self.requests += outcome.requests;
        self.retries += outcome.retries;
        self.elapsed += outcome.elapsed;
        self.rate_limited += outcome.rate_limited;
        // The pace is shared by the stages and counts its own cuts: the last stage's figure.
        self.slowed = self.slowed.max(outcome.slowed);
        self.final_rate = Some(outcome.final_rate.min(self.final_rate.unwrap_or(f64::INFINITY)));
        // The pace is shared by the stages, so the last stage's figure covers them all.
        self.settled_rate = outcome.settled_rate.or(self.settled_rate);
        self.auto_rate = matches!(settings.rate, upload::Rate::Auto { .. });
        console::advise_concurrency(settings, outcome);
        console::failure_causes(outcome);
        let mut exit = Exit::Success;
        self.confirmed |= outcome.results.values().any(|d| d.confirmed);
        if let Some(stop) = &outcome.stop {
            console::stopped(stop);
            self.stopped = Some(console::describe_stop(stop));
            // Refused credentials mean nothing was attempted only if nothing got through
            // before (an earlier stage, or earlier chunks of this one).
            if let Stop::Credentials(_) = stop {
                exit = if self.confirmed {
                    Exit::Incomplete
                } else {
                    Exit::NothingAttempted
                };
            }
        }
        if let Some(e) = &outcome.record_error {
            console::record_failed(e);
            exit = exit.max(Exit::Incomplete);
        }
        exit
    }

    /// Writes the figures into the run's summary.
    pub fn fill(&self, summary: &mut Summary) {
        summary.requests = self.requests;
        summary.retries = self.retries;
        summary.elapsed_seconds = self.elapsed.as_secs_f64();
        summary.achieved_rate = self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9);
        summary.stopped = self.stopped.clone();
        summary.rate_limited = self.rate_limited;
        summary.slowed_down = self.slowed;
        summary.final_rate = self.final_rate.unwrap_or(0.0);
        summary.settled_rate = self.settled_rate;
        summary.auto_rate = self.auto_rate;
    }
}

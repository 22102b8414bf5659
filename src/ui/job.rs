//! `POST /api/import`: an import (or a dry run) of the picked files, carried out on a thread of
//! its own by `cmd::import`'s steps; `GET /api/progress`: how the latest run goes, then its
//! outcome (the run lives here, so a reloaded page finds it); `POST /api/stop`: stops it as
//! Ctrl-C stops `import`; `GET /report/{job}/{file}`: its report, as a download.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::app::{App, UiError};
use super::check::{blocking, picked, prepare, Choices, Prepared};
use super::outcome::{self, Kind, Tallies};
use super::view::{self, OrgView};
use crate::cmd::import::{self, Observer, Stats};
use crate::error::Error;
use crate::plan::{Action, Status};
use crate::report::{ReportFile, Summary};
use crate::upload::progress::Progress;
use crate::upload::Confirmations;
use crate::wording;

/// What the page asks for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Start {
    choices: Choices,
    dry_run: bool,
    /// The person agreed to send the rest when something is held back (`--allow-partial`).
    allow_partial: bool,
    /// The person agreed to the removals.
    allow_removals: bool,
    /// Only say what an import would do (the sentence to confirm); send nothing.
    preview: bool,
    /// Send only what the latest run did not get done.
    retry: bool,
}

/// What the page is told.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    /// Under way; poll `/api/progress`.
    Started {
        /// Its number.
        job: u64,
    },
    /// Nothing was sent: the person must agree to these first.
    Confirm {
        /// Groups and rows held back.
        held_back: usize,
        /// Members that would be removed.
        removals: usize,
        /// What an import would do, in one sentence; `None`: nothing would be sent.
        sentence: Option<String>,
    },
    /// Nothing was sent: the files could not be planned.
    Stopped {
        /// Why, as the terminal words it.
        errors: Vec<String>,
    },
}

/// One import or dry run.
pub struct Job {
    id: u64,
    dry_run: bool,
    /// The choices it ran with, so a reloaded page shows them.
    choices: Choices,
    /// Which pick of files it read ([`super::app::Session::picks`]).
    pick: u64,
    phases: Mutex<Vec<(&'static str, Arc<Progress>)>>,
    result: Mutex<Option<Result<Arc<Finished>, String>>>,
    /// Set by the Stop button (or a signal); the upload stops as on Ctrl-C.
    stop: tokio::sync::watch::Sender<bool>,
    stopped: AtomicBool,
}

/// How an import ended.
#[derive(Debug, Serialize)]
pub struct Finished {
    /// Every group with its outcome, per organization.
    organizations: Vec<OrgView>,
    /// Counts and figures, as `--summary-json` has them.
    summary: Summary,
    /// Whether every group ended as it should.
    complete: bool,
    /// Report file names, downloadable under `/report/{job}/`.
    reports: Vec<String>,
    /// How it ended, for the heading.
    kind: Kind,
    /// The heading.
    heading: &'static str,
    /// Every row of each kind, by what became of it.
    tallies: Tallies,
    #[serde(skip)]
    paths: Vec<PathBuf>,
    /// What got done, for a retry.
    #[serde(skip)]
    done: outcome::Finished,
}

/// `POST /api/import`.
pub async fn start(State(app): State<Arc<App>>, Json(start): Json<Start>) -> Result<Json<Answer>, UiError> {
    let files = picked(&app)?;
    if !start.dry_run && !start.preview && !app.settings.has_credentials() {
        return Err(UiError::BadRequest(
            "no credentials: start velt-groups ui with VELT_API_KEY and VELT_AUTH_TOKEN set (or api-key and auth-token in the --config file); a dry run works without them".into(),
        ));
    }
    blocking(move || {
        let mut prepared = match prepare(&app, &files, &start.choices) {
            Ok(p) => p,
            Err(stopped) => {
                return Ok(Answer::Stopped {
                    errors: stopped.errors.iter().map(|e| wording::for_page(e)).collect(),
                })
            }
        };
        if start.retry {
            let session = app.session();
            let last = session
                .job
                .as_ref()
                .filter(|j| j.pick == session.picks)
                .and_then(|j| j.finished());
            let Some(last) = last else {
                return Err(UiError::BadRequest(
                    "there is no run of these files to retry; press Import".into(),
                ));
            };
            last.done.leave_out(&mut prepared.plan);
        }
        let held_back = prepared.plan.held_back();
        let removals = prepared
            .plan
            .members
            .iter()
            .flatten()
            .filter(|m| m.action == Action::Remove && m.status == Status::Planned)
            .count();
        let unconfirmed = (held_back > 0 && !start.allow_partial) || (removals > 0 && !start.allow_removals);
        if start.preview || (unconfirmed && !start.dry_run) {
            return Ok(Answer::Confirm {
                held_back,
                removals,
                sentence: outcome::sentence(&prepared.plan),
            });
        }
        let job = {
            let mut session = app.session();
            if session.job.as_ref().is_some_and(|j| j.running()) {
                return Err(UiError::Busy);
            }
            let job = Arc::new(Job {
                id: session.job.as_ref().map_or(1, |j| j.id + 1),
                dry_run: start.dry_run,
                choices: start.choices.clone(),
                pick: session.picks,
                phases: Mutex::new(Vec::new()),
                result: Mutex::new(None),
                stop: tokio::sync::watch::Sender::new(false),
                stopped: AtomicBool::new(false),
            });
            session.job = Some(Arc::clone(&job));
            job
        };
        let id = job.id;
        let worker = Arc::clone(&job);
        let spawned = std::thread::Builder::new()
            .name("velt-groups-import".into())
            .spawn(move || {
                let result = worker
                    .carry_out(&app, prepared)
                    .map(Arc::new)
                    .map_err(|e| wording::for_page(&e.to_string()));
                *lock(&worker.result) = Some(result);
                // Whoever waits for the end (a signal's shutdown) hears of it.
                worker.stop.send_replace(true);
            });
        if let Err(e) = spawned {
            *lock(&job.result) = Some(Err(format!("cannot start the import: {e}")));
        }
        Ok(Answer::Started { job: id })
    })
    .await
    .map(Json)
}

/// What `POST /api/stop` answers.
#[derive(Serialize)]
pub struct Stopping {
    /// The run being stopped; `None` when none was running.
    job: Option<u64>,
}

/// `POST /api/stop`: stops the running import as Ctrl-C stops `import`: answers already on
/// their way are recorded, the report is written, and the next run resumes.
pub async fn stop(State(app): State<Arc<App>>) -> Json<Stopping> {
    let job = app.session().job.clone().filter(|j| j.running());
    if let Some(job) = &job {
        job.interrupt();
    }
    Json(Stopping { job: job.map(|j| j.id) })
}

impl Job {
    /// Whether it is still under way.
    pub fn running(&self) -> bool {
        lock(&self.result).is_none()
    }

    /// Whether it sends (not a dry run).
    pub fn sends(&self) -> bool {
        !self.dry_run
    }

    /// Asks it to stop, as Ctrl-C does.
    pub fn interrupt(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.stop.send_replace(true);
    }

    /// Waits until it has ended (its report written), or `patience` has passed; whether it ended.
    pub async fn ended(&self, patience: std::time::Duration) -> bool {
        let mut rx = self.stop.subscribe();
        let _ = tokio::time::timeout(patience, async {
            while self.running() {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        !self.running()
    }

    /// Its outcome, once it ended well.
    pub fn finished(&self) -> Option<Arc<Finished>> {
        lock(&self.result).as_ref().and_then(|r| r.as_ref().ok()).cloned()
    }

    /// Sends (unless a dry run) and writes the report in CSV and XLSX, as `import` does.
    fn carry_out(&self, app: &App, prepared: Prepared) -> Result<Finished, Error> {
        let Prepared {
            normalized,
            mut plan,
            state,
            ..
        } = prepared;
        let mut stats = Stats::default();
        if !self.dry_run {
            let record = state.clone().map(|s| s as Arc<dyn Confirmations>);
            import::execute(&mut plan, &app.settings.upload, record, &mut stats, self)?;
        }
        // Free the state file's lock for the next check or a scheduled run.
        drop(state);
        let mut summary = Summary::count(&plan.groups, plan.users.as_deref(), plan.members.as_deref());
        stats.fill(&mut summary);
        let folder = app.dir.path().join(format!("run-{}", self.id));
        std::fs::create_dir_all(&folder).map_err(Error::Output)?;
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
        let mut paths = Vec::new();
        for ext in ["csv", "xlsx"] {
            let file = ReportFile::new(Some(folder.join(format!("velt-groups-report-{stamp}.{ext}"))))?;
            import::write_report(&file, &normalized, &plan, &mut summary)?;
            // A report that fell back to CSV is named by the summary.
            paths.extend(summary.report.take().map(PathBuf::from));
        }
        let tallies = Tallies::of(&plan);
        let kind = Kind::of(&tallies, self.dry_run, self.stopped.load(Ordering::SeqCst));
        Ok(Finished {
            organizations: view::organizations(&normalized, &plan),
            summary,
            complete: plan.complete(),
            kind,
            heading: kind.heading(),
            tallies,
            done: outcome::Finished::of(&plan),
            reports: paths
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect(),
            paths,
        })
    }
}

impl Observer for Job {
    fn progress(&self, what: &'static str, total: u64) -> Arc<Progress> {
        let progress = Arc::new(Progress::new(total, None));
        lock(&self.phases).push((what, Arc::clone(&progress)));
        progress
    }

    fn interrupted(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        // The Stop button, or a signal to the server (which then waits for the report).
        let mut rx = self.stop.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
    }
}

/// One upload's counters, as the page shows them.
#[derive(Serialize)]
struct Phase {
    what: &'static str,
    done: u64,
    total: u64,
    requests: u64,
    retries: u64,
    rate: f64,
    allowed_rate: f64,
    rate_limited: u64,
}

/// What `GET /api/progress` answers.
#[derive(Serialize)]
pub struct ProgressView {
    job: u64,
    dry_run: bool,
    running: bool,
    /// The Stop button was pressed.
    stopping: bool,
    /// It read the files picked now (a new pick makes it history).
    current: bool,
    /// The choices it ran with.
    choices: Choices,
    phases: Vec<Phase>,
    finished: Option<Arc<Finished>>,
    error: Option<String>,
}

/// `GET /api/progress`: the latest job's counters, then its outcome.
pub async fn progress(State(app): State<Arc<App>>) -> Result<Json<ProgressView>, UiError> {
    let (job, current) = {
        let session = app.session();
        let job = session.job.clone().ok_or(UiError::NotFound)?;
        let current = job.pick == session.picks;
        (job, current)
    };
    let phases = lock(&job.phases)
        .iter()
        .map(|(what, p)| Phase {
            what,
            done: p.done_count(),
            total: p.total(),
            requests: p.requests(),
            retries: p.retries(),
            rate: p.rate(),
            allowed_rate: p.allowed_rate(),
            rate_limited: p.rate_limited(),
        })
        .collect();
    let (finished, error) = match lock(&job.result).as_ref() {
        None => (None, None),
        Some(Ok(f)) => (Some(Arc::clone(f)), None),
        Some(Err(e)) => (None, Some(e.clone())),
    };
    Ok(Json(ProgressView {
        job: job.id,
        dry_run: job.dry_run,
        running: finished.is_none() && error.is_none(),
        stopping: job.stopped.load(Ordering::SeqCst),
        current,
        choices: job.choices.clone(),
        phases,
        finished,
        error,
    }))
}

/// Copies the reports of `job` into `to`, for a run a signal stopped: the temporary folder
/// goes with the server. The paths written.
pub fn keep_reports(job: &Job, to: &std::path::Path) -> Vec<PathBuf> {
    let Some(finished) = job.finished() else {
        return Vec::new();
    };
    finished.paths.iter().filter_map(|p| copy_beside(p, to)).collect()
}

/// Copies `from` into the folder `to` under its own name, or `name (2).ext`, `name (3).ext`...
/// when that is taken: a file already there (last night's report, say) is never replaced.
fn copy_beside(from: &std::path::Path, to: &std::path::Path) -> Option<PathBuf> {
    let stem = from.file_stem()?.to_string_lossy();
    let ext = from
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..1000).find_map(|n| {
        let name = if n == 1 {
            format!("{stem}{ext}")
        } else {
            format!("{stem} ({n}){ext}")
        };
        let target = to.join(name);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .ok()?;
        let copied = std::fs::File::open(from).and_then(|mut f| std::io::copy(&mut f, &mut out));
        match copied {
            Ok(_) => Some(target),
            Err(_) => {
                let _ = std::fs::remove_file(&target);
                None
            }
        }
    })
}

/// `GET /report/{job}/{file}`: a report of the latest job, as an attachment.
pub async fn download(State(app): State<Arc<App>>, Path((id, name)): Path<(u64, String)>) -> Result<Response, UiError> {
    let job = app
        .session()
        .job
        .clone()
        .filter(|j| j.id == id)
        .ok_or(UiError::NotFound)?;
    let path = match lock(&job.result).as_ref() {
        Some(Ok(f)) => f
            .paths
            .iter()
            .find(|p| p.file_name().is_some_and(|n| *n == *name))
            .cloned(),
        _ => None,
    }
    .ok_or(UiError::NotFound)?;
    let bytes = blocking(move || Ok(std::fs::read(&path)?)).await?;
    let mime = if name.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
    };
    // The name is ours (ASCII letters, digits, '-' and '.'): nothing to quote.
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::copy_beside;

    /// Regression (review): the reports of a run a signal stopped were copied over any file of
    /// the same name in the working folder.
    #[test]
    fn a_kept_report_never_replaces_a_file_already_there() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("run");
        std::fs::create_dir(&from).unwrap();
        let to = tmp.path().join("work");
        std::fs::create_dir(&to).unwrap();
        let report = from.join("report.csv");
        std::fs::write(&report, "new").unwrap();
        std::fs::write(to.join("report.csv"), "last night").unwrap();
        let kept = copy_beside(&report, &to).unwrap();
        assert_eq!(kept, to.join("report (2).csv"));
        assert_eq!(std::fs::read_to_string(to.join("report.csv")).unwrap(), "last night");
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "new");
        assert_eq!(copy_beside(&report, &to).unwrap(), to.join("report (3).csv"));
    }
}

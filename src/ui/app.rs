//! The server's state: the settings, the token, the private folder holding the files picked
//! on the page, and the import under way. One person uses one page, so one session.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use thiserror::Error;

use super::job::Job;
use crate::settings::UiSettings;

/// What every handler shares.
pub struct App {
    /// The settings from flags, the config file and the environment.
    pub settings: UiSettings,
    /// The random token every request must carry.
    pub token: String,
    /// `Host` headers accepted: `127.0.0.1:PORT` and `localhost:PORT`.
    pub hosts: [String; 2],
    /// The private folder the picked files are copied into (and reports written to).
    pub dir: tempfile::TempDir,
    session: Mutex<Session>,
}

/// A file picked on the page, copied into [`App::dir`].
#[derive(Debug, Clone)]
pub struct Upload {
    /// Its name on the person's machine, as messages name it.
    pub name: String,
    /// The copy.
    pub path: PathBuf,
}

/// What the page has done so far.
#[derive(Default)]
pub struct Session {
    /// The files picked, in order.
    pub files: Vec<Upload>,
    /// Numbers the copies' folders, so two files of one name never clash.
    pub next_file: u64,
    /// Counts the changes to [`Session::files`]: a run of an older pick is shown as history.
    pub picks: u64,
    /// The latest import or dry run.
    pub job: Option<Arc<Job>>,
}

impl App {
    /// The state for a server on `port`, with a fresh token and private folder.
    pub fn new(settings: UiSettings, port: u16) -> std::io::Result<Self> {
        let dir = super::folder::create()?;
        Ok(App {
            settings,
            token: token()?,
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            dir,
            session: Mutex::new(Session::default()),
        })
    }

    /// The import under way, if any.
    pub fn running(&self) -> Option<Arc<Job>> {
        self.session().job.clone().filter(|j| j.running())
    }

    /// The session, locked.
    pub fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while holding it leaves plain data behind; keep serving.
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// 32 random bytes from the operating system, as hex.
fn token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Why a request of the page could not be served.
#[derive(Debug, Error)]
pub enum UiError {
    /// The request itself is wrong (a bad file name, a malformed body).
    #[error("{0}")]
    BadRequest(String),
    /// An import is running; it must finish first.
    #[error("an import is running; wait for it to finish, or press Stop")]
    Busy,
    /// No such report or import.
    #[error("not found")]
    NotFound,
    /// A file larger than the page accepts.
    #[error("the file is larger than {} MiB", .0 >> 20)]
    TooLarge(u64),
    /// Writing the copy or the report failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A step of the pipeline failed as a whole (state file, runtime...).
    #[error("{0}")]
    Run(#[from] crate::error::Error),
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = match &self {
            UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UiError::Busy => StatusCode::CONFLICT,
            UiError::NotFound => StatusCode::NOT_FOUND,
            UiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UiError::Io(_) | UiError::Run(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = ErrorBody {
            error: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

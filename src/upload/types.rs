//! What the uploader is told and what it hands back: its settings, the outcome of an
//! upload, why a run stopped, and where confirmations are recorded as they arrive.

use std::num::NonZeroU32;
use std::time::Duration;

use super::pace::Rate;
use crate::plan::{Endpoint, Results, Work};
use crate::secret::Credentials;

/// A confirmation that could not be recorded (the state file's error, kept whole).
pub type RecordError = Box<dyn std::error::Error + Send + Sync>;

/// How the uploader talks to the server.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// API base URL, e.g. `https://api.velt.dev`.
    pub api_base: reqwest::Url,
    /// API key and auth token.
    pub credentials: Credentials,
    /// CA certificates trusted besides the bundled and the system's roots (`--ca-file`).
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Groups per request.
    pub chunk_size: usize,
    /// User IDs per membership request.
    pub member_chunk_size: usize,
    /// Requests per second, fixed or found (`--rate auto`).
    pub rate: Rate,
    /// Requests allowed at once by the limiter.
    pub burst: NonZeroU32,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries per request after the first attempt.
    pub max_retries: u32,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Sets `createOrganization`.
    pub create_organization: bool,
    /// Users per `users/add` request.
    pub user_chunk_size: usize,
    /// `accessRole` for the organization users added (`viewer` or `editor`), when set.
    pub access_role: Option<String>,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay (also the longest `Retry-After` honoured).
    pub backoff_cap: Duration,
}

impl UploadSettings {
    /// Items per request for an endpoint.
    pub fn chunk_limit(&self, endpoint: Endpoint) -> usize {
        match endpoint {
            Endpoint::AddGroups => self.chunk_size,
            Endpoint::AddUsers => self.user_chunk_size,
            Endpoint::AddMembers | Endpoint::RemoveMembers => self.member_chunk_size,
        }
    }
}

/// Why a run stopped before every group was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// 401/403: the credentials were refused.
    Credentials(String),
    /// Every chunk of the last stretch failed after its retries.
    ServerDown(String),
    /// Ctrl-C.
    Interrupted,
}

impl Stop {
    /// The error written for groups that were never sent.
    pub fn not_attempted(&self) -> String {
        match self {
            Stop::Credentials(_) => "not attempted: credentials rejected".into(),
            Stop::ServerDown(_) => "not attempted: server unavailable".into(),
            Stop::Interrupted => "not attempted: interrupted".into(),
        }
    }

    /// The error written for an item sent `attempts` times and still unconfirmed when the
    /// run stopped.
    pub fn cut_short(&self, attempts: u32) -> String {
        let why = match self {
            Stop::Credentials(e) => format!("the credentials were rejected ({e})"),
            Stop::ServerDown(e) => format!("the server was unavailable (last answer: {e})"),
            Stop::Interrupted => "the run was interrupted".into(),
        };
        let times = match attempts {
            1 => "once".to_owned(),
            n => format!("{n} times"),
        };
        format!("failed: sent {times} without a confirmation before the run stopped; {why}")
    }
}

/// What an upload did.
#[derive(Debug)]
pub struct Outcome {
    /// One per [`Work`], by its key.
    pub results: Results,
    /// Requests sent.
    pub requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The rate in force at the end (lower than `--rate` after 429s).
    pub final_rate: f64,
    /// The mean rate held since the first 429 of the run (`None` before any): the rate to
    /// pin a later run to.
    pub settled_rate: Option<f64>,
    /// 429 answers: how often the server asked to slow down.
    pub rate_limited: u64,
    /// Times `--rate auto` cut the pace because the server was slow (timeouts, 504, 408).
    pub slowed: u64,
    /// Set when the run stopped early.
    pub stop: Option<Stop>,
    /// The first failure to record a confirmation, if any.
    pub record_error: Option<RecordError>,
}

/// Where confirmations are recorded as they arrive (the state file), so a run killed at any
/// moment loses none that it recorded.
pub trait Confirmations: Send + Sync {
    /// These items of one request are about to be sent (recorded before the request goes, so
    /// a run killed with it in flight still knows it may have happened).
    fn intend(&self, _items: &[&Work]) -> Result<(), RecordError> {
        Ok(())
    }

    /// The server holds these items of one request (one endpoint, organization and group);
    /// `true` beside an item: it was there already (`already-exists`).
    fn confirmed(&self, items: &[(&Work, bool)]) -> Result<(), RecordError>;

    /// The server refused these items for good (they are not pending any more).
    fn refused(&self, _items: &[&Work]) -> Result<(), RecordError> {
        Ok(())
    }
}

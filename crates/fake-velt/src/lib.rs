//! A faithful fake of the Velt user-group and user APIs, for tests, benchmarks and rehearsals
//! (`cargo run -p fake-velt -- --port 8787`).
//!
//! It is a real HTTP/1.1 server on 127.0.0.1: it checks both auth headers, validates bodies
//! strictly, answers one entry per group or user in `result.data`, stores what it confirmed, and
//! can be told to misbehave in every way the contract allows: a per-key rate limit (429, with or
//! without `Retry-After`), latency, a share of 500/503 answers, dropped connections, requests
//! that never get an answer, a cap on items per request, and `"success": false` or missing
//! entries for chosen items. Random faults come from a seeded generator, so runs repeat.
//!
//! Where the real API's documentation allows several readings, each reading is a mode of
//! [`FakeConfig`]: insert-or-update versus `already-exists` ([`FakeConfig::upsert`]), per-item
//! failures inside a 200 versus a 500 that still stored the rest
//! ([`FakeConfig::partial_failure_500`]), members that must be organization users first
//! ([`FakeConfig::require_org_users`]), 401 versus 403 for bad credentials, the spelling of the
//! users/get page token, and users/get needing "advanced queries". [`FakeConfig::strict`] takes
//! the strictest reading of each.
//!
//! [`FakeVelt::start_tls`] serves HTTPS with a certificate from a throwaway CA, and
//! [`ConnectProxy`] is a `CONNECT` proxy to reach it through, for the client's TLS and proxy
//! settings.
//!
//! Endpoints: `POST /v2/organizations/usergroups/add`, `.../usergroups/users/add`,
//! `.../usergroups/users/delete`, `/v2/users/add` and `/v2/users/get`.

#![warn(missing_docs)]

mod endpoints;
mod proxy;
mod server;
mod tls;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use proxy::ConnectProxy;
pub use server::Dropped;
use server::Shared;

/// The API key and token the fake accepts unless told otherwise.
pub const API_KEY: &str = "test-api-key-5b1c9";
/// See [`API_KEY`].
pub const AUTH_TOKEN: &str = "test-auth-token-77e2a";

/// The path that adds organization user groups.
pub const ADD_GROUPS: &str = "/v2/organizations/usergroups/add";
/// The path that adds users to an organization user group.
pub const ADD_MEMBERS: &str = "/v2/organizations/usergroups/users/add";
/// The path that removes users from an organization user group.
pub const REMOVE_MEMBERS: &str = "/v2/organizations/usergroups/users/delete";
/// The path that adds (or updates) organization users.
pub const ADD_USERS: &str = "/v2/users/add";
/// The path that lists organization users, a page at a time.
pub const GET_USERS: &str = "/v2/users/get";

/// The name of the fake with HTTPS as a remote server ([`FakeVelt::remote_url`]): under the
/// reserved `.test` domain, so only [`ConnectProxy`] resolves it (to 127.0.0.1).
pub const REMOTE_NAME: &str = "velt.test";

/// The most entries of each users/get filter (`userIds`, `organizationUserGroupIds`).
pub const MAX_FILTER: usize = 30;

/// How the fake answers bad or missing credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthFailure {
    /// 401 `UNAUTHENTICATED`.
    #[default]
    Unauthenticated,
    /// 403 `PERMISSION_DENIED`.
    PermissionDenied,
}

impl std::str::FromStr for AuthFailure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "401" | "unauthenticated" => Ok(AuthFailure::Unauthenticated),
            "403" | "permission-denied" | "permission_denied" => Ok(AuthFailure::PermissionDenied),
            _ => Err(format!(
                "{s:?}: expected 401 (unauthenticated) or 403 (permission-denied)"
            )),
        }
    }
}

/// How the fake behaves. Every field can be changed while it runs ([`FakeVelt::configure`]).
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The accepted `x-velt-api-key`.
    pub api_key: String,
    /// The accepted `x-velt-auth-token`.
    pub auth_token: String,
    /// How bad or missing credentials are answered (401 by default).
    pub auth_failure: AuthFailure,
    /// Requests per second per API key; more is answered 429 `RESOURCE_EXHAUSTED`.
    pub rate_limit: Option<f64>,
    /// Bucket size for the rate limit (requests that may arrive at once); `None`: one
    /// second's worth, as per-second limits usually allow.
    pub rate_burst: Option<f64>,
    /// Whether a 429 carries `Retry-After` (whole seconds, rounded up).
    pub retry_after: bool,
    /// Added to every answer.
    pub latency: Duration,
    /// Share of requests answered 500 `INTERNAL` or 503 `UNAVAILABLE` (alternately).
    pub error_share: f64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_share: f64,
    /// Share of requests that are never answered (the client must time out).
    pub hang_share: f64,
    /// The first N requests are answered 503 (deterministic transient failures).
    pub fail_first: u64,
    /// Every request is answered with this status (a server that is down).
    pub always: Option<u16>,
    /// The error message of [`FakeConfig::always`] answers (ANSI escapes, forged lines...).
    pub always_message: Option<String>,
    /// [`FakeConfig::always`] answers quote the request's headers in their message, as some
    /// debugging proxies do (secrets included).
    pub echo_headers: bool,
    /// Every request is answered `307 Temporary Redirect` to this URL.
    pub redirect_to: Option<String>,
    /// Every request is answered 200 with a body of this many bytes (a runaway server).
    pub huge_body: Option<usize>,
    /// More groups (or user IDs, or users) than this in one request is a 400 `INVALID_ARGUMENT`.
    pub max_chunk: Option<usize>,
    /// Groups whose presence makes the whole request a 400 (a value the server refuses).
    pub bad_request_groups: HashSet<String>,
    /// Groups answered `"success": false`, with no `code`, by usergroups/add.
    pub reject_groups: HashSet<String>,
    /// Groups left out of `result.data` (not confirmed).
    pub omit_groups: HashSet<String>,
    /// Users answered `"success": false`, with no `code`, by every endpoint that writes users.
    pub reject_users: HashSet<String>,
    /// Items (group or user IDs) answered `code: "internal"` while their count is above zero;
    /// each such answer takes one off, so an item fails its first N times, then succeeds.
    pub transient_items: HashMap<String, u32>,
    /// Re-adding a group, an organization user or a member updates it (`true`), or is refused
    /// per item with `code: "already-exists"`, leaving what is stored unchanged (`false`).
    pub upsert: bool,
    /// A call with any failed item is answered 500 `INTERNAL` with every item's outcome in
    /// `error.details`; the items that succeeded are stored all the same.
    pub partial_failure_500: bool,
    /// usergroups/users/add refuses (`code: "not-found"`) users that were not first made
    /// organization users by `/v2/users/add`.
    pub require_org_users: bool,
    /// users/get answers this many users per page at most; a larger `pageSize` is clamped.
    pub max_page_size: usize,
    /// The field users/get names its next-page token with: `nextPageToken`, or `pageToken`.
    pub page_token_field: String,
    /// users/get is served only when the project has "advanced queries" on; off, it answers 400
    /// `FAILED_PRECONDITION`.
    pub advanced_queries: bool,
    /// Requests per second the server can serve, one at a time; more wait in a queue, so the
    /// answers come later and later (no 429) until clients time out. `None`: no limit.
    pub capacity: Option<f64>,
    /// A way users/get misbehaves (none by default).
    pub users_fault: Option<UsersFault>,
    /// Every path is served under this prefix (`/velt` serves `/velt/v2/users/get`), as behind
    /// a gateway; a request without it is a 404. Empty: served at the root.
    pub path_prefix: String,
    /// Seed for the random faults and the IDs the fake hands out.
    pub seed: u64,
}

/// A way `users/get` can misbehave, one mode each, for the read-back's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersFault {
    /// A 200 whose `result` has no `data` (a gateway's idea of "nothing to say").
    NoData,
    /// The page tokens go round in a circle: the first page points to a second, and the
    /// second back to the first.
    TokenCycle,
    /// Every page is empty and names a next page, forever.
    EmptyPages,
    /// Every page carries an extra field of this many bytes besides its users.
    Padding(usize),
}

impl std::str::FromStr for UsersFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "no-data" => Ok(UsersFault::NoData),
            "token-cycle" => Ok(UsersFault::TokenCycle),
            "empty-pages" => Ok(UsersFault::EmptyPages),
            _ => match s.strip_prefix("padding=").map(str::parse) {
                Some(Ok(n)) => Ok(UsersFault::Padding(n)),
                _ => Err(format!(
                    "{s:?}: expected no-data, token-cycle, empty-pages or padding=BYTES"
                )),
            },
        }
    }
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            api_key: API_KEY.into(),
            auth_token: AUTH_TOKEN.into(),
            auth_failure: AuthFailure::Unauthenticated,
            rate_limit: None,
            rate_burst: None,
            retry_after: true,
            latency: Duration::ZERO,
            error_share: 0.0,
            drop_share: 0.0,
            hang_share: 0.0,
            fail_first: 0,
            always: None,
            always_message: None,
            echo_headers: false,
            redirect_to: None,
            huge_body: None,
            max_chunk: None,
            bad_request_groups: HashSet::new(),
            reject_groups: HashSet::new(),
            omit_groups: HashSet::new(),
            reject_users: HashSet::new(),
            transient_items: HashMap::new(),
            upsert: true,
            partial_failure_500: false,
            require_org_users: false,
            max_page_size: 100,
            page_token_field: "nextPageToken".into(),
            advanced_queries: true,
            capacity: None,
            users_fault: None,
            path_prefix: String::new(),
            seed: 7,
        }
    }
}

impl FakeConfig {
    /// The strictest plausible reading of the real API: no upsert, a 500 when any item fails,
    /// members must be organization users first.
    pub fn strict() -> Self {
        FakeConfig {
            upsert: false,
            partial_failure_500: true,
            require_org_users: true,
            ..FakeConfig::default()
        }
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// When it arrived, from the fake's start.
    pub at: Duration,
    /// The path.
    pub path: String,
    /// The organization, when the body had one.
    pub org: Option<String>,
    /// Group IDs in the body, or else its user IDs (`users[].userId`, then `userIds`).
    pub groups: Vec<String>,
    /// The answer's status; 0 for a dropped or unanswered request.
    pub status: u16,
}

/// An organization user, as `/v2/users/add` stored it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgUser {
    /// The display name.
    pub name: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// `viewer` or `editor`.
    pub access_role: Option<String>,
}

/// What the fake holds and has seen.
#[derive(Debug, Default)]
pub struct State {
    /// Confirmed groups: organization -> group ID -> name.
    pub groups: BTreeMap<String, BTreeMap<String, String>>,
    /// How many times each (organization, group) was confirmed.
    pub confirmations: HashMap<(String, String), u32>,
    /// Members: (organization, group) -> users.
    pub members: BTreeMap<(String, String), BTreeSet<String>>,
    /// Organization users: organization -> user ID -> user.
    pub org_users: BTreeMap<String, BTreeMap<String, OrgUser>>,
    /// Every request, in order of arrival.
    pub log: Vec<Logged>,
    /// Every raw header value seen (for secret-leak tests), by header name.
    pub headers_seen: HashSet<String>,
}

/// A running fake server; stopped when dropped.
pub struct FakeVelt {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    /// With HTTPS: the PEM of the CA that signed the fake's certificate.
    ca_pem: Option<String>,
}

impl FakeVelt {
    /// Starts on 127.0.0.1 and an OS-chosen port.
    pub fn start(config: FakeConfig) -> Self {
        Self::start_on(config, 0)
    }

    /// Starts on 127.0.0.1:`port`.
    pub fn start_on(config: FakeConfig, port: u16) -> Self {
        Self::launch(config, port, false)
    }

    /// Starts with HTTPS on 127.0.0.1 and an OS-chosen port, with a certificate for
    /// `localhost` and `127.0.0.1` signed by a CA made for this server alone ([`FakeVelt::ca_pem`]).
    pub fn start_tls(config: FakeConfig) -> Self {
        Self::launch(config, 0, true)
    }

    fn launch(config: FakeConfig, port: u16, https: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("fake runtime");
        let shared = Arc::new(Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            config: Mutex::new(config),
            state: Mutex::new(State::default()),
            started: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
            free_at: Mutex::new(Instant::now()),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let (acceptor, ca_pem) = if https {
            let (acceptor, pem) = tls::acceptor();
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        runtime.spawn(server::serve(listener, Arc::clone(&shared), acceptor));
        FakeVelt {
            addr,
            shared,
            runtime: Some(runtime),
            ca_pem,
        }
    }

    /// The base URL to give `--api-base`: `http://127.0.0.1:PORT`, or with HTTPS
    /// `https://localhost:PORT` (a name, as real servers have, that the certificate holds).
    pub fn url(&self) -> String {
        match self.ca_pem {
            Some(_) => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://{}", self.addr),
        }
    }

    /// With HTTPS, the base URL of the fake as a remote server, `https://velt.test:PORT`:
    /// reachable only through [`ConnectProxy`] (clients never proxy loopback addresses, so a
    /// proxy test needs a name that is not one).
    pub fn remote_url(&self) -> String {
        format!("https://{REMOTE_NAME}:{}", self.addr.port())
    }

    /// With HTTPS, the PEM of the CA to trust (`--ca-file`).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Changes the behaviour while running.
    pub fn configure(&self, f: impl FnOnce(&mut FakeConfig)) {
        f(&mut self.shared.config.lock().unwrap());
    }

    /// A copy of the behaviour now (transient counts included, as they run down).
    pub fn config(&self) -> FakeConfig {
        self.shared.config.lock().unwrap().clone()
    }

    /// Reads the state.
    pub fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.shared.state.lock().unwrap())
    }

    /// Changes the state, as another client of the API would.
    pub fn with_state_mut<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.shared.state.lock().unwrap())
    }

    /// Confirmed groups: organization -> group ID -> name.
    pub fn groups(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.with_state(|s| s.groups.clone())
    }

    /// One organization's groups: group ID -> name.
    pub fn groups_of(&self, org: &str) -> BTreeMap<String, String> {
        self.with_state(|s| s.groups.get(org).cloned().unwrap_or_default())
    }

    /// Members: (organization, group) -> users, empty groups left out.
    pub fn members(&self) -> BTreeMap<(String, String), Vec<String>> {
        self.with_state(|s| {
            s.members
                .iter()
                .filter(|(_, m)| !m.is_empty())
                .map(|(k, m)| (k.clone(), m.iter().cloned().collect()))
                .collect()
        })
    }

    /// One group's members, sorted.
    pub fn members_of(&self, org: &str, group: &str) -> Vec<String> {
        self.with_state(|s| {
            s.members
                .get(&(org.to_owned(), group.to_owned()))
                .map(|m| m.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// One organization's users: user ID -> user.
    pub fn org_users(&self, org: &str) -> BTreeMap<String, OrgUser> {
        self.with_state(|s| s.org_users.get(org).cloned().unwrap_or_default())
    }

    /// Adds (or replaces) a group, as someone in the Velt console would.
    pub fn add_group(&self, org: &str, group: &str, name: &str) {
        self.with_state_mut(|s| {
            s.groups
                .entry(org.to_owned())
                .or_default()
                .insert(group.to_owned(), name.to_owned());
        });
    }

    /// Adds (or replaces) an organization user, as someone in the Velt console would.
    pub fn add_org_user(&self, org: &str, user: &str, details: OrgUser) {
        self.with_state_mut(|s| {
            s.org_users
                .entry(org.to_owned())
                .or_default()
                .insert(user.to_owned(), details);
        });
    }

    /// Puts a user in a group behind the client's back; `false` if they were already in it.
    pub fn add_member(&self, org: &str, group: &str, user: &str) -> bool {
        self.with_state_mut(|s| {
            s.members
                .entry((org.to_owned(), group.to_owned()))
                .or_default()
                .insert(user.to_owned())
        })
    }

    /// Takes a user out of a group behind the client's back; `false` if they were not in it.
    pub fn remove_member(&self, org: &str, group: &str, user: &str) -> bool {
        self.with_state_mut(|s| {
            s.members
                .get_mut(&(org.to_owned(), group.to_owned()))
                .is_some_and(|m| m.remove(user))
        })
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.with_state(|s| s.log.len())
    }

    /// Requests received so far on `path` (such as [`ADD_USERS`]).
    pub fn requests_to(&self, path: &str) -> usize {
        self.with_state(|s| s.log.iter().filter(|l| l.path == path).count())
    }

    /// Requests received so far, counted by path.
    pub fn requests_by_path(&self) -> BTreeMap<String, usize> {
        self.with_state(|s| {
            let mut counts = BTreeMap::new();
            for l in &s.log {
                *counts.entry(l.path.clone()).or_default() += 1;
            }
            counts
        })
    }

    /// Requests answered with `status`.
    pub fn answered(&self, status: u16) -> usize {
        self.with_state(|s| s.log.iter().filter(|l| l.status == status).count())
    }

    /// The request log.
    pub fn log(&self) -> Vec<Logged> {
        self.with_state(|s| s.log.clone())
    }
}

impl Drop for FakeVelt {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

//! A faithful fake of the Velt user-group API, for tests, benchmarks and rehearsals
//! (`cargo run -p fake-velt -- --port 8787`).
//!
//! It is a real HTTP/1.1 server on 127.0.0.1: it checks both auth headers, validates bodies
//! strictly, answers one entry per group in `result.data`, stores what it confirmed, and can be
//! told to misbehave in every way the contract allows: a per-key rate limit (429, with or
//! without `Retry-After`), latency, a share of 500/503 answers, dropped connections, requests
//! that never get an answer, a cap on groups per request, and `"success": false` or missing
//! entries for chosen groups. Random faults come from a seeded generator, so runs repeat.

#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

/// The API key and token the fake accepts unless told otherwise.
pub const API_KEY: &str = "test-api-key-5b1c9";
/// See [`API_KEY`].
pub const AUTH_TOKEN: &str = "test-auth-token-77e2a";

/// How the fake behaves. Every field can be changed while it runs ([`FakeVelt::configure`]).
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The accepted `x-velt-api-key`.
    pub api_key: String,
    /// The accepted `x-velt-auth-token`.
    pub auth_token: String,
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
    /// More groups than this in one request is a 400 `INVALID_ARGUMENT`.
    pub max_chunk: Option<usize>,
    /// Groups whose presence makes the whole request a 400 (a value the server refuses).
    pub bad_request_groups: HashSet<String>,
    /// Groups answered `"success": false` inside a 200.
    pub reject_groups: HashSet<String>,
    /// Groups left out of `result.data` (not confirmed).
    pub omit_groups: HashSet<String>,
    /// Users answered `"success": false` by users/add and users/delete.
    pub reject_users: HashSet<String>,
    /// Seed for the random faults.
    pub seed: u64,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            api_key: API_KEY.into(),
            auth_token: AUTH_TOKEN.into(),
            rate_limit: None,
            rate_burst: None,
            retry_after: true,
            latency: Duration::ZERO,
            error_share: 0.0,
            drop_share: 0.0,
            hang_share: 0.0,
            fail_first: 0,
            always: None,
            max_chunk: None,
            bad_request_groups: HashSet::new(),
            reject_groups: HashSet::new(),
            omit_groups: HashSet::new(),
            reject_users: HashSet::new(),
            seed: 7,
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
    /// Group IDs in the body.
    pub groups: Vec<String>,
    /// The answer's status; 0 for a dropped or unanswered request.
    pub status: u16,
}

/// What the fake holds and has seen.
#[derive(Debug, Default)]
pub struct State {
    /// Confirmed groups: organization -> group ID -> name.
    pub groups: BTreeMap<String, BTreeMap<String, String>>,
    /// How many times each (organization, group) was confirmed.
    pub confirmations: HashMap<(String, String), u32>,
    /// Members: (organization, group) -> users.
    pub members: BTreeMap<(String, String), std::collections::BTreeSet<String>>,
    /// Every request, in order of arrival.
    pub log: Vec<Logged>,
    /// Every raw header value seen (for secret-leak tests), by header name.
    pub headers_seen: HashSet<String>,
}

struct Shared {
    config: Mutex<FakeConfig>,
    state: Mutex<State>,
    started: Instant,
    /// Per-key token buckets: (tokens, last refill).
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    rng: Mutex<fastrand::Rng>,
}

/// A running fake server; stopped when dropped.
pub struct FakeVelt {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeVelt {
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

    /// Starts on 127.0.0.1 and an OS-chosen port.
    pub fn start(config: FakeConfig) -> Self {
        Self::start_on(config, 0)
    }

    /// Starts on 127.0.0.1:`port`.
    pub fn start_on(config: FakeConfig, port: u16) -> Self {
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
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let accept_shared = Arc::clone(&shared);
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&accept_shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
                    // A service error closes the connection without an answer: that is how
                    // "dropped connections" are made.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeVelt {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    /// The base URL to give `--api-base`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the behaviour while running.
    pub fn configure(&self, f: impl FnOnce(&mut FakeConfig)) {
        f(&mut self.shared.config.lock().unwrap());
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

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.with_state(|s| s.log.len())
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

type Answer = Response<Full<Bytes>>;

/// An error envelope as Velt sends it.
fn error(status: StatusCode, word: &str, message: &str) -> Answer {
    let body = json!({"error": {"message": message, "status": word}});
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Why a request is dropped instead of answered.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fake on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Answer, Dropped> {
    let at = shared.started.elapsed();
    let config = shared.config.lock().unwrap().clone();
    let path = req.uri().path().to_owned();
    {
        let mut state = shared.state.lock().unwrap();
        for (_, v) in req.headers() {
            if let Ok(v) = v.to_str() {
                state.headers_seen.insert(v.to_owned());
            }
        }
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let org = parsed
        .as_ref()
        .and_then(|v| v["data"]["organizationId"].as_str())
        .map(str::to_owned);
    // Group IDs of a groups request, or user IDs of a members request.
    let groups: Vec<String> = parsed
        .as_ref()
        .and_then(|v| {
            let ids = |list: &Value, key: Option<&str>| -> Option<Vec<String>> {
                list.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| key.map_or(x, |k| &x[k]).as_str().map(str::to_owned))
                        .collect()
                })
            };
            ids(&v["data"]["organizationUserGroups"], Some("groupId")).or_else(|| ids(&v["data"]["userIds"], None))
        })
        .unwrap_or_default();
    let index = {
        let mut state = shared.state.lock().unwrap();
        state.log.push(Logged {
            at,
            path: path.clone(),
            org: org.clone(),
            groups: groups.clone(),
            status: 0,
        });
        state.log.len() - 1
    };
    let record = |status: u16| {
        shared.state.lock().unwrap().log[index].status = status;
    };

    let (drop_it, hang, fail) = {
        let mut rng = shared.rng.lock().unwrap();
        (
            rng.f64() < config.drop_share,
            rng.f64() < config.hang_share,
            rng.f64() < config.error_share,
        )
    };
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    if drop_it {
        return Err(Dropped);
    }
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Err(Dropped);
    }
    if let Some(code) = config.always {
        record(code);
        let status = StatusCode::from_u16(code).unwrap();
        return Ok(error(status, word_for(code), "the fake is told to answer this"));
    }
    if index < config.fail_first as usize {
        record(503);
        return Ok(error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "warming up"));
    }
    if fail {
        let code = if index % 2 == 0 { 500 } else { 503 };
        record(code);
        return Ok(error(
            StatusCode::from_u16(code).unwrap(),
            word_for(code),
            "injected failure",
        ));
    }

    // Auth before anything else, as Velt's gateway does.
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    if header("x-velt-api-key") != config.api_key || header("x-velt-auth-token") != config.auth_token {
        record(401);
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "invalid API key or auth token",
        ));
    }
    if let Some(rate) = config.rate_limit {
        let now = Instant::now();
        let mut buckets = shared.buckets.lock().unwrap();
        let capacity = config.rate_burst.unwrap_or(rate).max(1.0);
        let bucket = buckets.entry(config.api_key.clone()).or_insert((capacity, now));
        bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * rate).min(capacity);
        bucket.1 = now;
        if bucket.0 < 1.0 {
            let wait = (1.0 - bucket.0) / rate;
            drop(buckets);
            record(429);
            let mut answer = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "rate limit exceeded",
            );
            if config.retry_after {
                let secs = wait.ceil().max(1.0) as u64;
                answer
                    .headers_mut()
                    .insert("retry-after", secs.to_string().parse().unwrap());
            }
            return Ok(answer);
        }
        bucket.0 -= 1.0;
    }
    if parts.method != hyper::Method::POST {
        record(404);
        return Ok(error(StatusCode::NOT_FOUND, "NOT_FOUND", "only POST is served"));
    }
    let is_json = header("content-type").starts_with("application/json");
    let answer = match path.as_str() {
        "/v2/organizations/usergroups/add" if is_json => add_groups(&shared, &config, parsed),
        "/v2/organizations/usergroups/users/add" if is_json => members(&shared, &config, parsed, true),
        "/v2/organizations/usergroups/users/delete" if is_json => members(&shared, &config, parsed, false),
        "/v2/organizations/usergroups/add"
        | "/v2/organizations/usergroups/users/add"
        | "/v2/organizations/usergroups/users/delete" => error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Content-Type must be application/json",
        ),
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint"),
    };
    record(answer.status().as_u16());
    Ok(answer)
}

fn word_for(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn bad(message: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// `POST /v2/organizations/usergroups/add`, validated strictly.
fn add_groups(shared: &Shared, config: &FakeConfig, body: Option<Value>) -> Answer {
    let Some(body) = body else {
        return bad("body is not JSON");
    };
    let Some(top) = body.as_object() else {
        return bad("body must be an object");
    };
    if top.keys().any(|k| k != "data") {
        return bad("unknown top-level field");
    }
    let Some(data) = top.get("data").and_then(Value::as_object) else {
        return bad("data must be an object");
    };
    if data.keys().any(|k| {
        !matches!(
            k.as_str(),
            "organizationId" | "organizationUserGroups" | "createOrganization"
        )
    }) {
        return bad("unknown field in data");
    }
    let Some(org) = data
        .get("organizationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return bad("organizationId must be a non-empty string");
    };
    if data.get("createOrganization").is_some_and(|v| !v.is_boolean()) {
        return bad("createOrganization must be a boolean");
    }
    let Some(list) = data
        .get("organizationUserGroups")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return bad("organizationUserGroups must be a non-empty array");
    };
    if let Some(max) = config.max_chunk {
        if list.len() > max {
            return bad(&format!("at most {max} groups per request"));
        }
    }
    let mut groups = Vec::new();
    let mut ids = HashSet::new();
    for g in list {
        let Some(obj) = g.as_object() else {
            return bad("each group must be an object");
        };
        if obj.keys().any(|k| k != "groupId" && k != "groupName") {
            return bad("unknown field in a group");
        }
        let Some(id) = obj.get("groupId").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
            return bad("groupId must be a non-empty string");
        };
        let Some(name) = obj.get("groupName").and_then(Value::as_str) else {
            return bad("groupName must be a string");
        };
        if !ids.insert(id) {
            return bad(&format!("groupId {id} appears twice"));
        }
        if config.bad_request_groups.contains(id) {
            return bad(&format!("groupName of {id} is not accepted"));
        }
        groups.push((id.to_owned(), name.to_owned()));
    }
    let mut state = shared.state.lock().unwrap();
    let mut entries = serde_json::Map::new();
    for (id, name) in groups {
        if config.omit_groups.contains(&id) {
            continue;
        }
        if config.reject_groups.contains(&id) {
            entries.insert(id, json!({"success": false, "message": "Group rejected by the fake."}));
            continue;
        }
        let digest = format!("{:032x}", fastrand::u128(..));
        state.groups.entry(org.to_owned()).or_default().insert(id.clone(), name);
        *state.confirmations.entry((org.to_owned(), id.clone())).or_default() += 1;
        entries.insert(
            id,
            json!({"success": true, "id": digest, "message": "Organization user group added."}),
        );
    }
    success("Organization user groups added.", entries)
}

/// `POST .../users/add` (`add`) and `.../users/delete`, validated strictly.
fn members(shared: &Shared, config: &FakeConfig, body: Option<Value>, add: bool) -> Answer {
    let Some(data) = body
        .as_ref()
        .and_then(|b| b.as_object())
        .and_then(|b| b.get("data"))
        .and_then(Value::as_object)
    else {
        return bad("data must be an object");
    };
    if data.keys().any(|k| {
        !matches!(
            k.as_str(),
            "organizationId" | "organizationUserGroupId" | "userIds" | "deleteAll"
        )
    }) {
        return bad("unknown field in data");
    }
    let Some(org) = data
        .get("organizationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return bad("organizationId must be a non-empty string");
    };
    let Some(group) = data
        .get("organizationUserGroupId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return bad("organizationUserGroupId must be a non-empty string");
    };
    let delete_all = !add && data.get("deleteAll").and_then(Value::as_bool) == Some(true);
    let users: Vec<&str> = match data.get("userIds").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let users: Vec<&str> = list
                .iter()
                .filter_map(Value::as_str)
                .filter(|u| !u.is_empty())
                .collect();
            if users.len() != list.len() {
                return bad("userIds must be non-empty strings");
            }
            users
        }
        _ if delete_all => Vec::new(),
        _ => return bad("userIds must be a non-empty array"),
    };
    if let Some(max) = config.max_chunk {
        if users.len() > max {
            return bad(&format!("at most {max} userIds per request"));
        }
    }
    let mut state = shared.state.lock().unwrap();
    if !state.groups.get(org).is_some_and(|g| g.contains_key(group)) {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "organization user group not found");
    }
    let key = (org.to_owned(), group.to_owned());
    let users: Vec<String> = if delete_all {
        state
            .members
            .get(&key)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    } else {
        users.iter().map(|u| u.to_string()).collect()
    };
    let mut entries = serde_json::Map::new();
    for user in users {
        if config.reject_users.contains(&user) {
            entries.insert(user, json!({"success": false, "message": "User rejected by the fake."}));
            continue;
        }
        let set = state.members.entry(key.clone()).or_default();
        let message = if add {
            set.insert(user.clone());
            "User added to organization user group."
        } else {
            set.remove(&user);
            "User removed from organization user group."
        };
        entries.insert(
            user,
            json!({"success": true, "organizationUserGroupId": group, "message": message}),
        );
    }
    success("Memberships updated.", entries)
}

/// A success envelope with one entry per group or user.
fn success(message: &str, entries: serde_json::Map<String, Value>) -> Answer {
    let body = json!({"result": {"status": "success", "message": message, "data": entries}});
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

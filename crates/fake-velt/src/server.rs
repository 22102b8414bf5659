//! The HTTP side: accepting connections, the faults that strike before a body is read, auth,
//! rate limiting and routing to [`crate::endpoints`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

use crate::{endpoints, AuthFailure, FakeConfig, Logged, State};

pub(crate) struct Shared {
    pub(crate) config: Mutex<FakeConfig>,
    pub(crate) state: Mutex<State>,
    pub(crate) started: Instant,
    /// Per-key token buckets: (tokens, last refill).
    pub(crate) buckets: Mutex<HashMap<String, (f64, Instant)>>,
    pub(crate) rng: Mutex<fastrand::Rng>,
    /// With [`FakeConfig::capacity`]: when the server is next free to serve a request.
    pub(crate) free_at: Mutex<Instant>,
}

pub(crate) type Answer = Response<Full<Bytes>>;

/// Why a request is dropped instead of answered.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fake on purpose")
    }
}

impl std::error::Error for Dropped {}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                // A failed handshake (a client that does not trust the CA) just ends here.
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        connection(stream, shared).await;
                    }
                }
                None => connection(stream, shared).await,
            }
        });
    }
}

async fn connection<S>(stream: S, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
    // A service error closes the connection without an answer: that is how
    // "dropped connections" are made.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

fn json_answer(status: StatusCode, body: &Value) -> Answer {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// An error envelope as Velt sends it.
pub(crate) fn error(status: StatusCode, word: &str, message: &str) -> Answer {
    json_answer(status, &json!({"error": {"message": message, "status": word}}))
}

/// An error envelope with per-item outcomes in `details`.
pub(crate) fn error_with_details(status: StatusCode, word: &str, message: &str, details: Value) -> Answer {
    json_answer(
        status,
        &json!({"error": {"message": message, "status": word, "details": details}}),
    )
}

/// A success envelope around `result`'s own fields (`data` and, for a page, its token).
pub(crate) fn success(message: &str, mut result: serde_json::Map<String, Value>) -> Answer {
    result.insert("status".into(), "success".into());
    result.insert("message".into(), message.into());
    json_answer(StatusCode::OK, &json!({ "result": result }))
}

/// 400 `INVALID_ARGUMENT`.
pub(crate) fn bad(message: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// Group IDs of a groups request, or else user IDs of a users or members request.
fn logged_items(body: Option<&Value>) -> Vec<String> {
    let Some(data) = body.map(|v| &v["data"]) else {
        return Vec::new();
    };
    let ids = |list: &Value, key: Option<&str>| -> Option<Vec<String>> {
        list.as_array().map(|a| {
            a.iter()
                .filter_map(|x| key.map_or(x, |k| &x[k]).as_str().map(str::to_owned))
                .collect()
        })
    };
    ids(&data["organizationUserGroups"], Some("groupId"))
        .or_else(|| ids(&data["users"], Some("userId")))
        .or_else(|| ids(&data["userIds"], None))
        .unwrap_or_default()
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Answer, Dropped> {
    let at = shared.started.elapsed();
    let config = shared.config.lock().unwrap().clone();
    // Behind a gateway's prefix, the path without it; a path outside the prefix matches no
    // endpoint (the 404 below).
    let path = match req.uri().path().strip_prefix(config.path_prefix.trim_end_matches('/')) {
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ => format!("(outside {}) {}", config.path_prefix, req.uri().path()),
    };
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
    let groups = logged_items(parsed.as_ref());
    let index = {
        let mut state = shared.state.lock().unwrap();
        state.log.push(Logged {
            at,
            path: path.clone(),
            org,
            groups,
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
    if let Some(capacity) = config.capacity.filter(|c| *c > 0.0) {
        // One request at a time, each taking 1/capacity: beyond that pace requests queue and
        // their answers come later and later, as an overloaded server's do (no 429: it only
        // slows down, until clients time out). A request given up on keeps its place.
        let service = Duration::from_secs_f64(1.0 / capacity);
        let done = {
            let mut free_at = shared.free_at.lock().unwrap();
            let done = (*free_at).max(Instant::now()) + service;
            *free_at = done;
            done
        };
        tokio::time::sleep_until(done.into()).await;
    }
    if drop_it {
        return Err(Dropped);
    }
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Err(Dropped);
    }
    if let Some(location) = &config.redirect_to {
        record(307);
        return Ok(Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header("location", location.as_str())
            .body(Full::new(Bytes::new()))
            .unwrap());
    }
    if let Some(size) = config.huge_body {
        record(200);
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(vec![b' '; size])))
            .unwrap());
    }
    if let Some(code) = config.always {
        record(code);
        let status = StatusCode::from_u16(code).unwrap();
        let mut message = config
            .always_message
            .clone()
            .unwrap_or_else(|| "the fake is told to answer this".into());
        if config.echo_headers {
            message.push_str("\nrequest headers:");
            for (name, value) in &parts.headers {
                message.push_str(&format!("\n{name}: {}", value.to_str().unwrap_or("?")));
            }
        }
        return Ok(error(status, word_for(code), &message));
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
        let answer = match config.auth_failure {
            AuthFailure::Unauthenticated => error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "invalid API key or auth token",
            ),
            AuthFailure::PermissionDenied => error(
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                "the API key or auth token does not grant access to this project",
            ),
        };
        record(answer.status().as_u16());
        return Ok(answer);
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
        crate::ADD_GROUPS if is_json => endpoints::add_groups(&shared, &config, parsed),
        crate::ADD_MEMBERS if is_json => endpoints::members(&shared, &config, parsed, true),
        crate::REMOVE_MEMBERS if is_json => endpoints::members(&shared, &config, parsed, false),
        crate::ADD_USERS if is_json => endpoints::add_users(&shared, &config, parsed),
        crate::GET_USERS if is_json => endpoints::get_users(&shared, &config, parsed),
        crate::ADD_GROUPS | crate::ADD_MEMBERS | crate::REMOVE_MEMBERS | crate::ADD_USERS | crate::GET_USERS => {
            bad("Content-Type must be application/json")
        }
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

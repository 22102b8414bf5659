//! Runs the fake Velt server by hand, for a rehearsal before a real import:
//!
//! ```sh
//! cargo run -p fake-velt -- --port 8787 --rate-limit 10 --latency-ms 100
//! VELT_API_KEY=test-api-key-5b1c9 VELT_AUTH_TOKEN=test-auth-token-77e2a \
//!   cargo run -- import --api-base http://127.0.0.1:8787 --org acme samples/employees.xlsx
//! ```
//!
//! The same library serves the tests and the benchmarks.

use std::time::Duration;

use clap::Parser;
use fake_velt::{AuthFailure, FakeConfig, FakeVelt};

/// A faithful fake of the Velt user-group and user APIs on 127.0.0.1.
#[derive(Parser, Debug)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Accepted API key.
    #[arg(long, default_value = fake_velt::API_KEY)]
    api_key: String,
    /// Accepted auth token.
    #[arg(long, default_value = fake_velt::AUTH_TOKEN)]
    auth_token: String,
    /// How bad credentials are answered: 401 (UNAUTHENTICATED) or 403 (PERMISSION_DENIED).
    #[arg(long, default_value = "401")]
    auth_failure: AuthFailure,
    /// Requests per second per key; more get 429 RESOURCE_EXHAUSTED.
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Send 429s without Retry-After.
    #[arg(long)]
    no_retry_after: bool,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests answered 500/503 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    error_share: f64,
    /// Share of connections dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_share: f64,
    /// Share of requests never answered.
    #[arg(long, default_value_t = 0.0)]
    hang_share: f64,
    /// Refuse (400) requests with more groups, user IDs or users than this.
    #[arg(long)]
    max_chunk: Option<usize>,
    /// Answer "success": false (no code) for this group ID (repeatable).
    #[arg(long = "reject")]
    reject: Vec<String>,
    /// Answer "success": false (no code) for this user ID (repeatable).
    #[arg(long = "reject-user")]
    reject_user: Vec<String>,
    /// Leave this group ID out of the answer (repeatable).
    #[arg(long = "omit")]
    omit: Vec<String>,
    /// Answer code "internal" for this group or user ID its first N times (ID=N, repeatable).
    #[arg(long = "transient", value_parser = transient)]
    transient: Vec<(String, u32)>,
    /// Refuse re-adding a group, organization user or member (code "already-exists").
    #[arg(long)]
    no_upsert: bool,
    /// Answer 500 INTERNAL, outcomes in error.details, when any item fails (the rest is stored).
    #[arg(long)]
    partial_failure_500: bool,
    /// Refuse (code "not-found") group members that are not organization users yet.
    #[arg(long)]
    require_org_users: bool,
    /// The strictest reading of the API: --no-upsert --partial-failure-500 --require-org-users.
    #[arg(long)]
    strict: bool,
    /// Most users per users/get page (a larger pageSize is clamped to it).
    #[arg(long, default_value_t = 100)]
    max_page_size: usize,
    /// The field users/get names its next-page token with (nextPageToken or pageToken).
    #[arg(long, default_value = "nextPageToken")]
    page_token_field: String,
    /// Answer users/get 400 FAILED_PRECONDITION, as when advanced queries are off in the console.
    #[arg(long)]
    no_advanced_queries: bool,
    /// Requests per second served, one at a time; more queue up and answer later (no 429).
    #[arg(long, value_name = "PER_SECOND")]
    capacity: Option<f64>,
    /// Make users/get misbehave: no-data, token-cycle, empty-pages or padding=BYTES.
    #[arg(long, value_name = "FAULT")]
    users_fault: Option<fake_velt::UsersFault>,
    /// Serve every endpoint under this path prefix (e.g. /velt), as behind a gateway.
    #[arg(long, default_value = "")]
    path_prefix: String,
    /// Seed for the random faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// `ID=N` of `--transient`.
fn transient(s: &str) -> Result<(String, u32), String> {
    let (id, n) = s.rsplit_once('=').ok_or("expected ID=N")?;
    let n = n.parse().map_err(|e| format!("{n:?}: {e}"))?;
    if id.is_empty() {
        return Err("the ID is empty".into());
    }
    Ok((id.to_owned(), n))
}

impl Args {
    fn config(self) -> FakeConfig {
        let base = if self.strict {
            FakeConfig::strict()
        } else {
            FakeConfig::default()
        };
        FakeConfig {
            api_key: self.api_key,
            auth_token: self.auth_token,
            auth_failure: self.auth_failure,
            rate_limit: self.rate_limit,
            retry_after: !self.no_retry_after,
            latency: Duration::from_millis(self.latency_ms),
            error_share: self.error_share,
            drop_share: self.drop_share,
            hang_share: self.hang_share,
            max_chunk: self.max_chunk,
            reject_groups: self.reject.into_iter().collect(),
            reject_users: self.reject_user.into_iter().collect(),
            omit_groups: self.omit.into_iter().collect(),
            transient_items: self.transient.into_iter().collect(),
            upsert: base.upsert && !self.no_upsert,
            partial_failure_500: base.partial_failure_500 || self.partial_failure_500,
            require_org_users: base.require_org_users || self.require_org_users,
            max_page_size: self.max_page_size,
            page_token_field: self.page_token_field,
            advanced_queries: !self.no_advanced_queries,
            capacity: self.capacity,
            users_fault: self.users_fault,
            path_prefix: self.path_prefix,
            seed: self.seed,
            ..base
        }
    }
}

fn main() {
    let args = Args::parse();
    let (key, token) = (args.api_key.clone(), args.auth_token.clone());
    let port = args.port;
    let fake = FakeVelt::start_on(args.config(), port);
    println!("fake Velt API at {}", fake.url());
    println!("  export VELT_API_KEY={key} VELT_AUTH_TOKEN={token}");
    println!("  velt-groups import --api-base {} ...", fake.url());
    println!("Ctrl-C to stop.");
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let n = fake.requests();
        if n != last {
            let (groups, users) = fake.with_state(|s| {
                (
                    s.groups.values().map(|g| g.len()).sum::<usize>(),
                    s.org_users.values().map(|u| u.len()).sum::<usize>(),
                )
            });
            println!("{n} requests, {groups} groups and {users} organization users stored");
            last = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_library_defaults() {
        let c = Args::try_parse_from(["fake-velt"]).unwrap().config();
        let d = FakeConfig::default();
        assert_eq!(
            (c.upsert, c.partial_failure_500, c.require_org_users, c.advanced_queries),
            (d.upsert, d.partial_failure_500, d.require_org_users, d.advanced_queries)
        );
        assert_eq!(
            (c.max_page_size, c.page_token_field),
            (d.max_page_size, d.page_token_field)
        );
        assert_eq!(
            (c.auth_failure, c.seed, c.retry_after),
            (d.auth_failure, d.seed, d.retry_after)
        );
    }

    #[test]
    fn every_mode_has_a_flag() {
        let c = Args::try_parse_from([
            "fake-velt",
            "--strict",
            "--auth-failure",
            "403",
            "--transient",
            "eng=2",
            "--transient",
            "a=b@example.com=1",
            "--reject-user",
            "bob",
            "--max-page-size",
            "10",
            "--page-token-field",
            "pageToken",
            "--no-advanced-queries",
        ])
        .unwrap()
        .config();
        assert!(!c.upsert && c.partial_failure_500 && c.require_org_users && !c.advanced_queries);
        assert_eq!(c.auth_failure, AuthFailure::PermissionDenied);
        assert_eq!(
            c.transient_items,
            [("eng".into(), 2), ("a=b@example.com".into(), 1)].into()
        );
        assert!(c.reject_users.contains("bob"));
        assert_eq!((c.max_page_size, c.page_token_field.as_str()), (10, "pageToken"));
    }

    #[test]
    fn bad_flag_values_are_refused() {
        assert!(Args::try_parse_from(["fake-velt", "--transient", "eng"]).is_err());
        assert!(Args::try_parse_from(["fake-velt", "--transient", "=2"]).is_err());
        assert!(Args::try_parse_from(["fake-velt", "--auth-failure", "402"]).is_err());
    }
}

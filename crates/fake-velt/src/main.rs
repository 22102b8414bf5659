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
use fake_velt::{FakeConfig, FakeVelt};

/// A faithful fake of the Velt user-group API on 127.0.0.1.
#[derive(Parser)]
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
    /// Refuse (400) requests with more groups than this.
    #[arg(long)]
    max_chunk: Option<usize>,
    /// Answer "success": false for this group ID (repeatable).
    #[arg(long = "reject")]
    reject: Vec<String>,
    /// Leave this group ID out of the answer (repeatable).
    #[arg(long = "omit")]
    omit: Vec<String>,
}

fn main() {
    let a = Args::parse();
    let config = FakeConfig {
        api_key: a.api_key.clone(),
        auth_token: a.auth_token.clone(),
        rate_limit: a.rate_limit,
        retry_after: !a.no_retry_after,
        latency: Duration::from_millis(a.latency_ms),
        error_share: a.error_share,
        drop_share: a.drop_share,
        hang_share: a.hang_share,
        max_chunk: a.max_chunk,
        reject_groups: a.reject.into_iter().collect(),
        omit_groups: a.omit.into_iter().collect(),
        ..FakeConfig::default()
    };
    let fake = FakeVelt::start_on(config, a.port);
    println!("fake Velt API at {}", fake.url());
    println!("  export VELT_API_KEY={} VELT_AUTH_TOKEN={}", a.api_key, a.auth_token);
    println!("  velt-groups import --api-base {} ...", fake.url());
    println!("Ctrl-C to stop.");
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let n = fake.requests();
        if n != last {
            let groups: usize = fake.groups().values().map(|g| g.len()).sum();
            println!("{n} requests, {groups} groups stored");
            last = n;
        }
    }
}

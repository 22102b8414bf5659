//! Issue 21 §5: the network. A path prefix in --api-base is kept; `--rate auto` reads server
//! slowness (timeouts), not only 429s, and advises sensibly when every request got a 429.
//! (Loopback is never proxied: `ship.rs`, beside the proxy tests.)

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS};

const STAFF: &str = "Employee ID,Name,Work Email,Department\n\
1,Ada Lovelace,ada@example.com,Engineering\n\
2,Grace Hopper,grace@example.com,Sales\n";

/// Regression: `--api-base http://host/prefix/` sent to `/v2/...` (the prefix dropped), while
/// the dry run named the prefix as the target.
#[test]
fn a_path_prefix_in_the_api_base_is_kept() {
    let fake = FakeVelt::start(FakeConfig {
        path_prefix: "/gateway/velt".into(),
        ..FakeConfig::default()
    });
    for (i, base) in [
        format!("{}/gateway/velt/", fake.url()),
        format!("{}/gateway/velt", fake.url()),
    ]
    .iter()
    .enumerate()
    {
        let w = Workdir::new();
        w.write("staff.csv", STAFF);
        let common = ["--org", "acme", "--api-base", base.as_str(), "--rate", "500"];
        let mut args = vec!["import", "--quiet", "--members", "--report", "r.json"];
        args.extend_from_slice(&common);
        args.push("staff.csv");
        let run = w.run_env(&args, &CREDS);
        assert_eq!(run.code, 0, "{base}: {}", run.stderr);
        assert_eq!(fake.groups_of("acme").len(), 2, "{base}");
        assert_eq!(fake.members_of("acme", "sales"), ["grace@example.com"], "{base}");
        assert_eq!(fake.answered(404), 0, "{base}: {:?}", fake.log());
        let mut args = vec!["verify"];
        args.extend_from_slice(&common);
        args.push("staff.csv");
        let verified = w.run_env(&args, &CREDS);
        assert_eq!(verified.code, 0, "{base}: {}", verified.stderr);
        assert_eq!(fake.requests_to(fake_velt::GET_USERS), 2 * (i + 1), "{base}");
    }
}

/// A department list of `n` groups.
fn departments(n: usize) -> String {
    let mut csv = String::from("Department\n");
    for i in 0..n {
        csv.push_str(&format!("Team {i:03}\n"));
    }
    csv
}

/// Regression: `--rate auto` read only 429s. A server that slows down under load until
/// requests time out (no 429 ever) was never given a lower pace: timeout after timeout, most
/// groups failed, and the summary said it "met no limit".
#[test]
fn rate_auto_slows_down_for_a_server_that_slows_down() {
    let w = Workdir::new();
    w.write("departments.csv", departments(80));
    // Serves 10 requests a second, one at a time; beyond that answers queue up.
    let fake = FakeVelt::start(FakeConfig {
        capacity: Some(10.0),
        ..FakeConfig::default()
    });
    let url = fake.url();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "auto",
            "--chunk-size",
            "1",
            "--timeout",
            "0.5",
            "--max-retries",
            "4",
            "--backoff-min-ms",
            "20",
            "--backoff-max-ms",
            "400",
            "--report",
            "r.csv",
            "--summary-json",
            "s.json",
            "departments.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups_of("acme").len(), 80);
    let summary: serde_json::Value = serde_json::from_str(&w.read("s.json")).unwrap();
    assert!(summary["slowed_down"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["rate_limited"], 0);
    assert!(
        run.stderr.contains("--rate auto slowed down") && !run.stderr.contains("met no limit"),
        "{}",
        run.stderr
    );
}

/// Regression: a run where every request got a 429 advised pinning `--rate 1`, a number the
/// run never saw work.
#[test]
fn a_run_where_every_request_got_429_advises_no_rate() {
    for rate in ["auto", "5"] {
        let w = Workdir::new();
        w.write("departments.csv", departments(3));
        let fake = FakeVelt::start(FakeConfig {
            always: Some(429),
            retry_after: false,
            ..FakeConfig::default()
        });
        let url = fake.url();
        let run = w.run_env(
            &[
                "import",
                "--quiet",
                "--org",
                "acme",
                "--api-base",
                &url,
                "--rate",
                rate,
                "--max-retries",
                "1",
                "--backoff-min-ms",
                "5",
                "--backoff-max-ms",
                "20",
                "--report",
                "r.csv",
                "departments.csv",
            ],
            &CREDS,
        );
        assert_eq!(run.code, 1, "{rate}: {}", run.stderr);
        assert!(
            run.stderr.contains("the server refused every request"),
            "{rate}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("--rate 0") && !run.stderr.contains("try --rate"),
            "{rate}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("to pin a nightly run"), "{rate}: {}", run.stderr);
    }
}

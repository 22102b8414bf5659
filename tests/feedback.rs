//! What the operator is told on the terminal: why things failed, that the server slowed the
//! run, and what a dry run would send.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS};

#[test]
fn the_cause_of_failures_is_on_stderr_grouped() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Organization ID,Department\nacme,Sales\nacme,Ops\nacme,Legal\n",
    );
    // Bound then dropped: a loopback port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--max-retries",
            "0",
            "--report",
            "r.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .err_lines()
        .into_iter()
        .find(|l| l.starts_with("error: 3 groups failed: cannot connect: "))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.to_ascii_lowercase().contains("refused"), "{line}");
}

#[test]
fn a_run_slowed_by_429s_says_so_with_a_rate_to_try() {
    let w = Workdir::new();
    let mut text = String::from("Organization ID,Department\n");
    for i in 0..12 {
        text.push_str(&format!("acme,Dept {i}\n"));
    }
    w.write("hr.csv", text);
    let fake = FakeVelt::start(FakeConfig {
        rate_limit: Some(20.0),
        rate_burst: Some(2.0),
        retry_after: false,
        ..FakeConfig::default()
    });
    let url = fake.url();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--rate",
            "200",
            "--burst",
            "10",
            "--chunk-size",
            "1",
            "--backoff-min-ms",
            "10",
            "--backoff-max-ms",
            "50",
            "--report",
            "r.csv",
            "--summary-json",
            "s.json",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answered_429 = fake.answered(429) as u64;
    assert!(answered_429 > 0, "the fake slowed the run");
    let summary: serde_json::Value = serde_json::from_str(&w.read("s.json")).unwrap();
    assert_eq!(summary["rate_limited"].as_u64(), Some(answered_429));
    assert!(summary["final_rate"].as_f64().unwrap() < 200.0, "{summary}");
    assert!(
        run.stderr.contains("the server asked to slow down ") && run.stderr.contains("; try --rate "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dry_run_shows_the_groups_it_would_send_per_organization() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Organization ID,Department\nacme,Sales\nacme,Sales\nglobex,Ops\n",
    );
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--dry-run",
            "--api-base",
            &url,
            "--report",
            "r.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), 0);
    let lines: Vec<Vec<&str>> = run.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines,
        vec![
            vec!["ORGANIZATION", "GROUP", "ID", "GROUP", "NAME", "ROWS"],
            vec!["acme", "sales", "Sales", "2"],
            vec!["globex", "ops", "Ops", "1"],
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn rate_auto_finds_a_limit_it_was_not_told_and_reports_it() {
    let w = Workdir::new();
    let mut text = String::from("Organization ID,Department\n");
    for i in 0..150 {
        text.push_str(&format!("acme,Dept {i}\n"));
    }
    w.write("hr.csv", text);
    let fake = FakeVelt::start(FakeConfig {
        rate_limit: Some(40.0),
        rate_burst: Some(5.0),
        ..FakeConfig::default()
    });
    let url = fake.url();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--rate",
            "auto",
            "--chunk-size",
            "1",
            "--report",
            "r.csv",
            "--summary-json",
            "s.json",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups_of("acme").len(), 150);
    let summary: serde_json::Value = serde_json::from_str(&w.read("s.json")).unwrap();
    assert_eq!(summary["auto_rate"], true, "{summary}");
    assert_eq!(summary["rate_limited"].as_u64(), Some(fake.answered(429) as u64));
    // Slow start from 5/s passes 40/s within the first 150 requests, so the server said no at
    // least once, and the rate settled well under the default --max-rate of 500.
    assert!(fake.answered(429) > 0, "{summary}");
    let settled = summary["settled_rate"].as_f64().unwrap();
    assert!(settled > 0.0 && settled < 200.0, "{summary}");
    assert!(
        run.stderr.contains("--rate auto settled at ") && run.stderr.contains("; to pin a nightly run to it: --rate "),
        "{}",
        run.stderr
    );
}

#[test]
fn rate_auto_is_a_config_value_and_a_dry_run_gives_a_range() {
    let w = Workdir::new();
    let mut text = String::from("Organization ID,Department\n");
    for i in 0..41 {
        text.push_str(&format!("acme,Dept {i}\n"));
    }
    w.write("hr.csv", text);
    w.write("vg.toml", "rate = \"auto\"\nmax-rate = 20\nchunk-size = 1\n");
    let run = w.run(&[
        "import",
        "--config",
        "vg.toml",
        "--dry-run",
        "--report",
        "r.csv",
        "hr.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "in 41 requests to https://api.velt.dev/; at --rate auto that takes from about 2.0s (at --max-rate 20 requests/s) to about 8.0s (at 5 requests/s, where it starts)"
        ),
        "{}",
        run.stderr
    );
    // A number on the command line beats the file's `auto`.
    let run = w.run(&[
        "import",
        "--config",
        "vg.toml",
        "--rate",
        "4",
        "--dry-run",
        "--report",
        "r.csv",
        "hr.csv",
    ]);
    assert!(
        run.stderr.contains("at 4 requests/s that takes about 10.0s"),
        "{}",
        run.stderr
    );
}

/// The README's first command: the bundled sample as a dry run, with no credentials. A plan
/// this small is said to take "under a second", not "about 0.0s".
#[test]
fn the_readme_dry_run_works_on_the_sample_and_says_under_a_second() {
    let w = Workdir::new();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/employees.xlsx");
    let run = w.run(&[
        "import",
        "--dry-run",
        "--org",
        "acme",
        "--report",
        "samples-report.xlsx",
        sample,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("engineering"), "{}", run.stdout);
    assert!(
        run.stderr.contains("at 5 requests/s that takes under a second"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("0.0s"), "{}", run.stderr);
    assert!(w.path("samples-report.xlsx").exists());
}

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt, API_KEY, AUTH_TOKEN};

use crate::workdir::{finished, Run, Workdir, CREDS};

/// A department list of `n` groups in organization `org`: `Dept 000` ... .
fn departments(w: &Workdir, name: &str, orgs: &[&str], n: usize) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut text = String::from("Organization ID,Department\n");
    let mut want: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for org in orgs {
        for i in 0..n {
            let dept = format!("Dept {i:03} Ünit");
            text.push_str(&format!("{org},{dept}\n"));
            want.entry(org.to_string())
                .or_default()
                .insert(format!("dept-{i:03}-unit"), dept);
        }
    }
    w.write(name, text);
    want
}

/// `import` against the fake, quiet, with short backoffs so retries do not slow the suite.
fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args = vec![
        "import",
        "--quiet",
        "--api-base",
        &url,
        "--backoff-min-ms",
        "10",
        "--backoff-max-ms",
        "200",
        "--report",
        "report.csv",
    ];
    args.extend_from_slice(extra);
    w.run_env(&args, &CREDS)
}

/// The report's rows as (group_id, status, attempts, error).
fn report_rows(w: &Workdir) -> Vec<(String, String, u32, String)> {
    let text = w.read("report.csv");
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_owned(), r[3].to_owned(), r[4].parse().unwrap(), r[5].to_owned())
        })
        .collect()
}

fn statuses(w: &Workdir) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, status, _, _) in report_rows(w) {
        *out.entry(status).or_default() += 1;
    }
    out
}

#[test]
fn clean_import_leaves_the_server_holding_exactly_the_input() {
    let w = Workdir::new();
    let want = departments(&w, "hr.csv", &["acme", "globex"], 45);
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(&w, &fake, &["--rate", "200", "--chunk-size", "20", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups(), want);
    // 45 groups per organization in chunks of 20: 3 requests each, never mixing organizations.
    assert_eq!(fake.requests(), 6);
    for entry in fake.log() {
        assert!(entry.groups.len() <= 20);
        assert_eq!(entry.status, 200);
    }
    assert_eq!(statuses(&w), BTreeMap::from([("added".to_owned(), 90)]));
    assert!(report_rows(&w).iter().all(|r| r.2 == 1), "each group went once");
    assert!(run.stderr.contains("acme: 45 added"), "{}", run.stderr);
    assert!(run.stderr.contains("report: report.csv"), "{}", run.stderr);
}

#[test]
fn transient_5xx_are_retried_with_exact_request_counts() {
    let w = Workdir::new();
    let want = departments(&w, "hr.csv", &["acme"], 10);
    let fake = FakeVelt::start(FakeConfig {
        fail_first: 3,
        ..FakeConfig::default()
    });
    let run = import(
        &w,
        &fake,
        &["--rate", "200", "--chunk-size", "10", "--concurrency", "1", "hr.csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups(), want);
    assert_eq!((fake.requests(), fake.answered(503), fake.answered(200)), (4, 3, 1));
    assert!(
        report_rows(&w).iter().all(|r| r.2 == 4),
        "attempts count every request: {:?}",
        report_rows(&w)
    );
}

#[test]
fn dropped_connections_timeouts_and_errors_are_survived() {
    let w = Workdir::new();
    let want = departments(&w, "hr.csv", &["acme"], 60);
    let fake = FakeVelt::start(FakeConfig {
        error_share: 0.15,
        drop_share: 0.15,
        hang_share: 0.05,
        seed: 11,
        ..FakeConfig::default()
    });
    let run = import(
        &w,
        &fake,
        &[
            "--rate",
            "200",
            "--chunk-size",
            "3",
            "--timeout",
            "0.5",
            "--max-retries",
            "8",
            "hr.csv",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups(), want);
    let log = fake.log();
    assert!(log.iter().any(|l| l.status == 0), "some requests were dropped or hung");
    assert!(log.iter().any(|l| l.status >= 500), "some requests failed");
}

#[test]
fn rate_limits_with_and_without_retry_after_end_with_everything_added() {
    for retry_after in [true, false] {
        let w = Workdir::new();
        let want = departments(&w, "hr.csv", &["acme"], 30);
        let fake = FakeVelt::start(FakeConfig {
            rate_limit: Some(20.0),
            // A small bucket, so that 60 requests/s surely meet the limit.
            rate_burst: Some(2.0),
            retry_after,
            ..FakeConfig::default()
        });
        let run = import(&w, &fake, &["--rate", "60", "--chunk-size", "1", "hr.csv"]);
        assert_eq!(run.code, 0, "retry_after={retry_after}: {}", run.stderr);
        assert_eq!(fake.groups(), want);
        assert!(fake.answered(429) > 0, "the server pushed back");
    }
}

#[test]
fn a_server_stricter_than_the_rate_is_not_hammered() {
    let w = Workdir::new();
    let want = departments(&w, "hr.csv", &["acme"], 40);
    let fake = FakeVelt::start(FakeConfig {
        rate_limit: Some(10.0),
        ..FakeConfig::default()
    });
    let run = import(
        &w,
        &fake,
        &["--rate", "40", "--chunk-size", "1", "--concurrency", "8", "hr.csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups(), want);
    let log = fake.log();
    let limited = log.iter().filter(|l| l.status == 429).count();
    // After a 429 every sender pauses and the pace drops: most requests must get through.
    assert!(limited * 3 < log.len(), "{limited} of {} requests were 429", log.len());
    // Never more than a handful of requests inside any 100 ms after a 429.
    for (i, l) in log.iter().enumerate().filter(|(_, l)| l.status == 429) {
        let burst = log[i + 1..]
            .iter()
            .take_while(|m| m.at < l.at + Duration::from_millis(100))
            .count();
        assert!(burst <= 8, "{burst} requests within 100 ms after a 429");
    }
}

#[test]
fn a_chunk_cap_below_chunk_size_is_handled_by_splitting() {
    let w = Workdir::new();
    let want = departments(&w, "hr.csv", &["acme"], 25);
    let fake = FakeVelt::start(FakeConfig {
        max_chunk: Some(3),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--rate", "500", "--chunk-size", "10", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups(), want);
    assert!(fake.answered(400) > 0);
    assert!(fake
        .log()
        .iter()
        .filter(|l| l.status == 200)
        .all(|l| l.groups.len() <= 3));
}

#[test]
fn one_bad_group_does_not_sink_its_chunk() {
    let w = Workdir::new();
    let mut want = departments(&w, "hr.csv", &["acme"], 16);
    let fake = FakeVelt::start(FakeConfig {
        bad_request_groups: ["dept-005-unit".to_owned()].into(),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--rate", "500", "--chunk-size", "16", "hr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    want.get_mut("acme").unwrap().remove("dept-005-unit");
    assert_eq!(fake.groups(), want);
    let bad = report_rows(&w).into_iter().find(|r| r.0 == "dept-005-unit").unwrap();
    assert_eq!(bad.1, "failed");
    assert_eq!(
        bad.3,
        "INVALID_ARGUMENT (HTTP 400): groupName of dept-005-unit is not accepted"
    );
    // Bisection: 16 -> 8 -> 4 -> 2 -> 1 on the bad side: 1 + 2 * 4 = 9 requests.
    assert_eq!(fake.requests(), 9);
}

#[test]
fn per_group_failures_inside_a_200_are_reported() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 6);
    let fake = FakeVelt::start(FakeConfig {
        reject_groups: ["dept-001-unit".to_owned()].into(),
        omit_groups: ["dept-002-unit".to_owned()].into(),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--rate", "500", "hr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let rows = report_rows(&w);
    let by_id: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|r| (r.0.as_str(), (r.1.as_str(), r.3.as_str())))
        .collect();
    assert_eq!(
        by_id["dept-001-unit"],
        ("failed", "refused by the server: Group rejected by the fake.")
    );
    assert_eq!(
        by_id["dept-002-unit"],
        ("failed", "not confirmed by the server (no entry for it in the answer)")
    );
    assert_eq!(by_id["dept-000-unit"], ("added", ""));
    assert_eq!(fake.groups()["acme"].len(), 4);
    assert_eq!(fake.requests(), 1, "per-group failures are not retried");
}

#[test]
fn wrong_credentials_stop_the_run_at_once() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 50);
    let fake = FakeVelt::start(FakeConfig {
        api_key: "another-key".into(),
        ..FakeConfig::default()
    });
    let run = import(
        &w,
        &fake,
        &["--rate", "500", "--chunk-size", "5", "--concurrency", "1", "hr.csv"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(fake.requests(), 1, "nothing is retried or sent after a 401");
    assert!(
        run.stderr.contains("error: the server refused the credentials (UNAUTHENTICATED (HTTP 401): invalid API key or auth token); check VELT_API_KEY and VELT_AUTH_TOKEN"),
        "{}",
        run.stderr
    );
    let s = statuses(&w);
    assert_eq!(s.get("failed"), Some(&50));
    assert!(
        report_rows(&w)
            .iter()
            .filter(|r| r.3 == "not attempted: credentials rejected")
            .count()
            == 45
    );
}

#[test]
fn a_server_that_is_down_is_given_up_on_early() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 40);
    let fake = FakeVelt::start(FakeConfig {
        always: Some(503),
        ..FakeConfig::default()
    });
    let run = import(
        &w,
        &fake,
        &[
            "--rate",
            "1000",
            "--chunk-size",
            "2",
            "--concurrency",
            "1",
            "--max-retries",
            "2",
            "hr.csv",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Five chunks, three attempts each, then nothing more.
    assert_eq!(fake.requests(), 15);
    let rows = report_rows(&w);
    assert_eq!(
        rows.iter()
            .filter(|r| r.3 == "not attempted: server unavailable")
            .count(),
        30
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.3 == "UNAVAILABLE (HTTP 503): the fake is told to answer this (gave up after 3 attempts)")
            .count(),
        10
    );
    assert!(
        run.stderr.contains("stopped early: 5 chunks in a row failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_keeps_the_outcomes_so_far() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 200);
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(150),
        ..FakeConfig::default()
    });
    let url = fake.url();
    let child = w
        .command(
            &[
                "import",
                "--quiet",
                "--api-base",
                &url,
                "--rate",
                "20",
                "--chunk-size",
                "2",
                "--report",
                "report.csv",
                "hr.csv",
            ],
            &CREDS,
        )
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while fake.requests() < 6 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the import never started sending"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = finished(child.wait_with_output().unwrap());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    let rows = report_rows(&w);
    assert_eq!(rows.len(), 200, "every group is in the report");
    let added: Vec<&str> = rows.iter().filter(|r| r.1 == "added").map(|r| r.0.as_str()).collect();
    let held = fake.groups().get("acme").cloned().unwrap_or_default();
    // Every group the report calls added is on the server; the rest will be sent next time.
    assert!(!added.is_empty() && added.len() < 200, "{} added", added.len());
    for id in &added {
        assert!(held.contains_key(*id), "{id} reported added but not on the server");
    }
    assert!(rows.iter().any(|r| r.3 == "not attempted: interrupted"));
}

#[test]
fn validation_failures_send_nothing_unless_partial_is_allowed() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\nR&D\nR-D\nLegal\n");
    let fake = FakeVelt::start(FakeConfig::default());
    // Last night's report at the fixed path must not pass for tonight's.
    w.write("report.csv", "organization_id,group_id\nacme,yesterday\n");
    let run = import(&w, &fake, &["--strict-names", "--org", "acme", "hr.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(fake.requests(), 0);
    assert_eq!(
        statuses(&w),
        BTreeMap::from([("failed".to_owned(), 2), ("invalid".to_owned(), 2)])
    );
    assert!(report_rows(&w)
        .iter()
        .filter(|r| r.1 == "failed")
        .all(|r| r.3.starts_with("not attempted: validation failed (2 held back")));
    assert!(
        run.stderr.contains("error: nothing was sent: 2 held back (conflicting names or invalid rows, see above); fix the input, or pass --allow-partial to send the 2 valid groups"),
        "{}",
        run.stderr
    );
    let run = import(
        &w,
        &fake,
        &["--strict-names", "--org", "acme", "--allow-partial", "hr.csv"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        fake.groups()["acme"].keys().cloned().collect::<Vec<_>>(),
        vec!["legal", "sales"]
    );
    assert_eq!(
        statuses(&w),
        BTreeMap::from([("added".to_owned(), 2), ("invalid".to_owned(), 2)])
    );
}

#[test]
fn dry_run_needs_no_credentials_and_sends_nothing() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme", "globex"], 30);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let run = w.run(&[
        "import",
        "--dry-run",
        "--api-base",
        &url,
        "--rate",
        "2",
        "--chunk-size",
        "20",
        "--report",
        "report.csv",
        "hr.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), 0);
    assert!(
        run.stderr.contains(&format!(
            "dry run: would send 60 groups in 4 requests to {url}/; at 2 requests/s that takes about 1.5s"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(statuses(&w), BTreeMap::from([("planned".to_owned(), 60)]));
}

#[test]
fn credentials_are_required_and_never_printed() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 3);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let missing = w.run(&["import", "--api-base", &url, "hr.csv"]);
    assert_eq!(missing.code, 2);
    assert_eq!(
        missing.err_lines(),
        vec!["error: VELT_API_KEY and VELT_AUTH_TOKEN are not set; export them (or set api-key and auth-token in the --config file)"]
    );
    let run = import(&w, &fake, &["--rate", "100", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let help = w.run(&["import", "--help"]);
    for text in [&run.stdout, &run.stderr, &w.read("report.csv"), &help.stdout] {
        assert!(
            !text.contains(API_KEY) && !text.contains(AUTH_TOKEN),
            "a secret leaked: {text}"
        );
    }
    // Flags work but warn.
    let flagged = w.run(&[
        "import",
        "--quiet",
        "--api-base",
        &url,
        "--api-key",
        API_KEY,
        "--auth-token",
        AUTH_TOKEN,
        "--report",
        "r2.csv",
        "hr.csv",
    ]);
    assert_eq!(flagged.code, 0, "{}", flagged.stderr);
    assert!(
        flagged
            .stderr
            .contains("warning: --api-key puts the secret in shell history"),
        "{}",
        flagged.stderr
    );
    assert!(!flagged.stderr.contains(API_KEY));
}

#[test]
fn plain_http_is_only_for_loopback() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 1);
    let run = w.run_env(&["import", "--api-base", "http://api.velt.dev", "hr.csv"], &CREDS);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.err_lines(),
        vec!["error: --api-base 'http://api.velt.dev' is plain http; use https (plain http is allowed only for loopback addresses)"]
    );
}

#[test]
fn a_bad_report_path_fails_before_anything_is_sent() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 3);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let run = w.run_env(
        &["import", "--api-base", &url, "--report", "no/such/dir/r.csv", "hr.csv"],
        &CREDS,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot write the report to no/such/dir/r.csv: "),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), 0);
}

#[test]
fn progress_is_logged_every_few_seconds_when_not_on_a_terminal() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 26);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    // No --quiet; stderr is a pipe, as under cron: one line every 5 s, no bar.
    let run = w.run_env(
        &[
            "import",
            "--api-base",
            &url,
            "--rate",
            "4",
            "--chunk-size",
            "1",
            "--report",
            "report.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run
        .err_lines()
        .into_iter()
        .filter(|l| l.starts_with("velt-groups: "))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains("/26 groups, ") && lines[0].contains(" requests/s, 0 retries, about "),
        "{}",
        lines[0]
    );
    assert!(!run.stderr.contains('\r'), "no bar redraws in a log");
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    let w = Workdir::new();
    departments(&w, "hr.csv", &["acme"], 12);
    let fake = FakeVelt::start(FakeConfig::default());
    let bin = assert_cmd::cargo::cargo_bin("velt-groups");
    let cmd = format!(
        "{} import --api-base {} --rate 10 --chunk-size 1 --report report.csv hr.csv",
        bin.display(),
        fake.url()
    );
    // `script` (util-linux, in every Debian) runs the command on a pseudo-terminal.
    let mut script = std::process::Command::new("script");
    script
        .current_dir(w.path(""))
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm");
    for (k, v) in CREDS {
        script.env(k, v);
    }
    let out = script.output().expect("run script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("/12 groups"), "{text}");
    assert!(text.contains("req/s"), "{text}");
    assert!(!text.contains("velt-groups: "), "no log lines on a terminal: {text}");
    assert_eq!(fake.groups()["acme"].len(), 12);
}

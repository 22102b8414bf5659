use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt, API_KEY, AUTH_TOKEN};

use crate::workdir::{Run, Workdir, CREDS};

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "import",
        "--quiet",
        "--org",
        "acme",
        "--api-base",
        url,
        "--state",
        "state.db",
        "--backoff-min-ms",
        "10",
    ];
    args.extend_from_slice(extra);
    args
}

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    w.run_env(&args(&url, extra), &CREDS)
}

fn statuses(w: &Workdir, report: &str) -> BTreeMap<String, Vec<String>> {
    let text = w.read(report);
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        out.entry(r[3].to_owned()).or_default().push(r[1].to_owned());
    }
    out
}

/// The state file's rows, read with rusqlite.
fn state_rows(w: &Workdir) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT organization_id, group_id, group_name FROM groups ORDER BY 1, 2")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_second_run_sends_nothing_a_rename_is_resent_and_stale_groups_are_listed() {
    let w = Workdir::new();
    w.write("day1.csv", "Dept Code,Department\nD1,Sales\nD2,Legal\nD3,Ops\n");
    let fake = FakeVelt::start(FakeConfig::default());
    let first = import(&w, &fake, &["--rate", "500", "--report", "r1.csv", "day1.csv"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(fake.requests(), 1);

    let second = import(&w, &fake, &["--rate", "500", "--report", "r2.csv", "day1.csv"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(fake.requests(), 1, "nothing changed, nothing sent");
    assert_eq!(
        statuses(&w, "r2.csv"),
        BTreeMap::from([("unchanged".to_owned(), vec!["d1".into(), "d2".into(), "d3".into()])])
    );

    // Day 2: Legal renamed (same code), Ops gone, Finance new.
    w.write(
        "day2.csv",
        "Dept Code,Department\nD1,Sales\nD2,Legal & Compliance\nD4,Finance\n",
    );
    let third = import(
        &w,
        &fake,
        &[
            "--rate",
            "500",
            "--report",
            "r3.csv",
            "--summary-json",
            "s3.json",
            "day2.csv",
        ],
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(fake.requests(), 2);
    assert_eq!(fake.log()[1].groups, vec!["d2", "d4"]);
    assert_eq!(fake.groups()["acme"]["d2"], "Legal & Compliance");
    assert_eq!(
        statuses(&w, "r3.csv"),
        BTreeMap::from([
            ("added".to_owned(), vec!["d2".into(), "d4".into()]),
            ("stale".to_owned(), vec!["d3".into()]),
            ("unchanged".to_owned(), vec!["d1".into()]),
        ])
    );
    let summary: serde_json::Value = serde_json::from_str(&w.read("s3.json")).unwrap();
    assert_eq!(
        summary["organizations"]["acme"],
        serde_json::json!({"added": 2, "stale": 1, "unchanged": 1})
    );
    assert!(
        third.stderr.contains("acme: 2 added, 1 stale, 1 unchanged"),
        "{}",
        third.stderr
    );
    assert_eq!(
        state_rows(&w),
        vec![
            ("acme".into(), "d1".into(), "Sales".into()),
            ("acme".into(), "d2".into(), "Legal & Compliance".into()),
            ("acme".into(), "d3".into(), "Ops".into()),
            ("acme".into(), "d4".into(), "Finance".into()),
        ]
    );

    // --full sends everything again and keeps the state.
    let full = import(
        &w,
        &fake,
        &["--rate", "500", "--full", "--report", "r4.csv", "day2.csv"],
    );
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert_eq!(fake.log()[2].groups, vec!["d1", "d2", "d4"]);
    // A dry run with a state plans only what changed.
    w.write("day3.csv", "Dept Code,Department\nD1,Sales\nD5,Support\n");
    let dry = import(&w, &fake, &["--dry-run", "--report", "r5.csv", "day3.csv"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("dry run: would send 1 group in 1 request"),
        "{}",
        dry.stderr
    );
}

#[test]
fn killed_runs_resume_and_end_with_the_server_holding_exactly_the_input() {
    let w = Workdir::new();
    let mut text = String::from("Department\n");
    let mut want = BTreeMap::new();
    for i in 0..60 {
        text.push_str(&format!("Team {i:02}\n"));
        want.insert(format!("team-{i:02}"), format!("Team {i:02}"));
    }
    w.write("hr.csv", text);
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(120),
        ..FakeConfig::default()
    });
    let url = fake.url();
    // SIGKILL after 2, 5 and 9 requests (fixed points, so the test is repeatable).
    for kill_after in [2usize, 5, 9] {
        let seen = fake.requests();
        let mut child = w
            .command(
                &args(
                    &url,
                    &[
                        "--rate",
                        "40",
                        "--chunk-size",
                        "2",
                        "--concurrency",
                        "2",
                        "--report",
                        "r.csv",
                        "hr.csv",
                    ],
                ),
                &CREDS,
            )
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while fake.requests() < seen + kill_after {
            assert!(start.elapsed() < Duration::from_secs(20), "the run never sent enough");
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Whatever the state holds, the server holds too (the state only records confirmations).
        let held = fake.groups().remove("acme").unwrap_or_default();
        for (_, id, name) in state_rows(&w) {
            assert_eq!(held.get(&id), Some(&name), "{id} in the state but not on the server");
        }
    }
    let last = w.run_env(&args(&url, &["--rate", "200", "--report", "r.csv", "hr.csv"]), &CREDS);
    assert_eq!(last.code, 0, "{}", last.stderr);
    assert_eq!(fake.groups()["acme"], want);
    let rows = state_rows(&w);
    assert_eq!(rows.len(), 60, "each group once in the state");
    // And a run after that sends nothing.
    let before = fake.requests();
    let idle = w.run_env(&args(&url, &["--rate", "200", "--report", "r.csv", "hr.csv"]), &CREDS);
    assert_eq!(idle.code, 0);
    assert_eq!(fake.requests(), before);
}

#[test]
fn a_corrupt_state_is_refused_and_left_alone() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let junk = b"SQLite format 3\0 but then garbage garbage garbage garbage garbage garbage garbage".repeat(10);
    w.write("state.db", &junk);
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(&w, &fake, &["--report", "r.csv", "hr.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: state.db: not a usable velt-groups state file ("),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(w.path("state.db")).unwrap(), junk);
    assert_eq!(fake.requests(), 0);
}

#[test]
fn secrets_appear_in_no_report_state_summary_or_log() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\nLegal\n");
    let fake = FakeVelt::start(FakeConfig {
        fail_first: 1,
        ..FakeConfig::default()
    });
    let url = fake.url();
    let mut all = args(&url, &["--report", "r.json", "--summary-json", "s.json", "hr.csv"]);
    all.retain(|a| *a != "--quiet");
    let run = w.run_env(&all, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = std::fs::read(w.path("state.db")).unwrap();
    let wal = std::fs::read(w.path("state.db-wal")).unwrap_or_default();
    for (what, bytes) in [
        ("stdout", run.stdout.as_bytes()),
        ("stderr", run.stderr.as_bytes()),
        ("report", w.read("r.json").as_bytes()),
        ("summary", w.read("s.json").as_bytes()),
        ("state", &state),
        ("state wal", &wal),
    ] {
        for secret in [API_KEY, AUTH_TOKEN] {
            assert!(
                !bytes.windows(secret.len()).any(|win| win == secret.as_bytes()),
                "{secret} found in the {what}"
            );
        }
    }
    // The server did get them, so the test would notice if they were not sent at all.
    assert!(fake.with_state(|s| s.headers_seen.contains(API_KEY)));
}

/// Regression for the redesign (issue 10): a state file written by velt-groups 0.1.0 (groups
/// and members of one import, `tests/data/state-0.1.0.db`) is read as it is: nothing it
/// records is sent again, and only the joiner goes.
#[test]
fn a_state_file_from_0_1_0_is_read() {
    let w = Workdir::new();
    w.fixture("state-0.1.0.db");
    std::fs::rename(w.path("state-0.1.0.db"), w.path("state.db")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    // The file was written against another port of the fake: point its rows at this one.
    let url = fake.url();
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    for table in ["groups", "members"] {
        conn.execute(
            &format!("UPDATE {table} SET api_base = ?1"),
            [url.trim_end_matches('/')],
        )
        .unwrap();
    }
    drop(conn);
    w.write(
        "hr.csv",
        "Department,Work Email\nSales,ada@example.com\nSales,bob@example.com\nLegal,cy@example.com\nLegal,dee@example.com\n",
    );
    // The server holds what the state says (the fake refuses members of unknown groups).
    w.write(
        "day0.csv",
        "Department,Work Email\nSales,ada@example.com\nSales,bob@example.com\nLegal,cy@example.com\n",
    );
    let stateless = [
        "import",
        "--quiet",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--members",
        "--report",
        "r0.csv",
        "day0.csv",
    ];
    assert_eq!(w.run_env(&stateless, &CREDS).code, 0);
    let before = fake.requests();
    let run = import(
        &w,
        &fake,
        &["--rate", "500", "--members", "--report", "r.csv", "hr.csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        statuses(&w, "r.csv"),
        BTreeMap::from([("unchanged".to_owned(), vec!["legal".to_owned(), "sales".to_owned()])])
    );
    // 0.1.0 recorded no organization users: they are sent once (one request), then only the
    // joiner's membership.
    assert_eq!(
        fake.requests() - before,
        2,
        "the users once, and the joiner's membership"
    );
    assert!(
        run.stderr.contains("acme memberships: 1 added, 3 unchanged"),
        "{}",
        run.stderr
    );
}

#[test]
fn another_applications_database_is_refused_untouched_before_sending() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x');",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(w.path("state.db")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import(&w, &fake, &["--report", "r.csv", "hr.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("belongs to another application"), "{}", run.stderr);
    assert_eq!(std::fs::read(w.path("state.db")).unwrap(), before);
    assert_eq!(fake.requests(), 0);
}

#[test]
fn a_second_run_on_a_state_in_use_stops_at_once() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let fake = FakeVelt::start(FakeConfig::default());
    assert_eq!(import(&w, &fake, &["--report", "r.csv", "hr.csv"]).code, 0);
    let sent = fake.requests();
    // A run in progress holds the lock file beside the state.
    let held = std::fs::File::create(w.path("state.db.lock")).unwrap();
    held.try_lock().unwrap();
    let run = import(&w, &fake, &["--full", "--report", "r.csv", "hr.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("another velt-groups run is using this state file"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), sent, "the second run sent nothing");
    drop(held);
    assert_eq!(import(&w, &fake, &["--full", "--report", "r.csv", "hr.csv"]).code, 0);
    assert_eq!(fake.requests(), sent + 1);
}

/// Issue 22: a state file nobody else touched is not read whole every night (270 MB after a
/// million people); `--check-state` reads it whole now. The lock file says when it last was.
#[test]
fn check_state_checks_the_whole_file_now_and_is_recorded() {
    let w = Workdir::new();
    w.write("hr.csv", "Department\nSales\n");
    let fake = FakeVelt::start(FakeConfig::default());
    assert_eq!(import(&w, &fake, &["hr.csv"]).code, 0);
    let record = w.read("state.db.lock");
    let (stamp, checked) = record.split_once("\nwhole file checked at: ").expect(&record);
    let checked: u64 = checked.trim().parse().unwrap();
    // As if the last whole check were six days ago: not due yet, so left as it is.
    let earlier = format!("{stamp}\nwhole file checked at: {}\n", checked - 6 * 86_400);
    w.write("state.db.lock", &earlier);
    assert_eq!(import(&w, &fake, &["hr.csv"]).code, 0);
    assert_eq!(w.read("state.db.lock"), earlier, "not checked again");
    assert_eq!(import(&w, &fake, &["--check-state", "hr.csv"]).code, 0);
    let after = w.read("state.db.lock");
    let (_, now) = after.split_once("\nwhole file checked at: ").expect(&after);
    assert!(now.trim().parse::<u64>().unwrap() >= checked, "{after}");
    // It needs a state file.
    let run = w.run_env(&["import", "--dry-run", "--check-state", "hr.csv"], &CREDS);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--check-state needs --state"), "{}", run.stderr);
}

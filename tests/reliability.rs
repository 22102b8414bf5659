//! The reliability suite: chaos, kill and resume, broken disks and every malformed fixture.
//! Each test is bounded (seeded faults, short backoffs) and finishes in seconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS};

/// `n` groups spread over `orgs`, written to `hr.csv`; returns what the server should hold.
fn groups_over(w: &Workdir, orgs: &[&str], n: usize) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut text = String::from("Company,Department\n");
    let mut want: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for i in 0..n {
        let org = orgs[i % orgs.len()];
        let name = format!("Équipe {i:04}");
        text.push_str(&format!("{org},{name}\n"));
        want.entry(org.to_owned())
            .or_default()
            .insert(format!("equipe-{i:04}"), name);
    }
    w.write("hr.csv", text);
    want
}

#[test]
fn chaos_ends_with_every_group_added_and_the_report_matching_the_server() {
    let w = Workdir::new();
    let want = groups_over(&w, &["acme", "globex", "initech"], 1000);
    let fake = FakeVelt::start(FakeConfig {
        error_share: 0.10,
        drop_share: 0.05,
        hang_share: 0.02,
        // A per-key limit below --rate with a small bucket: 429s come in bursts.
        rate_limit: Some(150.0),
        rate_burst: Some(10.0),
        seed: 2026,
        ..FakeConfig::default()
    });
    let url = fake.url();
    let start = Instant::now();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--rate",
            "300",
            "--chunk-size",
            "5",
            "--concurrency",
            "16",
            "--timeout",
            "0.3",
            "--max-retries",
            "12",
            "--backoff-min-ms",
            "5",
            "--backoff-max-ms",
            "100",
            "--report",
            "report.json",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    assert_eq!(fake.groups(), want);
    let log = fake.log();
    for status in [0, 429, 500, 503] {
        assert!(
            log.iter().any(|l| l.status == status),
            "no {status} answers: the chaos did not happen"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&w.read("report.json")).unwrap();
    let mut reported: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for g in report["groups"].as_array().unwrap() {
        assert_eq!(g["status"], "added", "{g}");
        reported
            .entry(g["organization_id"].as_str().unwrap().to_owned())
            .or_default()
            .insert(
                g["group_id"].as_str().unwrap().to_owned(),
                g["group_name"].as_str().unwrap().to_owned(),
            );
    }
    assert_eq!(reported, fake.groups());
}

#[test]
fn sigkill_at_seeded_random_points_then_resume_gives_the_same_end_state() {
    let w = Workdir::new();
    let want = groups_over(&w, &["acme", "globex"], 120);
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(60),
        error_share: 0.05,
        seed: 99,
        ..FakeConfig::default()
    });
    let url = fake.url();
    let args = [
        "import",
        "--quiet",
        "--api-base",
        &url,
        "--state",
        "state.db",
        "--rate",
        "60",
        "--chunk-size",
        "3",
        "--concurrency",
        "4",
        "--backoff-min-ms",
        "5",
        "--backoff-max-ms",
        "50",
        "--report",
        "r.csv",
        "hr.csv",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for point in 0..6 {
        let kill_after = rng.usize(1..12);
        let seen = fake.requests();
        let mut child = w
            .command(&args, &CREDS)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while fake.requests() < seen + kill_after && child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "point {point}: the run never got going"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let last = w.run_env(&args, &CREDS);
    assert_eq!(last.code, 0, "{}", last.stderr);
    assert_eq!(fake.groups(), want);
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM groups", [], |r| r.get(0)).unwrap();
    let distinct: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT DISTINCT organization_id, group_id FROM groups)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        (rows, distinct),
        (120, 120),
        "each group confirmed once in the final state"
    );
    let before = fake.requests();
    let again = w.run_env(&args, &CREDS);
    assert_eq!(again.code, 0);
    assert_eq!(fake.requests(), before, "the state knows everything: nothing is sent");
}

#[test]
fn every_malformed_fixture_gives_exit_2_and_one_located_line() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    let w = Workdir::new();
    for name in &names {
        std::fs::copy(dir.join(name), w.path(name)).unwrap();
        for command in ["check", "import"] {
            let run = match command {
                "import" => w.run(&[command, "--dry-run", "--org", "acme", name]),
                _ => w.run(&[command, "--org", "acme", name]),
            };
            assert_eq!(run.code, 2, "{command} {name}: {}", run.stderr);
            let lines = run.err_lines();
            assert_eq!(lines.len(), 1, "{command} {name}: {}", run.stderr);
            assert!(
                lines[0].starts_with(&format!("error: {name}")),
                "{command} {name}: {}",
                lines[0]
            );
        }
    }
}

#[test]
fn a_report_that_cannot_be_written_stops_before_sending() {
    let w = Workdir::new();
    groups_over(&w, &["acme"], 3);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    // A read-only directory: root ignores file modes, so use the kernel's read-only /proc.
    let target = if is_root() {
        "/proc/velt-groups-report.csv".to_owned()
    } else {
        std::fs::create_dir(w.path("ro")).unwrap();
        set_mode(&w.path("ro"), 0o555);
        "ro/report.csv".to_owned()
    };
    let run = w.run_env(
        &["import", "--quiet", "--api-base", &url, "--report", &target, "hr.csv"],
        &CREDS,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot write the report to {target}: ")),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), 0);
}

#[test]
fn a_full_disk_under_the_report_is_a_clear_error_and_the_state_survives() {
    let w = Workdir::new();
    groups_over(&w, &["acme"], 400);
    let mount = w.path("tiny");
    std::fs::create_dir(&mount).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(&mount)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root and mount rights)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mount.clone());
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let run = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--rate",
            "1000",
            "--chunk-size",
            "50",
            "--state",
            "state.db",
            "--report",
            "tiny/report.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let last = run.err_lines().pop().unwrap_or_default().to_owned();
    assert!(
        last.starts_with("error: cannot write the report to tiny/report.csv: "),
        "{}",
        run.stderr
    );
    assert!(last.contains("No space left on device"), "{last}");
    // The upload itself happened and the state recorded it all: a rerun sends nothing.
    assert_eq!(fake.groups()["acme"].len(), 400);
    let before = fake.requests();
    let rerun = w.run_env(
        &[
            "import",
            "--quiet",
            "--api-base",
            &url,
            "--state",
            "state.db",
            "--report",
            "r.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(fake.requests(), before);
}

#[test]
fn the_operator_is_told_when_concurrency_limits_the_run() {
    let w = Workdir::new();
    groups_over(&w, &["acme"], 12);
    let fake = FakeVelt::start(FakeConfig {
        latency: Duration::from_millis(150),
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
            "20",
            "--chunk-size",
            "1",
            "--concurrency",
            "1",
            "--report",
            "r.csv",
            "hr.csv",
        ],
        &CREDS,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let note = run
        .err_lines()
        .into_iter()
        .find(|l| l.starts_with("note: "))
        .unwrap_or_else(|| panic!("{}", run.stderr))
        .to_owned();
    assert!(
        note.contains("of --rate 20: with about ") && note.contains("--concurrency 1 is the limit; --concurrency "),
        "{note}"
    );
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn set_mode(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

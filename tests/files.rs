//! Issue 21 §4: files the run must not destroy, and advice that must not destroy them. No
//! output names a file the run reads or holds; a state file in a folder this user cannot
//! write is called that, and read by `verify`; a refused state is left byte for byte; the
//! lock holds however the file is named; one server named two ways is one set of records.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

const DEPARTMENTS: &str = "Department\nEngineering\nSales\nLegal\n";

const STAFF: &str = "Employee ID,Name,Work Email,Department\n\
1,Ada Lovelace,ada@example.com,Engineering\n\
2,Grace Hopper,grace@example.com,Sales\n";

/// Regression: `--summary-json` naming the `--config` file replaced it (exit 0); the same for
/// the state's lock file. Every output, against every file the run reads or holds.
#[test]
fn no_output_names_a_file_the_run_reads_or_holds() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    let config = "org = \"acme\"\n";
    w.write("vg.toml", config);
    let tls = FakeVelt::start_tls(FakeConfig::default());
    w.write("ca.pem", tls.ca_pem().unwrap());
    for (flag, target, held) in [
        ("--summary-json", "vg.toml", "the --config file"),
        ("--report", "vg.toml", "the --config file"),
        ("--state", "vg.toml", "the --config file"),
        ("--summary-json", "s.db.lock", "the --state file's lock"),
        ("--report", "s.db-wal", "the --state file's journal"),
        ("--summary-json", "./sub/../s.db-shm", "the --state file's journal"),
        ("--summary-json", "ca.pem", "the --ca-file"),
        ("--metrics-file", "vg.toml", "the --config file"),
        ("--metrics-file", "s.db.lock", "the --state file's lock"),
        ("--metrics-file", "ca.pem", "the --ca-file"),
    ] {
        std::fs::create_dir_all(w.path("sub")).unwrap();
        let mut args = vec![
            "import",
            "--config",
            "vg.toml",
            "--dry-run",
            "--ca-file",
            "ca.pem",
            flag,
            target,
        ];
        if flag != "--state" {
            args.extend(["--state", "s.db"]);
        }
        args.push("departments.csv");
        let run = w.run(&args);
        assert_eq!(run.code, 2, "{flag} {target}: {}", run.stderr);
        assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {flag} "))
                && run.stderr.contains(&format!(" {target} is {held} (")),
            "{flag} {target}: {}",
            run.stderr
        );
        assert_eq!(w.read("vg.toml"), config);
        assert!(!w.path("s.db").exists(), "{flag} {target}: stopped before the state");
    }
}

/// A state reached by a symlink keeps its lock and journal beside the file it leads to:
/// no output may name those either.
#[cfg(unix)]
#[test]
fn no_output_names_the_lock_or_journal_of_a_symlinked_state() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    std::fs::create_dir_all(w.path("real")).unwrap();
    std::fs::write(w.path("real/s.db"), "").unwrap();
    std::os::unix::fs::symlink("real/s.db", w.path("link.db")).unwrap();
    for (flag, target) in [
        ("--metrics-file", "real/s.db.lock"),
        ("--summary-json", "real/s.db-wal"),
        ("--report", "real/s.db-journal"),
    ] {
        let args = [
            "import",
            "--org",
            "acme",
            "--dry-run",
            "--state",
            "link.db",
            flag,
            target,
            "departments.csv",
        ];
        let run = w.run(&args);
        assert_eq!(run.code, 2, "{flag} {target}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {flag} ")) && run.stderr.contains(" is the --state file's "),
            "{flag} {target}: {}",
            run.stderr
        );
        assert!(!w.path(target).exists(), "{flag} {target}: nothing written");
    }
}

/// Outputs are written through a temporary file beside them: a file already at the name a
/// temporary file would take (here a link to the config, and an input) is left alone.
#[cfg(unix)]
#[test]
fn writing_an_output_never_goes_through_a_file_already_beside_it() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    let config = "org = \"acme\"\n";
    w.write("vg.toml", config);
    std::os::unix::fs::symlink("vg.toml", w.path(".m.prom.tmp")).unwrap();
    std::os::unix::fs::symlink("vg.toml", w.path(".s.json.tmp")).unwrap();
    w.write(".r.csv.tmp", DEPARTMENTS);
    let run = w.run(&[
        "import",
        "--config",
        "vg.toml",
        "--dry-run",
        "--report",
        "r.csv",
        "--summary-json",
        "s.json",
        "--metrics-file",
        "m.prom",
        "departments.csv",
        ".r.csv.tmp",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(w.read("vg.toml"), config);
    assert_eq!(w.read(".r.csv.tmp"), DEPARTMENTS);
    assert!(w.read("m.prom").contains("velt_groups_"));
    assert!(w.read("s.json").contains("organizations"));
    assert!(w.read("r.csv").contains("acme"));
}

/// The same for the page's imports: `ui --state` may not name the config file.
#[test]
fn the_pages_state_may_not_name_the_config_file() {
    let w = Workdir::new();
    let config = "org = \"acme\"\n";
    w.write("vg.toml", config);
    let run = w.run(&["ui", "--no-open", "--config", "vg.toml", "--state", "./vg.toml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--state ./vg.toml is the --config file (vg.toml)"),
        "{}",
        run.stderr
    );
    assert_eq!(w.read("vg.toml"), config);
}

/// `setpriv` to run as nobody when the tests run as root (root ignores file modes).
fn as_user(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = w.command(args, env);
    if root {
        let inner = cmd;
        cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(inner.get_current_dir().unwrap());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }
    crate::workdir::finished(cmd.output().unwrap())
}

#[cfg(unix)]
fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Regression: a valid state file in a read-only folder was "not a usable state file ...
/// move it away to start afresh", by `import` and even by `verify --state`, which only reads:
/// that advice loses the record of every member the tool added.
#[cfg(unix)]
#[test]
fn a_state_in_a_folder_that_cannot_be_written_is_called_that_and_verify_reads_it() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    std::fs::create_dir(w.path("ro")).unwrap();
    std::fs::create_dir(w.path("out")).unwrap();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |report: &str| -> Vec<String> {
        [
            "import",
            "--quiet",
            "--members",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--report",
            report,
            "--state",
            "ro/state.db",
            "staff.csv",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let first = w.run_env(
        &import("out/r1.csv").iter().map(String::as_str).collect::<Vec<_>>(),
        &CREDS,
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = std::fs::read(w.path("ro/state.db")).unwrap();
    // Whoever runs next cannot write the folder (the file itself they could).
    chmod(w.path("").as_path(), 0o755);
    chmod(&w.path("out"), 0o777);
    chmod(&w.path("ro/state.db"), 0o666);
    chmod(&w.path("ro"), 0o555);

    let requests = fake.requests();
    let args = import("out/r2.csv");
    let run = as_user(&w, &args.iter().map(String::as_str).collect::<Vec<_>>(), &CREDS);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("ro/state.db: the folder ro cannot be written"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("move it away"), "{}", run.stderr);
    assert_eq!(fake.requests(), requests, "nothing sent");

    let verify = as_user(
        &w,
        &[
            "verify",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--state",
            "ro/state.db",
            "staff.csv",
        ],
        &CREDS,
    );
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    // Someone removes Ada: verify still reads the state, which believes it added her.
    fake.remove_member("acme", "engineering", "ada@example.com");
    let verify = as_user(
        &w,
        &[
            "verify",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--state",
            "ro/state.db",
            "staff.csv",
        ],
        &CREDS,
    );
    assert_eq!(verify.code, 1, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("the state file believes it added them"),
        "{}",
        verify.stdout
    );
    chmod(&w.path("ro"), 0o755);
    assert_eq!(
        std::fs::read(w.path("ro/state.db")).unwrap(),
        before,
        "the state is untouched"
    );
}

/// Regression: a refused state file must be byte for byte as it was, whatever refused it; a
/// state of another schema was switched to WAL and given this version's tables first.
#[test]
fn a_refused_state_is_left_byte_for_byte() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    let conn = rusqlite::Connection::open(w.path("newer.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('schema', '2');
         CREATE TABLE groups_v2 (id TEXT PRIMARY KEY);",
    )
    .unwrap();
    drop(conn);
    let damaged = {
        // A valid state, then a page of it overwritten.
        let run = w.run(&[
            "import",
            "--dry-run",
            "--org",
            "acme",
            "--state",
            "damaged.db",
            "departments.csv",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut bytes = std::fs::read(w.path("damaged.db")).unwrap();
        // The b-tree header of the schema table, on the first page after the file header.
        bytes[100..112].fill(0xA5);
        std::fs::write(w.path("damaged.db"), &bytes).unwrap();
        "damaged.db"
    };
    w.write(
        "text.db",
        "not a database, only text that is long enough to have a header of sorts\n",
    );
    for (file, want) in [
        ("newer.db", "written by another version of velt-groups (schema 2"),
        (damaged, "not a usable velt-groups state file"),
        ("text.db", "not a usable velt-groups state file"),
    ] {
        let before = std::fs::read(w.path(file)).unwrap();
        for command in ["import", "verify"] {
            let mut args = vec![command, "--org", "acme", "--state", file];
            if command == "import" {
                args.push("--dry-run");
            } else {
                args.extend(["--api-base", "http://127.0.0.1:9"]);
            }
            args.push("departments.csv");
            let run = w.run_env(&args, &CREDS);
            assert_eq!(run.code, 2, "{command} {file}: {}", run.stderr);
            assert!(run.stderr.contains(want), "{command} {file}: {}", run.stderr);
            assert_eq!(std::fs::read(w.path(file)).unwrap(), before, "{command} {file} changed");
        }
    }
    // Not switched to WAL on the way to refusing it.
    assert!(!w.path("newer.db-wal").exists());
}

/// Regression: the lock was `<path as given>.lock`, so a symlink to the state took a lock of
/// its own, and two runs shared one state file.
#[cfg(unix)]
#[test]
fn the_state_lock_holds_for_the_same_file_by_any_name() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    let first = w.run(&[
        "import",
        "--dry-run",
        "--org",
        "acme",
        "--state",
        "state.db",
        "departments.csv",
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    std::os::unix::fs::symlink(w.path("state.db"), w.path("link.db")).unwrap();
    std::fs::create_dir(w.path("sub")).unwrap();
    // Another run holds the state.
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(w.path("state.db.lock"))
        .unwrap();
    held.try_lock().unwrap();
    let absolute = w.path("state.db").display().to_string();
    for name in ["link.db", "sub/../state.db", "./state.db", absolute.as_str()] {
        let run = w.run(&[
            "import",
            "--dry-run",
            "--org",
            "acme",
            "--state",
            name,
            "departments.csv",
        ]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("another velt-groups run is using this state file"),
            "{name}: {}",
            run.stderr
        );
    }
    assert!(!w.path("link.db.lock").exists());
}

/// Regression: the state was keyed by the API base as written, so the same server as
/// `localhost` and as `127.0.0.1/` re-sent everything and never removed the departed.
#[test]
fn one_server_named_two_ways_is_one_set_of_records() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig::default());
    let port = fake.url().rsplit(':').next().unwrap().to_owned();
    let import = |base: &str, extra: &[&str]| {
        let mut args = vec![
            "import",
            "--quiet",
            "--members",
            "--org",
            "acme",
            "--api-base",
            base,
            "--rate",
            "500",
            "--report",
            "r.csv",
            "--state",
            "state.db",
        ];
        args.extend_from_slice(extra);
        args.push("staff.csv");
        w.run_env(&args, &CREDS)
    };
    let first = import(&format!("http://localhost:{port}"), &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = fake.requests();
    let again = import(&format!("http://127.0.0.1:{port}/"), &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(fake.requests(), before, "nothing re-sent: {}", again.stderr);
    assert!(!again.stderr.contains("warning"), "{}", again.stderr);
    // Grace leaves; the departed is removed under the other spelling too.
    w.write(
        "staff.csv",
        "Employee ID,Name,Work Email,Department\n1,Ada Lovelace,ada@example.com,Engineering\n",
    );
    let leaver = import(&format!("http://LOCALHOST:{port}/"), &["--remove-departed"]);
    assert_eq!(leaver.code, 0, "{}", leaver.stderr);
    assert!(fake.members_of("acme", "sales").is_empty(), "{}", leaver.stderr);

    // Another server altogether: its records are not this one's, and the run says so.
    let other = FakeVelt::start(FakeConfig::default());
    let moved = import(&other.url(), &[]);
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    assert!(
        moved.stderr.contains(&format!(
            "warning: the state file has records of organization acme under http://127.0.0.1:{port} as well"
        )),
        "{}",
        moved.stderr
    );
}

/// Beyond the issue, same class: "move it away" only for a file that is not a database or is
/// damaged. A state another program holds locked is said to be so (and kept); a state in a
/// folder that does not exist says that.
#[test]
fn only_a_damaged_state_is_called_unusable() {
    let w = Workdir::new();
    w.write("departments.csv", DEPARTMENTS);
    let run = |state: &str| {
        w.run(&[
            "import",
            "--dry-run",
            "--org",
            "acme",
            "--state",
            state,
            "departments.csv",
        ])
    };
    let missing = run("nowhere/state.db");
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert_eq!(
        missing.stderr.trim(),
        "error: nowhere/state.db: its folder does not exist; create it, or name a state file in a folder that does"
    );
    assert!(!w.path("nowhere").exists());

    assert_eq!(run("state.db").code, 0);
    // Another program holds the database locked (not our lock file: SQLite's own).
    let other = rusqlite::Connection::open(w.path("state.db")).unwrap();
    other
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    let locked = run("state.db");
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    assert!(locked.stderr.contains("another program holds it"), "{}", locked.stderr);
    assert!(!locked.stderr.contains("move it away"), "{}", locked.stderr);
    drop(other);
    assert_eq!(run("state.db").code, 0);
}

use std::collections::BTreeMap;

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

const DAY1: &str = "Employee ID,Work Email,Department\n\
1,Ada@Example.com,Engineering\n\
2,grace@example.com,Engineering\n\
3,katherine@example.com,Sales\n\
4,dorothy@example.com,Sales\n\
5,mary@example.com,Legal\n";

/// Day 2: two joiners (frank, hedy), one leaver (mary), one transfer (dorothy: Sales -> Engineering).
const DAY2: &str = "Employee ID,Work Email,Department\n\
1,ada@example.com,Engineering\n\
2,grace@example.com,Engineering\n\
3,katherine@example.com,Sales\n\
4,dorothy@example.com,Engineering\n\
6,frank@example.com,Legal\n\
7,hedy@example.com,Sales\n";

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    w.run_env(&import_args(&url, extra), &CREDS)
}

/// The import command line every test here runs, against the fake at `url`.
fn import_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "import",
        "--quiet",
        "--members",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--state",
        "state.db",
        "--backoff-min-ms",
        "5",
    ];
    args.extend_from_slice(extra);
    args
}

fn members_of(fake: &FakeVelt) -> BTreeMap<String, Vec<String>> {
    fake.members().into_iter().map(|((_, g), users)| (g, users)).collect()
}

fn expected(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(g, users)| (g.to_string(), users.iter().map(|u| u.to_string()).collect()))
        .collect()
}

/// The members report as (group, user, action, status, error).
fn member_rows(w: &Workdir, name: &str) -> Vec<(String, String, String, String, String)> {
    let text = w.read(name);
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].to_owned(),
                r[2].to_owned(),
                r[3].to_owned(),
                r[4].to_owned(),
                r[6].to_owned(),
            )
        })
        .collect()
}

#[test]
fn first_sync_then_joiners_leavers_and_a_transfer() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig::default());
    let first = import(&w, &fake, &["--report", "r1.csv", "day1.csv"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        members_of(&fake),
        expected(&[
            ("engineering", &["ada@example.com", "grace@example.com"]),
            ("legal", &["mary@example.com"]),
            ("sales", &["dorothy@example.com", "katherine@example.com"]),
        ])
    );
    // Groups first (1 request), then the organization users (1: only they can join groups),
    // then one request per group's members (3).
    assert_eq!(fake.requests(), 5);
    assert_eq!(fake.log()[1].path, fake_velt::ADD_USERS);
    assert!(fake.log()[0].path.ends_with("/usergroups/add"));
    assert!(first.stderr.contains("acme memberships: 5 added"), "{}", first.stderr);
    let rows = member_rows(&w, "r1-members.csv");
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0],
        (
            "engineering".into(),
            "ada@example.com".into(),
            "add".into(),
            "added".into(),
            "".into()
        )
    );

    // Day 2 without --remove-departed: only additions.
    w.write("day2.csv", DAY2);
    let second = import(&w, &fake, &["--report", "r2.csv", "day2.csv"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        members_of(&fake),
        expected(&[
            (
                "engineering",
                &["ada@example.com", "dorothy@example.com", "grace@example.com"]
            ),
            ("legal", &["frank@example.com", "mary@example.com"]),
            (
                "sales",
                &["dorothy@example.com", "hedy@example.com", "katherine@example.com"]
            ),
        ])
    );
    let statuses: Vec<(String, String)> = member_rows(&w, "r2-members.csv")
        .into_iter()
        .map(|r| (r.1, r.3))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| s.1 == "unchanged").count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| s.1 == "added").count(), 3, "{statuses:?}");

    // The dry run lists who would be removed, and sends nothing.
    let before = fake.requests();
    let dry = import(
        &w,
        &fake,
        &[
            "--dry-run",
            "--remove-departed",
            "--max-removals",
            "50%",
            "--report",
            "r3.csv",
            "day2.csv",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(fake.requests(), before);
    assert!(
        dry.stderr
            .contains("dry run: would remove mary@example.com from legal (acme)"),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stderr
            .contains("dry run: would remove dorothy@example.com from sales (acme)"),
        "{}",
        dry.stderr
    );

    // With --remove-departed: the leaver goes, the transfer leaves the old group.
    let third = import(
        &w,
        &fake,
        &[
            "--remove-departed",
            "--max-removals",
            "50%",
            "--report",
            "r4.csv",
            "day2.csv",
        ],
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(
        members_of(&fake),
        expected(&[
            (
                "engineering",
                &["ada@example.com", "dorothy@example.com", "grace@example.com"]
            ),
            ("legal", &["frank@example.com"]),
            ("sales", &["hedy@example.com", "katherine@example.com"]),
        ])
    );
    let removed: Vec<(String, String)> = member_rows(&w, "r4-members.csv")
        .into_iter()
        .filter(|r| r.3 == "removed")
        .map(|r| (r.0, r.1))
        .collect();
    assert_eq!(
        removed,
        vec![
            ("legal".into(), "mary@example.com".into()),
            ("sales".into(), "dorothy@example.com".into())
        ]
    );
}

#[test]
fn users_someone_else_added_are_never_removed() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig::default());
    assert_eq!(import(&w, &fake, &["--report", "r.csv", "day1.csv"]).code, 0);
    // An admin adds a user by hand (another client of the API); the export never had them.
    fake.with_state_mut(|s| {
        s.members
            .entry(("acme".into(), "legal".into()))
            .or_default()
            .insert("boss@example.com".into());
    });
    let run = import(
        &w,
        &fake,
        &[
            "--remove-departed",
            "--max-removals",
            "100%",
            "--report",
            "r2.csv",
            "day1.csv",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(members_of(&fake)["legal"].contains(&"boss@example.com".to_owned()));
}

#[test]
fn a_truncated_export_does_not_empty_the_directory() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig::default());
    assert_eq!(import(&w, &fake, &["--report", "r.csv", "day1.csv"]).code, 0);
    // Half the file went missing: 3 of the 5 recorded members would go. The default cap is
    // 10% but at least 5, so a 20% cap shows the guard at this small size.
    w.write(
        "cut.csv",
        "Employee ID,Work Email,Department\n1,ada@example.com,Engineering\n2,grace@example.com,Engineering\n",
    );
    let before = members_of(&fake);
    let run = import(
        &w,
        &fake,
        &[
            "--remove-departed",
            "--max-removals",
            "20%",
            "--report",
            "r2.csv",
            "cut.csv",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: not removed: 3 removals exceed --max-removals (1 of 5 recorded members); a truncated or half-exported file looks like this"),
        "{}",
        run.stderr
    );
    assert_eq!(members_of(&fake), before);
    assert!(member_rows(&w, "r2-members.csv")
        .iter()
        .filter(|r| r.2 == "remove")
        .all(|r| r.3 == "skipped"));
}

#[test]
fn per_user_failures_are_reported_from_result_data() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig {
        reject_users: ["grace@example.com".to_owned()].into(),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--report", "r.json", "day1.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&w.read("r.json")).unwrap();
    let grace = doc["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == "grace@example.com")
        .unwrap()
        .clone();
    // The fake refuses her as an organization user, so her membership is never sent.
    assert_eq!(grace["status"], "failed");
    assert_eq!(
        grace["error"],
        "not attempted: the user was not confirmed as an organization user"
    );
    let user = doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user_id"] == "grace@example.com")
        .unwrap()
        .clone();
    assert_eq!(user["status"], "failed");
    assert_eq!(user["error"], "refused by the server: User rejected by the fake.");
    assert_eq!(
        grace["sources"],
        serde_json::json!([{"file": "day1.csv", "sheet": null, "row": 3}])
    );
    assert_eq!(
        doc["summary"]["memberships"]["acme"],
        serde_json::json!({"added": 4, "failed": 1})
    );
    // The next run retries only what failed.
    fake.configure(|c| c.reject_users.clear());
    let before = fake.requests();
    let again = import(&w, &fake, &["--report", "r2.csv", "day1.csv"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    // Her organization user, then her membership.
    assert_eq!(fake.requests(), before + 2);
    let log = fake.log();
    assert_eq!(log[log.len() - 2].path, fake_velt::ADD_USERS);
    assert_eq!(log[log.len() - 2].groups, vec!["grace@example.com"]);
    assert_eq!(log.last().unwrap().groups, vec!["grace@example.com"]);
}

#[test]
fn members_of_a_group_that_failed_are_not_sent() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig {
        reject_groups: ["legal".to_owned()].into(),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--report", "r.csv", "day1.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let legal: Vec<_> = member_rows(&w, "r-members.csv")
        .into_iter()
        .filter(|r| r.0 == "legal")
        .collect();
    assert_eq!(
        legal,
        vec![(
            "legal".into(),
            "mary@example.com".into(),
            "add".into(),
            "failed".into(),
            "not attempted: the group was not confirmed".into()
        )]
    );
    // She is made an organization user, but her membership of the failed group never goes.
    assert!(fake
        .log()
        .iter()
        .filter(|l| l.path == fake_velt::ADD_MEMBERS)
        .all(|l| !l.groups.contains(&"mary@example.com".to_owned())));
}

#[test]
fn check_warns_about_two_departments_and_missing_users() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Work Email,Department\nada@example.com,Engineering\nADA@example.com,Research\n,Sales\nbob@example.com,Sales\n",
    );
    let run = w.run(&["check", "--members", "--org", "acme", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: hr.csv, row 4, column 'Work Email': no user ID on this row; the employee is not added to the group"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("user 'ada@example.com' is in 2 departments (engineering, research); they are added to each"),
        "{}",
        run.stderr
    );
    let keep = w.run(&["check", "--members", "--keep-email-case", "--org", "acme", "hr.csv"]);
    assert!(!keep.stderr.contains("is in 2 departments"), "{}", keep.stderr);
    let none = w.run(&[
        "check",
        "--members",
        "--org",
        "acme",
        "--name-column",
        "Department",
        "--user-column",
        "Badge",
        "hr.csv",
    ]);
    assert_eq!(none.code, 2);
}

/// Regression (issue 12, item 16): a membership in flight when the run was killed was never
/// recorded, so `--remove-departed` never removed that user later (access not revoked). Now
/// the intent is recorded before the request goes, and the next run removes the leaver.
#[test]
fn a_membership_in_flight_at_kill_9_is_still_removed_when_the_user_leaves() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let args = import_args(&url, &["--report", "r1.csv", "day1.csv"]);
    let mut child = w
        .command(&args, &CREDS)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let the groups and organization users through, then hold every membership request.
    let wait_for = |path: &str| {
        for _ in 0..2_000 {
            if fake.log().iter().any(|l| l.path == path) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("no request to {path}");
    };
    wait_for(fake_velt::ADD_USERS);
    fake.configure(|c| c.hang_share = 1.0);
    wait_for(fake_velt::ADD_MEMBERS);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    fake.configure(|c| c.hang_share = 0.0);

    // Mary left; her membership of Legal was in flight when the run died.
    w.write("day2.csv", DAY1.replace("5,mary@example.com,Legal\n", ""));
    let run = import(&w, &fake, &["--remove-departed", "--report", "r2.csv", "day2.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let removals: Vec<Vec<String>> = fake
        .log()
        .iter()
        .filter(|l| l.path == fake_velt::REMOVE_MEMBERS)
        .map(|l| l.groups.clone())
        .collect();
    assert_eq!(removals, vec![vec!["mary@example.com".to_owned()]]);
    // Nothing is pending any more: the adds were confirmed, the removal too.
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM pending_members", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(
        members_of(&fake),
        expected(&[
            ("engineering", &["ada@example.com", "grace@example.com"]),
            ("sales", &["dorothy@example.com", "katherine@example.com"]),
        ])
    );
}

/// Regression (review): an employee whose row is held back looked like a leaver, and
/// `--allow-partial --remove-departed` removed them.
#[test]
fn no_removal_while_rows_are_held_back() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig::default());
    assert_eq!(import(&w, &fake, &["--report", "r1.csv", "day1.csv"]).code, 0);
    // Ada's department cell is now unusable: her row is held back, she has not left.
    w.write(
        "day2.csv",
        DAY1.replace("1,Ada@Example.com,Engineering", "1,Ada@Example.com,★★"),
    );
    let run = import(
        &w,
        &fake,
        &["--allow-partial", "--remove-departed", "--report", "r2.csv", "day2.csv"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(fake.requests_to(fake_velt::REMOVE_MEMBERS), 0);
    assert!(members_of(&fake)["engineering"].contains(&"ada@example.com".to_owned()));
    let skipped: Vec<(String, String, String, String, String)> = member_rows(&w, "r2-members.csv")
        .into_iter()
        .filter(|r| r.2 == "remove")
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].3, "skipped");
    assert!(
        skipped[0].4.contains("rows of this organization are held back"),
        "{skipped:?}"
    );
}

/// Regression (review): a stop in the groups stage did not stop the users stage, so refused
/// credentials still sent `users/add`.
#[test]
fn refused_credentials_stop_every_stage() {
    let w = Workdir::new();
    w.write("day1.csv", DAY1);
    let fake = FakeVelt::start(FakeConfig {
        api_key: "another-key".into(),
        ..FakeConfig::default()
    });
    let run = import(&w, &fake, &["--report", "r.json", "day1.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        fake.requests(),
        1,
        "only the first groups request: {:?}",
        fake.requests_by_path()
    );
    let doc: serde_json::Value = serde_json::from_str(&w.read("r.json")).unwrap();
    for part in ["users", "memberships"] {
        for row in doc[part].as_array().unwrap() {
            assert_eq!(row["status"], "failed", "{row}");
            assert_eq!(row["error"], "not attempted: credentials rejected", "{row}");
        }
    }
}

//! The whole directory against the strictest reading of the real API (issue 11): no upsert
//! (`already-exists`), partial failures as HTTP 500 with `error.details`, and only
//! organization users may join groups.

use std::collections::BTreeMap;

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS};

const STAFF: &str = "Employee ID,First Name,Last Name,Work Email,Department\n\
1,Ada,Lovelace,ada@example.com,Engineering\n\
2,Grace,Hopper,grace@example.com,Engineering\n\
3,Katherine,Johnson,katherine@example.com,Sales\n\
4,Dorothy,Vaughan,dorothy@example.com,Sales\n\
5,Mary,Jackson,mary@example.com,Legal\n";

fn import(w: &Workdir, fake: &FakeVelt, report: &str, extra: &[&str]) -> Run {
    let url = fake.url();
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
        "--backoff-min-ms",
        "5",
        "--report",
        report,
    ];
    args.extend_from_slice(extra);
    args.push("staff.csv");
    w.run_env(&args, &CREDS)
}

/// Status -> count, from a JSON report's part.
fn counts(w: &Workdir, report: &str, part: &str) -> BTreeMap<String, usize> {
    let doc: serde_json::Value = serde_json::from_str(&w.read(report)).unwrap();
    let mut out = BTreeMap::new();
    for row in doc[part].as_array().unwrap() {
        *out.entry(row["status"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    out
}

fn map(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn a_first_import_and_a_stateless_rerun_against_the_strictest_server() {
    for config in [FakeConfig::strict(), FakeConfig::default()] {
        let w = Workdir::new();
        w.write("staff.csv", STAFF);
        let strict = !config.upsert;
        let fake = FakeVelt::start(config);
        let first = import(&w, &fake, "r1.json", &[]);
        assert_eq!(first.code, 0, "strict {strict}: {}", first.stderr);
        let users = fake.org_users("acme");
        assert_eq!(users.len(), 5);
        let ada = &users["ada@example.com"];
        assert_eq!(ada.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
        assert_eq!(
            fake.members_of("acme", "engineering"),
            vec!["ada@example.com", "grace@example.com"]
        );
        assert_eq!(
            fake.members_of("acme", "sales"),
            vec!["dorothy@example.com", "katherine@example.com"]
        );
        assert_eq!(fake.members_of("acme", "legal"), vec!["mary@example.com"]);

        // The same command again, no state: everything is there already; nothing failed.
        let before = fake.requests();
        let again = import(&w, &fake, "r2.json", &[]);
        assert_eq!(again.code, 0, "strict {strict}: {}", again.stderr);
        // Each group once, the users once, each group's members once: no retries.
        assert_eq!(fake.requests() - before, 1 + 1 + 3, "strict {strict}");
        let want = if strict { "exists" } else { "added" };
        assert_eq!(counts(&w, "r2.json", "groups"), map(&[(want, 3)]), "strict {strict}");
        assert_eq!(counts(&w, "r2.json", "users"), map(&[(want, 5)]), "strict {strict}");
        assert_eq!(
            counts(&w, "r2.json", "memberships"),
            map(&[(want, 5)]),
            "strict {strict}"
        );
    }
}

#[test]
fn one_refused_group_in_a_500_is_that_group_alone() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig {
        reject_groups: ["sales".to_owned()].into(),
        ..FakeConfig::strict()
    });
    let run = import(&w, &fake, "r.json", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&w.read("r.json")).unwrap();
    let groups: BTreeMap<&str, &str> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group_id"].as_str().unwrap(), g["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        groups,
        BTreeMap::from([("engineering", "added"), ("legal", "added"), ("sales", "failed")])
    );
    // One request for the three groups: the 500's details were read, not retried whole.
    assert_eq!(fake.requests_to(fake_velt::ADD_GROUPS), 1);
    assert_eq!(fake.groups_of("acme").len(), 2);
}

#[test]
fn items_the_server_failed_on_its_side_are_retried_alone() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig {
        transient_items: [("legal".to_owned(), 2)].into(),
        ..FakeConfig::strict()
    });
    let run = import(&w, &fake, "r.json", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = fake.log();
    let group_calls: Vec<&Vec<String>> = log
        .iter()
        .filter(|l| l.path == fake_velt::ADD_GROUPS)
        .map(|l| &l.groups)
        .collect();
    assert_eq!(group_calls.len(), 3, "{group_calls:?}");
    assert_eq!(
        group_calls[1],
        &vec!["legal".to_owned()],
        "only the failed item goes again"
    );
    assert_eq!(counts(&w, "r.json", "groups"), map(&[("added", 3)]));
}

fn verify(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args = vec!["verify", "--org", "acme", "--api-base", &url, "--rate", "500"];
    args.extend_from_slice(extra);
    args.push("staff.csv");
    w.run_env(&args, &CREDS)
}

#[test]
fn verify_finds_a_member_removed_on_the_server_and_repair_sends_exactly_that() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig::strict());
    let first = import(&w, &fake, "r1.json", &["--state", "state.db"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let clean = verify(&w, &fake, &["--members"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert_eq!(clean.stdout, "");
    assert!(
        clean.stderr.contains("verify: 3 groups read back, 0 differences found"),
        "{}",
        clean.stderr
    );

    // Someone removes Dorothy from Sales in the Velt console.
    assert!(fake.remove_member("acme", "sales", "dorothy@example.com"));
    let drift = verify(&w, &fake, &["--members", "--state", "state.db"]);
    assert_eq!(drift.code, 1, "{}", drift.stderr);
    assert_eq!(
        drift.stdout.lines().collect::<Vec<_>>(),
        vec![
            "acme, group 'sales': user dorothy@example.com is not in the group on the server; \
             the export puts them there; the state file believes it added them"
        ]
    );
    let json = verify(&w, &fake, &["--format", "json"]);
    assert_eq!(json.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc[0]["difference"], "missing");
    assert_eq!(doc[0]["user_id"], "dorothy@example.com");

    // The state believes nothing changed: a plain nightly run sends nothing ...
    let before = fake.requests();
    let nightly = import(&w, &fake, "r2.json", &["--state", "state.db"]);
    assert_eq!(nightly.code, 0, "{}", nightly.stderr);
    assert_eq!(fake.requests(), before, "the state says all is there");
    // ... and --repair reads back (one page per group) and sends exactly the missing member.
    let repaired = import(&w, &fake, "r3.json", &["--state", "state.db", "--repair"]);
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    let sent: Vec<(String, Vec<String>)> = fake.log()[before..]
        .iter()
        .filter(|l| l.path != fake_velt::GET_USERS)
        .map(|l| (l.path.clone(), l.groups.clone()))
        .collect();
    assert_eq!(
        sent,
        vec![(
            fake_velt::ADD_MEMBERS.to_owned(),
            vec!["dorothy@example.com".to_owned()]
        )]
    );
    // Three verifies and the repair, each one page per group.
    assert_eq!(fake.requests_to(fake_velt::GET_USERS), 4 * 3);
    assert_eq!(verify(&w, &fake, &[]).code, 0);
}

#[test]
fn verify_says_how_to_turn_on_advanced_queries() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig {
        advanced_queries: false,
        ..FakeConfig::default()
    });
    let run = verify(&w, &fake, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("turn them on in the Velt console"),
        "{}",
        run.stderr
    );
}

#[test]
fn verify_reads_every_page_and_names_extra_members_and_changed_names() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig {
        max_page_size: 1,
        page_token_field: "pageToken".into(),
        ..FakeConfig::default()
    });
    assert_eq!(import(&w, &fake, "r.json", &[]).code, 0);
    fake.add_member("acme", "legal", "ada@example.com");
    fake.add_org_user(
        "acme",
        "grace@example.com",
        fake_velt::OrgUser {
            name: Some("G. Hopper".into()),
            email: Some("grace@example.com".into()),
            access_role: None,
        },
    );
    let run = verify(&w, &fake, &["--format", "csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "organization_id,group_id,user_id,difference,server,export,state_believes_added",
            "acme,engineering,grace@example.com,name,G. Hopper,Grace Hopper,false",
            "acme,legal,ada@example.com,extra,,,false",
        ]
    );
}

/// Regression (review): `verify --state` created a missing state file (and its lock).
#[test]
fn verify_reads_the_state_and_never_creates_it() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig::default());
    let run = verify(&w, &fake, &["--state", "typo.db"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("typo.db: no such state file"), "{}", run.stderr);
    assert!(!w.path("typo.db").exists() && !w.path("typo.db.lock").exists());
}

/// Regression (review): the users part of a CSV report could be written over the input, and
/// two outputs could name one file.
#[test]
fn every_file_a_report_writes_is_checked_before_anything_is_read() {
    let w = Workdir::new();
    w.write("out-users.csv", STAFF);
    let over_input = w.run(&[
        "import",
        "--dry-run",
        "--members",
        "--org",
        "acme",
        "--report",
        "out.csv",
        "out-users.csv",
    ]);
    assert_eq!(over_input.code, 2, "{}", over_input.stderr);
    assert!(
        over_input.stderr.contains("--report (or a file written beside it)"),
        "{}",
        over_input.stderr
    );
    assert_eq!(w.read("out-users.csv"), STAFF, "the input is untouched");
    w.write("staff.csv", STAFF);
    let clash = w.run(&[
        "import",
        "--dry-run",
        "--org",
        "acme",
        "--state",
        "s.db",
        "--summary-json",
        "s.db",
        "staff.csv",
    ]);
    assert_eq!(clash.code, 2, "{}", clash.stderr);
    assert!(
        clash.stderr.contains("--summary-json and --state both name s.db"),
        "{}",
        clash.stderr
    );
}

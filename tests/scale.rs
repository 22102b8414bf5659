//! Issue #22: the memory work must not change a byte of any output. A 100,000-person directory
//! (the scale benchmark's generator) goes through a dry run, a first night against the fake
//! server, an unchanged night and a 1% churn night; every report part, the dry run's summary
//! and table, and the state's contents are hashed and compared with the hashes the code before
//! that work produced (committed below). A change that is meant to alter an output updates them.

#[path = "../benches/support/gen.rs"]
mod gen;

use std::collections::BTreeMap;

use fake_velt::{FakeConfig, FakeVelt};
use sha2::{Digest, Sha256};

use crate::workdir::{Workdir, CREDS};

const PEOPLE: usize = 100_000;
const DEPARTMENTS: usize = 400;

/// SHA-256 of each output, as the code before issue #22's changes wrote them.
// The summary and the JSON report (which carries it) gained `slowed_down` (issue 21, `--rate
// auto` on timeouts) after the hashes were first taken; nothing else changed.
const EXPECTED: &[(&str, &str)] = &[
    (
        "churn state",
        "12ef4a0875b8db14221f56ad28e4a6befc95411bd1c881f9da84d33f2092bb47",
    ),
    (
        "churn-members.csv",
        "0a40c2d031f17881d668259880f85e080056102b03858419eab5dbeb562fbaee",
    ),
    (
        "churn-users.csv",
        "b385794eb44148cbc3989f015a264a5ceb1bb6646b5a29ebe838552997d3ce83",
    ),
    (
        "churn.csv",
        "f9cd91a94967a62e0b865fd7830bbead48c7a7ba9909bd09af1da4d04a0ca142",
    ),
    (
        "dry-members.csv",
        "a3e68bb05c1be81eb5d942194dda58d39a7e26bd7ad55f6cea67d486eff4c10a",
    ),
    (
        "dry-users.csv",
        "6091965d8c6696a5ec68683cf68bd34fc8abf3306182d0fe4a8438d62af812e6",
    ),
    (
        "dry.csv",
        "e8754b72be01e0e6b713317d88ba59ede267182c98fbdcf49f57e5d204ad8bec",
    ),
    (
        "dry.csv stdout",
        "b8f861ca830cb42aa8db547a12419a4a40805664ef6a30ba24d5dec68f6dc3b9",
    ),
    (
        "dry.csv summary",
        "6627b5592998d1e29f6d51100c42fd8ae6c95618a61085e268719433fd4e7c5f",
    ),
    (
        "dry.json",
        "dc65032db9e2deb359648743017ae87904ecf4f8808fa993a697acaececb99dd",
    ),
    (
        "dry.json stdout",
        "b8f861ca830cb42aa8db547a12419a4a40805664ef6a30ba24d5dec68f6dc3b9",
    ),
    (
        "dry.json summary",
        "1fd907c9ceac5d9e04d376a6cb40606423ca8060cf1aff374b30740194b02ceb",
    ),
    (
        "first state",
        "81fd36aa655178ccdc5872adc197843eefa618f752fae8d7d5bf6b3290b173bc",
    ),
    (
        "first-members.csv",
        "5fa79d80aa068876be9148e00761dc48bf2819fb8574ba76bcf5848707f86c1d",
    ),
    (
        "first-users.csv",
        "1738a37d6235b113d65d1e5ad28419515eb8dbf12175021f8f4f84ed8876f75b",
    ),
    (
        "first.csv",
        "54d2ddb173342e1a8bb4a35d9e3c079c01f008ebda9f8afeb8da9ed66854c66c",
    ),
    (
        "unchanged state",
        "81fd36aa655178ccdc5872adc197843eefa618f752fae8d7d5bf6b3290b173bc",
    ),
    (
        "unchanged-members.csv",
        "033312520770513f5dc3e862e9494e064c952c68cc1835a636c0506399677b29",
    ),
    (
        "unchanged-users.csv",
        "b1eba5f7a85e22229c1607b83ffd4a8fde6fd219be4339d1b84dea3fd987aec8",
    ),
    (
        "unchanged.csv",
        "bec9acedebf02f2fe57d6a6a4d8e6e1fc159e0bdd2f5d3fe2cdb09bd47f05afa",
    ),
];

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The state's rows, without the API base (the fake's port changes) and the times.
fn state_rows(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT organization_id, group_id, group_name FROM groups ORDER BY 1, 2",
        "SELECT organization_id, user_id, name, email FROM org_users ORDER BY 1, 2",
        "SELECT organization_id, group_id, user_id, 'added' FROM members ORDER BY 1, 2, 3",
        "SELECT organization_id, group_id, user_id, 'present' FROM members_present ORDER BY 1, 2, 3",
        "SELECT organization_id, group_id, user_id, 'pending' FROM pending_members ORDER BY 1, 2, 3",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n).map(|i| r.get::<_, String>(i).unwrap()).collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
    }
    out
}

#[test]
fn outputs_at_100k_people_are_unchanged() {
    let w = Workdir::new();
    gen::directory_csv(&w.path("night1.csv"), 0..PEOPLE, DEPARTMENTS).unwrap();
    gen::directory_csv(
        &w.path("night2.csv"),
        (0..PEOPLE)
            .filter(|i| i % 100 != 7)
            .chain(PEOPLE..PEOPLE + PEOPLE / 100),
        DEPARTMENTS,
    )
    .unwrap();
    let mut got = BTreeMap::new();
    let mut hash = |name: &str, bytes: &[u8]| {
        got.insert(name.to_owned(), sha(bytes));
    };
    let file = |name: &str| std::fs::read(w.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));

    // The dry run: every report format, the summary and the table on stdout.
    for report in ["dry.csv", "dry.json"] {
        let run = w.run(&[
            "import",
            "--quiet",
            "--members",
            "--dry-run",
            "--state",
            "new.db",
            "--report",
            report,
            "--summary-json",
            "dry-summary.json",
            "night1.csv",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        hash(&format!("{report} stdout"), run.stdout.as_bytes());
        hash(&format!("{report} summary"), &file("dry-summary.json"));
    }
    for name in ["dry.csv", "dry-users.csv", "dry-members.csv", "dry.json"] {
        hash(name, &file(name));
    }

    // Three nights against the fake server.
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    for (night, input, extra) in [
        ("first", "night1.csv", None),
        ("unchanged", "night1.csv", None),
        ("churn", "night2.csv", Some("--remove-departed")),
    ] {
        let report = format!("{night}.csv");
        let mut args = vec![
            "import",
            "--quiet",
            "--members",
            "--state",
            "state.db",
            "--rate",
            "100000",
            "--api-base",
            &url,
            "--report",
            &report,
        ];
        args.extend(extra);
        args.push(input);
        let run = w.run_env(&args, &CREDS);
        assert_eq!(run.code, 0, "{night} night: {}", run.stderr);
        for part in ["", "-users", "-members"] {
            let name = format!("{night}{part}.csv");
            hash(&name, &file(&name));
        }
        hash(&format!("{night} state"), state_rows(&w.path("state.db")).as_bytes());
    }
    let users: usize = gen::ORGANIZATIONS.iter().map(|o| fake.org_users(o).len()).sum();
    assert_eq!(
        users,
        PEOPLE + PEOPLE / 100,
        "every person, joiners included, is an organization user"
    );

    let expected: BTreeMap<String, String> = EXPECTED.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(got, expected, "an output changed; the hashes now: {got:#?}");
}

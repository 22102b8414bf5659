//! Issue 21 §1: the read-back is exact and bounded. `--repair` acts on what the server lists
//! (never on what the state believes), the server's data is compared as sent, and a list that
//! cannot be read whole is "could not check" (exit 2), never an empty group or a partial one.

use std::time::{Duration, Instant};

use fake_velt::{FakeConfig, FakeVelt, UsersFault};

use crate::workdir::{Run, Workdir, CREDS};

const STAFF: &str = "Employee ID,First Name,Last Name,Work Email,Department\n\
1,Ada,Lovelace,ada@example.com,Engineering\n\
2,Grace,Hopper,grace@example.com,Engineering\n\
3,Katherine,Johnson,katherine@example.com,Sales\n\
4,Dorothy,Vaughan,dorothy@example.com,Sales\n\
5,Mary,Jackson,mary@example.com,Legal\n";

fn import(w: &Workdir, fake: &FakeVelt, extra: &[&str]) -> Run {
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
        "r.json",
    ];
    args.extend_from_slice(extra);
    args.push("staff.csv");
    w.run_env(&args, &CREDS)
}

fn verify(w: &Workdir, fake: &FakeVelt) -> Run {
    let url = fake.url();
    let args = [
        "verify",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--backoff-min-ms",
        "5",
        "staff.csv",
    ];
    w.run_env(&args, &CREDS)
}

/// The requests after `from` other than read-backs: (path, items).
fn writes(fake: &FakeVelt, from: usize) -> Vec<(String, Vec<String>)> {
    fake.log()[from..]
        .iter()
        .filter(|l| l.path != fake_velt::GET_USERS)
        .map(|l| (l.path.clone(), l.groups.clone()))
        .collect()
}

/// Adds a row to the state's pending memberships, as a run killed mid-request leaves it.
fn pend(w: &Workdir, fake: &FakeVelt, group: &str, user: &str) {
    let conn = rusqlite::Connection::open(w.path("state.db")).unwrap();
    conn.execute(
        "INSERT INTO pending_members (api_base, organization_id, group_id, user_id, since)
         VALUES (?1, 'acme', ?2, ?3, '2026-01-01T00:00:00Z')",
        [fake.url().as_str(), group, user],
    )
    .unwrap();
}

/// High: a member the server first answered `already-exists` for, then removed in the console,
/// was "unchanged" to --repair (the state's belief won) while verify said missing.
#[test]
fn repair_re_adds_a_member_the_state_saw_already_there_and_the_server_no_longer_lists() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig::strict());
    // Dorothy is in Sales before the tool ever runs: the first import hears `already-exists`.
    fake.add_org_user(
        "acme",
        "dorothy@example.com",
        fake_velt::OrgUser {
            name: Some("Dorothy Vaughan".into()),
            email: Some("dorothy@example.com".into()),
            access_role: None,
        },
    );
    fake.add_member("acme", "sales", "dorothy@example.com");
    let first = import(&w, &fake, &["--state", "state.db"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(fake.remove_member("acme", "sales", "dorothy@example.com"));
    assert_eq!(verify(&w, &fake).code, 1, "verify sees her missing");

    let before = fake.requests();
    let repaired = import(&w, &fake, &["--state", "state.db", "--repair"]);
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    assert_eq!(
        writes(&fake, before),
        vec![(
            fake_velt::ADD_MEMBERS.to_owned(),
            vec!["dorothy@example.com".to_owned()]
        )]
    );
    assert_eq!(
        fake.members_of("acme", "sales"),
        ["dorothy@example.com", "katherine@example.com"]
    );
    let after = verify(&w, &fake);
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
}

/// The reverse: a membership pending since a kill -9 that the server does not list is not the
/// tool's to remove; one the server does list (and the export no longer has) is removed.
#[test]
fn repair_removes_only_pending_members_the_server_lists() {
    let w = Workdir::new();
    w.write("staff.csv", STAFF);
    let fake = FakeVelt::start(FakeConfig::default());
    let first = import(&w, &fake, &["--state", "state.db"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // Two memberships in flight when a run was killed: one reached the server, one did not;
    // neither person is in today's export.
    pend(&w, &fake, "legal", "ghost@example.com");
    pend(&w, &fake, "legal", "zed@example.com");
    fake.add_member("acme", "legal", "zed@example.com");
    // And one in a department gone from the export, which the server does not list either.
    pend(&w, &fake, "archive", "old@example.com");

    let before = fake.requests();
    let run = import(&w, &fake, &["--state", "state.db", "--repair", "--remove-departed"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        writes(&fake, before),
        vec![(fake_velt::REMOVE_MEMBERS.to_owned(), vec!["zed@example.com".to_owned()])]
    );
    // The departed group was read back too, to decide on the server's list.
    let read: Vec<String> = fake.log()[before..]
        .iter()
        .filter(|l| l.path == fake_velt::GET_USERS)
        .map(|l| l.org.clone().unwrap_or_default())
        .collect();
    assert_eq!(read.len(), 4, "engineering, sales, legal and archive: {read:?}");
}

/// Server text was passed through the error-message cleaner before comparing: an ID holding
/// `x-velt-` became '', a tab `\t`, a name past 1,000 characters was cut. Right after a clean
/// import, verify found drift and --repair re-sent.
#[test]
fn the_servers_data_is_compared_as_sent_not_as_cleaned_for_printing() {
    let w = Workdir::new();
    let long = "N".repeat(1_500);
    w.write(
        "staff.csv",
        format!(
            "Employee ID,Name,Department\n\
             x-velt-7,Ada Lovelace,Engineering\n\
             8,{long},Engineering\n\
             9,Grace Hopper,Sales\n"
        ),
    );
    let fake = FakeVelt::start(FakeConfig::default());
    let users = ["--user-column", "Employee ID"];
    let first = import(&w, &fake, &[&["--state", "state.db"], &users[..]].concat());
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A tab in a name, set on the server as in the export would be impossible to type: the
    // export's name without it must then differ, and be shown escaped.
    fake.add_org_user(
        "acme",
        "9",
        fake_velt::OrgUser {
            name: Some("Grace\tHopper".into()),
            ..Default::default()
        },
    );
    let url = fake.url();
    let verify_args = |format: &'static str| {
        let mut a = vec![
            "verify",
            "--org",
            "acme",
            "--api-base",
            &url,
            "--rate",
            "500",
            "--format",
            format,
        ];
        a.extend_from_slice(&users);
        a.push("staff.csv");
        a
    };
    let table = w.run_env(&verify_args("table"), &CREDS);
    assert_eq!(table.code, 1, "{}{}", table.stdout, table.stderr);
    assert_eq!(
        table.stdout,
        "acme, group 'sales': user 9 has the name 'Grace\\tHopper' on the server and 'Grace Hopper' in the export\n"
    );
    let json = w.run_env(&verify_args("json"), &CREDS);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), 1, "only the tab differs: {doc}");
    assert_eq!(doc[0]["server"], "Grace\tHopper");

    // Put right, nothing differs: the x-velt- ID and the long name compare equal.
    fake.add_org_user(
        "acme",
        "9",
        fake_velt::OrgUser {
            name: Some("Grace Hopper".into()),
            ..Default::default()
        },
    );
    let clean = w.run_env(&verify_args("table"), &CREDS);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    let before = fake.requests();
    let repaired = import(&w, &fake, &[&["--state", "state.db", "--repair"], &users[..]].concat());
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    assert_eq!(writes(&fake, before), vec![], "nothing to repair");
}

/// A misbehaving users/get, each a mode of the fake: verify and --repair say they could not
/// check (exit 2, the reason on one line), soon, and send nothing.
#[test]
fn a_list_that_cannot_be_read_whole_is_could_not_check() {
    for (fault, page_size, want) in [
        (UsersFault::NoData, 100, "the list of users could not be read"),
        (UsersFault::TokenCycle, 1, "go round in a circle"),
        (UsersFault::EmptyPages, 100, "empty pages in a row"),
        (UsersFault::Padding(9 * 1024 * 1024), 100, "larger than 8 MB"),
    ] {
        let w = Workdir::new();
        w.write("staff.csv", STAFF);
        let fake = FakeVelt::start(FakeConfig::default());
        assert_eq!(import(&w, &fake, &["--state", "state.db"]).code, 0);
        fake.configure(|c| {
            c.users_fault = Some(fault.clone());
            c.max_page_size = page_size;
        });
        let started = Instant::now();
        let checked = verify(&w, &fake);
        assert_eq!(checked.code, 2, "{fault:?}: {}{}", checked.stdout, checked.stderr);
        assert_eq!(checked.stdout, "", "{fault:?}");
        let line = checked
            .err_lines()
            .into_iter()
            .find(|l| l.contains("could not check"))
            .unwrap_or_else(|| panic!("{fault:?}: {}", checked.stderr));
        assert!(line.contains(want), "{fault:?}: {line}");
        assert!(line.contains("group '"), "{fault:?} names the group: {line}");

        let before = fake.requests();
        let repaired = import(&w, &fake, &["--state", "state.db", "--repair"]);
        assert_eq!(repaired.code, 2, "{fault:?}: {}", repaired.stderr);
        assert!(repaired.stderr.contains(want), "{fault:?}: {}", repaired.stderr);
        assert_eq!(writes(&fake, before), vec![], "{fault:?}: nothing sent");
        // Bounded: a handful of pages per group, not hours of them.
        let pages = fake.requests_to(fake_velt::GET_USERS);
        assert!(pages < 100, "{fault:?}: {pages} pages");
        assert!(started.elapsed() < Duration::from_secs(60), "{fault:?}");
    }
}

/// Memory grew with page bytes: the read-back's answers are bounded in total, not only each
/// page, so a server padding every page stops the read-back, which says so.
#[test]
fn the_read_back_stops_past_its_byte_budget() {
    let w = Workdir::new();
    let mut csv = String::from("Employee ID,Name,Department\n");
    for i in 0..20 {
        csv.push_str(&format!("{i},Person {i},Engineering\n"));
    }
    w.write("staff.csv", csv);
    let fake = FakeVelt::start(FakeConfig::default());
    let users = ["--user-column", "Employee ID"];
    assert_eq!(import(&w, &fake, &users).code, 0);
    // 20 pages of 7.5 MB: each under the page cap, together past the budget.
    fake.configure(|c| {
        c.users_fault = Some(UsersFault::Padding(7_500_000));
        c.max_page_size = 1;
    });
    let url = fake.url();
    let mut args = vec!["verify", "--org", "acme", "--api-base", &url, "--rate", "500"];
    args.extend_from_slice(&users);
    args.push("staff.csv");
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("come to more than 128 MB"), "{}", run.stderr);
}

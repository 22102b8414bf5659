//! Issue #19, only current people, over the nightly sync: a leaver still in the export is
//! removed by `--remove-departed` under the guard, found by `verify` and removed by
//! `--repair`; and the web page's status and date columns.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Workdir, CREDS, X};

/// The nightly sync: someone's status turns to a leaver value while they stay in the export.
#[test]
fn a_status_turned_leaver_is_removed_by_remove_departed_and_the_guard_counts_it() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
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
            "--report",
            "r.csv",
        ];
        args.extend_from_slice(extra);
        args.push("hr.csv");
        w.run_env(&args, &CREDS)
    };
    let day = |statuses: [&str; 7]| {
        let mut text = String::from("Email,Department,Employment Status\n");
        for (i, s) in statuses.iter().enumerate() {
            text.push_str(&format!("p{i}@x.example,Ops,{s}\n"));
        }
        w.write("hr.csv", text);
    };
    day(["Active"; 7]);
    assert_eq!(import(&[]).code, 0);
    assert_eq!(fake.members_of("acme", "ops").len(), 7);

    // Night two: p1 is terminated but still in the export.
    let mut two = ["Active"; 7];
    two[1] = "Terminated";
    day(two);
    let run = import(&["--remove-departed", "--summary-json", "s.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&w.read("s.json")).unwrap();
    assert_eq!(
        summary["left_out"],
        serde_json::json!({"Employment Status 'Terminated'": 1})
    );
    assert!(!fake.members_of("acme", "ops").contains(&"p1@x.example".to_owned()));
    assert_eq!(fake.members_of("acme", "ops").len(), 6);
    let members = w.read("r-members.csv");
    assert!(members.contains("acme,ops,p1@x.example,remove,removed,"), "{members}");
    assert!(
        members
            .contains("acme,ops,p1@x.example,add,left-out,0,\"left out: Employment Status is 'Terminated', a leaver\""),
        "{members}"
    );

    // A mass termination hits the same guard as a truncated export.
    day([
        "Active",
        "Terminated",
        "Terminated",
        "Terminated",
        "Terminated",
        "Active",
        "Active",
    ]);
    let run = import(&["--remove-departed", "--max-removals", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("3 removals exceed --max-removals"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.members_of("acme", "ops").len(), 6, "nothing removed");
}

#[test]
fn verify_names_a_leaver_still_in_the_group_and_repair_removes_them() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Active\nc@x.example,Old,Active\n",
    );
    let base = ["--members", "--org", "acme", "--api-base", &url, "--rate", "500"];
    let mut args = vec!["import", "--quiet", "--report", "r.csv", "--state", "state.db"];
    args.extend(base);
    args.push("hr.csv");
    assert_eq!(w.run_env(&args, &CREDS).code, 0);
    // b leaves; c's whole department is gone with them.
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Inactive\nc@x.example,Old,Terminated\n",
    );
    let mut verify = vec!["verify"];
    verify.extend(base);
    verify.push("hr.csv");
    let run = w.run_env(&verify, &CREDS);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "acme, group 'old': user c@x.example is in the group on the server but is not current (Status is 'Terminated', a leaver); \
         `import --members --repair` removes them\n\
         acme, group 'ops': user b@x.example is in the group on the server but is not current (Status is 'Inactive', a leaver); \
         `import --members --repair` removes them\n"
    );
    args.splice(args.len() - 1..args.len() - 1, ["--repair"]);
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.members_of("acme", "ops"), ["a@x.example"]);
    assert!(fake.members_of("acme", "old").is_empty());
    let run = w.run_env(&verify, &CREDS);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}

#[test]
fn the_web_page_shows_the_status_and_date_columns_and_the_left_out_count() {
    use crate::ui::Ui;
    use reqwest::Method;
    use serde_json::json;
    let w = Workdir::new();
    let ui = Ui::start(&w, &["--api-base", "http://127.0.0.1:9"], &[]);
    let csv = "Email,Department,Status,Hire Date,Termination Date\n\
               a@x.example,Ops,Active,2020-01-01,\n\
               b@x.example,Ops,Terminated,2020-01-01,2021-05-31\n\
               c@x.example,Ops,Active,2020-01-01,\n";
    ui.api(Method::PUT, "/api/files?name=hr.csv", Some(csv.into()), None);
    let (_, view) = ui.api(
        Method::POST,
        "/api/check",
        None,
        Some(json!({"org": "acme", "members": true})),
    );
    let columns = &view["files"][0]["columns"];
    assert_eq!(
        (&columns["status"], &columns["end_date"], &columns["start_date"]),
        (&json!("Status"), &json!("Termination Date"), &json!("Hire Date")),
        "{view}"
    );
    assert_eq!(
        view["left_out"], "1 person left out: Status 'Terminated' 1; 0 not yet started; 0 filtered",
        "{view}"
    );
    // The dropdown's "none": the status column is not used, and the past end date still decides.
    let (_, view) = ui.api(
        Method::POST,
        "/api/check",
        None,
        Some(json!({"org": "acme", "members": true, "status_column": "none"})),
    );
    assert_eq!(view["files"][0]["columns"]["status"], json!(null), "{view}");
    assert_eq!(
        view["left_out"],
        "1 person left out: Termination Date passed 1; 0 not yet started; 0 filtered"
    );
}

#[test]
fn an_export_whose_every_person_left_removes_them_all_within_the_guard() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
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
            "--report",
            "r.csv",
        ];
        args.extend_from_slice(extra);
        args.push("hr.csv");
        w.run_env(&args, &CREDS)
    };
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Active\n",
    );
    assert_eq!(import(&[]).code, 0);
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Terminated\nb@x.example,Ops,Terminated\n",
    );
    let run = import(&["--remove-departed", "--max-removals", "1"]);
    assert_eq!(run.code, 1, "the guard: {}", run.stderr);
    assert_eq!(fake.members_of("acme", "ops").len(), 2);
    let run = import(&["--remove-departed"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fake.members_of("acme", "ops").is_empty());
}

/// A repair removes people the export says left, never people it merely lacks (that stays
/// `--remove-departed`'s call).
#[test]
fn repair_removes_leavers_but_not_people_merely_missing() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let run = |extra: &[&str]| {
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
            "--report",
            "r.csv",
        ];
        args.extend_from_slice(extra);
        args.push("hr.csv");
        w.run_env(&args, &CREDS)
    };
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Active\nx@x.example,Ops,Active\n",
    );
    assert_eq!(run(&[]).code, 0);
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Resigned\n",
    );
    let done = run(&["--repair"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(fake.members_of("acme", "ops"), ["a@x.example", "x@x.example"]);
}

/// Held-back rows stop removals in their organization (an employee on one would look like a
/// leaver), but not the removal of someone whose own row says they left, unless they are on a
/// held-back row too.
#[test]
fn a_leaver_is_removed_even_beside_held_back_rows_unless_held_back_too() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
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
            "--report",
            "r.csv",
        ];
        args.extend_from_slice(extra);
        args.push("hr.csv");
        w.run_env(&args, &CREDS)
    };
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Active\nc@x.example,Ops,Active\nd@x.example,Ops,Active\n",
    );
    assert_eq!(import(&[]).code, 0);
    // b left; c's row is held back (an error cell); d left but is also on a held-back row.
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Terminated\nc@x.example,#REF!,Active\n\
         d@x.example,Ops,Terminated\nd@x.example,#REF!,Active\n",
    );
    let run = import(&["--remove-departed", "--allow-partial"]);
    assert_eq!(run.code, 1, "held-back rows: {}", run.stderr);
    assert_eq!(
        fake.members_of("acme", "ops"),
        ["a@x.example", "c@x.example", "d@x.example"]
    );
    let members = w.read("r-members.csv");
    assert!(members.contains("acme,ops,b@x.example,remove,removed,"), "{members}");
    assert!(members.contains("acme,ops,c@x.example,remove,skipped,"), "{members}");
    assert!(members.contains("acme,ops,d@x.example,remove,skipped,"), "{members}");
}

/// A leaver status settles who is current before any date is read: a terminated person whose
/// termination date is not written yet ('TBD') or whose other status cell is an error (#N/A
/// from a lookup) is removed, not held back in their group night after night.
#[test]
fn a_leaver_status_wins_over_an_unreadable_date_or_an_error_cell() {
    use X::{Empty as E, S};
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let import = |extra: &[&str]| {
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
            "--report",
            "r.csv",
        ];
        args.extend_from_slice(extra);
        args.push("hr.xlsx");
        w.run_env(&args, &CREDS)
    };
    let header = || {
        vec![
            S("Email"),
            S("Department"),
            S("Status"),
            S("Employment Status"),
            S("Termination Date"),
        ]
    };
    let person = |email: &'static str, status: &'static str| vec![S(email), S("Ops"), S(status), S("Full-Time"), E];
    let mut rows = vec![header()];
    for email in [
        "a@x.example",
        "b@x.example",
        "c@x.example",
        "d@x.example",
        "e@x.example",
    ] {
        rows.push(person(email, "Active"));
    }
    w.xlsx("hr.xlsx", &[("People", rows)]);
    assert_eq!(import(&[]).code, 0);
    assert_eq!(fake.members_of("acme", "ops").len(), 5);

    // b's termination date is not known yet; c's employment status is a broken lookup.
    let rows = vec![
        header(),
        person("a@x.example", "Active"),
        vec![S("b@x.example"), S("Ops"), S("Terminated"), S("Full-Time"), S("TBD")],
        vec![S("c@x.example"), S("Ops"), S("Terminated"), X::F("=NA()", "#N/A"), E],
        person("d@x.example", "Active"),
        person("e@x.example", "Active"),
    ];
    w.xlsx("hr.xlsx", &[("People", rows)]);
    let run = import(&["--remove-departed", "--max-removals", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fake.members_of("acme", "ops"),
        ["a@x.example", "d@x.example", "e@x.example"]
    );
    let members = w.read("r-members.csv");
    assert!(members.contains("acme,ops,b@x.example,remove,removed,"), "{members}");
    assert!(members.contains("acme,ops,c@x.example,remove,removed,"), "{members}");
}

/// Someone with no current row left the organization, whichever department their leaver row
/// names: moved before leaving (the row says Sales, the server has them in Ops), or no
/// department at all. `verify` names them in every group read back that lists them, and
/// `--repair` removes them there.
#[test]
fn a_leaver_whose_row_names_another_or_no_department_is_found_and_removed_by_repair() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let base = ["--members", "--org", "acme", "--api-base", &url, "--rate", "500"];
    let run = |command: &[&str]| {
        let mut args = command.to_vec();
        args.extend(base);
        args.push("hr.csv");
        w.run_env(&args, &CREDS)
    };
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Ops,Active\nc@x.example,Ops,Active\nd@x.example,Sales,Active\n\
         e@x.example,Sales,Active\n",
    );
    assert_eq!(run(&["import", "--quiet", "--report", "r.csv"]).code, 0);
    assert_eq!(fake.members_of("acme", "ops").len(), 3);
    // b moved to Sales and left; c left with the department cell blank. e still works there
    // (a current row without a department): no leaver beyond the row that says so.
    w.write(
        "hr.csv",
        "Email,Department,Status\na@x.example,Ops,Active\nb@x.example,Sales,Terminated\nc@x.example,,Resigned\nd@x.example,Sales,Active\n\
         e@x.example,Ops,Terminated\ne@x.example,,Active\n",
    );
    let verify = run(&["verify"]);
    assert_eq!(verify.code, 1, "{}", verify.stderr);
    assert_eq!(
        verify.stdout,
        "acme, group 'sales': user e@x.example is in the group on the server; the export does not put them there\n\
         acme, group 'ops': user b@x.example is in the group on the server but is not current (Status is 'Terminated', a leaver); \
         `import --members --repair` removes them\n\
         acme, group 'ops': user c@x.example is in the group on the server but is not current (Status is 'Resigned', a leaver); \
         `import --members --repair` removes them\n"
    );
    let repair = run(&["import", "--quiet", "--repair", "--report", "r.csv"]);
    assert_eq!(repair.code, 0, "{}", repair.stderr);
    assert_eq!(fake.members_of("acme", "ops"), ["a@x.example"]);
    assert_eq!(fake.members_of("acme", "sales"), ["d@x.example", "e@x.example"]);
}

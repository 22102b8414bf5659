//! One department, one name, every night (issue 20): which spellings merge, a name that does
//! not depend on row order, deliberate renames with a state file, invisible characters in
//! every field, and `--id-prefix`.

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{g, groups, Run, Workdir, CREDS};

fn import(w: &Workdir, fake: &FakeVelt, report: &str, input: &str, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args = vec![
        "import",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--state",
        "state.db",
        "--rate",
        "500",
        "--backoff-min-ms",
        "10",
        "--report",
        report,
    ];
    args.extend_from_slice(extra);
    args.push(input);
    w.run_env(&args, &CREDS)
}

/// `(group_id, group_name, status, error)` of each row of a CSV report.
fn report(w: &Workdir, name: &str) -> Vec<(String, String, String, String)> {
    let text = w.read(name);
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_owned(), r[2].to_owned(), r[3].to_owned(), r[5].to_owned())
        })
        .collect()
}

fn row(id: &str, name: &str, status: &str, error: &str) -> (String, String, String, String) {
    (id.into(), name.into(), status.into(), error.into())
}

#[test]
fn a_nightly_rerun_on_a_reordered_export_sends_nothing() {
    let w = Workdir::new();
    w.write("night1.csv", "Department\nCafé\nCafe\nCAFE\nSales\nsales\nSALES\n");
    w.write("night2.csv", "Department\nSALES\nCAFE\nsales\nCafe\nSales\nCafé\n");
    let fake = FakeVelt::start(FakeConfig::default());
    let first = import(&w, &fake, "r1.csv", "night1.csv", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let sent = fake.requests();
    assert_eq!(sent, 1);
    // Three spellings once each: the accents win; three case variants: mixed case.
    let want = [("cafe".to_owned(), "Café".to_owned()), ("sales".into(), "Sales".into())];
    assert_eq!(fake.groups_of("acme").into_iter().collect::<Vec<_>>(), want);

    let second = import(&w, &fake, "r2.csv", "night2.csv", &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        fake.requests(),
        sent,
        "the same departments in another order: nothing to send"
    );
    assert_eq!(
        report(&w, "r2.csv"),
        vec![
            row("cafe", "Café", "unchanged", ""),
            row("sales", "Sales", "unchanged", "")
        ]
    );
}

#[test]
fn a_tie_keeps_the_state_name_and_a_majority_renames_said_so() {
    let w = Workdir::new();
    let fake = FakeVelt::start(FakeConfig::default());
    w.write("n1.csv", "Department\nCafe\nCafe\nCafé\n");
    let run = import(&w, &fake, "r1.csv", "n1.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.groups_of("acme")["cafe"], "Cafe");
    let sent = fake.requests();

    // A tie: without a state the accents would win, but the state's name is one of the tied
    // spellings, so the group keeps it and nothing is sent.
    w.write("n2.csv", "Department\nCafé\nCafe\n");
    let run = import(&w, &fake, "r2.csv", "n2.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), sent, "a tie never renames");
    assert_eq!(report(&w, "r2.csv"), vec![row("cafe", "Cafe", "unchanged", "")]);
    assert!(!run.stderr.contains("renamed"), "{}", run.stderr);

    // The export now spells it with accents on most rows: one deliberate rename.
    w.write("n3.csv", "Department\nCafé\nCafe\nCafé\n");
    let run = import(&w, &fake, "r3.csv", "n3.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), sent + 1);
    assert_eq!(fake.groups_of("acme")["cafe"], "Café");
    assert_eq!(
        report(&w, "r3.csv"),
        vec![row("cafe", "Café", "added", "renamed: 'Cafe' → 'Café'")]
    );
    assert!(
        run.stderr.contains("acme/cafe renamed: 'Cafe' → 'Café'"),
        "the summary names the rename: {}",
        run.stderr
    );
    // And the night after, with the same majority, nothing more.
    let run = import(&w, &fake, "r4.csv", "n3.csv", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests(), sent + 1);
}

#[test]
fn names_that_only_slug_alike_are_held_back_with_what_differs() {
    let w = Workdir::new();
    w.write(
        "teams.csv",
        "Department\nC++\nC#\nC\nSales & Marketing\nSales and Marketing\n=1+1\n-1+1\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "teams.csv"]);
    let text = json.to_string();
    assert_ne!(run.code, 0, "{text}");
    assert_eq!(groups(&json), vec![g("acme", "sales-marketing", "Sales & Marketing")]);
    assert!(
        text.contains("'C++' has '++' where 'C#' has '#'; 'C++' has '++' where 'C' has nothing"),
        "{text}"
    );
    assert!(text.contains("'=1+1' has '=' where '-1+1' has '-'"), "{text}");
    assert!(
        text.contains("write its name one way in the source"),
        "the message says how to settle it: {text}"
    );
}

#[test]
fn invisible_characters_follow_one_rule_in_every_field() {
    let w = Workdir::new();
    w.write(
        "orgs.csv",
        "Organization,Department\n\
         acme,\u{1F469}\u{200D}\u{1F4BB} Developers\n\
         acme\u{200E},\u{200D}Sales\u{200C}\n\
         \u{2066}acme\u{2069},Legal\u{AD}\n\
         \u{200B},Ops\n",
    );
    let (run, json) = w.check_json(&["orgs.csv"]);
    let text = json.to_string();
    assert_eq!(
        groups(&json),
        vec![
            g("acme", "legal", "Legal"),
            g("acme", "sales", "Sales"),
            g(
                "acme",
                "woman-computer-developers",
                "\u{1F469}\u{200D}\u{1F4BB} Developers"
            ),
        ],
        "{text}"
    );
    assert!(
        text.contains("the organization ID holds only invisible characters"),
        "{text}"
    );
    assert_ne!(run.code, 0);
}

#[test]
fn an_id_prefix_goes_before_every_group_id_by_flag_or_config() {
    let w = Workdir::new();
    w.write("d.csv", "Department,Code\nSales,1\nLegal,2\n");
    w.write("n.csv", "Department\nSales\n");
    let (run, json) = w.check_json(&["--org", "acme", "--id-prefix", "dept-", "--id-column", "Code", "d.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "dept-1", "Sales"), g("acme", "dept-2", "Legal")]
    );
    w.write("velt-groups.toml", "id-prefix = \"hr-\"\norg = \"acme\"\n");
    let (run, json) = w.check_json(&["--config", "velt-groups.toml", "n.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "hr-sales", "Sales")]);
    // Off by default: today's IDs stay.
    let (_, json) = w.check_json(&["--org", "acme", "n.csv"]);
    assert_eq!(groups(&json), vec![g("acme", "sales", "Sales")]);
    for bad in ["Dept-", "dept", "de pt-", "dept--"] {
        let run = w.run(&["check", "--org", "acme", "--id-prefix", bad, "n.csv"]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--id-prefix"), "{}", run.stderr);
    }
}

/// `import --members` against the fake, with the employee ID as the user ID.
fn import_members(w: &Workdir, fake: &FakeVelt, input: &str) -> Run {
    let url = fake.url();
    let args = [
        "import",
        "--quiet",
        "--members",
        "--user-column",
        "Employee ID",
        "--org",
        "acme",
        "--api-base",
        &url,
        "--rate",
        "500",
        "--backoff-min-ms",
        "5",
        "--report",
        "r.csv",
        input,
    ];
    w.run_env(&args, &CREDS)
}

#[test]
fn an_xlsx_id_formatted_0000_is_read_as_the_sheet_shows_it() {
    let w = Workdir::new();
    let mut book = rust_xlsxwriter::Workbook::new();
    let padded = rust_xlsxwriter::Format::new().set_num_format("0000");
    let lettered = rust_xlsxwriter::Format::new().set_num_format("\"E\"000");
    let sheet = book.add_worksheet();
    for (c, h) in ["Employee ID", "Department", "Code"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number_with_format(1, 0, 1, &padded).unwrap();
    sheet.write_string(1, 1, "Sales").unwrap();
    sheet.write_number_with_format(1, 2, 42, &padded).unwrap();
    sheet.write_number_with_format(2, 0, 7, &lettered).unwrap();
    sheet.write_string(2, 1, "Sales").unwrap();
    sheet.write_number_with_format(2, 2, 42, &padded).unwrap();
    // A plain number stays as it is.
    sheet.write_number(3, 0, 12).unwrap();
    sheet.write_string(3, 1, "Sales").unwrap();
    sheet.write_number(3, 2, 42).unwrap();
    book.save(w.path("staff.xlsx")).unwrap();

    let (run, json) = w.check_json(&["--org", "acme", "--id-column", "Code", "staff.xlsx"]);
    assert_eq!(
        run.code, 0,
        "the codes 0042 and 42 are two groups named Sales: {}",
        run.stderr
    );
    let mut ids: Vec<String> = groups(&json).into_iter().map(|(_, id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, vec!["0042".to_owned(), "42".into()]);

    let fake = FakeVelt::start(FakeConfig::default());
    let run = import_members(&w, &fake, "staff.xlsx");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.members_of("acme", "sales"), vec!["0001", "12", "E007"]);
}

#[test]
fn a_user_id_with_a_zero_width_space_is_not_a_second_user() {
    let w = Workdir::new();
    w.write(
        "staff.csv",
        "Employee ID,Department\nE001,Sales\nE001\u{200B},Legal\n\u{FEFF}E002\u{2060},Legal\n",
    );
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import_members(&w, &fake, "staff.csv");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fake.org_users("acme").into_keys().collect::<Vec<_>>(),
        vec!["E001", "E002"]
    );
    assert_eq!(fake.members_of("acme", "legal"), vec!["E001", "E002"]);
    assert!(
        run.stderr.contains("holds invisible characters (U+200B)"),
        "{}",
        run.stderr
    );
}

#[test]
fn employee_ids_that_differ_only_in_case_are_held_back_and_named() {
    let w = Workdir::new();
    w.write(
        "staff.csv",
        "Employee ID,Full Name,Department\nE001,Ada Lovelace,Sales\ne001,Ada Lovelace,Legal\nE002,Grace,Sales\nE002,Grace Hopper,Legal\n",
    );
    let fake = FakeVelt::start(FakeConfig::default());
    let run = import_members(&w, &fake, "staff.csv");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(fake.requests(), 0, "validation failed: nothing is sent");
    assert!(
        run.stderr.contains(
            "the user IDs 'E001' (first on staff.csv row 2) and 'e001' (first on staff.csv row 3) differ only in case"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("user 'E002' is 'Grace Hopper' here but 'Grace' on staff.csv row 4"),
        "{}",
        run.stderr
    );
}

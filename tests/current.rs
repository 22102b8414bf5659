//! Issue #19, only current people: exports in the style of each HR system (their own headers
//! and values), judged as of 2025-06-30; who joins, who is left out and why; unknown statuses
//! and ambiguous dates stop the run; `--where`. The nightly sync is in `current_sync.rs`.

use std::collections::BTreeMap;

use fake_velt::{FakeConfig, FakeVelt};

use crate::workdir::{Run, Workdir, CREDS, X};

const AS_OF: &str = "2025-06-30";

/// `import --members --dry-run` of `file` as of [`AS_OF`]: every user with "in" (a planned
/// membership) or the reason they are left out (the members report's error).
fn who(w: &Workdir, file: &str, extra: &[&str]) -> (Run, BTreeMap<String, String>) {
    let mut args = vec![
        "import",
        "--dry-run",
        "--members",
        "--org",
        "acme",
        "--as-of",
        AS_OF,
        "--report",
        "r.csv",
    ];
    args.extend_from_slice(extra);
    args.push(file);
    let run = w.run(&args);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let text = w.read("r-members.csv");
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let mut out = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let verdict = match (&r[3], &r[4]) {
            ("add", "planned") => "in".to_owned(),
            ("add", "left-out") => r[6].to_owned(),
            other => panic!("unexpected membership row {other:?}"),
        };
        assert!(out.insert(r[2].to_owned(), verdict).is_none(), "one row per person");
    }
    (run, out)
}

fn verdicts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(u, v)| (u.to_string(), v.to_string())).collect()
}

fn csv(rows: &[&[&str]], delimiter: char) -> String {
    rows.iter()
        .map(|r| r.join(&delimiter.to_string()))
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn workday_worker_status_dates_in_date_cells_and_a_contingent_worker_filter() {
    let w = Workdir::new();
    use X::{Date as D, Empty as E, S};
    let header = [
        "Employee ID",
        "Worker",
        "Supervisory Organization",
        "Worker Status",
        "Active Status",
        "Hire Date",
        "Termination Date",
        "On Leave",
        "Worker Type",
        "Primary Work Email",
    ]
    .map(S)
    .to_vec();
    let rows = vec![
        header,
        vec![
            S("21001"),
            S("Ada Lovelace"),
            S("Engineering"),
            S("Active"),
            S("Yes"),
            D(2019, 1, 7),
            E,
            S("No"),
            S("Employee"),
            S("ada@acme.example"),
        ],
        vec![
            S("21002"),
            S("Bob Byron"),
            S("Engineering"),
            S("Terminated"),
            S("No"),
            D(2018, 3, 1),
            D(2025, 2, 28),
            S("No"),
            S("Employee"),
            S("bob@acme.example"),
        ],
        vec![
            S("21003"),
            S("Cy Young"),
            S("Sales"),
            S("Active"),
            S("Yes"),
            D(2020, 5, 1),
            D(2025, 9, 30),
            S("No"),
            S("Employee"),
            S("cy@acme.example"),
        ],
        vec![
            S("21004"),
            S("Di Prince"),
            S("Sales"),
            S("Leave of Absence"),
            S("Yes"),
            D(2021, 2, 1),
            E,
            S("Yes"),
            S("Employee"),
            S("di@acme.example"),
        ],
        vec![
            S("21005"),
            S("Ed Newhire"),
            S("Sales"),
            S("Active"),
            S("Yes"),
            D(2025, 8, 1),
            E,
            S("No"),
            S("Employee"),
            S("ed@acme.example"),
        ],
        vec![
            S("21006"),
            S("Flo Lastday"),
            S("Engineering"),
            S("Active"),
            S("Yes"),
            D(2016, 4, 4),
            D(2025, 6, 30),
            S("No"),
            S("Employee"),
            S("flo@acme.example"),
        ],
        vec![
            S("21007"),
            S("Gus Temp"),
            S("Engineering"),
            S("Active"),
            S("Yes"),
            D(2024, 4, 4),
            E,
            S("No"),
            S("Contingent Worker"),
            S("gus@acme.example"),
        ],
        // A termination date typed as a bare serial number (2024-12-31), not a date cell.
        vec![
            S("21008"),
            S("Hal Serial"),
            S("Sales"),
            S("Active"),
            S("Yes"),
            D(2015, 1, 5),
            X::N(45657.0),
            S("No"),
            S("Employee"),
            S("hal@acme.example"),
        ],
    ];
    w.xlsx("workday.xlsx", &[("Workers", rows)]);
    let (run, got) = who(&w, "workday.xlsx", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("ada@acme.example", "in"),
            ("bob@acme.example", "left out: Worker Status is 'Terminated', a leaver"),
            ("cy@acme.example", "in"),
            ("di@acme.example", "in"),
            ("ed@acme.example", "left out: Hire Date 2025-08-01 is still to come"),
            ("flo@acme.example", "left out: Termination Date 2025-06-30 has passed"),
            ("gus@acme.example", "in"),
            ("hal@acme.example", "left out: Termination Date 2024-12-31 has passed"),
        ])
    );
    // Only current people are made organization users.
    let users = w.read("r-users.csv");
    let mut users: Vec<&str> = users.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    users.sort();
    assert_eq!(
        users,
        [
            "ada@acme.example",
            "cy@acme.example",
            "di@acme.example",
            "gus@acme.example"
        ]
    );
    assert!(
        run.stderr.contains(
            "4 people left out: Worker Status 'Terminated' 1; Termination Date passed 2; 1 not yet started; 0 filtered"
        ),
        "{}",
        run.stderr
    );
    // An active-looking status with a past end date: the date wins, and it is said.
    assert!(
        run.stderr.contains(
            "warning: workday.xlsx, sheet 'Workers', row 7, column 'Termination Date': Worker Status is 'Active' but the end date 2025-06-30 has passed"
        ),
        "{}",
        run.stderr
    );
    // What status cannot say: contingent workers, by filter.
    let (run, got) = who(&w, "workday.xlsx", &["--where", "Worker Type=Employee"]);
    assert_eq!(
        got["gus@acme.example"],
        "left out: --where Worker Type=Employee excludes this row"
    );
    assert!(run.stderr.contains("; 1 filtered"), "{}", run.stderr);
    assert_eq!(got["ada@acme.example"], "in");
}

#[test]
fn bamboohr_status_and_employment_status_with_month_first_dates() {
    let w = Workdir::new();
    let text = csv(
        &[
            &[
                "Employee #",
                "First Name",
                "Last Name",
                "Work Email",
                "Department",
                "Hire Date",
                "Termination Date",
                "Status",
                "Employment Status",
            ],
            &[
                "101",
                "Ada",
                "Lovelace",
                "ada@example.com",
                "R&D",
                "12/15/2019",
                "",
                "Active",
                "Full-Time",
            ],
            &[
                "102",
                "Bea",
                "Arthur",
                "bea@example.com",
                "R&D",
                "03/04/2022",
                "05/01/2025",
                "Inactive",
                "Terminated",
            ],
            &[
                "103",
                "Cal",
                "Ripken",
                "cal@example.com",
                "Sales",
                "01/02/2023",
                "",
                "Active",
                "Contractor",
            ],
            &[
                "104",
                "Dee",
                "Snider",
                "dee@example.com",
                "Sales",
                "07/01/2025",
                "",
                "Active",
                "Part-Time",
            ],
            &[
                "105",
                "Eve",
                "Moneypenny",
                "eve@example.com",
                "Sales",
                "02/02/2020",
                "",
                "Active",
                "Terminated",
            ],
        ],
        ',',
    );
    w.write("bamboohr.csv", text);
    let (_, got) = who(&w, "bamboohr.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("ada@example.com", "in"),
            ("bea@example.com", "left out: Status is 'Inactive', a leaver"),
            ("cal@example.com", "in"),
            // 12/15/2019 reads only month first, so 07/01/2025 is July 1st: not started.
            ("dee@example.com", "left out: Hire Date 2025-07-01 is still to come"),
            // Either status column saying "left" is enough.
            (
                "eve@example.com",
                "left out: Employment Status is 'Terminated', a leaver"
            ),
        ])
    );
    let (_, got) = who(&w, "bamboohr.csv", &["--where", "Employment Status!=Contractor"]);
    assert_eq!(
        got["cal@example.com"],
        "left out: --where Employment Status!=Contractor excludes this row"
    );
}

#[test]
fn adp_position_status_and_successfactors_employee_status() {
    let w = Workdir::new();
    let adp = csv(
        &[
            &[
                "Associate ID",
                "Legal First Name",
                "Legal Last Name",
                "Position Status",
                "Home Department Description",
                "Work Contact: Work Email",
                "Termination Date",
            ],
            &["G3001", "Ann", "Ames", "Active", "Accounting", "ann@acme.example", ""],
            &["G3002", "Ben", "Bose", "Leave", "Accounting", "ben@acme.example", ""],
            &[
                "G3003",
                "Cat",
                "Cole",
                "Terminated",
                "Warehouse",
                "cat@acme.example",
                "2024-11-30",
            ],
        ],
        ',',
    );
    w.write("adp.csv", adp);
    let (_, got) = who(&w, "adp.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("ann@acme.example", "in"),
            ("ben@acme.example", "in"),
            (
                "cat@acme.example",
                "left out: Position Status is 'Terminated', a leaver"
            ),
        ])
    );
    let sf = csv(
        &[
            &[
                "USERID",
                "FIRSTNAME",
                "LASTNAME",
                "EMAIL",
                "DEPARTMENT",
                "EMPLOYEE STATUS",
            ],
            &["u1", "Ana", "Alves", "ana@sf.example", "Sales", "Active"],
            &["u2", "Bo", "Berg", "bo@sf.example", "Sales", "Unpaid Leave"],
            &["u3", "Cid", "Cruz", "cid@sf.example", "Sales", "Retired"],
            &["u4", "Dan", "Dahl", "dan@sf.example", "Legal", "Terminated"],
            &["u5", "Eli", "Eze", "eli@sf.example", "Legal", "Suspended"],
        ],
        ',',
    );
    w.write("sf.csv", sf);
    let (run, got) = who(&w, "sf.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("ana@sf.example", "in"),
            ("bo@sf.example", "in"),
            ("cid@sf.example", "left out: EMPLOYEE STATUS is 'Retired', a leaver"),
            ("dan@sf.example", "left out: EMPLOYEE STATUS is 'Terminated', a leaver"),
            ("eli@sf.example", "left out: EMPLOYEE STATUS is 'Suspended', a leaver"),
        ])
    );
    // Legal's two people both left: no group for it, and the run says so.
    assert!(
        run.stderr
            .contains("no group for 1 department with nobody current: 'Legal'"),
        "{}",
        run.stderr
    );
    assert!(!w.read("r.csv").contains(",legal,"), "{}", w.read("r.csv"));
}

#[test]
fn personio_day_first_dates_and_hibob_lifecycle_status() {
    let w = Workdir::new();
    let personio = csv(
        &[
            &[
                "ID",
                "First name",
                "Last name",
                "Email",
                "Status",
                "Department",
                "Hire date",
                "Termination date",
            ],
            &[
                "1",
                "Jürgen",
                "Böhm",
                "j@firma.example",
                "active",
                "Vertrieb",
                "15.01.2020",
                "",
            ],
            &[
                "2",
                "Anna",
                "Schäfer",
                "a@firma.example",
                "onboarding",
                "Vertrieb",
                "01.06.2025",
                "",
            ],
            &[
                "3",
                "Lukas",
                "Weiß",
                "l@firma.example",
                "leave",
                "F&E",
                "03.03.2019",
                "",
            ],
            &[
                "4",
                "Marie",
                "Krüger",
                "m@firma.example",
                "inactive",
                "F&E",
                "03.03.2019",
                "31.03.2025",
            ],
            &[
                "5",
                "Felix",
                "Groß",
                "f@firma.example",
                "active",
                "F&E",
                "03.03.2019",
                "31.07.2025",
            ],
            &[
                "6",
                "Lea",
                "Hoffmann",
                "lea@firma.example",
                "active",
                "F&E",
                "03.03.2019",
                "30.04.2025",
            ],
        ],
        ';',
    );
    w.write("personio.csv", personio);
    let (_, got) = who(&w, "personio.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("j@firma.example", "in"),
            ("a@firma.example", "in"),
            ("l@firma.example", "in"),
            ("m@firma.example", "left out: Status is 'inactive', a leaver"),
            // A termination dated in the future: still current until its day.
            ("f@firma.example", "in"),
            ("lea@firma.example", "left out: Termination date 2025-04-30 has passed"),
        ])
    );
    let hibob = csv(
        &[
            &[
                "Display name",
                "Email",
                "Department",
                "Lifecycle status",
                "Start date",
                "Termination date",
            ],
            &["Amy Pond", "amy@bob.example", "Product", "Employed", "2022-01-10", ""],
            &[
                "Rory Williams",
                "rory@bob.example",
                "Product",
                "Garden leave",
                "2021-03-01",
                "2025-08-15",
            ],
            &[
                "River Song",
                "river@bob.example",
                "Product",
                "Terminated",
                "2020-03-01",
                "2025-05-31",
            ],
            &[
                "Clara Oswald",
                "clara@bob.example",
                "Design",
                "Employed",
                "2025-09-01",
                "",
            ],
            &["Bill Potts", "bill@bob.example", "Design", "Hired", "2025-07-14", ""],
        ],
        ',',
    );
    w.write("hibob.csv", hibob);
    let (_, got) = who(&w, "hibob.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("amy@bob.example", "in"),
            ("rory@bob.example", "in"),
            (
                "river@bob.example",
                "left out: Lifecycle status is 'Terminated', a leaver"
            ),
            ("clara@bob.example", "left out: Start date 2025-09-01 is still to come"),
            (
                "bill@bob.example",
                "left out: Lifecycle status is 'Hired', not started yet"
            ),
        ])
    );
    // --include-inactive turns the rule off.
    let (_, got) = who(&w, "hibob.csv", &["--include-inactive"]);
    assert!(got.values().all(|v| v == "in"), "{got:?}");
}

#[test]
fn hand_kept_sheets_active_and_leaver_columns() {
    let w = Workdir::new();
    let active = csv(
        &[
            &["Name", "Email", "Team", "Active"],
            &["A", "a@x.example", "Ops", "Y"],
            &["B", "b@x.example", "Ops", "N"],
            &["C", "c@x.example", "Ops", "TRUE"],
            &["D", "d@x.example", "Ops", "0"],
            &["E", "e@x.example", "Ops", ""],
        ],
        ',',
    );
    w.write("active.csv", active);
    let (_, got) = who(&w, "active.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("a@x.example", "in"),
            ("b@x.example", "left out: Active is 'N', a leaver"),
            ("c@x.example", "in"),
            ("d@x.example", "left out: Active is '0', a leaver"),
            ("e@x.example", "in"),
        ])
    );
    let leaver = csv(
        &[
            &["Name", "Email", "Team", "Leaver", "End date"],
            &["A", "a@x.example", "Ops", "FALSE", ""],
            &["B", "b@x.example", "Ops", "TRUE", ""],
            &["C", "c@x.example", "Ops", "", "2025-01-31"],
            &["D", "d@x.example", "Ops", "", ""],
        ],
        ',',
    );
    w.write("leaver.csv", leaver);
    let (_, got) = who(&w, "leaver.csv", &[]);
    assert_eq!(
        got,
        verdicts(&[
            ("a@x.example", "in"),
            ("b@x.example", "left out: Leaver is 'TRUE', a leaver"),
            ("c@x.example", "left out: End date 2025-01-31 has passed"),
            ("d@x.example", "in"),
        ])
    );
}

#[test]
fn an_unknown_status_stops_the_run_with_every_value_named_and_nothing_sent() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Email,Department,Employment Status\n\
         a@x.example,Ops,Active\n\
         b@x.example,Ops,On Sabbatical\n\
         c@x.example,Ops,Alumni Pending\n\
         d@x.example,Ops,On Sabbatical\n",
    );
    let fake = FakeVelt::start(FakeConfig::default());
    let url = fake.url();
    let base = [
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
    let mut args = base.to_vec();
    args.push("hr.csv");
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(fake.requests(), 0, "nothing is sent");
    let errors: Vec<&str> = run
        .err_lines()
        .into_iter()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(
        errors,
        [
            "error: hr.csv, column 'Employment Status': unknown status values 'On Sabbatical' (2 rows, first row 3), \
          'Alumni Pending' (1 row: row 4); nothing was sent: name the current ones with --active-values and the \
          leavers with --inactive-values (comma-separated), or ignore the column with --status-column none"
        ],
        "{}",
        run.stderr
    );
    // Classified, the run goes; the classification is the operator's.
    let mut args = base.to_vec();
    args.extend([
        "--active-values",
        "on sabbatical",
        "--inactive-values",
        "Alumni Pending",
        "hr.csv",
    ]);
    let run = w.run_env(&args, &CREDS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fake.members_of("acme", "ops"),
        ["a@x.example", "b@x.example", "d@x.example"]
    );
}

#[test]
fn an_ambiguous_date_column_is_an_error_until_its_order_is_given() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Email,Department,Start Date\n\
         a@x.example,Ops,01/02/2020\n\
         b@x.example,Ops,03/07/2025\n",
    );
    let run = w.run(&["check", "--members", "--org", "acme", "--as-of", AS_OF, "hr.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let settled = w.run(&[
        "check",
        "--members",
        "--org",
        "acme",
        "--as-of",
        AS_OF,
        "--date-format",
        "MDY",
        "hr.csv",
    ]);
    assert!(
        settled
            .stderr
            .contains("hr.csv: who is current is read from 'Start Date' (start date), as of 2025-06-30\n"),
        "{}",
        settled.stderr
    );
    assert!(
        run.stderr.contains(
            "error: hr.csv, column 'Start Date': no date tells whether the day or the month comes first, and '03/07/2025' (row 3) \
             is past read one way and still to come read the other; settle it with --date-format DMY or --date-format MDY"
        ),
        "{}",
        run.stderr
    );
    let (_, got) = who(&w, "hr.csv", &["--date-format", "DMY"]);
    assert_eq!(got["b@x.example"], "left out: Start Date 2025-07-03 is still to come");
    let (_, got) = who(&w, "hr.csv", &["--date-format", "MDY"]);
    assert_eq!(got["b@x.example"], "in");
    // An unreadable date is a located row error, never a silent "current".
    w.write(
        "bad.csv",
        "Email,Department,Termination Date\na@x.example,Ops,soon\nb@x.example,Ops,\n",
    );
    let run = w.run(&["check", "--members", "--org", "acme", "bad.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: bad.csv, row 2, column 'Termination Date': 'soon' is not a date this tool can read"),
        "{}",
        run.stderr
    );
}

#[test]
fn where_filters_name_real_columns_leave_something_and_work_on_department_lists() {
    let w = Workdir::new();
    w.write(
        "depts.csv",
        "Department,Country,Active\nSales,DE,Yes\nLegal,FR,Yes\nOld Team,DE,No\nOps,de,Yes\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "--where", "Country=DE", "depts.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<&str> = json["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ops", "Sales"]);
    let reasons: Vec<(&str, &str, u64)> = json["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["group_id"].as_str().unwrap(),
                l["reason"].as_str().unwrap(),
                l["sources"][0]["row"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("legal", "left out: --where Country=DE excludes this row", 3),
            ("old-team", "left out: Active is 'No', a leaver", 4),
        ]
    );
    assert!(
        run.stderr
            .contains("2 rows left out: Active 'No' 1; 0 not yet started; 1 filtered"),
        "{}",
        run.stderr
    );
    let run = w.run(&["check", "--org", "acme", "--where", "Region=EU", "depts.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error: depts.csv, row 1: no column 'Region' (from --where)"),
        "{}",
        run.stderr
    );
    let run = w.run(&["check", "--org", "acme", "--where", "Country=US", "depts.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("error: depts.csv: no row is left after --where Country=US (3 of the 4 rows filtered out, the others not current)"),
        "{}",
        run.stderr
    );
    let run = w.run(&["check", "--org", "acme", "--where", "Country", "depts.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--where 'Country' is not COLUMN=VALUE"),
        "{}",
        run.stderr
    );
}

/// A rehire (an end date before the start date) is current only when both dates are sure:
/// in columns whose day/month order nothing settled, `05/04/2024` before `04/05/2024` may be
/// the other way round, and a leaver would pass for a rehire.
#[test]
fn an_end_before_the_start_is_a_rehire_only_when_the_order_is_known() {
    let w = Workdir::new();
    let rows: &[&[&str]] = &[
        &["Email", "Department", "Termination Date", "Hire Date"],
        &["a@x.example", "Ops", "05/04/2024", "04/05/2024"],
        &["b@x.example", "Ops", "", "01/02/2020"],
    ];
    w.write("hr.csv", csv(rows, ','));
    let (_, got) = who(&w, "hr.csv", &[]);
    assert_eq!(got["b@x.example"], "in");
    assert!(got["a@x.example"].contains("Termination Date"), "{got:?}");
    // A date that reads one way only settles both columns: day first, so a's end (5 April)
    // is before the rehire (4 May).
    let mut settled = rows.to_vec();
    settled.push(&["c@x.example", "Ops", "25/12/2019", "13/01/2019"]);
    w.write("hr.csv", csv(&settled, ','));
    let (_, got) = who(&w, "hr.csv", &[]);
    assert_eq!(got["a@x.example"], "in");
    assert!(got["c@x.example"].contains("Termination Date"), "{got:?}");
}

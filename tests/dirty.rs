//! Issue #16: dirty exports are diagnosed row by row. A look-alike of the widely used public HR
//! sample (a `DeptID` code and a `Department` name, two mis-coded rows) and a department typed
//! four ways, through the real binary.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::corpus::{bamboohr, load, member, record, Lcg};
use crate::workdir::{rows_of, Workdir};

/// (department as the file writes it, its code, rows).
const DEPARTMENTS: [(&str, &str, usize); 6] = [
    ("Production       ", "5", 207),
    ("IT/IS", "3", 50),
    ("Sales", "6", 31),
    ("Software Engineering", "4", 10),
    ("Admin Offices", "1", 9),
    ("Executive Office", "2", 1),
];

const LAST: [&str; 12] = [
    "Adinolfi",
    "Akinkuolie",
    "Becker",
    "Bozzi",
    "Chace",
    "Dietrich",
    "Foss",
    "Gerke",
    "Immediato",
    "LaRotonda",
    "Monroe",
    "Zamora",
];
const FIRST: [&str; 10] = [
    "Wilson", "Sarah", "Renee", "Charles", "Beatrice", "Jenna", "Jason", "Melisa", "Walter", "Julia",
];

/// The HR sample's shape: 36 columns, names as "Last, First  M", codes and names side by side,
/// "Production" padded with spaces; one Production row with Sales' code 6 (row 65) and one
/// Software Engineering row with Admin Offices' code 1 (row 228).
fn hr_dataset(w: &Workdir) -> PathBuf {
    let header = [
        "Employee_Name",
        "EmpID",
        "MarriedID",
        "MaritalStatusID",
        "GenderID",
        "EmpStatusID",
        "DeptID",
        "PerfScoreID",
        "FromDiversityJobFairID",
        "Salary",
        "Termd",
        "PositionID",
        "Position",
        "State",
        "Zip",
        "DOB",
        "Sex",
        "MaritalDesc",
        "CitizenDesc",
        "HispanicLatino",
        "RaceDesc",
        "DateofHire",
        "DateofTermination",
        "TermReason",
        "EmploymentStatus",
        "Department",
        "ManagerName",
        "ManagerID",
        "RecruitmentSource",
        "PerformanceScore",
        "EngagementSurvey",
        "EmpSatisfaction",
        "SpecialProjectsCount",
        "LastPerformanceReview_Date",
        "DaysLateLast30",
        "Absences",
    ];
    let mut rows: Vec<(&str, &str)> = DEPARTMENTS
        .iter()
        .flat_map(|&(name, code, n)| std::iter::repeat_n((name, code), n))
        .collect();
    let mut rng = Lcg(2024);
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i + 1));
    }
    // Data row k is file row k + 2.
    rows.insert(63, ("Production       ", "6"));
    rows.insert(226, ("Software Engineering", "1"));
    let mut text = record(&header, ',', false);
    text.push('\n');
    for (i, (dept, code)) in rows.iter().enumerate() {
        let name = format!(
            "{}, {}  {}",
            LAST[i % LAST.len()],
            FIRST[(i / LAST.len()) % FIRST.len()],
            (b'A' + (i % 26) as u8) as char
        );
        let emp_id = (10001 + i).to_string();
        let salary = (45_000 + rng.below(60_000)).to_string();
        let terminated = rng.below(3) == 0;
        let fields = [
            name.as_str(),
            &emp_id,
            "0",
            "0",
            &(i % 2).to_string(),
            if terminated { "5" } else { "1" },
            code,
            "3",
            "0",
            &salary,
            if terminated { "1" } else { "0" },
            "19",
            "Production Technician I",
            "MA",
            "01960",
            "07/10/83",
            if i % 2 == 0 { "M " } else { "F" },
            "Single",
            "US Citizen",
            "No",
            "White",
            "7/5/2011",
            if terminated { "6/16/2016" } else { "" },
            if terminated {
                "career change"
            } else {
                "N/A-StillEmployed"
            },
            if terminated { "Voluntarily Terminated" } else { "Active" },
            dept,
            "Michael Albert",
            "22",
            "LinkedIn",
            "Exceeds",
            "4.6",
            "5",
            "0",
            "1/17/2019",
            "0",
            "1",
        ];
        text.push_str(&record(&fields, ',', false));
        text.push('\n');
    }
    w.write("HRDataset_v14.csv", text)
}

#[test]
fn two_mis_coded_rows_are_named_and_every_department_goes() {
    let w = Workdir::new();
    hr_dataset(&w);
    // Every row, leavers too: this is about the department codes.
    let (run, json) = w.check_json(&["--org", "acme", "--include-inactive", "HRDataset_v14.csv"]);
    assert_eq!(run.code, 1, "the two rows are held back: {}", run.stderr);
    let sizes: Vec<(String, String, usize)> = json["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group_id"].as_str().unwrap().to_owned(),
                g["group_name"].as_str().unwrap().to_owned(),
                g["sources"].as_array().unwrap().len(),
            )
        })
        .collect();
    let want = [
        ("1", "Admin Offices", 9),
        ("2", "Executive Office", 1),
        ("3", "IT/IS", 50),
        ("4", "Software Engineering", 10),
        ("5", "Production", 207),
        ("6", "Sales", 31),
    ];
    assert_eq!(sizes, want.map(|(id, name, n)| (id.to_owned(), name.to_owned(), n)));
    assert_eq!(json["conflicts"], serde_json::json!([]));
    let problems: Vec<(String, u64, String, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["severity"].as_str().unwrap().to_owned(),
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (
                "error".into(),
                228,
                "DeptID".into(),
                "'Software Engineering' with code 1, but code 1 is 'Admin Offices' on 9 other rows and \
                 'Software Engineering' is code 4 on 10 rows; this row is probably mis-coded"
                    .into()
            ),
            (
                "error".into(),
                65,
                "DeptID".into(),
                "'Production' with code 6, but code 6 is 'Sales' on 31 other rows and \
                 'Production' is code 5 on 207 rows; this row is probably mis-coded"
                    .into()
            ),
        ]
    );
    // No source row of a group is one of the two.
    assert!(rows_of(&json)
        .iter()
        .all(|(_, rows)| !rows.contains(&65) && !rows.contains(&228)));
    let table = w.run(&["check", "--org", "acme", "--include-inactive", "HRDataset_v14.csv"]);
    assert!(
        table
            .stderr
            .ends_with("6 groups in 1 organization: acme (6 groups); 0 conflicts, 2 invalid rows, 0 warnings\n"),
        "{}",
        table.stderr
    );
}

#[test]
fn the_hr_sample_s_employee_ids_are_found_for_members() {
    let w = Workdir::new();
    let path = hr_dataset(&w);
    let run = w.run(&["check", "--members", "--org", "acme", "HRDataset_v14.csv"]);
    assert_eq!(run.code, 1, "held-back rows, but no missing column: {}", run.stderr);
    assert!(!run.stderr.contains("no user column"), "{}", run.stderr);
    let plan = load(&path, true);
    let first = member(&plan, "10001");
    assert_eq!(first.name.as_deref(), Some("Adinolfi, Wilson A"));
    assert_eq!(first.email, None);
    // Issue #19: the leavers (EmploymentStatus 'Voluntarily Terminated', a past
    // DateofTermination) are left out; every current employee but the held-back ones is in.
    let text = w.read("HRDataset_v14.csv");
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut leavers = std::collections::BTreeSet::new();
    let mut current = std::collections::BTreeSet::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let set = if &r[24] == "Voluntarily Terminated" {
            &mut leavers
        } else {
            &mut current
        };
        set.insert(r[1].to_owned());
    }
    assert!(leavers.len() > 80, "{}", leavers.len());
    let members: BTreeSet<&str> = plan.organizations[0]
        .groups
        .iter()
        .flat_map(|g| g.members.iter().map(|m| &*m.user))
        .collect();
    let held_back = plan.invalid.len();
    assert_eq!(held_back, 2);
    assert!(members.iter().all(|m| current.contains(*m)), "no leaver is a member");
    assert!(
        current.len() - members.len() <= held_back,
        "every current employee but the held back"
    );
    let left: BTreeSet<&str> = plan.left_out.iter().map(|l| l.user_id.as_str()).collect();
    assert_eq!(left.len(), leavers.len(), "every leaver is listed as left out");
    // The dry-run members report lists them by EmpID.
    let run = w.run(&[
        "import",
        "--dry-run",
        "--allow-partial",
        "--members",
        "--org",
        "acme",
        "--report",
        "r.csv",
        "HRDataset_v14.csv",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = w.read("r-members.csv");
    let planned: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(",add,planned,"))
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(planned.len(), members.len(), "{report}");
    assert!(planned.iter().all(|u| current.contains(*u)));
    assert!(!planned.contains(&"10064") && !planned.contains(&"10227"));
    let left_out = report.lines().filter(|l| l.contains(",add,left-out,")).count();
    assert_eq!(left_out, leavers.len(), "a row per leaver in the members report");
    assert!(
        run.stderr.contains(&format!(
            "{} people left out: EmploymentStatus 'Voluntarily Terminated' {}; 0 not yet started; 0 filtered",
            leavers.len(),
            leavers.len()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_department_typed_four_ways_is_one_group_and_check_passes() {
    let w = Workdir::new();
    bamboohr(&w);
    let run = w.run(&["check", "--org", "acme", "bamboohr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "ORGANIZATION  GROUP ID          GROUP NAME        ROWS\n\
         acme          customer-support  Customer Support     2\n\
         acme          marketing         Marketing            2\n\
         acme          r-d               R&D                  6\n"
    );
    assert!(
        run.stderr.contains(
            "warning: bamboohr.csv, row 2, column 'Department': 'R&D' (3x: bamboohr.csv rows 2, 5, 9) is also written \
             'R & D' (1x: bamboohr.csv row 4), 'R and D' (1x: bamboohr.csv row 7) and 'r&d' (1x: bamboohr.csv row 10); \
             these are one group named 'R&D' (the most used spelling)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn strict_names_hold_the_spellings_back_by_flag_or_config() {
    let w = Workdir::new();
    bamboohr(&w);
    let (run, json) = w.check_json(&["--strict-names", "--org", "acme", "bamboohr.csv"]);
    assert_eq!(run.code, 1);
    let names: Vec<&str> = json["conflicts"][0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["group_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["R&D", "R & D", "R and D"]);
    w.write("vg.toml", "org = \"acme\"\nstrict-names = true\n");
    let run = w.run(&["check", "--config", "vg.toml", "bamboohr.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("conflict in organization 'acme'"), "{}", run.stderr);
    w.write("loose.toml", "org = \"acme\"\nstrict-names = false\n");
    assert_eq!(w.run(&["check", "--config", "loose.toml", "bamboohr.csv"]).code, 0);
}

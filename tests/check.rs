use crate::workdir::Workdir;

const STAFF: &str = "Name,Department,Organization ID\n\
Ada,Engineering,acme\n\
Bob,R&D,acme\n\
Cy,Sales,acme\n\
Di,R-D,acme\n\
Ed,,acme\n\
Flo,sales,acme\n\
Gus,Sales,globex\n";

#[test]
fn json_is_the_documented_contract() {
    let w = Workdir::new();
    w.write(
        "hr.csv",
        "Department,Organization ID\nEngineering,acme\nEngineering,acme\n",
    );
    let (run, json) = w.check_json(&["hr.csv"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        json,
        serde_json::json!({
            "organizations": [{"organization_id": "acme", "groups": [
                {"group_id": "engineering", "group_name": "Engineering", "sources": [
                    {"file": "hr.csv", "sheet": null, "row": 2},
                    {"file": "hr.csv", "sheet": null, "row": 3}]}]}],
            "conflicts": [],
            "problems": []
        })
    );
}

#[test]
fn conflicts_and_warnings_in_json_with_their_rows_and_exit_1() {
    let w = Workdir::new();
    w.write("hr.csv", STAFF);
    let (run, json) = w.check_json(&["--strict-names", "hr.csv"]);
    assert_eq!(run.code, 1, "a conflict holds groups back");
    assert_eq!(
        json["conflicts"],
        serde_json::json!([{"organization_id": "acme", "group_id": "r-d", "names": [
            {"group_name": "R&D", "sources": [{"file": "hr.csv", "sheet": null, "row": 3}]},
            {"group_name": "R-D", "sources": [{"file": "hr.csv", "sheet": null, "row": 5}]}]}])
    );
    let problems: Vec<(String, u64, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["severity"].as_str().unwrap().to_owned(),
                p["row"].as_u64().unwrap(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            ("warning".into(), 6, "no department on this row; this employee is in no group".into()),
            ("error".into(), 3, "conflict in organization 'acme': 'R&D' (hr.csv row 3) and 'R-D' (hr.csv row 5) all make group ID 'r-d' but are different names ('R&D' has '&' where 'R-D' has '-'); none of them is sent; if they are one department, write its name one way in the source; if not, rename one of them or map a department code column with --id-column".into()),
            ("warning".into(), 4, "'Sales' (1x: hr.csv row 4) is also written 'sales' (1x: hr.csv row 7); these are one group named 'Sales' (a tie in rows, settled by a fixed rule: accents, then mixed case, then alphabetical order)".into()),
        ]
    );
}

#[test]
fn table_shows_groups_and_problems_go_to_stderr() {
    let w = Workdir::new();
    w.write("hr.csv", STAFF);
    let run = w.run(&["check", "--strict-names", "hr.csv"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "ORGANIZATION  GROUP ID     GROUP NAME   ROWS\n\
         acme          engineering  Engineering     1\n\
         acme          sales        Sales           2\n\
         globex        sales        Sales           1\n"
    );
    assert_eq!(
        run.err_lines(),
        vec![
            "warning: hr.csv, row 6, column 'Department': no department on this row; this employee is in no group",
            "error: hr.csv, row 3, column 'Department': conflict in organization 'acme': 'R&D' (hr.csv row 3) and 'R-D' (hr.csv row 5) all make group ID 'r-d' but are different names ('R&D' has '&' where 'R-D' has '-'); none of them is sent; if they are one department, write its name one way in the source; if not, rename one of them or map a department code column with --id-column",
            "warning: hr.csv, row 4, column 'Department': 'Sales' (1x: hr.csv row 4) is also written 'sales' (1x: hr.csv row 7); these are one group named 'Sales' (a tie in rows, settled by a fixed rule: accents, then mixed case, then alphabetical order)",
            "3 groups in 2 organizations: acme (2 groups), globex (1 group); 1 conflict, 0 invalid rows, 2 warnings",
        ]
    );
}

#[test]
fn csv_has_the_report_columns_with_conflicts_as_invalid_rows() {
    let w = Workdir::new();
    w.write("hr.csv", STAFF);
    let run = w.run(&["check", "--strict-names", "--format", "csv", "hr.csv"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "organization_id,group_id,group_name,status,attempts,error,sources\n\
         acme,engineering,Engineering,planned,0,,hr.csv row 2\n\
         acme,r-d,R&D,invalid,0,conflict: group ID 'r-d' is claimed by 'R&D' and 'R-D',hr.csv row 3\n\
         acme,r-d,R-D,invalid,0,conflict: group ID 'r-d' is claimed by 'R&D' and 'R-D',hr.csv row 5\n\
         acme,sales,Sales,planned,0,,\"hr.csv rows 4, 7\"\n\
         globex,sales,Sales,planned,0,,hr.csv row 8\n"
    );
    // Warnings still reach the operator, with their rows.
    assert!(
        run.stderr
            .contains("warning: hr.csv, row 6, column 'Department': no department"),
        "{}",
        run.stderr
    );
}

#[test]
fn many_rows_with_one_problem_make_one_line() {
    let w = Workdir::new();
    let mut text = String::from("Name,Department\n");
    for i in 0..500 {
        text.push_str(&format!("P{i},{}\n", if i % 2 == 0 { "" } else { "Ops" }));
    }
    w.write("staff.csv", text);
    let run = w.run(&["check", "--org", "a", "staff.csv"]);
    assert_eq!(run.code, 0, "warnings alone do not fail a check");
    let lines = run.err_lines();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("warning: staff.csv, rows 2, 4, 6, "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("(250 rows), column 'Department': no department on this row"),
        "{}",
        lines[0]
    );
}

#[test]
fn formula_names_are_neutralized_in_csv_output() {
    let w = Workdir::new();
    w.write(
        "evil.csv",
        "Department\n\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n@SUM(A1)\n",
    );
    let run = w.run(&["check", "--org", "a", "--format", "csv", "evil.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(
        rows,
        vec![
            "a,hyperlink-http-x-y,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",planned,0,,evil.csv row 2",
            "a,sum-a1,'@SUM(A1),planned,0,,evil.csv row 3",
        ]
    );
    assert_eq!(run.stderr.matches("starts like a spreadsheet formula").count(), 2);
}

#[test]
fn help_and_version() {
    let w = Workdir::new();
    let help = w.run(&["check", "--help"]);
    assert_eq!(help.code, 0);
    for flag in [
        "--org",
        "--name-column",
        "--id-column",
        "--org-column",
        "--sheet",
        "--header-row",
        "--delimiter",
        "--encoding",
        "--format",
    ] {
        assert!(help.stdout.contains(flag), "{flag} missing from --help");
    }
    let usage = w.run(&["check"]);
    assert_eq!(usage.code, 2);
}

#[test]
fn a_name_spanning_lines_is_flagged_as_a_possible_unclosed_quote() {
    let w = Workdir::new();
    w.write("open.csv", "Name,Department\nAda,\"Sales\nBob,Ops\n");
    let run = w.run(&["check", "--org", "a", "open.csv"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("warning: open.csv, row 2, column 'Department': the department name spans several lines; if that is not meant, a quote is probably not closed"),
        "{}",
        run.stderr
    );
}

//! Header detection, delimiter sniffing and column flags on files with a title block, blank-ish
//! first lines, repeated headers and one-column lists (issue #12, items 1-3 and 24).

use rust_xlsxwriter::{Format, Workbook};

use crate::workdir::{g, groups, rows_of, Workdir, X};

/// `(severity, row, message)` of every problem in a check JSON.
fn problems(json: &serde_json::Value) -> Vec<(String, u64, String)> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["severity"].as_str().unwrap().to_owned(),
                p["row"].as_u64().unwrap_or(0),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_blank_ish_first_line_is_skipped_and_the_header_is_not_a_group() {
    let w = Workdir::new();
    w.write("comma.csv", ",\nDepartment,Email\nSales,a@x.com\n");
    let (run, json) = w.check_json(&["--org", "acme", "comma.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "sales", "Sales")]);
    assert_eq!(rows_of(&json), vec![("sales".into(), vec![3])]);
}

#[test]
fn excel_save_as_csv_of_an_export_with_a_title_block() {
    let w = Workdir::new();
    // What Excel writes for a sheet with a title, a date line and a blank row above the header.
    w.write(
        "export.csv",
        "Acme Corp employee directory;;;\r\nExported 2026-01-05;;;\r\n;;;\r\n\
         Employee ID;Work Email;Department;Company\r\n1;a@x.com;Sales;acme\r\n2;b@x.com;Legal;acme\r\n",
    );
    let (run, json) = w.check_json(&["export.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "legal", "Legal"), g("acme", "sales", "Sales")]
    );
    assert_eq!(
        rows_of(&json),
        vec![("legal".into(), vec![6]), ("sales".into(), vec![5])]
    );
}

#[test]
fn header_row_flag_names_the_line_a_person_sees() {
    let w = Workdir::new();
    w.write("t.csv", ",,\n\nDepartment,Dept Code\nSales,S1\n");
    let (run, json) = w.check_json(&["--org", "o", "--header-row", "3", "t.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("o", "s1", "Sales")]);
    assert_eq!(rows_of(&json), vec![("s1".into(), vec![4])]);
    let blank = w.run(&["check", "--org", "o", "--header-row", "2", "t.csv"]);
    assert_eq!(blank.code, 2);
    assert_eq!(
        blank.err_lines(),
        vec!["error: t.csv, row 2: --header-row points at a row that is blank or missing"]
    );
}

#[test]
fn a_row_repeating_the_header_is_never_a_group() {
    let w = Workdir::new();
    // Two exports pasted together: the second header is a row of the first.
    w.write(
        "twice.csv",
        "Department,Email\nSales,a@x.com\nDepartment,Email\nLegal,b@x.com\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "twice.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "legal", "Legal"), g("acme", "sales", "Sales")]
    );
    assert_eq!(
        problems(&json),
        vec![("warning".into(), 3, "this row repeats the header; it is skipped".into())]
    );
    // A header word alone in the department column is held back, whatever the other cells say.
    w.write("word.csv", "Dept,Email\nSales,a@x.com\nDepartment,b@x.com\n");
    let (run, json) = w.check_json(&["--org", "acme", "word.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "sales", "Sales")]);
    assert_eq!(
        problems(&json),
        vec![(
            "error".into(),
            3,
            "'Department' is a column header, not a department; is this a second header row?".into()
        )]
    );
}

#[test]
fn column_numbers_use_the_detected_header_row_below_a_title_block() {
    let w = Workdir::new();
    w.xlsx(
        "hr.xlsx",
        &[(
            "Staff",
            vec![
                vec![X::S("Acme Corp directory")],
                vec![],
                vec![X::S("Employee ID"), X::S("Work Email"), X::S("Site"), X::S("Abteilung")],
                vec![X::N(1.0), X::S("a@x.com"), X::S("Paris"), X::S("Vertrieb")],
                vec![X::N(2.0), X::S("b@x.com"), X::S("Lyon"), X::S("Recht")],
            ],
        )],
    );
    let (run, json) = w.check_json(&["--org", "acme", "--name-column", "4", "hr.xlsx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "recht", "Recht"), g("acme", "vertrieb", "Vertrieb")]
    );
    // The same export saved as CSV by Excel: the title row is padded with delimiters.
    w.write(
        "hr.csv",
        "Acme Corp directory,,,\n,,,\nEmployee ID,Work Email,Site,Abteilung\n1,a@x.com,Paris,Vertrieb\n",
    );
    let (run, json) = w.check_json(&["--org", "acme", "--name-column", "4", "hr.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "vertrieb", "Vertrieb")]);
}

#[test]
fn a_one_column_list_is_one_column_whatever_its_names_hold() {
    let w = Workdir::new();
    let mut text = String::from("Department\n");
    for i in 0..86 {
        text.push_str(&format!("Team {i}\n"));
    }
    text.push_str("Sales; EMEA\nOps | APAC\n\"Legal, EU\"\nTax, US\n");
    w.write("list.csv", &text);
    let (run, json) = w.check_json(&["--org", "o", "list.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<String> = groups(&json).into_iter().map(|(_, _, n)| n).collect();
    for want in ["Sales; EMEA", "Ops | APAC", "Legal, EU", "Tax, US"] {
        assert!(names.contains(&want.to_owned()), "{want} missing from {names:?}");
    }
    assert_eq!(names.len(), 90);
    // With a title block above the header too.
    w.write("titled.csv", "Acme departments\n\nDepartment\nSales; EMEA\nOps\n");
    let (run, json) = w.check_json(&["--org", "o", "titled.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("o", "ops", "Ops"), g("o", "sales-emea", "Sales; EMEA")]
    );
    assert_eq!(rows_of(&json)[1].1, vec![4]);
}

#[test]
fn the_header_line_decides_the_delimiter_under_a_title_block() {
    let w = Workdir::new();
    w.write(
        "semi.csv",
        "Acme, Inc. directory\n\nName;Department\nAda;Sales, EMEA\nBob;Ops\n",
    );
    let (run, json) = w.check_json(&["--org", "o", "semi.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("o", "ops", "Ops"), g("o", "sales-emea", "Sales, EMEA")]
    );
}

#[test]
fn a_wrong_column_flag_lists_the_detected_header_and_suggests_the_closest() {
    let w = Workdir::new();
    w.xlsx(
        "hr.xlsx",
        &[(
            "Staff",
            vec![
                vec![X::S("Acme Corp directory")],
                vec![X::S("Exported 2026-11-01")],
                vec![X::S("Employee ID"), X::S("Work Email"), X::S("Division")],
                vec![X::N(1.0), X::S("a@x.com"), X::S("Sales")],
            ],
        )],
    );
    let run = w.run(&["check", "--org", "acme", "--name-column", "Divison", "hr.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.err_lines(),
        vec!["error: hr.xlsx, sheet 'Staff', row 3: no column 'Divison' (from --name-column) among the headers in row 3 ('Employee ID', 'Work Email', 'Division'); did you mean 'Division'? If the header is not row 3, give its row with --header-row"]
    );
    let run = w.run(&["check", "--org", "acme", "--name-column", "7", "hr.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.err_lines(),
        vec!["error: hr.xlsx, sheet 'Staff', row 3: no column 7 (from --name-column): the header in row 3 has 3 columns ('Employee ID', 'Work Email', 'Division'); if the header is not row 3, give its row with --header-row"]
    );
}

#[test]
fn a_merged_department_cell_is_named_as_such() {
    let w = Workdir::new();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Staff").unwrap();
    sheet.write_string(0, 0, "Name").unwrap();
    sheet.write_string(0, 1, "Department").unwrap();
    for (r, name) in ["Ada", "Bob", "Cy", "Di"].iter().enumerate() {
        sheet.write_string(r as u32 + 9, 0, *name).unwrap();
    }
    sheet.write_string(9, 1, "Legal").unwrap();
    // B11:B13 merged: Excel keeps the value in B11 only.
    sheet.merge_range(10, 1, 12, 1, "Sales", &Format::new()).unwrap();
    book.save(w.path("merged.xlsx")).unwrap();
    let (run, json) = w.check_json(&["--org", "acme", "merged.xlsx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "legal", "Legal"), g("acme", "sales", "Sales")]
    );
    assert_eq!(rows_of(&json)[1].1, vec![11]);
    let merged = |row: u64| {
        (
            "warning".to_owned(),
            row,
            format!("row {row} is part of the merged cell B11:B13; only its first row holds the value, so this employee is in no group (unmerge the cells and fill in every row)"),
        )
    };
    assert_eq!(problems(&json), vec![merged(12), merged(13)]);
}

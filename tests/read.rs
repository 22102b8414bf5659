use crate::workdir::{g, groups, rows_of, Workdir, X};

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for unit in text.encode_utf16() {
        out.extend(if le { unit.to_le_bytes() } else { unit.to_be_bytes() });
    }
    out
}

#[test]
fn utf8_bom_is_skipped_so_the_header_is_found() {
    let w = Workdir::new();
    w.write("bom.csv", "\u{FEFF}Department\r\nSales\r\n");
    let (run, json) = w.check_json(&["--org", "acme", "bom.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("acme", "sales", "Sales")]);
}

#[test]
fn excel_unicode_text_utf16le_tab_separated() {
    let w = Workdir::new();
    w.write(
        "export.txt",
        utf16(
            "Name\tDepartment\r\nAda\tRecherche & Développement\r\nBob\t東京 営業\r\n",
            true,
        ),
    );
    let (run, json) = w.check_json(&["--org", "acme", "export.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![
            g("acme", "dong-jing-ying-ye", "東京 営業"),
            g("acme", "recherche-developpement", "Recherche & Développement")
        ]
    );
    assert_eq!(
        rows_of(&json),
        vec![
            ("dong-jing-ying-ye".into(), vec![3]),
            ("recherche-developpement".into(), vec![2])
        ]
    );
}

#[test]
fn utf16be_with_bom() {
    let w = Workdir::new();
    w.write("be.csv", utf16("Department;Org ID\nVentes;fr\n", false));
    let (run, json) = w.check_json(&["be.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("fr", "ventes", "Ventes")]);
}

#[test]
fn windows_1252_is_detected_when_the_text_is_not_utf8() {
    let w = Workdir::new();
    // "Département", "Zürich" and a euro sign in Windows-1252 bytes, deep into the file so a
    // sample of the first kilobytes would not have seen them.
    let mut bytes = b"Name,Department\n".to_vec();
    for i in 0..3000 {
        bytes.extend(format!("Person {i},Sales\n").as_bytes());
    }
    bytes.extend(b"Zoe,Recherche & D\xE9veloppement Z\xFCrich \x80\n");
    w.write("legacy.csv", bytes);
    let (run, json) = w.check_json(&["--org", "acme", "legacy.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![
            g(
                "acme",
                "recherche-developpement-zurich-eur",
                "Recherche & Développement Zürich €"
            ),
            g("acme", "sales", "Sales")
        ]
    );
    assert_eq!(rows_of(&json)[0].1, vec![3002]);
}

#[test]
fn encoding_flag_overrides_detection() {
    let w = Workdir::new();
    // ISO-8859-7 Greek: "Πωλήσεις" is not UTF-8, and as Windows-1252 it would be mojibake.
    let (greek, _, _) = encoding_rs::ISO_8859_7.encode("Department\nΠωλήσεις\n");
    w.write("greek.csv", &*greek);
    let (run, json) = w.check_json(&["--org", "gr", "--encoding", "iso-8859-7", "greek.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("gr", "poleseis", "Πωλήσεις")]);
    let bad = w.run(&["check", "--org", "gr", "--encoding", "klingon", "greek.csv"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.err_lines(),
        vec!["error: unknown encoding 'klingon'; try utf-8, utf-16le, utf-16be or windows-1252"]
    );
}

#[test]
fn delimiters_are_sniffed_and_can_be_forced() {
    let w = Workdir::new();
    for (name, text) in [
        ("comma.csv", "Name,Department\nAda,Ops\n"),
        ("semi.csv", "Name;Department\nAda;Ops, EMEA\nBob;Ops, EMEA\n"),
        ("tab.tsv", "Name\tDepartment\nAda\tOps\n"),
        ("pipe.txt", "Name|Department|Site\nAda|Ops|Paris\n"),
    ] {
        w.write(name, text);
        let (run, json) = w.check_json(&["--org", "o", name]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(groups(&json).len(), 1, "{name}");
        assert!(groups(&json)[0].1.starts_with("ops"), "{name}: {:?}", groups(&json));
    }
    // Forced: a colon-separated file no sniffer would guess.
    w.write("colon.csv", "Name:Department\nAda:Ops\n");
    let (run, json) = w.check_json(&["--org", "o", "--delimiter", ":", "colon.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("o", "ops", "Ops")]);
}

#[test]
fn quoted_fields_crlf_blank_lines_and_trailing_empty_columns() {
    let w = Workdir::new();
    w.write(
        "quoted.csv",
        "Department,Note,,\r\n\"Sales, EMEA\",\"He said \"\"hi\"\"\",,\r\n\r\n\"Customer\r\nSuccess\",\"two\nlines\",,\r\nLegal,,,\r\n,,,\r\n",
    );
    let (run, json) = w.check_json(&["--org", "o", "quoted.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![
            g("o", "customer-success", "Customer Success"),
            g("o", "legal", "Legal"),
            g("o", "sales-emea", "Sales, EMEA")
        ]
    );
    // Rows are the lines an editor shows: the multi-line record starts on line 4.
    assert_eq!(
        rows_of(&json),
        vec![
            ("customer-success".into(), vec![4]),
            ("legal".into(), vec![7]),
            ("sales-emea".into(), vec![2])
        ]
    );
}

#[test]
fn content_decides_the_format_not_the_extension() {
    let w = Workdir::new();
    let xlsx = w.xlsx(
        "real.xlsx",
        &[("Sheet1", vec![vec![X::S("Department")], vec![X::S("Sales")]])],
    );
    std::fs::rename(&xlsx, w.path("looks-like.csv")).unwrap();
    w.write("looks-like.xlsx", "Department\nLegal\n");
    let (run, json) = w.check_json(&["--org", "o", "looks-like.csv", "looks-like.xlsx"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(groups(&json), vec![g("o", "legal", "Legal"), g("o", "sales", "Sales")]);
    let sheet = &json["organizations"][0]["groups"][1]["sources"][0];
    assert_eq!(sheet["sheet"], "Sheet1");
}

/// An HR export as people make them: cover sheet, title block, numbers, dates, codes as text.
fn staff_workbook(w: &Workdir) -> std::path::PathBuf {
    w.xlsx(
        "hr.xlsx",
        &[
            (
                "Instructions",
                vec![vec![X::S("Fill in the Staff sheet")], vec![X::S("Ask HR for help")]],
            ),
            (
                "Staff",
                vec![
                    vec![X::S("Acme Corp directory")],
                    vec![X::S("Exported 2026-11-01")],
                    vec![],
                    vec![
                        X::S("Employee ID"),
                        X::S("Dept Code"),
                        X::S("Department"),
                        X::S("Hire Date"),
                        X::S("Company"),
                    ],
                    vec![
                        X::N(1001.0),
                        X::S("0042"),
                        X::S("Engineering"),
                        X::Date(2020, 1, 31),
                        X::S("acme"),
                    ],
                    vec![
                        X::N(1002.0),
                        X::N(7.0),
                        X::S("Sales"),
                        X::Date(2021, 6, 1),
                        X::S("acme"),
                    ],
                    vec![
                        X::N(1003.0),
                        X::S("0042"),
                        X::F("=\"Engi\"&\"neering\"", "Engineering"),
                        X::Empty,
                        X::S("acme"),
                    ],
                    vec![
                        X::N(1004.0),
                        X::S("0099"),
                        X::F("=#REF!", "#REF!"),
                        X::Empty,
                        X::S("acme"),
                    ],
                ],
            ),
        ],
    )
}

#[test]
fn spreadsheet_cover_sheet_title_block_and_cells() {
    let w = Workdir::new();
    staff_workbook(&w);
    let (run, json) = w.check_json(&["hr.xlsx"]);
    // The #REF! cell holds its row back: exit 1, the rest goes on.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "0042", "Engineering"), g("acme", "7", "Sales")]
    );
    assert_eq!(rows_of(&json), vec![("0042".into(), vec![5, 7]), ("7".into(), vec![6])]);
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0],
        serde_json::json!({"severity": "error", "file": "hr.xlsx", "sheet": "Staff", "row": 8, "column": "Department",
            "message": "the cell holds the spreadsheet error #REF!; fix the formula or value in the source file"})
    );
}

#[test]
fn sheet_and_header_row_flags() {
    let w = Workdir::new();
    w.xlsx(
        "two.xlsx",
        &[
            ("North", vec![vec![X::S("Department")], vec![X::S("Sales")]]),
            (
                "South",
                vec![vec![X::S("Report")], vec![X::S("Department")], vec![X::S("Legal")]],
            ),
        ],
    );
    let (_, by_name) = w.check_json(&["--org", "o", "--sheet", "South", "two.xlsx"]);
    assert_eq!(groups(&by_name), vec![g("o", "legal", "Legal")]);
    let (_, by_number) = w.check_json(&["--org", "o", "--sheet", "2", "--header-row", "2", "two.xlsx"]);
    assert_eq!(groups(&by_number), vec![g("o", "legal", "Legal")]);
    let (_, first) = w.check_json(&["--org", "o", "two.xlsx"]);
    assert_eq!(groups(&first), vec![g("o", "sales", "Sales")]);
    let missing = w.run(&["check", "--org", "o", "--sheet", "East", "two.xlsx"]);
    assert_eq!(missing.code, 2);
    assert_eq!(
        missing.err_lines(),
        vec!["error: two.xlsx: no sheet 'East'; the sheets are: 'North', 'South'"]
    );
}

#[test]
fn xls_and_ods_written_by_libreoffice_read_like_the_xlsx() {
    let w = Workdir::new();
    let mut seen = Vec::new();
    for name in ["employees.xlsx", "employees.xls", "employees.ods"] {
        w.fixture(name);
        let (run, json) = w.check_json(&["--org", "acme", name]);
        assert_eq!(run.code, 1, "{name}: the #N/A row is held back: {}", run.stderr);
        let errors: Vec<_> = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{name}");
        assert_eq!(
            (errors[0]["row"].as_u64(), errors[0]["sheet"].as_str()),
            (Some(19), Some("Staff")),
            "{name}"
        );
        seen.push((groups(&json), rows_of(&json)));
    }
    assert_eq!(seen[0], seen[1], "XLS differs from XLSX");
    assert_eq!(seen[0], seen[2], "ODS differs from XLSX");
    assert!(seen[0].0.contains(&g("acme", "aero-logistik", "Ærø Logistik")));
    assert!(seen[0].0.contains(&g("acme", "sales", "Sales")));
    assert_eq!(seen[0].0.len(), 9);
}

#[test]
fn several_inputs_in_one_run() {
    let w = Workdir::new();
    w.write("a.csv", "Department,Organization ID\nSales,acme\n");
    w.write("b.csv", "Department;Organization ID\nsales;acme\nLegal;globex\n");
    let (run, json) = w.check_json(&["a.csv", "b.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        groups(&json),
        vec![g("acme", "sales", "Sales"), g("globex", "legal", "Legal")]
    );
    let files: Vec<&str> = json["organizations"][0]["groups"][0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, vec!["a.csv", "b.csv"]);
}

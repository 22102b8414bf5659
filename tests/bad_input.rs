use crate::workdir::{Workdir, X};

/// Runs `check` on one prepared file and expects exit 2 with exactly `want` on stderr.
fn refused(w: &Workdir, args: &[&str], want: &str) {
    let mut all = vec!["check", "--org", "acme"];
    all.extend_from_slice(args);
    let run = w.run(&all);
    assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    assert_eq!(run.err_lines(), vec![want], "{args:?}");
    assert!(run.stdout.is_empty(), "{args:?} printed {}", run.stdout);
}

#[test]
fn empty_files() {
    let w = Workdir::new();
    w.write("empty.csv", "");
    refused(&w, &["empty.csv"], "error: empty.csv: the file is empty");
    w.write("blank.csv", "\r\n\n  \n");
    refused(&w, &["blank.csv"], "error: blank.csv: the file is empty");
}

#[test]
fn header_only() {
    let w = Workdir::new();
    w.write("header.csv", "Name,Department\r\n");
    refused(
        &w,
        &["header.csv"],
        "error: header.csv, row 1: there is a header but no data rows below it",
    );
    w.xlsx("header.xlsx", &[("Staff", vec![vec![X::S("Department")]])]);
    refused(
        &w,
        &["header.xlsx"],
        "error: header.xlsx, sheet 'Staff', row 1: there is a header but no data rows below it",
    );
}

#[test]
fn binary_garbage() {
    let w = Workdir::new();
    // Deterministic noise (an LCG), as a file of unknown origin would be.
    let mut x = 0x2545F4914F6CDD1Du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            (x >> 56) as u8
        })
        .collect();
    w.write("noise.csv", &noise);
    let run = w.run(&["check", "--org", "a", "noise.csv"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.err_lines().len(), 1);
    assert!(run.stderr.starts_with("error: noise.csv, row "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not a spreadsheet or CSV file (it holds binary data: byte 0x"),
        "{}",
        run.stderr
    );
}

#[test]
fn png_named_xlsx() {
    let w = Workdir::new();
    w.write(
        "photo.xlsx",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
    );
    refused(
        &w,
        &["photo.xlsx"],
        "error: photo.xlsx: not a spreadsheet or CSV file (it looks like a PNG image)",
    );
}

#[test]
fn truncated_xlsx() {
    let w = Workdir::new();
    let full = std::fs::read(w.fixture("employees.xlsx")).unwrap();
    w.write("cut.xlsx", &full[..full.len() / 2]);
    let run = w.run(&["check", "--org", "a", "cut.xlsx"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.err_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: cut.xlsx: cannot read this XLSX file; it may be truncated or damaged ("),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_utf8_that_is_not_windows_1252_either() {
    let w = Workdir::new();
    // 0xC3 0x28 is broken UTF-8; 0x81 is undefined in Windows-1252.
    w.write("mixed.csv", b"Department\nSales\nR\xC3\x28D\nOps\x81\n");
    refused(
        &w,
        &["mixed.csv"],
        "error: mixed.csv, row 4: the text is neither UTF-8 nor Windows-1252 (byte 0x81); save it as UTF-8 or name its encoding with --encoding",
    );
}

#[test]
fn ragged_row() {
    let w = Workdir::new();
    w.write(
        "ragged.csv",
        "Name,Department\nAda,Sales\nBob,Sales,Paris,extra\nCy,Ops\n",
    );
    refused(
        &w,
        &["ragged.csv"],
        "error: ragged.csv, row 3: this row has 4 cells but the header has 2; check for an unquoted delimiter or a missing quote",
    );
    w.write("short.csv", "Name,Department,Site\nAda,Sales,Paris\nBob\n");
    refused(
        &w,
        &["short.csv"],
        "error: short.csv, row 3: this row has 1 cells but the header has 3; check for an unquoted delimiter or a missing quote",
    );
}

#[test]
fn no_department_column() {
    let w = Workdir::new();
    w.write("people.csv", "Name,Email,Site\nAda,ada@x.io,Paris\n");
    refused(
        &w,
        &["people.csv"],
        "error: people.csv, row 1: no department column among the headers ('Name', 'Email', 'Site'); name it with --name-column",
    );
    refused(
        &w,
        &["--name-column", "Division", "people.csv"],
        "error: people.csv, row 1: no column 'Division' (from --name-column) among the headers in row 1 ('Name', 'Email', 'Site'); if the header is not row 1, give its row with --header-row",
    );
}

#[test]
fn ambiguous_columns_and_missing_organization() {
    let w = Workdir::new();
    w.write("two.csv", "Department,Dept\nSales,Sales\n");
    refused(
        &w,
        &["two.csv"],
        "error: two.csv, row 1: both 'Department' and 'Dept' could be the department column; choose one with --name-column",
    );
    let run = w.run(&["check", "two.csv", "--name-column", "Dept"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.err_lines(),
        vec!["error: two.csv, row 1: no organization column among the headers ('Department', 'Dept'); give one organization for every row with --org ID, or name the column with --org-column"]
    );
}

#[test]
fn five_megabyte_cell() {
    let w = Workdir::new();
    let mut text = String::from("Name,Department\nAda,\"");
    text.push_str(&"x".repeat(5 * 1024 * 1024));
    text.push_str("\"\n");
    w.write("huge.csv", text);
    refused(
        &w,
        &["huge.csv"],
        "error: huge.csv, row 2, column 'B': the cell holds 5242880 characters, more than the 32767 a spreadsheet cell can hold; the file is probably damaged (an unclosed quote?)",
    );
}

#[test]
fn missing_file_and_every_broken_file_in_one_run() {
    let w = Workdir::new();
    w.write("empty.csv", "");
    w.write("good.csv", "Department\nSales\n");
    let run = w.run(&["check", "--org", "a", "nope.csv", "good.csv", "empty.csv"]);
    assert_eq!(run.code, 2);
    let lines = run.err_lines();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("error: nope.csv: cannot read the file: "),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "error: empty.csv: the file is empty");
}

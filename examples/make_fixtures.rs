//! Writes the XLSX sample and test fixtures with a real writer (rust_xlsxwriter).
//!
//! `cargo run --example make_fixtures` rewrites `samples/employees.xlsx` and
//! `tests/data/employees.xlsx` and the malformed inputs in `tests/data/bad`;
//! `tests/data/make-office-fixtures.sh` then has LibreOffice turn `employees.xlsx` into the
//! committed `.xls` and `.ods` fixtures. Nothing here runs in CI.

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, XlsxError};

/// Employee #, first, last, email, department, cost center (text code), hire date.
type Employee = (
    u32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (u16, u8, u8),
);

const STAFF: &[Employee] = &[
    (1001, "Ada", "Lovelace", "Engineering", "0042", (2019, 3, 4)),
    (1002, "Grace", "Hopper", "Engineering", "0042", (2018, 11, 20)),
    (
        1003,
        "Linus",
        "Pauling",
        "Research & Développement",
        "0107",
        (2020, 1, 6),
    ),
    (
        1004,
        "Émilie",
        "du Châtelet",
        "Research & Développement",
        "0107",
        (2021, 6, 1),
    ),
    (1005, "Katherine", "Johnson", "Sales", "0200", (2017, 9, 12)),
    (1006, "Dorothy", "Vaughan", "sales ", "0200", (2022, 2, 14)),
    (1007, "Mary", "Jackson", "Sales", "0200", (2023, 8, 30)),
    (1008, "Jörg", "Müller", "Rechtsabteilung Süd", "0310", (2016, 4, 18)),
    (1009, "Søren", "Ærø", "Ærø Logistik", "0420", (2015, 7, 7)),
    (1010, "Yuki", "Tanaka", "東京 営業", "0501", (2024, 10, 1)),
    (1011, "Ivan", "Petrov", "Продажи", "0502", (2024, 5, 20)),
    (1012, "Nikos", "Papadopoulos", "Πωλήσεις", "0503", (2021, 12, 1)),
    (1013, "Alan", "Turing", "", "", (2025, 1, 2)),
    (1014, "Hedy", "Lamarr", "People\u{A0}Operations", "0600", (2019, 5, 5)),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    write_employees("samples/employees.xlsx", false)?;
    write_employees("tests/data/employees.xlsx", true)?;
    write_bad_inputs()?;
    println!("wrote samples/employees.xlsx, tests/data/employees.xlsx and tests/data/bad/*");
    Ok(())
}

/// The malformed inputs of `tests/data/bad`: each must give exit code 2 and one located line.
fn write_bad_inputs() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new("tests/data/bad");
    std::fs::create_dir_all(dir)?;
    let text: &[(&str, &[u8])] = &[
        ("empty.csv", b""),
        ("blank-lines.csv", b"\r\n\n   \n\t\n"),
        ("header-only.csv", b"Name,Department\r\n"),
        ("ragged.csv", b"Name,Department\nAda,Sales\nBob,Sales,Paris\n"),
        ("no-department.csv", b"Name,Email,Site\nAda,ada@example.com,Paris\n"),
        ("ambiguous.csv", b"Department,Dept\nSales,Sales\n"),
        ("not-utf8-or-1252.csv", b"Department\nSales\nR\xC3\x28D\nOps\x81\n"),
        (
            "utf16-broken.txt",
            b"\xFF\xFED\x00e\x00p\x00t\x00\n\x00\x00\xD8x\x00\n\x00",
        ),
        (
            "photo.xlsx",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
        ),
        ("document.pdf.csv", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n"),
    ];
    for (name, bytes) in text {
        std::fs::write(dir.join(name), bytes)?;
    }
    // Noise from a fixed LCG: what a file of unknown origin looks like.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 56) as u8
        })
        .collect();
    std::fs::write(dir.join("garbage.bin"), noise)?;
    let full = std::fs::read("tests/data/employees.xlsx")?;
    std::fs::write(dir.join("truncated.xlsx"), &full[..full.len() / 2])?;

    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("Staff")?
        .write_string(0, 0, "Department")?;
    book.save(dir.join("header-only.xlsx"))?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Staff")?;
    sheet.write_string(0, 0, "Name")?;
    sheet.write_string(0, 1, "Email")?;
    sheet.write_string(1, 0, "Ada")?;
    sheet.write_string(1, 1, "ada@example.com")?;
    book.save(dir.join("no-department.xlsx"))?;
    Ok(())
}

/// An HR export as people make them: a cover sheet, a title block above the header, numbers,
/// dates, text codes with leading zeros; with `with_errors`, a formula whose cached value is an
/// error (#N/A), which the reader must report on its row rather than crash.
fn write_employees(path: &str, with_errors: bool) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");

    let cover = book.add_worksheet().set_name("Read me")?;
    cover.write_string_with_format(0, 0, "Employee directory export", &bold)?;
    cover.write_string(2, 0, "The data is on the Staff sheet. Do not edit the header row.")?;
    cover.write_string(3, 0, "Questions: people-ops@example.com")?;

    let staff = book.add_worksheet().set_name("Staff")?;
    staff.write_string_with_format(0, 0, "Acme Corp — Employee directory", &bold)?;
    staff.write_string(1, 0, "Exported from BambooHR on 2026-11-01")?;
    let header = [
        "Employee #",
        "First Name",
        "Last Name",
        "Work Email",
        "Department",
        "Cost Center",
        "Hire Date",
    ];
    for (c, h) in header.iter().enumerate() {
        staff.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, (id, first, last, dept, cost, (y, m, d))) in STAFF.iter().enumerate() {
        let r = 4 + i as u32;
        staff.write_number(r, 0, *id as f64)?;
        staff.write_string(r, 1, *first)?;
        staff.write_string(r, 2, *last)?;
        let email = format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace(' ', "")
        );
        staff.write_string(r, 3, email)?;
        if !dept.is_empty() {
            staff.write_string(r, 4, *dept)?;
        }
        if !cost.is_empty() {
            staff.write_string_with_format(r, 5, *cost, &text)?;
        }
        staff.write_datetime_with_format(r, 6, ExcelDateTime::from_ymd(*y, *m, *d)?, &date)?;
    }
    if with_errors {
        let r = 4 + STAFF.len() as u32;
        staff.write_number(r, 0, 1099.0)?;
        staff.write_string(r, 1, "Broken")?;
        staff.write_string(r, 2, "Lookup")?;
        staff.write_formula(r, 4, Formula::new("=NA()").set_result("#N/A"))?;
    }
    staff.set_column_width(3, 32)?;
    staff.set_column_width(4, 28)?;
    book.save(path)
}

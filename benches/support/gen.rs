//! Deterministic benchmark inputs: employee exports of any size, generated, never committed.

// Shared by the benches and an example; each uses a part.
#![allow(dead_code)]

use std::io::{BufWriter, Write};
use std::path::Path;

const WORDS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "Support",
    "Research",
    "Développement",
    "Logistik",
    "Operations",
    "People",
    "Qualité",
    "Produkt",
    "Design",
    "Security",
    "Platform",
    "Data",
    "Field",
    "Partner",
    "Customer",
];
const REGIONS: &[&str] = &[
    "EMEA",
    "APAC",
    "North America",
    "LATAM",
    "Zürich",
    "São Paulo",
    "東京",
    "Nordics",
];
const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Émilie", "Jörg", "Søren", "Yuki", "Ivan", "Nikos", "Hedy",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Müller", "Ærø", "Tanaka", "Petrov", "Lamarr", "Johnson",
];

/// The department name for index `i`: distinct for every `i`.
pub fn department(i: usize) -> String {
    let a = WORDS[i % WORDS.len()];
    let b = REGIONS[(i / WORDS.len()) % REGIONS.len()];
    format!("{a} {b} {:04}", i / (WORDS.len() * REGIONS.len()))
}

/// Row `i`'s fields: employee ID, first, last, email, department, location, hire date.
pub fn employee(i: usize, departments: usize) -> [String; 7] {
    // A multiplicative hash spreads departments over rows the way a sorted-by-name export does not.
    let d = (i.wrapping_mul(2_654_435_761)) % departments;
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / 7) % LAST.len()];
    [
        format!("{}", 100_000 + i),
        first.to_owned(),
        last.to_owned(),
        format!("e{i}@example.com"),
        department(d),
        REGIONS[i % REGIONS.len()].to_owned(),
        format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28),
    ]
}

/// The header of [`employee`] rows.
pub const HEADER: [&str; 7] = [
    "Employee ID",
    "First Name",
    "Last Name",
    "Work Email",
    "Department",
    "Location",
    "Hire Date",
];

/// Writes an employee CSV of `rows` rows over `departments` departments; returns its size.
pub fn employees_csv(path: &Path, rows: usize, departments: usize) -> std::io::Result<u64> {
    let mut w = csv::Writer::from_writer(BufWriter::new(std::fs::File::create(path)?));
    w.write_record(HEADER)?;
    for i in 0..rows {
        w.write_record(employee(i, departments))?;
    }
    w.into_inner().map_err(|e| e.into_error())?.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Writes the same rows as an XLSX workbook (rust_xlsxwriter).
pub fn employees_xlsx(path: &Path, rows: usize, departments: usize) -> Result<u64, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Staff")?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for i in 0..rows {
        let r = i as u32 + 1;
        let fields = employee(i, departments);
        sheet.write_number(r, 0, (100_000 + i) as f64)?;
        for (c, f) in fields.iter().enumerate().skip(1) {
            sheet.write_string(r, c as u16, f)?;
        }
    }
    book.save(path)?;
    Ok(std::fs::metadata(path)?.len())
}

/// The organizations of [`directory_csv`]: a handful, as a holding company's export has.
pub const ORGANIZATIONS: &[&str] = &["acme", "acme-labs", "acme-retail", "acme-de", "acme-jp"];

/// Writes a directory export (issue #22's scale benchmark): one row per person `i` of `people`,
/// with organization, department (of `departments`, spread by a hash; each department in one
/// organization), employee ID, names, work e-mail and location.
/// The same `i` always gives the same row, so a churn night is a different set of `i`s.
pub fn directory_csv(path: &Path, people: impl Iterator<Item = usize>, departments: usize) -> std::io::Result<u64> {
    let mut w = csv::Writer::from_writer(BufWriter::new(std::fs::File::create(path)?));
    w.write_record([
        "Organization",
        "Employee ID",
        "First Name",
        "Last Name",
        "Work Email",
        "Department",
        "Location",
    ])?;
    for i in people {
        let d = (i.wrapping_mul(2_654_435_761)) % departments;
        w.write_record([
            ORGANIZATIONS[d % ORGANIZATIONS.len()],
            &format!("{}", 100_000 + i),
            FIRST[i % FIRST.len()],
            LAST[(i / 7) % LAST.len()],
            &format!("e{i}@example.com"),
            &department(d),
            REGIONS[i % REGIONS.len()],
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error())?.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

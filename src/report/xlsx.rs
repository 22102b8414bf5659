//! The XLSX report, for the person who opens it in Excel: bold frozen header, an autofilter,
//! failed and invalid rows highlighted, columns as wide as their content. Every text cell is
//! written as a string, so a department called `=SUM(A1)` stays text.

use std::io::Write;

use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};

use super::{Cell, Report, Writer, GROUP_COLUMNS, MEMBER_COLUMNS, PLAIN_GROUP_COLUMNS, USER_COLUMNS};
use crate::plan::Status;

/// Widest column, in characters.
const MAX_WIDTH: usize = 80;

/// Excel's limit on the characters of one cell; rust_xlsxwriter refuses longer text.
const MAX_CELL: usize = 32_767;

/// The XLSX format: a "Results" sheet, and a "Members" sheet with `--members`.
#[derive(Debug, Clone, Copy)]
pub struct Xlsx;

impl Writer for Xlsx {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(&to_bytes(report).map_err(std::io::Error::other)?)
    }
}

struct Formats {
    header: Format,
    failed: Format,
    invalid: Format,
    plain: Format,
}

impl Formats {
    fn of(&self, status: Status) -> &Format {
        match status {
            Status::Failed => &self.failed,
            Status::Invalid | Status::Skipped => &self.invalid,
            Status::Added
            | Status::Exists
            | Status::Unchanged
            | Status::Planned
            | Status::Stale
            | Status::Removed
            | Status::LeftOut => &self.plain,
        }
    }
}

fn to_bytes(report: &Report<'_>) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats {
        header: Format::new().set_bold().set_background_color(Color::RGB(0xD9E1F2)),
        failed: Format::new().set_background_color(Color::RGB(0xFFC7CE)),
        invalid: Format::new().set_background_color(Color::RGB(0xFFEB9C)),
        plain: Format::new(),
    };
    let mut book = Workbook::new();
    if report.input.grouped_by {
        let rows = report.groups.iter().map(|o| (o.status, report.group_row(o)));
        sheet(book.add_worksheet(), "Results", &GROUP_COLUMNS, rows, &formats)?;
    } else {
        let rows = report.groups.iter().map(|o| (o.status, report.plain_group_row(o)));
        sheet(book.add_worksheet(), "Results", &PLAIN_GROUP_COLUMNS, rows, &formats)?;
    }
    if let Some(users) = report.users {
        let rows = users.iter().map(|u| (u.status, report.user_row(u)));
        sheet(book.add_worksheet(), "Users", &USER_COLUMNS, rows, &formats)?;
    }
    if let Some(members) = report.members {
        let rows = members.iter().map(|m| (m.status, report.member_row(m)));
        sheet(book.add_worksheet(), "Members", &MEMBER_COLUMNS, rows, &formats)?;
    }
    book.save_to_buffer()
}

fn sheet<'a, const N: usize>(
    sheet: &mut Worksheet,
    name: &str,
    columns: &[&str; N],
    rows: impl Iterator<Item = (Status, [Cell<'a>; N])>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len() + 3).collect();
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &formats.header)?;
    }
    let mut last = 0u32;
    for (i, (status, cells)) in rows.enumerate() {
        let r = i as u32 + 1;
        last = r;
        let format = formats.of(status);
        for (c, cell) in cells.iter().enumerate() {
            let width = match cell {
                Cell::Text(text) => {
                    let text = fit_cell(text);
                    sheet.write_string_with_format(r, c as u16, text.as_ref(), format)?;
                    text.chars().count()
                }
                Cell::Number(n) => {
                    sheet.write_number_with_format(r, c as u16, *n as f64, format)?;
                    n.to_string().len()
                }
                Cell::Row { .. } => {
                    let mut text = String::new();
                    cell.write_row(&mut text);
                    let text = fit_cell(&text);
                    sheet.write_string_with_format(r, c as u16, text.as_ref(), format)?;
                    text.chars().count()
                }
            };
            widths[c] = widths[c].max(width);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).min(MAX_WIDTH) as f64 + 1.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last, (N - 1) as u16)?;
    Ok(())
}

/// `text`, or as much of it as a cell holds, ending with how long it was.
fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let total = text.chars().count();
    if total <= MAX_CELL {
        return std::borrow::Cow::Borrowed(text);
    }
    let note = format!("… (cut: {} characters)", thousands(total));
    let head: String = text.chars().take(MAX_CELL - note.chars().count()).collect();
    std::borrow::Cow::Owned(head + &note)
}

/// `123456` as `123,456`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cells_are_cut_to_what_excel_holds_and_say_so() {
        let long = "r".repeat(123_456);
        let cut = fit_cell(&long);
        assert_eq!(cut.chars().count(), MAX_CELL);
        assert!(
            cut.ends_with("… (cut: 123,456 characters)"),
            "{}",
            &cut[cut.len() - 40..]
        );
        assert_eq!(fit_cell("short"), "short");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }
}

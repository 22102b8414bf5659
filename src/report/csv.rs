//! The CSV report: UTF-8 with a BOM (so Excel keeps accents) when written to a file, formula
//! leaders neutralized in every cell. Groups and memberships are two files, as CSV holds one
//! table.

use std::io::Write;

use super::{neutralize, Cell, Report, Writer, GROUP_COLUMNS, MEMBER_COLUMNS, PLAIN_GROUP_COLUMNS, USER_COLUMNS};

/// The groups part.
#[derive(Debug, Clone, Copy)]
pub struct Groups {
    /// Start with a UTF-8 BOM (for files that people open in Excel; not for stdout).
    pub bom: bool,
}

/// The members part (always with a BOM: it is for Excel too).
#[derive(Debug, Clone, Copy)]
pub struct Members;

impl Writer for Groups {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        if report.input.grouped_by {
            let rows = report.groups.iter().map(|o| report.group_row(o));
            table(self.bom, &GROUP_COLUMNS, rows, out)
        } else {
            let rows = report.groups.iter().map(|o| report.plain_group_row(o));
            table(self.bom, &PLAIN_GROUP_COLUMNS, rows, out)
        }
    }
}

/// The organization users part.
#[derive(Debug, Clone, Copy)]
pub struct Users;

impl Writer for Users {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        let rows = report.users.into_iter().flatten().map(|u| report.user_row(u));
        table(true, &USER_COLUMNS, rows, out)
    }
}

impl Writer for Members {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        let rows = report.members.into_iter().flatten().map(|m| report.member_row(m));
        table(true, &MEMBER_COLUMNS, rows, out)
    }
}

fn table<'a, const N: usize>(
    bom: bool,
    columns: &[&str; N],
    rows: impl Iterator<Item = [Cell<'a>; N]>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(columns)?;
    // Field by field: a million rows of eight cells must not be eight million strings.
    let mut number = String::new();
    for row in rows {
        for cell in &row {
            match cell {
                Cell::Text(t) => w.write_field(neutralize(t).as_bytes())?,
                Cell::Number(n) => {
                    use std::fmt::Write as _;
                    number.clear();
                    let _ = write!(number, "{n}");
                    w.write_field(number.as_bytes())?;
                }
            }
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()
}

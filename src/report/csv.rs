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
        let users = report.users.unwrap_or_default();
        let rows = users.iter().enumerate().map(|(i, u)| {
            if let Some(ahead) = users.get(i + AHEAD) {
                for s in [&ahead.user_id, &ahead.name, &ahead.email] {
                    prefetch(s);
                }
            }
            report.user_row(u)
        });
        table(true, &USER_COLUMNS, rows, out)
    }
}

impl Writer for Members {
    fn write(&self, report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        let members = report.members.unwrap_or_default();
        let rows = members.iter().enumerate().map(|(i, m)| {
            if let Some(ahead) = members.get(i + AHEAD) {
                prefetch(&ahead.user_id);
            }
            report.member_row(m)
        });
        table(true, &MEMBER_COLUMNS, rows, out)
    }
}

/// How many rows ahead a row's strings are asked for.
const AHEAD: usize = 16;

/// Asks the processor to start loading `s`: the rows are written in sorted order, but their
/// strings were made in the export's row order, so each is a cache miss otherwise.
#[inline]
fn prefetch(s: &str) {
    // SAFETY: a prefetch is a hint that never faults, whatever the address; SSE is part of
    // every x86-64 processor.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(s.as_ptr().cast());
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
    let mut scratch = String::new();
    for row in rows {
        for cell in &row {
            match cell {
                Cell::Text(t) => w.write_field(neutralize(t).as_bytes())?,
                Cell::Number(n) => w.write_field(itoa::Buffer::new().format(*n))?,
                Cell::Row { .. } => {
                    scratch.clear();
                    cell.write_row(&mut scratch);
                    w.write_field(neutralize(&scratch).as_bytes())?;
                }
            }
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()
}

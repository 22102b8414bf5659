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
    // Written here, byte for byte as the `csv` crate writes (a test holds the two alike): the
    // crate's writer goes through a state machine per field, a third of a million-row report's
    // time. Field by field into one buffer: eight million cells must not be eight million strings.
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 4096);
    if bom {
        buf.extend_from_slice(b"\xEF\xBB\xBF");
    }
    record(&mut buf, columns.iter().map(|c| c.as_bytes()));
    let mut scratch = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            match cell {
                Cell::Text(t) => field(&mut buf, neutralize(t).as_bytes(), N),
                Cell::Number(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
                Cell::Row { .. } => {
                    scratch.clear();
                    cell.write_row(&mut scratch);
                    field(&mut buf, neutralize(&scratch).as_bytes(), N);
                }
            }
        }
        buf.push(b'\n');
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

/// The buffer is handed on once it holds this much.
const FLUSH_AT: usize = 64 * 1024;

/// One CSV record of `fields`.
fn record<'a>(buf: &mut Vec<u8>, fields: impl ExactSizeIterator<Item = &'a [u8]>) {
    let n = fields.len();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        field(buf, f, n);
    }
    buf.push(b'\n');
}

/// One CSV field of a record of `fields_in_record`, as the `csv` crate writes it: quoted when
/// it holds a comma, a quote or a line break (its quotes then doubled), and an empty field
/// alone in its record quoted so the line is not blank.
fn field(buf: &mut Vec<u8>, f: &[u8], fields_in_record: usize) {
    // A fold, not a search that stops early: report cells are short, and the compiler turns
    // this into a few vector compares where a search would first set up its own.
    let special = f
        .iter()
        .fold(false, |any, &b| any | matches!(b, b',' | b'"' | b'\n' | b'\r'));
    let alone_and_empty = f.is_empty() && fields_in_record == 1;
    if !special && !alone_and_empty {
        buf.extend_from_slice(f);
        return;
    }
    buf.push(b'"');
    for &b in f {
        buf.push(b);
        if b == b'"' {
            buf.push(b'"');
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the `csv` crate writes for `rows`.
    fn by_the_crate(rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = ::csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn by_hand(rows: &[Vec<String>]) -> Vec<u8> {
        let mut buf = Vec::new();
        for row in rows {
            record(&mut buf, row.iter().map(|f| f.as_bytes()));
        }
        buf
    }

    #[test]
    fn fields_are_written_as_the_csv_crate_writes_them() {
        let rows: Vec<Vec<String>> = [
            vec![""],
            vec!["", ""],
            vec!["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", "\"", "é 日本"],
            vec!["=1+2", " padded ", "tab\there", "#comment"],
        ]
        .iter()
        .map(|r| r.iter().map(|f| f.to_string()).collect())
        .collect();
        assert_eq!(
            String::from_utf8(by_hand(&rows)),
            String::from_utf8(by_the_crate(&rows))
        );
    }

    proptest! {
        #[test]
        fn any_fields_are_written_as_the_csv_crate_writes_them(
            rows in prop::collection::vec(prop::collection::vec("[a-z,\"\r\n é;\t]{0,12}", 1..5), 0..8)
        ) {
            prop_assert_eq!(by_hand(&rows), by_the_crate(&rows));
        }
    }
}

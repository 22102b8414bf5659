//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine, and the one place that turns a
//! spreadsheet cell into the text a person sees in it.

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, Range, Reader, SheetType, SheetVisible, Sheets};

use super::{Cell, Cells, Format, ReadError, ReadOptions, Row, MAX_CELL_CHARS};
use crate::location::Location;

/// One sheet, loaded.
pub struct SheetSource {
    /// 0-based index of the first stored row.
    first_row: u64,
    rows: Vec<Vec<Data>>,
}

impl SheetSource {
    pub(super) fn new(first_row: u64, rows: Vec<Vec<Data>>) -> Self {
        SheetSource { first_row, rows }
    }

    fn from_range(range: Range<Data>) -> Self {
        let first_row = range.start().map_or(0, |(r, _)| r as u64);
        SheetSource {
            first_row,
            rows: range.rows().map(<[Data]>::to_vec).collect(),
        }
    }

    pub(super) fn first_row(&self) -> u64 {
        self.first_row
    }

    /// The cells as the text people see (error values as their literal), `None` when empty.
    pub(super) fn text_rows(&self) -> Vec<Vec<Option<String>>> {
        self.rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match (c, cell_text(c)) {
                        (Data::Empty, _) => None,
                        (_, Cell::Text(t)) => Some(t.into_owned()),
                        (_, Cell::Error(e)) => Some(e),
                    })
                    .collect()
            })
            .collect()
    }
}

/// Runs calamine code, turning a panic inside it into an error message. calamine 0.38 can
/// panic on malformed files (a slice out of range in its CFB reader, found by fuzzing with a
/// truncated XLS); bad input must end in a located error, never a crash, and the panic's own
/// message is kept off stderr.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::cell::Cell as Flag;
    use std::sync::Once;
    thread_local!(static QUIET: Flag<bool> = const { Flag::new(false) });
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Flag::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the reader gave up".into());
        format!("the file's structure is broken: {detail}")
    })
}

/// Opens a workbook and returns the sheets worth looking at: the one `--sheet` names, or every
/// visible worksheet in workbook order (hidden sheets and chart sheets are skipped).
pub(crate) fn open(
    path: &Path,
    guess: Format,
    loc: &Location,
    opts: &ReadOptions,
) -> Result<Vec<(Location, SheetSource)>, ReadError> {
    let mut book =
        guarded(|| open_book(path, guess, loc)).map_err(|e| ReadError::Corrupt(loc.clone(), guess.name(), e))??;
    let metadata = book.sheets_metadata().to_vec();
    let chosen: Vec<String> = match &opts.sheet {
        Some(wanted) => {
            let by_name = metadata.iter().find(|s| s.name == *wanted).or_else(|| {
                metadata
                    .iter()
                    .find(|s| s.name.trim().eq_ignore_ascii_case(wanted.trim()))
            });
            let by_number = wanted
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| metadata.get(i));
            match by_name.or(by_number) {
                Some(sheet) => vec![sheet.name.clone()],
                None => {
                    let names: Vec<String> = metadata.iter().map(|s| format!("'{}'", s.name)).collect();
                    return Err(ReadError::NoSuchSheet(loc.clone(), wanted.clone(), names.join(", ")));
                }
            }
        }
        None => metadata
            .iter()
            .filter(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .collect(),
    };
    let format_name = format_of(&book).name();
    chosen
        .into_iter()
        .map(|name| {
            let sheet_loc = loc.clone().with_sheet(Some(&name));
            let range = guarded(|| book.worksheet_range(&name))
                .map_err(|e| ReadError::Corrupt(sheet_loc.clone(), format_name, e))?
                .map_err(|e| ReadError::Corrupt(sheet_loc.clone(), format_name, e.to_string()))?;
            Ok((sheet_loc, SheetSource::from_range(range)))
        })
        .collect()
}

fn format_of<R>(book: &Sheets<R>) -> Format {
    match book {
        Sheets::Xls(_) => Format::Xls,
        Sheets::Xlsx(_) => Format::Xlsx,
        Sheets::Xlsb(_) => Format::Xlsb,
        Sheets::Ods(_) => Format::Ods,
    }
}

/// Opens the workbook as `guess`, then as the other zip-based formats: a zip's extension may lie.
fn open_book(path: &Path, guess: Format, loc: &Location) -> Result<Sheets<BufReader<File>>, ReadError> {
    let reader = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| ReadError::Io(loc.clone(), e))
    };
    let order: &[Format] = match guess {
        Format::Xls => &[Format::Xls],
        Format::Ods => &[Format::Ods, Format::Xlsx, Format::Xlsb],
        Format::Xlsb => &[Format::Xlsb, Format::Xlsx, Format::Ods],
        Format::Xlsx | Format::Csv => &[Format::Xlsx, Format::Xlsb, Format::Ods],
    };
    let mut first_err = None;
    for &format in order {
        let opened = match format {
            Format::Xls => calamine::open_workbook_from_rs(reader()?)
                .map(Sheets::Xls)
                .map_err(|e| e.to_string()),
            Format::Xlsx => calamine::open_workbook_from_rs(reader()?)
                .map(Sheets::Xlsx)
                .map_err(|e| e.to_string()),
            Format::Xlsb => calamine::open_workbook_from_rs(reader()?)
                .map(Sheets::Xlsb)
                .map_err(|e| e.to_string()),
            Format::Ods => calamine::open_workbook_from_rs(reader()?)
                .map(Sheets::Ods)
                .map_err(|e| e.to_string()),
            Format::Csv => unreachable!("CSV is not a workbook"),
        };
        match opened {
            Ok(book) => return Ok(book),
            Err(e) => {
                first_err.get_or_insert((format, e));
            }
        }
    }
    let (format, err) = first_err.expect("at least one format was tried");
    Err(ReadError::Corrupt(loc.clone(), format.name(), err))
}

impl SheetSource {
    /// Absolute 1-based row numbers and the rows, as calamine stores them from the used range.
    fn rows(&self) -> impl Iterator<Item = (u64, &[Data])> {
        let first = self.first_row;
        self.rows
            .iter()
            .enumerate()
            .map(move |(i, row)| (first + i as u64 + 1, row.as_slice()))
    }

    pub(super) fn head(&self, limit: usize) -> Vec<(u64, Vec<String>)> {
        self.rows()
            .filter(|(_, row)| !is_blank(row))
            .take(limit)
            .map(|(n, row)| {
                let cells = row
                    .iter()
                    .map(|c| match cell_text(c) {
                        Cell::Text(t) => t.into_owned(),
                        Cell::Error(e) => e,
                    })
                    .collect();
                (n, cells)
            })
            .collect()
    }

    pub(super) fn for_each_row<E: From<ReadError>>(
        &self,
        loc: &Location,
        header_row: u64,
        _width: usize,
        mut f: impl FnMut(Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        // Cells right of the header are notes people keep beside the data; a spreadsheet has no
        // delimiter to shift columns, so unlike CSV they are not an error.
        for (number, cells) in self.rows() {
            if number <= header_row || is_blank(cells) {
                continue;
            }
            for (i, c) in cells.iter().enumerate() {
                if let Data::String(s) = c {
                    if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
                        let at = loc
                            .clone()
                            .with_row(number)
                            .with_column(crate::location::column_letter(i));
                        return Err(ReadError::CellTooLarge(at, s.chars().count()).into());
                    }
                }
            }
            f(Row {
                number,
                cells: Cells::Sheet(cells),
            })?;
        }
        Ok(())
    }
}

fn is_blank(row: &[Data]) -> bool {
    row.iter().all(|c| match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        Data::Int(_)
        | Data::Float(_)
        | Data::Bool(_)
        | Data::DateTime(_)
        | Data::DateTimeIso(_)
        | Data::DurationIso(_)
        | Data::Error(_) => false,
    })
}

/// The text a person sees in a cell: `123` not `123.0`, text codes with their leading zeros,
/// dates in ISO form, a formula's cached value; an error value is reported, not rendered.
pub fn cell_text(cell: &Data) -> Cell<'_> {
    match cell {
        Data::Empty => Cell::Text(Cow::Borrowed("")),
        Data::String(s) => Cell::Text(Cow::Borrowed(s)),
        Data::Int(i) => Cell::Text(Cow::Owned(i.to_string())),
        Data::Float(f) => Cell::Text(Cow::Owned(float_text(*f))),
        Data::Bool(b) => Cell::Text(Cow::Borrowed(if *b { "TRUE" } else { "FALSE" })),
        Data::DateTime(dt) => Cell::Text(Cow::Owned(if dt.is_duration() {
            duration_text(dt.as_f64())
        } else {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            date_text((y, mo, d), (h, mi, s, ms))
        })),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(Cow::Borrowed(s)),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// A float as Excel's General format shows whole numbers (no `.0`), otherwise the shortest
/// text that reads back as the same number.
pub fn float_text(f: f64) -> String {
    // 2^53: beyond it not every integer is representable, so `as i64` could print a neighbour.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT {
        format!("{}", f as i64)
    } else if f.is_finite() && f.abs() >= 1e21 {
        // Where Excel switches to scientific notation too, and in its spelling: 1E+300.
        format!("{f:E}").replacen("E", "E+", 1).replace("E+-", "E-")
    } else {
        format!("{f}")
    }
}

/// `2024-03-01`, or `2024-03-01T09:30:00` when there is a time of day.
fn date_text((y, mo, d): (u16, u8, u8), (h, mi, s, ms): (u8, u8, u8, u16)) -> String {
    match (h, mi, s, ms) {
        (0, 0, 0, 0) => format!("{y:04}-{mo:02}-{d:02}"),
        (_, _, _, 0) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}"),
    }
}

/// A duration in days as `[h]:mm:ss`, the way Excel shows elapsed time.
fn duration_text(days: f64) -> String {
    let total = (days * 86_400.0).round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let t = total.abs();
    format!("{sign}{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn floats_as_people_see_them() {
        for (f, want) in [
            (123.0, "123"),
            (-4.0, "-4"),
            (0.5, "0.5"),
            (1234.25, "1234.25"),
            (1e16, "10000000000000000"),
            (1e300, "1E+300"),
            (2.5e22, "2.5E+22"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(float_text(f), want);
        }
    }

    #[test]
    fn cells() {
        let date = ExcelDateTime::new(45352.0, ExcelDateTimeType::DateTime, false);
        let stamp = ExcelDateTime::new(45352.5, ExcelDateTimeType::DateTime, false);
        let dur = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        for (cell, want) in [
            (Data::Empty, Cell::Text("".into())),
            (Data::String("007".into()), Cell::Text("007".into())),
            (Data::Int(42), Cell::Text("42".into())),
            (Data::Float(42.0), Cell::Text("42".into())),
            (Data::Bool(true), Cell::Text("TRUE".into())),
            (Data::DateTime(date), Cell::Text("2024-03-01".into())),
            (Data::DateTime(stamp), Cell::Text("2024-03-01T12:00:00".into())),
            (Data::DateTime(dur), Cell::Text("36:00:00".into())),
            (Data::DateTimeIso("2024-03-01".into()), Cell::Text("2024-03-01".into())),
            (Data::DurationIso("PT1H".into()), Cell::Text("PT1H".into())),
            (Data::Error(CellErrorType::Ref), Cell::Error("#REF!".into())),
            (Data::Error(CellErrorType::NA), Cell::Error("#N/A".into())),
        ] {
            assert_eq!(cell_text(&cell), want, "{cell:?}");
        }
    }
}

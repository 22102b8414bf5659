//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine, and the one place that turns a
//! spreadsheet cell into the text a person sees in it.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use calamine::{Data, Dimensions, Reader, SheetType, SheetVisible, Sheets};
use serde::{Deserialize, Serialize};

use super::{Cell, Cells, Format, ReadError, ReadOptions, Row, MAX_CELL_CHARS};
use crate::location::{column_letter, Location};

/// One row of a sheet: its 1-based number and its non-empty cells, by 0-based column.
pub(super) type SheetRow = (u64, Vec<(u32, Data)>);

/// A merged region, 0-based and inclusive: first (row, column), last (row, column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    first: (u32, u32),
    last: (u32, u32),
}

impl From<Dimensions> for Merge {
    fn from(d: Dimensions) -> Self {
        Merge {
            first: d.start,
            last: d.end,
        }
    }
}

/// One sheet, loaded as the cells it holds: a sheet's declared size, or one far cell, costs
/// nothing (a whole 1,048,576 x 16,384 grid would not fit in memory).
pub struct SheetSource {
    /// Rows with at least one non-empty cell, in order.
    rows: Vec<SheetRow>,
    merged: Vec<Merge>,
}

impl SheetSource {
    pub(super) fn new(rows: Vec<SheetRow>, merged: Vec<Merge>) -> Self {
        SheetSource { rows, merged }
    }

    /// Groups `(row, column, value)` cells, in any order, into rows; empty cells are dropped.
    fn from_cells(mut cells: Vec<(u32, u32, Data)>, merged: Vec<Merge>) -> Self {
        cells.retain(|(_, _, d)| !matches!(d, Data::Empty));
        cells.sort_by_key(|&(r, c, _)| (r, c));
        let mut rows: Vec<SheetRow> = Vec::new();
        for (r, c, d) in cells {
            let number = u64::from(r) + 1;
            match rows.last_mut() {
                Some((n, row)) if *n == number => row.push((c, d)),
                _ => rows.push((number, vec![(c, d)])),
            }
        }
        SheetSource { rows, merged }
    }

    pub(super) fn merged(&self) -> &[Merge] {
        &self.merged
    }

    /// The cells as the text people see (error values as their literal).
    pub(super) fn text_rows(&self) -> Vec<(u64, Vec<(u32, String)>)> {
        self.rows
            .iter()
            .map(|(n, row)| {
                let cells = row
                    .iter()
                    .map(|(c, d)| {
                        let text = match cell_text(d) {
                            Cell::Text(t) => t.into_owned(),
                            Cell::Error(e) => e,
                        };
                        (*c, text)
                    })
                    .collect();
                (*n, cells)
            })
            .collect()
    }

    pub(super) fn merged_below_first_row(&self, row: u64, col: usize) -> Option<String> {
        let (r, c) = (u32::try_from(row.checked_sub(1)?).ok()?, u32::try_from(col).ok()?);
        self.merged
            .iter()
            .find(|m| m.first.0 < r && r <= m.last.0 && (m.first.1..=m.last.1).contains(&c))
            .map(|m| {
                format!(
                    "{}{}:{}{}",
                    column_letter(m.first.1 as usize),
                    m.first.0 + 1,
                    column_letter(m.last.1 as usize),
                    m.last.0 + 1
                )
            })
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
    file: &File,
    guess: Format,
    loc: &Location,
    opts: &ReadOptions,
) -> Result<Vec<(Location, SheetSource)>, ReadError> {
    let mut book =
        guarded(|| open_book(file, guess, loc)).map_err(|e| ReadError::Corrupt(loc.clone(), guess.name(), e))??;
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
            let sheet = guarded(|| load_sheet(&mut book, &name))
                .map_err(|e| ReadError::Corrupt(sheet_loc.clone(), format_name, e))?
                .map_err(|e| ReadError::Corrupt(sheet_loc.clone(), format_name, e))?;
            Ok((sheet_loc, sheet))
        })
        .collect()
}

/// Reads one sheet by the cells it holds. XLSX and XLSB are streamed cell by cell: calamine's
/// `worksheet_range` allocates the rectangle from the first to the last cell, so one cell at
/// XFD1048576 asks for 17 billion cells. XLS and ODS have no cell reader in calamine; XLS
/// sheets are capped at 65,536 x 256 by the format.
fn load_sheet(book: &mut Sheets<BufReader<File>>, name: &str) -> Result<SheetSource, String> {
    let mut cells = Vec::new();
    let merged = match book {
        Sheets::Xlsx(x) => {
            let mut reader = x.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
            while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                let value = Data::from(cell.get_value().clone());
                cells.push((r, c, as_displayed(value, reader.styles().get(style))));
            }
            drop(reader);
            x.merge_cells_by_sheet_name(name).map_err(|e| e.to_string())?
        }
        Sheets::Xlsb(x) => {
            let mut reader = x.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
            while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                cells.push((r, c, Data::from(cell.get_value().clone())));
            }
            Vec::new()
        }
        Sheets::Xls(x) => {
            range_cells(&x.worksheet_range(name).map_err(|e| e.to_string())?, &mut cells);
            x.merge_cells_by_sheet_name(name).map_err(|e| e.to_string())?
        }
        Sheets::Ods(x) => {
            range_cells(&x.worksheet_range(name).map_err(|e| e.to_string())?, &mut cells);
            Vec::new()
        }
    };
    Ok(SheetSource::from_cells(
        cells,
        merged.into_iter().map(Merge::from).collect(),
    ))
}

/// A number as its cell's number format shows it, when that format pads or decorates it (an
/// employee number `1` formatted `0000` is `0001` on screen and in a CSV export of the sheet).
fn as_displayed(value: Data, style: Option<&calamine::Style>) -> Data {
    let number = match value {
        Data::Float(f) => f,
        Data::Int(i) => i as f64,
        other => return other,
    };
    let code = style
        .and_then(|s| s.number_format.as_ref())
        .map(|f| f.format_code.as_str());
    match code.and_then(|code| super::numfmt::display(number, code)) {
        Some(text) => Data::String(text),
        None => value,
    }
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
fn open_book(file: &File, guess: Format, loc: &Location) -> Result<Sheets<BufReader<File>>, ReadError> {
    let reader = || {
        file.try_clone()
            .and_then(|mut f| f.seek(SeekFrom::Start(0)).map(|_| BufReader::new(f)))
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
    pub(super) fn head(&self, limit: usize) -> Vec<(u64, Vec<String>)> {
        let rows: Vec<&SheetRow> = self.rows.iter().filter(|(_, row)| !is_blank(row)).take(limit).collect();
        // As wide as the widest of these rows, as a spreadsheet shows them: a column with a blank
        // header can still be named by its number.
        let width = rows
            .iter()
            .filter_map(|(_, row)| row.last())
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        rows.into_iter()
            .map(|(n, row)| {
                let mut cells = vec![String::new(); width];
                for (c, d) in row {
                    cells[*c as usize] = match cell_text(d) {
                        Cell::Text(t) => t.into_owned(),
                        Cell::Error(e) => e,
                    };
                }
                (*n, cells)
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
        for (number, cells) in &self.rows {
            if *number <= header_row || is_blank(cells) {
                continue;
            }
            for (c, d) in cells {
                if let Data::String(s) = d {
                    if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
                        let at = loc.clone().with_row(*number).with_column(column_letter(*c as usize));
                        return Err(ReadError::CellTooLarge(at, s.chars().count()).into());
                    }
                }
            }
            f(Row {
                number: *number,
                cells: Cells::Sheet(cells),
            })?;
        }
        Ok(())
    }
}

fn is_blank(row: &[(u32, Data)]) -> bool {
    row.iter().all(|(_, c)| match c {
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

/// The cells a range holds, at their places in the sheet (a range starts where its first
/// cell is, not at A1).
fn range_cells(range: &calamine::Range<Data>, cells: &mut Vec<(u32, u32, Data)>) {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    cells.extend(
        range
            .used_cells()
            .map(|(r, c, d)| (r0 + r as u32, c0 + c as u32, d.clone())),
    );
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

//! Reading: turns an input file into tables of text cells, whatever its format.
//!
//! The format is decided by content first and extension second, so a `.csv` that is really an
//! XLSX archive is read as XLSX, and a PNG named `.xlsx` is refused. CSV is streamed (see
//! [`delimited`]); spreadsheets go through calamine (see [`sheet`]). Either way the rest of the
//! pipeline sees [`Table`]s: a first look at the top rows to find the header, then a stream of
//! [`Row`]s whose cells are fetched by column index only when needed.

pub mod delimited;
mod encoding;
pub mod isolate;
mod numfmt;
pub mod sheet;

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::location::Location;

/// Excel refuses cells longer than this; anything longer is not a real HR export.
pub const MAX_CELL_CHARS: usize = 32_767;

/// How many rows from the top of a table may hold the header (a title block may sit above it).
pub const HEADER_SCAN_ROWS: usize = 20;

/// Options that change how files are read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// CSV delimiter; sniffed when `None`.
    pub delimiter: Option<u8>,
    /// CSV encoding; from the BOM, else UTF-8, else Windows-1252 when `None`.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Spreadsheet sheet by name or 1-based number.
    pub sheet: Option<String>,
}

/// Something wrong with an input file as a whole; the file cannot be used.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{0}: cannot read the file: {1}")]
    Io(Location, #[source] std::io::Error),
    /// The file has no bytes, or nothing but blank lines.
    #[error("{0}: the file is empty")]
    Empty(Location),
    /// The content is neither a spreadsheet nor delimited text.
    #[error("{0}: not a spreadsheet or CSV file ({1})")]
    NotTabular(Location, String),
    /// A spreadsheet container that calamine or zip could not open.
    #[error("{0}: cannot read this {1} file; it may be truncated or damaged ({2})")]
    Corrupt(Location, &'static str, String),
    /// Bytes that fit no supported encoding.
    #[error("{0}: {1}")]
    Encoding(Location, String),
    /// A row with more (or fewer) cells than the header.
    #[error("{location}: this row has {found} cells but the header has {expected}; check for an unquoted delimiter or a missing quote")]
    Ragged {
        /// Where the row is.
        location: Location,
        /// Cells in the row, trailing empty ones dropped.
        found: usize,
        /// Cells in the header.
        expected: usize,
    },
    /// A cell far larger than any spreadsheet allows.
    #[error("{0}: the cell holds {1} characters, more than the {max} a spreadsheet cell can hold; the file is probably damaged (an unclosed quote?)", max = MAX_CELL_CHARS)]
    CellTooLarge(Location, usize),
    /// A CSV syntax error reported by the csv crate.
    #[error("{0}: {1}")]
    Csv(Location, String),
    /// `--sheet` names no sheet of the workbook.
    #[error("{0}: no sheet '{1}'; the sheets are: {2}")]
    NoSuchSheet(Location, String, String),
}

/// The file formats velt-groups reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv,
    /// Office Open XML workbook (also XLSM).
    Xlsx,
    /// Excel binary workbook.
    Xlsb,
    /// Excel 97-2003 workbook.
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
}

impl Format {
    /// The name people call the format by.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
            Format::Xlsb => "XLSB",
            Format::Xls => "XLS",
            Format::Ods => "ODS",
        }
    }
}

/// One cell's content as a person would see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text (numbers and dates already rendered as text).
    Text(Cow<'a, str>),
    /// A spreadsheet error value such as `#REF!`.
    Error(String),
}

impl Cell<'_> {
    /// The text, or `None` for an error cell.
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => Some(t),
            Cell::Error(_) => None,
        }
    }
}

/// One data row, borrowed from the reader for the time of a callback.
pub struct Row<'a> {
    /// 1-based row number as the operator sees it.
    pub number: u64,
    cells: Cells<'a>,
}

enum Cells<'a> {
    Csv(&'a csv::ByteRecord),
    /// The row's non-empty cells with their 0-based columns, in column order.
    Sheet(&'a [(u32, calamine::Data)]),
}

impl<'a> Row<'a> {
    /// The cell in 0-based column `col`; empty text past the row's end.
    pub fn cell(&self, col: usize) -> Cell<'a> {
        let cell = match self.cells {
            // The CSV readers hand over UTF-8 only (validated or transcoded up front).
            Cells::Csv(rec) => Cell::Text(rec.get(col).map(String::from_utf8_lossy).unwrap_or(Cow::Borrowed(""))),
            Cells::Sheet(cells) => match cells.binary_search_by_key(&col, |(c, _)| *c as usize) {
                Ok(i) => sheet::cell_text(&cells[i].1),
                Err(_) => Cell::Text(Cow::Borrowed("")),
            },
        };
        match cell {
            // Excel writes error values into CSV as text, and ODS stores them as strings: an
            // error literal is an error cell whatever the format.
            Cell::Text(t) if is_error_literal(&t) => Cell::Error(t.trim().to_owned()),
            other => other,
        }
    }
}

/// True for the text of a spreadsheet error value (`#N/A`, `#REF!`...). No department is
/// called that; a cell showing one lost its value to a broken formula.
pub fn is_error_literal(text: &str) -> bool {
    const LITERALS: [&str; 11] = [
        "#N/A",
        "#REF!",
        "#DIV/0!",
        "#VALUE!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#DATA!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
    ];
    let t = text.trim();
    t.starts_with('#') && LITERALS.iter().any(|l| t.eq_ignore_ascii_case(l))
}

/// One table of an input: a CSV file, or one sheet of a workbook.
pub struct Table {
    /// The file and sheet, for messages.
    pub location: Location,
    source: Source,
}

enum Source {
    Csv(delimited::CsvSource),
    Sheet(sheet::SheetSource),
}

impl Table {
    /// The first `limit` non-blank rows as text, with their row numbers.
    pub fn head(&self, limit: usize) -> Result<Vec<(u64, Vec<String>)>, ReadError> {
        match &self.source {
            Source::Csv(s) => s.head(&self.location, limit),
            Source::Sheet(s) => Ok(s.head(limit)),
        }
    }

    /// The merged region (as `B11:B13`) that covers row `row`, 0-based column `col`, when the
    /// cell is in it but not in its first row: such a cell is empty although it shows a value.
    pub fn merged_below_first_row(&self, row: u64, col: usize) -> Option<String> {
        match &self.source {
            Source::Csv(_) => None,
            Source::Sheet(s) => s.merged_below_first_row(row, col),
        }
    }

    /// Streams the rows after `header_row`, checking each against the header's `width`.
    /// Blank rows are skipped. The callback's error stops the stream.
    pub fn for_each_row<E: From<ReadError>>(
        &self,
        header_row: u64,
        width: usize,
        f: impl FnMut(Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        match &self.source {
            Source::Csv(s) => s.for_each_row(&self.location, header_row, width, f),
            Source::Sheet(s) => s.for_each_row(&self.location, header_row, width, f),
        }
    }
}

/// An opened input file: its format and the tables it offers, in order.
pub struct Input {
    /// The file's path as given.
    pub path: PathBuf,
    /// The detected format.
    pub format: Format,
    /// The tables: one for CSV, the chosen or all sheets for a workbook.
    pub tables: Vec<Table>,
}

/// The path that means standard input.
pub const STDIN_PATH: &str = "-";
/// How messages name standard input.
pub const STDIN_NAME: &str = "standard input";

/// The name messages give an input path.
pub fn display_name(path: &Path) -> String {
    if path == Path::new(STDIN_PATH) {
        STDIN_NAME.to_owned()
    } else {
        path.display().to_string()
    }
}

/// Opens `path` (`-`: standard input), detects its format and prepares its tables.
pub fn open(path: &Path, opts: &ReadOptions) -> Result<Input, ReadError> {
    open_as(path, &display_name(path), opts)
}

/// [`open`], naming the file `name` in every message (a copy read under its original name).
pub fn open_as(path: &Path, name: &str, opts: &ReadOptions) -> Result<Input, ReadError> {
    let loc = Location::file(name);
    let file = open_once(path).map_err(|e| ReadError::Io(loc.clone(), e))?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut &file, &mut head)
        .and_then(|n| (&file).seek(SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| ReadError::Io(loc.clone(), e))?;
    if n == 0 {
        return Err(ReadError::Empty(loc));
    }
    let format = detect(path, &head[..n]).map_err(|why| ReadError::NotTabular(loc.clone(), why))?;
    let tables = match format {
        Format::Csv => vec![Table {
            location: loc.clone(),
            source: Source::Csv(delimited::CsvSource::open(file, &loc, opts)?),
        }],
        _ => isolate::open(&file, format, &loc, opts)?
            .into_iter()
            .map(|(location, s)| Table {
                location,
                source: Source::Sheet(s),
            })
            .collect(),
    };
    Ok(Input {
        path: path.to_owned(),
        format,
        tables,
    })
}

/// Opens an input exactly once. The readers make several passes (the encoding check, the
/// header, the rows) and calamine seeks, so an input that cannot be read twice (a pipe, a
/// FIFO, standard input) is copied once into an unnamed temporary file; opening a FIFO a
/// second time would wait forever for a writer that has gone.
fn open_once(path: &Path) -> std::io::Result<File> {
    let file = if path == Path::new(STDIN_PATH) {
        stdin_file()?
    } else {
        File::open(path)?
    };
    if file.metadata()?.is_file() {
        return Ok(file);
    }
    spool(&mut &file)
}

/// Copies a stream into an unnamed temporary file, rewound.
fn spool(from: &mut impl Read) -> std::io::Result<File> {
    let mut file = tempfile::tempfile()?;
    std::io::copy(from, &mut file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

/// Standard input as a file (a duplicate of its descriptor), or spooled where that cannot be.
#[cfg(unix)]
pub(crate) fn stdin_file() -> std::io::Result<File> {
    use std::os::fd::AsFd;
    Ok(File::from(std::io::stdin().as_fd().try_clone_to_owned()?))
}

/// Standard input as a file (a duplicate of its descriptor), or spooled where that cannot be.
#[cfg(not(unix))]
pub(crate) fn stdin_file() -> std::io::Result<File> {
    spool(&mut std::io::stdin().lock())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Decides the format from the first bytes, then the extension; `Err` says what the file seems to be.
fn detect(path: &Path, head: &[u8]) -> Result<Format, String> {
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        // A zip: the workbook kind is decided by its entries (see sheet::open); the extension
        // only picks the first guess.
        return Ok(match ext.as_str() {
            "ods" => Format::Ods,
            "xlsb" => Format::Xlsb,
            _ => Format::Xlsx,
        });
    }
    if head.starts_with(CFB) {
        return Ok(Format::Xls);
    }
    let magic: &[(&[u8], &str)] = &[
        (b"\x89PNG", "it looks like a PNG image"),
        (b"\xFF\xD8\xFF", "it looks like a JPEG image"),
        (b"GIF8", "it looks like a GIF image"),
        (b"%PDF", "it looks like a PDF document"),
        (b"\x1F\x8B", "it looks like a gzip archive; unpack it first"),
        (b"Rar!", "it looks like a RAR archive; unpack it first"),
        (b"7z\xBC\xAF", "it looks like a 7-Zip archive; unpack it first"),
        (b"\x7FELF", "it looks like a program"),
        (b"MZ", "it looks like a program"),
        (b"SQLite format 3", "it looks like an SQLite database"),
    ];
    for (sig, what) in magic {
        if head.starts_with(sig) {
            return Err((*what).to_owned());
        }
    }
    Ok(Format::Csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(detect(Path::new("a.csv"), b"PK\x03\x04xxxx"), Ok(Format::Xlsx));
        assert_eq!(detect(Path::new("a.xlsx"), b"Name,Dept"), Ok(Format::Csv));
        assert_eq!(
            detect(Path::new("a.txt"), b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Ok(Format::Xls)
        );
        assert!(detect(Path::new("a.xlsx"), b"\x89PNG\r\n\x1a\n")
            .unwrap_err()
            .contains("PNG"));
    }
}

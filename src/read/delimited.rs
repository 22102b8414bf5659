//! Delimited text: delimiter sniffing and a streaming record reader, over the encoding that
//! `super::encoding` decides before parsing. Nothing here loads the whole file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::encoding::{sniff_encoding, utf16_without_bom, validate};
use super::{Cells, ReadError, Row, HEADER_SCAN_ROWS, MAX_CELL_CHARS};
use crate::location::{column_letter, Location};

/// The delimiters tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How much decoded text the delimiter sniffer looks at.
const SAMPLE_BYTES: usize = 64 * 1024;

/// A delimiter byte that UTF-8 text never holds: a file whose header has no delimiter is one
/// column, and its lines are read whole (quotes still work).
const NO_DELIMITER: u8 = 0xFF;

/// A CSV file whose encoding and delimiter are known.
pub struct CsvSource {
    /// Opened once; every pass seeks back (see `super::open_once`).
    file: File,
    encoding: &'static Encoding,
    bom_len: u64,
    delimiter: u8,
}

impl CsvSource {
    /// Decides encoding and delimiter for `file`.
    pub(super) fn open(file: File, loc: &Location, opts: &super::ReadOptions) -> Result<Self, ReadError> {
        let io_err = |e| ReadError::Io(loc.clone(), e);
        let mut head = [0u8; 1024];
        let n = rewound(&file)
            .and_then(|mut f| super::read_up_to(&mut f, &mut head))
            .map_err(io_err)?;
        let (bom_encoding, bom_len) = match Encoding::for_bom(&head[..n]) {
            Some((enc, len)) => (Some(enc), len as u64),
            None => (None, 0),
        };
        let encoding = match (opts.encoding, bom_encoding) {
            (Some(enc), _) | (None, Some(enc)) => {
                // Named or announced, but not yet proven: a broken sequence would otherwise
                // turn into U+FFFD in a department name without anyone noticing.
                validate(&file, loc, enc, bom_len)?;
                enc
            }
            (None, None) => match utf16_without_bom(&head[..n]) {
                Some(enc) => {
                    validate(&file, loc, enc, 0)?;
                    enc
                }
                None => sniff_encoding(&file, loc)?,
            },
        };
        let mut source = CsvSource {
            file,
            encoding,
            bom_len,
            delimiter: opts.delimiter.unwrap_or(b','),
        };
        let mut sample = Vec::new();
        source
            .decoded()
            .map_err(io_err)?
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(io_err)?;
        if sample.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ReadError::Empty(loc.clone()));
        }
        if opts.delimiter.is_none() {
            source.delimiter = sniff_delimiter(&sample, sample.len() == SAMPLE_BYTES);
        }
        Ok(source)
    }

    /// The file as UTF-8 bytes, BOM skipped.
    fn decoded(&self) -> io::Result<Box<dyn Read + '_>> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.bom_len))?;
        if self.encoding == UTF_8 {
            return Ok(Box::new(file));
        }
        Ok(Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(self.encoding))
                .bom_sniffing(false)
                .build(file),
        ))
    }

    fn reader(&self, loc: &Location) -> Result<(CsvReader<'_>, Lines), ReadError> {
        let input = self.decoded().map_err(|e| ReadError::Io(loc.clone(), e))?;
        let lines = Lines::default();
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(BreakCounter {
                inner: input,
                marks: Rc::clone(&lines.marks),
                offset: 0,
                after_cr: false,
            });
        Ok((rdr, lines))
    }

    pub(super) fn head(&self, loc: &Location, limit: usize) -> Result<Vec<(u64, Vec<String>)>, ReadError> {
        let (mut rdr, mut lines) = self.reader(loc)?;
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while out.len() < limit && read_record(&mut rdr, &mut rec, &mut lines, loc)? {
            // Every record moves the line count on, blank ones too (`,` or `;;;` above a header).
            let line = lines.first_line(&rdr);
            if is_blank(&rec) {
                continue;
            }
            check_sizes(&rec, loc, line)?;
            let cells = rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            out.push((line, cells));
        }
        Ok(out)
    }

    pub(super) fn for_each_row<E: From<ReadError>>(
        &self,
        loc: &Location,
        header_row: u64,
        width: usize,
        mut f: impl FnMut(Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let (mut rdr, mut lines) = self.reader(loc)?;
        let mut rec = csv::ByteRecord::new();
        while read_record(&mut rdr, &mut rec, &mut lines, loc)? {
            let line = lines.first_line(&rdr);
            if line <= header_row || is_blank(&rec) {
                continue;
            }
            check_sizes(&rec, loc, line)?;
            let found = trimmed_len(&rec);
            if found > width || rec.len() < width {
                return Err(ReadError::Ragged {
                    location: loc.clone().with_row(line),
                    found: if found > width { found } else { rec.len() },
                    expected: width,
                }
                .into());
            }
            f(Row {
                number: line,
                cells: Cells::Csv(&rec),
            })?;
        }
        Ok(())
    }
}

type CsvReader<'a> = csv::Reader<BreakCounter<Box<dyn Read + 'a>>>;

fn read_record(
    rdr: &mut CsvReader<'_>,
    rec: &mut csv::ByteRecord,
    lines: &mut Lines,
    loc: &Location,
) -> Result<bool, ReadError> {
    rdr.read_byte_record(rec).map_err(|e| {
        let row = lines.line_at(rdr.position().byte());
        match e.into_kind() {
            csv::ErrorKind::Io(io) => ReadError::Io(loc.clone(), io),
            other => ReadError::Csv(loc.clone().with_row(row), format!("{other:?}")),
        }
    })
}

/// Line numbers for records. The csv crate's own `Position::line` is off by one for every
/// record after the first in a CRLF file (it counts the LF of the previous record's terminator
/// only when the next record starts) and counts blank lines skipped before a record as part of
/// it, so lines are counted here from the bytes themselves: a record starts at the first byte
/// after the previous record that is not a line-break byte, and its line is one more than the
/// line breaks before that byte.
#[derive(Default)]
struct Lines {
    /// Every CR and LF read by the parser and not yet passed, with whether it ends a line (the
    /// LF of a CRLF does not: the pair counts once).
    marks: Rc<RefCell<VecDeque<(u64, bool)>>>,
    /// Line breaks passed so far.
    passed: u64,
    /// Where the previous record ended.
    end: u64,
}

impl Lines {
    /// Passes the marks before `offset`.
    fn pass(&mut self, offset: u64) {
        let mut marks = self.marks.borrow_mut();
        while let Some(&(_, breaks)) = marks.front().filter(|(at, _)| *at < offset) {
            marks.pop_front();
            self.passed += u64::from(breaks);
        }
    }

    /// 1-based line of the byte at `offset` (the parser reads forward only).
    fn line_at(&mut self, offset: u64) -> u64 {
        self.pass(offset);
        self.passed + 1
    }

    /// The first line of the record the reader just read.
    fn first_line(&mut self, rdr: &CsvReader<'_>) -> u64 {
        let mut start = self.end;
        self.pass(start);
        {
            // Skip the blank lines (and the LF of a CRLF) between the previous record and this one.
            let mut marks = self.marks.borrow_mut();
            while let Some(&(_, breaks)) = marks.front().filter(|(at, _)| *at == start) {
                marks.pop_front();
                self.passed += u64::from(breaks);
                start += 1;
            }
        }
        let line = self.passed + 1;
        self.end = rdr.position().byte();
        self.pass(self.end);
        line
    }
}

/// Passes bytes to the CSV parser, noting every CR and LF.
struct BreakCounter<R> {
    inner: R,
    marks: Rc<RefCell<VecDeque<(u64, bool)>>>,
    offset: u64,
    after_cr: bool,
}

impl<R: Read> Read for BreakCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let bytes = &buf[..n];
        let mut marks = self.marks.borrow_mut();
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let prev_cr = if i == 0 { self.after_cr } else { bytes[i - 1] == b'\r' };
            let breaks = bytes[i] == b'\r' || !prev_cr;
            marks.push_back((self.offset + i as u64, breaks));
        }
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The file, read from its start.
pub(super) fn rewound(file: &File) -> io::Result<&File> {
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    Ok(f)
}

/// Number of fields once trailing empty ones are dropped.
pub(super) fn trimmed_len(rec: &csv::ByteRecord) -> usize {
    rec.iter()
        .rposition(|f| !f.iter().all(u8::is_ascii_whitespace))
        .map_or(0, |i| i + 1)
}

fn is_blank(rec: &csv::ByteRecord) -> bool {
    trimmed_len(rec) == 0
}

fn check_sizes(rec: &csv::ByteRecord, loc: &Location, line: u64) -> Result<(), ReadError> {
    for (i, field) in rec.iter().enumerate() {
        // Bytes bound chars from above, so the exact count is only needed for big fields.
        if field.len() > MAX_CELL_CHARS {
            let chars = String::from_utf8_lossy(field).chars().count();
            if chars > MAX_CELL_CHARS {
                return Err(ReadError::CellTooLarge(
                    loc.clone().with_row(line).with_column(column_letter(i)),
                    chars,
                ));
            }
        }
    }
    Ok(())
}

/// How many records of the sample the delimiter sniffer weighs.
const SNIFF_RECORDS: usize = 200;

/// Picks the delimiter from the header line. For each candidate, the header is the first of the
/// first [`HEADER_SCAN_ROWS`] non-blank records that splits into two or more fields and that
/// the records after it fit (are not ragged, as `for_each_row` judges rows): at least half of
/// them for the first line, most of them for a line under a title block. The candidate whose
/// header comes first wins (then the one more records fit, then more fields, then the order of
/// [`CANDIDATES`]). When no candidate has a header the file is one column, so a name holding
/// `;` or `|` in a plain list is not a delimiter. `truncated` says the sample was cut, so its
/// last record is partial and ignored.
fn sniff_delimiter(sample: &[u8], truncated: bool) -> u8 {
    // (header index, records that fit it, fields, delimiter) of the best candidate so far.
    let mut best: Option<(usize, usize, usize, u8)> = None;
    for &delim in &CANDIDATES {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim)
            .from_reader(sample);
        // (fields without trailing empty ones, all fields) per non-blank record.
        let mut records: Vec<(usize, usize)> = rdr
            .byte_records()
            .map_while(Result::ok)
            .filter(|r| !is_blank(r))
            .take(SNIFF_RECORDS)
            .map(|r| (trimmed_len(&r), r.len()))
            .collect();
        if truncated && records.len() > 1 {
            records.pop();
        }
        let header = records
            .iter()
            .enumerate()
            .take(HEADER_SCAN_ROWS)
            .filter(|&(_, &(fields, _))| fields > 1)
            .map(|(i, &(fields, _))| {
                let after = &records[i + 1..];
                let fit = after
                    .iter()
                    .filter(|&&(trimmed, all)| trimmed <= fields && all >= fields)
                    .count();
                (i, fit, after.len(), fields)
            })
            // Below the first line, a split line that few records fit is as likely a name that
            // happens to hold the delimiter as a header under a title block.
            .find(|&(i, fit, after, _)| if i == 0 { fit * 2 >= after } else { fit * 2 > after });
        if let Some((at, fit, _, fields)) = header {
            let rank = |(at, fit, fields): (usize, usize, usize)| (at, std::cmp::Reverse((fit, fields)));
            if best.is_none_or(|(b_at, b_fit, b_fields, _)| rank((at, fit, fields)) < rank((b_at, b_fit, b_fields))) {
                best = Some((at, fit, fields, delim));
            }
        }
    }
    best.map_or(NO_DELIMITER, |(.., delim)| delim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters() {
        for (text, want) in [
            (&b"Name,Dept\nAda,Eng\nBob,Ops\n"[..], b','),
            (b"Name;Dept\nAda;Sales, EMEA\nBob;Ops\n", b';'),
            (b"Name\tDept\nAda\tEng\n", b'\t'),
            (b"Name|Dept|Site\nAda|Eng|X\n", b'|'),
            (b"Department\nSales\nEngineering\n", NO_DELIMITER),
            (b"Name,Dept\n\"Ada; Lovelace\",Eng\n", b','),
            // A plain list whose names hold candidate delimiters: the header has none.
            (b"Department\nSales\nOps\nLegal\nSales; EMEA\nHR\n", NO_DELIMITER),
            (b"Department\nSales\nOps\nSales; EMEA\n", NO_DELIMITER),
            (b"Department\nR|D\nOps\nHR\n", NO_DELIMITER),
            (b"Department\n\"Sales, EMEA\"\n", NO_DELIMITER),
            // A title block above the header, padded by Excel or not.
            (b"Acme directory;;\n;;\nID;Dept;Site\n1;Sales;X\n", b';'),
            (b"Acme, Inc. directory\n\nName;Dept\nAda;Sales, EMEA\nBob;Ops\n", b';'),
            (b",\nDepartment,Email\nSales,a@x.com\n", b','),
            // A ragged row is the reader's error to report, not a reason to change delimiter.
            (b"Name,Department\nAda,Sales\nBob,Sales,Paris,extra\nCy,Ops\n", b','),
            (b"Name;Department\n", b';'),
            (b"Name,Department,Site\nAda,Sales,Paris\nBob\n", b','),
            // Both split the header: the one the rows fit.
            (b"Name;Dept, Team\nAda;Sales\nBob;Ops\n", b';'),
        ] {
            assert_eq!(
                sniff_delimiter(text, false) as char,
                want as char,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

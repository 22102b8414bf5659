//! Delimited text: encoding detection, delimiter sniffing and a streaming record reader.
//!
//! Nothing here loads the whole file. The encoding is decided once, before parsing: a BOM wins
//! (UTF-8, UTF-16LE as in Excel's "Unicode Text" export, UTF-16BE); without one, a streaming pass
//! checks the whole file is UTF-8, and if it is not, that it is Windows-1252 (the other thing
//! Excel writes). A file that is neither is refused with the first offending byte's row, rather
//! than read with replacement characters that would silently change department names.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::{Cells, ReadError, Row, MAX_CELL_CHARS};
use crate::location::{column_letter, Location};

/// The delimiters tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How much decoded text the delimiter sniffer looks at.
const SAMPLE_BYTES: usize = 64 * 1024;

/// A CSV file whose encoding and delimiter are known.
pub struct CsvSource {
    path: PathBuf,
    encoding: &'static Encoding,
    bom_len: u64,
    delimiter: u8,
}

impl CsvSource {
    /// Decides encoding and delimiter for `path`.
    pub(super) fn open(path: &Path, loc: &Location, opts: &super::ReadOptions) -> Result<Self, ReadError> {
        let io_err = |e| ReadError::Io(loc.clone(), e);
        let mut file = File::open(path).map_err(io_err)?;
        let mut head = [0u8; 1024];
        let n = super::read_up_to(&mut file, &mut head).map_err(io_err)?;
        let (bom_encoding, bom_len) = match Encoding::for_bom(&head[..n]) {
            Some((enc, len)) => (Some(enc), len as u64),
            None => (None, 0),
        };
        let encoding = match (opts.encoding, bom_encoding) {
            (Some(enc), _) | (None, Some(enc)) => {
                // Named or announced, but not yet proven: a broken sequence would otherwise
                // turn into U+FFFD in a department name without anyone noticing.
                validate(path, loc, enc, bom_len)?;
                enc
            }
            (None, None) => match utf16_without_bom(&head[..n]) {
                Some(enc) => {
                    validate(path, loc, enc, 0)?;
                    enc
                }
                None => sniff_encoding(path, loc)?,
            },
        };
        let mut source = CsvSource {
            path: path.to_owned(),
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
    fn decoded(&self) -> io::Result<Box<dyn Read>> {
        let mut file = File::open(&self.path)?;
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

    fn reader(&self, loc: &Location) -> Result<(CsvReader, Lines), ReadError> {
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
            if is_blank(&rec) {
                continue;
            }
            let line = lines.first_line(&rdr);
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

type CsvReader = csv::Reader<BreakCounter<Box<dyn Read>>>;

fn read_record(
    rdr: &mut CsvReader,
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
    fn first_line(&mut self, rdr: &CsvReader) -> u64 {
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

/// UTF-16 without a BOM shows as NUL bytes in every other position of ASCII text.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 9 && even_nul == 0 {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 9 && odd_nul == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Bytes that Windows-1252 leaves undefined.
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Reads the whole file once: UTF-8 if it all decodes, else Windows-1252 if every byte is
/// defined there and none is a control character that text never holds.
fn sniff_encoding(path: &Path, loc: &Location) -> Result<&'static Encoding, ReadError> {
    let io_err = |e| ReadError::Io(loc.clone(), e);
    let mut file = File::open(path).map_err(io_err)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut carry = 0usize;
    let mut line = 1u64;
    // The first byte that is not UTF-8.
    let mut not_utf8: Option<(u64, u8)> = None;
    let mut first_chunk = true;
    loop {
        let n = file.read(&mut buf[carry..]).map_err(io_err)?;
        let len = carry + n;
        if n == 0 {
            if carry > 0 && not_utf8.is_none() {
                not_utf8 = Some((line, buf[0]));
            }
            break;
        }
        let chunk = &buf[..len];
        let utf8 = std::str::from_utf8(chunk);
        // Binary data is looked for at the start (a valid-UTF-8 NUL-filled file is still not
        // text) and wherever the text stops being UTF-8; clean UTF-8 chunks skip the byte scan.
        if first_chunk || utf8.as_ref().is_err_and(|e| e.error_len().is_some()) {
            if let Some(pos) = chunk.iter().position(|&b| is_binary_control(b)) {
                return Err(ReadError::NotTabular(
                    loc.clone().with_row(line + count_lines(&chunk[..pos])),
                    format!("it holds binary data: byte 0x{:02X}", chunk[pos]),
                ));
            }
        }
        first_chunk = false;
        let valid_up_to = match utf8 {
            Ok(_) => len,
            // A character cut by the chunk's end: keep its bytes for the next round.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                if not_utf8.is_none() {
                    let pos = e.valid_up_to();
                    not_utf8 = Some((line + count_lines(&chunk[..pos]), chunk[pos]));
                }
                len
            }
        };
        line += count_lines(&chunk[..valid_up_to]);
        buf.copy_within(valid_up_to..len, 0);
        carry = len - valid_up_to;
    }
    if not_utf8.is_none() {
        return Ok(UTF_8);
    }
    // Rare: a second pass, from the start, for bytes that Windows-1252 leaves undefined.
    let mut file = File::open(path).map_err(io_err)?;
    let mut line = 1u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err)?;
        if n == 0 {
            return Ok(WINDOWS_1252);
        }
        if let Some(pos) = buf[..n].iter().position(|b| CP1252_UNDEFINED.contains(b)) {
            return Err(ReadError::Encoding(
                loc.clone().with_row(line + count_lines(&buf[..pos])),
                format!(
                    "the text is neither UTF-8 nor Windows-1252 (byte 0x{:02X}); save it as UTF-8 or name its encoding with --encoding",
                    buf[pos]
                ),
            ));
        }
        line += count_lines(&buf[..n]);
    }
}

/// Decodes the whole file once, without replacement, and names the line of the first byte
/// sequence that `enc` cannot decode.
fn validate(path: &Path, loc: &Location, enc: &'static Encoding, skip: u64) -> Result<(), ReadError> {
    let io_err = |e| ReadError::Io(loc.clone(), e);
    let mut file = File::open(path).map_err(io_err)?;
    file.seek(SeekFrom::Start(skip)).map_err(io_err)?;
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut input = vec![0u8; 64 * 1024];
    let mut output = vec![0u8; 3 * 64 * 1024 + 16];
    let mut line = 1u64;
    loop {
        let n = file.read(&mut input).map_err(io_err)?;
        let last = n == 0;
        let mut chunk = &input[..n];
        loop {
            let (result, read, written) = decoder.decode_to_utf8_without_replacement(chunk, &mut output, last);
            line += count_lines(&output[..written]);
            chunk = &chunk[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => continue,
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    return Err(ReadError::Encoding(
                        loc.clone().with_row(line),
                        format!(
                            "the text is not valid {}; save it again, or name its real encoding with --encoding",
                            enc.name()
                        ),
                    ))
                }
            }
        }
        if last {
            return Ok(());
        }
    }
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Control bytes that never occur in text exports (tab, LF, CR, FF and SUB are allowed).
fn is_binary_control(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0E..=0x19 | 0x1B..=0x1F | 0x0B)
}

/// Picks the candidate delimiter that splits the sample's rows most consistently into more than
/// one field. `truncated` says the sample was cut, so its last record is partial and ignored.
fn sniff_delimiter(sample: &[u8], truncated: bool) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for &delim in &CANDIDATES {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim)
            .from_reader(sample);
        let mut counts: Vec<usize> = rdr
            .byte_records()
            .map_while(Result::ok)
            .filter(|r| !is_blank(r))
            .take(100)
            .map(|r| trimmed_len(&r))
            .collect();
        if truncated && counts.len() > 1 {
            counts.pop();
        }
        // The mode among multi-field rows, and how many rows have it.
        let mut freq = std::collections::BTreeMap::new();
        for &c in counts.iter().filter(|&&c| c > 1) {
            *freq.entry(c).or_insert(0usize) += 1;
        }
        let Some((&fields, &rows)) = freq.iter().max_by_key(|(&c, &n)| (n, c)) else {
            continue;
        };
        if (rows, fields) > (best.1, best.2) {
            best = (delim, rows, fields);
        }
    }
    best.0
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
            (b"Department\nSales\nEngineering\n", b','),
            (b"Name,Dept\n\"Ada; Lovelace\",Eng\n", b','),
        ] {
            assert_eq!(
                sniff_delimiter(text, false) as char,
                want as char,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn utf16_guess() {
        let le: Vec<u8> = "Name\tDept\r\nAda\tEng"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "Name\tDept\r\nAda\tEng"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16_without_bom(&le), Some(UTF_16LE));
        assert_eq!(utf16_without_bom(&be), Some(UTF_16BE));
        assert_eq!(utf16_without_bom(b"Name,Dept\nAda,Engineering"), None);
    }
}

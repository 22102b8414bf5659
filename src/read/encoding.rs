//! Text encodings of delimited files, decided once, before parsing: a BOM wins (UTF-8,
//! UTF-16LE as in Excel's "Unicode Text" export, UTF-16BE); without one, a streaming pass checks
//! the whole file is UTF-8, and if it is not, that it is Windows-1252 (the other thing Excel
//! writes). A file that is neither is refused with the first offending byte's row, rather than
//! read with replacement characters that would silently change department names.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use super::delimited::rewound;
use super::ReadError;
use crate::location::Location;

/// UTF-16 without a BOM shows as NUL bytes in every other position of ASCII text.
pub(super) fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
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
pub(super) fn sniff_encoding(file: &File, loc: &Location) -> Result<&'static Encoding, ReadError> {
    let io_err = |e| ReadError::Io(loc.clone(), e);
    let mut file = rewound(file).map_err(io_err)?;
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
    let mut file = rewound(file).map_err(io_err)?;
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
pub(super) fn validate(file: &File, loc: &Location, enc: &'static Encoding, skip: u64) -> Result<(), ReadError> {
    let io_err = |e| ReadError::Io(loc.clone(), e);
    let mut file = file;
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

#[cfg(test)]
mod tests {
    use super::*;

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

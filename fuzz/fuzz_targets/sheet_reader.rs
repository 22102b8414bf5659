//! The spreadsheet readers (XLSX, XLS, XLSB, ODS through calamine) on arbitrary bytes; seed
//! it with real workbooks so mutations reach past the container formats.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read_file("input.xlsx", data);
});

//! The CSV sniffer (encoding, delimiter) and reader on arbitrary bytes.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read_file("input.csv", data);
});

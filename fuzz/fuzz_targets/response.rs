//! The response parser on arbitrary answers: status from the first two bytes, a Retry-After
//! from the next eight, the rest as the body (JSON-shaped when seeded with real answers).
#![no_main]

use std::time::{Duration, SystemTime};

use velt_groups::upload::api::{classify, parse_retry_after};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let retry_after = String::from_utf8_lossy(&data[2..10]).into_owned();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let _ = parse_retry_after(&retry_after, now);
    let _ = classify(status, Some(&retry_after), &data[10..], now);
});

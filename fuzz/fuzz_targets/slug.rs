//! The slugger on arbitrary strings: every ID has the contract's shape, and cleaning is stable.
#![no_main]

use velt_groups::normalize::slug::{clean_name, is_valid_id, slug};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let name = clean_name(text);
    assert_eq!(clean_name(&name), name, "cleaning is idempotent");
    if let Some(id) = slug(&name) {
        assert!(is_valid_id(&id), "{text:?} -> {id:?}");
        assert_eq!(slug(&name).as_deref(), Some(id.as_str()), "deterministic");
        assert_eq!(slug(&id).as_deref(), Some(id.as_str()), "an ID is its own slug (reports fed back)");
    }
});

//! When two spellings are one name, and what tells two names apart.
//!
//! Two spellings of a department are one department when they are equal after folding case,
//! Unicode compatibility forms (full-width letters, ligatures), accents, white space, and the
//! punctuation that only separates words (`-`, `_`, `.`, `/`, `·` and the other dashes), with
//! `&` read as `and`. Anything else that differs (`C++` / `C#`, `R+D` / `R&D`, `1.0` / `10`)
//! makes two names, even when their IDs are equal: merging them would put two teams' people in
//! one group.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::slug::is_joiner;

/// The key two spellings of one name share: lower case, no accents, compatibility forms
/// folded, word separators and white space one space, `&` the word `and`, joiners left out.
pub fn same_name_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut space = false;
    let push_word = |out: &mut String, space: &mut bool, text: &str| {
        if *space && !out.is_empty() {
            out.push(' ');
        }
        *space = false;
        out.push_str(text);
    };
    for ch in name.nfkd() {
        if is_combining_mark(ch) || is_joiner(ch) {
            continue;
        }
        if ch == '&' {
            space = true;
            push_word(&mut out, &mut space, "and");
            space = true;
        } else if ch.is_whitespace() || is_word_separator(ch) {
            space = true;
        } else {
            let mut buf = [0u8; 4];
            for lower in ch.to_lowercase() {
                push_word(&mut out, &mut space, fold_letter(lower, &mut buf));
            }
        }
    }
    if !out.contains(' ') || out.chars().all(|c| c == ' ' || c.is_alphanumeric()) {
        return out;
    }
    // A space beside a symbol separates nothing: `C ++` is `C++`, `Sales (EMEA)` is
    // `Sales(EMEA)`. Between two words it stays, so `1.0` (`1 0`) is not `10`.
    let chars: Vec<char> = out.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c != ' ' || (chars[i - 1].is_alphanumeric() && chars[i + 1].is_alphanumeric()))
        .map(|(_, &c)| c)
        .collect()
}

/// Punctuation that only separates words: a name written `Sales-EMEA`, `Sales_EMEA`,
/// `Sales.EMEA`, `Sales/EMEA` or `Sales · EMEA` is `Sales EMEA`.
pub fn is_word_separator(ch: char) -> bool {
    matches!(ch, '-' | '_' | '.' | '/' | '\u{B7}' | '\u{2027}' | '\u{30FB}')
        || ch.general_category() == GeneralCategory::DashPunctuation
}

/// A Latin letter that Unicode does not decompose into a letter and an accent (`ø`, `æ`, `ß`,
/// `ł`, `đ`) as its plain letters; everything else as it is.
fn fold_letter(ch: char, buf: &mut [u8; 4]) -> &str {
    if !ch.is_ascii() && is_latin(ch) {
        if let Some(plain) = deunicode::deunicode_char(ch) {
            if !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_alphabetic()) {
                return plain;
            }
        }
    }
    ch.encode_utf8(buf)
}

fn is_latin(ch: char) -> bool {
    matches!(u32::from(ch), 0xC0..=0x24F | 0x1E00..=0x1EFF) && ch.is_alphabetic()
}

/// What tells spelling `a` from spelling `b`, in words: `'C++' has '++' where 'C#' has '#'`.
/// Compared character by character as the key compares them (case and accents do not count),
/// after the longest common beginning and end.
pub fn difference(a: &str, b: &str) -> String {
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let same = |x: char, y: char| same_name_key(&x.to_string()) == same_name_key(&y.to_string());
    let mut start = 0;
    while start < ca.len() && start < cb.len() && same(ca[start], cb[start]) {
        start += 1;
    }
    let mut end = 0;
    while end < ca.len() - start && end < cb.len() - start && same(ca[ca.len() - 1 - end], cb[cb.len() - 1 - end]) {
        end += 1;
    }
    let part = |c: &[char]| -> String { c.iter().collect() };
    let (da, db) = (part(&ca[start..ca.len() - end]), part(&cb[start..cb.len() - end]));
    let shown = |d: &str| {
        if d.is_empty() {
            "nothing".to_owned()
        } else {
            format!("'{}'", d.escape_debug())
        }
    };
    format!("'{a}' has {} where '{b}' has {}", shown(&da), shown(&db))
}

#[cfg(test)]
mod tests;

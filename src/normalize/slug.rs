//! Group IDs and display names: the rules that make an ID stable across runs and machines.
//!
//! These functions are the contract behind every ID velt-groups has ever sent: a change in their
//! output renames groups on the server. `tests/data/golden-ids.tsv` pins them, so an upgrade of
//! `deunicode` (whose tables change between versions) that moves any ID fails the test suite.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The longest group ID velt-groups produces.
pub const MAX_ID_LEN: usize = 64;

/// The longest display name accepted; longer is a row problem, never a silent truncation.
pub const MAX_NAME_CHARS: usize = 200;

/// Length of the hash suffix added to a shortened ID (hex digits).
const HASH_LEN: usize = 8;

/// The display name as people wrote it, cleaned: trimmed, inner runs of white space (tabs and
/// non-breaking spaces included) made one space, control and invisible formatting characters
/// (see [`is_hidden_format`]) removed, and composed to Unicode NFC, so "é" typed as one
/// character or as "e" plus an accent is one name. Case and accents are kept.
pub fn clean_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for ch in raw.chars() {
        if ch.is_whitespace() {
            space = true;
        } else if ch.is_control() || is_hidden_format(ch) {
            // Dropped without a space: they are invisible, so nobody meant a word break.
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(ch);
        }
    }
    if unicode_normalization::is_nfc_quick(out.chars()) == unicode_normalization::IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// True for a character that shows nothing by itself but changes how the text around it is
/// shown: Unicode's format characters (general category Cf), such as the bidi overrides and
/// isolates (U+202A-202E, U+2066-2069), the direction marks (U+200E, U+200F, U+061C), zero-width
/// spaces and joiners, the soft hyphen and the byte order mark. A name holding one can display
/// as something else than it is.
pub fn is_hidden_format(ch: char) -> bool {
    !ch.is_ascii() && ch.general_category() == GeneralCategory::Format
}

/// The distinct invisible formatting characters in `text`, in order of appearance.
pub fn hidden_format_chars(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    if !text.is_ascii() {
        for ch in text.chars().filter(|&c| is_hidden_format(c)) {
            if !found.contains(&ch) {
                found.push(ch);
            }
        }
    }
    found
}

/// The ID for a name or a department code: transliterated to ASCII, lower case, every run of
/// other characters one `-`, no `-` at either end; at most [`MAX_ID_LEN`] characters, a longer
/// slug cut at a `-` and given a suffix from the SHA-256 of the whole slug, so two long names
/// sharing a prefix stay apart. `None` when nothing is left (only punctuation or symbols).
///
/// Codes go through the same function (`D-0042` -> `d-0042`, `0042` keeps its zeros), so a
/// code and a name never disagree about what an ID may look like.
pub fn slug(text: &str) -> Option<String> {
    let ascii = deunicode::deunicode_with_tofu(text, "-");
    let mut out = String::with_capacity(ascii.len());
    let mut dash = false;
    for b in ascii.bytes() {
        if b.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(b.to_ascii_lowercase() as char);
        } else {
            dash = true;
        }
    }
    if out.is_empty() {
        return None;
    }
    if out.len() > MAX_ID_LEN {
        out = shorten(&out);
    }
    Some(out)
}

fn shorten(full: &str) -> String {
    let keep = MAX_ID_LEN - HASH_LEN - 1;
    let cut = if full.as_bytes()[keep] == b'-' {
        keep
    } else {
        full[..keep].rfind('-').unwrap_or(keep)
    };
    let digest = Sha256::digest(full.as_bytes());
    let hex: String = digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", &full[..cut])
}

/// True when `id` has the shape every group ID must have: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most
/// [`MAX_ID_LEN`] characters.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// True when a spreadsheet would run the text as a formula (OWASP's CSV-injection leaders).
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_cleaned_not_changed() {
        for (raw, want) in [
            ("  Sales  ", "Sales"),
            ("Research\u{A0}&\tDevelopment", "Research & Development"),
            ("Ops\u{0007}\n\nEMEA", "Ops EMEA"),
            ("Zero\u{200B}Width", "ZeroWidth"),
            ("Recherche & Développement", "Recherche & Développement"),
            ("\u{3000}東京 営業\u{3000}", "東京 営業"),
            // One name, composed or decomposed: the composed form (NFC).
            ("Re\u{301}seau", "R\u{E9}seau"),
            ("R\u{E9}seau", "R\u{E9}seau"),
            // Format characters go, and a mark they separated composes with its letter.
            ("\u{202E}selaS", "selaS"),
            ("Le\u{200E}gal\u{200F}", "Legal"),
            ("\u{2066}Ops\u{2069} \u{61C}HR", "Ops HR"),
            ("IT\u{AD}\u{FEFF}\u{2060}", "IT"),
            ("e\u{200D}\u{301}", "\u{E9}"),
        ] {
            assert_eq!(clean_name(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn hidden_format_characters_are_listed_once() {
        assert_eq!(
            hidden_format_chars("\u{2066}a\u{202E}b\u{2066}\u{200B}"),
            vec!['\u{2066}', '\u{202E}', '\u{200B}']
        );
        assert!(hidden_format_chars("Recherche & Développement 東京").is_empty());
    }

    #[test]
    fn slugs() {
        for (name, want) in [
            ("Recherche & Développement", "recherche-developpement"),
            ("Rechtsabteilung Süd", "rechtsabteilung-sud"),
            ("Ærø Logistik", "aero-logistik"),
            ("R&D", "r-d"),
            ("R-D", "r-d"),
            ("D-0042", "d-0042"),
            ("0042", "0042"),
            ("  --Sales--  ", "sales"),
            ("Продажи", "prodazhi"),
            ("Πωλήσεις", "poleseis"),
        ] {
            assert_eq!(slug(name).as_deref(), Some(want), "{name}");
        }
        assert_eq!(slug("★ ☆ !!"), None);
        assert_eq!(slug(""), None);
    }

    #[test]
    fn long_slugs_are_cut_at_a_dash_with_a_hash() {
        let a = "International Business Development and Strategic Partnerships Europe Middle East";
        let b = "International Business Development and Strategic Partnerships Europe Middle West";
        let (sa, sb) = (slug(a).unwrap(), slug(b).unwrap());
        assert_ne!(sa, sb);
        assert!(sa.len() <= MAX_ID_LEN && is_valid_id(&sa), "{sa}");
        assert!(
            sa.starts_with("international-business-development-and-strategic-"),
            "{sa}"
        );
        let dashless = "x".repeat(100);
        let s = slug(&dashless).unwrap();
        assert_eq!(s.len(), MAX_ID_LEN);
        assert!(is_valid_id(&s));
    }

    #[test]
    fn formula_leaders() {
        for (t, want) in [
            ("=SUM(A1)", true),
            ("+1", true),
            ("-x", true),
            ("@a", true),
            ("Sales", false),
            ("", false),
        ] {
            assert_eq!(looks_like_formula(t), want, "{t}");
        }
    }

    proptest! {
        #[test]
        fn ids_always_have_the_shape(name in "\\PC{0,120}") {
            if let Some(id) = slug(&name) {
                prop_assert!(is_valid_id(&id), "{:?} -> {:?}", name, id);
                prop_assert_eq!(slug(&name), Some(id));
            }
        }

        #[test]
        fn long_ids_too(name in "[a-zA-Z0-9 &ÄÖÜßéèçñ東京-]{60,300}") {
            if let Some(id) = slug(&name) {
                prop_assert!(is_valid_id(&id), "{:?} -> {:?}", name, id);
            }
        }

        #[test]
        fn clean_names_are_fixed_points(name in "\\PC{0,80}") {
            let once = clean_name(&name);
            prop_assert_eq!(clean_name(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        }
    }
}

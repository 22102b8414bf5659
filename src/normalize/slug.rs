//! Group IDs and display names: the rules that make an ID stable across runs and machines.
//!
//! These functions are the contract behind every ID velt-groups has ever sent: a change in their
//! output renames groups on the server. `tests/data/golden-ids.tsv` pins them, so an upgrade of
//! `deunicode` (whose tables change between versions) that moves any ID fails the test suite.

use std::borrow::Cow;

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
///
/// The zero-width joiner and non-joiner (U+200D, U+200C) are the exception: between two
/// characters of a word they are part of the spelling (`👩‍💻` is one picture, Persian and
/// Indic words are spelled with them), so they stay there; at either end of a word, or
/// before a combining mark, they join nothing and go.
pub fn clean_name(raw: &str) -> Cow<'_, str> {
    // Most names are printable ASCII with single spaces between words: nothing to clean, and
    // this runs for every row.
    let b = raw.as_bytes();
    let plain = b.iter().all(|c| (b' '..=b'~').contains(c))
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !b.windows(2).any(|w| w == b"  ");
    if plain {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    // Joiners seen since the last visible character: kept only if a letter of the same word
    // follows.
    let mut joiners = String::new();
    for ch in raw.chars() {
        if ch.is_whitespace() {
            space = true;
            joiners.clear();
        } else if is_joiner(ch) {
            if !out.is_empty() && !space {
                joiners.push(ch);
            }
        } else if ch.is_control() || is_hidden_format(ch) {
            // Dropped without a space: they are invisible, so nobody meant a word break.
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            if !joiners.is_empty() && !is_mark(ch) {
                out.push_str(&joiners);
            }
            joiners.clear();
            out.push(ch);
        }
    }
    Cow::Owned(
        if unicode_normalization::is_nfc_quick(out.chars()) == unicode_normalization::IsNormalized::Yes {
            out
        } else {
            out.nfc().collect()
        },
    )
}

/// An identifier as sent (an organization ID, a user ID, an e-mail address, a department
/// code): trimmed, with every control and invisible formatting character removed, the joiners
/// too. An ID is compared character by character, so `acme` followed by an invisible mark
/// would otherwise be a second organization that looks exactly like the first. Nothing else
/// changes (no case folding, no composition): the ID stays what the system of record wrote.
pub fn clean_id(raw: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = raw.trim();
    let hidden = |c: char| c.is_control() || is_hidden_format(c);
    // Printable ASCII holds nothing to remove: the common case, told by bytes.
    if trimmed.bytes().all(|b| (b' '..=b'~').contains(&b)) || !trimmed.contains(hidden) {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    let kept: String = trimmed.chars().filter(|&c| !hidden(c)).collect();
    std::borrow::Cow::Owned(kept.trim().to_owned())
}

/// True for a character that shows nothing by itself but changes how the text around it is
/// shown: Unicode's format characters (general category Cf), such as the bidi overrides and
/// isolates (U+202A-202E, U+2066-2069), the direction marks (U+200E, U+200F, U+061C), zero-width
/// spaces and joiners, the word joiner, the soft hyphen and the byte order mark. A name holding
/// one can display as something else than it is.
pub fn is_hidden_format(ch: char) -> bool {
    !ch.is_ascii() && ch.general_category() == GeneralCategory::Format
}

/// The zero-width non-joiner and joiner: invisible, but part of some spellings.
pub fn is_joiner(ch: char) -> bool {
    matches!(ch, '\u{200C}' | '\u{200D}')
}

/// A combining mark (an accent that belongs to the character before it).
fn is_mark(ch: char) -> bool {
    matches!(
        ch.general_category(),
        GeneralCategory::NonspacingMark | GeneralCategory::SpacingMark | GeneralCategory::EnclosingMark
    )
}

/// The distinct invisible formatting characters in `text` that [`clean_name`] removes (a
/// joiner inside a word stays, so it is not listed), in order of appearance.
pub fn hidden_format_chars(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    if !text.is_ascii() && text.contains(is_hidden_format) {
        let kept = clean_name(text);
        let removed = |c: char| is_hidden_format(c) && !(is_joiner(c) && kept.contains(c));
        for ch in text.chars().filter(|&c| removed(c)) {
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
    slug_of(text, false, MAX_ID_LEN)
}

/// The ID for a department name: its [`slug`], where the word `and` is left out (unless it is
/// the whole name), because `&` is read as `and`: `Sales & Marketing` and `Sales and
/// Marketing` are one department and must make one ID, the one `&` always made
/// (`sales-marketing`). Joiners are left out too: they are part of how a name is written,
/// never of its ID.
pub fn name_id(name: &str) -> Option<String> {
    name_id_within(name, MAX_ID_LEN)
}

/// [`name_id`], at most `max` characters long.
pub fn name_id_within(name: &str, max: usize) -> Option<String> {
    if name.contains(is_joiner) {
        let plain: String = name.chars().filter(|&c| !is_joiner(c)).collect();
        slug_of(&plain, true, max)
    } else {
        slug_of(name, true, max)
    }
}

/// [`slug`] at most `max` characters long (for an ID that gets a prefix).
pub fn slug_within(text: &str, max: usize) -> Option<String> {
    slug_of(text, false, max)
}

fn slug_of(text: &str, drop_and: bool, max: usize) -> Option<String> {
    let ascii = deunicode::deunicode_with_tofu(text, "-");
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    if drop_and && out.split('-').any(|w| w == "and") && out.split('-').any(|w| w != "and") {
        out = out.split('-').filter(|&w| w != "and").collect::<Vec<_>>().join("-");
    }
    if out.is_empty() {
        return None;
    }
    if out.len() > max {
        out = shorten(&out, max);
    }
    Some(out)
}

fn shorten(full: &str, max: usize) -> String {
    let keep = max.saturating_sub(HASH_LEN + 1).max(1);
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
    // By the first byte (all six are ASCII): a char-set pattern costs tens of nanoseconds,
    // and reports ask this of every cell of a million rows.
    matches!(text.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
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
            // Joiners inside a name are its spelling; at a word's ends they join nothing.
            (
                "\u{1F469}\u{200D}\u{1F4BB} Developers",
                "\u{1F469}\u{200D}\u{1F4BB} Developers",
            ),
            (
                "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}",
                "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}",
            ),
            ("\u{915}\u{94D}\u{200D}\u{937}", "\u{915}\u{94D}\u{200D}\u{937}"),
            ("\u{200D}Sales\u{200C}", "Sales"),
            ("Dev\u{200D} \u{200C}Ops", "Dev Ops"),
            ("a\u{200B}\u{200D}b", "a\u{200D}b"),
        ] {
            assert_eq!(clean_name(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn ids_keep_no_invisible_character() {
        for (raw, want) in [
            (" acme\u{200E} ", "acme"),
            ("\u{2066}acme\u{2069}", "acme"),
            ("E001\u{200B}", "E001"),
            ("\u{FEFF}e\u{200D}002\u{AD}", "e002"),
            ("ada@example.com\u{2060}", "ada@example.com"),
            ("\u{200B}", ""),
            ("D 42", "D 42"),
        ] {
            assert_eq!(clean_id(raw), want, "{raw:?}");
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

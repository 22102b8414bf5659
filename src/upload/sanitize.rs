//! Server text made safe to keep and print: whatever a server (or a proxy before it) says may
//! quote our request headers, carry terminal escapes, forge extra lines, or run for megabytes.
//! [`answer`] is applied once, where an answer enters the program (`http::post`), so every
//! copy of the text downstream (report, stderr, summary JSON) is already clean. The users a
//! read-back lists are data, never cleaned: [`printable`] escapes them where they are shown.

use super::api::Answer;

/// The most characters of one server message kept; the rest is cut, and the cut says so.
pub const MAX_CHARS: usize = 1_000;

/// Cleans every text of `answer`: error messages and per-item messages alike.
pub fn answer(answer: Answer, secrets: &[&str]) -> Answer {
    let clean = |t: String| text(&t, secrets);
    match answer {
        Answer::Entries(mut entries) => {
            for entry in entries.values_mut() {
                entry.message = entry.message.take().map(clean);
            }
            Answer::Entries(entries)
        }
        Answer::RateLimited { retry_after, error } => Answer::RateLimited {
            retry_after,
            error: clean(error),
        },
        Answer::Transient(e) => Answer::Transient(clean(e)),
        Answer::Overloaded(e) => Answer::Overloaded(clean(e)),
        Answer::Refused(e) => Answer::Refused(clean(e)),
        Answer::Credentials(e) => Answer::Credentials(clean(e)),
        Answer::Fatal(e) => Answer::Fatal(clean(e)),
        // Users are data to compare, not text to print: cleaned, an ID holding `x-velt-` or
        // a tab, or a name past the cut, would never equal the export's, and drift would be
        // reported (and repaired) forever. Whatever prints them escapes them there.
        answer @ Answer::Users(_) => answer,
    }
}

/// One server text, cleaned: lines naming an `x-velt-*` header are dropped, the secret values are
/// replaced (as whole tokens), control characters are escaped (so the text stays on one line and
/// cannot drive the terminal), and it is cut at [`MAX_CHARS`].
pub fn text(raw: &str, secrets: &[&str]) -> String {
    // Header lines go whole: a proxy may quote a secret encoded or cut, which no exact
    // match would find.
    let kept: Vec<&str> = raw
        .split(['\n', '\r'])
        .filter(|line| !line.to_ascii_lowercase().contains("x-velt-"))
        .collect();
    // Whole tokens only: a placeholder secret must not cut words of the message apart.
    let text = crate::secret::scrub(&kept.join("\n"), secrets);
    let escaped: String = text
        .trim()
        .chars()
        .flat_map(|c| {
            let escape = c.is_control() || is_bidi_control(c);
            let (plain, escaped) = if escape {
                (None, Some(c.escape_default()))
            } else {
                (Some(c), None)
            };
            plain.into_iter().chain(escaped.into_iter().flatten())
        })
        .collect();
    cut(&escaped, MAX_CHARS)
}

/// Server data (a user ID, a name) as shown on a terminal or in a report: control and
/// reordering characters escaped, nothing dropped or cut, so two different values never show
/// the same.
pub fn printable(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.chars().any(|c| c.is_control() || is_bidi_control(c) || c == '\\') {
        return std::borrow::Cow::Borrowed(raw);
    }
    std::borrow::Cow::Owned(
        raw.chars()
            .map(|c| {
                if c.is_control() || is_bidi_control(c) || c == '\\' {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Characters that reorder text on screen (the "Trojan Source" ones), shown escaped too.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text`, or its first `max` characters and a note of how long it was.
fn cut(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}… (cut: {total} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_header_lines_are_removed() {
        let raw = "bad request\nx-velt-api-key: K3y\nX-Velt-Auth-Token: t0k\nkey was K3y, token t0k";
        let got = text(raw, &["K3y", "t0k", ""]);
        assert!(!got.contains("K3y") && !got.contains("t0k"), "{got}");
        assert!(!got.to_ascii_lowercase().contains("x-velt"), "{got}");
        assert_eq!(got, r"bad request\nkey was [redacted], token [redacted]");
    }

    #[test]
    fn a_short_placeholder_secret_does_not_corrupt_text() {
        assert_eq!(text("internal error", &["t", "e"]), "internal error");
    }

    #[test]
    fn control_characters_are_escaped_onto_one_line() {
        let got = text("red \u{1b}[31mX\u{1b}]0;title\u{7}\r\nerror: forged\u{202e}", &[]);
        assert!(!got.chars().any(|c| c.is_control()), "{got:?}");
        assert!(!got.contains('\u{202e}'));
        assert_eq!(got, r"red \u{1b}[31mX\u{1b}]0;title\u{7}\n\nerror: forged\u{202e}");
    }

    #[test]
    fn long_text_is_cut_and_says_so() {
        let got = text(&"é".repeat(5_000), &[]);
        assert!(got.starts_with(&"é".repeat(MAX_CHARS)));
        assert!(got.ends_with("… (cut: 5000 characters)"), "{}", &got[got.len() - 40..]);
        assert_eq!(text("short", &[]), "short");
    }
}

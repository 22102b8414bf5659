//! Secrets that cannot leak by accident: their `Debug` and `Display` never show the value, so
//! it cannot reach a log line, a panic message or a report.

/// A secret string.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (and the one that scrubs it from answers).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The API key and auth token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `x-velt-api-key`.
    pub api_key: Secret,
    /// `x-velt-auth-token`.
    pub auth_token: Secret,
}

/// Fewer characters than any real Velt key or token has: a secret this short is a placeholder
/// or a typo, and the run says so (scrubbing it by whole tokens stays safe either way).
pub const MIN_CHARS: usize = 12;

/// Whether `secret` is too short to be a real key or token (an empty one is simply missing).
pub fn too_short(secret: &Secret) -> bool {
    let n = secret.expose().chars().count();
    n > 0 && n < MIN_CHARS
}

/// What a secret value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// `text` with every whole-token occurrence of a secret replaced by [`REDACTED`]. A match
/// counts only where it is not part of a longer word (letters, digits, `-`, `_`), so a short
/// placeholder secret such as `t` never turns "internal" into "in`[redacted]`ernal"; a real key
/// is quoted whole, between spaces, quotes, `=` or `:`.
///
/// A secret long enough to be real ([`MIN_CHARS`]) goes wherever it stands, also run into
/// other characters, and so do its percent-encoded and JSON-escaped forms: a server or proxy
/// that quotes a request's URL or body writes the key so, and replacing a real key's text
/// cannot cut a word apart.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let real = secret.chars().count() >= MIN_CHARS;
        for form in forms(secret) {
            text = scrub_one(&text, &form, real);
        }
    }
    text
}

/// The secret as written, percent-encoded (both cases of hex digits, `+` for a space too) and
/// JSON-escaped, each once.
fn forms(secret: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped.trim_matches('"').to_owned();
    let mut all = vec![secret.to_owned()];
    let spaced = encoded.replace('+', "%20");
    for form in [lower_hex(&spaced), lower_hex(&encoded), spaced, encoded, escaped] {
        if !all.contains(&form) {
            all.push(form);
        }
    }
    all
}

/// `%2F` as `%2f`.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex = 2;
            out.push(c);
        } else if hex > 0 {
            hex -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn scrub_one(text: &str, secret: &str, anywhere: bool) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(secret) {
        let start = from + found;
        let end = start + secret.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        // A secret that itself starts or ends with a word character must not continue one.
        let open = anywhere || !(word(before) && word(secret.chars().next()));
        let close = anywhere || !(word(after) && word(secret.chars().next_back()));
        if open && close {
            out.push_str(&text[rest..start]);
            out.push_str(REDACTED);
            rest = end;
            from = end;
        } else {
            // The next match may start inside this one.
            from = start + secret.chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&text[rest..]);
    out
}

/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "VELT_API_KEY";
/// Environment variable holding the auth token.
pub const AUTH_TOKEN_ENV: &str = "VELT_AUTH_TOKEN";
/// Environment variable holding the webhook URLs to notify, space-separated.
pub const NOTIFY_ENV: &str = "VELT_GROUPS_NOTIFY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        let c = Credentials {
            api_key: s.clone(),
            auth_token: s,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn scrubbing_replaces_whole_tokens_only() {
        // A one-letter placeholder never cuts words apart.
        assert_eq!(scrub("internal error: t", &["t"]), "internal error: [redacted]");
        assert_eq!(
            scrub("key=K3y-long-secret, 'K3y-long-secret'", &["K3y-long-secret"]),
            "key=[redacted], '[redacted]'"
        );
        assert_eq!(scrub("aaa", &["aa"]), "aaa");
        assert_eq!(scrub("x aa aa", &["aa"]), "x [redacted] [redacted]");
        assert_eq!(scrub("é-secret-é", &["secret"]), "é-secret-é");
        assert_eq!(scrub("nothing", &[""]), "nothing");
    }

    #[test]
    fn a_real_secret_goes_run_into_text_encoded_or_escaped() {
        let key = "Ab3/def+ghi=jk \"l\\m";
        for (text, want) in [
            ("keyAb3/def+ghi=jk \"l\\mX", "key[redacted]X"),
            ("GET /?k=Ab3%2Fdef%2Bghi%3Djk+%22l%5Cm&x=1", "GET /?k=[redacted]&x=1"),
            ("GET /?k=Ab3%2fdef%2bghi%3djk%20%22l%5cm", "GET /?k=[redacted]"),
            ("{\"key\":\"Ab3/def+ghi=jk \\\"l\\\\m\"}", "{\"key\":\"[redacted]\"}"),
        ] {
            assert_eq!(scrub(text, &[key]), want, "{text}");
        }
        // A short placeholder still only goes as a whole token.
        assert_eq!(scrub("x%20y tt", &["t"]), "x%20y tt");
    }

    #[test]
    fn short_secrets_are_noticed() {
        assert!(too_short(&Secret::new("t")));
        assert!(!too_short(&Secret::new("")));
        assert!(!too_short(&Secret::new("test-api-key-5b1c9")));
    }
}

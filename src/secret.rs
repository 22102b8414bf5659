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
}

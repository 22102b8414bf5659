//! The gate every request passes: the Host header must name this server (a DNS-rebinding page
//! names its own host), and the token must be there: in the query for the page, its assets and
//! the report downloads (a link cannot carry a header), in a header for the API calls. A
//! missing token is 401, a wrong one or a wrong host 403; nothing else is served.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::App;

/// The header the page's API calls carry the token in.
pub const TOKEN_HEADER: &str = "x-velt-groups-token";

/// Refuses what is not from this page, and adds the security headers to every answer.
pub async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let mut response = match admit(&app, &request) {
        Ok(()) => next.run(request).await,
        Err((status, why)) => (status, why).into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        // The token is in the page's address: never send it on.
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
        ),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn admit(app: &App, request: &Request) -> Result<(), (StatusCode, &'static str)> {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = request.uri().authority().map(|a| a.as_str());
    let known = |h: &str| app.hosts.iter().any(|k| k.eq_ignore_ascii_case(h));
    if !host.is_some_and(known) || !authority.is_none_or(known) {
        return Err((StatusCode::FORBIDDEN, "forbidden: wrong Host header\n"));
    }
    let token = if request.uri().path().starts_with("/api/") {
        request
            .headers()
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    } else {
        request.uri().query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
    };
    match token {
        None => Err((
            StatusCode::UNAUTHORIZED,
            "unauthorized: open the address velt-groups ui printed, token included\n",
        )),
        Some(t) if !same(t.as_bytes(), app.token.as_bytes()) => {
            Err((StatusCode::FORBIDDEN, "forbidden: wrong token\n"))
        }
        Some(_) => Ok(()),
    }
}

/// Compares in time independent of where the first difference is, so timing tells nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn comparison() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
    }
}

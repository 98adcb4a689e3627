//! The browser console at the root of the Comwit listener: one HTML page, one script and
//! one style sheet, embedded in the binary (no JS build chain).
//!
//! The server renders nothing per user: the three files are static and never carry a token.
//! The page keeps the user's `cwt_` token in `sessionStorage` and calls the same public
//! routes a client uses (`/v1/...`, and Hrana over HTTP at `/db/<database>/v2/pipeline`
//! with a query token of audience `sql-console`), always with the `Authorization` header.

use axum::http::header::{HeaderName, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::AppState;

const INDEX_HTML: &str = include_str!("console/index.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// Only this origin's script, style and API; no frames, no form submissions, no referrer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`, `GET /_console/console.js`, `GET /_console/console.css` (and `HEAD`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/_console/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", CONSOLE_JS) }),
        )
        .route(
            "/_console/console.css",
            get(|| async { asset("text/css; charset=utf-8", CONSOLE_CSS) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("content-security-policy"), CSP),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
            (HeaderName::from_static("referrer-policy"), "no-referrer"),
            (HeaderName::from_static("x-frame-options"), "DENY"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the script and style sheet are served (`/` serves the page).
    const ASSETS_PREFIX: &str = "/_console/";

    #[test]
    fn the_page_loads_only_its_own_assets_and_no_form_can_submit_a_token() {
        assert!(INDEX_HTML.contains(&format!("{ASSETS_PREFIX}console.js")));
        assert!(INDEX_HTML.contains(&format!("{ASSETS_PREFIX}console.css")));
        // A <form> could be submitted (Enter, or with the script not loaded) and put the
        // token in a URL or a request body; the sign-in is a plain input and a button.
        assert!(!INDEX_HTML.to_ascii_lowercase().contains("<form"));
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
        // The script sends the token only in the Authorization header.
        assert!(CONSOLE_JS.contains("Authorization"));
        assert!(!CONSOLE_JS.contains("console.log"));
        assert!(CONSOLE_JS.contains("'sql-console'"));
    }
}

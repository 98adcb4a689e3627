//! The browser console at the root of the Comwit listener: one HTML page, one script and
//! one style sheet, embedded in the binary (no JS build chain).
//!
//! The server renders nothing per user: the three files are static and never carry a token.
//! The page keeps the user's `cwt_` token in `sessionStorage` and calls the same public
//! routes a client uses (`/v1/...`, and Hrana over HTTP at `/db/<database>/v2/pipeline`
//! with a query token of audience `sql-console`), always with the `Authorization` header.
//!
//! The other platforms this emulator serves are listed by the core
//! (`GET /_console/platforms`); the page reads their public APIs on their own origins with
//! the keys typed into it, under the core's CORS for this origin. This part names none of
//! them: the CSP's `connect-src` is this origin and the API URL of every other platform in
//! the core's directory, read at each request.

use axum::extract::State;
use axum::http::header::{HeaderName, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::emulator::core::Directory;

const INDEX_HTML: &str = include_str!("console/index.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// Only this origin's script and style; the API of this origin and of the emulator's other
/// platforms (`{connect}`); no frames, no form submissions, no referrer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's CSP: `connect-src 'self'` and the API URL of every other served platform.
fn csp(directory: &Directory) -> String {
    let mut connect = vec!["'self'".to_owned()];
    connect.extend(
        directory
            .others(super::SPEC.name)
            .into_iter()
            // A listed URL is `http://host:port`; anything else is left out.
            .filter(|u| {
                u.starts_with("http://") && u.bytes().all(|b| b.is_ascii_graphic() && b != b';')
            }),
    );
    CSP.replace("{connect}", &connect.join(" "))
}

/// `GET /`, `GET /_console/console.js`, `GET /_console/console.css` (and `HEAD`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|State(s): State<AppState>| async move {
                asset(&s.directory, "text/html; charset=utf-8", INDEX_HTML)
            }),
        )
        .route(
            "/_console/console.js",
            get(|State(s): State<AppState>| async move {
                asset(&s.directory, "text/javascript; charset=utf-8", CONSOLE_JS)
            }),
        )
        .route(
            "/_console/console.css",
            get(|State(s): State<AppState>| async move {
                asset(&s.directory, "text/css; charset=utf-8", CONSOLE_CSS)
            }),
        )
}

fn asset(
    directory: &Directory,
    content_type: &'static str,
    body: &'static str,
) -> impl IntoResponse {
    let csp = HeaderValue::from_str(&csp(directory))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (HeaderName::from_static("content-security-policy"), csp),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                HeaderName::from_static("referrer-policy"),
                HeaderValue::from_static("no-referrer"),
            ),
            (
                HeaderName::from_static("x-frame-options"),
                HeaderValue::from_static("DENY"),
            ),
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
        // The other platforms' keys go only in their credential headers.
        assert!(CONSOLE_JS.contains("'X-API-Key'"));
    }

    #[test]
    fn the_csp_connects_to_this_origin_and_the_other_served_platforms_only() {
        use crate::emulator::core::Listed;
        let directory = Directory::default();
        let listed = |name: &str, url: &str, console| Listed {
            name: name.to_owned(),
            url: url.to_owned(),
            console,
        };
        directory.add(listed(
            super::super::SPEC.name,
            "http://127.0.0.1:8787",
            true,
        ));
        assert!(
            csp(&directory).contains("connect-src 'self'; "),
            "{}",
            csp(&directory)
        );
        directory.add(listed("x", "http://127.0.0.1:8788", false));
        directory.add(listed("y", "http://127.0.0.1:8789", false));
        directory.add(listed("z", "http://a;script-src *", false));
        let policy = csp(&directory);
        assert!(
            policy.contains(
                "connect-src 'self' http://127.0.0.1:8788 http://127.0.0.1:8789; img-src"
            ),
            "{policy}"
        );
        assert!(
            !policy.contains("8787") && !policy.contains("script-src *"),
            "{policy}"
        );
    }
}

//! [`Route`]: one row per API route, with every fact the client needs about it.
//!
//! A platform's client writes each of its routes once, as a `Route` constant: method, path
//! template, scope or permission, retry class, guard, log label, diagnostic summary and
//! message templates. The URL of a call is built (and escaped) from the template, so the
//! template is not only a log label: a template that does not match the call's parameters
//! fails before anything is sent.

use reqwest::Method;
use url::Url;

use super::Failure;

/// Whether repeating a request after an answer that did no work is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Reads and deletes: repeating has the same effect as sending once. Retried after
    /// 429, 500, 502, 503, 504, timeouts and dropped connections.
    Idempotent,
    /// Creates that carry an idempotency key (the same key on every attempt, so the server
    /// replays the first result): retried as [`Retry::Idempotent`].
    WithIdempotencyKey,
    /// The first attempt may have taken effect (rotations, state transitions): retried only
    /// when it surely did no work (429, a refused connection).
    Never,
}

impl Retry {
    /// Whether a 5xx, a timeout or a dropped connection may be repeated.
    pub fn repeats_after_ambiguous_failure(self) -> bool {
        !matches!(self, Retry::Never)
    }
}

/// One API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path template under the base URL: literal segments and `{name}` placeholders,
    /// e.g. `/v1/databases/{database}/token/rotate`.
    pub template: &'static str,
    /// The scope or permission the route needs (`database:write`).
    pub scope: &'static str,
    /// Whether and when a failed attempt is repeated.
    pub retry: Retry,
    /// The platform rule that may refuse this route whatever the credentials' scopes
    /// (Comwit: `protected_tenant`), if any.
    pub guard: Option<&'static str>,
    /// A short label for logs and messages: "create database".
    pub label: &'static str,
    /// The diagnostic summary of a failure: "Error creating database".
    pub summary: &'static str,
    /// What was attempted, a template the platform fills in with its object names:
    /// "create database {database} in project {project}". Completes "Could not ...".
    pub describe: &'static str,
    /// What a "not found" answer means is missing, a template as `describe`.
    pub missing: &'static str,
}

/// The values a call fills a route's placeholders with.
pub trait Params: Sync {
    /// The raw (unescaped) value of placeholder `name`, if the call has one.
    fn param(&self, name: &str) -> Option<&str>;
}

impl Params for [(&str, &str)] {
    fn param(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

impl<const N: usize> Params for [(&str, &str); N] {
    fn param(&self, name: &str) -> Option<&str> {
        self.as_slice().param(name)
    }
}

/// One piece of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'t> {
    Literal(&'t str),
    Param(&'t str),
}

impl Route {
    /// The template's segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'static>> {
        self.template.split('/').filter(|s| !s.is_empty()).map(|s| {
            match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name),
                None => Segment::Literal(s),
            }
        })
    }

    /// The names of the template's placeholders, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &'static str> {
        self.segments().filter_map(|s| match s {
            Segment::Param(name) => Some(name),
            Segment::Literal(_) => None,
        })
    }

    /// The URL of this route under `base` (whose path prefix is kept), each placeholder
    /// replaced by its value percent-escaped as one path segment. An absent, empty, `.` or
    /// `..` value is refused: it would change the route.
    pub fn url(&self, base: &Url, params: &dyn Params) -> Result<Url, Failure> {
        let mut url = base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|_| Failure::InvalidInput {
                field: "api_url".to_owned(),
                message: "cannot carry a path".to_owned(),
            })?;
            path.pop_if_empty();
            for segment in self.segments() {
                match segment {
                    Segment::Literal(text) => {
                        path.push(text);
                    }
                    Segment::Param(name) => {
                        let value = params.param(name).unwrap_or("");
                        if value.is_empty() || value == "." || value == ".." {
                            return Err(Failure::InvalidInput {
                                field: name.to_owned(),
                                message: format!("`{value}` is not a valid id"),
                            });
                        }
                        path.push(value);
                    }
                }
            }
        }
        Ok(url)
    }

    /// `METHOD /template`, the key the emulator's statistics and the logs use.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// Fills `{name}` placeholders of a message template with `value(name)`; a name it has no
/// value for becomes `(unknown)`.
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                out.push_str(&value(name).unwrap_or_else(|| "(unknown)".to_owned()));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROTATE: Route = Route {
        method: Method::POST,
        template: "/v1/databases/{database}/token/rotate",
        scope: "database:write",
        retry: Retry::Never,
        guard: Some("protected_tenant"),
        label: "rotate the connection token",
        summary: "Error rotating the connection token",
        describe: "rotate the connection token of database {database}",
        missing: "database {database}",
    };

    #[test]
    fn url_is_built_and_escaped_from_the_template() {
        let base = Url::parse("http://host/api/").unwrap();
        let url = ROTATE.url(&base, &[("database", "a b/c")]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://host/api/v1/databases/a%20b%2Fc/token/rotate"
        );
        let base = Url::parse("http://host").unwrap();
        let url = ROTATE.url(&base, &[("database", "db_1")]).unwrap();
        assert_eq!(url.path(), "/v1/databases/db_1/token/rotate");
    }

    #[test]
    fn missing_or_path_changing_params_are_refused() {
        let base = Url::parse("http://host").unwrap();
        for bad in ["", ".", ".."] {
            let err = ROTATE.url(&base, &[("database", bad)]).unwrap_err();
            assert!(matches!(err, Failure::InvalidInput { ref field, .. } if field == "database"));
        }
        let err = ROTATE.url(&base, &[("project", "prj_1")]).unwrap_err();
        assert!(matches!(err, Failure::InvalidInput { ref field, .. } if field == "database"));
    }

    #[test]
    fn segments_params_and_key() {
        assert_eq!(ROTATE.param_names().collect::<Vec<_>>(), ["database"]);
        assert_eq!(ROTATE.key(), "POST /v1/databases/{database}/token/rotate");
        assert!(!Retry::Never.repeats_after_ambiguous_failure());
        assert!(Retry::WithIdempotencyKey.repeats_after_ambiguous_failure());
    }

    #[test]
    fn fill_replaces_known_names_and_marks_unknown_ones() {
        let text = fill(ROTATE.describe, |n| {
            (n == "database").then(|| "`db_1`".into())
        });
        assert_eq!(text, "rotate the connection token of database `db_1`");
        assert_eq!(fill("read {x} {", |_| None), "read (unknown) {");
    }
}

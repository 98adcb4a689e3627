//! The listening line: once a platform listens, `platform-emulator` prints one line per
//! platform to stdout, in this one format, and [`Listening::parse`] is its one parser (the
//! shell scripts' `sed` expression in `scripts/common.sh` reads the same format):
//!
//! ```text
//! platform-emulator: comwit listening on http://127.0.0.1:8787
//! ```
//!
//! `platform-emulator: <platform> listening on <url>`: the platform name is one word of
//! `[a-z0-9_-]`, the URL is `http://host:port` with no trailing slash (the real bound
//! port; an unspecified bind address is printed as loopback).
//!
//! A platform with a second listener prints a line for it too, named after the platform:
//! comwit's app gateway is `platform-emulator: comwit-apps listening on http://127.0.0.1:8790`
//! ([`crate::emulator::APPS_LISTENING_NAME`]), right after comwit's own line, then its DNS
//! server, whose URL is `dns://host:port` (UDP and TCP on that port):
//! `platform-emulator: comwit-dns listening on dns://127.0.0.1:8753`.

use std::fmt;

/// The fixed start of every listening line.
pub const LISTENING_PREFIX: &str = "platform-emulator: ";
/// The start the lines had when the binary was `comwit-emulator` (still read, for one
/// release, from logs and wrappers that kept the old name).
const OLD_LISTENING_PREFIX: &str = "comwit-emulator: ";
const LISTENING_MIDDLE: &str = " listening on ";

/// One listening line: which platform serves at which URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    /// The platform (`comwit`).
    pub platform: String,
    /// `http://host:port`.
    pub url: String,
}

impl Listening {
    /// Parses one line (surrounding whitespace and a final newline ignored); `None` when
    /// the line is not a listening line.
    ///
    /// ```
    /// use platform_emulator::Listening;
    /// let l = Listening::parse("platform-emulator: comwit listening on http://127.0.0.1:8787\n");
    /// assert_eq!(l.map(|l| (l.platform, l.url)),
    ///            Some(("comwit".to_owned(), "http://127.0.0.1:8787".to_owned())));
    /// ```
    pub fn parse(line: &str) -> Option<Listening> {
        let line = line.trim();
        let rest = line
            .strip_prefix(LISTENING_PREFIX)
            .or_else(|| line.strip_prefix(OLD_LISTENING_PREFIX))?;
        let (platform, url) = rest.split_once(LISTENING_MIDDLE)?;
        let name_ok = !platform.is_empty()
            && platform
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        let url_ok = ["http://", "dns://"]
            .iter()
            .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len())
            && !url.contains(' ');
        (name_ok && url_ok).then(|| Listening {
            platform: platform.to_owned(),
            url: url.to_owned(),
        })
    }

    /// The URL of `platform` among `lines` (the first listening line naming it).
    pub fn find<'a>(lines: impl IntoIterator<Item = &'a str>, platform: &str) -> Option<String> {
        lines
            .into_iter()
            .filter_map(Listening::parse)
            .find(|l| l.platform == platform)
            .map(|l| l.url)
    }
}

impl fmt::Display for Listening {
    /// The line as printed (without the newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{LISTENING_PREFIX}{}{LISTENING_MIDDLE}{}",
            self.platform, self.url
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let l = Listening {
            platform: "comwit".into(),
            url: "http://127.0.0.1:41234".into(),
        };
        let line = l.to_string();
        assert_eq!(
            line,
            "platform-emulator: comwit listening on http://127.0.0.1:41234"
        );
        assert_eq!(Listening::parse(&line), Some(l.clone()));
        assert_eq!(Listening::parse(&format!("  {line}\r\n")), Some(l.clone()));
        // The old binary name's lines are still read, for one release.
        let old = line.replace("platform-emulator: ", "comwit-emulator: ");
        assert_eq!(Listening::parse(&old), Some(l));
        assert_eq!(
            Listening::parse("other-emulator: comwit listening on http://127.0.0.1:1"),
            None
        );
    }

    #[test]
    fn rejects_other_lines() {
        for line in [
            "",
            "platform-emulator listening on http://127.0.0.1:8787",
            "platform-emulator: listening on http://127.0.0.1:8787",
            "platform-emulator: Comwit listening on http://127.0.0.1:8787",
            "platform-emulator: comwit listening on ",
            "platform-emulator: comwit listening on ftp://x",
            "platform-emulator: two words listening on http://127.0.0.1:1",
            "some log line",
        ] {
            assert_eq!(Listening::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn parses_the_app_gateway_line() {
        let l =
            Listening::parse("platform-emulator: comwit-apps listening on http://127.0.0.1:8790");
        assert_eq!(
            l.map(|l| (l.platform, l.url)),
            Some(("comwit-apps".to_owned(), "http://127.0.0.1:8790".to_owned()))
        );
        let lines = [
            "platform-emulator: comwit listening on http://127.0.0.1:8787",
            "platform-emulator: comwit-apps listening on http://127.0.0.1:8790",
        ];
        assert_eq!(
            Listening::find(lines, "comwit").as_deref(),
            Some("http://127.0.0.1:8787")
        );
        assert_eq!(
            Listening::find(lines, crate::emulator::APPS_LISTENING_NAME).as_deref(),
            Some("http://127.0.0.1:8790")
        );
    }

    #[test]
    fn parses_the_dns_line() {
        let l = Listening::parse("platform-emulator: comwit-dns listening on dns://127.0.0.1:8753");
        assert_eq!(
            l.map(|l| (l.platform, l.url)),
            Some(("comwit-dns".to_owned(), "dns://127.0.0.1:8753".to_owned()))
        );
        assert_eq!(
            Listening::parse("platform-emulator: comwit-dns listening on dns://"),
            None
        );
    }

    #[test]
    fn finds_a_platform_among_lines() {
        let lines = [
            "platform-emulator: wayscloud listening on http://127.0.0.1:8788",
            "platform-emulator: comwit listening on http://127.0.0.1:8787",
        ];
        assert_eq!(
            Listening::find(lines, "comwit").as_deref(),
            Some("http://127.0.0.1:8787")
        );
        assert_eq!(Listening::find(lines, "cloudsync"), None);
    }
}

//! WaysCloud's plan-time rules (the contract's, checked before anything is sent) and API
//! failures as diagnostics.

use tf_provider::value::ValueString;
use tf_provider::{AttributePath, Diagnostics};

use super::client::ApiFailure;
use super::provider::FACTS;
use crate::client::FailureKind;
use crate::plugin::kit::failure::{ClientFailure, Generic};
use crate::plugin::kit::settings::ProviderFacts;
use crate::plugin::kit::text;

/// The engines. [documented]
pub const DB_TYPES: &[&str] = &["postgresql", "mariadb"];

pub use crate::plugin::kit::failure::{api_error, deleted, found};

/// WaysCloud's failure as the kit reads it: its words, the client's common facts, and its
/// own remedies ([`own_remedy`]); the kit chooses and writes every generic one over
/// WaysCloud's [`FACTS`].
impl ClientFailure for ApiFailure {
    const FACTS: &'static ProviderFacts = &FACTS;
    fn summary(&self) -> String {
        ApiFailure::summary(self).to_owned()
    }
    fn attempt(&self) -> String {
        if self.message.is_empty() {
            self.op.describe.clone()
        } else {
            format!(
                "{}: WaysCloud said {}",
                self.op.describe,
                self.message.trim_end_matches('.')
            )
        }
    }
    fn own_remedy(&self) -> Option<String> {
        own_remedy(self)
    }
    fn lacks(&self) -> Option<String> {
        self.detail
            .permission
            .as_ref()
            .map(|permission| format!("the `{permission}` permission"))
    }
    fn and_then(&self, generic: Generic<'_>) -> Option<&'static str> {
        matches!(generic, Generic::NotTheApi { .. })
            .then_some("The answer lacks WaysCloud's error body (`detail` and `code`).")
    }
}

/// WaysCloud's own remedy for a failure, from the client's facts (its kind, code and
/// field), where it has one: not found, the quota, a conflict, a refused value, another
/// answer of its own. `None`: the kit's generic remedy.
pub fn own_remedy(failure: &ApiFailure) -> Option<String> {
    Some(match failure.kind() {
        FailureKind::NotFound => "It does not exist (any more), or belongs to another customer than the API key's.".to_owned(),
        FailureKind::Forbidden if failure.code() == Some("quota_exceeded") => "The customer's database quota is used up: delete a database you no longer need (see data source `wayscloud_quota`), or ask WaysCloud support to raise the limit.".to_owned(),
        FailureKind::Conflict => "It conflicts with an object that already exists.".to_owned(),
        FailureKind::Validation => match failure.field() {
            Some(f) => format!("WaysCloud refused the value of `{f}`."),
            None => "WaysCloud refused the request.".to_owned(),
        },
        FailureKind::Other if !failure.is_not_the_api() => match failure.status() {
            Some(status) => format!("WaysCloud answered {status}."),
            None => String::new(),
        },
        _ => return None,
    })
}

/// The `db_type` and `db_name` of a resource that belongs to a database, checked when
/// known.
pub fn check_database_ref(diags: &mut Diagnostics, db_type: &ValueString, db_name: &ValueString) {
    if let Some(t) = text(db_type) {
        check_db_type(diags, t, "db_type");
    }
    if let Some(n) = text(db_name) {
        check_db_name(diags, n, "db_name");
    }
}

pub fn check_db_type(diags: &mut Diagnostics, value: &str, attribute: &'static str) {
    if !DB_TYPES.contains(&value) {
        diags.error(
            format!("Invalid {attribute}"),
            format!("`{attribute}` must be `postgresql` or `mariadb`, got `{value}`."),
            AttributePath::new(attribute),
        );
    }
}

/// A `requested_name` (or a restore's `target_db_name`): 1 to 30 letters, digits or `_`.
/// [documented]
pub fn check_requested_name(diags: &mut Diagnostics, value: &str, attribute: &'static str) {
    if value.is_empty()
        || value.len() > 30
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        diags.error(
            format!("Invalid {attribute}"),
            format!(
                "`{attribute}` must be 1 to 30 ASCII letters, digits or underscores (WaysCloud makes the database name `cust_<customer>_<pg|my>_{attribute}` from it), got `{value}`."
            ),
            AttributePath::new(attribute),
        );
    }
}

/// A database name as WaysCloud makes them: `cust_...`, letters, digits, `_`.
pub fn check_db_name(diags: &mut Diagnostics, value: &str, attribute: &'static str) {
    if !value.starts_with("cust_")
        || value.len() > 63
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        diags.error(
            format!("Invalid {attribute}"),
            format!("`{attribute}` must be a WaysCloud database name such as `cust_6dd1d906_pg_webapp` (the `db_name` of a `wayscloud_database`), got `{value}`."),
            AttributePath::new(attribute),
        );
    }
}

/// An IPv4 address or CIDR block with no host bits set. [documented: IPv4 or CIDR]
pub fn check_ip_address(diags: &mut Diagnostics, value: &str, attribute: &'static str) {
    if let Err(why) = parse_ipv4_or_cidr(value) {
        diags.error(
            format!("Invalid {attribute}"),
            format!("`{attribute}` must be an IPv4 address or CIDR block such as `192.0.2.10` or `10.0.0.0/24`: {why}"),
            AttributePath::new(attribute),
        );
    }
}

pub fn parse_ipv4_or_cidr(value: &str) -> Result<(std::net::Ipv4Addr, u32), String> {
    let (addr, bits) = match value.split_once('/') {
        Some((a, b)) => {
            if b.is_empty() || b.len() > 2 || !b.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("`{value}` has no prefix length from 0 to 32"));
            }
            (a, b.parse::<u32>().map_err(|e| e.to_string())?)
        }
        None => (value, 32),
    };
    if bits > 32 {
        return Err(format!("the prefix length of `{value}` is larger than 32"));
    }
    let ip: std::net::Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    if u32::from(ip) & !mask != 0 {
        return Err(format!(
            "`{value}` has host bits set; the network is `{}/{bits}`",
            std::net::Ipv4Addr::from(u32::from(ip) & mask)
        ));
    }
    Ok((ip, bits))
}

/// `HH:MM` from 00:00 to 23:59.
pub fn check_time_of_day(diags: &mut Diagnostics, value: &str, attribute: &'static str) {
    let ok = value.len() == 5
        && value.as_bytes()[2] == b':'
        && value[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && value[3..].parse::<u8>().is_ok_and(|m| m < 60)
        && value
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 2 || b.is_ascii_digit());
    if !ok {
        diags.error(
            format!("Invalid {attribute}"),
            format!(
                "`{attribute}` must be a time of day `HH:MM` (UTC, 00:00 to 23:59), got `{value}`."
            ),
            AttributePath::new(attribute),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::testutil::wrong_url_failures;

    #[test]
    fn plan_time_rules() {
        let mut d = Diagnostics::default();
        check_requested_name(&mut d, "webapp_prod_db", "requested_name");
        check_ip_address(&mut d, "10.0.0.0/24", "ip_address");
        check_ip_address(&mut d, "127.0.0.2", "ip_address");
        check_time_of_day(&mut d, "02:00", "time_of_day");
        check_db_type(&mut d, "mariadb", "db_type");
        assert!(d.errors.is_empty());
        for bad in ["a-b", "", "ünïcode", &"x".repeat(31)] {
            let mut d = Diagnostics::default();
            check_requested_name(&mut d, bad, "requested_name");
            assert_eq!(
                d.errors[0].attribute,
                AttributePath::new("requested_name"),
                "{bad}"
            );
        }
        for bad in ["10.0.0.1/24", "10.0.0.0/33", "::1", "1.2.3", "10.0.0.0/"] {
            let mut d = Diagnostics::default();
            check_ip_address(&mut d, bad, "ip_address");
            assert_eq!(d.errors.len(), 1, "{bad}");
        }
        for bad in ["24:00", "2:00", "02:60", "0200"] {
            let mut d = Diagnostics::default();
            check_time_of_day(&mut d, bad, "time_of_day");
            assert_eq!(d.errors.len(), 1, "{bad}");
        }
    }
    /// A wrong `api_url` (no answer there, or an answer from elsewhere) names the URL asked,
    /// once, as every provider does.
    #[test]
    fn a_wrong_api_url_names_the_url_asked() {
        use crate::wayscloud::client::{kind_of, Detail, Operation};
        const URL: &str = "http://127.0.0.1:9/nothing-here/v1/databases/postgresql";
        let op = Operation {
            route: &crate::wayscloud::client::routes::LIST_DATABASES,
            describe: "list the postgresql databases".into(),
        };
        for f in wrong_url_failures::<_, Detail>(&op, URL, kind_of) {
            let d = ClientFailure::detail(&f);
            assert_eq!(d.matches(URL).count(), 1, "{d}");
            assert!(d.contains(&format!("(the provider asked {URL})")), "{d}");
            assert!(d.contains("WAYSCLOUD_API_URL"), "{d}");
        }
    }

    #[test]
    fn a_forbidden_detail_names_the_permission_and_the_setting() {
        use crate::client::Facts;
        use crate::wayscloud::client::{Detail, Operation};
        let op = Operation {
            route: &crate::wayscloud::client::routes::CREATE_DATABASE,
            describe: "create a postgresql database".into(),
        };
        let failure = ApiFailure::from(Facts {
            status: Some(403),
            documented: true,
            code: Some("forbidden".into()),
            message: "API key lacks permission database:create".into(),
            detail: Detail {
                permission: Some("database:create".into()),
            },
            ..Facts::new(op.clone(), FailureKind::Forbidden)
        });
        assert_eq!(
            ClientFailure::detail(&failure),
            "Could not create a postgresql database: WaysCloud said API key lacks permission \
             database:create. Use an API key that has the `database:create` permission (set \
             `api_key` in the provider block or the WAYSCLOUD_API_KEY environment variable), \
             or ask your WaysCloud administrator to grant it."
        );
        let foreign = ApiFailure::from(Facts {
            status: Some(401),
            ..Facts::new(op.clone(), FailureKind::Other)
        });
        let d = ClientFailure::detail(&foreign);
        assert!(
            d.contains("`api_url`") && d.contains("WAYSCLOUD_API_URL"),
            "{d}"
        );
        assert!(
            !d.contains("API key was refused") && !d.contains("that has"),
            "{d}"
        );
        let refused = ApiFailure::from(Facts {
            status: Some(401),
            documented: true,
            ..Facts::new(op.clone(), FailureKind::Unauthorized)
        });
        assert!(ClientFailure::detail(&refused).contains("The API key was refused: set `api_key`"));
        let stopped = ApiFailure::from(Facts::new(op, FailureKind::Cancelled));
        assert_eq!(
            ClientFailure::detail(&stopped),
            "Could not create a postgresql database. Terraform asked the provider to stop. If \
             the request had already been sent it may have taken effect; refresh before \
             trying again."
        );
    }
}

//! Every WaysCloud route, written once (`docs/api/wayscloud.md`). Templates use the
//! reference's paths; `{db_type}`, `{db_name}`, `{rule_id}`, `{snapshot_id}` are filled and
//! escaped by the client core.

use reqwest::Method;

use crate::client::{Retry, Route};

macro_rules! route {
    ($name:ident, $method:ident, $template:literal, $perm:literal, $retry:ident, $label:literal, $summary:literal, $describe:literal, $missing:literal) => {
        pub const $name: Route = Route {
            method: Method::$method,
            template: $template,
            scope: $perm,
            retry: Retry::$retry,
            guard: None,
            label: $label,
            summary: $summary,
            describe: $describe,
            missing: $missing,
        };
    };
}

route!(
    CREATE_DATABASE,
    POST,
    "/v1/databases",
    "database:create",
    Never,
    "create database",
    "Error creating database",
    "create a {db_type} database",
    "the database"
);
route!(
    DELETE_DATABASE,
    DELETE,
    "/v1/databases/{db_type}/{db_name}",
    "database:delete",
    Idempotent,
    "delete database",
    "Error deleting database",
    "delete database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    UPDATE_DATABASE,
    PATCH,
    "/v1/databases/{db_type}/{db_name}",
    "database:update",
    Idempotent,
    "update database",
    "Error updating database",
    "update database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    LIST_DATABASES,
    GET,
    "/v1/databases/{db_type}",
    "database:read",
    Idempotent,
    "list databases",
    "Error listing databases",
    "list {db_type} databases",
    "the database list"
);
route!(
    LIST_ENGINES,
    GET,
    "/v1/databases/engines",
    "",
    Idempotent,
    "list engines",
    "Error listing database engines",
    "list database engines",
    "the engine list"
);
route!(
    RESTART,
    POST,
    "/v1/databases/{db_type}/{db_name}/restart",
    "database:update",
    Never,
    "restart database",
    "Error restarting database",
    "end the connections of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    CREDENTIALS,
    GET,
    "/v1/databases/{db_type}/{db_name}/credentials",
    "database:read",
    Idempotent,
    "get credentials",
    "Error reading database credentials",
    "read the credentials of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    ROTATE,
    POST,
    "/v1/databases/{db_type}/{db_name}/credentials/rotate",
    "database:update",
    Never,
    "rotate credentials",
    "Error rotating database credentials",
    "rotate the password of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    INFO,
    GET,
    "/v1/databases/{db_type}/{db_name}/info",
    "database:read",
    Idempotent,
    "get info",
    "Error reading database info",
    "read the info of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    METRICS,
    GET,
    "/v1/databases/{db_type}/{db_name}/metrics",
    "database:read",
    Idempotent,
    "get metrics",
    "Error reading database metrics",
    "read the metrics of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    ADD_RULE,
    POST,
    "/v1/databases/{db_type}/{db_name}/firewall",
    "database:update",
    Never,
    "add firewall rule",
    "Error adding firewall rule",
    "add a firewall rule to database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    LIST_RULES,
    GET,
    "/v1/databases/{db_type}/{db_name}/firewall",
    "database:read",
    Idempotent,
    "list firewall rules",
    "Error listing firewall rules",
    "list the firewall rules of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    DELETE_RULE,
    DELETE,
    "/v1/databases/{db_type}/{db_name}/firewall/{rule_id}",
    "database:update",
    Idempotent,
    "delete firewall rule",
    "Error deleting firewall rule",
    "delete firewall rule `{rule_id}` of database `{db_name}` ({db_type})",
    "firewall rule `{rule_id}`"
);
route!(
    QUOTA,
    GET,
    "/v1/quota",
    "database:read",
    Idempotent,
    "get quota",
    "Error reading database quota",
    "read the database quota",
    "the quota"
);
route!(
    HISTORY,
    GET,
    "/v1/databases/history",
    "database:read",
    Idempotent,
    "list history",
    "Error reading database history",
    "read the database history",
    "the history"
);
route!(
    CREATE_SNAPSHOT,
    POST,
    "/v1/databases/{db_type}/{db_name}/snapshots",
    "database:read",
    Never,
    "create snapshot",
    "Error creating snapshot",
    "snapshot database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    LIST_SNAPSHOTS,
    GET,
    "/v1/databases/{db_type}/{db_name}/snapshots",
    "database:read",
    Idempotent,
    "list snapshots",
    "Error listing snapshots",
    "list the snapshots of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    DELETE_SNAPSHOT,
    DELETE,
    "/v1/databases/{db_type}/{db_name}/snapshots/{snapshot_id}",
    "database:delete",
    Idempotent,
    "delete snapshot",
    "Error deleting snapshot",
    "delete snapshot `{snapshot_id}` of database `{db_name}` ({db_type})",
    "snapshot `{snapshot_id}`"
);
route!(
    RESTORE,
    POST,
    "/v1/databases/{db_type}/{db_name}/restore",
    "database:update",
    Never,
    "restore snapshot",
    "Error restoring snapshot",
    "restore snapshot `{snapshot_id}` of database `{db_name}` ({db_type})",
    "snapshot `{snapshot_id}` or database `{db_name}`"
);
route!(
    GET_POLICY,
    GET,
    "/v1/databases/{db_type}/{db_name}/backup-policy",
    "database:read",
    Idempotent,
    "get backup policy",
    "Error reading backup policy",
    "read the backup policy of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);
route!(
    SET_POLICY,
    PUT,
    "/v1/databases/{db_type}/{db_name}/backup-policy",
    "database:update",
    Idempotent,
    "set backup policy",
    "Error setting backup policy",
    "set the backup policy of database `{db_name}` ({db_type})",
    "database `{db_name}` ({db_type})"
);

/// Every route, in the reference's order.
pub const ROUTES: &[&Route] = &[
    &CREATE_DATABASE,
    &DELETE_DATABASE,
    &UPDATE_DATABASE,
    &LIST_DATABASES,
    &LIST_ENGINES,
    &RESTART,
    &CREDENTIALS,
    &ROTATE,
    &INFO,
    &ADD_RULE,
    &LIST_RULES,
    &DELETE_RULE,
    &METRICS,
    &QUOTA,
    &HISTORY,
    &CREATE_SNAPSHOT,
    &LIST_SNAPSHOTS,
    &RESTORE,
    &DELETE_SNAPSHOT,
    &GET_POLICY,
    &SET_POLICY,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The 22 endpoints of the reference (the body-delete is not used: the path delete
    /// calls the same logic), each once.
    #[test]
    fn every_route_is_the_reference_s() {
        let keys: std::collections::BTreeSet<String> = ROUTES.iter().map(|r| r.key()).collect();
        assert_eq!(keys.len(), ROUTES.len());
        for expected in [
            "POST /v1/databases",
            "PATCH /v1/databases/{db_type}/{db_name}",
            "POST /v1/databases/{db_type}/{db_name}/credentials/rotate",
            "DELETE /v1/databases/{db_type}/{db_name}/firewall/{rule_id}",
            "PUT /v1/databases/{db_type}/{db_name}/backup-policy",
        ] {
            assert!(keys.contains(expected), "{expected} in {keys:?}");
        }
    }
}

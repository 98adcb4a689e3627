//! Every WaysCloud route, written once (`docs/api/wayscloud.md`). Templates use the
//! reference's paths; `{db_type}`, `{db_name}`, `{rule_id}`, `{snapshot_id}` are filled and
//! escaped by the client core.

use reqwest::Method;

use crate::client::{Retry, Route};

/// What every WaysCloud route shares: no guard (WaysCloud has no platform rule that refuses
/// a route whatever the key's permissions).
const BASE: Route = Route {
    method: Method::GET,
    template: "",
    scope: "",
    retry: Retry::Idempotent,
    guard: None,
    label: "",
    summary: "",
    describe: "",
    missing: "",
};

pub const CREATE_DATABASE: Route = Route {
    method: Method::POST,
    template: "/v1/databases",
    scope: "database:create",
    retry: Retry::Never,
    label: "create database",
    summary: "Error creating database",
    describe: "create a {db_type} database",
    missing: "the database",
    ..BASE
};

pub const DELETE_DATABASE: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{db_type}/{db_name}",
    scope: "database:delete",
    retry: Retry::Idempotent,
    label: "delete database",
    summary: "Error deleting database",
    describe: "delete database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const UPDATE_DATABASE: Route = Route {
    method: Method::PATCH,
    template: "/v1/databases/{db_type}/{db_name}",
    scope: "database:update",
    retry: Retry::Idempotent,
    label: "update database",
    summary: "Error updating database",
    describe: "update database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const LIST_DATABASES: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "list databases",
    summary: "Error listing databases",
    describe: "list {db_type} databases",
    missing: "the database list",
    ..BASE
};

pub const LIST_ENGINES: Route = Route {
    method: Method::GET,
    template: "/v1/databases/engines",
    scope: "",
    retry: Retry::Idempotent,
    label: "list engines",
    summary: "Error listing database engines",
    describe: "list database engines",
    missing: "the engine list",
    ..BASE
};

pub const RESTART: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{db_type}/{db_name}/restart",
    scope: "database:update",
    retry: Retry::Never,
    label: "restart database",
    summary: "Error restarting database",
    describe: "end the connections of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const CREDENTIALS: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/credentials",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "get credentials",
    summary: "Error reading database credentials",
    describe: "read the credentials of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const ROTATE: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{db_type}/{db_name}/credentials/rotate",
    scope: "database:update",
    retry: Retry::Never,
    label: "rotate credentials",
    summary: "Error rotating database credentials",
    describe: "rotate the password of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const INFO: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/info",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "get info",
    summary: "Error reading database info",
    describe: "read the info of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const METRICS: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/metrics",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "get metrics",
    summary: "Error reading database metrics",
    describe: "read the metrics of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const ADD_RULE: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{db_type}/{db_name}/firewall",
    scope: "database:update",
    retry: Retry::Never,
    label: "add firewall rule",
    summary: "Error adding firewall rule",
    describe: "add a firewall rule to database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const LIST_RULES: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/firewall",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "list firewall rules",
    summary: "Error listing firewall rules",
    describe: "list the firewall rules of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const DELETE_RULE: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{db_type}/{db_name}/firewall/{rule_id}",
    scope: "database:update",
    retry: Retry::Idempotent,
    label: "delete firewall rule",
    summary: "Error deleting firewall rule",
    describe: "delete firewall rule `{rule_id}` of database `{db_name}` ({db_type})",
    missing: "firewall rule `{rule_id}`",
    ..BASE
};

pub const QUOTA: Route = Route {
    method: Method::GET,
    template: "/v1/quota",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "get quota",
    summary: "Error reading database quota",
    describe: "read the database quota",
    missing: "the quota",
    ..BASE
};

pub const HISTORY: Route = Route {
    method: Method::GET,
    template: "/v1/databases/history",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "list history",
    summary: "Error reading database history",
    describe: "read the database history",
    missing: "the history",
    ..BASE
};

pub const CREATE_SNAPSHOT: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{db_type}/{db_name}/snapshots",
    scope: "database:read",
    retry: Retry::Never,
    label: "create snapshot",
    summary: "Error creating snapshot",
    describe: "snapshot database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const LIST_SNAPSHOTS: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/snapshots",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "list snapshots",
    summary: "Error listing snapshots",
    describe: "list the snapshots of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const DELETE_SNAPSHOT: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{db_type}/{db_name}/snapshots/{snapshot_id}",
    scope: "database:delete",
    retry: Retry::Idempotent,
    label: "delete snapshot",
    summary: "Error deleting snapshot",
    describe: "delete snapshot `{snapshot_id}` of database `{db_name}` ({db_type})",
    missing: "snapshot `{snapshot_id}`",
    ..BASE
};

pub const RESTORE: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{db_type}/{db_name}/restore",
    scope: "database:update",
    retry: Retry::Never,
    label: "restore snapshot",
    summary: "Error restoring snapshot",
    describe: "restore snapshot `{snapshot_id}` of database `{db_name}` ({db_type})",
    missing: "snapshot `{snapshot_id}` or database `{db_name}`",
    ..BASE
};

pub const GET_POLICY: Route = Route {
    method: Method::GET,
    template: "/v1/databases/{db_type}/{db_name}/backup-policy",
    scope: "database:read",
    retry: Retry::Idempotent,
    label: "get backup policy",
    summary: "Error reading backup policy",
    describe: "read the backup policy of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

pub const SET_POLICY: Route = Route {
    method: Method::PUT,
    template: "/v1/databases/{db_type}/{db_name}/backup-policy",
    scope: "database:update",
    retry: Retry::Idempotent,
    label: "set backup policy",
    summary: "Error setting backup policy",
    describe: "set the backup policy of database `{db_name}` ({db_type})",
    missing: "database `{db_name}` ({db_type})",
    ..BASE
};

/// Every route, in the reference's order.
pub static ROUTES: &[&Route] = &[
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

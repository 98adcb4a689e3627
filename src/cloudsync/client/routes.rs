//! CloudSync's API routes, one named constant each ([`ROUTES`] lists them), from
//! `docs/api/cloudsync.md`.

use crate::client::{Retry, Route};
use reqwest::Method;

const READ: Route = Route {
    method: Method::GET,
    template: "",
    scope: "workspace-admin",
    retry: Retry::Idempotent,
    guard: None,
    label: "",
    summary: "",
    describe: "",
    missing: "database {database}",
};

// The routes, one named constant each. Reads, deletes, the Expo token PUT and
// enable/disable repeat after an ambiguous failure (each states an end state); create and
// PATCH do not (the API has no idempotency key).

pub const GET_ORG: Route = Route {
    template: "/v1/orgs",
    label: "read organization",
    summary: "Error reading the CloudSync organization",
    describe: "read the organization of the API key",
    missing: "the organization",
    ..READ
};

pub const LIST_DATABASES: Route = Route {
    template: "/v1/databases",
    label: "list databases",
    summary: "Error listing CloudSync databases",
    describe: "list the managed databases",
    missing: "the API route",
    ..READ
};

pub const CREATE_DATABASE: Route = Route {
    method: Method::POST,
    template: "/v1/databases",
    retry: Retry::Never,
    label: "register database",
    summary: "Error registering CloudSync database",
    describe: "register database {label}",
    missing: "the API route",
    ..READ
};

pub const GET_DATABASE: Route = Route {
    template: "/v1/databases/{database}",
    label: "read database",
    summary: "Error reading CloudSync database",
    describe: "read database {database}",
    ..READ
};

pub const PATCH_DATABASE: Route = Route {
    method: Method::PATCH,
    template: "/v1/databases/{database}",
    retry: Retry::Never,
    label: "update database",
    summary: "Error updating CloudSync database",
    describe: "update database {database}",
    ..READ
};

pub const DELETE_DATABASE: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{database}",
    label: "delete database",
    summary: "Error deleting CloudSync database",
    describe: "delete database {database}",
    ..READ
};

pub const CHECK_CONNECTION: Route = Route {
    template: "/v1/databases/{database}/connection",
    label: "check connection",
    summary: "Error checking the CloudSync database connection",
    describe: "check the connection of database {database}",
    ..READ
};

pub const LIST_TABLES: Route = Route {
    template: "/v1/databases/{database}/cloudsync/tables",
    label: "list tables",
    summary: "Error listing CloudSync tables",
    describe: "list the tables of database {database}",
    ..READ
};

pub const ENABLE_TABLES: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{database}/cloudsync/enable",
    label: "enable tables",
    summary: "Error enabling CloudSync on a table",
    describe: "enable CloudSync on table {table} of database {database}",
    ..READ
};

pub const DISABLE_TABLES: Route = Route {
    method: Method::POST,
    template: "/v1/databases/{database}/cloudsync/disable",
    label: "disable tables",
    summary: "Error disabling CloudSync on a table",
    describe: "disable CloudSync on table {table} of database {database}",
    ..READ
};

pub const PUT_EXPO_TOKEN: Route = Route {
    method: Method::PUT,
    template: "/v1/databases/{database}/notifications/expo-access-token",
    label: "set Expo access token",
    summary: "Error setting the Expo access token",
    describe: "set the Expo access token of database {database}",
    ..READ
};

pub const GET_EXPO_TOKEN: Route = Route {
    template: "/v1/databases/{database}/notifications/expo-access-token",
    label: "read Expo access token",
    summary: "Error reading the Expo access token",
    describe: "read the Expo access token metadata of database {database}",
    ..READ
};

pub const DELETE_EXPO_TOKEN: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{database}/notifications/expo-access-token",
    label: "remove Expo access token",
    summary: "Error removing the Expo access token",
    describe: "remove the Expo access token of database {database}",
    missing: "the Expo access token of database {database}",
    ..READ
};

pub const NOTIFICATION_STATUS: Route = Route {
    template: "/v1/databases/{database}/notifications/status",
    label: "read notification status",
    summary: "Error reading the push notification status",
    describe: "read the push notification status of database {database}",
    ..READ
};

pub const LIST_DEVICES: Route = Route {
    template: "/v1/databases/{database}/devices",
    label: "list devices",
    summary: "Error listing devices",
    describe: "list the devices of database {database}",
    ..READ
};

pub const DELETE_DEVICE: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{database}/devices/{site}",
    label: "remove device",
    summary: "Error removing a device",
    describe: "remove device {site} of database {database}",
    missing: "device {site} of database {database}",
    ..READ
};

/// Every route, for the tests that check each one.
pub static ROUTES: [&Route; 16] = [
    &GET_ORG,
    &LIST_DATABASES,
    &CREATE_DATABASE,
    &GET_DATABASE,
    &PATCH_DATABASE,
    &DELETE_DATABASE,
    &CHECK_CONNECTION,
    &LIST_TABLES,
    &ENABLE_TABLES,
    &DISABLE_TABLES,
    &PUT_EXPO_TOKEN,
    &GET_EXPO_TOKEN,
    &DELETE_EXPO_TOKEN,
    &NOTIFICATION_STATUS,
    &LIST_DEVICES,
    &DELETE_DEVICE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_once_with_its_facts() {
        assert_eq!(GET_ORG.template, "/v1/orgs");
        assert_eq!(DELETE_DEVICE.label, "remove device");
        assert_eq!(PATCH_DATABASE.method, Method::PATCH);
        assert_eq!(GET_EXPO_TOKEN.method, Method::GET);
        assert_eq!(CREATE_DATABASE.retry, Retry::Never);
        let keys: std::collections::BTreeSet<String> = ROUTES.iter().map(|r| r.key()).collect();
        assert_eq!(keys.len(), ROUTES.len(), "each route once");
        for r in ROUTES {
            assert!(!r.label.is_empty() && !r.summary.is_empty(), "{}", r.key());
        }
    }
}

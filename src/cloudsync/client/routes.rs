//! CloudSync's API routes, one row each ([`ROUTES`]), from `docs/api/cloudsync.md`.

use crate::client::{Retry, Route};
use reqwest::Method;

/// Which route a call uses; [`Kind::route`] gives its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    GetOrg,
    ListDatabases,
    CreateDatabase,
    GetDatabase,
    PatchDatabase,
    DeleteDatabase,
    CheckConnection,
    ListTables,
    EnableTables,
    DisableTables,
    PutExpoToken,
    GetExpoToken,
    DeleteExpoToken,
    NotificationStatus,
    ListDevices,
    DeleteDevice,
}

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

/// One row per route, in [`Kind`] order. Reads, deletes, the Expo token PUT and
/// enable/disable repeat after an ambiguous failure (each states an end state); create and
/// PATCH do not (the API has no idempotency key).
pub static ROUTES: [Route; 16] = [
    Route {
        template: "/v1/orgs",
        label: "read organization",
        summary: "Error reading the CloudSync organization",
        describe: "read the organization of the API key",
        missing: "the organization",
        ..READ
    },
    Route {
        template: "/v1/databases",
        label: "list databases",
        summary: "Error listing CloudSync databases",
        describe: "list the managed databases",
        missing: "the API route",
        ..READ
    },
    Route {
        method: Method::POST,
        template: "/v1/databases",
        retry: Retry::Never,
        label: "register database",
        summary: "Error registering CloudSync database",
        describe: "register database {label}",
        missing: "the API route",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}",
        label: "read database",
        summary: "Error reading CloudSync database",
        describe: "read database {database}",
        ..READ
    },
    Route {
        method: Method::PATCH,
        template: "/v1/databases/{database}",
        retry: Retry::Never,
        label: "update database",
        summary: "Error updating CloudSync database",
        describe: "update database {database}",
        ..READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/databases/{database}",
        label: "delete database",
        summary: "Error deleting CloudSync database",
        describe: "delete database {database}",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}/connection",
        label: "check connection",
        summary: "Error checking the CloudSync database connection",
        describe: "check the connection of database {database}",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}/cloudsync/tables",
        label: "list tables",
        summary: "Error listing CloudSync tables",
        describe: "list the tables of database {database}",
        ..READ
    },
    Route {
        method: Method::POST,
        template: "/v1/databases/{database}/cloudsync/enable",
        label: "enable tables",
        summary: "Error enabling CloudSync on a table",
        describe: "enable CloudSync on table {table} of database {database}",
        ..READ
    },
    Route {
        method: Method::POST,
        template: "/v1/databases/{database}/cloudsync/disable",
        label: "disable tables",
        summary: "Error disabling CloudSync on a table",
        describe: "disable CloudSync on table {table} of database {database}",
        ..READ
    },
    Route {
        method: Method::PUT,
        template: "/v1/databases/{database}/notifications/expo-access-token",
        label: "set Expo access token",
        summary: "Error setting the Expo access token",
        describe: "set the Expo access token of database {database}",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}/notifications/expo-access-token",
        label: "read Expo access token",
        summary: "Error reading the Expo access token",
        describe: "read the Expo access token metadata of database {database}",
        ..READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/databases/{database}/notifications/expo-access-token",
        label: "remove Expo access token",
        summary: "Error removing the Expo access token",
        describe: "remove the Expo access token of database {database}",
        missing: "the Expo access token of database {database}",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}/notifications/status",
        label: "read notification status",
        summary: "Error reading the push notification status",
        describe: "read the push notification status of database {database}",
        ..READ
    },
    Route {
        template: "/v1/databases/{database}/devices",
        label: "list devices",
        summary: "Error listing devices",
        describe: "list the devices of database {database}",
        ..READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/databases/{database}/devices/{site}",
        label: "remove device",
        summary: "Error removing a device",
        describe: "remove device {site} of database {database}",
        missing: "device {site} of database {database}",
        ..READ
    },
];

impl Kind {
    pub fn route(self) -> &'static Route {
        &ROUTES[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_kind_order() {
        assert_eq!(Kind::GetOrg.route().template, "/v1/orgs");
        assert_eq!(Kind::DeleteDevice.route().label, "remove device");
        assert_eq!(Kind::PatchDatabase.route().method, Method::PATCH);
        assert_eq!(Kind::GetExpoToken.route().method, Method::GET);
        assert_eq!(Kind::CreateDatabase.route().retry, Retry::Never);
        for (i, r) in ROUTES.iter().enumerate() {
            assert!(!r.label.is_empty() && !r.summary.is_empty(), "row {i}");
        }
    }
}

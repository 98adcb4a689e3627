//! Comwit's API routes, one row each ([`ROUTES`]), and [`Operation`]: one client call, its
//! route and the ids (and, when known, the name) of the objects it acts on, so an error
//! can say what failed and on what.
//!
//! The facts come from the contract (`docs/api/comwit.md`): its route table, scope table
//! and protected-tenant rule. The URL of every call is built from the row's template.

use crate::client::{route, Params, Retry, Route};
use reqwest::Method;

/// Which API route a call uses; [`OperationKind::route`] gives its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    ListProjects,
    GetProject,
    ListDatabases,
    CreateDatabase,
    GetDatabase,
    DeleteDatabase,
    RotateDatabaseToken,
    CreateQueryToken,
    SuspendDatabase,
    ResumeDatabase,
    GetDatabaseUsage,
}

/// The guard of the operations the platform refuses on a protected tenant
/// (`PLATFORM_API_PROTECTED_TENANTS`).
pub const PROTECTED_TENANT: Option<&str> = Some("protected_tenant");

const READ: Route = Route {
    method: Method::GET,
    template: "",
    scope: "database:read",
    retry: Retry::Idempotent,
    guard: None,
    label: "",
    summary: "",
    describe: "",
    missing: "database {database}",
};

const WRITE: Route = Route {
    method: Method::POST,
    scope: "database:write",
    retry: Retry::Never,
    guard: PROTECTED_TENANT,
    ..READ
};

/// One row per route, in [`OperationKind`] order. Retry classes: reads and delete repeat
/// (a repeated delete at worst answers 404); create carries an `Idempotency-Key`, so the
/// server replays the first result; rotate, suspend, resume and query-token do not, since
/// the first attempt may have taken effect.
pub static ROUTES: [Route; 11] = [
    Route {
        template: "/v1/projects",
        scope: "project:read",
        label: "list projects",
        summary: "Error listing projects",
        describe: "list projects",
        missing: "the API route",
        ..READ
    },
    Route {
        template: "/v1/projects/{project}",
        scope: "project:read",
        label: "read project",
        summary: "Error reading project",
        describe: "read project {project}",
        missing: "project {project}",
        ..READ
    },
    Route {
        template: "/v1/projects/{project}/databases",
        label: "list databases",
        summary: "Error listing databases",
        describe: "list databases in project {project}",
        missing: "project {project}",
        ..READ
    },
    Route {
        template: "/v1/projects/{project}/databases",
        retry: Retry::WithIdempotencyKey,
        guard: None,
        label: "create database",
        summary: "Error creating database",
        describe: "create database {database} in project {project}",
        missing: "project {project}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}",
        label: "read database",
        summary: "Error reading database",
        describe: "read database {database}",
        ..READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/databases/{database}",
        retry: Retry::Idempotent,
        label: "delete database",
        summary: "Error deleting database",
        describe: "delete database {database}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}/token/rotate",
        label: "rotate the connection token",
        summary: "Error rotating the connection token",
        describe: "rotate the connection token of database {database}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}/query-token",
        label: "issue a query token",
        summary: "Error issuing a query token",
        describe: "issue a query token for database {database}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}/suspend",
        label: "suspend database",
        summary: "Error suspending database",
        describe: "suspend database {database}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}/resume",
        label: "resume database",
        summary: "Error resuming database",
        describe: "resume database {database}",
        ..WRITE
    },
    Route {
        template: "/v1/databases/{database}/usage",
        label: "read database usage",
        summary: "Error reading database usage",
        describe: "read usage of database {database}",
        ..READ
    },
];

impl OperationKind {
    /// Every kind, in [`ROUTES`] order.
    pub const ALL: [OperationKind; 11] = [
        OperationKind::ListProjects,
        OperationKind::GetProject,
        OperationKind::ListDatabases,
        OperationKind::CreateDatabase,
        OperationKind::GetDatabase,
        OperationKind::DeleteDatabase,
        OperationKind::RotateDatabaseToken,
        OperationKind::CreateQueryToken,
        OperationKind::SuspendDatabase,
        OperationKind::ResumeDatabase,
        OperationKind::GetDatabaseUsage,
    ];

    /// This kind's row.
    pub fn route(self) -> &'static Route {
        &ROUTES[self as usize]
    }

    /// A human label: "create database", "rotate the connection token", ...
    pub fn label(self) -> &'static str {
        self.route().label
    }

    /// The diagnostic summary for a failure: "Error creating database", ...
    pub fn summary(self) -> &'static str {
        self.route().summary
    }

    /// The token scope the route needs (the contract's scope table).
    pub fn required_scope(self) -> &'static str {
        self.route().scope
    }

    /// Whether the platform refuses this operation on a protected tenant: suspend, resume,
    /// delete, rotate token and issue query token.
    pub fn protected_tenant_guarded(self) -> bool {
        self.route().guard == PROTECTED_TENANT
    }

    /// Whether repeating the request after a 5xx, a timeout or a lost connection is safe.
    /// Every kind is retried after a 429 or a refused connection, since neither did any work.
    pub fn retry_safe(self) -> bool {
        self.route().retry.repeats_after_ambiguous_failure()
    }
}

/// One client call: its route kind and the ids (and, when known, the name) of the objects
/// it acts on. Its ids fill the route's placeholders (`{project}`, `{database}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub kind: OperationKind,
    pub project_id: Option<String>,
    pub database_id: Option<String>,
    /// The database's name, when the caller knows it (create always does); used only in
    /// messages.
    pub database_name: Option<String>,
}

impl Params for Operation {
    fn param(&self, name: &str) -> Option<&str> {
        match name {
            "project" => self.project_id.as_deref(),
            "database" => self.database_id.as_deref(),
            _ => None,
        }
    }
}

impl Operation {
    /// An operation with no object ids yet.
    pub fn new(kind: OperationKind) -> Self {
        Operation {
            kind,
            project_id: None,
            database_id: None,
            database_name: None,
        }
    }

    pub(crate) fn on_project(kind: OperationKind, project_id: &str) -> Self {
        Operation {
            project_id: Some(project_id.to_owned()),
            ..Operation::new(kind)
        }
    }

    pub(crate) fn on_database(kind: OperationKind, database_id: &str) -> Self {
        Operation {
            database_id: Some(database_id.to_owned()),
            ..Operation::new(kind)
        }
    }

    /// Adds the database's name, for messages.
    pub fn with_database_name(mut self, name: impl Into<String>) -> Self {
        self.database_name = Some(name.into());
        self
    }

    /// This call's row.
    pub fn route(&self) -> &'static Route {
        self.kind.route()
    }

    /// See [`OperationKind::label`].
    pub fn label(&self) -> &'static str {
        self.kind.label()
    }

    /// See [`OperationKind::required_scope`].
    pub fn required_scope(&self) -> &'static str {
        self.kind.required_scope()
    }

    /// See [`OperationKind::protected_tenant_guarded`].
    pub fn protected_tenant_guarded(&self) -> bool {
        self.kind.protected_tenant_guarded()
    }

    /// See [`OperationKind::summary`].
    pub fn summary(&self) -> &'static str {
        self.kind.summary()
    }

    /// The database as messages name it: "`orders` (`db_123`)", "`db_123`" or "`orders`".
    pub(crate) fn database_ref(&self) -> String {
        match (&self.database_name, &self.database_id) {
            (Some(name), Some(id)) if name != id => format!("`{name}` (`{id}`)"),
            (Some(name), _) => format!("`{name}`"),
            (None, Some(id)) => format!("`{id}`"),
            (None, None) => "(unknown)".to_owned(),
        }
    }

    /// A message template of this call's row filled with its objects.
    fn fill(&self, template: &str) -> String {
        route::fill(template, |name| match name {
            "project" => self.project_id.as_ref().map(|p| format!("`{p}`")),
            "database" => Some(self.database_ref()),
            _ => None,
        })
    }

    /// What was attempted, with its objects: "create database `orders` in project
    /// `prj_123`". Completes "Could not ...".
    pub fn describe(&self) -> String {
        self.fill(self.route().describe)
    }

    /// What kind of object a 404 means is missing, with its id.
    pub(crate) fn missing_object(&self) -> String {
        self.fill(self.route().missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_kind_order_and_templates_match_the_operations() {
        for (i, kind) in OperationKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
            let route = kind.route();
            assert!(route.template.starts_with("/v1/"), "{kind:?}");
            for name in route.param_names() {
                assert!(["project", "database"].contains(&name), "{kind:?}: {name}");
            }
            for text in [route.label, route.summary, route.describe, route.missing] {
                assert!(!text.is_empty(), "{kind:?}");
            }
        }
    }

    #[test]
    fn exactly_five_operations_are_guarded() {
        let guarded: Vec<_> = OperationKind::ALL
            .iter()
            .filter(|k| k.protected_tenant_guarded())
            .collect();
        assert_eq!(guarded.len(), 5);
        assert!(!OperationKind::GetDatabase.protected_tenant_guarded());
        assert!(!OperationKind::CreateDatabase.protected_tenant_guarded());
    }

    #[test]
    fn scopes_follow_the_contract() {
        assert_eq!(OperationKind::ListProjects.required_scope(), "project:read");
        assert_eq!(
            OperationKind::GetDatabaseUsage.required_scope(),
            "database:read"
        );
        assert_eq!(
            OperationKind::CreateQueryToken.required_scope(),
            "database:write"
        );
        for kind in OperationKind::ALL {
            if kind.route().method == Method::GET {
                assert!(kind.required_scope().ends_with(":read"), "{kind:?}");
                assert!(kind.retry_safe(), "{kind:?}");
            } else {
                assert_eq!(kind.required_scope(), "database:write", "{kind:?}");
            }
        }
    }

    #[test]
    fn unsafe_posts_are_not_retry_safe() {
        assert!(OperationKind::CreateDatabase.retry_safe());
        assert_eq!(
            OperationKind::CreateDatabase.route().retry,
            Retry::WithIdempotencyKey
        );
        assert!(OperationKind::DeleteDatabase.retry_safe());
        assert!(!OperationKind::RotateDatabaseToken.retry_safe());
        assert!(!OperationKind::CreateQueryToken.retry_safe());
        assert!(!OperationKind::SuspendDatabase.retry_safe());
        assert!(!OperationKind::ResumeDatabase.retry_safe());
    }

    #[test]
    fn describe_names_the_objects() {
        let op = Operation::on_project(OperationKind::CreateDatabase, "prj_123")
            .with_database_name("orders");
        assert_eq!(
            op.describe(),
            "create database `orders` in project `prj_123`"
        );
        let op = Operation::on_database(OperationKind::RotateDatabaseToken, "db_1");
        assert_eq!(
            op.describe(),
            "rotate the connection token of database `db_1`"
        );
        let op = op.with_database_name("orders");
        assert_eq!(
            op.describe(),
            "rotate the connection token of database `orders` (`db_1`)"
        );
        assert_eq!(op.missing_object(), "database `orders` (`db_1`)");
        let op = Operation::new(OperationKind::ListProjects);
        assert_eq!(op.missing_object(), "the API route");
    }
}

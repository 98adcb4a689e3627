//! [`Operation`]: what a client call does, in the words and facts the contract gives it.
//!
//! Each public client method builds one `Operation`. It carries everything that differs
//! per route (HTTP method, path template, required scope, whether the protected-tenant
//! guard applies, whether a retry is safe) in one table, and the ids of the objects the
//! call acts on, so an error can say what failed and on what.

use reqwest::Method;

/// Which API route a call uses. The facts per kind come from the contract
/// (`docs/api/comwit.md`): its route table, scope table and protected-tenant rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    /// `GET /v1/projects`
    ListProjects,
    /// `GET /v1/projects/{project}`
    GetProject,
    /// `GET /v1/projects/{project}/databases`
    ListDatabases,
    /// `POST /v1/projects/{project}/databases`
    CreateDatabase,
    /// `GET /v1/databases/{database}`
    GetDatabase,
    /// `DELETE /v1/databases/{database}`
    DeleteDatabase,
    /// `POST /v1/databases/{database}/token/rotate`
    RotateDatabaseToken,
    /// `POST /v1/databases/{database}/query-token`
    CreateQueryToken,
    /// `POST /v1/databases/{database}/suspend`
    SuspendDatabase,
    /// `POST /v1/databases/{database}/resume`
    ResumeDatabase,
    /// `GET /v1/databases/{database}/usage`
    GetDatabaseUsage,
}

impl OperationKind {
    /// Every kind, for tables and tests.
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

    /// A human label: "create database", "rotate the connection token", ...
    pub fn label(self) -> &'static str {
        match self {
            OperationKind::ListProjects => "list projects",
            OperationKind::GetProject => "read project",
            OperationKind::ListDatabases => "list databases",
            OperationKind::CreateDatabase => "create database",
            OperationKind::GetDatabase => "read database",
            OperationKind::DeleteDatabase => "delete database",
            OperationKind::RotateDatabaseToken => "rotate the connection token",
            OperationKind::CreateQueryToken => "issue a query token",
            OperationKind::SuspendDatabase => "suspend database",
            OperationKind::ResumeDatabase => "resume database",
            OperationKind::GetDatabaseUsage => "read database usage",
        }
    }

    /// The diagnostic summary for a failure: "Error creating database", ...
    pub fn summary(self) -> &'static str {
        match self {
            OperationKind::ListProjects => "Error listing projects",
            OperationKind::GetProject => "Error reading project",
            OperationKind::ListDatabases => "Error listing databases",
            OperationKind::CreateDatabase => "Error creating database",
            OperationKind::GetDatabase => "Error reading database",
            OperationKind::DeleteDatabase => "Error deleting database",
            OperationKind::RotateDatabaseToken => "Error rotating the connection token",
            OperationKind::CreateQueryToken => "Error issuing a query token",
            OperationKind::SuspendDatabase => "Error suspending database",
            OperationKind::ResumeDatabase => "Error resuming database",
            OperationKind::GetDatabaseUsage => "Error reading database usage",
        }
    }

    /// The HTTP method of the route.
    pub fn method(self) -> Method {
        match self {
            OperationKind::ListProjects
            | OperationKind::GetProject
            | OperationKind::ListDatabases
            | OperationKind::GetDatabase
            | OperationKind::GetDatabaseUsage => Method::GET,
            OperationKind::DeleteDatabase => Method::DELETE,
            OperationKind::CreateDatabase
            | OperationKind::RotateDatabaseToken
            | OperationKind::CreateQueryToken
            | OperationKind::SuspendDatabase
            | OperationKind::ResumeDatabase => Method::POST,
        }
    }

    /// The route's path template, as logged (ids are never part of a log's path field).
    pub fn path_template(self) -> &'static str {
        match self {
            OperationKind::ListProjects => "/v1/projects",
            OperationKind::GetProject => "/v1/projects/{project}",
            OperationKind::ListDatabases | OperationKind::CreateDatabase => {
                "/v1/projects/{project}/databases"
            }
            OperationKind::GetDatabase | OperationKind::DeleteDatabase => {
                "/v1/databases/{database}"
            }
            OperationKind::RotateDatabaseToken => "/v1/databases/{database}/token/rotate",
            OperationKind::CreateQueryToken => "/v1/databases/{database}/query-token",
            OperationKind::SuspendDatabase => "/v1/databases/{database}/suspend",
            OperationKind::ResumeDatabase => "/v1/databases/{database}/resume",
            OperationKind::GetDatabaseUsage => "/v1/databases/{database}/usage",
        }
    }

    /// The token scope the route needs (the contract's scope table).
    pub fn required_scope(self) -> &'static str {
        match self {
            OperationKind::ListProjects | OperationKind::GetProject => "project:read",
            OperationKind::ListDatabases
            | OperationKind::GetDatabase
            | OperationKind::GetDatabaseUsage => "database:read",
            OperationKind::CreateDatabase
            | OperationKind::DeleteDatabase
            | OperationKind::RotateDatabaseToken
            | OperationKind::CreateQueryToken
            | OperationKind::SuspendDatabase
            | OperationKind::ResumeDatabase => "database:write",
        }
    }

    /// Whether the platform refuses this operation on a protected tenant
    /// (`PLATFORM_API_PROTECTED_TENANTS`): suspend, resume, delete, rotate token and issue
    /// query token.
    pub fn protected_tenant_guarded(self) -> bool {
        matches!(
            self,
            OperationKind::SuspendDatabase
                | OperationKind::ResumeDatabase
                | OperationKind::DeleteDatabase
                | OperationKind::RotateDatabaseToken
                | OperationKind::CreateQueryToken
        )
    }

    /// Whether repeating the request after a 5xx, a timeout or a lost connection is safe:
    /// reads, delete (a repeat at worst answers 404) and create (it carries an
    /// `Idempotency-Key`, so the server replays the first result). Rotate, suspend, resume
    /// and query-token are not: the first attempt may have taken effect. Every kind is
    /// retried after a 429 or a refused connection, since neither did any work.
    pub fn retry_safe(self) -> bool {
        !matches!(
            self,
            OperationKind::RotateDatabaseToken
                | OperationKind::CreateQueryToken
                | OperationKind::SuspendDatabase
                | OperationKind::ResumeDatabase
        )
    }
}

/// One client call: its route kind and the ids (and, when known, the name) of the objects
/// it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub kind: OperationKind,
    pub project_id: Option<String>,
    pub database_id: Option<String>,
    /// The database's name, when the caller knows it (create always does); used only in
    /// messages.
    pub database_name: Option<String>,
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

    /// What was attempted, with its objects: "create database `orders` in project
    /// `prj_123`". Completes "Could not ...".
    pub fn describe(&self) -> String {
        let project = self.project_id.as_deref().unwrap_or("(unknown)");
        let db = self.database_ref();
        match self.kind {
            OperationKind::ListProjects => "list projects".to_owned(),
            OperationKind::GetProject => format!("read project `{project}`"),
            OperationKind::ListDatabases => format!("list databases in project `{project}`"),
            OperationKind::CreateDatabase => match &self.project_id {
                Some(project) => format!("create database {db} in project `{project}`"),
                None => format!("create database {db}"),
            },
            OperationKind::GetDatabase => format!("read database {db}"),
            OperationKind::DeleteDatabase => format!("delete database {db}"),
            OperationKind::RotateDatabaseToken => {
                format!("rotate the connection token of database {db}")
            }
            OperationKind::CreateQueryToken => format!("issue a query token for database {db}"),
            OperationKind::SuspendDatabase => format!("suspend database {db}"),
            OperationKind::ResumeDatabase => format!("resume database {db}"),
            OperationKind::GetDatabaseUsage => format!("read usage of database {db}"),
        }
    }

    /// What kind of object a 404 means is missing, with its id.
    pub(crate) fn missing_object(&self) -> String {
        match self.kind {
            OperationKind::ListProjects => "the API route".to_owned(),
            OperationKind::GetProject
            | OperationKind::ListDatabases
            | OperationKind::CreateDatabase => format!(
                "project `{}`",
                self.project_id.as_deref().unwrap_or("(unknown)")
            ),
            _ => format!("database {}", self.database_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            if kind.method() == Method::GET {
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
    }
}

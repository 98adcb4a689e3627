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
    ListApps,
    CreateApp,
    GetApp,
    DeleteApp,
    HeadArtifact,
    PutArtifact,
    CreateBuild,
    ListBuilds,
    GetBuild,
    GetBuildLog,
    RollbackApp,
    GetAppEnv,
    PutAppEnv,
    DeleteAppEnv,
    ListDomains,
    CreateDomain,
    GetDomain,
    DeleteDomain,
    ListDnsRecords,
    CreateDnsRecord,
    GetDnsRecord,
    UpdateDnsRecord,
    DeleteDnsRecord,
    ListHostnames,
    CreateHostname,
    GetHostname,
    DeleteHostname,
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

const APP_READ: Route = Route {
    scope: "app:read",
    missing: "app {app}",
    ..READ
};

const APP_WRITE: Route = Route {
    method: Method::POST,
    scope: "app:write",
    retry: Retry::Never,
    ..APP_READ
};

const APP_DEPLOY: Route = Route {
    scope: "app:deploy",
    ..APP_WRITE
};

const DOMAIN_READ: Route = Route {
    scope: "domain:read",
    missing: "domain {domain}",
    ..READ
};

const DOMAIN_WRITE: Route = Route {
    method: Method::POST,
    scope: "domain:write",
    retry: Retry::Never,
    ..DOMAIN_READ
};

/// One row per route, in [`OperationKind`] order. Retry classes: reads and delete repeat
/// (a repeated delete at worst answers 404); create carries an `Idempotency-Key`, so the
/// server replays the first result; rotate, suspend, resume and query-token do not, since
/// the first attempt may have taken effect.
///
/// Apps: the artifact PUT repeats (its path is the body's SHA-256, so a repeat stores the
/// same bytes under the same name); app and build creates carry an `Idempotency-Key`; an
/// env PUT repeats (a repeat writes the same value again: the key's `version` may grow by
/// one more, and the answer that is finally read carries the version that holds); an env
/// DELETE repeats (at worst 404, which the caller takes as done). Rollback repeats too,
/// unlike rotations: it names the build that must serve, so a repeat asks for the same end
/// state again, and rolling back to the active build is a documented no-op (200).
pub static ROUTES: [Route; 38] = [
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
    Route {
        template: "/v1/projects/{project}/apps",
        label: "list apps",
        summary: "Error listing apps",
        describe: "list apps in project {project}",
        missing: "project {project}",
        ..APP_READ
    },
    Route {
        template: "/v1/projects/{project}/apps",
        retry: Retry::WithIdempotencyKey,
        label: "create app",
        summary: "Error creating app",
        describe: "create app {app} in project {project}",
        missing: "project {project}",
        ..APP_WRITE
    },
    Route {
        template: "/v1/apps/{app}",
        label: "read app",
        summary: "Error reading app",
        describe: "read app {app}",
        ..APP_READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/apps/{app}",
        retry: Retry::Idempotent,
        label: "delete app",
        summary: "Error deleting app",
        describe: "delete app {app}",
        ..APP_WRITE
    },
    Route {
        method: Method::HEAD,
        template: "/v1/projects/{project}/artifacts/{sha256}",
        retry: Retry::Idempotent,
        label: "check for an artifact",
        summary: "Error checking for an app artifact",
        describe: "check whether project {project} holds artifact {sha256}",
        missing: "project {project}",
        ..APP_DEPLOY
    },
    Route {
        method: Method::PUT,
        template: "/v1/projects/{project}/artifacts/{sha256}",
        retry: Retry::Idempotent,
        label: "upload an artifact",
        summary: "Error uploading app artifact",
        describe: "upload artifact {sha256} to project {project}",
        missing: "project {project}",
        ..APP_DEPLOY
    },
    Route {
        template: "/v1/apps/{app}/builds",
        retry: Retry::WithIdempotencyKey,
        label: "start a build",
        summary: "Error starting app build",
        describe: "start a build of app {app} from artifact {sha256}",
        ..APP_DEPLOY
    },
    Route {
        template: "/v1/apps/{app}/builds",
        label: "list builds",
        summary: "Error listing app builds",
        describe: "list the builds of app {app}",
        ..APP_READ
    },
    Route {
        template: "/v1/apps/{app}/builds/{build}",
        label: "read build",
        summary: "Error reading app build",
        describe: "read build {build} of app {app}",
        missing: "build {build} of app {app}",
        ..APP_READ
    },
    Route {
        template: "/v1/apps/{app}/builds/{build}/log",
        label: "read build log",
        summary: "Error reading app build log",
        describe: "read the log of build {build} of app {app}",
        missing: "build {build} of app {app}",
        ..APP_READ
    },
    Route {
        template: "/v1/apps/{app}/rollback",
        retry: Retry::Idempotent,
        label: "roll back",
        summary: "Error rolling back app",
        describe: "make build {build} the active build of app {app}",
        missing: "build {build} of app {app}",
        ..APP_DEPLOY
    },
    Route {
        template: "/v1/apps/{app}/env",
        label: "read app environment",
        summary: "Error reading app environment",
        describe: "read the environment variables of app {app}",
        ..APP_READ
    },
    Route {
        method: Method::PUT,
        template: "/v1/apps/{app}/env/{key}",
        retry: Retry::Idempotent,
        label: "set an environment variable",
        summary: "Error setting app environment variable",
        describe: "set variable {key} of app {app}",
        ..APP_WRITE
    },
    Route {
        method: Method::DELETE,
        template: "/v1/apps/{app}/env/{key}",
        retry: Retry::Idempotent,
        label: "delete an environment variable",
        summary: "Error deleting app environment variable",
        describe: "delete variable {key} of app {app}",
        missing: "variable {key} of app {app}",
        ..APP_WRITE
    },
    Route {
        template: "/v1/projects/{project}/domains",
        label: "list domains",
        summary: "Error listing project domains",
        describe: "list the domains of project {project}",
        missing: "project {project}",
        ..DOMAIN_READ
    },
    Route {
        template: "/v1/projects/{project}/domains",
        label: "onboard domain",
        summary: "Error onboarding project domain",
        describe: "onboard domain {domain} in project {project}",
        missing: "project {project}",
        ..DOMAIN_WRITE
    },
    Route {
        template: "/v1/domains/{domain}",
        label: "read domain",
        summary: "Error reading project domain",
        describe: "read domain {domain}",
        ..DOMAIN_READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/domains/{domain}",
        retry: Retry::Idempotent,
        label: "remove domain",
        summary: "Error removing project domain",
        describe: "remove domain {domain}",
        ..DOMAIN_WRITE
    },
    Route {
        template: "/v1/domains/{domain}/records",
        label: "list DNS records",
        summary: "Error listing DNS records",
        describe: "list the DNS records of domain {domain}",
        ..DOMAIN_READ
    },
    Route {
        template: "/v1/domains/{domain}/records",
        label: "create DNS record",
        summary: "Error creating DNS record",
        describe: "create a DNS record in domain {domain}",
        ..DOMAIN_WRITE
    },
    Route {
        template: "/v1/domains/{domain}/records/{record}",
        label: "read DNS record",
        summary: "Error reading DNS record",
        describe: "read DNS record {record} of domain {domain}",
        missing: "DNS record {record} of domain {domain}",
        ..DOMAIN_READ
    },
    Route {
        method: Method::PUT,
        template: "/v1/domains/{domain}/records/{record}",
        retry: Retry::Idempotent,
        label: "update DNS record",
        summary: "Error updating DNS record",
        describe: "update DNS record {record} of domain {domain}",
        missing: "DNS record {record} of domain {domain}",
        ..DOMAIN_WRITE
    },
    Route {
        method: Method::DELETE,
        template: "/v1/domains/{domain}/records/{record}",
        retry: Retry::Idempotent,
        label: "delete DNS record",
        summary: "Error deleting DNS record",
        describe: "delete DNS record {record} of domain {domain}",
        missing: "DNS record {record} of domain {domain}",
        ..DOMAIN_WRITE
    },
    Route {
        template: "/v1/apps/{app}/hostnames",
        label: "list hostnames",
        summary: "Error listing app hostnames",
        describe: "list the hostnames of app {app}",
        ..APP_READ
    },
    Route {
        template: "/v1/apps/{app}/hostnames",
        label: "attach hostname",
        summary: "Error attaching app hostname",
        describe: "attach hostname {hostname} to app {app}",
        ..APP_WRITE
    },
    Route {
        template: "/v1/apps/{app}/hostnames/{hostname}",
        label: "read hostname",
        summary: "Error reading app hostname",
        describe: "read hostname {hostname} of app {app}",
        missing: "hostname {hostname} of app {app}",
        ..APP_READ
    },
    Route {
        method: Method::DELETE,
        template: "/v1/apps/{app}/hostnames/{hostname}",
        retry: Retry::Idempotent,
        label: "detach hostname",
        summary: "Error detaching app hostname",
        describe: "detach hostname {hostname} from app {app}",
        missing: "hostname {hostname} of app {app}",
        ..APP_WRITE
    },
];

impl OperationKind {
    /// Every kind, in [`ROUTES`] order.
    pub const ALL: [OperationKind; 38] = [
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
        OperationKind::ListApps,
        OperationKind::CreateApp,
        OperationKind::GetApp,
        OperationKind::DeleteApp,
        OperationKind::HeadArtifact,
        OperationKind::PutArtifact,
        OperationKind::CreateBuild,
        OperationKind::ListBuilds,
        OperationKind::GetBuild,
        OperationKind::GetBuildLog,
        OperationKind::RollbackApp,
        OperationKind::GetAppEnv,
        OperationKind::PutAppEnv,
        OperationKind::DeleteAppEnv,
        OperationKind::ListDomains,
        OperationKind::CreateDomain,
        OperationKind::GetDomain,
        OperationKind::DeleteDomain,
        OperationKind::ListDnsRecords,
        OperationKind::CreateDnsRecord,
        OperationKind::GetDnsRecord,
        OperationKind::UpdateDnsRecord,
        OperationKind::DeleteDnsRecord,
        OperationKind::ListHostnames,
        OperationKind::CreateHostname,
        OperationKind::GetHostname,
        OperationKind::DeleteHostname,
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

    /// What kind of object the route creates or acts on, for messages: "app" or "database".
    pub fn object_noun(self) -> &'static str {
        let route = self.route();
        if route.template.contains("/hostnames") {
            "hostname"
        } else if route.template.contains("/records") {
            "DNS record"
        } else if route.scope.starts_with("domain:") {
            "domain"
        } else if route.scope.starts_with("app:") {
            "app"
        } else {
            "database"
        }
    }

    /// Whether repeating the request after a 5xx, a timeout or a lost connection is safe.
    /// Every kind is retried after a 429 or a refused connection, since neither did any work.
    pub fn retry_safe(self) -> bool {
        self.route().retry.repeats_after_ambiguous_failure()
    }
}

/// One client call: its route kind and the ids (and, when known, the name) of the objects
/// it acts on. Its ids fill the route's placeholders (`{project}`, `{database}`, `{app}`,
/// `{build}`, `{sha256}`, `{key}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub kind: OperationKind,
    pub project_id: Option<String>,
    pub database_id: Option<String>,
    /// The database's name, when the caller knows it (create always does); used only in
    /// messages.
    pub database_name: Option<String>,
    pub app_id: Option<String>,
    /// The app's name, when the caller knows it; used only in messages.
    pub app_name: Option<String>,
    pub build_id: Option<String>,
    /// An artifact's SHA-256 (hex).
    pub sha256: Option<String>,
    /// An environment variable's key.
    pub env_key: Option<String>,
    /// A project domain's id (`dom_...`).
    pub domain_id: Option<String>,
    /// The domain's name, when the caller knows it; used only in messages.
    pub domain_name: Option<String>,
    /// A DNS record's id (`rec_...`).
    pub record_id: Option<String>,
    /// An app hostname.
    pub hostname: Option<String>,
}

impl Params for Operation {
    fn param(&self, name: &str) -> Option<&str> {
        match name {
            "project" => self.project_id.as_deref(),
            "database" => self.database_id.as_deref(),
            "app" => self.app_id.as_deref(),
            "build" => self.build_id.as_deref(),
            "sha256" => self.sha256.as_deref(),
            "key" => self.env_key.as_deref(),
            "domain" => self.domain_id.as_deref(),
            "record" => self.record_id.as_deref(),
            "hostname" => self.hostname.as_deref(),
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
            app_id: None,
            app_name: None,
            build_id: None,
            sha256: None,
            env_key: None,
            domain_id: None,
            domain_name: None,
            record_id: None,
            hostname: None,
        }
    }

    pub(crate) fn on_domain(kind: OperationKind, domain_id: &str) -> Self {
        Operation {
            domain_id: Some(domain_id.to_owned()),
            ..Operation::new(kind)
        }
    }

    /// Adds the domain's name, for messages.
    pub fn with_domain_name(mut self, name: impl Into<String>) -> Self {
        self.domain_name = Some(name.into());
        self
    }

    /// Adds a DNS record's id.
    pub fn with_record(mut self, record_id: impl Into<String>) -> Self {
        self.record_id = Some(record_id.into());
        self
    }

    /// Adds a hostname.
    pub fn with_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
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

    pub(crate) fn on_app(kind: OperationKind, app_id: &str) -> Self {
        Operation {
            app_id: Some(app_id.to_owned()),
            ..Operation::new(kind)
        }
    }

    /// Adds the app's name, for messages.
    pub fn with_app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// Adds a build id.
    pub fn with_build(mut self, build_id: impl Into<String>) -> Self {
        self.build_id = Some(build_id.into());
        self
    }

    /// Adds an artifact's SHA-256.
    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into());
        self
    }

    /// Adds an environment variable's key.
    pub fn with_env_key(mut self, key: impl Into<String>) -> Self {
        self.env_key = Some(key.into());
        self
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
        named_ref(self.database_name.as_deref(), self.database_id.as_deref())
    }

    /// The app as messages name it: "`web` (`app_123`)", "`app_123`" or "`web`".
    pub(crate) fn app_ref(&self) -> String {
        named_ref(self.app_name.as_deref(), self.app_id.as_deref())
    }

    /// A message template of this call's row filled with its objects.
    fn fill(&self, template: &str) -> String {
        let quoted = |v: &Option<String>| v.as_ref().map(|v| format!("`{v}`"));
        route::fill(template, |name| match name {
            "project" => quoted(&self.project_id),
            "database" => Some(self.database_ref()),
            "app" => Some(self.app_ref()),
            "build" => quoted(&self.build_id),
            "sha256" => quoted(&self.sha256),
            "key" => quoted(&self.env_key),
            "domain" => Some(named_ref(
                self.domain_name.as_deref(),
                self.domain_id.as_deref(),
            )),
            "record" => Some(
                self.record_id
                    .as_deref()
                    .map_or_else(|| "(new)".to_owned(), |r| format!("`{r}`")),
            ),
            "hostname" => quoted(&self.hostname),
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

/// An object as messages name it: "`orders` (`db_123`)", "`db_123`" or "`orders`".
fn named_ref(name: Option<&str>, id: Option<&str>) -> String {
    match (name, id) {
        (Some(name), Some(id)) if name != id => format!("`{name}` (`{id}`)"),
        (Some(name), _) => format!("`{name}`"),
        (None, Some(id)) => format!("`{id}`"),
        (None, None) => "(unknown)".to_owned(),
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
                assert!(
                    [
                        "project", "database", "app", "build", "sha256", "key", "domain", "record",
                        "hostname"
                    ]
                    .contains(&name),
                    "{kind:?}: {name}"
                );
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
            let scope = kind.required_scope();
            if kind.route().method == Method::GET {
                assert!(scope.ends_with(":read"), "{kind:?}");
                assert!(kind.retry_safe(), "{kind:?}");
            } else if scope.starts_with("app:") {
                assert!(["app:write", "app:deploy"].contains(&scope), "{kind:?}");
            } else if scope.starts_with("domain:") {
                assert_eq!(scope, "domain:write", "{kind:?}");
            } else {
                assert_eq!(scope, "database:write", "{kind:?}");
            }
        }
        // The seed's scope table: deploys, artifacts and rollback need `app:deploy`.
        for kind in [
            OperationKind::HeadArtifact,
            OperationKind::PutArtifact,
            OperationKind::CreateBuild,
            OperationKind::RollbackApp,
        ] {
            assert_eq!(kind.required_scope(), "app:deploy", "{kind:?}");
        }
        for kind in [
            OperationKind::CreateApp,
            OperationKind::DeleteApp,
            OperationKind::PutAppEnv,
            OperationKind::DeleteAppEnv,
        ] {
            assert_eq!(kind.required_scope(), "app:write", "{kind:?}");
        }
        assert_eq!(OperationKind::GetAppEnv.required_scope(), "app:read");
        assert_eq!(OperationKind::GetBuildLog.required_scope(), "app:read");
    }

    #[test]
    fn app_routes_retry_by_what_a_repeat_does() {
        use OperationKind::*;
        for kind in [CreateApp, CreateBuild] {
            assert_eq!(kind.route().retry, Retry::WithIdempotencyKey, "{kind:?}");
        }
        for kind in [
            ListApps,
            GetApp,
            DeleteApp,
            HeadArtifact,
            PutArtifact,
            ListBuilds,
            GetBuild,
            GetBuildLog,
            RollbackApp,
            GetAppEnv,
            PutAppEnv,
            DeleteAppEnv,
        ] {
            assert_eq!(kind.route().retry, Retry::Idempotent, "{kind:?}");
        }
        assert_eq!(CreateApp.object_noun(), "app");
        assert_eq!(CreateDatabase.object_noun(), "database");
        let op = Operation::on_app(GetBuild, "app_1")
            .with_app_name("web")
            .with_build("bld_2");
        assert_eq!(op.describe(), "read build `bld_2` of app `web` (`app_1`)");
        assert_eq!(op.missing_object(), "build `bld_2` of app `web` (`app_1`)");
        let op = Operation::on_app(PutAppEnv, "app_1").with_env_key("API_KEY");
        assert_eq!(op.describe(), "set variable `API_KEY` of app `app_1`");
    }

    #[test]
    fn dns_routes_follow_the_seed_scopes() {
        use OperationKind::*;
        for kind in [ListDomains, GetDomain, ListDnsRecords, GetDnsRecord] {
            assert_eq!(kind.required_scope(), "domain:read", "{kind:?}");
        }
        for kind in [
            CreateDomain,
            DeleteDomain,
            CreateDnsRecord,
            UpdateDnsRecord,
            DeleteDnsRecord,
        ] {
            assert_eq!(kind.required_scope(), "domain:write", "{kind:?}");
        }
        for kind in [CreateHostname, DeleteHostname] {
            assert_eq!(kind.required_scope(), "app:write", "{kind:?}");
        }
        // A repeated create would answer 409 (not a duplicate): never repeated blindly.
        for kind in [CreateDomain, CreateDnsRecord, CreateHostname] {
            assert!(!kind.retry_safe(), "{kind:?}");
        }
        for kind in [
            DeleteDomain,
            UpdateDnsRecord,
            DeleteDnsRecord,
            DeleteHostname,
        ] {
            assert!(kind.retry_safe(), "{kind:?}");
        }
        let op = Operation::on_domain(GetDnsRecord, "dom_1")
            .with_domain_name("example.com")
            .with_record("rec_2");
        assert_eq!(
            op.describe(),
            "read DNS record `rec_2` of domain `example.com` (`dom_1`)"
        );
        assert_eq!(op.kind.object_noun(), "DNS record");
        let op = Operation::on_app(CreateHostname, "app_1").with_hostname("www.example.com");
        assert_eq!(
            op.describe(),
            "attach hostname `www.example.com` to app `app_1`"
        );
        assert_eq!(CreateDomain.object_noun(), "domain");
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

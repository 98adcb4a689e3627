//! Comwit's API routes, one named constant each (`CREATE_DATABASE`, ...; [`ROUTES`] lists them), and
//! [`Operation`]: one client call, its route and the ids (and, when known, the name) of the
//! objects it acts on, so an error can say what failed and on what.
//!
//! The facts come from the contract (`docs/api/comwit.md`): its route table, scope table
//! and protected-tenant rule. The URL of every call is built from the row's template.

use crate::client::{route, Called, Params, Retry, Route};
use reqwest::Method;

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

// The routes, one named constant each. Retry classes: reads and delete repeat
// (a repeated delete at worst answers 404); create carries an `Idempotency-Key`, so the
// server replays the first result; rotate, suspend, resume and query-token do not, since
// the first attempt may have taken effect.
//
// Apps: the artifact PUT repeats (its path is the body's SHA-256, so a repeat stores the
// same bytes under the same name); app and build creates carry an `Idempotency-Key`; an
// env PUT repeats (a repeat writes the same value again: the key's `version` may grow by
// one more, and the answer that is finally read carries the version that holds); an env
// DELETE repeats (at worst 404, which the caller takes as done). Rollback repeats too,
// unlike rotations: it names the build that must serve, so a repeat asks for the same end
// state again, and rolling back to the active build is a documented no-op (200).
pub const LIST_PROJECTS: Route = Route {
    template: "/v1/projects",
    scope: "project:read",
    label: "list projects",
    summary: "Error listing projects",
    describe: "list projects",
    missing: "the API route",
    ..READ
};

pub const GET_PROJECT: Route = Route {
    template: "/v1/projects/{project}",
    scope: "project:read",
    label: "read project",
    summary: "Error reading project",
    describe: "read project {project}",
    missing: "project {project}",
    ..READ
};

pub const LIST_DATABASES: Route = Route {
    template: "/v1/projects/{project}/databases",
    label: "list databases",
    summary: "Error listing databases",
    describe: "list databases in project {project}",
    missing: "project {project}",
    ..READ
};

pub const CREATE_DATABASE: Route = Route {
    template: "/v1/projects/{project}/databases",
    retry: Retry::WithIdempotencyKey,
    guard: None,
    label: "create database",
    summary: "Error creating database",
    describe: "create database {database} in project {project}",
    missing: "project {project}",
    ..WRITE
};

pub const GET_DATABASE: Route = Route {
    template: "/v1/databases/{database}",
    label: "read database",
    summary: "Error reading database",
    describe: "read database {database}",
    ..READ
};

pub const DELETE_DATABASE: Route = Route {
    method: Method::DELETE,
    template: "/v1/databases/{database}",
    retry: Retry::Idempotent,
    label: "delete database",
    summary: "Error deleting database",
    describe: "delete database {database}",
    ..WRITE
};

pub const ROTATE_DATABASE_TOKEN: Route = Route {
    template: "/v1/databases/{database}/token/rotate",
    label: "rotate the connection token",
    summary: "Error rotating the connection token",
    describe: "rotate the connection token of database {database}",
    ..WRITE
};

pub const CREATE_QUERY_TOKEN: Route = Route {
    template: "/v1/databases/{database}/query-token",
    label: "issue a query token",
    summary: "Error issuing a query token",
    describe: "issue a query token for database {database}",
    ..WRITE
};

pub const SUSPEND_DATABASE: Route = Route {
    template: "/v1/databases/{database}/suspend",
    label: "suspend database",
    summary: "Error suspending database",
    describe: "suspend database {database}",
    ..WRITE
};

pub const RESUME_DATABASE: Route = Route {
    template: "/v1/databases/{database}/resume",
    label: "resume database",
    summary: "Error resuming database",
    describe: "resume database {database}",
    ..WRITE
};

pub const GET_DATABASE_USAGE: Route = Route {
    template: "/v1/databases/{database}/usage",
    label: "read database usage",
    summary: "Error reading database usage",
    describe: "read usage of database {database}",
    ..READ
};

pub const LIST_APPS: Route = Route {
    template: "/v1/projects/{project}/apps",
    label: "list apps",
    summary: "Error listing apps",
    describe: "list apps in project {project}",
    missing: "project {project}",
    ..APP_READ
};

pub const CREATE_APP: Route = Route {
    template: "/v1/projects/{project}/apps",
    retry: Retry::WithIdempotencyKey,
    label: "create app",
    summary: "Error creating app",
    describe: "create app {app} in project {project}",
    missing: "project {project}",
    ..APP_WRITE
};

pub const GET_APP: Route = Route {
    template: "/v1/apps/{app}",
    label: "read app",
    summary: "Error reading app",
    describe: "read app {app}",
    ..APP_READ
};

pub const DELETE_APP: Route = Route {
    method: Method::DELETE,
    template: "/v1/apps/{app}",
    retry: Retry::Idempotent,
    label: "delete app",
    summary: "Error deleting app",
    describe: "delete app {app}",
    ..APP_WRITE
};

pub const HEAD_ARTIFACT: Route = Route {
    method: Method::HEAD,
    template: "/v1/projects/{project}/artifacts/{sha256}",
    retry: Retry::Idempotent,
    label: "check for an artifact",
    summary: "Error checking for an app artifact",
    describe: "check whether project {project} holds artifact {sha256}",
    missing: "project {project}",
    ..APP_DEPLOY
};

pub const PUT_ARTIFACT: Route = Route {
    method: Method::PUT,
    template: "/v1/projects/{project}/artifacts/{sha256}",
    retry: Retry::Idempotent,
    label: "upload an artifact",
    summary: "Error uploading app artifact",
    describe: "upload artifact {sha256} to project {project}",
    missing: "project {project}",
    ..APP_DEPLOY
};

pub const CREATE_BUILD: Route = Route {
    template: "/v1/apps/{app}/builds",
    retry: Retry::WithIdempotencyKey,
    label: "start a build",
    summary: "Error starting app build",
    describe: "start a build of app {app} from artifact {sha256}",
    ..APP_DEPLOY
};

pub const LIST_BUILDS: Route = Route {
    template: "/v1/apps/{app}/builds",
    label: "list builds",
    summary: "Error listing app builds",
    describe: "list the builds of app {app}",
    ..APP_READ
};

pub const GET_BUILD: Route = Route {
    template: "/v1/apps/{app}/builds/{build}",
    label: "read build",
    summary: "Error reading app build",
    describe: "read build {build} of app {app}",
    missing: "build {build} of app {app}",
    ..APP_READ
};

pub const GET_BUILD_LOG: Route = Route {
    template: "/v1/apps/{app}/builds/{build}/log",
    label: "read build log",
    summary: "Error reading app build log",
    describe: "read the log of build {build} of app {app}",
    missing: "build {build} of app {app}",
    ..APP_READ
};

pub const ROLLBACK_APP: Route = Route {
    template: "/v1/apps/{app}/rollback",
    retry: Retry::Idempotent,
    label: "roll back",
    summary: "Error rolling back app",
    describe: "make build {build} the active build of app {app}",
    missing: "build {build} of app {app}",
    ..APP_DEPLOY
};

pub const GET_APP_ENV: Route = Route {
    template: "/v1/apps/{app}/env",
    label: "read app environment",
    summary: "Error reading app environment",
    describe: "read the environment variables of app {app}",
    ..APP_READ
};

pub const PUT_APP_ENV: Route = Route {
    method: Method::PUT,
    template: "/v1/apps/{app}/env/{key}",
    retry: Retry::Idempotent,
    label: "set an environment variable",
    summary: "Error setting app environment variable",
    describe: "set variable {key} of app {app}",
    ..APP_WRITE
};

pub const DELETE_APP_ENV: Route = Route {
    method: Method::DELETE,
    template: "/v1/apps/{app}/env/{key}",
    retry: Retry::Idempotent,
    label: "delete an environment variable",
    summary: "Error deleting app environment variable",
    describe: "delete variable {key} of app {app}",
    missing: "variable {key} of app {app}",
    ..APP_WRITE
};

pub const LIST_DOMAINS: Route = Route {
    template: "/v1/projects/{project}/domains",
    label: "list domains",
    summary: "Error listing project domains",
    describe: "list the domains of project {project}",
    missing: "project {project}",
    ..DOMAIN_READ
};

pub const CREATE_DOMAIN: Route = Route {
    template: "/v1/projects/{project}/domains",
    label: "onboard domain",
    summary: "Error onboarding project domain",
    describe: "onboard domain {domain} in project {project}",
    missing: "project {project}",
    ..DOMAIN_WRITE
};

pub const GET_DOMAIN: Route = Route {
    template: "/v1/domains/{domain}",
    label: "read domain",
    summary: "Error reading project domain",
    describe: "read domain {domain}",
    ..DOMAIN_READ
};

pub const DELETE_DOMAIN: Route = Route {
    method: Method::DELETE,
    template: "/v1/domains/{domain}",
    retry: Retry::Idempotent,
    label: "remove domain",
    summary: "Error removing project domain",
    describe: "remove domain {domain}",
    ..DOMAIN_WRITE
};

pub const LIST_DNS_RECORDS: Route = Route {
    template: "/v1/domains/{domain}/records",
    label: "list DNS records",
    summary: "Error listing DNS records",
    describe: "list the DNS records of domain {domain}",
    ..DOMAIN_READ
};

pub const CREATE_DNS_RECORD: Route = Route {
    template: "/v1/domains/{domain}/records",
    label: "create DNS record",
    summary: "Error creating DNS record",
    describe: "create a DNS record in domain {domain}",
    ..DOMAIN_WRITE
};

pub const GET_DNS_RECORD: Route = Route {
    template: "/v1/domains/{domain}/records/{record}",
    label: "read DNS record",
    summary: "Error reading DNS record",
    describe: "read DNS record {record} of domain {domain}",
    missing: "DNS record {record} of domain {domain}",
    ..DOMAIN_READ
};

pub const UPDATE_DNS_RECORD: Route = Route {
    method: Method::PUT,
    template: "/v1/domains/{domain}/records/{record}",
    retry: Retry::Idempotent,
    label: "update DNS record",
    summary: "Error updating DNS record",
    describe: "update DNS record {record} of domain {domain}",
    missing: "DNS record {record} of domain {domain}",
    ..DOMAIN_WRITE
};

pub const DELETE_DNS_RECORD: Route = Route {
    method: Method::DELETE,
    template: "/v1/domains/{domain}/records/{record}",
    retry: Retry::Idempotent,
    label: "delete DNS record",
    summary: "Error deleting DNS record",
    describe: "delete DNS record {record} of domain {domain}",
    missing: "DNS record {record} of domain {domain}",
    ..DOMAIN_WRITE
};

pub const LIST_HOSTNAMES: Route = Route {
    template: "/v1/apps/{app}/hostnames",
    label: "list hostnames",
    summary: "Error listing app hostnames",
    describe: "list the hostnames of app {app}",
    ..APP_READ
};

pub const CREATE_HOSTNAME: Route = Route {
    template: "/v1/apps/{app}/hostnames",
    label: "attach hostname",
    summary: "Error attaching app hostname",
    describe: "attach hostname {hostname} to app {app}",
    ..APP_WRITE
};

pub const GET_HOSTNAME: Route = Route {
    template: "/v1/apps/{app}/hostnames/{hostname}",
    label: "read hostname",
    summary: "Error reading app hostname",
    describe: "read hostname {hostname} of app {app}",
    missing: "hostname {hostname} of app {app}",
    ..APP_READ
};

pub const DELETE_HOSTNAME: Route = Route {
    method: Method::DELETE,
    template: "/v1/apps/{app}/hostnames/{hostname}",
    retry: Retry::Idempotent,
    label: "detach hostname",
    summary: "Error detaching app hostname",
    describe: "detach hostname {hostname} from app {app}",
    missing: "hostname {hostname} of app {app}",
    ..APP_WRITE
};

/// Every route, for the tests that check each one.
pub static ROUTES: [&Route; 38] = [
    &LIST_PROJECTS,
    &GET_PROJECT,
    &LIST_DATABASES,
    &CREATE_DATABASE,
    &GET_DATABASE,
    &DELETE_DATABASE,
    &ROTATE_DATABASE_TOKEN,
    &CREATE_QUERY_TOKEN,
    &SUSPEND_DATABASE,
    &RESUME_DATABASE,
    &GET_DATABASE_USAGE,
    &LIST_APPS,
    &CREATE_APP,
    &GET_APP,
    &DELETE_APP,
    &HEAD_ARTIFACT,
    &PUT_ARTIFACT,
    &CREATE_BUILD,
    &LIST_BUILDS,
    &GET_BUILD,
    &GET_BUILD_LOG,
    &ROLLBACK_APP,
    &GET_APP_ENV,
    &PUT_APP_ENV,
    &DELETE_APP_ENV,
    &LIST_DOMAINS,
    &CREATE_DOMAIN,
    &GET_DOMAIN,
    &DELETE_DOMAIN,
    &LIST_DNS_RECORDS,
    &CREATE_DNS_RECORD,
    &GET_DNS_RECORD,
    &UPDATE_DNS_RECORD,
    &DELETE_DNS_RECORD,
    &LIST_HOSTNAMES,
    &CREATE_HOSTNAME,
    &GET_HOSTNAME,
    &DELETE_HOSTNAME,
];

/// What kind of object `route` creates or acts on, for messages: "app" or "database".
pub fn object_noun(route: &Route) -> &'static str {
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

/// One client call: its route and the ids (and, when known, the name) of the objects
/// it acts on. Its ids fill the route's placeholders (`{project}`, `{database}`, `{app}`,
/// `{build}`, `{sha256}`, `{key}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub route: &'static Route,
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

impl Called for Operation {
    fn route(&self) -> &'static Route {
        self.route
    }
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
    pub fn new(route: &'static Route) -> Self {
        Operation {
            route,
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

    pub(crate) fn on_domain(route: &'static Route, domain_id: &str) -> Self {
        Operation {
            domain_id: Some(domain_id.to_owned()),
            ..Operation::new(route)
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

    pub(crate) fn on_project(route: &'static Route, project_id: &str) -> Self {
        Operation {
            project_id: Some(project_id.to_owned()),
            ..Operation::new(route)
        }
    }

    pub(crate) fn on_database(route: &'static Route, database_id: &str) -> Self {
        Operation {
            database_id: Some(database_id.to_owned()),
            ..Operation::new(route)
        }
    }

    pub(crate) fn on_app(route: &'static Route, app_id: &str) -> Self {
        Operation {
            app_id: Some(app_id.to_owned()),
            ..Operation::new(route)
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

    /// Whether this call uses `route`.
    pub fn is(&self, route: &Route) -> bool {
        self.route == route
    }

    /// A human label: "create database", "rotate the connection token", ...
    pub fn label(&self) -> &'static str {
        self.route.label
    }

    /// The token scope the route needs (the contract's scope table).
    pub fn required_scope(&self) -> &'static str {
        self.route.scope
    }

    /// Whether the platform refuses this operation on a protected tenant: suspend, resume,
    /// delete, rotate token and issue query token.
    pub fn protected_tenant_guarded(&self) -> bool {
        self.route.guard == PROTECTED_TENANT
    }

    /// The diagnostic summary for a failure: "Error creating database", ...
    pub fn summary(&self) -> &'static str {
        self.route.summary
    }

    /// What kind of object the route creates or acts on, for messages: "app" or "database".
    pub fn object_noun(&self) -> &'static str {
        object_noun(self.route)
    }

    /// Whether repeating the request after a 5xx, a timeout or a lost connection is safe.
    /// Every route is retried after a 429 or a refused connection, since neither did any
    /// work.
    pub fn retry_safe(&self) -> bool {
        self.route.retry.repeats_after_ambiguous_failure()
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
        self.fill(self.route.describe)
    }

    /// What kind of object a 404 means is missing, with its id.
    pub(crate) fn missing_object(&self) -> String {
        self.fill(self.route.missing)
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

    /// A call of `route` with no ids, to ask the route's facts.
    fn call(route: &'static Route) -> Operation {
        Operation::new(route)
    }

    #[test]
    fn every_route_once_and_templates_match_the_operations() {
        let keys: std::collections::BTreeSet<String> = ROUTES.iter().map(|r| r.key()).collect();
        assert_eq!(keys.len(), ROUTES.len(), "each route once");
        for route in ROUTES {
            let key = route.key();
            assert!(route.template.starts_with("/v1/"), "{key}");
            for name in route.param_names() {
                assert!(
                    [
                        "project", "database", "app", "build", "sha256", "key", "domain", "record",
                        "hostname"
                    ]
                    .contains(&name),
                    "{key}: {name}"
                );
            }
            for text in [route.label, route.summary, route.describe, route.missing] {
                assert!(!text.is_empty(), "{key}");
            }
        }
    }

    #[test]
    fn exactly_five_operations_are_guarded() {
        let guarded: Vec<_> = ROUTES
            .iter()
            .filter(|r| call(r).protected_tenant_guarded())
            .collect();
        assert_eq!(guarded.len(), 5);
        assert!(!call(&GET_DATABASE).protected_tenant_guarded());
        assert!(!call(&CREATE_DATABASE).protected_tenant_guarded());
    }

    #[test]
    fn scopes_follow_the_contract() {
        assert_eq!(LIST_PROJECTS.scope, "project:read");
        assert_eq!(GET_DATABASE_USAGE.scope, "database:read");
        assert_eq!(CREATE_QUERY_TOKEN.scope, "database:write");
        for route in ROUTES {
            let (scope, key) = (route.scope, route.key());
            if route.method == Method::GET {
                assert!(scope.ends_with(":read"), "{key}");
                assert!(call(route).retry_safe(), "{key}");
            } else if scope.starts_with("app:") {
                assert!(["app:write", "app:deploy"].contains(&scope), "{key}");
            } else if scope.starts_with("domain:") {
                assert_eq!(scope, "domain:write", "{key}");
            } else {
                assert_eq!(scope, "database:write", "{key}");
            }
        }
        // The seed's scope table: deploys, artifacts and rollback need `app:deploy`.
        for route in [HEAD_ARTIFACT, PUT_ARTIFACT, CREATE_BUILD, ROLLBACK_APP] {
            assert_eq!(route.scope, "app:deploy", "{}", route.key());
        }
        for route in [CREATE_APP, DELETE_APP, PUT_APP_ENV, DELETE_APP_ENV] {
            assert_eq!(route.scope, "app:write", "{}", route.key());
        }
        assert_eq!(GET_APP_ENV.scope, "app:read");
        assert_eq!(GET_BUILD_LOG.scope, "app:read");
    }

    #[test]
    fn app_routes_retry_by_what_a_repeat_does() {
        for route in [CREATE_APP, CREATE_BUILD] {
            assert_eq!(route.retry, Retry::WithIdempotencyKey, "{}", route.key());
        }
        for route in [
            LIST_APPS,
            GET_APP,
            DELETE_APP,
            HEAD_ARTIFACT,
            PUT_ARTIFACT,
            LIST_BUILDS,
            GET_BUILD,
            GET_BUILD_LOG,
            ROLLBACK_APP,
            GET_APP_ENV,
            PUT_APP_ENV,
            DELETE_APP_ENV,
        ] {
            assert_eq!(route.retry, Retry::Idempotent, "{}", route.key());
        }
        assert_eq!(object_noun(&CREATE_APP), "app");
        assert_eq!(object_noun(&CREATE_DATABASE), "database");
        let op = Operation::on_app(&GET_BUILD, "app_1")
            .with_app_name("web")
            .with_build("bld_2");
        assert_eq!(op.describe(), "read build `bld_2` of app `web` (`app_1`)");
        assert_eq!(op.missing_object(), "build `bld_2` of app `web` (`app_1`)");
        let op = Operation::on_app(&PUT_APP_ENV, "app_1").with_env_key("API_KEY");
        assert_eq!(op.describe(), "set variable `API_KEY` of app `app_1`");
    }

    #[test]
    fn dns_routes_follow_the_seed_scopes() {
        for route in [LIST_DOMAINS, GET_DOMAIN, LIST_DNS_RECORDS, GET_DNS_RECORD] {
            assert_eq!(route.scope, "domain:read", "{}", route.key());
        }
        for route in [
            CREATE_DOMAIN,
            DELETE_DOMAIN,
            CREATE_DNS_RECORD,
            UPDATE_DNS_RECORD,
            DELETE_DNS_RECORD,
        ] {
            assert_eq!(route.scope, "domain:write", "{}", route.key());
        }
        for route in [CREATE_HOSTNAME, DELETE_HOSTNAME] {
            assert_eq!(route.scope, "app:write", "{}", route.key());
        }
        // A repeated create would answer 409 (not a duplicate): never repeated blindly.
        for route in [&CREATE_DOMAIN, &CREATE_DNS_RECORD, &CREATE_HOSTNAME] {
            assert!(!call(route).retry_safe(), "{}", route.key());
        }
        for route in [
            &DELETE_DOMAIN,
            &UPDATE_DNS_RECORD,
            &DELETE_DNS_RECORD,
            &DELETE_HOSTNAME,
        ] {
            assert!(call(route).retry_safe(), "{}", route.key());
        }
        let op = Operation::on_domain(&GET_DNS_RECORD, "dom_1")
            .with_domain_name("example.com")
            .with_record("rec_2");
        assert_eq!(
            op.describe(),
            "read DNS record `rec_2` of domain `example.com` (`dom_1`)"
        );
        assert_eq!(op.object_noun(), "DNS record");
        assert!(op.is(&GET_DNS_RECORD) && !op.is(&GET_DOMAIN));
        let op = Operation::on_app(&CREATE_HOSTNAME, "app_1").with_hostname("www.example.com");
        assert_eq!(
            op.describe(),
            "attach hostname `www.example.com` to app `app_1`"
        );
        assert_eq!(object_noun(&CREATE_DOMAIN), "domain");
    }

    #[test]
    fn unsafe_posts_are_not_retry_safe() {
        assert!(call(&CREATE_DATABASE).retry_safe());
        assert_eq!(CREATE_DATABASE.retry, Retry::WithIdempotencyKey);
        assert!(call(&DELETE_DATABASE).retry_safe());
        for route in [
            &ROTATE_DATABASE_TOKEN,
            &CREATE_QUERY_TOKEN,
            &SUSPEND_DATABASE,
            &RESUME_DATABASE,
        ] {
            assert!(!call(route).retry_safe(), "{}", route.key());
        }
    }

    #[test]
    fn describe_names_the_objects() {
        let op = Operation::on_project(&CREATE_DATABASE, "prj_123").with_database_name("orders");
        assert_eq!(
            op.describe(),
            "create database `orders` in project `prj_123`"
        );
        let op = Operation::on_database(&ROTATE_DATABASE_TOKEN, "db_1");
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
        let op = Operation::new(&LIST_PROJECTS);
        assert_eq!(op.missing_object(), "the API route");
    }
}

//! [`Platform`]: what the harness knows of each platform, as data: the emulator's name for
//! it (`--serve NAME=ADDR` and its listening line), its default port, where its state
//! directory keeps the bootstrap credential and the admin secret, how a request carries the
//! credential, and the provider that manages it (source address, binary, environment).
//!
//! [`super::Emulator`] and [`super::Terraform`] read these facts; nothing else in the
//! harness names a platform. Adding a platform is one variant and one [`Facts`] row.

use std::path::PathBuf;
use std::time::Duration;

/// A platform the emulator serves and a provider manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Comwit,
    WaysCloud,
    CloudSync,
}

/// How a request carries a platform's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialHeader {
    /// `Authorization: Bearer <credential>`.
    Bearer,
    /// `<name>: <credential>` (WaysCloud's `X-API-Key`).
    Named(&'static str),
}

/// One platform's facts.
#[derive(Debug)]
pub struct Facts {
    /// The emulator's name: `--serve NAME=ADDR`, `platform-emulator: NAME listening on ...`.
    pub name: &'static str,
    /// The emulator's default address when none is given (not used by tests, which always
    /// ask for a free port; documented here so the table is the one list).
    pub default_listen: &'static str,
    /// The bootstrap credential's file, relative to the state directory.
    pub credential_file: &'static str,
    /// The admin secret's file (header `X-Emulator-Admin`), relative to the state directory.
    pub admin_secret_file: &'static str,
    pub credential_header: CredentialHeader,
    /// How long the emulator may take to listen when it serves this platform (WaysCloud
    /// initialises PostgreSQL and MariaDB on first start).
    pub start_timeout: Duration,
    /// Whether dropping the emulator must stop it with SIGTERM (and wait) rather than
    /// SIGKILL: WaysCloud's engines stop with the emulator only on a clean shutdown.
    pub graceful_stop: bool,
    /// Environment for the emulator when it serves this platform.
    pub emulator_env: &'static [(&'static str, &'static str)],
    /// The provider's source address (`terraform { required_providers { ... } }`).
    pub provider_source: &'static str,
    /// The cargo-built provider binary of this test run.
    pub provider_binary: &'static str,
    /// The provider's API URL variable.
    pub url_env: &'static str,
    /// The provider's credential variable.
    pub credential_env: &'static str,
    /// Other provider variables the emulator's bootstrap credential needs.
    pub extra_provider_env: &'static [(&'static str, &'static str)],
}

const COMWIT: Facts = Facts {
    name: "comwit",
    default_listen: "127.0.0.1:8787",
    credential_file: "bootstrap-token",
    admin_secret_file: "admin-secret",
    credential_header: CredentialHeader::Bearer,
    start_timeout: Duration::from_secs(60),
    graceful_stop: false,
    emulator_env: &[],
    provider_source: "comwit/comwit",
    provider_binary: env!("CARGO_BIN_EXE_terraform-provider-comwit"),
    url_env: "COMWIT_API_URL",
    credential_env: "COMWIT_TOKEN",
    extra_provider_env: &[("COMWIT_PROJECT_ID", super::emulator::LOCAL_PROJECT)],
};

const WAYSCLOUD: Facts = Facts {
    name: "wayscloud",
    default_listen: "127.0.0.1:8788",
    credential_file: "wayscloud/bootstrap-api-key",
    admin_secret_file: "wayscloud/admin-secret",
    credential_header: CredentialHeader::Named("X-API-Key"),
    start_timeout: Duration::from_secs(120),
    graceful_stop: true,
    emulator_env: &[],
    provider_source: "wayscloud/wayscloud",
    provider_binary: env!("CARGO_BIN_EXE_terraform-provider-wayscloud"),
    url_env: "WAYSCLOUD_API_URL",
    credential_env: "WAYSCLOUD_API_KEY",
    extra_provider_env: &[],
};

const CLOUDSYNC: Facts = Facts {
    name: "cloudsync",
    default_listen: "127.0.0.1:8789",
    credential_file: "cloudsync/api-key",
    admin_secret_file: "cloudsync/admin-secret",
    credential_header: CredentialHeader::Bearer,
    start_timeout: Duration::from_secs(60),
    graceful_stop: false,
    emulator_env: &[("COMWIT_EMULATOR_LOG", "debug")],
    provider_source: "cloudsync/cloudsync",
    provider_binary: env!("CARGO_BIN_EXE_terraform-provider-cloudsync"),
    url_env: "CLOUDSYNC_API_URL",
    credential_env: "CLOUDSYNC_API_KEY",
    extra_provider_env: &[],
};

impl Platform {
    /// Every platform, in the emulator's order.
    pub const ALL: [Platform; 3] = [Platform::Comwit, Platform::WaysCloud, Platform::CloudSync];

    pub fn facts(self) -> &'static Facts {
        match self {
            Platform::Comwit => &COMWIT,
            Platform::WaysCloud => &WAYSCLOUD,
            Platform::CloudSync => &CLOUDSYNC,
        }
    }

    /// The emulator's name for it (`comwit`, `wayscloud`, `cloudsync`).
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    /// The provider binary of this test run.
    pub fn provider_binary(self) -> PathBuf {
        PathBuf::from(self.facts().provider_binary)
    }

    /// A `terraform { required_providers { ... } }` block naming the providers of
    /// `platforms` (so their types resolve to the sources the `dev_overrides` serve).
    pub fn terraform_block(platforms: &[Platform]) -> String {
        let mut block = String::from("terraform {\n  required_providers {\n");
        for p in platforms {
            block.push_str(&format!(
                "    {} = {{\n      source = \"{}\"\n    }}\n",
                p.name(),
                p.facts().provider_source
            ));
        }
        block.push_str("  }\n}\n");
        block
    }
}

#[test]
fn the_comwit_block_is_the_one_every_comwit_test_writes() {
    assert_eq!(
        Platform::terraform_block(&[Platform::Comwit]),
        super::COMWIT_TERRAFORM_BLOCK
    );
}

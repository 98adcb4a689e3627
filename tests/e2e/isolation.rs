//! No credential or setting in the caller's environment reaches a provider that Terraform
//! starts for a test: the harness clears every variable named in
//! `support::ISOLATED_ENV_PREFIXES`, then sets what the test asks. The test-only provider's
//! `testing_environment` data source reports the variable names its process really has.

use std::process::Command;

use crate::support;

use support::{is_isolated_env, Terraform, TESTING_TERRAFORM_BLOCK};

/// Credentials a developer might have exported, one per provider and prefix.
const PLANTED: &[(&str, &str)] = &[
    ("WAYSCLOUD_API_KEY", "planted-wayscloud-key"),
    ("CLOUDSYNC_API_KEY", "planted-cloudsync-key"),
    ("COMWIT_TOKEN", "cwt_planted0000000000000000000000000"),
    ("PLATFORM_API_TOKEN", "planted-platform-token"),
    ("TF_VAR_planted", "planted-variable"),
];

/// Set (by [`parent_credentials_never_reach_the_provider`]) when this binary runs again
/// with [`PLANTED`] in its environment.
const PLANTED_MARK: &str = "E2E_ISOLATION_PLANTED";

/// What the test itself sets, so it must reach the provider (proof that a leak would show).
const SET_BY_TEST: (&str, &str) = ("WAYSCLOUD_API_URL", "http://127.0.0.1:9/");

/// The names of the testing provider's environment variables, read by Terraform.
fn provider_env_names(tf: &Terraform) -> Vec<String> {
    tf.write_main(&format!(
        "{TESTING_TERRAFORM_BLOCK}
data \"testing_environment\" \"all\" {{
  prefix = \"\"
}}
output \"names\" {{
  value = data.testing_environment.all.names
}}
"
    ));
    tf.apply();
    let names = tf.output("names");
    let names = names.as_str().expect("names is a string");
    names.split(',').map(str::to_owned).collect()
}

#[test]
fn the_provider_sees_only_what_the_test_sets() {
    let planted = std::env::var_os(PLANTED_MARK).is_some();
    if planted {
        for (name, value) in PLANTED {
            assert_eq!(
                std::env::var(name).as_deref(),
                Ok(*value),
                "{name} is set in the test process"
            );
        }
    }
    let tf = Terraform::builder()
        .testing_provider()
        .env(SET_BY_TEST.0, SET_BY_TEST.1)
        .build();
    let names = provider_env_names(&tf);
    assert!(
        names.iter().any(|n| n == "PATH"),
        "the data source lists the provider's variables: {names:?}"
    );
    assert!(
        names.iter().any(|n| n == SET_BY_TEST.0),
        "a variable the test sets reaches the provider: {names:?}"
    );
    for (name, _) in PLANTED {
        assert!(
            !names.iter().any(|n| n == name),
            "{name} from the parent environment reached the provider: {names:?}"
        );
    }
    // Of the isolated prefixes, the provider sees only what the harness (its CLI config,
    // and the provider log in which a panic is caught), the test and Terraform (the plugin
    // handshake) set.
    let allowed = [
        SET_BY_TEST.0,
        "TF_CLI_CONFIG_FILE",
        "TF_IN_AUTOMATION",
        "TF_LOG_PROVIDER",
        "TF_LOG_PATH",
        "TF_PLUGIN_MAGIC_COOKIE",
    ];
    for name in &names {
        assert!(
            !is_isolated_env(name.as_ref()) || allowed.contains(&name.as_str()),
            "{name} reached the provider without the test setting it: {names:?}"
        );
    }
}

/// Runs [`the_provider_sees_only_what_the_test_sets`] again in a child process of this test
/// binary with [`PLANTED`] credentials in its environment (not set in this process, which
/// runs other tests in parallel threads), so the test process really holds a
/// `WAYSCLOUD_API_KEY` when the harness starts Terraform.
#[test]
fn parent_credentials_never_reach_the_provider() {
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, m)| m);
    let inner = format!("{module}::the_provider_sees_only_what_the_test_sets");
    let exe = std::env::current_exe().expect("this test binary");
    let out = Command::new(&exe)
        .args(["--exact", &inner, "--test-threads=1"])
        .envs(PLANTED.iter().copied())
        .env(PLANTED_MARK, "1")
        .output()
        .expect("run this test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{inner} with planted credentials:\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
}

//! Terraform advice, written once for every provider: the Terraform commands and words a
//! remedy names (`terraform state rm`, `terraform import`, `-parallelism`). A client says
//! what happened (the kind, the platform's code, the object and its ids, the retries);
//! each platform's `common.rs` picks its remedy from those facts and takes the Terraform
//! part from here, so no client names a Terraform command.

/// The way out for an object Terraform should stop managing.
pub const STATE_RM: &str = "remove it from state with `terraform state rm <address>` if \
                            Terraform should no longer manage it.";

/// Why an object only Terraform's state names is gone.
pub const DELETED_OUTSIDE: &str = "deleted outside Terraform";

/// For an object of that name that exists already (a create answered 409).
pub const IMPORT_EXISTING: &str = "bring the existing one under Terraform with `terraform import`.";

/// For a failure after the request may have been sent (Terraform stopped the provider).
pub const STOPPED: &str = "Terraform asked the provider to stop.";

/// For an id the user gave (in the configuration, at `attribute`, or to `terraform
/// import`) that names nothing: "check the id given in the configuration (`database_id`)
/// or to `terraform import` (a typo, ...)." `attribute` is `""` or " (`name`)"; `why`
/// says what else it may be.
pub fn check_given_id(attribute: &str, why: &str) -> String {
    format!("check the id given in the configuration{attribute} or to `terraform import` ({why}).")
}

/// The two ways to import the object `id`: "`terraform import <address> id` (or an
/// `import { to = <address>, id = "id" }` block)".
pub fn import_commands(id: &str) -> String {
    format!("`terraform import <address> {id}` (or an `import {{ to = <address>, id = \"{id}\" }}` block)")
}

/// For a platform still answering 429 after the retries: fewer requests at once.
pub const LOWER_PARALLELISM: &str =
    "Wait a minute and try again, or run Terraform with a lower `-parallelism`.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_commands_name_the_id_twice() {
        assert_eq!(
            import_commands("db_1"),
            "`terraform import <address> db_1` (or an `import { to = <address>, id = \"db_1\" }` block)"
        );
        assert_eq!(
            check_given_id(" (`app_id`)", "a typo"),
            "check the id given in the configuration (`app_id`) or to `terraform import` (a typo)."
        );
        assert!(STATE_RM.contains("terraform state rm <address>"));
    }
}

//! The standard checks every resource type passes, written once and called per type (the
//! scaffolding-framework way: declare the type's facts, the steps are shared):
//!
//! 1. apply the configuration; the platform has the object ([`Check::exists`]);
//! 2. a second `plan -detailed-exitcode` is 0 (no changes);
//! 3. import into a fresh state gives the same attributes, except those documented as not
//!    importable (which are null after import), and a plan after it is empty (or, when the
//!    configuration sets what cannot be imported, an in-place update that converges); or,
//!    for a type that cannot be imported, the import is refused with the documented
//!    message;
//! 4. an out-of-band deletion ([`OutOfBand::Delete`], e.g. an emulator API call) is
//!    noticed by the next plan (exit code 2, "`address` will be created"), or for a type
//!    that is a setting of another object an out-of-band change ([`OutOfBand::Change`]) is
//!    ("`address` will be updated in-place"); an apply puts it back;
//! 5. after `terraform destroy` the platform holds nothing ([`Check::nothing_left`]).
//!
//! ```ignore
//! let outcome = support::checks::lifecycle(&tf, &Check {
//!     address: "comwit_database.main",
//!     config: &config,
//!     import: Import::Verify {
//!         id: Box::new(|v| v["id"].as_str().expect("id").to_owned()),
//!         not_importable: &["database_token"],
//!     },
//!     exists: Box::new(|v| assert!(live(&emu).iter().any(|d| d["database_id"] == v["id"]))),
//!     out_of_band: OutOfBand::Delete(Box::new(|v| { emu.api(DELETE, &format!("/v1/databases/{}", v["id"]), None); })),
//!     nothing_left: Box::new(|| assert!(live(&emu).is_empty())),
//! });
//! ```
//!
//! Each step is also a function of its own, for tests that check one step among others.

use serde_json::Value;

use super::terraform::{Output, Terraform};

/// How a type is imported.
pub enum Import<'a> {
    /// `terraform import <address> <id(values)>` into a fresh workspace gives the same
    /// attributes, except `not_importable` (documented as unknown after import, e.g. a
    /// secret only returned at create), which must be null.
    Verify {
        id: Box<dyn Fn(&Value) -> String + 'a>,
        not_importable: &'a [&'a str],
    },
    /// As [`Import::Verify`], for a type whose not-importable attributes are set in the
    /// configuration (a connection string, a write-only secret's version): the plan after
    /// import updates the resource in place (nothing added or destroyed), and once applied
    /// the next plan is empty.
    VerifyThenUpdate {
        id: Box<dyn Fn(&Value) -> String + 'a>,
        not_importable: &'a [&'a str],
    },
    /// Import is refused: `terraform import <address> <id>` fails and says `message`.
    Refused { id: &'a str, message: &'a str },
}

/// The out-of-band drift step 4 makes, and what the next plan must say.
pub enum OutOfBand<'a> {
    /// Deletes the object: the next plan creates it again.
    Delete(Box<dyn Fn(&Value) + 'a>),
    /// Changes it (for a type that is a setting of another object, such as a backup policy
    /// or an app's environment, and cannot be deleted on its own): the next plan updates
    /// it in place.
    Change(Box<dyn Fn(&Value) + 'a>),
}

/// A resource type's facts for the standard checks.
pub struct Check<'a> {
    /// Resource address, e.g. `comwit_database.main`.
    pub address: &'a str,
    /// The whole `main.tf` that declares it.
    pub config: &'a str,
    pub import: Import<'a>,
    /// Asserts the platform holds the object behind these state values (after apply and
    /// after the re-creation).
    pub exists: Box<dyn Fn(&Value) + 'a>,
    /// What happens to the object behind these state values behind Terraform's back.
    pub out_of_band: OutOfBand<'a>,
    /// Asserts the platform holds nothing of what the configuration created (after destroy).
    pub nothing_left: Box<dyn Fn() + 'a>,
}

/// What [`lifecycle`] saw, for the type-specific assertions that follow.
pub struct Outcome {
    /// The resource's state values after the first apply.
    pub created: Value,
    /// `terraform import`'s output (a failure's for [`Import::Refused`]).
    pub import_output: Output,
    /// The state values after import (`Null` for [`Import::Refused`]).
    pub imported: Value,
    /// The state values after the out-of-band drift was put back.
    pub recreated: Value,
}

/// All the standard checks in order, in `tf` (which must be empty); `tf` is destroyed at
/// the end.
pub fn lifecycle(tf: &Terraform, check: &Check) -> Outcome {
    let created = apply_then_empty_plan(tf, check);
    let (import_output, imported) = import_matches(tf, check, &created);
    let recreated = out_of_band_drift_is_noticed(tf, check, &created);
    destroy_leaves_nothing(tf, check);
    Outcome {
        created,
        import_output,
        imported,
        recreated,
    }
}

/// Steps 1 and 2: writes the configuration, applies it, checks the object exists and a
/// second plan is empty. Returns the resource's state values.
pub fn apply_then_empty_plan(tf: &Terraform, check: &Check) -> Value {
    tf.write_main(check.config);
    tf.apply();
    let values = tf.resource(check.address);
    (check.exists)(&values);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "{}: a second plan after apply must be empty",
        check.address
    );
    values
}

/// Step 3: imports the object behind `created` into a fresh workspace (same providers and
/// environment as `tf`). Returns import's output and the imported state values.
pub fn import_matches(tf: &Terraform, check: &Check, created: &Value) -> (Output, Value) {
    let fresh = tf.fresh();
    fresh.write_main(check.config);
    match &check.import {
        Import::Verify { id, not_importable } => {
            let (out, imported) =
                import_same_attributes(&fresh, check, created, id, not_importable);
            assert_eq!(
                fresh.plan_detailed_exitcode(),
                0,
                "{}: import causes no diff",
                check.address
            );
            (out, imported)
        }
        Import::VerifyThenUpdate { id, not_importable } => {
            let (out, imported) =
                import_same_attributes(&fresh, check, created, id, not_importable);
            let plan = fresh.plan();
            assert!(
                plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
                "{}: after import, the plan sets what was not imported in place\n{plan}",
                check.address
            );
            fresh.apply();
            assert_eq!(
                fresh.plan_detailed_exitcode(),
                0,
                "{}: a plan after applying the imported state is empty",
                check.address
            );
            (out, imported)
        }
        Import::Refused { id, message } => {
            let out = fresh.run(&["import", "-no-color", "-input=false", check.address, id]);
            assert!(
                !out.success(),
                "{}: import must be refused\n{out}",
                check.address
            );
            assert!(
                out.combined().contains(message),
                "{}: import refusal says {message:?}\n{out}",
                check.address
            );
            assert!(
                !fresh.dir().join("terraform.tfstate").exists() || fresh.state_list().is_empty(),
                "{}: a refused import leaves the state empty",
                check.address
            );
            (out, Value::Null)
        }
    }
}

/// Imports the object behind `created` into `fresh` and checks every attribute is the
/// same, except `not_importable`, which must be null.
fn import_same_attributes(
    fresh: &Terraform,
    check: &Check,
    created: &Value,
    id: &dyn Fn(&Value) -> String,
    not_importable: &[&str],
) -> (Output, Value) {
    let id = id(created);
    let out = fresh.import(check.address, &id);
    let imported = fresh.resource(check.address);
    let (Some(want), Some(got)) = (created.as_object(), imported.as_object()) else {
        panic!(
            "{}: state values are not objects: {created} / {imported}",
            check.address
        );
    };
    for (attr, value) in want {
        if not_importable.contains(&attr.as_str()) {
            assert_eq!(
                got.get(attr),
                Some(&Value::Null),
                "{}: {attr} is documented as not importable, so null after import",
                check.address
            );
        } else {
            assert_eq!(
                got.get(attr),
                Some(value),
                "{}: attribute {attr} after import of {id}",
                check.address
            );
        }
    }
    assert_eq!(
        got.len(),
        want.len(),
        "{}: the same attributes after import: {imported:#}",
        check.address
    );
    (out, imported)
}

/// Step 4: deletes (or changes, [`OutOfBand::Change`]) the object behind `created` out of
/// band; the next plan must want to create it again (or update it in place); an apply
/// does, and a plan after it is empty. Returns the new state values.
pub fn out_of_band_drift_is_noticed(tf: &Terraform, check: &Check, created: &Value) -> Value {
    let (drift, wanted) = match &check.out_of_band {
        OutOfBand::Delete(delete) => (delete, format!("{} will be created", check.address)),
        OutOfBand::Change(change) => (
            change,
            format!("{} will be updated in-place", check.address),
        ),
    };
    drift(created);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        2,
        "{}: a plan after an out-of-band drift has changes",
        check.address
    );
    let plan = tf.try_plan();
    assert!(
        plan.success() && plan.stdout.contains(&wanted),
        "{}: {wanted:?} after an out-of-band drift\n{plan}",
        check.address
    );
    tf.apply();
    let recreated = tf.resource(check.address);
    (check.exists)(&recreated);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "{}: a plan after the re-creation is empty",
        check.address
    );
    recreated
}

/// Step 5: `terraform destroy`, then the state is empty and the platform holds nothing.
pub fn destroy_leaves_nothing(tf: &Terraform, check: &Check) {
    tf.destroy();
    assert!(
        tf.state_list().is_empty(),
        "{}: the state is empty after destroy",
        check.address
    );
    (check.nothing_left)();
}

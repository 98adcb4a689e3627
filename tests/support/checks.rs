//! The standard checks every resource type passes, written once and called per type (the
//! scaffolding-framework way: declare the type's facts, the steps are shared):
//!
//! 1. apply the configuration; the platform has the object ([`Check::exists`]);
//! 2. a second `plan -detailed-exitcode` is 0 (no changes);
//! 3. import into a fresh state gives the same attributes, except those documented as not
//!    importable (which are null after import), and a plan after it is empty; or, for a
//!    type that cannot be imported, the import is refused with the documented message;
//! 4. an out-of-band deletion ([`Check::delete_out_of_band`], e.g. an emulator API call) is
//!    noticed by the next plan (exit code 2, "`address` will be created"); an apply
//!    re-creates it;
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
//!     delete_out_of_band: Box::new(|v| { emu.api(DELETE, &format!("/v1/databases/{}", v["id"]), None); }),
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
    /// Import is refused: `terraform import <address> <id>` fails and says `message`.
    Refused { id: &'a str, message: &'a str },
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
    /// Deletes the object behind these state values behind Terraform's back.
    pub delete_out_of_band: Box<dyn Fn(&Value) + 'a>,
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
    /// The state values after the out-of-band deletion was re-created.
    pub recreated: Value,
}

/// All the standard checks in order, in `tf` (which must be empty); `tf` is destroyed at
/// the end.
pub fn lifecycle(tf: &Terraform, check: &Check) -> Outcome {
    let created = apply_then_empty_plan(tf, check);
    let (import_output, imported) = import_matches(tf, check, &created);
    let recreated = out_of_band_delete_is_noticed(tf, check, &created);
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
            assert_eq!(
                fresh.plan_detailed_exitcode(),
                0,
                "{}: import causes no diff",
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

/// Step 4: deletes the object behind `created` out of band; the next plan must want to
/// create it again; an apply does, and a plan after it is empty. Returns the new state
/// values.
pub fn out_of_band_delete_is_noticed(tf: &Terraform, check: &Check, created: &Value) -> Value {
    (check.delete_out_of_band)(created);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        2,
        "{}: a plan after an out-of-band deletion has changes",
        check.address
    );
    let plan = tf.try_plan();
    let wanted = format!("{} will be created", check.address);
    assert!(
        plan.success() && plan.stdout.contains(&wanted),
        "{}: {wanted:?} after an out-of-band deletion\n{plan}",
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

//! Client failures as diagnostics, written once for every provider: what a type does with a
//! failed API call (report it, take "already gone" as done on destroy, take "gone" as "no
//! longer exists" on read, give a data source's reader what to check).
//!
//! The plugin side never imports a client (`docs/architecture.md`, "What each folder may
//! import"), so each platform makes its client's failure a [`ClientFailure`] (in its
//! `common.rs`): the diagnostic's summary and detail, whether the platform says the object
//! is gone, and the attribute the failure points at, if any. The remedies of the kinds
//! every platform meets are written once in [`remedy`], over the platform's facts; the
//! Terraform words of any remedy are in [`advice`].

use tf_provider::{AttributePath, Diagnostics};

pub mod advice;
pub mod remedy;

pub use remedy::Generic;

/// A failed API call as the diagnostics need it. Every text is safe to show: the client
/// has redacted every secret it knows of. The detail has one shape on every platform:
/// "Could not <attempt>. <remedy>".
pub trait ClientFailure {
    /// The diagnostic's summary: "Error creating database".
    fn summary(&self) -> String;
    /// What was attempted and the answer, without the remedy: "<what>: <why>" (completes
    /// "Could not ...").
    fn attempt(&self) -> String;
    /// What the user can do about it (the platform's `remedy`, the generic kinds' from
    /// [`remedy::remedy`]); empty when there is nothing to add.
    fn remedy(&self) -> String;
    /// The diagnostic's detail: "Could not <what>: <why>. <what to do>."
    fn detail(&self) -> String {
        let remedy = self.remedy();
        if remedy.is_empty() {
            format!("Could not {}.", self.attempt())
        } else {
            format!("Could not {}. {remedy}", self.attempt())
        }
    }
    /// Whether the platform says the object does not exist (its documented "not found"
    /// answer, never a bare 404 from somewhere else).
    fn is_not_found(&self) -> bool;
    /// The attribute the failure points at (a refused field), if any; the diagnostic is
    /// then on that attribute instead of the whole block.
    fn attribute(&self) -> Option<&'static str> {
        None
    }
}

impl<F: ClientFailure + ?Sized> ClientFailure for &F {
    fn summary(&self) -> String {
        (**self).summary()
    }
    fn attempt(&self) -> String {
        (**self).attempt()
    }
    fn remedy(&self) -> String {
        (**self).remedy()
    }
    fn is_not_found(&self) -> bool {
        (**self).is_not_found()
    }
    fn attribute(&self) -> Option<&'static str> {
        (**self).attribute()
    }
}

/// Reports an API failure: its summary and actionable detail, on its attribute when it
/// names one.
pub fn api_error(diags: &mut Diagnostics, failure: &impl ClientFailure) {
    match failure.attribute() {
        Some(attr) => diags.error(
            failure.summary(),
            failure.detail(),
            AttributePath::new(attr),
        ),
        None => diags.root_error(failure.summary(), failure.detail()),
    }
}

/// A delete's outcome for destroy: done, or already gone (the platform's "not found")
/// counts as done; any other failure is reported.
pub fn deleted<T, F: ClientFailure>(diags: &mut Diagnostics, result: Result<T, F>) -> Option<()> {
    match result {
        Ok(_) => Some(()),
        Err(e) if e.is_not_found() => Some(()),
        Err(e) => {
            api_error(diags, &e);
            None
        }
    }
}

/// A read's outcome: the answer, or `None` when the platform says the object is gone; any
/// other failure is reported (and also gives `None`).
pub fn found<T, F: ClientFailure>(diags: &mut Diagnostics, result: Result<T, F>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            api_error(diags, &e);
            None
        }
    }
}

/// A failure of a data source's read. A data source only reads what exists, so "not
/// found" gets no resource advice (`terraform state rm`, "let Terraform create it again")
/// but what a reader can check: `check`, the platform's words ("check the id or name, and
/// that the token is a member of its project."). Any other failure is [`api_error`].
pub fn data_source_error(diags: &mut Diagnostics, failure: &impl ClientFailure, check: &str) {
    if !failure.is_not_found() {
        return api_error(diags, failure);
    }
    diags.root_error(
        failure.summary(),
        format!(
            "Could not {}. A data source reads an object that already exists: {check}",
            failure.attempt()
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fake {
        gone: bool,
        attribute: Option<&'static str>,
    }

    impl ClientFailure for Fake {
        fn summary(&self) -> String {
            "Error reading thing".into()
        }
        fn attempt(&self) -> String {
            if self.gone {
                "read thing `t_1`: it answered 404".into()
            } else {
                "read thing `t_1`: it answered 500".into()
            }
        }
        fn remedy(&self) -> String {
            "Try again later.".into()
        }
        fn is_not_found(&self) -> bool {
            self.gone
        }
        fn attribute(&self) -> Option<&'static str> {
            self.attribute
        }
    }

    const GONE: Fake = Fake {
        gone: true,
        attribute: None,
    };
    const BROKEN: Fake = Fake {
        gone: false,
        attribute: None,
    };

    #[test]
    fn gone_is_done_on_delete_and_absent_on_read() {
        let mut d = Diagnostics::default();
        assert_eq!(deleted(&mut d, Err::<(), _>(GONE)), Some(()));
        assert_eq!(found(&mut d, Err::<u8, _>(GONE)), None);
        assert_eq!(found(&mut d, Ok::<u8, Fake>(7)), Some(7));
        assert!(d.errors.is_empty());
        assert_eq!(deleted(&mut d, Err::<(), _>(BROKEN)), None);
        assert_eq!(found(&mut d, Err::<u8, _>(BROKEN)), None);
        assert_eq!(d.errors.len(), 2);
        assert_eq!(d.errors[0].summary, "Error reading thing");
        assert!(
            d.errors[0]
                .detail
                .starts_with("Could not read thing `t_1`: it answered 500. Try again later."),
            "{}",
            d.errors[0].detail
        );
    }

    #[test]
    fn a_failure_that_names_a_field_is_on_its_attribute() {
        let mut d = Diagnostics::default();
        let refused = Fake {
            gone: false,
            attribute: Some("label"),
        };
        api_error(&mut d, &refused);
        assert_eq!(d.errors[0].attribute, AttributePath::new("label"));
    }

    #[test]
    fn a_data_source_gets_what_to_check_not_resource_advice() {
        let mut d = Diagnostics::default();
        data_source_error(&mut d, &GONE, "check the id.");
        // (tf-provider appends a backtrace to a diagnostic's detail when RUST_BACKTRACE is
        // set.)
        assert!(
            d.errors[0].detail.starts_with(
                "Could not read thing `t_1`: it answered 404. A data source reads an object \
                 that already exists: check the id."
            ),
            "{}",
            d.errors[0].detail
        );
        data_source_error(&mut d, &BROKEN, "check the id.");
        assert!(d.errors[1].detail.contains("Try again later"));
    }
}

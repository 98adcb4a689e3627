//! Client failures as diagnostics, written once for every provider: what a type does with a
//! failed API call (report it, take "already gone" as done on destroy, take "gone" as "no
//! longer exists" on read, give a data source's reader what to check), and what to do
//! about it.
//!
//! The plugin side never imports a client (`docs/architecture.md`, "What each folder may
//! import"): it reads a failure through [`ClientFailure`], which each platform implements
//! for its client's failure in a few lines (in its `common.rs`): its words (summary,
//! attempt), its [`ProviderFacts`], and its own remedies; the failure's [`Common`] facts
//! come from the client core, which gives every platform's failure [`CommonFacts`] (in the
//! words `contract::failure` shares). The
//! remedy of every generic kind (429, 5xx, no answer, deadline, undecodable answer, an
//! answer not from the API, 401, 403, stop) is chosen here once, by [`remedy::of`], and
//! written once in [`remedy`]; the Terraform words of any remedy are in [`advice`].

use tf_provider::{AttributePath, Diagnostics};

pub use crate::contract::failure::{Common, CommonFacts, FailureKind};
use crate::plugin::kit::settings::ProviderFacts;

pub mod advice;
pub mod remedy;

pub use remedy::Generic;

/// A failed API call as the diagnostics need it. Every text is safe to show: the client
/// has redacted every secret it knows of. The detail has one shape on every platform:
/// "Could not <attempt>. <remedy>".
/// The facts every generic remedy reads are the supertrait's ([`CommonFacts`], which the
/// client core implements for every platform's failure).
pub trait ClientFailure: CommonFacts {
    /// The platform's names, settings, environment variables and URLs, which the generic
    /// remedies name.
    const FACTS: &'static ProviderFacts;
    /// The diagnostic's summary: "Error creating database".
    fn summary(&self) -> String;
    /// What was attempted and the answer, without the remedy: "<what>: <why>" (completes
    /// "Could not ...").
    fn attempt(&self) -> String;
    /// The platform's own remedy, when it has one for this failure: its codes and details
    /// (Comwit's `not_a_member`, WaysCloud's `quota_exceeded`, CloudSync's tenant codes) and
    /// the kinds only it can advise on (not found, conflict, a refused value, another
    /// answer). `None`: the generic remedy of the failure's kind ([`remedy::of`]).
    fn own_remedy(&self) -> Option<String>;
    /// What a refused credential lacks, in the platform's words ("scope
    /// `database:write`"), for the generic 403 remedy.
    fn lacks(&self) -> Option<String> {
        None
    }
    /// A sentence the platform adds after a generic remedy (where to get a token, what a
    /// request that was not repeated means for this operation).
    fn and_then(&self, _generic: Generic<'_>) -> Option<&'static str> {
        None
    }
    /// What the user can do about it: the platform's own remedy, else the generic one
    /// ([`remedy::of`]); empty when there is nothing to add.
    fn remedy(&self) -> String {
        remedy::of(self)
    }
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
    fn is_not_found(&self) -> bool {
        self.common().kind.is_not_found()
    }
    /// The attribute the failure points at (a refused field), if any; the diagnostic is
    /// then on that attribute instead of the whole block.
    fn attribute(&self) -> Option<&'static str> {
        None
    }
}

impl<F: ClientFailure + ?Sized> ClientFailure for &F {
    const FACTS: &'static ProviderFacts = F::FACTS;
    fn summary(&self) -> String {
        (**self).summary()
    }
    fn attempt(&self) -> String {
        (**self).attempt()
    }
    fn own_remedy(&self) -> Option<String> {
        (**self).own_remedy()
    }
    fn lacks(&self) -> Option<String> {
        (**self).lacks()
    }
    fn and_then(&self, generic: Generic<'_>) -> Option<&'static str> {
        (**self).and_then(generic)
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

    impl CommonFacts for Fake {
        fn common(&self) -> Common<'_> {
            Common {
                kind: if self.gone {
                    FailureKind::NotFound
                } else {
                    FailureKind::Server
                },
                status: Some(if self.gone { 404 } else { 500 }),
                not_the_api: false,
                retries: Some(0),
                retry_after: None,
                timed_out: false,
                repeatable: true,
                may_have_taken_effect: false,
                url: None,
            }
        }
    }

    impl ClientFailure for Fake {
        const FACTS: &'static ProviderFacts = &remedy::tests::ACME;
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
        fn own_remedy(&self) -> Option<String> {
            Some("Try again later.".into())
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

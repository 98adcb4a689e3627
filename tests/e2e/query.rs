//! What every `terraform query` test shares (`lists`, `lists_platforms`): list blocks
//! written into a workspace and queried, the lines printed for one list block, and a query
//! that must fail read as one line of text.

use crate::support::{Output, Terraform};

/// Writes the list blocks `lists` into `file` (`<name>.tfquery.hcl`) of `tf`'s workspace
/// (its `main.tf` written already) and runs `terraform query`, which must succeed.
pub fn query(tf: &Terraform, file: &str, lists: &str) -> Output {
    tf.write_file(file, lists);
    tf.run_ok(&["query", "-no-color"])
}

/// [`query`] for a query that must fail: its output with whitespace folded
/// ([`Output::folded`]), which never mentions a panic.
pub fn query_fails(tf: &Terraform, file: &str, lists: &str) -> String {
    tf.write_file(file, lists);
    let out = tf.run(&["query", "-no-color"]);
    assert!(!out.success(), "{out}");
    let text = out.folded();
    assert!(!text.contains("panic"), "{text}");
    text
}

/// The lines `terraform query` printed for one list block (`list.<type>.<name>`).
pub fn listed(out: &Output, address: &str) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with(address))
        .map(str::to_owned)
        .collect()
}

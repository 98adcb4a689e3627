//! `terraform-provider-wayscloud`: Terraform and OpenTofu start this binary; it serves the
//! `wayscloud` provider over the plugin protocol.

fn main() -> std::process::ExitCode {
    platforms::wayscloud::serve()
}

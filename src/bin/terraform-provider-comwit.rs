//! `terraform-provider-comwit`: Terraform and OpenTofu start this binary; it serves the
//! `comwit` provider over the plugin protocol.

fn main() -> std::process::ExitCode {
    platforms::comwit::serve()
}

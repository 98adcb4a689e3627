//! `terraform-provider-cloudsync`: Terraform and OpenTofu start this binary; it serves the
//! `cloudsync` provider over the plugin protocol.

fn main() -> std::process::ExitCode {
    platforms::cloudsync::serve()
}

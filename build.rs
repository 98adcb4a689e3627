//! Compiles our protocol definitions (`proto/`) into tonic/prost server and client code.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos(&["proto/tfplugin6.proto", "proto/plugin.proto"], &["proto"])?;
    Ok(())
}

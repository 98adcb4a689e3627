//! The emulator crate's two binaries, as built. Cargo builds a package's binaries only for
//! its own integration tests, so this test is also what makes a plain `cargo test` build
//! `platform-emulator` and `comwit-emulator` for the root package's tests, which start them
//! from beside their own binaries (`tests/support`, `emulator_binary`).

use std::process::Command;

#[test]
fn the_emulator_prints_its_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_platform-emulator"))
        .arg("--help")
        .output()
        .expect("run platform-emulator");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {stdout}", out.status);
    assert!(
        stdout.starts_with("usage: platform-emulator ") && stdout.contains("--serve PLATFORM=ADDR"),
        "{stdout}"
    );
}

#[test]
fn the_old_name_says_the_new_one_and_runs_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_comwit-emulator"))
        .arg("--help")
        .output()
        .expect("run comwit-emulator");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(
        stderr.contains("this command is now `platform-emulator`"),
        "{stderr}"
    );
    assert!(stdout.starts_with("usage: platform-emulator "), "{stdout}");
}

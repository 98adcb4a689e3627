//! `comwit-emulator`: the emulator's old name, kept for one release. It says where the new
//! command is (`platform-emulator`, the same flags and output) and runs it, from the same
//! directory, with the same arguments. It uses nothing of the library, so it links in an
//! instant and is never rebuilt for a change elsewhere.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "comwit-emulator: this command is now `platform-emulator` (same flags, same output); \
         running it. The old name goes in the next release."
    );
    let Some(new) = std::env::current_exe()
        .ok()
        .map(|p| p.with_file_name(format!("platform-emulator{}", std::env::consts::EXE_SUFFIX)))
    else {
        eprintln!("comwit-emulator: cannot tell where this program is; run platform-emulator");
        return ExitCode::FAILURE;
    };
    let mut command = std::process::Command::new(&new);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = command.exec();
        eprintln!("comwit-emulator: could not run {}: {err}", new.display());
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("comwit-emulator: could not run {}: {err}", new.display());
            ExitCode::FAILURE
        }
    }
}

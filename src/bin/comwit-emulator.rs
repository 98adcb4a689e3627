//! `comwit-emulator [--listen ADDR] [--state-dir DIR]`: the local Comwit platform emulator.

use std::process::ExitCode;

use comwit::emulator::{self, Config};

const USAGE: &str = "usage: comwit-emulator [--listen ADDR] [--state-dir DIR]

  --listen ADDR     address to listen on (default 127.0.0.1:8787; port 0 picks a free port)
  --state-dir DIR   state directory (default ./.emulator)

environment:
  PLATFORM_API_PROTECTED_TENANTS    protected database names/ids (default louhi-app,comwit-db-synthetic)
  COMWIT_EMULATOR_BOOTSTRAP_TOKEN   bootstrap user token on first start (cwt_ + 16+ hex)
  COMWIT_EMULATOR_ADMIN_SECRET      secret for the /_emulator/ admin routes
  COMWIT_EMULATOR_FAULTS            initial fault rules, JSON {\"rules\": [...]}
  COMWIT_EMULATOR_LOG               log filter (default info), logs go to stderr";

enum Parsed {
    Run { listen: String, state_dir: String },
    Help,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut listen = emulator::DEFAULT_LISTEN.to_owned();
    let mut state_dir = emulator::DEFAULT_STATE_DIR.to_owned();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--listen" => listen = value("--listen")?,
            "--state-dir" => state_dir = value("--state-dir")?,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Parsed::Run { listen, state_dir })
}

fn main() -> ExitCode {
    let (listen, state_dir) = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run { listen, state_dir }) => (listen, state_dir),
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("comwit-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = Config::from_env(listen, state_dir).and_then(emulator::run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("comwit-emulator: {e:#}");
            ExitCode::FAILURE
        }
    }
}

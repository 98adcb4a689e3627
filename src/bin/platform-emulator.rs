//! `platform-emulator [--listen ADDR] [--serve PLATFORM=ADDR]... [--apps-listen ADDR]
//! [--dns-listen ADDR] [--allow-host NAME]... [--state-dir DIR]`: the local platform
//! emulator. Without `--serve` it serves Comwit alone; with `--serve` flags exactly the
//! named platforms, each on its own port (`emulator::RunConfig::served`).
//!
//! `platform-emulator state export|import|reset ...`: the state directory's export, import
//! and reset, whole or per platform, with the emulator stopped (`emulator::state_io`).

use std::process::ExitCode;

use platform_emulator::{self as emulator, RunConfig};

const STATE_USAGE: &str =
    "usage: platform-emulator state export --to FILE [--platform P]... [--state-dir DIR]
       platform-emulator state import --from FILE [--platform P]... [--state-dir DIR]
       platform-emulator state reset [--platform P]... [--state-dir DIR]

  export   writes every platform's state (or the named ones') to FILE: one tar file, written
           under a temporary name and renamed when complete (a failed export leaves no file)
  import   gives back the state FILE holds (or the named platforms') into the state directory;
           a platform that already holds state there is refused (reset it first)
  reset    removes every platform's state (or the named ones')
  --platform P     comwit, wayscloud or cloudsync (repeatable; default: all)
  --state-dir DIR  state directory (default ./.emulator)
Every command refuses while an emulator runs on the state directory.";

const USAGE: &str = "usage: platform-emulator [--listen ADDR] [--serve PLATFORM=ADDR]... [--apps-listen ADDR] [--dns-listen ADDR] [--allow-host NAME]... [--state-dir DIR]

  --serve PLATFORM=ADDR    serve a platform on ADDR (repeatable; port 0 picks a free port). Without
                           any --serve, comwit alone is served on 127.0.0.1:8787; with --serve flags,
                           exactly the named platforms are (--serve comwit=ADDR --serve wayscloud=ADDR
                           for two). Platforms: comwit (default 127.0.0.1:8787), wayscloud (starts
                           private PostgreSQL 15 and MariaDB servers in the state directory;
                           127.0.0.1:8788), cloudsync (127.0.0.1:8789)
  --listen ADDR            the same as --serve comwit=ADDR
  --apps-listen ADDR       comwit's app gateway, when comwit is served (default 127.0.0.1:8790; port 0
                           picks a free port)
  --dns-listen ADDR        comwit's DNS server, UDP and TCP, when comwit is served (default
                           127.0.0.1:8753; port 0 picks a free port)
  --allow-host NAME        a Host name every listener accepts (repeatable; *.NAME for every name under
                           it). Without it only loopback addresses, localhost, *.localhost, the listen
                           address when it is not loopback, and app hostnames on the gateway are
                           answered; others get 421 (a guard against DNS rebinding)
  --state-dir DIR          state directory (default ./.emulator)
  state ...                export, import or reset the state (platform-emulator state --help)

Every answer of every platform listener carries X-Emulator-Version; GET /_emulator/health
(no admin secret) answers 200 when each engine of the platform is ready, else 503.

Once every served platform listens, one line per listener goes to stdout (comwit's):
  platform-emulator: comwit listening on http://127.0.0.1:PORT
  platform-emulator: comwit-apps listening on http://127.0.0.1:PORT
  platform-emulator: comwit-dns listening on dns://127.0.0.1:PORT

environment:
  PLATFORM_API_PROTECTED_TENANTS    protected database names/ids (default louhi-app,comwit-db-synthetic)
  COMWIT_EMULATOR_BOOTSTRAP_TOKEN   bootstrap user token on first start (cwt_ + 16+ hex)
  COMWIT_EMULATOR_ADMIN_SECRET      secret for the /_emulator/ admin routes
  COMWIT_EMULATOR_FAULTS            initial fault rules, JSON {\"rules\": [...]}
  COMWIT_EMULATOR_NODE              the Node.js binary of apps (default node on PATH)
  COMWIT_EMULATOR_DNS_RESOLVER      the DNS server (ip:port) delegation and verification ask (default: its own)
  COMWIT_EMULATOR_ALLOWED_HOSTS     more Host names to accept, comma separated (as --allow-host)
  WAYSCLOUD_EMULATOR_API_KEY        WaysCloud bootstrap API key on first start (else random, in <state>/wayscloud/bootstrap-api-key)
  WAYSCLOUD_EMULATOR_ADMIN_SECRET   WaysCloud secret for its /_emulator/ admin routes
  WAYSCLOUD_EMULATOR_QUOTA          WaysCloud databases per customer (default 5)
  WAYSCLOUD_EMULATOR_FAULTS         WaysCloud initial fault rules
  CLOUDSYNC_EMULATOR_API_KEY        CloudSync's bootstrap management key on first start (csk_ + 32+ hex)
  CLOUDSYNC_EMULATOR_ADMIN_SECRET   secret for CloudSync's /_emulator/ admin routes
  CLOUDSYNC_EMULATOR_FAULTS         CloudSync's initial fault rules
  COMWIT_EMULATOR_LOG               log filter (default info), logs go to stderr";

enum Parsed {
    Run(RunConfig),
    Help,
}

/// A failed `state` command: a usage error (exit 2, with the usage) or a refusal or
/// failure of the command itself (exit 1).
enum StateError {
    Usage(String),
    Failed(String),
}

impl From<String> for StateError {
    fn from(e: String) -> StateError {
        StateError::Usage(e)
    }
}

impl From<&str> for StateError {
    fn from(e: &str) -> StateError {
        StateError::Usage(e.to_owned())
    }
}

/// `state export|import|reset` and its flags.
fn state_command(args: impl Iterator<Item = String>) -> Result<Option<String>, StateError> {
    let mut args = args.peekable();
    let command = args.next().unwrap_or_default();
    if matches!(command.as_str(), "" | "-h" | "--help") {
        return Ok(None);
    }
    let mut file: Option<String> = None;
    let mut platforms: Vec<String> = Vec::new();
    let mut state_dir = emulator::DEFAULT_STATE_DIR.to_owned();
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
        match (command.as_str(), flag.as_str()) {
            ("export", "--to") => file = Some(value("--to")?),
            ("import", "--from") => file = Some(value("--from")?),
            (_, "--platform") => platforms.push(value("--platform")?),
            (_, "--state-dir") => state_dir = value("--state-dir")?,
            (_, "-h" | "--help") => return Ok(None),
            (_, other) => return Err(format!("state {command}: unknown argument {other:?}").into()),
        }
    }
    emulator::state_io::select(&platforms).map_err(|e| StateError::Usage(format!("{e:#}")))?;
    let root = std::path::PathBuf::from(state_dir);
    let lines = match command.as_str() {
        "export" => {
            let to = file.ok_or("state export needs --to FILE")?;
            emulator::state_io::export(&root, to.as_ref(), &platforms)
                .map_err(|e| StateError::Failed(format!("state export: {e:#}")))?
                .iter()
                .map(|m| format!("exported {m}"))
                .chain([format!("wrote {to}")])
                .collect::<Vec<_>>()
        }
        "import" => {
            let from = file.ok_or("state import needs --from FILE")?;
            emulator::state_io::import(&root, from.as_ref(), &platforms)
                .map_err(|e| StateError::Failed(format!("state import: {e:#}")))?
                .iter()
                .map(|m| format!("imported {m}"))
                .collect()
        }
        "reset" => {
            let removed = emulator::state_io::reset(&root, &platforms)
                .map_err(|e| StateError::Failed(format!("state reset: {e:#}")))?;
            if removed.is_empty() {
                vec!["nothing to reset".to_owned()]
            } else {
                removed.iter().map(|p| format!("reset {p}")).collect()
            }
        }
        other => return Err(format!("unknown state command {other:?}").into()),
    };
    Ok(Some(lines.join("\n")))
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut config = RunConfig::new(emulator::DEFAULT_STATE_DIR);
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
            "--listen" => config.listen("comwit", &value("--listen")?)?,
            "--serve" => {
                let v = value("--serve")?;
                let (platform, addr) = v
                    .split_once('=')
                    .filter(|(p, a)| !p.is_empty() && !a.is_empty())
                    .ok_or_else(|| format!("--serve wants PLATFORM=ADDR, got {v:?}"))?;
                config.listen(platform, addr)?;
            }
            "--apps-listen" => {
                config.extra(emulator::APPS_LISTENING_NAME, &value("--apps-listen")?)
            }
            "--dns-listen" => config.extra(emulator::DNS_LISTENING_NAME, &value("--dns-listen")?),
            "--allow-host" => config.allowed_hosts.push(value("--allow-host")?),
            "--state-dir" => config.state_dir = value("--state-dir")?.into(),
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Parsed::Run(config))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("state") {
        args.next();
        return match state_command(args) {
            Ok(Some(report)) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Ok(None) => {
                println!("{STATE_USAGE}");
                ExitCode::SUCCESS
            }
            Err(StateError::Usage(e)) => {
                eprintln!("platform-emulator: {e}\n{STATE_USAGE}");
                ExitCode::from(2)
            }
            Err(StateError::Failed(e)) => {
                eprintln!("platform-emulator: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(config)) => config,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("platform-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match emulator::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("platform-emulator: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! `scripts/release.sh`: what a provider registry expects for every provider binary (zip,
//! SHA256SUMS, manifest with protocol 6.0), and a filesystem mirror from which a real
//! `terraform init` installs the provider with its version constraint honoured and a lock
//! file whose hash a changed binary fails.
//!
//! The binaries packaged are the ones this test run built (`--bin-dir`), so the release
//! layout is tested without a second, optimised build.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{terraform_bin, Emulator, Terraform};

fn release(out: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_terraform-provider-comwit"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let output = Command::new("bash")
        .arg(root.join("scripts/release.sh"))
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(out)
        .env("TERRAFORM_BIN", terraform_bin())
        .env("RELEASE_ZIP_LEVEL", "1")
        .output()
        .expect("run scripts/release.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "release.sh failed:\n{text}");
    text
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The one zip of `name` in the mirror (packed layout: HOST/NAME/NAME/zip).
fn mirror_zip(out: &Path, name: &str) -> PathBuf {
    let mirror = out.join("mirror");
    let hosts: Vec<PathBuf> = std::fs::read_dir(&mirror)
        .expect("mirror dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(hosts.len(), 1, "one source host in the mirror: {hosts:?}");
    hosts[0].join(name).join(name).join(format!(
        "terraform-provider-{name}_{}_linux_amd64.zip",
        version()
    ))
}

fn workspace(emu: &Emulator, mirror: &Path, constraint: &str) -> Terraform {
    let mut tf = Terraform::builder().emulator_env(emu).build();
    let cli = tf.dir().join("../mirror.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .expect("write CLI config");
    tf.set_env("TF_CLI_CONFIG_FILE", &cli);
    tf.write_main(&format!(
        "terraform {{
  required_providers {{
    comwit = {{
      source  = \"comwit/comwit\"
      version = \"{constraint}\"
    }}
  }}
}}

provider \"comwit\" {{}}

data \"comwit_project\" \"current\" {{}}

output \"project\" {{
  value = data.comwit_project.current.name
}}
"
    ));
    tf
}

#[test]
fn terraform_init_installs_the_release_from_a_mirror_and_checks_its_hash() {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return; // the test names the linux_amd64 archive
    }
    let dist = tempfile::tempdir().expect("temp dir");
    let text = release(dist.path());
    let v = version();

    // What a registry expects, for comwit (and every other provider binary).
    let dir = dist.path().join("comwit");
    let zip_name = format!("terraform-provider-comwit_{v}_linux_amd64.zip");
    let zip_bytes = std::fs::read(dir.join(&zip_name)).expect("zip");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("terraform-provider-comwit_{v}_manifest.json")))
            .expect("manifest"),
    )
    .expect("manifest JSON");
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
    let sums =
        std::fs::read_to_string(dir.join(format!("terraform-provider-comwit_{v}_SHA256SUMS")))
            .expect("SHA256SUMS");
    assert!(
        sums.lines()
            .any(|l| l == format!("{}  {zip_name}", sha256_hex(&zip_bytes))),
        "{sums}"
    );
    let mut archive = zip_entries(&zip_bytes);
    assert_eq!(archive.len(), 1);
    let (inner, mode, content) = archive.remove(0);
    assert_eq!(inner, format!("terraform-provider-comwit_v{v}"));
    assert_eq!(mode & 0o777, 0o755);
    let built = std::fs::read(env!("CARGO_BIN_EXE_terraform-provider-comwit")).expect("binary");
    assert!(content == built, "the zip carries the built binary");
    // Deterministic: the same binary gives the same zip.
    let again = tempfile::tempdir().expect("temp dir");
    release(again.path());
    let zip_again = std::fs::read(again.path().join("comwit").join(&zip_name)).expect("zip");
    assert!(zip_again == zip_bytes, "release zips are reproducible");

    // A real `terraform init` from the mirror, then the installed provider serves a plan.
    let emu = Emulator::start();
    let zip_in_mirror = mirror_zip(dist.path(), "comwit");
    let mirror = dist.path().join("mirror");
    let tf = workspace(&emu, &mirror, "~> 0.1");
    let init = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(init.success(), "{init}\n{text}");
    assert!(
        init.combined()
            .contains(&format!("Installed comwit/comwit v{v}")),
        "{init}"
    );
    assert!(!init.combined().contains("development overrides"), "{init}");
    let lock = std::fs::read_to_string(tf.dir().join(".terraform.lock.hcl")).expect("lock file");
    assert!(lock.contains(&format!("version     = \"{v}\"")), "{lock}");
    assert!(lock.contains("\"h1:"), "{lock}");
    tf.apply();
    let out = tf.run_ok(&["output", "-raw", "project"]);
    assert_eq!(out.stdout.trim(), "local");

    // A constraint no release meets fails init, naming it.
    let too_new = workspace(&emu, &mirror, ">= 99.0");
    let refused = too_new.run(&["init", "-no-color", "-input=false"]);
    assert!(!refused.success(), "{refused}");
    assert!(refused.combined().contains(">= 99.0"), "{refused}");

    // A changed binary in the zip: init against the committed lock file fails.
    let mut tampered = built.clone();
    tampered.extend_from_slice(b"tampered");
    write_zip(&zip_in_mirror, &inner, &tampered);
    std::fs::remove_dir_all(tf.dir().join(".terraform")).expect("remove .terraform");
    let init = tf.run(&["init", "-no-color", "-input=false"]);
    assert!(!init.success(), "a tampered zip must fail init:\n{init}");
    assert!(
        init.combined().contains("checksum") || init.combined().contains("doesn't match"),
        "{init}"
    );
}

/// (name, unix mode, content) of every entry, read with Python's zipfile (no zip crate).
fn zip_entries(bytes: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).expect("write zip");
    let script = "import sys, zipfile, base64, json\n\
z = zipfile.ZipFile(sys.argv[1])\n\
print(json.dumps([[i.filename, i.external_attr >> 16, base64.b64encode(z.read(i)).decode()] for i in z.infolist()]))\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<(String, u32, String)> =
        serde_json::from_slice(&out.stdout).expect("zip listing");
    use base64::Engine;
    entries
        .into_iter()
        .map(|(n, m, c)| {
            let content = base64::engine::general_purpose::STANDARD
                .decode(c)
                .expect("base64");
            (n, m, content)
        })
        .collect()
}

fn write_zip(path: &Path, inner: &str, content: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("bin");
    std::fs::File::create(&src)
        .and_then(|mut f| f.write_all(content))
        .expect("write binary");
    let script = r#"import sys, zipfile
info = zipfile.ZipInfo(sys.argv[3], date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.create_system = 3
with zipfile.ZipFile(sys.argv[2], "w") as z:
    z.writestr(info, open(sys.argv[1], "rb").read())
"#;
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&src)
        .arg(path)
        .arg(inner)
        .status()
        .expect("python3");
    assert!(status.success());
    let mut check = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut check))
        .expect("read zip");
    assert!(!check.is_empty());
}

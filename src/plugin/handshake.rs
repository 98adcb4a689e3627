//! go-plugin's handshake: the magic cookie, protocol version negotiation, and the line the
//! plugin prints on stdout to tell the host where to connect.

use base64::Engine;

/// Environment variable Terraform sets to prove it is the one starting the plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value (a fixed, public constant of the Terraform plugin protocol).
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// Terraform plugin protocol major versions this server speaks.
pub const SUPPORTED_PROTOCOLS: &[u32] = &[6];

/// What a user sees when they run the binary by hand.
pub fn not_started_by_terraform(binary: &str) -> String {
    format!(
        "{binary} is a Terraform provider plugin: Terraform (or OpenTofu) starts it, so running \
         it by hand does nothing.\n\
         To use it, declare it in a configuration's required_providers block and run \
         `terraform plan`.\n\
         To debug it, run `{binary} --debug`: it prints a TF_REATTACH_PROVIDERS value to hand \
         to Terraform."
    )
}

/// Check the magic cookie in the process environment.
pub fn cookie_ok() -> bool {
    std::env::var(MAGIC_COOKIE_KEY).is_ok_and(|v| v == MAGIC_COOKIE_VALUE)
}

/// Pick the protocol version from `PLUGIN_PROTOCOL_VERSIONS` (the host's list): the
/// highest version both sides speak. A host that sends no list gets our highest.
pub fn negotiate(host_versions: Option<&str>) -> Result<u32, String> {
    let ours = SUPPORTED_PROTOCOLS.iter().copied().max().unwrap_or(6);
    let Some(list) = host_versions.filter(|s| !s.trim().is_empty()) else {
        return Ok(ours);
    };
    let theirs: Vec<u32> = list
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    theirs
        .iter()
        .copied()
        .filter(|v| SUPPORTED_PROTOCOLS.contains(v))
        .max()
        .ok_or_else(|| {
            format!(
                "Terraform offered plugin protocol versions [{list}], but this provider speaks \
                 only version 6 (Terraform 1.0 and later, OpenTofu). Upgrade Terraform."
            )
        })
}

/// The handshake line: `CORE|APP|NETWORK|ADDRESS|grpc|CERT`, where CERT is the server
/// certificate's DER in unpadded standard base64 (empty without TLS).
pub fn line(app_version: u32, network: &str, address: &str, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{app_version}|{network}|{address}|grpc|{cert}")
}

/// The `TF_REATTACH_PROVIDERS` value for debug mode.
pub fn reattach_json(provider_address: &str, network: &str, address: &str) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": SUPPORTED_PROTOCOLS.iter().copied().max().unwrap_or(6),
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": network, "String": address},
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_the_common_version() {
        assert_eq!(negotiate(Some("5,6")), Ok(6));
        assert_eq!(negotiate(Some("6")), Ok(6));
        assert_eq!(negotiate(None), Ok(6));
        let err = negotiate(Some("4,5")).unwrap_err();
        assert!(err.contains("[4,5]") && err.contains("version 6"), "{err}");
    }

    #[test]
    fn line_has_six_fields_and_unpadded_cert() {
        let l = line(6, "unix", "/tmp/plugin1", Some(&[1, 2, 3, 4]));
        assert_eq!(l, "1|6|unix|/tmp/plugin1|grpc|AQIDBA");
        assert_eq!(
            line(6, "tcp", "127.0.0.1:1", None),
            "1|6|tcp|127.0.0.1:1|grpc|"
        );
    }

    #[test]
    fn reattach_names_the_provider_and_socket() {
        let v: serde_json::Value =
            serde_json::from_str(&reattach_json("comwit/comwit", "unix", "/s")).expect("json");
        let p = &v["comwit/comwit"];
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Addr"]["String"], "/s");
        assert_eq!(p["Test"], true);
    }
}

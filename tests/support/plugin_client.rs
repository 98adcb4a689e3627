//! A plugin client that starts a provider binary and talks to it the way Terraform does:
//! magic cookie, `PLUGIN_PROTOCOL_VERSIONS`, AutoMTLS with a P-521 client certificate (what
//! go-plugin generates), the handshake line, then gRPC over the announced socket.
//!
//! Values are msgpack, built with `rmpv` so tests can send unknown values (cty's msgpack
//! extension 0) exactly as Terraform does.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use platforms::proto::plugin::grpc_controller_client::GrpcControllerClient;
use platforms::proto::tfplugin6 as pb;
use platforms::proto::tfplugin6::provider_client::ProviderClient;
use rmpv::Value as Mp;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint, Uri};

/// go-plugin's magic cookie (variable, value), as Terraform sets it for a plugin: the
/// library's own constants, so tests and server can never disagree.
pub const COOKIE: (&str, &str) = (
    platforms::plugin::handshake::MAGIC_COOKIE_KEY,
    platforms::plugin::handshake::MAGIC_COOKIE_VALUE,
);

/// Path of the test-only provider binary.
pub fn testing_provider() -> PathBuf {
    super::testing_provider_binary()
}

/// The parsed handshake line.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub core: String,
    pub app: String,
    pub network: String,
    pub address: String,
    pub protocol: String,
    pub cert_der: Vec<u8>,
    pub raw: String,
}

impl Handshake {
    pub fn parse(line: &str) -> Self {
        let parts: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(
            parts.len(),
            6,
            "handshake line must have 6 fields: {line:?}"
        );
        let cert_der = if parts[5].is_empty() {
            Vec::new()
        } else {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .expect("handshake certificate is unpadded base64")
        };
        Handshake {
            core: parts[0].into(),
            app: parts[1].into(),
            network: parts[2].into(),
            address: parts[3].into(),
            protocol: parts[4].into(),
            cert_der,
            raw: line.trim_end().into(),
        }
    }
}

/// A client certificate like go-plugin's (ECDSA P-521, self-signed, CA, `localhost`).
/// ring (the build's one TLS crypto crate) has no P-521, and so neither has rcgen on it:
/// the certificate is written here in DER and signed with the `p521` crate.
pub struct ClientCert {
    pub pem: String,
    pub der: Vec<u8>,
    pub key: Arc<p521::ecdsa::SigningKey>,
}

impl ClientCert {
    pub fn generate() -> Self {
        use p521::ecdsa::signature::Signer;
        use p521::elliptic_curve::Generate;
        // DER: a tag, the length of the content, the content.
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let len = content.len();
            if len < 0x80 {
                out.push(len as u8);
            } else {
                let bytes: Vec<u8> = len
                    .to_be_bytes()
                    .into_iter()
                    .skip_while(|b| *b == 0)
                    .collect();
                out.push(0x80 | bytes.len() as u8);
                out.extend(bytes);
            }
            out.extend_from_slice(content);
            out
        }
        let seq = |parts: &[Vec<u8>]| tlv(0x30, &parts.concat());
        let key = p521::ecdsa::SigningKey::generate_from_rng(&mut rand::rng());
        let point = key.verifying_key().to_sec1_point(false);
        // ecdsa-with-SHA512, id-ecPublicKey, secp521r1, commonName, basicConstraints.
        let ecdsa_sha512 = seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04])]);
        let ec_public_key = tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
        let secp521r1 = tlv(0x06, &[0x2b, 0x81, 0x04, 0x00, 0x23]);
        let name = seq(&[tlv(
            0x31,
            &seq(&[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, b"localhost")]),
        )]);
        let ca = seq(&[
            tlv(0x06, &[0x55, 0x1d, 0x13]),
            tlv(0x01, &[0xff]),
            tlv(0x04, &seq(&[tlv(0x01, &[0xff])])),
        ]);
        let tbs = seq(&[
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[0x01]),
            ecdsa_sha512.clone(),
            name.clone(),
            seq(&[tlv(0x17, b"250101000000Z"), tlv(0x18, b"20991231235959Z")]),
            name,
            seq(&[
                seq(&[ec_public_key, secp521r1]),
                tlv(0x03, &[&[0u8][..], point.as_bytes()].concat()),
            ]),
            tlv(0xa3, &seq(&[ca])),
        ]);
        let signature: p521::ecdsa::Signature = key.sign(&tbs);
        let signature = signature.to_der();
        let der = seq(&[
            tbs,
            ecdsa_sha512,
            tlv(0x03, &[&[0u8][..], signature.as_ref()].concat()),
        ]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        ClientCert {
            pem: format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            ),
            der,
            key: Arc::new(key),
        }
    }
}

/// Signs the client's side of the handshake with a [`ClientCert`]'s P-521 key.
#[derive(Debug)]
struct P521Key(Arc<p521::ecdsa::SigningKey>);

impl rustls::sign::SigningKey for P521Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| Box::new(P521Key(self.0.clone())) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::ECDSA
    }
}

impl rustls::sign::Signer for P521Key {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use p521::ecdsa::signature::Signer;
        let signature: p521::ecdsa::Signature = self.0.sign(message);
        Ok(signature.to_der().as_ref().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP521_SHA512
    }
}

/// Presents one certificate, whatever the server asks.
#[derive(Debug)]
struct Present(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for Present {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A running provider process with connected gRPC clients. Dropping it fails the test
/// when the provider panicked (see [`ProviderStderr`]).
pub struct Plugin {
    pub child: Child,
    pub handshake: Handshake,
    pub provider: ProviderClient<Channel>,
    pub controller: GrpcControllerClient<Channel>,
    pub stderr: ProviderStderr,
}

/// What a provider process writes on stderr, kept in a file (no pipe to drain, nothing
/// lost at the end). A provider that panicked wrote `panicked at` there: when this is
/// dropped, that fails the test with the lines around it, unless the test said it expects
/// the panic ([`ProviderStderr::allow_panic`]). A panic in a provider is a defect even
/// when the test's own assertions pass (Terraform only shows "Request cancelled").
pub struct ProviderStderr {
    file: tempfile::NamedTempFile,
    allow_panic: bool,
}

/// The text a Rust panic writes on stderr (`thread '...' panicked at src/...`).
pub const PANIC_MARK: &str = "panicked at";

impl ProviderStderr {
    /// An empty one (what [`spawn`] gives a provider to write to).
    pub fn new() -> ProviderStderr {
        ProviderStderr {
            file: tempfile::NamedTempFile::new().expect("create the provider's stderr file"),
            allow_panic: false,
        }
    }

    /// The file the provider writes to.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Everything the provider wrote on stderr so far.
    pub fn text(&self) -> String {
        std::fs::read_to_string(self.file.path()).unwrap_or_default()
    }

    /// The test expects this provider to panic: dropping does not fail it.
    pub fn allow_panic(&mut self) {
        self.allow_panic = true;
    }

    /// The panic the provider reported (a few lines around `panicked at`), if any.
    pub fn panic_report(&self) -> Option<String> {
        panic_excerpt(&self.text())
    }
}

impl Default for ProviderStderr {
    fn default() -> ProviderStderr {
        ProviderStderr::new()
    }
}

impl Drop for ProviderStderr {
    fn drop(&mut self) {
        if self.allow_panic || std::thread::panicking() {
            return;
        }
        if let Some(excerpt) = self.panic_report() {
            panic!("the provider panicked (a provider must never panic):\n{excerpt}");
        }
    }
}

/// The lines around the first `panicked at` in `text`, if any.
pub fn panic_excerpt(text: &str) -> Option<String> {
    let at = text.find(PANIC_MARK)?;
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let lines: Vec<&str> = text[start..].lines().take(12).collect();
    Some(lines.join("\n"))
}

/// Start options.
#[derive(Default)]
pub struct Start<'a> {
    pub env: Vec<(&'a str, String)>,
    pub args: Vec<&'a str>,
    /// Connect with this certificate instead of the announced one (to test refusal).
    pub present_other_cert: bool,
}

/// Spawn the binary with the environment Terraform would give it (none of the caller's
/// [`super::ISOLATED_ENV_PREFIXES`] variables, then `env`); return the child, the first
/// stdout line and its stderr (which fails the test on drop if the provider panicked).
pub async fn spawn(
    bin: &Path,
    env: &[(&str, String)],
    args: &[&str],
) -> (Child, String, ProviderStderr) {
    let stderr = ProviderStderr::new();
    let stderr_file = stderr
        .file
        .reopen()
        .expect("open the provider's stderr file");
    let mut cmd = Command::new(bin);
    for key in super::isolated_env_vars() {
        cmd.env_remove(key);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr_file))
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("provider printed its handshake line in time")
        .expect("read stdout")
        .unwrap_or_default();
    // Keep draining stdout so the child never blocks on it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, line, stderr)
}

impl Plugin {
    /// Start `bin` like Terraform does and connect over mTLS.
    pub async fn start(bin: &Path, opts: Start<'_>) -> Plugin {
        let cert = ClientCert::generate();
        let mut env = vec![
            (COOKIE.0, COOKIE.1.to_string()),
            ("PLUGIN_PROTOCOL_VERSIONS", "6".to_string()),
            ("PLUGIN_CLIENT_CERT", cert.pem.clone()),
        ];
        env.extend(opts.env.iter().cloned());
        let (child, line, stderr) = spawn(bin, &env, &opts.args).await;
        let handshake = Handshake::parse(&line);
        let presented = if opts.present_other_cert {
            ClientCert::generate()
        } else {
            cert
        };
        let channel = connect(&handshake, Some(&presented))
            .await
            .expect("connect to the provider");
        Plugin {
            child,
            handshake,
            provider: ProviderClient::new(channel.clone()),
            controller: GrpcControllerClient::new(channel),
            stderr,
        }
    }
}

/// Connect to the address in a handshake, over TLS when it carries a certificate.
pub async fn connect(
    handshake: &Handshake,
    client: Option<&ClientCert>,
) -> Result<Channel, tonic::transport::Error> {
    let tls = if handshake.cert_der.is_empty() {
        None
    } else {
        let client = client.expect("client certificate for TLS");
        let provider = platforms::plugin::tls::crypto_provider();
        let verifier = Arc::new(PinnedServer {
            der: handshake.cert_der.clone(),
            algs: provider.signature_verification_algorithms,
        });
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(Arc::new(Present(Arc::new(
                rustls::sign::CertifiedKey::new(
                    vec![CertificateDer::from(client.der.clone())],
                    Arc::new(P521Key(client.key.clone())),
                ),
            ))));
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        Some(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
    };
    let network = handshake.network.clone();
    let address = handshake.address.clone();
    Endpoint::try_from("http://localhost")
        .expect("endpoint")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (network, address, tls) = (network.clone(), address.clone(), tls.clone());
            async move {
                let io: Box<dyn Io> = if network == "unix" {
                    let s = tokio::net::UnixStream::connect(&address).await?;
                    match tls {
                        Some(t) => Box::new(t.connect(server_name(), s).await?),
                        None => Box::new(s),
                    }
                } else {
                    let s = tokio::net::TcpStream::connect(&address).await?;
                    s.set_nodelay(true)?;
                    match tls {
                        Some(t) => Box::new(t.connect(server_name(), s).await?),
                        None => Box::new(s),
                    }
                };
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

fn server_name() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("server name")
}

#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate differs from the handshake".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

// ---- msgpack values -------------------------------------------------------------------

/// cty's encoding of an unknown value.
pub fn unknown() -> Mp {
    Mp::Ext(0, vec![0])
}

pub fn is_unknown(v: &Mp) -> bool {
    matches!(v, Mp::Ext(0, _))
}

/// Build a msgpack object from (name, value) pairs.
pub fn obj(fields: &[(&str, Mp)]) -> Mp {
    Mp::Map(
        fields
            .iter()
            .map(|(k, v)| (Mp::from(*k), v.clone()))
            .collect(),
    )
}

pub fn s(v: &str) -> Mp {
    Mp::from(v)
}

pub fn dv(v: &Mp) -> Option<pb::DynamicValue> {
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, v).expect("encode msgpack");
    Some(pb::DynamicValue {
        msgpack: buf,
        json: vec![],
    })
}

pub fn null() -> Option<pb::DynamicValue> {
    dv(&Mp::Nil)
}

pub fn decode(v: &Option<pb::DynamicValue>) -> Mp {
    let v = v.as_ref().expect("dynamic value present");
    rmpv::decode::read_value(&mut v.msgpack.as_slice()).expect("decode msgpack")
}

/// Field of a msgpack object.
pub fn get<'a>(v: &'a Mp, name: &str) -> &'a Mp {
    v.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(name)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {name} in {v}"))
}

/// Attribute path as dotted text, for assertions.
pub fn path_text(p: &Option<pb::AttributePath>) -> String {
    use pb::attribute_path::step::Selector;
    p.as_ref()
        .map(|p| {
            p.steps
                .iter()
                .map(|s| match &s.selector {
                    Some(Selector::AttributeName(n)) => n.clone(),
                    Some(Selector::ElementKeyString(k)) => format!("[{k:?}]"),
                    Some(Selector::ElementKeyInt(i)) => format!("[{i}]"),
                    None => "?".into(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

/// Error diagnostics as "summary: detail @path" lines.
pub fn errors(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {} @{}", d.summary, d.detail, path_text(&d.attribute)))
        .collect()
}

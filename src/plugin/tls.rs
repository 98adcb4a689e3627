//! go-plugin's AutoMTLS: the host (Terraform) puts its client certificate in
//! `PLUGIN_CLIENT_CERT`; the plugin makes a fresh self-signed server certificate, sends it
//! in the handshake line, and accepts only the host's certificate.
//!
//! The host's certificate is itself self-signed, carries `CA:TRUE` and uses ECDSA P-521,
//! so a WebPKI chain verifier refuses it (a CA used as an end entity). We pin it instead:
//! the presented leaf must be byte-for-byte the announced certificate, and the TLS
//! handshake signature is checked: ring (the one TLS crypto crate of the build) for
//! every scheme it has, the pure-Rust `p521` crate for ECDSA P-521, which ring lacks.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer,
    PrivatePkcs8KeyDer, SignatureVerificationAlgorithm, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// Our server certificate and the TLS configuration that pins the host's certificate.
pub struct PluginTls {
    /// DER of our server certificate (goes into the handshake line).
    pub server_cert_der: Vec<u8>,
    /// rustls configuration for accepted connections.
    pub config: Arc<ServerConfig>,
}

/// The crypto provider used everywhere in the plugin: ring, which tonic and reqwest use
/// too (P-521 signatures: [`P521_ALGORITHMS`]). rustls 0.23.48 deprecates it for having no
/// post-quantum key exchange; the handshake runs on a local socket to Terraform.
#[allow(deprecated)]
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ECDSA P-521 with SHA-512: what go-plugin's client certificate signs the handshake with,
/// and what ring cannot verify. Checked with the RustCrypto `p521` crate.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature =
            p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

const ECDSA_P521_SHA512: &dyn SignatureVerificationAlgorithm = &EcdsaP521Sha512;

/// The signature scheme ring lacks and the host's certificate needs: ECDSA P-521 SHA-512.
pub static P521_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[ECDSA_P521_SHA512],
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, &[ECDSA_P521_SHA512])],
};

/// Make a server certificate and a config accepting only `client_cert_pem`.
pub fn setup(client_cert_pem: &str, binary: &str) -> Result<PluginTls> {
    let client_der = rustls_pemfile::certs(&mut client_cert_pem.as_bytes())
        .next()
        .ok_or_else(|| anyhow!("PLUGIN_CLIENT_CERT holds no PEM certificate"))?
        .context("PLUGIN_CLIENT_CERT is not a valid PEM certificate")?;

    let (cert_der, key_der) = self_signed_localhost(binary)?;
    let provider = crypto_provider();
    let verifier = Arc::new(PinnedClientCert {
        pinned: client_der.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )
        .context("TLS server certificate")?;
    // gRPC runs over HTTP/2; Go's gRPC client insists on ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(PluginTls {
        server_cert_der: cert_der,
        config: Arc::new(config),
    })
}

/// A self-signed certificate for `localhost` (the name go-plugin verifies), valid for the
/// process lifetime with margin, its organization the provider binary's name. Returns
/// (certificate DER, PKCS#8 key DER).
pub fn self_signed_localhost(binary: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    let mut dn = Dn::new();
    dn.push(DnType::OrganizationName, binary);
    dn.push(DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = now + time::Duration::days(365);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

#[derive(Debug)]
struct PinnedClientCert {
    pinned: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// The algorithms that check a handshake signature of `scheme`.
    fn algorithms_for(&self, scheme: SignatureScheme) -> &WebPkiSupportedAlgorithms {
        if scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            &P521_ALGORITHMS
        } else {
            &self.algorithms
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "client certificate is not the one the plugin host announced".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms_for(dss.scheme))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms_for(dss.scheme))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self.algorithms.supported_schemes();
        schemes.extend(P521_ALGORITHMS.supported_schemes());
        schemes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p521::ecdsa::signature::Signer;
    use p521::elliptic_curve::Generate;

    fn key() -> p521::ecdsa::SigningKey {
        p521::ecdsa::SigningKey::generate_from_rng(&mut rand::rng())
    }

    #[test]
    fn p521_signatures_verify_and_forgeries_do_not() {
        let (signer, other) = (key(), key());
        let public = signer.verifying_key().to_sec1_point(false);
        let message = b"TLS 1.3, client CertificateVerify";
        let signature: p521::ecdsa::Signature = signer.sign(message);
        let der = signature.to_der();
        let verify = |public: &[u8], message: &[u8], signature: &[u8]| {
            EcdsaP521Sha512.verify_signature(public, message, signature)
        };
        assert!(verify(public.as_bytes(), message, der.as_ref()).is_ok());
        assert!(verify(public.as_bytes(), b"another message", der.as_ref()).is_err());
        let wrong = other.verifying_key().to_sec1_point(false);
        assert!(verify(wrong.as_bytes(), message, der.as_ref()).is_err());
        assert!(verify(public.as_bytes(), message, &der.as_ref()[1..]).is_err());
        assert!(verify(b"not a point", message, der.as_ref()).is_err());
    }

    #[test]
    fn the_pinned_verifier_offers_p521_beside_ring() {
        let verifier = PinnedClientCert {
            pinned: Vec::new(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        let schemes = verifier.supported_verify_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
    }
}

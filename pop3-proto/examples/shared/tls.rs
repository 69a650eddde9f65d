//! TLS set-up with rustls (ring provider): the server's certificate and key, the
//! client's trusted roots.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// A server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert: &Path, key: &Path) -> io::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(invalid)?
        .collect::<Result<_, _>>()
        .map_err(invalid)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(invalid)?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    Ok(Arc::new(config))
}

/// A SHA-256 certificate fingerprint, as `--fingerprint sha256:HEX` gives it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        use sha2::Digest;
        Fingerprint(sha2::Sha256::digest(der).into())
    }

    /// Reads `sha256:HEX`: 64 hexadecimal digits, in either case, with colons
    /// allowed between them (as `openssl x509 -fingerprint -sha256` prints them).
    pub fn parse(text: &str) -> Result<Fingerprint, String> {
        let hex = text
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("sha256:"))
            .and_then(|_| text.get(7..))
            .ok_or_else(|| format!("{text:?}: expected sha256:HEX"))?;
        let digits: Vec<u8> = hex.bytes().filter(|&b| b != b':').collect();
        if let Some(bad) = digits.iter().find(|b| !b.is_ascii_hexdigit()) {
            return Err(format!(
                "{text:?}: {:?} is not a hexadecimal digit",
                char::from(*bad)
            ));
        }
        if digits.len() != 64 {
            return Err(format!(
                "{text:?}: a SHA-256 fingerprint has 64 hexadecimal digits, this has {}",
                digits.len()
            ));
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| format!("{text:?}: not hex"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| format!("{text:?}: not hex"))?;
        }
        Ok(Fingerprint(out))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sha256:")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Why a certificate was refused by the checks webpki does not make.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

fn refused(why: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
        Arc::new(Refused(why)),
    )))
}

/// The client's server-certificate check.
///
/// - With a pin (`--fingerprint`), the server's certificate must have exactly
///   that SHA-256 (of its DER), as mpop's `tls_fingerprint` and fetchmail's
///   `sslfingerprint` do; nothing else about it is asked.
/// - Otherwise the normal webpki verification with the trusted roots (chain,
///   name, dates); when it fails, a certificate that is byte for byte one of the
///   `--ca` certificates is accepted anyway. That is how a self-signed test
///   certificate made with `openssl req -x509` works: it is marked `CA:TRUE`,
///   and webpki refuses a CA as an end entity (`CaUsedAsEndEntity`) even when it
///   is the trusted certificate itself.
///
/// Either way the handshake signatures are verified with the provider's
/// algorithms, so a server must hold the certificate's key. A refusal fails the
/// handshake, before any POP3 credential is sent.
#[derive(Debug)]
struct ServerVerifier {
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    webpki_error: Option<String>,
    exact: Vec<CertificateDer<'static>>,
    pin: Option<Fingerprint>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Some(pin) = self.pin {
            let got = Fingerprint::of(end_entity.as_ref());
            return if got == pin {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            } else {
                Err(refused(format!(
                    "the server's certificate is {got}, not the pinned {pin}"
                )))
            };
        }
        let result = match &self.webpki {
            Some(webpki) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            None => Err(refused(format!(
                "no usable trust anchor: {}",
                self.webpki_error.as_deref().unwrap_or("none given")
            ))),
        };
        match result {
            Ok(verified) => Ok(verified),
            Err(_) if self.exact.iter().any(|c| c.as_ref() == end_entity.as_ref()) => {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client configuration trusting the certificates of `ca` (PEM: CAs, or the
/// server's own certificate, self-signed or not), or the Mozilla roots when
/// none is given; with `pin`, trusting only the certificate of that SHA-256.
/// The server name is checked by the webpki path (R2595-9).
pub fn client_config_pinned(
    ca: Option<&Path>,
    pin: Option<Fingerprint>,
) -> io::Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let mut roots = rustls::RootCertStore::empty();
    let mut exact = Vec::new();
    match ca {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path).map_err(invalid)? {
                exact.push(cert.map_err(invalid)?);
            }
            if exact.is_empty() && pin.is_none() {
                return Err(invalid(format!(
                    "{}: no PEM certificate in the file",
                    path.display()
                )));
            }
            // A certificate webpki cannot take as a trust anchor is still
            // accepted byte for byte.
            roots.add_parsable_certificates(exact.iter().cloned());
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let (webpki, webpki_error) = if roots.is_empty() {
        (
            None,
            Some("no --ca certificate is a usable trust anchor".into()),
        )
    } else {
        match rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let verifier = ServerVerifier {
        webpki,
        webpki_error,
        exact,
        pin,
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client configuration trusting the certificates of `ca` (PEM), or the
/// Mozilla roots when none is given (see [`client_config_pinned`]).
pub fn client_config(ca: Option<&Path>) -> io::Result<Arc<rustls::ClientConfig>> {
    client_config_pinned(ca, None)
}

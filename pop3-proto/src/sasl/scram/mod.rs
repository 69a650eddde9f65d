//! `SCRAM-SHA-1` (RFC 5802) and `SCRAM-SHA-256` (RFC 7677), without channel binding
//! (GS2 header `n,,` or `n,a=authzid,`).
//!
//! Over POP3 the server's final message travels as a last challenge which the client
//! answers with an empty line before the server's `+OK` (R5034-12).

mod client;
mod server;

pub use client::ScramClient;
pub use server::ScramServer;

use super::gs2::{escape_saslname, split_gs2_header, unescape_saslname};
use super::{
    authorize, decode_base64, encode_base64, parse_name, valid_name, AuthFailure, ClientMechanism,
    CredentialStore, Identity, SaslError, ServerMechanism, ServerStep, SPENT,
};
use crate::secret::Secret;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SHA-1: `SCRAM-SHA-1` (RFC 5802).
    Sha1,
    /// SHA-256: `SCRAM-SHA-256` (RFC 7677).
    Sha256,
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length: the error branch cannot happen, and an empty result
    // would fail every comparison rather than pass one.
    match <M as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

impl ScramHash {
    /// The SASL mechanism name.
    pub const fn mechanism_name(self) -> &'static str {
        match self {
            ScramHash::Sha1 => "SCRAM-SHA-1",
            ScramHash::Sha256 => "SCRAM-SHA-256",
        }
    }

    /// The output length of the hash in octets (20 or 32), which is also the length of the
    /// stored key, server key, proof and signature.
    pub const fn output_len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => mac::<Hmac<Sha1>>(key, parts),
            ScramHash::Sha256 => mac::<Hmac<Sha256>>(key, parts),
        }
    }

    fn h(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// `Hi()` of RFC 5802 §2.2, which is PBKDF2 with HMAC and one output block.
    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Secret<Vec<u8>> {
        let mut out = alloc::vec![0u8; self.output_len()];
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
            }
        }
        Secret::new(out)
    }
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Printable ASCII except `,` (RFC 5802 `printable`), the alphabet of nonces.
fn valid_nonce(nonce: &[u8]) -> bool {
    !nonce.is_empty()
        && nonce
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// A user's SCRAM verifier, what a server keeps instead of the password (RFC 5802 §3):
/// the salt, the iteration count, `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` and
/// `ServerKey = HMAC(SaltedPassword, "Server Key")`.
///
/// The keys are secrets (with them a server can be impersonated and the password attacked
/// offline) and are redacted in `Debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// The user's salt (random, at least 16 octets recommended).
    pub salt: Vec<u8>,
    /// The iteration count (RFC 7677: at least 4096).
    pub iterations: u32,
    /// `StoredKey`.
    pub stored_key: Secret<Vec<u8>>,
    /// `ServerKey`.
    pub server_key: Secret<Vec<u8>>,
}

impl ScramCredentials {
    /// Computes the verifier of `password` (the octets the client will use: UTF-8, and for
    /// non-ASCII passwords see the SASLprep note on [`ScramClient`]). An iteration count of
    /// 0 behaves as 1; do not use it.
    ///
    /// ```
    /// use pop3_proto::sasl::{ScramCredentials, ScramHash};
    /// let c = ScramCredentials::derive(b"pencil", b"salt-of-16-bytes", 4096, ScramHash::Sha256);
    /// assert_eq!(c.stored_key.expose_secret().len(), 32);
    /// ```
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32, hash: ScramHash) -> Self {
        let salted = hash.hi(password, salt, iterations);
        let client_key = Secret::new(hash.hmac(salted.expose_secret(), &[b"Client Key"]));
        ScramCredentials {
            salt: salt.to_vec(),
            iterations,
            stored_key: Secret::new(hash.h(client_key.expose_secret())),
            server_key: Secret::new(hash.hmac(salted.expose_secret(), &[b"Server Key"])),
        }
    }
}

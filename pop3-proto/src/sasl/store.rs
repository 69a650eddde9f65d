//! The host's credentials as the server mechanisms need them, and a small in-memory
//! store for tests and examples.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthFailure, ScramCredentials, ScramHash};
use crate::secret::Secret;

/// A credential store's reason for not answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store does not provide this kind of credential (the default of every
    /// [`CredentialStore`] method).
    #[error("not supported by this credential store")]
    Unsupported,
    /// The store exists but cannot answer now (a database down...): `[SYS/TEMP]`.
    #[error("the credential store is temporarily unavailable")]
    Unavailable,
}

impl From<StoreError> for AuthFailure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unsupported => AuthFailure::Unsupported,
            StoreError::Unavailable => AuthFailure::Temporary,
        }
    }
}

/// The host's credentials, as the server mechanisms need them. No password storage lives
/// in this crate.
///
/// Every method has a default: [`StoreError::Unsupported`] for the lookups, so a host
/// implements only what it supports; [`check_password`](Self::check_password) falls back to
/// comparing with [`password`](Self::password) in constant time; and
/// [`authorize`](Self::authorize) allows acting only as oneself.
///
/// User names arrive as the client sent them, checked to be non-empty UTF-8 without
/// control characters; no SASLprep normalisation is applied (see [`ScramClient`](super::ScramClient)).
pub trait CredentialStore {
    /// Checks a user's password (PLAIN, LOGIN; also usable for USER/PASS).
    fn check_password(&self, authcid: &str, password: &[u8]) -> Result<bool, StoreError> {
        Ok(match self.password(authcid)? {
            Some(stored) => ct_eq_hashed(stored.expose_secret(), password),
            None => false,
        })
    }

    /// The shared secret of a user, for the mechanisms that need it in the clear on the
    /// server (CRAM-MD5, APOP). `Ok(None)`: no such user.
    fn password(&self, user: &str) -> Result<Option<Secret<Vec<u8>>>, StoreError> {
        let _ = user;
        Err(StoreError::Unsupported)
    }

    /// The SCRAM verifier of a user for one hash function (see
    /// [`ScramCredentials::derive`]). `Ok(None)`: no such user.
    fn scram_credentials(
        &self,
        user: &str,
        hash: ScramHash,
    ) -> Result<Option<ScramCredentials>, StoreError> {
        let _ = (user, hash);
        Err(StoreError::Unsupported)
    }

    /// Checks an OAuth 2.0 bearer token (OAUTHBEARER, XOAUTH2). `user` is the identity the
    /// client named (XOAUTH2 `user=`, OAUTHBEARER `a=`), if any. Returns the user the token
    /// authenticates (`Ok(None)`: the token is not valid). When that user differs from the
    /// named one, the named one is treated as an authorization identity and must pass
    /// [`authorize`](Self::authorize).
    fn check_bearer(&self, user: Option<&str>, token: &[u8]) -> Result<Option<String>, StoreError> {
        let _ = (user, token);
        Err(StoreError::Unsupported)
    }

    /// The identity the external layer (normally the TLS client certificate) established
    /// for this connection, for EXTERNAL. `authzid` is what the client asked to act as.
    /// `Ok(None)`: no external identity.
    fn external(&self, authzid: Option<&str>) -> Result<Option<String>, StoreError> {
        let _ = authzid;
        Err(StoreError::Unsupported)
    }

    /// Whether `authcid`, once authenticated, may act as `authzid`. The default allows only
    /// acting as oneself (no `authzid`, or the same name).
    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> Result<bool, StoreError> {
        Ok(authzid.map_or(true, |z| z == authcid))
    }
}

/// A small in-memory [`CredentialStore`] for tests and examples: user → password, user →
/// bearer token, and an optional external (TLS) identity.
///
/// SCRAM credentials are derived from the password on every lookup, with a salt derived
/// from the user name and 4096 iterations: fine for tests, not for production (a real store
/// keeps only [`ScramCredentials`], with random salts).
///
/// ```
/// use pop3_proto::sasl::{CredentialStore, MemoryStore};
/// let store = MemoryStore::new().with_user("alice", b"wonderland".to_vec());
/// assert_eq!(store.check_password("alice", b"wonderland"), Ok(true));
/// assert_eq!(store.check_password("alice", b"looking-glass"), Ok(false));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    passwords: BTreeMap<String, Secret<Vec<u8>>>,
    tokens: BTreeMap<String, Secret<Vec<u8>>>,
    external: Option<String>,
}

impl MemoryStore {
    /// Iterations used for the derived SCRAM credentials.
    pub const SCRAM_ITERATIONS: u32 = 4096;

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a user with a password.
    pub fn with_user(mut self, user: &str, password: impl Into<Secret<Vec<u8>>>) -> Self {
        self.insert_user(user, password);
        self
    }

    /// Adds (or replaces) a user with a password, in place.
    pub fn insert_user(&mut self, user: &str, password: impl Into<Secret<Vec<u8>>>) {
        self.passwords.insert(String::from(user), password.into());
    }

    /// Adds (or replaces) a valid bearer token for a user.
    pub fn with_token(mut self, user: &str, token: impl Into<Secret<Vec<u8>>>) -> Self {
        self.tokens.insert(String::from(user), token.into());
        self
    }

    /// Sets the identity the external layer (a TLS client certificate) established.
    pub fn with_external_identity(mut self, identity: &str) -> Self {
        self.external = Some(String::from(identity));
        self
    }

    fn scram_salt(user: &str) -> Vec<u8> {
        let mut h = Sha256::new();
        h.update(b"pop3-proto MemoryStore SCRAM salt\0");
        h.update(user.as_bytes());
        h.finalize().iter().take(16).copied().collect()
    }
}

impl CredentialStore for MemoryStore {
    fn password(&self, user: &str) -> Result<Option<Secret<Vec<u8>>>, StoreError> {
        Ok(self.passwords.get(user).cloned())
    }

    fn scram_credentials(
        &self,
        user: &str,
        hash: ScramHash,
    ) -> Result<Option<ScramCredentials>, StoreError> {
        Ok(self.passwords.get(user).map(|pw| {
            ScramCredentials::derive(
                pw.expose_secret(),
                &Self::scram_salt(user),
                Self::SCRAM_ITERATIONS,
                hash,
            )
        }))
    }

    fn check_bearer(&self, user: Option<&str>, token: &[u8]) -> Result<Option<String>, StoreError> {
        let mut found = None;
        for (name, t) in &self.tokens {
            let name_ok = user.map_or(true, |u| u == name);
            if name_ok && ct_eq_hashed(t.expose_secret(), token) && found.is_none() {
                found = Some(name.clone());
            }
        }
        Ok(found)
    }

    fn external(&self, _authzid: Option<&str>) -> Result<Option<String>, StoreError> {
        Ok(self.external.clone())
    }
}

/// Compares two secrets of possibly different lengths in constant time, by hashing both
/// first (so that not even the length leaks through timing).
fn ct_eq_hashed(a: &[u8], b: &[u8]) -> bool {
    let ha = Sha256::digest(a);
    let hb = Sha256::digest(b);
    bool::from(ha.as_slice().ct_eq(hb.as_slice()))
}

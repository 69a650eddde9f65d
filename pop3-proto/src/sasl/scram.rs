//! `SCRAM-SHA-1` (RFC 5802) and `SCRAM-SHA-256` (RFC 7677), without channel binding
//! (GS2 header `n,,` or `n,a=authzid,`).
//!
//! Over POP3 the server's final message travels as a last challenge which the client
//! answers with an empty line before the server's `+OK` (R5034-12).

use super::oauthbearer::{escape_saslname, unescape_saslname};
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

// ---------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum ClientState {
    Start,
    SentFirst,
    SentFinal { server_signature: Vec<u8> },
    Verified,
    Failed,
}

/// The client side of `SCRAM-SHA-1` / `SCRAM-SHA-256`: mutual authentication without
/// sending the password.
///
/// * The client nonce is supplied by the caller (printable ASCII without `,`; use at least
///   18 random octets' worth, e.g. 24 base64 characters from a CSPRNG).
/// * The server's iteration count must lie within the client's bounds (default 4096 ..=
///   1,000,000, see [`with_iteration_bounds`](Self::with_iteration_bounds)).
/// * The server signature is checked in constant time; a wrong one is an error, and
///   [`finish`](ClientMechanism::finish) fails unless it was verified.
/// * SASLprep: user names and passwords with ASCII control characters are refused (SASLprep
///   prohibits them); other characters are sent as their UTF-8 octets, unnormalised. That
///   is exact SASLprep for ASCII and for text already in NFKC without mapped characters;
///   other non-ASCII passwords may not match a server that normalises.
///   `=` and `,` in the user name are escaped as `=3D` and `=2C`.
///
/// ```
/// use pop3_proto::sasl::{ClientMechanism, ScramClient, ScramHash};
/// // RFC 7677 §3
/// let mut c = ScramClient::new(ScramHash::Sha256, "user", b"pencil".to_vec(), "rOprNGfwEbeRWgbNEkqO")?;
/// assert_eq!(c.initial_response()?.unwrap().expose_secret(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
/// let last = c.respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")?;
/// assert!(last.expose_secret().ends_with(b",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
/// assert!(c.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")?.expose_secret().is_empty());
/// c.finish()?;
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScramClient {
    hash: ScramHash,
    password: Secret<Vec<u8>>,
    client_nonce: String,
    gs2_header: String,
    client_first_bare: String,
    min_iterations: u32,
    max_iterations: u32,
    state: ClientState,
}

impl ScramClient {
    /// The default lowest iteration count accepted (RFC 5802, RFC 7677: servers SHOULD
    /// announce at least 4096).
    pub const DEFAULT_MIN_ITERATIONS: u32 = 4096;
    /// The default highest iteration count accepted (RFC 5802 §9: a hostile server can
    /// burn client CPU with a big count).
    pub const DEFAULT_MAX_ITERATIONS: u32 = 1_000_000;

    /// A client for `hash` authenticating as `user` with `password` and `client_nonce`.
    /// Fails on an empty user name, control characters in the user name or password, or a
    /// nonce outside printable ASCII / containing `,`.
    pub fn new(
        hash: ScramHash,
        user: &str,
        password: impl Into<Secret<Vec<u8>>>,
        client_nonce: &str,
    ) -> Result<Self, SaslError> {
        let password = password.into();
        if !valid_name(user) {
            return Err(SaslError::InvalidInput("SCRAM user name"));
        }
        if password
            .expose_secret()
            .iter()
            .any(|&b| b < 0x20 || b == 0x7f)
        {
            return Err(SaslError::InvalidInput(
                "SCRAM password (control character)",
            ));
        }
        if !valid_nonce(client_nonce.as_bytes()) {
            return Err(SaslError::InvalidInput("SCRAM client nonce"));
        }
        let mut bare = String::from("n=");
        bare.push_str(&escape_saslname(user));
        bare.push_str(",r=");
        bare.push_str(client_nonce);
        Ok(ScramClient {
            hash,
            password,
            client_nonce: String::from(client_nonce),
            gs2_header: String::from("n,,"),
            client_first_bare: bare,
            min_iterations: Self::DEFAULT_MIN_ITERATIONS,
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
            state: ClientState::Start,
        })
    }

    /// Asks to act as `authzid` (GS2 `a=`; an empty one is left out).
    pub fn with_authzid(mut self, authzid: &str) -> Result<Self, SaslError> {
        if authzid.is_empty() {
            self.gs2_header = String::from("n,,");
            return Ok(self);
        }
        if !valid_name(authzid) {
            return Err(SaslError::InvalidInput("SCRAM authorization identity"));
        }
        let mut h = String::from("n,a=");
        h.push_str(&escape_saslname(authzid));
        h.push(',');
        self.gs2_header = h;
        Ok(self)
    }

    /// Sets the range of server iteration counts the client accepts.
    pub fn with_iteration_bounds(mut self, min: u32, max: u32) -> Self {
        self.min_iterations = min.max(1);
        self.max_iterations = max;
        self
    }

    fn client_first(&mut self) -> Secret<Vec<u8>> {
        self.state = ClientState::SentFirst;
        let mut m = Vec::with_capacity(self.gs2_header.len() + self.client_first_bare.len());
        m.extend_from_slice(self.gs2_header.as_bytes());
        m.extend_from_slice(self.client_first_bare.as_bytes());
        Secret::new(m)
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let text = core::str::from_utf8(server_first)
            .map_err(|_| SaslError::MalformedChallenge("SCRAM server-first is not UTF-8"))?;
        let mut attrs = text.split(',');
        let nonce = match attrs.next() {
            Some(a) if a.starts_with("m=") => {
                return Err(SaslError::MalformedChallenge(
                    "SCRAM mandatory extension not supported",
                ))
            }
            Some(a) => a.strip_prefix("r="),
            None => None,
        }
        .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs r="))?;
        let salt = attrs
            .next()
            .and_then(|a| a.strip_prefix("s="))
            .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs s="))?;
        let iterations = attrs
            .next()
            .and_then(|a| a.strip_prefix("i="))
            .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs i="))?;

        if !(nonce.len() > self.client_nonce.len()
            && nonce.starts_with(self.client_nonce.as_str())
            && valid_nonce(nonce.as_bytes()))
        {
            return Err(SaslError::MalformedChallenge(
                "SCRAM server nonce does not extend the client nonce",
            ));
        }
        let salt = decode_base64(salt.as_bytes())?;
        if salt.is_empty() {
            return Err(SaslError::MalformedChallenge("SCRAM salt is empty"));
        }
        if !iterations.starts_with(|c: char| ('1'..='9').contains(&c))
            || !iterations.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SaslError::MalformedChallenge("SCRAM iteration count"));
        }
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| SaslError::IterationCount(u32::MAX))?;
        if iterations < self.min_iterations || iterations > self.max_iterations {
            return Err(SaslError::IterationCount(iterations));
        }

        let hash = self.hash;
        let salted = hash.hi(self.password.expose_secret(), &salt, iterations);
        let client_key = Secret::new(hash.hmac(salted.expose_secret(), &[b"Client Key"]));
        let stored_key = Secret::new(hash.h(client_key.expose_secret()));
        let server_key = Secret::new(hash.hmac(salted.expose_secret(), &[b"Server Key"]));

        let mut without_proof = String::from("c=");
        without_proof.push_str(&STANDARD.encode(self.gs2_header.as_bytes()));
        without_proof.push_str(",r=");
        without_proof.push_str(nonce);

        let auth_message: [&[u8]; 5] = [
            self.client_first_bare.as_bytes(),
            b",",
            server_first,
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = hash.hmac(stored_key.expose_secret(), &auth_message);
        let proof = Secret::new(xor(client_key.expose_secret(), &client_signature));
        let server_signature = hash.hmac(server_key.expose_secret(), &auth_message);

        let mut out = without_proof.into_bytes();
        out.extend_from_slice(b",p=");
        out.extend_from_slice(&encode_base64(proof.expose_secret()));
        self.state = ClientState::SentFinal { server_signature };
        Ok(Secret::new(out))
    }

    fn verify_server(&self, server_final: &[u8], expected: &[u8]) -> Result<(), SaslError> {
        let first = server_final
            .split(|&b| b == b',')
            .next()
            .unwrap_or_default();
        if let Some(reason) = first.strip_prefix(b"e=") {
            let reason: String = reason
                .iter()
                .take(64)
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        char::from(b)
                    } else {
                        '?'
                    }
                })
                .collect();
            return Err(SaslError::ServerError(reason));
        }
        let signature = first
            .strip_prefix(b"v=")
            .ok_or(SaslError::MalformedChallenge(
                "SCRAM server-final needs v= or e=",
            ))?;
        let signature = decode_base64(signature)?;
        if bool::from(signature.as_slice().ct_eq(expected)) {
            Ok(())
        } else {
            Err(SaslError::ServerSignatureMismatch)
        }
    }
}

impl ClientMechanism for ScramClient {
    fn name(&self) -> &str {
        self.hash.mechanism_name()
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        match self.state {
            ClientState::Start => Ok(Some(self.client_first())),
            _ => Err(SaslError::UnexpectedChallenge),
        }
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let state = core::mem::replace(&mut self.state, ClientState::Failed);
        match state {
            ClientState::Start if challenge.is_empty() => Ok(self.client_first()),
            ClientState::Start => Err(SaslError::MalformedChallenge(
                "SCRAM challenge before the client-first message",
            )),
            ClientState::SentFirst => self.client_final(challenge),
            ClientState::SentFinal { server_signature } => {
                self.verify_server(challenge, &server_signature)?;
                self.state = ClientState::Verified;
                Ok(Secret::new(Vec::new()))
            }
            ClientState::Verified | ClientState::Failed => Err(SaslError::UnexpectedChallenge),
        }
    }

    fn finish(&mut self) -> Result<(), SaslError> {
        match self.state {
            ClientState::Verified => Ok(()),
            _ => Err(SaslError::Incomplete),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Pending {
    gs2_header: Vec<u8>,
    authcid: String,
    authzid: Option<String>,
    client_first_bare: Vec<u8>,
    server_first: Vec<u8>,
    nonce: Vec<u8>,
    credentials: ScramCredentials,
    known_user: bool,
}

#[derive(Debug, Clone)]
enum ServerState {
    Start,
    Waiting,
    SentFirst(Box<Pending>),
    SentFinal(Identity),
    Done,
}

/// The server side of `SCRAM-SHA-1` / `SCRAM-SHA-256`, verifying through
/// [`CredentialStore::scram_credentials`].
///
/// * The server nonce part is supplied by the caller (printable ASCII without `,`; use at
///   least 18 random octets' worth from a CSPRNG).
/// * Channel binding is not supported: a `p=` GS2 flag fails, `y` and `n` are accepted.
///   A mandatory extension (`m=`) fails (RFC 5802 §5.1).
/// * The client proof is checked in constant time. For an unknown user the exchange goes
///   on with made-up credentials and fails at the proof, like a wrong password.
/// * After a valid proof the server signature goes out as a challenge (`v=...`); the
///   client's empty answer completes with [`ServerStep::Success`] (R5034-12).
#[derive(Debug, Clone)]
pub struct ScramServer {
    hash: ScramHash,
    server_nonce: String,
    state: ServerState,
}

impl ScramServer {
    /// An exchange for `hash` that appends `server_nonce` to the client's nonce. Fails when
    /// the nonce is empty or not printable ASCII without `,`.
    pub fn new(hash: ScramHash, server_nonce: &str) -> Result<Self, SaslError> {
        if !valid_nonce(server_nonce.as_bytes()) {
            return Err(SaslError::InvalidInput("SCRAM server nonce"));
        }
        Ok(ScramServer {
            hash,
            server_nonce: String::from(server_nonce),
            state: ServerState::Start,
        })
    }

    fn fake_credentials(&self, user: &str) -> ScramCredentials {
        let label = |what: &[u8]| {
            let mut h = Sha256::new();
            h.update(b"pop3-proto SCRAM unknown user\0");
            h.update(what);
            h.update(self.hash.mechanism_name().as_bytes());
            h.update(user.as_bytes());
            h.finalize()
        };
        let n = self.hash.output_len();
        ScramCredentials {
            salt: label(b"salt").iter().take(16).copied().collect(),
            iterations: 4096,
            stored_key: Secret::new(label(b"stored").iter().take(n).copied().collect()),
            server_key: Secret::new(label(b"server").iter().take(n).copied().collect()),
        }
    }

    fn client_first(
        &self,
        message: &[u8],
        store: &dyn CredentialStore,
    ) -> Result<Pending, AuthFailure> {
        let rest = match message.split_first() {
            Some((b'n' | b'y', rest)) => rest,
            Some((b'p', _)) => {
                return Err(AuthFailure::Malformed(
                    "SCRAM channel binding is not supported",
                ))
            }
            _ => return Err(AuthFailure::Malformed("SCRAM needs a GS2 header")),
        };
        let rest = rest
            .strip_prefix(b",")
            .ok_or(AuthFailure::Malformed("bad GS2 header"))?;
        let comma = rest
            .iter()
            .position(|&b| b == b',')
            .ok_or(AuthFailure::Malformed("bad GS2 header"))?;
        let (authzid, bare) = rest.split_at(comma);
        let bare = bare.get(1..).unwrap_or_default();
        let header_len = message.len() - bare.len();
        let gs2_header = message.get(..header_len).unwrap_or_default().to_vec();
        let authzid = if authzid.is_empty() {
            None
        } else {
            let raw = authzid
                .strip_prefix(b"a=")
                .ok_or(AuthFailure::Malformed("bad GS2 authzid"))?;
            let name =
                unescape_saslname(raw).ok_or(AuthFailure::Malformed("bad authzid escaping"))?;
            Some(String::from(
                parse_name(&name).ok_or(AuthFailure::Malformed("bad GS2 authzid"))?,
            ))
        };

        let mut attrs = bare.split(|&b| b == b',');
        let user = match attrs.next() {
            Some(a) if a.starts_with(b"m=") => {
                return Err(AuthFailure::Malformed(
                    "SCRAM mandatory extension not supported",
                ))
            }
            Some(a) => a.strip_prefix(b"n="),
            None => None,
        }
        .ok_or(AuthFailure::Malformed("SCRAM client-first needs n="))?;
        let user =
            unescape_saslname(user).ok_or(AuthFailure::Malformed("bad user name escaping"))?;
        let authcid =
            String::from(parse_name(&user).ok_or(AuthFailure::Malformed("bad user name"))?);
        let client_nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"r="))
            .filter(|n| valid_nonce(n))
            .ok_or(AuthFailure::Malformed("SCRAM client-first needs r="))?;

        let n = self.hash.output_len();
        let (credentials, known_user) = match store.scram_credentials(&authcid, self.hash)? {
            Some(c)
                if c.iterations >= 1
                    && c.stored_key.expose_secret().len() == n
                    && c.server_key.expose_secret().len() == n =>
            {
                (c, true)
            }
            Some(_) => return Err(AuthFailure::Unsupported),
            None => (self.fake_credentials(&authcid), false),
        };

        let mut nonce = client_nonce.to_vec();
        nonce.extend_from_slice(self.server_nonce.as_bytes());
        let mut server_first = b"r=".to_vec();
        server_first.extend_from_slice(&nonce);
        server_first.extend_from_slice(b",s=");
        server_first.extend_from_slice(&encode_base64(&credentials.salt));
        server_first.extend_from_slice(b",i=");
        server_first.extend_from_slice(alloc::format!("{}", credentials.iterations).as_bytes());

        Ok(Pending {
            gs2_header,
            authcid,
            authzid,
            client_first_bare: bare.to_vec(),
            server_first,
            nonce,
            credentials,
            known_user,
        })
    }

    fn client_final(
        &self,
        p: &Pending,
        message: &[u8],
        store: &dyn CredentialStore,
    ) -> Result<(Identity, Vec<u8>), AuthFailure> {
        let at = message
            .windows(3)
            .rposition(|w| w == b",p=")
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs p= last"))?;
        let (without_proof, proof) = message.split_at(at);
        let proof = proof.get(3..).unwrap_or_default();
        let mut attrs = without_proof.split(|&b| b == b',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"c="))
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs c="))?;
        if binding != encode_base64(&p.gs2_header).as_slice() {
            return Err(AuthFailure::Malformed(
                "SCRAM channel binding data does not match",
            ));
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"r="))
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs r="))?;
        if nonce != p.nonce.as_slice() {
            return Err(AuthFailure::Malformed("SCRAM nonce mismatch"));
        }
        let proof =
            decode_base64(proof).map_err(|_| AuthFailure::Malformed("SCRAM proof base64"))?;
        let hash = self.hash;
        if proof.len() != hash.output_len() {
            return Err(AuthFailure::Malformed("SCRAM proof length"));
        }
        let auth_message: [&[u8]; 5] = [
            &p.client_first_bare,
            b",",
            &p.server_first,
            b",",
            without_proof,
        ];
        let stored_key = p.credentials.stored_key.expose_secret();
        let client_signature = hash.hmac(stored_key, &auth_message);
        let client_key = Secret::new(xor(&proof, &client_signature));
        let computed = hash.h(client_key.expose_secret());
        let matches = computed.as_slice().ct_eq(stored_key.as_slice());
        if !(bool::from(matches) && p.known_user) {
            return Err(AuthFailure::BadCredentials);
        }
        let identity = match authorize(store, &p.authcid, p.authzid.as_deref()) {
            ServerStep::Success(identity) => identity,
            ServerStep::Failure(f) => return Err(f),
            ServerStep::Challenge(_) => return Err(AuthFailure::NotAuthorized),
        };
        let signature = hash.hmac(p.credentials.server_key.expose_secret(), &auth_message);
        let mut server_final = b"v=".to_vec();
        server_final.extend_from_slice(&encode_base64(&signature));
        Ok((identity, server_final))
    }
}

impl ServerMechanism for ScramServer {
    fn name(&self) -> &str {
        self.hash.mechanism_name()
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let state = core::mem::replace(&mut self.state, ServerState::Done);
        match (state, response) {
            (ServerState::Start, None) => {
                self.state = ServerState::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (ServerState::Start | ServerState::Waiting, Some(message)) => {
                match self.client_first(message, store) {
                    Ok(pending) => {
                        let challenge = pending.server_first.clone();
                        self.state = ServerState::SentFirst(Box::new(pending));
                        ServerStep::Challenge(challenge)
                    }
                    Err(f) => ServerStep::Failure(f),
                }
            }
            (ServerState::SentFirst(pending), Some(message)) => {
                match self.client_final(&pending, message, store) {
                    Ok((identity, server_final)) => {
                        self.state = ServerState::SentFinal(identity);
                        ServerStep::Challenge(server_final)
                    }
                    Err(f) => ServerStep::Failure(f),
                }
            }
            (ServerState::SentFinal(identity), None) => ServerStep::Success(identity),
            (ServerState::SentFinal(identity), Some([])) => ServerStep::Success(identity),
            (ServerState::SentFinal(_), Some(_)) => ServerStep::Failure(AuthFailure::Malformed(
                "SCRAM expects an empty response after the server-final message",
            )),
            (ServerState::Waiting | ServerState::SentFirst(_), None) | (ServerState::Done, _) => {
                SPENT
            }
        }
    }
}

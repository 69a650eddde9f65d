//! SASL authentication for `AUTH` (RFC 5034 over RFC 4422): the mechanisms as small,
//! deterministic step machines that both roles use.
//!
//! The mechanisms work on **raw bytes**. The base64 framing of `AUTH` lines belongs to the
//! client and server state machines, which use the strict [`decode_base64`] /
//! [`encode_base64`] pair from this module (R5034-10).
//!
//! | mechanism | client | server | cleartext | spec |
//! |---|---|---|---|---|
//! | `SCRAM-SHA-256` | [`ScramClient`] | [`ScramServer`] | no | RFC 5802, RFC 7677 |
//! | `SCRAM-SHA-1` | [`ScramClient`] | [`ScramServer`] | no | RFC 5802 |
//! | `CRAM-MD5` | [`CramMd5Client`] | [`CramMd5Server`] | no | RFC 2195 |
//! | `PLAIN` | [`PlainClient`] | [`PlainServer`] | yes | RFC 4616 |
//! | `LOGIN` | [`LoginClient`] | [`LoginServer`] | yes | de facto |
//! | `OAUTHBEARER` | [`OAuthBearerClient`] | [`OAuthBearerServer`] | yes (bearer token) | RFC 7628 |
//! | `XOAUTH2` | [`XOAuth2Client`] | [`XOAuth2Server`] | yes (bearer token) | vendor |
//! | `EXTERNAL` | [`ExternalClient`] | [`ExternalServer`] | no | RFC 4422 App. A |
//!
//! Nothing here has a clock or a random number generator: SCRAM nonces and the CRAM-MD5
//! challenge are supplied by the caller. Servers verify through a host-supplied
//! [`CredentialStore`]; [`MemoryStore`] is a small one for tests and examples.
//!
//! # Driving a client mechanism
//!
//! ```
//! use pop3_proto::sasl::{ClientMechanism, PlainClient, encode_base64};
//!
//! let mut mech = PlainClient::new("test", b"test".to_vec())?.with_authzid("test")?;
//! let ir = mech.initial_response()?.expect("PLAIN has an initial response");
//! let line = encode_base64(ir.expose_secret());
//! assert_eq!(line, b"dGVzdAB0ZXN0AHRlc3Q="); // RFC 5034 §6, TV-6
//! # Ok::<(), pop3_proto::sasl::SaslError>(())
//! ```
//!
//! # Driving a server mechanism
//!
//! ```
//! use pop3_proto::sasl::{MemoryStore, PlainServer, ServerMechanism, ServerStep, decode_base64};
//!
//! let store = MemoryStore::new().with_user("test", b"test".to_vec());
//! let mut mech = PlainServer::new();
//! let ir = decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=")?;
//! match mech.step(Some(&ir), &store) {
//!     ServerStep::Success(id) => assert_eq!(id.user(), "test"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), pop3_proto::sasl::SaslError>(())
//! ```

mod bearer;
mod cram_md5;
mod external;
mod login;
mod oauthbearer;
mod plain;
mod scram;
mod xoauth2;

pub use cram_md5::{CramMd5Client, CramMd5Server};
pub use external::{ExternalClient, ExternalServer};
pub use login::{LoginClient, LoginServer};
pub use oauthbearer::{OAuthBearerClient, OAuthBearerServer};
pub use plain::{PlainClient, PlainServer};
pub use scram::{ScramClient, ScramCredentials, ScramHash, ScramServer};
pub use xoauth2::{XOAuth2Client, XOAuth2Server};

use crate::secret::Secret;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use core::fmt;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// What can go wrong on the client side of an exchange, or in the base64 framing.
///
/// On any of these the client state machine cancels the exchange with `*` (R5034-6,
/// R5034-10). No variant ever carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// A line is not strict base64: a character outside the alphabet, `=` anywhere but at
    /// the end, missing padding or non-zero padding bits (R5034-10).
    #[error("invalid base64 (R5034-10)")]
    InvalidBase64,
    /// A value handed to a mechanism cannot be sent: a NUL inside a PLAIN field, a control
    /// character in a user name, a comma in a SCRAM nonce, an empty user name...
    #[error("invalid {0}")]
    InvalidInput(&'static str),
    /// The server's challenge is not what the mechanism expects at this point.
    #[error("malformed challenge: {0}")]
    MalformedChallenge(&'static str),
    /// A challenge arrived when the mechanism had nothing more to say.
    #[error("unexpected challenge: the exchange is already complete")]
    UnexpectedChallenge,
    /// SCRAM: the server's signature is wrong, so the server does not know the user's
    /// credentials (a fake server, or a man in the middle). The client MUST treat the
    /// exchange as failed (RFC 5802 §5).
    #[error("the server's SCRAM signature does not verify")]
    ServerSignatureMismatch,
    /// SCRAM: the server ended the exchange with `e=<reason>` (at most 64 characters of it,
    /// control characters replaced).
    #[error("the server reported an error: {0}")]
    ServerError(String),
    /// SCRAM: the server's iteration count is outside the client's accepted range (a hostile
    /// server can burn client CPU with a huge count, or weaken the exchange with a tiny one).
    #[error("SCRAM iteration count {0} is outside the accepted range")]
    IterationCount(u32),
    /// [`ClientMechanism::finish`] was called before the exchange completed: for SCRAM, the
    /// server said `+OK` without proving that it knows the credentials.
    #[error("the authentication exchange is incomplete: the server was not verified")]
    Incomplete,
}

// ---------------------------------------------------------------------------------------
// Base64 (R5034-10, R5034-17)
// ---------------------------------------------------------------------------------------

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Decodes one line of base64 (without its CRLF) as RFC 5034 requires both sides to.
///
/// Strict (R5034-10): any character outside `A-Z a-z 0-9 + /` is rejected, `=` may only
/// appear as one or two padding characters at the very end, padding is required (the length
/// is a multiple of 4), and the unused bits before the padding must be zero. An empty line is
/// valid and means empty data (R5034-17); the special initial response `=` and the cancel
/// line `*` are the state machines' business and are **rejected** here.
///
/// ```
/// use pop3_proto::sasl::decode_base64;
/// assert_eq!(decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=").unwrap(), b"test\0test\0test");
/// assert_eq!(decode_base64(b"").unwrap(), b"");
/// assert!(decode_base64(b"=AAA").is_err());
/// assert!(decode_base64(b"AAA=BBB").is_err());
/// assert!(decode_base64(b"AA").is_err());
/// assert!(decode_base64(b"*").is_err());
/// ```
pub fn decode_base64(line: &[u8]) -> Result<Vec<u8>, SaslError> {
    if line.len() % 4 != 0 {
        return Err(SaslError::InvalidBase64);
    }
    let padding = line.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return Err(SaslError::InvalidBase64);
    }
    let body = line
        .get(..line.len() - padding)
        .ok_or(SaslError::InvalidBase64)?;
    if !body.iter().all(|&b| is_base64_char(b)) {
        return Err(SaslError::InvalidBase64);
    }
    base64::engine::general_purpose::STANDARD
        .decode(line)
        .map_err(|_| SaslError::InvalidBase64)
}

/// Encodes data as one line of base64 for the wire (standard alphabet, with padding, no
/// line breaks, no CRLF). Empty data gives an empty line; the state machines send `=` for
/// an empty *initial* response themselves (R5034-7).
///
/// ```
/// use pop3_proto::sasl::encode_base64;
/// assert_eq!(encode_base64(b"\x01"), b"AQ==");
/// assert_eq!(encode_base64(b""), b"");
/// ```
pub fn encode_base64(data: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(data)
        .into_bytes()
}

// ---------------------------------------------------------------------------------------
// Traits
// ---------------------------------------------------------------------------------------

/// The client side of one mechanism exchange.
///
/// Object safe: the client state machine holds a `Box<dyn ClientMechanism>`. One value
/// serves exactly one exchange. The machine drives it like this:
///
/// 1. [`initial_response`](Self::initial_response) once, before anything is sent.
///    `Some(r)`: send `AUTH NAME <base64 r>` (`=` when `r` is empty, R5034-7), unless that
///    command would exceed 255 octets (R5034-8, E-15) or
///    [`separate_initial_response`](Self::separate_initial_response) is true; then send
///    `AUTH NAME` alone, wait for the empty challenge `+ `, and send `r` on its own line
///    (without calling [`respond`](Self::respond) for that empty challenge).
///    `None`: send `AUTH NAME`.
/// 2. Every further `+ ...` challenge: decode it with [`decode_base64`] and pass it to
///    [`respond`](Self::respond); send the base64 of the answer (an empty answer is an empty
///    line, E-16). On an error from either, cancel with `*` (R5034-10).
/// 3. `+OK`: call [`finish`](Self::finish); an error there means the server did not prove
///    itself (SCRAM) and the session must not be trusted. `-ERR`: the exchange failed;
///    [`server_error`](Self::server_error) may say why (OAuth).
///
/// As a convenience, a mechanism with an initial response that is asked to
/// [`respond`](Self::respond) to an empty challenge before its initial response was taken
/// answers with the initial response.
pub trait ClientMechanism {
    /// The mechanism name as sent in `AUTH`, upper case (e.g. `"SCRAM-SHA-256"`).
    fn name(&self) -> &str;

    /// Whether the mechanism sends a replayable credential in the clear (PLAIN, LOGIN, and
    /// the bearer-token mechanisms): such a mechanism is refused before TLS unless the user
    /// allowed it (R2595-8, R5034-16, R7628-3).
    fn is_cleartext(&self) -> bool;

    /// The initial response, if the mechanism has one (raw bytes, possibly empty). Called
    /// once, before the first challenge.
    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError>;

    /// Answers a server challenge (raw, already base64-decoded bytes) with a response (raw
    /// bytes; the machine encodes them).
    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError>;

    /// Called when the server accepted the exchange (`+OK`). Returns an error when the
    /// mechanism authenticates the server and that did not happen (SCRAM: no valid server
    /// signature was received). The default accepts.
    fn finish(&mut self) -> Result<(), SaslError> {
        Ok(())
    }

    /// Whether the initial response must go on its own line after an empty challenge even
    /// when it would fit in the `AUTH` command (XO-2: Microsoft requires this for XOAUTH2).
    /// The default is `false`.
    fn separate_initial_response(&self) -> bool {
        false
    }

    /// The error report the server sent as a challenge before failing (the OAuth JSON of
    /// R7628-2 / XO-3), if any.
    fn server_error(&self) -> Option<&[u8]> {
        None
    }
}

/// What a server mechanism wants done after a client response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// Send this challenge (raw bytes): `+ <base64>` (an empty challenge is `+ ` CRLF,
    /// R5034-5), then feed the client's next line to [`ServerMechanism::step`].
    Challenge(Vec<u8>),
    /// The client is authenticated (and authorized) as this identity: `+OK`.
    Success(Identity),
    /// The exchange failed: `-ERR`, with the response code that
    /// [`AuthFailure::response_code`] suggests.
    Failure(AuthFailure),
}

/// Who logged in: the authentication identity whose credentials were checked and, when
/// the client asked to act as someone else and the store allowed it, the authorization
/// identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The authentication identity (the user whose credentials were verified).
    pub authcid: String,
    /// The authorization identity, when the client asked for one that differs from
    /// `authcid` (already allowed by [`CredentialStore::authorize`]).
    pub authzid: Option<String>,
}

impl Identity {
    /// The identity the session acts as, whose maildrop is opened: the authorization
    /// identity if there is one, otherwise the authentication identity.
    pub fn user(&self) -> &str {
        self.authzid.as_deref().unwrap_or(&self.authcid)
    }
}

/// Why a server exchange failed, with enough detail for the server machine to pick a
/// response code (RFC 3206, E-19) without revealing which credential was wrong (R8314-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong credentials or unknown user (deliberately not distinguished).
    #[error("authentication failed")]
    BadCredentials,
    /// The credentials were right but the authentication identity may not act as the
    /// requested authorization identity.
    #[error("not authorized to act as the requested identity")]
    NotAuthorized,
    /// The client's response does not follow the mechanism's syntax, or came when none was
    /// allowed (e.g. an initial response to CRAM-MD5, R5034-9).
    #[error("malformed client response: {0}")]
    Malformed(&'static str),
    /// The credential store is temporarily unavailable ([`StoreError::Unavailable`]).
    #[error("the credential store is temporarily unavailable")]
    Temporary,
    /// The credential store cannot serve this mechanism ([`StoreError::Unsupported`]).
    #[error("the credential store does not support this mechanism")]
    Unsupported,
}

impl AuthFailure {
    /// The RFC 3206 response code the `-ERR` should carry: `AUTH` for credential problems,
    /// `SYS/TEMP` and `SYS/PERM` for store problems, none for a protocol error.
    pub fn response_code(&self) -> Option<&'static str> {
        match self {
            AuthFailure::BadCredentials | AuthFailure::NotAuthorized => Some("AUTH"),
            AuthFailure::Temporary => Some("SYS/TEMP"),
            AuthFailure::Unsupported => Some("SYS/PERM"),
            AuthFailure::Malformed(_) => None,
        }
    }
}

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
/// control characters; no SASLprep normalisation is applied (see [`ScramClient`]).
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

/// The server side of one mechanism exchange. Object safe: the server state machine holds a
/// `Box<dyn ServerMechanism>`. One value serves exactly one exchange.
///
/// The machine calls [`step`](Self::step) with `None` when `AUTH` came without an initial
/// response, with `Some(bytes)` for a (decoded) initial response (`=` is `Some(b"")`) and
/// for every later client line. A `*` line is a cancellation the machine answers itself
/// with `-ERR` (R5034-6); an undecodable line is `-ERR` too (R5034-10). After a
/// [`ServerStep::Success`] or [`ServerStep::Failure`] the mechanism is spent: further steps
/// fail.
pub trait ServerMechanism {
    /// The mechanism name, upper case.
    fn name(&self) -> &str;

    /// Whether the mechanism receives a replayable credential in the clear: a server
    /// should not offer or accept it before TLS (R5034-16, R2595-8).
    fn is_cleartext(&self) -> bool;

    /// Feeds the client's next response (`None`: `AUTH` had no initial response).
    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep;
}

// ---------------------------------------------------------------------------------------
// Choosing a mechanism
// ---------------------------------------------------------------------------------------

/// The mechanisms this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MechanismName {
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `CRAM-MD5` (RFC 2195).
    CramMd5,
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (de facto).
    Login,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// `XOAUTH2` (vendor).
    XOAuth2,
    /// `EXTERNAL` (RFC 4422 Appendix A).
    External,
}

impl MechanismName {
    /// Every mechanism, in the order [`choose_mechanism`] prefers them within a kind of
    /// credential.
    pub const ALL: [MechanismName; 8] = [
        MechanismName::ScramSha256,
        MechanismName::ScramSha1,
        MechanismName::CramMd5,
        MechanismName::Plain,
        MechanismName::Login,
        MechanismName::OAuthBearer,
        MechanismName::XOAuth2,
        MechanismName::External,
    ];

    /// The name as sent in `AUTH` and listed in `CAPA` `SASL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MechanismName::ScramSha256 => "SCRAM-SHA-256",
            MechanismName::ScramSha1 => "SCRAM-SHA-1",
            MechanismName::CramMd5 => "CRAM-MD5",
            MechanismName::Plain => "PLAIN",
            MechanismName::Login => "LOGIN",
            MechanismName::OAuthBearer => "OAUTHBEARER",
            MechanismName::XOAuth2 => "XOAUTH2",
            MechanismName::External => "EXTERNAL",
        }
    }

    /// Looks a name up, ignoring ASCII case (E-9). Unknown names give `None`.
    ///
    /// ```
    /// use pop3_proto::sasl::MechanismName;
    /// assert_eq!(MechanismName::from_name("scram-sha-256"), Some(MechanismName::ScramSha256));
    /// assert_eq!(MechanismName::from_name("GSSAPI"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the mechanism sends a replayable credential in the clear (PLAIN, LOGIN,
    /// OAUTHBEARER, XOAUTH2).
    pub const fn is_cleartext(self) -> bool {
        matches!(
            self,
            MechanismName::Plain
                | MechanismName::Login
                | MechanismName::OAuthBearer
                | MechanismName::XOAuth2
        )
    }

    /// The kind of credential the mechanism needs.
    pub const fn credential(self) -> CredentialKind {
        match self {
            MechanismName::OAuthBearer | MechanismName::XOAuth2 => CredentialKind::BearerToken,
            MechanismName::External => CredentialKind::ClientCertificate,
            _ => CredentialKind::Password,
        }
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for MechanismName {
    type Err = SaslError;
    fn from_str(s: &str) -> Result<Self, SaslError> {
        Self::from_name(s).ok_or(SaslError::InvalidInput("mechanism name"))
    }
}

/// The kind of credential a client holds, which decides the mechanisms it can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CredentialKind {
    /// A password: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN.
    #[default]
    Password,
    /// An OAuth 2.0 bearer token: OAUTHBEARER, XOAUTH2.
    BearerToken,
    /// A TLS client certificate: EXTERNAL.
    ClientCertificate,
}

/// What [`choose_mechanism`] may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChoicePolicy<'a> {
    /// TLS is active on the connection (after STLS, or implicit TLS).
    pub tls_active: bool,
    /// The user allowed cleartext mechanisms without TLS (R2595-8 requires that this can be
    /// refused, and it should be by default).
    pub allow_cleartext: bool,
    /// A mechanism the user named (a POP URL's `;AUTH=`, RFC 2384). `*` means "any", as
    /// in RFC 2384.
    pub explicit: Option<&'a str>,
    /// The kind of credential the client holds.
    pub credentials: CredentialKind,
}

/// Picks the mechanism to use from the server's `CAPA` `SASL` list.
///
/// The rule:
/// * A cleartext mechanism ([`MechanismName::is_cleartext`]) is never chosen without TLS
///   unless `allow_cleartext` is set.
/// * With an explicit choice (other than `*`), that mechanism or nothing: `None` when it is
///   unknown, not offered by the server, or a cleartext one that the first rule forbids.
///   It is never silently replaced by another.
/// * Otherwise, the strongest offered mechanism for the credential held: for a password
///   `SCRAM-SHA-256` > `SCRAM-SHA-1` > `CRAM-MD5` > `PLAIN` > `LOGIN`; for a bearer token
///   `OAUTHBEARER` > `XOAUTH2`; for a client certificate `EXTERNAL`, and only with TLS
///   active. A mechanism needing a credential the client does not hold is never chosen
///   automatically.
///
/// Names in `offered` are compared without regard to ASCII case (E-9); unknown ones are
/// ignored. `+APOP` (RFC 2384) is not SASL: handle it before calling this.
///
/// ```
/// use pop3_proto::sasl::{choose_mechanism, ChoicePolicy, MechanismName};
/// let offered = ["PLAIN", "CRAM-MD5", "SCRAM-SHA-1"];
/// let policy = ChoicePolicy { tls_active: true, ..Default::default() };
/// assert_eq!(choose_mechanism(&offered, &policy), Some(MechanismName::ScramSha1));
/// let policy = ChoicePolicy { explicit: Some("PLAIN"), ..Default::default() };
/// assert_eq!(choose_mechanism(&offered, &policy), None); // cleartext before TLS
/// ```
pub fn choose_mechanism(offered: &[&str], policy: &ChoicePolicy<'_>) -> Option<MechanismName> {
    let permitted =
        |m: MechanismName| !m.is_cleartext() || policy.tls_active || policy.allow_cleartext;
    let is_offered = |m: MechanismName| {
        offered
            .iter()
            .any(|o| o.trim().eq_ignore_ascii_case(m.as_str()))
    };
    match policy.explicit.map(str::trim) {
        Some(name) if name != "*" => {
            let m = MechanismName::from_name(name)?;
            (is_offered(m) && permitted(m)).then_some(m)
        }
        _ => MechanismName::ALL.into_iter().find(|&m| {
            m.credential() == policy.credentials
                && is_offered(m)
                && permitted(m)
                && (m != MechanismName::External || policy.tls_active)
        }),
    }
}

// ---------------------------------------------------------------------------------------
// An in-memory credential store
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Helpers shared by the mechanisms (and by `apop`)
// ---------------------------------------------------------------------------------------

/// Compares two secrets of possibly different lengths in constant time, by hashing both
/// first (so that not even the length leaks through timing).
pub(crate) fn ct_eq_hashed(a: &[u8], b: &[u8]) -> bool {
    let ha = Sha256::digest(a);
    let hb = Sha256::digest(b);
    bool::from(ha.as_slice().ct_eq(hb.as_slice()))
}

/// Lower-case hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&c) = HEX.get(usize::from(nibble)) {
                out.push(c);
            }
        }
    }
    out
}

/// Decodes exactly 32 hex digits (either case) into 16 octets.
pub(crate) fn hex16(text: &[u8]) -> Option<[u8; 16]> {
    fn val(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (val(*hi)?, val(*lo)?),
            _ => return None,
        };
        *o = (hi << 4) | lo;
    }
    Some(out)
}

/// Checks a user name (authentication or authorization identity) as both sides need it:
/// non-empty, no control characters (which SASLprep prohibits, and which include NUL and
/// the OAuth separator `\x01`).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_control)
}

/// Parses a user name received from a client: UTF-8 and [`valid_name`].
pub(crate) fn parse_name(bytes: &[u8]) -> Option<&str> {
    core::str::from_utf8(bytes).ok().filter(|s| valid_name(s))
}

/// Creates an identity, asking the store whether `authcid` may act as `authzid`.
pub(crate) fn authorize(
    store: &dyn CredentialStore,
    authcid: &str,
    authzid: Option<&str>,
) -> ServerStep {
    let authzid = authzid.filter(|z| *z != authcid);
    match store.authorize(authcid, authzid) {
        Ok(true) => ServerStep::Success(Identity {
            authcid: String::from(authcid),
            authzid: authzid.map(String::from),
        }),
        Ok(false) => ServerStep::Failure(AuthFailure::NotAuthorized),
        Err(e) => ServerStep::Failure(e.into()),
    }
}

/// The failure for a step after the exchange ended.
pub(crate) const SPENT: ServerStep =
    ServerStep::Failure(AuthFailure::Malformed("the exchange is already complete"));

/// Escapes a string for a JSON string literal (used by the OAuth error challenges).
pub(crate) fn json_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let n = c as u32;
                for shift in [4, 0] {
                    let d = (n >> shift) & 0xf;
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0u8..16).map(|i| i * 17).collect();
        let hex = hex_lower(&bytes);
        assert_eq!(hex, b"00112233445566778899aabbccddeeff");
        assert_eq!(hex16(&hex).map(|a| a.to_vec()), Some(bytes));
        assert!(hex16(b"00112233445566778899AABBCCDDEEFF").is_some());
        assert!(hex16(b"0011223344556677889").is_none());
        assert!(hex16(b"g0112233445566778899aabbccddeeff").is_none());
    }

    #[test]
    fn json_escape_controls() {
        let mut s = String::new();
        json_escape(&mut s, "a\"b\\c\u{1}");
        assert_eq!(s, "a\\\"b\\\\c\\u0001");
    }
}

//! The two sides of a mechanism exchange: the traits the state machines drive, what
//! a server step decides, and the checks every mechanism shares.

use alloc::string::String;
use alloc::vec::Vec;

use super::{CredentialStore, SaslError, StoreError};
use crate::secret::Secret;

/// The client side of one mechanism exchange.
///
/// Object safe: the client state machine holds a `Box<dyn ClientMechanism + Send>`. One value
/// serves exactly one exchange. The machine drives it like this:
///
/// 1. [`initial_response`](Self::initial_response) once, before anything is sent.
///    `Some(r)`: send `AUTH NAME <base64 r>` (`=` when `r` is empty, R5034-7), unless that
///    command would exceed 255 octets (R5034-8, E-15) or
///    [`separate_initial_response`](Self::separate_initial_response) is true; then send
///    `AUTH NAME` alone, wait for the empty challenge `+ `, and send `r` on its own line
///    (without calling [`respond`](Self::respond) for that empty challenge).
///    `None`: send `AUTH NAME`.
/// 2. Every further `+ ...` challenge: decode it with [`decode_base64`](super::decode_base64) and pass it to
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
    /// The credential store is temporarily unavailable ([`StoreError::Unavailable`](super::StoreError::Unavailable)).
    #[error("the credential store is temporarily unavailable")]
    Temporary,
    /// The credential store cannot serve this mechanism ([`StoreError::Unsupported`](super::StoreError::Unsupported)).
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

/// Checks a user name (authentication or authorization identity) as both sides need it:
/// non-empty, no control characters (which SASLprep prohibits, and which include NUL and
/// the OAuth separator `\x01`).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_control)
}

/// A user name given to a client mechanism: a [`valid_name`], else `InvalidInput(what)`.
pub(crate) fn client_name(name: &str, what: &'static str) -> Result<String, SaslError> {
    if valid_name(name) {
        Ok(String::from(name))
    } else {
        Err(SaslError::InvalidInput(what))
    }
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

/// Asks the store for `authcid`'s password check; a match goes on to [`authorize`] the
/// requested `authzid`.
pub(crate) fn check_password(
    store: &dyn CredentialStore,
    authcid: &str,
    password: &[u8],
    authzid: Option<&str>,
) -> ServerStep {
    match store.check_password(authcid, password) {
        Ok(true) => authorize(store, authcid, authzid),
        Ok(false) => ServerStep::Failure(AuthFailure::BadCredentials),
        Err(e) => ServerStep::Failure(e.into()),
    }
}

/// The store's answer to "who is this?" (an external identity, a bearer token): the user
/// found goes on to [`authorize`] the requested `authzid`; `Ok(None)` is `none()`.
pub(crate) fn identified(
    found: Result<Option<String>, StoreError>,
    store: &dyn CredentialStore,
    authzid: Option<&str>,
    none: impl FnOnce() -> ServerStep,
) -> ServerStep {
    match found {
        Ok(Some(authcid)) => authorize(store, &authcid, authzid),
        Ok(None) => none(),
        Err(e) => ServerStep::Failure(e.into()),
    }
}

/// The failure for a step after the exchange ended.
pub(crate) const SPENT: ServerStep =
    ServerStep::Failure(AuthFailure::Malformed("the exchange is already complete"));

/// An authorization identity given to a client mechanism: empty means none; any other
/// must be a [`valid_name`], else `InvalidInput(what)`.
pub(crate) fn client_authzid(
    authzid: &str,
    what: &'static str,
) -> Result<Option<String>, SaslError> {
    if authzid.is_empty() {
        Ok(None)
    } else if valid_name(authzid) {
        Ok(Some(String::from(authzid)))
    } else {
        Err(SaslError::InvalidInput(what))
    }
}

/// An authorization identity received from a client: empty means none; any other must
/// parse as a name, else the exchange fails as malformed (`what`).
pub(crate) fn received_authzid<'a>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<Option<&'a str>, ServerStep> {
    if bytes.is_empty() {
        return Ok(None);
    }
    parse_name(bytes)
        .map(Some)
        .ok_or(ServerStep::Failure(AuthFailure::Malformed(what)))
}

/// The client side of a mechanism whose whole exchange is one message: sent as the
/// initial response, or in answer to the empty challenge (the two-step form, R5034-8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OneMessageClient {
    sent: bool,
}

impl OneMessageClient {
    /// The initial response is to go out: `Err` if the message was already sent.
    pub(crate) fn send_initial(&mut self) -> Result<(), SaslError> {
        if self.sent {
            return Err(SaslError::UnexpectedChallenge);
        }
        self.sent = true;
        Ok(())
    }

    /// A challenge came: only the empty one, before the message, is answered, with the
    /// message (`None`: send the message).
    pub(crate) fn answer(&mut self, challenge: &[u8]) -> Result<Option<Message>, SaslError> {
        if !challenge.is_empty() {
            return Err(SaslError::UnexpectedChallenge);
        }
        self.send_initial().map(|()| None)
    }
}

/// A mechanism message, as the client macros below write their signatures.
pub(crate) type Message = Secret<Vec<u8>>;

/// Writes the two trait methods that only state facts about a mechanism, `name` and
/// `is_cleartext`, inside an `impl ClientMechanism` or `impl ServerMechanism`:
/// `facts!("PLAIN", cleartext: true);`.
macro_rules! facts {
    ($name:literal, cleartext: $cleartext:literal) => {
        fn name(&self) -> &str {
            $name
        }

        fn is_cleartext(&self) -> bool {
            $cleartext
        }
    };
}
pub(crate) use facts;

/// Implements [`ClientMechanism`] for a mechanism whose whole exchange is one message:
/// the type's `message(&self)` builds it and its `exchange` field says when it may go out
/// (`send_initial`) and what a challenge is answered with (`answer`: `None` for the
/// message itself). A [`OneMessageClient`] or a bearer exchange; further trait methods
/// may follow the facts.
macro_rules! one_message_client {
    ($ty:ty, $name:literal, cleartext: $cleartext:literal $(, $($more:item)*)?) => {
        impl $crate::sasl::ClientMechanism for $ty {
            $crate::sasl::facts!($name, cleartext: $cleartext);

            fn initial_response(
                &mut self,
            ) -> Result<Option<$crate::sasl::Message>, $crate::sasl::SaslError> {
                self.exchange.send_initial()?;
                Ok(Some(self.message()))
            }

            fn respond(
                &mut self,
                challenge: &[u8],
            ) -> Result<$crate::sasl::Message, $crate::sasl::SaslError> {
                let reply = self.exchange.answer(challenge)?;
                Ok(reply.unwrap_or_else(|| self.message()))
            }

            $($($more)*)?
        }
    };
}
pub(crate) use one_message_client;

/// The server side of a mechanism whose whole exchange is one client message: `AUTH`
/// without an initial response gets the empty challenge; the message is checked once;
/// anything after is [`SPENT`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum OneMessageServer {
    /// Nothing received yet.
    #[default]
    Start,
    /// The empty challenge was sent.
    Waiting,
    /// Over.
    Done,
}

impl OneMessageServer {
    /// One step: `check` decides on the client's message.
    pub(crate) fn step(
        &mut self,
        response: Option<&[u8]>,
        check: impl FnOnce(&[u8]) -> ServerStep,
    ) -> ServerStep {
        match (*self, response) {
            (OneMessageServer::Start, None) => {
                *self = OneMessageServer::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (OneMessageServer::Start | OneMessageServer::Waiting, Some(message)) => {
                *self = OneMessageServer::Done;
                check(message)
            }
            (OneMessageServer::Waiting, None) | (OneMessageServer::Done, _) => {
                *self = OneMessageServer::Done;
                SPENT
            }
        }
    }
}

/// A boxed mechanism is a mechanism, so a choice made at run time
/// (`Box<dyn ClientMechanism + Send>`) goes where a concrete one does.
impl<M: ClientMechanism + ?Sized> ClientMechanism for alloc::boxed::Box<M> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn is_cleartext(&self) -> bool {
        (**self).is_cleartext()
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        (**self).initial_response()
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        (**self).respond(challenge)
    }

    fn finish(&mut self) -> Result<(), SaslError> {
        (**self).finish()
    }

    fn separate_initial_response(&self) -> bool {
        (**self).separate_initial_response()
    }

    fn server_error(&self) -> Option<&[u8]> {
        (**self).server_error()
    }
}

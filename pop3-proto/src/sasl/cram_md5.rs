//! `CRAM-MD5` (RFC 2195): the server sends a msg-id shaped challenge, the client answers
//! `user SP hex(HMAC-MD5(password, challenge))`.

use super::{
    authorize, client_name, facts, hex16, hex_lower, parse_name, AuthFailure, ClientMechanism,
    CredentialStore, SaslError, ServerMechanism, ServerStep, SPENT,
};
use crate::apop::Timestamp;
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use md5::Md5;
use subtle::ConstantTimeEq;

fn hmac_md5(key: &[u8], data: &[u8]) -> Option<[u8; 16]> {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().into())
}

/// The client side of `CRAM-MD5` (RFC 2195). Not cleartext, but weak: a passive observer can
/// run a dictionary attack, and the server must keep the password itself.
///
/// ```
/// use pop3_proto::sasl::{ClientMechanism, CramMd5Client};
/// // RFC 2195 §2 example
/// let mut m = CramMd5Client::new("tim", b"tanstaaftanstaaf".to_vec())?;
/// assert!(m.initial_response()?.is_none());
/// let r = m.respond(b"<1896.697170952@postoffice.reston.mci.net>")?;
/// assert_eq!(r.expose_secret(), b"tim b913a602c7eda7a495b4e6e7334d3890");
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CramMd5Client {
    user: String,
    password: Secret<Vec<u8>>,
    done: bool,
}

impl CramMd5Client {
    /// A client authenticating as `user` with `password`. Fails when the user name is empty
    /// or has a control character.
    pub fn new(user: &str, password: impl Into<Secret<Vec<u8>>>) -> Result<Self, SaslError> {
        Ok(CramMd5Client {
            user: client_name(user, "CRAM-MD5 user name")?,
            password: password.into(),
            done: false,
        })
    }
}

impl ClientMechanism for CramMd5Client {
    facts!("CRAM-MD5", cleartext: false);

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(None)
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if self.done {
            return Err(SaslError::UnexpectedChallenge);
        }
        if challenge.is_empty() {
            return Err(SaslError::MalformedChallenge("empty CRAM-MD5 challenge"));
        }
        self.done = true;
        let mac = hmac_md5(self.password.expose_secret(), challenge)
            .ok_or(SaslError::MalformedChallenge("CRAM-MD5"))?;
        let mut out = Vec::with_capacity(self.user.len() + 33);
        out.extend_from_slice(self.user.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&hex_lower(&mac));
        Ok(Secret::new(out))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Challenged,
    Done,
}

/// The server side of `CRAM-MD5` (RFC 2195), which needs the shared secret from
/// [`CredentialStore::password`].
///
/// The challenge is supplied by the caller (the crate has no clock or randomness), as a
/// validated msg-id: build one with [`Timestamp::new`]; it must differ for every exchange.
/// The digest is accepted in either hex case and compared in constant time. An initial
/// response is refused (R5034-9).
#[derive(Debug, Clone)]
pub struct CramMd5Server {
    challenge: Timestamp,
    state: State,
}

impl CramMd5Server {
    /// An exchange that will send `challenge`.
    pub fn new(challenge: Timestamp) -> Self {
        CramMd5Server {
            challenge,
            state: State::Start,
        }
    }

    fn check(&self, response: &[u8], store: &dyn CredentialStore) -> ServerStep {
        let Some(space) = response.iter().rposition(|&b| b == b' ') else {
            return ServerStep::Failure(AuthFailure::Malformed(
                "CRAM-MD5 response without a space",
            ));
        };
        let (user, digest) = response.split_at(space);
        let digest = digest.get(1..).unwrap_or_default();
        let (Some(user), Some(digest)) = (parse_name(user), hex16(digest)) else {
            return ServerStep::Failure(AuthFailure::Malformed("CRAM-MD5 response"));
        };
        let secret = match store.password(user) {
            Ok(Some(secret)) => secret,
            Ok(None) => return ServerStep::Failure(AuthFailure::BadCredentials),
            Err(e) => return ServerStep::Failure(e.into()),
        };
        let Some(expected) = hmac_md5(secret.expose_secret(), self.challenge.as_bytes()) else {
            return ServerStep::Failure(AuthFailure::BadCredentials);
        };
        if bool::from(expected.ct_eq(&digest)) {
            authorize(store, user, None)
        } else {
            ServerStep::Failure(AuthFailure::BadCredentials)
        }
    }
}

impl ServerMechanism for CramMd5Server {
    facts!("CRAM-MD5", cleartext: false);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        match (self.state, response) {
            (State::Start, None) => {
                self.state = State::Challenged;
                ServerStep::Challenge(self.challenge.as_bytes().to_vec())
            }
            (State::Start, Some(_)) => {
                self.state = State::Done;
                ServerStep::Failure(AuthFailure::Malformed(
                    "CRAM-MD5 takes no initial response (R5034-9)",
                ))
            }
            (State::Challenged, Some(response)) => {
                self.state = State::Done;
                self.check(response, store)
            }
            (State::Challenged, None) | (State::Done, _) => {
                self.state = State::Done;
                SPENT
            }
        }
    }
}

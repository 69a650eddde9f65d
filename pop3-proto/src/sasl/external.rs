//! `EXTERNAL` (RFC 4422 Appendix A): the identity comes from outside SASL, normally a TLS
//! client certificate (R2595-6, R8314-6); the client only names an authorization identity.

use super::{
    authorize, parse_name, valid_name, AuthFailure, ClientMechanism, CredentialStore, SaslError,
    ServerMechanism, ServerStep, SPENT,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// The client side of `EXTERNAL`. Its initial response is the authorization identity, or
/// empty (sent as `=`, R5034-7) to act as whoever the certificate names.
#[derive(Debug, Clone, Default)]
pub struct ExternalClient {
    authzid: Option<String>,
    sent: bool,
}

impl ExternalClient {
    /// A client acting as the identity the external layer established.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks to act as `authzid` (an empty one is left out). Fails on a control character.
    pub fn with_authzid(mut self, authzid: &str) -> Result<Self, SaslError> {
        if authzid.is_empty() {
            self.authzid = None;
        } else if valid_name(authzid) {
            self.authzid = Some(String::from(authzid));
        } else {
            return Err(SaslError::InvalidInput("EXTERNAL authorization identity"));
        }
        Ok(self)
    }

    fn message(&mut self) -> Secret<Vec<u8>> {
        self.sent = true;
        Secret::new(self.authzid.as_deref().unwrap_or("").as_bytes().to_vec())
    }
}

impl ClientMechanism for ExternalClient {
    fn name(&self) -> &str {
        "EXTERNAL"
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        if self.sent {
            return Err(SaslError::UnexpectedChallenge);
        }
        Ok(Some(self.message()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if self.sent || !challenge.is_empty() {
            return Err(SaslError::UnexpectedChallenge);
        }
        Ok(self.message())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Waiting,
    Done,
}

/// The server side of `EXTERNAL`: asks [`CredentialStore::external`] for the identity the
/// TLS layer established, then [`CredentialStore::authorize`] for the requested
/// authorization identity.
#[derive(Debug, Clone)]
pub struct ExternalServer {
    state: State,
}

impl ExternalServer {
    /// A fresh exchange.
    pub fn new() -> Self {
        ExternalServer {
            state: State::Start,
        }
    }
}

impl Default for ExternalServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerMechanism for ExternalServer {
    fn name(&self) -> &str {
        "EXTERNAL"
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        match (self.state, response) {
            (State::Start, None) => {
                self.state = State::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (State::Start | State::Waiting, Some(authzid)) => {
                self.state = State::Done;
                let authzid = if authzid.is_empty() {
                    None
                } else {
                    match parse_name(authzid) {
                        Some(z) => Some(z),
                        None => {
                            return ServerStep::Failure(AuthFailure::Malformed(
                                "EXTERNAL authorization identity",
                            ))
                        }
                    }
                };
                match store.external(authzid) {
                    Ok(Some(authcid)) => authorize(store, &authcid, authzid),
                    Ok(None) => ServerStep::Failure(AuthFailure::BadCredentials),
                    Err(e) => ServerStep::Failure(e.into()),
                }
            }
            (State::Waiting, None) | (State::Done, _) => {
                self.state = State::Done;
                SPENT
            }
        }
    }
}

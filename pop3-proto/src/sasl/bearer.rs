//! The server exchange both bearer-token mechanisms (OAUTHBEARER, XOAUTH2) share:
//! one client message carrying the token; on a refused token, a JSON error
//! challenge (R7628-2, XO-3), whatever the client answers to it, then failure.

use alloc::vec::Vec;

use super::{authorize, AuthFailure, CredentialStore, SaslError, ServerStep, StoreError, SPENT};
use crate::secret::Secret;

/// Where a bearer-token exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BearerState {
    /// Nothing received yet.
    Start,
    /// AUTH came without an initial response; the empty challenge was sent.
    Waiting,
    /// The token was refused and the error challenge sent.
    ErrorSent,
    /// Over.
    Done,
}

impl BearerState {
    /// One step of the exchange. `check` reads a client message and gives the
    /// token's verdict (see [`BearerState::conclude`]).
    pub(super) fn step(
        &mut self,
        response: Option<&[u8]>,
        check: impl FnOnce(&mut Self, &[u8]) -> ServerStep,
    ) -> ServerStep {
        match (*self, response) {
            (BearerState::Start, None) => {
                *self = BearerState::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (BearerState::Start | BearerState::Waiting, Some(message)) => check(self, message),
            (BearerState::ErrorSent, _) => {
                *self = BearerState::Done;
                ServerStep::Failure(AuthFailure::BadCredentials)
            }
            (BearerState::Waiting, None) | (BearerState::Done, _) => {
                *self = BearerState::Done;
                SPENT
            }
        }
    }

    /// A message that does not parse: the exchange fails at once.
    pub(super) fn malformed(&mut self, why: &'static str) -> ServerStep {
        *self = BearerState::Done;
        ServerStep::Failure(AuthFailure::Malformed(why))
    }

    /// The store's verdict on the token: the user it authenticates (then checked
    /// against the requested `authzid`), none (the error challenge goes out), or a
    /// store failure.
    pub(super) fn conclude(
        &mut self,
        verdict: Result<Option<alloc::string::String>, StoreError>,
        authzid: Option<&str>,
        store: &dyn CredentialStore,
        error_json: impl FnOnce() -> Vec<u8>,
    ) -> ServerStep {
        match verdict {
            Ok(Some(authcid)) => {
                *self = BearerState::Done;
                authorize(store, &authcid, authzid)
            }
            Ok(None) => {
                *self = BearerState::ErrorSent;
                ServerStep::Challenge(error_json())
            }
            Err(e) => {
                *self = BearerState::Done;
                ServerStep::Failure(e.into())
            }
        }
    }
}

/// Where the client side of a bearer-token exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BearerClientState {
    /// The message has not been sent.
    Start,
    /// The message went out; a challenge now is the server's error report.
    Sent,
    /// The error report was answered; nothing more may come.
    Answered,
}

impl BearerClientState {
    /// The initial response: the mechanism's one message.
    pub(super) fn initial_response(
        &mut self,
        message: impl FnOnce() -> Secret<Vec<u8>>,
    ) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        if *self != BearerClientState::Start {
            return Err(SaslError::UnexpectedChallenge);
        }
        *self = BearerClientState::Sent;
        Ok(Some(message()))
    }

    /// A challenge: the empty one before the message (the two-step form of
    /// R5034-8 and XO-2), or the error report after it, kept in `error` and
    /// answered with `error_reply`.
    pub(super) fn respond(
        &mut self,
        challenge: &[u8],
        message: impl FnOnce() -> Secret<Vec<u8>>,
        error: &mut Option<Vec<u8>>,
        error_reply: &[u8],
        early: &'static str,
    ) -> Result<Secret<Vec<u8>>, SaslError> {
        match *self {
            BearerClientState::Start if challenge.is_empty() => {
                *self = BearerClientState::Sent;
                Ok(message())
            }
            BearerClientState::Start => Err(SaslError::MalformedChallenge(early)),
            BearerClientState::Sent => {
                *error = Some(challenge.to_vec());
                *self = BearerClientState::Answered;
                Ok(Secret::new(error_reply.to_vec()))
            }
            BearerClientState::Answered => Err(SaslError::UnexpectedChallenge),
        }
    }
}

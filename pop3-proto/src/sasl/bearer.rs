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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum BearerClientState {
    /// The message has not been sent.
    #[default]
    Start,
    /// The message went out; a challenge now is the server's error report.
    Sent,
    /// The error report was answered; nothing more may come.
    Answered,
}

/// The client side of a bearer-token exchange, shared by OAUTHBEARER and XOAUTH2:
/// one message carrying the token, then, on failure, the server's error report,
/// kept for [`ClientMechanism::server_error`](super::ClientMechanism::server_error).
#[derive(Debug, Clone, Default)]
pub(super) struct BearerClient {
    state: BearerClientState,
    error: Option<Vec<u8>>,
}

impl BearerClient {
    /// The initial response (the mechanism's one message) is to go out.
    pub(super) fn send_initial(&mut self) -> Result<(), SaslError> {
        if self.state != BearerClientState::Start {
            return Err(SaslError::UnexpectedChallenge);
        }
        self.state = BearerClientState::Sent;
        Ok(())
    }

    /// A challenge: the empty one before the message (the two-step form of R5034-8
    /// and XO-2) gives `None` (send the message), the error report after it is kept
    /// and answered with `error_reply`.
    pub(super) fn answer(
        &mut self,
        challenge: &[u8],
        error_reply: &[u8],
        early: &'static str,
    ) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        match self.state {
            BearerClientState::Start if challenge.is_empty() => {
                self.state = BearerClientState::Sent;
                Ok(None)
            }
            BearerClientState::Start => Err(SaslError::MalformedChallenge(early)),
            BearerClientState::Sent => {
                self.error = Some(challenge.to_vec());
                self.state = BearerClientState::Answered;
                Ok(Some(Secret::new(error_reply.to_vec())))
            }
            BearerClientState::Answered => Err(SaslError::UnexpectedChallenge),
        }
    }

    /// The server's error report, once one came.
    pub(super) fn server_error(&self) -> Option<&[u8]> {
        self.error.as_deref()
    }
}

//! The server exchange both bearer-token mechanisms (OAUTHBEARER, XOAUTH2) share:
//! one client message carrying the token; on a refused token, a JSON error
//! challenge (R7628-2, XO-3), whatever the client answers to it, then failure.

use alloc::vec::Vec;

use super::{authorize, AuthFailure, CredentialStore, ServerStep, StoreError, SPENT};

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

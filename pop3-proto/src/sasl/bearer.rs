//! The server exchange both bearer-token mechanisms (OAUTHBEARER, XOAUTH2) share:
//! one client message carrying the token; on a refused token, a JSON error
//! challenge (R7628-2, XO-3), whatever the client answers to it, then failure.

use alloc::string::String;
use alloc::vec::Vec;

use super::{client_name, identified, AuthFailure, CredentialStore, SaslError, ServerStep, SPENT};
use crate::secret::Secret;

/// Checks a bearer token as the clients send it: non-empty printable ASCII (RFC 6750
/// `b64token` is a subset), so no separator or line break can be smuggled in.
pub(super) fn valid_token(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(|&b| (0x21..=0x7e).contains(&b))
}

/// Splits `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
fn bearer_token(auth: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = auth.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"Bearer ") && valid_token(token)).then_some(token)
}

/// The user name and token a bearer-token client is built with: a
/// [`valid_name`](super::valid_name) and a [`valid_token`], else `InvalidInput` naming
/// the one that is not (`user_what`, `token_what`).
pub(super) fn client_credentials(
    user: &str,
    user_what: &'static str,
    token: Secret<Vec<u8>>,
    token_what: &'static str,
) -> Result<(String, Secret<Vec<u8>>), SaslError> {
    let user = client_name(user, user_what)?;
    if !valid_token(token.expose_secret()) {
        return Err(SaslError::InvalidInput(token_what));
    }
    Ok((user, token))
}

/// A bearer-token client's message: its mechanism's `head` (ending in the `^A` before
/// the token), then `auth=Bearer <token> ^A ^A`, the end both mechanisms share.
pub(super) fn client_message(head: &[u8], token: &Secret<Vec<u8>>) -> Secret<Vec<u8>> {
    let token = token.expose_secret();
    let mut msg = Vec::with_capacity(head.len() + token.len() + 14);
    msg.extend_from_slice(head);
    msg.extend_from_slice(b"auth=Bearer ");
    msg.extend_from_slice(token);
    msg.extend_from_slice(b"\x01\x01");
    Secret::new(msg)
}

/// What a client's bearer-token message names: the user it asks to act as, and the
/// `auth=` value (`Bearer <token>`).
pub(super) type BearerMessage<'a> = (Option<String>, &'a [u8]);

/// Where a bearer-token exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum BearerState {
    /// Nothing received yet.
    #[default]
    Start,
    /// AUTH came without an initial response; the empty challenge was sent.
    Waiting,
    /// The token was refused and the error challenge sent.
    ErrorSent,
    /// Over.
    Done,
}

impl BearerState {
    /// One step of the exchange. `parse` reads a client message (an `Err` fails the
    /// exchange as malformed); the store then judges its token: the user it
    /// authenticates goes on to be authorized as the one named, a refused token gets
    /// the `error_json` challenge.
    pub(super) fn step(
        &mut self,
        response: Option<&[u8]>,
        store: &dyn CredentialStore,
        parse: impl FnOnce(&[u8]) -> Result<BearerMessage<'_>, &'static str>,
        error_json: impl FnOnce() -> Vec<u8>,
    ) -> ServerStep {
        match (*self, response) {
            (BearerState::Start, None) => {
                *self = BearerState::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (BearerState::Start | BearerState::Waiting, Some(message)) => {
                *self = BearerState::Done;
                let (authzid, auth) = match parse(message) {
                    Ok(parsed) => parsed,
                    Err(why) => return ServerStep::Failure(AuthFailure::Malformed(why)),
                };
                let found = match bearer_token(auth) {
                    Some(token) => store.check_bearer(authzid.as_deref(), token),
                    None => Ok(None),
                };
                identified(found, store, authzid.as_deref(), || {
                    *self = BearerState::ErrorSent;
                    ServerStep::Challenge(error_json())
                })
            }
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
#[derive(Debug, Clone)]
pub(super) struct BearerClient {
    state: BearerClientState,
    error: Option<Vec<u8>>,
    error_reply: &'static [u8],
    early: &'static str,
}

impl BearerClient {
    /// An exchange that answers the server's error report with `error_reply`, and
    /// fails with `MalformedChallenge(early)` on a challenge before the message.
    pub(super) fn new(error_reply: &'static [u8], early: &'static str) -> Self {
        BearerClient {
            state: BearerClientState::Start,
            error: None,
            error_reply,
            early,
        }
    }

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
    /// and answered with the error reply.
    pub(super) fn answer(
        &mut self,
        challenge: &[u8],
    ) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        match self.state {
            BearerClientState::Start if challenge.is_empty() => {
                self.state = BearerClientState::Sent;
                Ok(None)
            }
            BearerClientState::Start => Err(SaslError::MalformedChallenge(self.early)),
            BearerClientState::Sent => {
                self.error = Some(challenge.to_vec());
                self.state = BearerClientState::Answered;
                Ok(Some(Secret::new(self.error_reply.to_vec())))
            }
            BearerClientState::Answered => Err(SaslError::UnexpectedChallenge),
        }
    }

    /// The server's error report, once one came.
    pub(super) fn server_error(&self) -> Option<&[u8]> {
        self.error.as_deref()
    }
}

/// Implements [`ClientMechanism`](super::ClientMechanism) for a bearer-token mechanism:
/// a one-message client (see `one_message_client!`) whose `exchange` is a
/// [`BearerClient`], whose `two_step` field says whether the message waits for the empty
/// challenge, and which keeps the server's error report.
macro_rules! bearer_client {
    ($ty:ty, $name:literal) => {
        $crate::sasl::one_message_client!($ty, $name, cleartext: true,
            fn separate_initial_response(&self) -> bool {
                self.two_step
            }

            fn server_error(&self) -> Option<&[u8]> {
                self.exchange.server_error()
            }
        );
    };
}
pub(super) use bearer_client;

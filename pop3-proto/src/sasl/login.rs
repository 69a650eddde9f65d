//! `LOGIN` (de facto, draft-murchison-sasl-login): the server prompts `Username:` and
//! `Password:`, the client answers each.

use super::{
    check_password, client_name, facts, parse_name, AuthFailure, ClientMechanism, CredentialStore,
    SaslError, ServerMechanism, ServerStep, SPENT,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// The client side of `LOGIN`. Cleartext: use it over TLS only.
///
/// It has no initial response. It answers the first challenge with the user name and the
/// second with the password, whatever the prompts say (servers word them differently).
#[derive(Debug, Clone)]
pub struct LoginClient {
    user: String,
    password: Secret<Vec<u8>>,
    answered: u8,
}

impl LoginClient {
    /// A client logging in as `user` with `password`. Fails when the user name is empty or
    /// has a control character.
    pub fn new(user: &str, password: impl Into<Secret<Vec<u8>>>) -> Result<Self, SaslError> {
        Ok(LoginClient {
            user: client_name(user, "LOGIN user name")?,
            password: password.into(),
            answered: 0,
        })
    }
}

impl ClientMechanism for LoginClient {
    facts!("LOGIN", cleartext: true);

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(None)
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let answer = match self.answered {
            0 => self.user.as_bytes().to_vec(),
            1 => self.password.expose_secret().clone(),
            _ => return Err(SaslError::UnexpectedChallenge),
        };
        self.answered += 1;
        Ok(Secret::new(answer))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    #[default]
    Start,
    AwaitUser,
    AwaitPassword(String),
    Done,
}

/// The server side of `LOGIN`, checking through [`CredentialStore::check_password`].
///
/// Challenges are `Username:` and `Password:`. As many servers do, an initial response is
/// taken as the user name (so `AUTH LOGIN <base64 user>` skips the first prompt); this is
/// a deliberate, documented leniency towards R5034-9, since LOGIN has no specification.
#[derive(Debug, Clone, Default)]
pub struct LoginServer {
    state: State,
}

impl LoginServer {
    /// The first challenge.
    pub const USERNAME_PROMPT: &'static [u8] = b"Username:";
    /// The second challenge.
    pub const PASSWORD_PROMPT: &'static [u8] = b"Password:";

    /// A fresh exchange.
    pub fn new() -> Self {
        Self::default()
    }

    fn take_user(&mut self, user: &[u8]) -> ServerStep {
        match parse_name(user) {
            Some(u) => {
                self.state = State::AwaitPassword(String::from(u));
                ServerStep::Challenge(Self::PASSWORD_PROMPT.to_vec())
            }
            None => {
                self.state = State::Done;
                ServerStep::Failure(AuthFailure::Malformed("LOGIN user name"))
            }
        }
    }
}

impl ServerMechanism for LoginServer {
    facts!("LOGIN", cleartext: true);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let state = core::mem::replace(&mut self.state, State::Done);
        match (state, response) {
            (State::Start, None) => {
                self.state = State::AwaitUser;
                ServerStep::Challenge(Self::USERNAME_PROMPT.to_vec())
            }
            (State::Start | State::AwaitUser, Some(user)) => self.take_user(user),
            (State::AwaitPassword(user), Some(password)) => {
                check_password(store, &user, password, None)
            }
            (State::AwaitUser | State::AwaitPassword(_), None) | (State::Done, _) => SPENT,
        }
    }
}

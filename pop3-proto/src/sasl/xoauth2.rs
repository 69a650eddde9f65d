//! `XOAUTH2` (vendor mechanism of Google and Microsoft, XO-1..XO-3): one client message
//! `user=U \x01 auth=Bearer T \x01 \x01`; on a bad token the server sends a base64 JSON
//! error challenge, the client answers with an empty response (IMPL-11), the server fails.

use super::bearer::{BearerClient, BearerState};
use super::{
    json_escape, parse_name, valid_name, ClientMechanism, CredentialStore, SaslError,
    ServerMechanism, ServerStep,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// Checks a bearer token as the clients send it: non-empty printable ASCII (RFC 6750
/// `b64token` is a subset), so no separator or line break can be smuggled in.
pub(crate) fn valid_token(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(|&b| (0x21..=0x7e).contains(&b))
}

/// Splits `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
pub(crate) fn bearer_token(auth: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = auth.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"Bearer ") && valid_token(token)).then_some(token)
}

/// The client side of `XOAUTH2`. Cleartext (a bearer token): use it over TLS only.
///
/// ```
/// use pop3_proto::sasl::{encode_base64, ClientMechanism, XOAuth2Client};
/// let mut m = XOAuth2Client::new(
///     "test@contoso.onmicrosoft.com",
///     b"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA".to_vec(),
/// )?;
/// let ir = m.initial_response()?.unwrap();
/// assert!(encode_base64(ir.expose_secret()).starts_with(b"dXNlcj10ZXN0QGNvbnRvc28u"));
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct XOAuth2Client {
    user: String,
    token: Secret<Vec<u8>>,
    two_step: bool,
    exchange: BearerClient,
}

impl XOAuth2Client {
    /// A client logging in as `user` with an OAuth 2.0 access token. Fails when the user
    /// name is empty or has a control character, or the token is not printable ASCII.
    pub fn new(user: &str, token: impl Into<Secret<Vec<u8>>>) -> Result<Self, SaslError> {
        let token = token.into();
        if !valid_name(user) {
            return Err(SaslError::InvalidInput("XOAUTH2 user name"));
        }
        if !valid_token(token.expose_secret()) {
            return Err(SaslError::InvalidInput("XOAUTH2 token"));
        }
        Ok(XOAuth2Client {
            user: String::from(user),
            token,
            two_step: false,
            exchange: BearerClient::default(),
        })
    }

    /// Always sends the initial response on its own line after `AUTH XOAUTH2` and the empty
    /// challenge, as Microsoft requires for POP (XO-2).
    pub fn force_two_step(mut self) -> Self {
        self.two_step = true;
        self
    }

    fn message(&self) -> Secret<Vec<u8>> {
        let token = self.token.expose_secret();
        let mut msg = Vec::with_capacity(self.user.len() + token.len() + 22);
        msg.extend_from_slice(b"user=");
        msg.extend_from_slice(self.user.as_bytes());
        msg.extend_from_slice(b"\x01auth=Bearer ");
        msg.extend_from_slice(token);
        msg.extend_from_slice(b"\x01\x01");
        Secret::new(msg)
    }
}

impl ClientMechanism for XOAuth2Client {
    fn name(&self) -> &str {
        "XOAUTH2"
    }

    fn is_cleartext(&self) -> bool {
        true
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        self.exchange.send_initial()?;
        Ok(Some(self.message()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        // XO-3: an error report; IMPL-11: answer with an empty response.
        let reply = self.exchange.answer(
            challenge,
            b"",
            "XOAUTH2 challenge before the initial response",
        )?;
        Ok(reply.unwrap_or_else(|| self.message()))
    }

    fn separate_initial_response(&self) -> bool {
        self.two_step
    }

    fn server_error(&self) -> Option<&[u8]> {
        self.exchange.server_error()
    }
}

/// The server side of `XOAUTH2`, checking through [`CredentialStore::check_bearer`].
///
/// A message that does not parse fails at once. A token the store refuses gets the JSON
/// error challenge of XO-3 (`{"status":"401","schemes":"bearer","scope":...}`); whatever the
/// client answers then, the exchange fails with [`AuthFailure::BadCredentials`](super::AuthFailure::BadCredentials).
#[derive(Debug, Clone)]
pub struct XOAuth2Server {
    scope: Option<String>,
    state: BearerState,
}

impl XOAuth2Server {
    /// A fresh exchange.
    pub fn new() -> Self {
        XOAuth2Server {
            scope: None,
            state: BearerState::Start,
        }
    }

    /// Names the OAuth scope in the error challenge.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scope = Some(String::from(scope));
        self
    }

    fn error_json(&self) -> Vec<u8> {
        let mut json = String::from(r#"{"status":"401","schemes":"bearer""#);
        if let Some(scope) = &self.scope {
            json.push_str(r#","scope":""#);
            json_escape(&mut json, scope);
            json.push('"');
        }
        json.push('}');
        json.into_bytes()
    }

    fn check(
        &self,
        state: &mut BearerState,
        message: &[u8],
        store: &dyn CredentialStore,
    ) -> ServerStep {
        let Some(body) = message.strip_suffix(b"\x01\x01") else {
            return state.malformed("XOAUTH2 message must end with ^A^A");
        };
        let mut user = None;
        let mut auth = None;
        for pair in body.split(|&b| b == 1) {
            if let Some(v) = pair.strip_prefix(b"user=") {
                user = Some(v);
            } else if let Some(v) = pair.strip_prefix(b"auth=") {
                auth = Some(v);
            }
        }
        let (Some(user), Some(auth)) = (user.and_then(parse_name), auth) else {
            return state.malformed("XOAUTH2 needs user= and auth=");
        };
        let verdict = match bearer_token(auth) {
            Some(token) => store.check_bearer(Some(user), token),
            None => Ok(None),
        };
        state.conclude(verdict, Some(user), store, || self.error_json())
    }
}

impl Default for XOAuth2Server {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerMechanism for XOAuth2Server {
    fn name(&self) -> &str {
        "XOAUTH2"
    }

    fn is_cleartext(&self) -> bool {
        true
    }

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let mut state = self.state;
        let step = state.step(response, |state, message| self.check(state, message, store));
        self.state = state;
        step
    }
}

//! `XOAUTH2` (vendor mechanism of Google and Microsoft, XO-1..XO-3): one client message
//! `user=U \x01 auth=Bearer T \x01 \x01`; on a bad token the server sends a base64 JSON
//! error challenge, the client answers with an empty response (IMPL-11), the server fails.

use super::bearer::{
    bearer_client, client_credentials, client_message, BearerClient, BearerMessage, BearerState,
};
use super::{
    facts, json_escape, parse_name, CredentialStore, SaslError, ServerMechanism, ServerStep,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

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
        let (user, token) =
            client_credentials(user, "XOAUTH2 user name", token.into(), "XOAUTH2 token")?;
        Ok(XOAuth2Client {
            user,
            token,
            two_step: false,
            exchange: BearerClient::new(
                // XO-3: an error report; IMPL-11: answer with an empty response.
                b"",
                "XOAUTH2 challenge before the initial response",
            ),
        })
    }

    /// Always sends the initial response on its own line after `AUTH XOAUTH2` and the empty
    /// challenge, as Microsoft requires for POP (XO-2).
    pub fn force_two_step(mut self) -> Self {
        self.two_step = true;
        self
    }

    fn message(&self) -> Secret<Vec<u8>> {
        let mut head = Vec::with_capacity(self.user.len() + 6);
        head.extend_from_slice(b"user=");
        head.extend_from_slice(self.user.as_bytes());
        head.push(1);
        client_message(&head, &self.token)
    }
}

bearer_client!(XOAuth2Client, "XOAUTH2");

/// The server side of `XOAUTH2`, checking through [`CredentialStore::check_bearer`].
///
/// A message that does not parse fails at once. A token the store refuses gets the JSON
/// error challenge of XO-3 (`{"status":"401","schemes":"bearer","scope":...}`); whatever the
/// client answers then, the exchange fails with [`AuthFailure::BadCredentials`](super::AuthFailure::BadCredentials).
#[derive(Debug, Clone, Default)]
pub struct XOAuth2Server {
    scope: Option<String>,
    state: BearerState,
}

impl XOAuth2Server {
    /// A fresh exchange.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the OAuth scope in the error challenge.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scope = Some(String::from(scope));
        self
    }

    fn error_json(scope: Option<&str>) -> Vec<u8> {
        let mut json = String::from(r#"{"status":"401","schemes":"bearer""#);
        if let Some(scope) = scope {
            json.push_str(r#","scope":""#);
            json_escape(&mut json, scope);
            json.push('"');
        }
        json.push('}');
        json.into_bytes()
    }

    /// Parses `user=U ^A auth=V ^A ^A`.
    fn parse(message: &[u8]) -> Result<BearerMessage<'_>, &'static str> {
        let body = message
            .strip_suffix(b"\x01\x01")
            .ok_or("XOAUTH2 message must end with ^A^A")?;
        let mut user = None;
        let mut auth = None;
        for pair in body.split(|&b| b == 1) {
            if let Some(v) = pair.strip_prefix(b"user=") {
                user = Some(v);
            } else if let Some(v) = pair.strip_prefix(b"auth=") {
                auth = Some(v);
            }
        }
        match (user.and_then(parse_name), auth) {
            (Some(user), Some(auth)) => Ok((Some(String::from(user)), auth)),
            _ => Err("XOAUTH2 needs user= and auth="),
        }
    }
}

impl ServerMechanism for XOAuth2Server {
    facts!("XOAUTH2", cleartext: true);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let scope = self.scope.as_deref();
        self.state
            .step(response, store, Self::parse, || Self::error_json(scope))
    }
}

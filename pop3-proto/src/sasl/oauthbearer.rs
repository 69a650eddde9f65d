//! `OAUTHBEARER` (RFC 7628): `n,a=user,` `\x01host=H\x01port=P\x01auth=Bearer T\x01\x01`;
//! on failure the server sends a JSON error challenge (R7628-2), the client answers with a
//! single `\x01` (base64 `AQ==`), and the server fails.

use super::bearer::{
    bearer_client, client_credentials, client_message, BearerClient, BearerMessage, BearerState,
};
use super::gs2::{escape_saslname, split_gs2_header};
use super::{facts, json_escape, CredentialStore, SaslError, ServerMechanism, ServerStep};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// The client side of `OAUTHBEARER` (RFC 7628). Cleartext (a bearer token): use it over
/// TLS only (R7628-3).
///
/// ```
/// use pop3_proto::sasl::{ClientMechanism, OAuthBearerClient};
/// let mut m = OAuthBearerClient::new("user@example.com", b"vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==".to_vec())?
///     .with_host("server.example.com")?
///     .with_port(110);
/// let ir = m.initial_response()?.unwrap();
/// assert!(ir.expose_secret().starts_with(b"n,a=user@example.com,\x01host=server.example.com\x01port=110\x01auth=Bearer "));
/// // The error challenge is answered with a single 0x01 (R7628-2).
/// assert_eq!(m.respond(br#"{"status":"invalid_token"}"#)?.expose_secret(), b"\x01");
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OAuthBearerClient {
    user: String,
    token: Secret<Vec<u8>>,
    host: Option<String>,
    port: Option<u16>,
    two_step: bool,
    exchange: BearerClient,
}

impl OAuthBearerClient {
    /// A client logging in as `user` (sent as the GS2 authorization identity `a=`) with an
    /// OAuth 2.0 access token. Fails when the user name is empty or has a control
    /// character, or the token is not printable ASCII.
    pub fn new(user: &str, token: impl Into<Secret<Vec<u8>>>) -> Result<Self, SaslError> {
        let (user, token) = client_credentials(
            user,
            "OAUTHBEARER user name",
            token.into(),
            "OAUTHBEARER token",
        )?;
        Ok(OAuthBearerClient {
            user,
            token,
            host: None,
            port: None,
            two_step: false,
            exchange: BearerClient::new(
                // R7628-2: any challenge after the message is the error report; answer
                // with kvsep alone.
                b"\x01",
                "OAUTHBEARER challenge before the initial response",
            ),
        })
    }

    /// Sends `host=` (the server's host name, R7628-1). Fails on a control character or
    /// space.
    pub fn with_host(mut self, host: &str) -> Result<Self, SaslError> {
        if host.is_empty() || !host.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(SaslError::InvalidInput("OAUTHBEARER host"));
        }
        self.host = Some(String::from(host));
        Ok(self)
    }

    /// Sends `port=` (the server's port, R7628-1).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Always sends the initial response on its own line after the empty challenge.
    pub fn force_two_step(mut self) -> Self {
        self.two_step = true;
        self
    }

    fn message(&self) -> Secret<Vec<u8>> {
        use core::fmt::Write as _;
        let mut head = String::from("n,a=");
        head.push_str(&escape_saslname(&self.user));
        head.push_str(",\x01");
        if let Some(host) = &self.host {
            head.push_str("host=");
            head.push_str(host);
            head.push('\x01');
        }
        if let Some(port) = self.port {
            // Writing to a String cannot fail.
            let _ = write!(head, "port={port}\x01");
        }
        client_message(head.as_bytes(), &self.token)
    }
}

bearer_client!(OAuthBearerClient, "OAUTHBEARER");

/// The server side of `OAUTHBEARER` (RFC 7628), checking through
/// [`CredentialStore::check_bearer`].
///
/// A client response that does not parse (no GS2 header, channel binding requested, no
/// `auth=`) fails at once. An `auth=` value that is not a valid `Bearer` token, or a token the
/// store refuses, gets the JSON error challenge (`{"status":"invalid_token",...}`,
/// R7628-2); whatever the client answers then (normally `\x01`), the exchange fails with
/// [`AuthFailure::BadCredentials`](super::AuthFailure::BadCredentials). `host=`, `port=` and unknown keys are ignored.
#[derive(Debug, Clone, Default)]
pub struct OAuthBearerServer {
    scope: Option<String>,
    openid_configuration: Option<String>,
    state: BearerState,
}

impl OAuthBearerServer {
    /// A fresh exchange.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the needed scope in the error challenge.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scope = Some(String::from(scope));
        self
    }

    /// Names the OpenID discovery document in the error challenge.
    pub fn with_openid_configuration(mut self, url: &str) -> Self {
        self.openid_configuration = Some(String::from(url));
        self
    }

    fn error_json(scope: &Option<String>, openid_configuration: &Option<String>) -> Vec<u8> {
        let mut json = String::from(r#"{"status":"invalid_token""#);
        for (key, value) in [
            ("scope", scope),
            ("openid-configuration", openid_configuration),
        ] {
            if let Some(value) = value {
                json.push_str(",\"");
                json.push_str(key);
                json.push_str("\":\"");
                json_escape(&mut json, value);
                json.push('"');
            }
        }
        json.push('}');
        json.into_bytes()
    }

    /// Parses `gs2-header kvsep *kvpair kvsep`; returns the authzid and the `auth` value.
    fn parse(message: &[u8]) -> Result<BearerMessage<'_>, &'static str> {
        let (authzid, rest) = split_gs2_header(message)?;
        let pairs = rest
            .strip_prefix(b"\x01")
            .and_then(|r| r.strip_suffix(b"\x01"))
            .ok_or("OAUTHBEARER key/value pairs must be framed by ^A")?;
        let mut auth = None;
        if !pairs.is_empty() {
            let pairs = pairs
                .strip_suffix(b"\x01")
                .ok_or("unterminated key/value pair")?;
            for pair in pairs.split(|&b| b == 1) {
                let eq = pair
                    .iter()
                    .position(|&b| b == b'=')
                    .ok_or("key/value pair without =")?;
                let (key, value) = pair.split_at(eq);
                if key.is_empty() || !key.iter().all(u8::is_ascii_alphabetic) {
                    return Err("bad key in key/value pair");
                }
                if key == b"auth" {
                    auth = Some(value.get(1..).unwrap_or_default());
                }
            }
        }
        Ok((authzid, auth.ok_or("OAUTHBEARER needs auth=")?))
    }
}

impl ServerMechanism for OAuthBearerServer {
    facts!("OAUTHBEARER", cleartext: true);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let (scope, openid_configuration) = (&self.scope, &self.openid_configuration);
        self.state.step(response, store, Self::parse, || {
            Self::error_json(scope, openid_configuration)
        })
    }
}

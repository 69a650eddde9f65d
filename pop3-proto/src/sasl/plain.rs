//! `PLAIN` (RFC 4616): one client message `[authzid] NUL authcid NUL passwd`.

use super::{
    check_password, client_authzid, client_name, facts, one_message_client, parse_name,
    received_authzid, AuthFailure, CredentialStore, OneMessageClient, OneMessageServer, SaslError,
    ServerMechanism, ServerStep,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// The client side of `PLAIN` (RFC 4616). Cleartext: use it over TLS only (R4616-2).
///
/// ```
/// use pop3_proto::sasl::{ClientMechanism, PlainClient};
/// let mut m = PlainClient::new("test", b"test".to_vec())?;
/// let ir = m.initial_response()?.unwrap();
/// assert_eq!(ir.expose_secret(), b"\0test\0test");
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PlainClient {
    authzid: Option<String>,
    authcid: String,
    password: Secret<Vec<u8>>,
    exchange: OneMessageClient,
}

impl PlainClient {
    /// A client authenticating as `authcid` with `password`. Fails when the user name is
    /// empty or has a control character, or the password contains a NUL (R4616-1).
    pub fn new(authcid: &str, password: impl Into<Secret<Vec<u8>>>) -> Result<Self, SaslError> {
        let authcid = client_name(authcid, "PLAIN authentication identity")?;
        let password = password.into();
        if password.expose_secret().contains(&0) {
            return Err(SaslError::InvalidInput("PLAIN password (NUL inside)"));
        }
        Ok(PlainClient {
            authzid: None,
            authcid,
            password,
            exchange: OneMessageClient::default(),
        })
    }

    /// Asks to act as `authzid` (sent as the first field; an empty one is left out).
    pub fn with_authzid(mut self, authzid: &str) -> Result<Self, SaslError> {
        self.authzid = client_authzid(authzid, "PLAIN authorization identity")?;
        Ok(self)
    }

    fn message(&self) -> Secret<Vec<u8>> {
        let authzid = self.authzid.as_deref().unwrap_or("");
        let pw = self.password.expose_secret();
        let mut msg = Vec::with_capacity(authzid.len() + self.authcid.len() + pw.len() + 2);
        msg.extend_from_slice(authzid.as_bytes());
        msg.push(0);
        msg.extend_from_slice(self.authcid.as_bytes());
        msg.push(0);
        msg.extend_from_slice(pw);
        Secret::new(msg)
    }
}

one_message_client!(PlainClient, "PLAIN", cleartext: true);

/// The server side of `PLAIN` (RFC 4616), checking through
/// [`CredentialStore::check_password`]. Accepts fields of any length (at least the 255
/// octets R4616-1 requires; the server machine's line cap bounds them).
#[derive(Debug, Clone, Default)]
pub struct PlainServer {
    state: OneMessageServer,
}

impl PlainServer {
    /// A fresh exchange.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(message: &[u8], store: &dyn CredentialStore) -> ServerStep {
        let mut fields = message.splitn(3, |&b| b == 0);
        let (Some(authzid), Some(authcid), Some(password)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return ServerStep::Failure(AuthFailure::Malformed(
                "PLAIN needs three NUL-separated fields",
            ));
        };
        if password.contains(&0) {
            return ServerStep::Failure(AuthFailure::Malformed("NUL inside a PLAIN field"));
        }
        let Some(authcid) = parse_name(authcid) else {
            return ServerStep::Failure(AuthFailure::Malformed("PLAIN authentication identity"));
        };
        let authzid = match received_authzid(authzid, "PLAIN authorization identity") {
            Ok(authzid) => authzid,
            Err(failure) => return failure,
        };
        check_password(store, authcid, password, authzid)
    }
}

impl ServerMechanism for PlainServer {
    facts!("PLAIN", cleartext: true);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        self.state
            .step(response, |message| Self::check(message, store))
    }
}

//! `EXTERNAL` (RFC 4422 Appendix A): the identity comes from outside SASL, normally a TLS
//! client certificate (R2595-6, R8314-6); the client only names an authorization identity.

use super::{
    client_authzid, facts, identified, one_message_client, received_authzid, AuthFailure,
    CredentialStore, OneMessageClient, OneMessageServer, SaslError, ServerMechanism, ServerStep,
};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

/// The client side of `EXTERNAL`. Its initial response is the authorization identity, or
/// empty (sent as `=`, R5034-7) to act as whoever the certificate names.
#[derive(Debug, Clone, Default)]
pub struct ExternalClient {
    authzid: Option<String>,
    exchange: OneMessageClient,
}

impl ExternalClient {
    /// A client acting as the identity the external layer established.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks to act as `authzid` (an empty one is left out). Fails on a control character.
    pub fn with_authzid(mut self, authzid: &str) -> Result<Self, SaslError> {
        self.authzid = client_authzid(authzid, "EXTERNAL authorization identity")?;
        Ok(self)
    }

    fn message(&self) -> Secret<Vec<u8>> {
        Secret::new(self.authzid.as_deref().unwrap_or("").as_bytes().to_vec())
    }
}

one_message_client!(ExternalClient, "EXTERNAL", cleartext: false);

/// The server side of `EXTERNAL`: asks [`CredentialStore::external`] for the identity the
/// TLS layer established, then [`CredentialStore::authorize`] for the requested
/// authorization identity.
#[derive(Debug, Clone, Default)]
pub struct ExternalServer {
    state: OneMessageServer,
}

impl ExternalServer {
    /// A fresh exchange.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ServerMechanism for ExternalServer {
    facts!("EXTERNAL", cleartext: false);

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        self.state.step(response, |authzid| {
            let authzid = match received_authzid(authzid, "EXTERNAL authorization identity") {
                Ok(authzid) => authzid,
                Err(failure) => return failure,
            };
            identified(store.external(authzid), store, authzid, || {
                ServerStep::Failure(AuthFailure::BadCredentials)
            })
        })
    }
}

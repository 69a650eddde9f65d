//! The server side of SCRAM (RFC 5802 §5, §7; RFC 7677).

use super::*;

#[derive(Debug, Clone)]
struct Pending {
    gs2_header: Vec<u8>,
    authcid: String,
    authzid: Option<String>,
    client_first_bare: Vec<u8>,
    server_first: Vec<u8>,
    nonce: Vec<u8>,
    credentials: ScramCredentials,
    known_user: bool,
}

#[derive(Debug, Clone)]
enum ServerState {
    Start,
    Waiting,
    SentFirst(Box<Pending>),
    SentFinal(Identity),
    Done,
}

/// The server side of `SCRAM-SHA-1` / `SCRAM-SHA-256`, verifying through
/// [`CredentialStore::scram_credentials`].
///
/// * The server nonce part is supplied by the caller (printable ASCII without `,`; use at
///   least 18 random octets' worth from a CSPRNG).
/// * Channel binding is not supported: a `p=` GS2 flag fails, `y` and `n` are accepted.
///   A mandatory extension (`m=`) fails (RFC 5802 §5.1).
/// * The client proof is checked in constant time. For an unknown user the exchange goes
///   on with made-up credentials and fails at the proof, like a wrong password.
/// * After a valid proof the server signature goes out as a challenge (`v=...`); the
///   client's empty answer completes with [`ServerStep::Success`] (R5034-12).
#[derive(Debug, Clone)]
pub struct ScramServer {
    hash: ScramHash,
    server_nonce: String,
    state: ServerState,
}

impl ScramServer {
    /// An exchange for `hash` that appends `server_nonce` to the client's nonce. Fails when
    /// the nonce is empty or not printable ASCII without `,`.
    pub fn new(hash: ScramHash, server_nonce: &str) -> Result<Self, SaslError> {
        if !valid_nonce(server_nonce.as_bytes()) {
            return Err(SaslError::InvalidInput("SCRAM server nonce"));
        }
        Ok(ScramServer {
            hash,
            server_nonce: String::from(server_nonce),
            state: ServerState::Start,
        })
    }

    fn fake_credentials(&self, user: &str) -> ScramCredentials {
        let label = |what: &[u8]| {
            let mut h = Sha256::new();
            h.update(b"pop3-proto SCRAM unknown user\0");
            h.update(what);
            h.update(self.hash.mechanism_name().as_bytes());
            h.update(user.as_bytes());
            h.finalize()
        };
        let n = self.hash.output_len();
        ScramCredentials {
            salt: label(b"salt").iter().take(16).copied().collect(),
            iterations: 4096,
            stored_key: Secret::new(label(b"stored").iter().take(n).copied().collect()),
            server_key: Secret::new(label(b"server").iter().take(n).copied().collect()),
        }
    }

    fn client_first(
        &self,
        message: &[u8],
        store: &dyn CredentialStore,
    ) -> Result<Pending, AuthFailure> {
        let (authzid, bare) = split_gs2_header(message).map_err(AuthFailure::Malformed)?;
        let header_len = message.len() - bare.len();
        let gs2_header = message.get(..header_len).unwrap_or_default().to_vec();

        let mut attrs = bare.split(|&b| b == b',');
        let user = match attrs.next() {
            Some(a) if a.starts_with(b"m=") => {
                return Err(AuthFailure::Malformed(
                    "SCRAM mandatory extension not supported",
                ))
            }
            Some(a) => a.strip_prefix(b"n="),
            None => None,
        }
        .ok_or(AuthFailure::Malformed("SCRAM client-first needs n="))?;
        let user =
            unescape_saslname(user).ok_or(AuthFailure::Malformed("bad user name escaping"))?;
        let authcid =
            String::from(parse_name(&user).ok_or(AuthFailure::Malformed("bad user name"))?);
        let client_nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"r="))
            .filter(|n| valid_nonce(n))
            .ok_or(AuthFailure::Malformed("SCRAM client-first needs r="))?;

        let n = self.hash.output_len();
        let (credentials, known_user) = match store.scram_credentials(&authcid, self.hash)? {
            Some(c)
                if c.iterations >= 1
                    && c.stored_key.expose_secret().len() == n
                    && c.server_key.expose_secret().len() == n =>
            {
                (c, true)
            }
            Some(_) => return Err(AuthFailure::Unsupported),
            None => (self.fake_credentials(&authcid), false),
        };

        let mut nonce = client_nonce.to_vec();
        nonce.extend_from_slice(self.server_nonce.as_bytes());
        let mut server_first = b"r=".to_vec();
        server_first.extend_from_slice(&nonce);
        server_first.extend_from_slice(b",s=");
        server_first.extend_from_slice(&encode_base64(&credentials.salt));
        server_first.extend_from_slice(b",i=");
        server_first.extend_from_slice(alloc::format!("{}", credentials.iterations).as_bytes());

        Ok(Pending {
            gs2_header,
            authcid,
            authzid,
            client_first_bare: bare.to_vec(),
            server_first,
            nonce,
            credentials,
            known_user,
        })
    }

    fn client_final(
        &self,
        p: &Pending,
        message: &[u8],
        store: &dyn CredentialStore,
    ) -> Result<(Identity, Vec<u8>), AuthFailure> {
        let at = message
            .windows(3)
            .rposition(|w| w == b",p=")
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs p= last"))?;
        let (without_proof, proof) = message.split_at(at);
        let proof = proof.get(3..).unwrap_or_default();
        let mut attrs = without_proof.split(|&b| b == b',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"c="))
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs c="))?;
        if binding != encode_base64(&p.gs2_header).as_slice() {
            return Err(AuthFailure::Malformed(
                "SCRAM channel binding data does not match",
            ));
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix(b"r="))
            .ok_or(AuthFailure::Malformed("SCRAM client-final needs r="))?;
        if nonce != p.nonce.as_slice() {
            return Err(AuthFailure::Malformed("SCRAM nonce mismatch"));
        }
        let proof =
            decode_base64(proof).map_err(|_| AuthFailure::Malformed("SCRAM proof base64"))?;
        let hash = self.hash;
        if proof.len() != hash.output_len() {
            return Err(AuthFailure::Malformed("SCRAM proof length"));
        }
        let auth_message: [&[u8]; 5] = [
            &p.client_first_bare,
            b",",
            &p.server_first,
            b",",
            without_proof,
        ];
        let stored_key = p.credentials.stored_key.expose_secret();
        let client_signature = hash.hmac(stored_key, &auth_message);
        let client_key = Secret::new(xor(&proof, &client_signature));
        let computed = hash.h(client_key.expose_secret());
        let matches = computed.as_slice().ct_eq(stored_key.as_slice());
        if !(bool::from(matches) && p.known_user) {
            return Err(AuthFailure::BadCredentials);
        }
        let identity = match authorize(store, &p.authcid, p.authzid.as_deref()) {
            ServerStep::Success(identity) => identity,
            ServerStep::Failure(f) => return Err(f),
            ServerStep::Challenge(_) => return Err(AuthFailure::NotAuthorized),
        };
        let signature = hash.hmac(p.credentials.server_key.expose_secret(), &auth_message);
        let mut server_final = b"v=".to_vec();
        server_final.extend_from_slice(&encode_base64(&signature));
        Ok((identity, server_final))
    }
}

impl ServerMechanism for ScramServer {
    fn name(&self) -> &str {
        self.hash.mechanism_name()
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn step(&mut self, response: Option<&[u8]>, store: &dyn CredentialStore) -> ServerStep {
        let state = core::mem::replace(&mut self.state, ServerState::Done);
        match (state, response) {
            (ServerState::Start, None) => {
                self.state = ServerState::Waiting;
                ServerStep::Challenge(Vec::new())
            }
            (ServerState::Start | ServerState::Waiting, Some(message)) => {
                match self.client_first(message, store) {
                    Ok(pending) => {
                        let challenge = pending.server_first.clone();
                        self.state = ServerState::SentFirst(Box::new(pending));
                        ServerStep::Challenge(challenge)
                    }
                    Err(f) => ServerStep::Failure(f),
                }
            }
            (ServerState::SentFirst(pending), Some(message)) => {
                match self.client_final(&pending, message, store) {
                    Ok((identity, server_final)) => {
                        self.state = ServerState::SentFinal(identity);
                        ServerStep::Challenge(server_final)
                    }
                    Err(f) => ServerStep::Failure(f),
                }
            }
            (ServerState::SentFinal(identity), None) => ServerStep::Success(identity),
            (ServerState::SentFinal(identity), Some([])) => ServerStep::Success(identity),
            (ServerState::SentFinal(_), Some(_)) => ServerStep::Failure(AuthFailure::Malformed(
                "SCRAM expects an empty response after the server-final message",
            )),
            (ServerState::Waiting | ServerState::SentFirst(_), None) | (ServerState::Done, _) => {
                SPENT
            }
        }
    }
}

//! The client side of SCRAM (RFC 5802 §5, §7; RFC 7677).

use super::*;

#[derive(Debug, Clone)]
enum ClientState {
    Start,
    SentFirst,
    SentFinal { server_signature: Vec<u8> },
    Verified,
    Failed,
}

/// The client side of `SCRAM-SHA-1` / `SCRAM-SHA-256`: mutual authentication without
/// sending the password.
///
/// * The client nonce is supplied by the caller (printable ASCII without `,`; use at least
///   18 random octets' worth, e.g. 24 base64 characters from a CSPRNG).
/// * The server's iteration count must lie within the client's bounds (default 4096 ..=
///   1,000,000, see [`with_iteration_bounds`](Self::with_iteration_bounds)).
/// * The server signature is checked in constant time; a wrong one is an error, and
///   [`finish`](ClientMechanism::finish) fails unless it was verified.
/// * SASLprep: user names and passwords with ASCII control characters are refused (SASLprep
///   prohibits them); other characters are sent as their UTF-8 octets, unnormalised. That
///   is exact SASLprep for ASCII and for text already in NFKC without mapped characters;
///   other non-ASCII passwords may not match a server that normalises.
///   `=` and `,` in the user name are escaped as `=3D` and `=2C`.
///
/// ```
/// use pop3_proto::sasl::{ClientMechanism, ScramClient, ScramHash};
/// // RFC 7677 §3
/// let mut c = ScramClient::new(ScramHash::Sha256, "user", b"pencil".to_vec(), "rOprNGfwEbeRWgbNEkqO")?;
/// assert_eq!(c.initial_response()?.unwrap().expose_secret(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
/// let last = c.respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")?;
/// assert!(last.expose_secret().ends_with(b",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
/// assert!(c.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")?.expose_secret().is_empty());
/// c.finish()?;
/// # Ok::<(), pop3_proto::sasl::SaslError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScramClient {
    hash: ScramHash,
    password: Secret<Vec<u8>>,
    client_nonce: String,
    gs2_header: String,
    client_first_bare: String,
    min_iterations: u32,
    max_iterations: u32,
    state: ClientState,
}

impl ScramClient {
    /// The default lowest iteration count accepted (RFC 5802, RFC 7677: servers SHOULD
    /// announce at least 4096).
    pub const DEFAULT_MIN_ITERATIONS: u32 = 4096;
    /// The default highest iteration count accepted (RFC 5802 §9: a hostile server can
    /// burn client CPU with a big count).
    pub const DEFAULT_MAX_ITERATIONS: u32 = 1_000_000;

    /// A client for `hash` authenticating as `user` with `password` and `client_nonce`.
    /// Fails on an empty user name, control characters in the user name or password, or a
    /// nonce outside printable ASCII / containing `,`.
    pub fn new(
        hash: ScramHash,
        user: &str,
        password: impl Into<Secret<Vec<u8>>>,
        client_nonce: &str,
    ) -> Result<Self, SaslError> {
        let password = password.into();
        if !valid_name(user) {
            return Err(SaslError::InvalidInput("SCRAM user name"));
        }
        if password
            .expose_secret()
            .iter()
            .any(|&b| b < 0x20 || b == 0x7f)
        {
            return Err(SaslError::InvalidInput(
                "SCRAM password (control character)",
            ));
        }
        if !valid_nonce(client_nonce.as_bytes()) {
            return Err(SaslError::InvalidInput("SCRAM client nonce"));
        }
        let mut bare = String::from("n=");
        bare.push_str(&escape_saslname(user));
        bare.push_str(",r=");
        bare.push_str(client_nonce);
        Ok(ScramClient {
            hash,
            password,
            client_nonce: String::from(client_nonce),
            gs2_header: String::from("n,,"),
            client_first_bare: bare,
            min_iterations: Self::DEFAULT_MIN_ITERATIONS,
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
            state: ClientState::Start,
        })
    }

    /// Asks to act as `authzid` (GS2 `a=`; an empty one is left out).
    pub fn with_authzid(mut self, authzid: &str) -> Result<Self, SaslError> {
        if authzid.is_empty() {
            self.gs2_header = String::from("n,,");
            return Ok(self);
        }
        if !valid_name(authzid) {
            return Err(SaslError::InvalidInput("SCRAM authorization identity"));
        }
        let mut h = String::from("n,a=");
        h.push_str(&escape_saslname(authzid));
        h.push(',');
        self.gs2_header = h;
        Ok(self)
    }

    /// Sets the range of server iteration counts the client accepts.
    pub fn with_iteration_bounds(mut self, min: u32, max: u32) -> Self {
        self.min_iterations = min.max(1);
        self.max_iterations = max;
        self
    }

    fn client_first(&mut self) -> Secret<Vec<u8>> {
        self.state = ClientState::SentFirst;
        let mut m = Vec::with_capacity(self.gs2_header.len() + self.client_first_bare.len());
        m.extend_from_slice(self.gs2_header.as_bytes());
        m.extend_from_slice(self.client_first_bare.as_bytes());
        Secret::new(m)
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let text = core::str::from_utf8(server_first)
            .map_err(|_| SaslError::MalformedChallenge("SCRAM server-first is not UTF-8"))?;
        let mut attrs = text.split(',');
        let nonce = match attrs.next() {
            Some(a) if a.starts_with("m=") => {
                return Err(SaslError::MalformedChallenge(
                    "SCRAM mandatory extension not supported",
                ))
            }
            Some(a) => a.strip_prefix("r="),
            None => None,
        }
        .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs r="))?;
        let salt = attrs
            .next()
            .and_then(|a| a.strip_prefix("s="))
            .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs s="))?;
        let iterations = attrs
            .next()
            .and_then(|a| a.strip_prefix("i="))
            .ok_or(SaslError::MalformedChallenge("SCRAM server-first needs i="))?;

        if !(nonce.len() > self.client_nonce.len()
            && nonce.starts_with(self.client_nonce.as_str())
            && valid_nonce(nonce.as_bytes()))
        {
            return Err(SaslError::MalformedChallenge(
                "SCRAM server nonce does not extend the client nonce",
            ));
        }
        let salt = decode_base64(salt.as_bytes())?;
        if salt.is_empty() {
            return Err(SaslError::MalformedChallenge("SCRAM salt is empty"));
        }
        if !iterations.starts_with(|c: char| ('1'..='9').contains(&c))
            || !iterations.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SaslError::MalformedChallenge("SCRAM iteration count"));
        }
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| SaslError::IterationCount(u32::MAX))?;
        if iterations < self.min_iterations || iterations > self.max_iterations {
            return Err(SaslError::IterationCount(iterations));
        }

        let hash = self.hash;
        let salted = hash.hi(self.password.expose_secret(), &salt, iterations);
        let client_key = Secret::new(hash.hmac(salted.expose_secret(), &[b"Client Key"]));
        let stored_key = Secret::new(hash.h(client_key.expose_secret()));
        let server_key = Secret::new(hash.hmac(salted.expose_secret(), &[b"Server Key"]));

        let mut without_proof = String::from("c=");
        without_proof.push_str(&STANDARD.encode(self.gs2_header.as_bytes()));
        without_proof.push_str(",r=");
        without_proof.push_str(nonce);

        let auth_message: [&[u8]; 5] = [
            self.client_first_bare.as_bytes(),
            b",",
            server_first,
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = hash.hmac(stored_key.expose_secret(), &auth_message);
        let proof = Secret::new(xor(client_key.expose_secret(), &client_signature));
        let server_signature = hash.hmac(server_key.expose_secret(), &auth_message);

        let mut out = without_proof.into_bytes();
        out.extend_from_slice(b",p=");
        out.extend_from_slice(&encode_base64(proof.expose_secret()));
        self.state = ClientState::SentFinal { server_signature };
        Ok(Secret::new(out))
    }

    fn verify_server(&self, server_final: &[u8], expected: &[u8]) -> Result<(), SaslError> {
        let first = server_final
            .split(|&b| b == b',')
            .next()
            .unwrap_or_default();
        if let Some(reason) = first.strip_prefix(b"e=") {
            let reason: String = reason
                .iter()
                .take(64)
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        char::from(b)
                    } else {
                        '?'
                    }
                })
                .collect();
            return Err(SaslError::ServerError(reason));
        }
        let signature = first
            .strip_prefix(b"v=")
            .ok_or(SaslError::MalformedChallenge(
                "SCRAM server-final needs v= or e=",
            ))?;
        let signature = decode_base64(signature)?;
        if bool::from(signature.as_slice().ct_eq(expected)) {
            Ok(())
        } else {
            Err(SaslError::ServerSignatureMismatch)
        }
    }
}

impl ClientMechanism for ScramClient {
    fn name(&self) -> &str {
        self.hash.mechanism_name()
    }

    fn is_cleartext(&self) -> bool {
        false
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        match self.state {
            ClientState::Start => Ok(Some(self.client_first())),
            _ => Err(SaslError::UnexpectedChallenge),
        }
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let state = core::mem::replace(&mut self.state, ClientState::Failed);
        match state {
            ClientState::Start if challenge.is_empty() => Ok(self.client_first()),
            ClientState::Start => Err(SaslError::MalformedChallenge(
                "SCRAM challenge before the client-first message",
            )),
            ClientState::SentFirst => self.client_final(challenge),
            ClientState::SentFinal { server_signature } => {
                self.verify_server(challenge, &server_signature)?;
                self.state = ClientState::Verified;
                Ok(Secret::new(Vec::new()))
            }
            ClientState::Verified | ClientState::Failed => Err(SaslError::UnexpectedChallenge),
        }
    }

    fn finish(&mut self) -> Result<(), SaslError> {
        match self.state {
            ClientState::Verified => Ok(()),
            _ => Err(SaslError::Incomplete),
        }
    }
}

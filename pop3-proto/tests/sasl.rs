//! SASL mechanisms: RFC vectors (TV-6, TV-7, RFC 5802 §5, RFC 7677 §3), every mechanism's
//! client against its server in memory, hostile input, mechanism choice, redaction.

use pop3_proto::apop::Timestamp;
use pop3_proto::sasl::*;
use pop3_proto::secret::Secret;

// ---------------------------------------------------------------------------------------
// A tiny in-memory exchange loop: what the two state machines will do, base64 included.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
enum Outcome {
    Success(Identity),
    Failure(AuthFailure),
    ClientAbort(SaslError),
}

/// Wire lines, as the state machines would write them (without CRLF, `AUTH` prefix left out).
#[derive(Debug, Default)]
struct Transcript {
    client: Vec<Vec<u8>>,
    server: Vec<Vec<u8>>,
}

fn wire(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let line = encode_base64(data);
    let back = decode_base64(&line).expect("our own base64 decodes");
    assert_eq!(back, data);
    (line, back)
}

fn run(
    client: &mut dyn ClientMechanism,
    server: &mut dyn ServerMechanism,
    store: &dyn CredentialStore,
) -> (Outcome, Transcript) {
    assert_eq!(client.name(), server.name());
    let mut t = Transcript::default();
    let mut pending_ir = None;
    let first = match client.initial_response() {
        Ok(Some(ir)) if !client.separate_initial_response() => {
            let (line, raw) = wire(ir.expose_secret());
            t.client
                .push(if line.is_empty() { b"=".to_vec() } else { line });
            Some(raw)
        }
        Ok(Some(ir)) => {
            pending_ir = Some(ir);
            None
        }
        Ok(None) => None,
        Err(e) => return (Outcome::ClientAbort(e), t),
    };
    let mut step = server.step(first.as_deref(), store);
    for _ in 0..10 {
        match step {
            ServerStep::Challenge(c) => {
                let (line, c) = wire(&c);
                t.server.push(line);
                let r = match pending_ir.take() {
                    Some(ir) => {
                        assert!(c.is_empty(), "two-step form expects an empty challenge");
                        ir
                    }
                    None => match client.respond(&c) {
                        Ok(r) => r,
                        Err(e) => return (Outcome::ClientAbort(e), t),
                    },
                };
                let (line, r) = wire(r.expose_secret());
                t.client.push(line);
                step = server.step(Some(&r), store);
            }
            ServerStep::Success(id) => {
                return match client.finish() {
                    Ok(()) => (Outcome::Success(id), t),
                    Err(e) => (Outcome::ClientAbort(e), t),
                }
            }
            ServerStep::Failure(f) => return (Outcome::Failure(f), t),
        }
    }
    panic!("exchange did not end");
}

fn success(o: Outcome) -> Identity {
    match o {
        Outcome::Success(id) => id,
        other => panic!("expected success, got {other:?}"),
    }
}

fn failure(o: Outcome) -> AuthFailure {
    match o {
        Outcome::Failure(f) => f,
        other => panic!("expected failure, got {other:?}"),
    }
}

fn store() -> MemoryStore {
    MemoryStore::new()
        .with_user("alice", b"wonderland".to_vec())
        .with_user("user", b"pencil".to_vec())
        .with_user("a=b,c", b"commas".to_vec())
        .with_token("alice@example.com", b"good-token".to_vec())
}

fn cram_challenge() -> Timestamp {
    Timestamp::new(1896, 697170952, "postoffice.example.net").unwrap()
}

type Pair = (Box<dyn ClientMechanism>, Box<dyn ServerMechanism>);

/// One client/server pair per mechanism with the given password (or token).
fn pairs(secret: &[u8]) -> Vec<Pair> {
    vec![
        (
            Box::new(PlainClient::new("alice", secret.to_vec()).unwrap()),
            Box::new(PlainServer::new()),
        ),
        (
            Box::new(LoginClient::new("alice", secret.to_vec()).unwrap()),
            Box::new(LoginServer::new()),
        ),
        (
            Box::new(CramMd5Client::new("alice", secret.to_vec()).unwrap()),
            Box::new(CramMd5Server::new(cram_challenge())),
        ),
        (
            Box::new(
                ScramClient::new(ScramHash::Sha1, "alice", secret.to_vec(), "clientnonce1")
                    .unwrap(),
            ),
            Box::new(ScramServer::new(ScramHash::Sha1, "servernonce1").unwrap()),
        ),
        (
            Box::new(
                ScramClient::new(ScramHash::Sha256, "alice", secret.to_vec(), "clientnonce2")
                    .unwrap(),
            ),
            Box::new(ScramServer::new(ScramHash::Sha256, "servernonce2").unwrap()),
        ),
    ]
}

fn token_pairs(token: &[u8]) -> Vec<Pair> {
    vec![
        (
            Box::new(XOAuth2Client::new("alice@example.com", token.to_vec()).unwrap()),
            Box::new(XOAuth2Server::new()),
        ),
        (
            Box::new(
                XOAuth2Client::new("alice@example.com", token.to_vec())
                    .unwrap()
                    .force_two_step(),
            ),
            Box::new(XOAuth2Server::new()),
        ),
        (
            Box::new(
                OAuthBearerClient::new("alice@example.com", token.to_vec())
                    .unwrap()
                    .with_host("pop.example.com")
                    .unwrap()
                    .with_port(995),
            ),
            Box::new(OAuthBearerServer::new()),
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// Base64 (R5034-10)
// ---------------------------------------------------------------------------------------

#[test]
fn r5034_10_base64_rejects_misplaced_padding_and_foreign_characters() {
    for bad in [
        &b"=AAA"[..],
        b"AAA=BBB",
        b"AAA=BBBB",
        b"AA",
        b"AAA",
        b"A===",
        b"====",
        b"*",
        b"=",
        b"AA==AA==",
        b"AB==", // non-zero padding bits
        b"AAAA\r\n",
        b"AA AA",
        b"AA-_",
        b"AAA\x00",
        b"\xc3\xa9AA",
    ] {
        assert_eq!(
            decode_base64(bad),
            Err(SaslError::InvalidBase64),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn r5034_17_base64_accepts_padding_at_the_end_and_empty_lines() {
    assert_eq!(decode_base64(b"").unwrap(), b"");
    assert_eq!(decode_base64(b"AA==").unwrap(), b"\0");
    assert_eq!(decode_base64(b"AAA=").unwrap(), b"\0\0");
    assert_eq!(decode_base64(b"AAAA").unwrap(), b"\0\0\0");
    assert_eq!(decode_base64(b"AQ==").unwrap(), b"\x01");
    assert_eq!(encode_base64(b""), b"");
    assert_eq!(encode_base64(b"\x01"), b"AQ==");
}

// ---------------------------------------------------------------------------------------
// TV-6: PLAIN (RFC 5034 §6)
// ---------------------------------------------------------------------------------------

#[test]
fn tv6_plain_initial_response_vector() {
    let mut c = PlainClient::new("test", b"test".to_vec())
        .unwrap()
        .with_authzid("test")
        .unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(ir.expose_secret(), b"test\0test\0test");
    assert_eq!(encode_base64(ir.expose_secret()), b"dGVzdAB0ZXN0AHRlc3Q=");

    let s = MemoryStore::new().with_user("test", b"test".to_vec());
    let raw = decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=").unwrap();
    assert_eq!(raw, b"test\0test\0test");
    let id = match PlainServer::new().step(Some(&raw), &s) {
        ServerStep::Success(id) => id,
        other => panic!("{other:?}"),
    };
    // authzid equal to authcid is not a separate authorization identity.
    assert_eq!(
        id,
        Identity {
            authcid: "test".into(),
            authzid: None
        }
    );
}

#[test]
fn tv6_plain_without_initial_response_gets_empty_challenge() {
    let s = MemoryStore::new().with_user("test", b"test".to_vec());
    let mut server = PlainServer::new();
    assert_eq!(server.step(None, &s), ServerStep::Challenge(vec![]));
    let raw = decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=").unwrap();
    assert!(matches!(
        server.step(Some(&raw), &s),
        ServerStep::Success(_)
    ));
    // Spent afterwards.
    assert!(matches!(
        server.step(Some(&raw), &s),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));

    // A client whose machine skipped initial_response answers the empty challenge with it.
    let mut c = PlainClient::new("test", b"test".to_vec()).unwrap();
    assert_eq!(c.respond(b"").unwrap().expose_secret(), b"\0test\0test");
    assert!(c.respond(b"").is_err());
}

#[test]
fn r4616_1_plain_fields_up_to_255_octets_and_no_nul() {
    let long_user = "u".repeat(255);
    let long_pw = vec![b'p'; 255];
    let s = MemoryStore::new().with_user(&long_user, long_pw.clone());
    let mut c = PlainClient::new(&long_user, long_pw)
        .unwrap()
        .with_authzid(&long_user)
        .unwrap();
    success(run(&mut c, &mut PlainServer::new(), &s).0);

    assert!(PlainClient::new("a\0b", b"x".to_vec()).is_err());
    assert!(PlainClient::new("ab", b"x\0y".to_vec()).is_err());
    assert!(PlainClient::new("", b"x".to_vec()).is_err());
    for bad in [
        &b"a\0b"[..],
        b"\0\0pw",
        b"\0alice\0wonderland\0",
        b"",
        b"\0al\x01ice\0wonderland",
        b"\0\xff\0wonderland",
    ] {
        let f = match PlainServer::new().step(Some(bad), &store()) {
            ServerStep::Failure(f) => f,
            other => panic!("{other:?}"),
        };
        assert!(matches!(f, AuthFailure::Malformed(_)), "{bad:?}: {f:?}");
    }
}

#[test]
fn plain_authzid_needs_authorization() {
    let mut c = PlainClient::new("alice", b"wonderland".to_vec())
        .unwrap()
        .with_authzid("user")
        .unwrap();
    assert_eq!(
        failure(run(&mut c, &mut PlainServer::new(), &store()).0),
        AuthFailure::NotAuthorized
    );

    struct Admin(MemoryStore);
    impl CredentialStore for Admin {
        fn password(&self, user: &str) -> Result<Option<Secret<Vec<u8>>>, StoreError> {
            self.0.password(user)
        }
        fn authorize(&self, authcid: &str, authzid: Option<&str>) -> Result<bool, StoreError> {
            Ok(authcid == "alice" || authzid.is_none())
        }
    }
    let mut c = PlainClient::new("alice", b"wonderland".to_vec())
        .unwrap()
        .with_authzid("user")
        .unwrap();
    let id = success(run(&mut c, &mut PlainServer::new(), &Admin(store())).0);
    assert_eq!(id.authcid, "alice");
    assert_eq!(id.authzid.as_deref(), Some("user"));
    assert_eq!(id.user(), "user");
}

// ---------------------------------------------------------------------------------------
// Every mechanism, client against server
// ---------------------------------------------------------------------------------------

#[test]
fn every_password_mechanism_succeeds_with_the_right_password() {
    for (mut c, mut s) in pairs(b"wonderland") {
        let name = c.name().to_owned();
        let (outcome, t) = run(c.as_mut(), s.as_mut(), &store());
        let id = success(outcome);
        assert_eq!(id.user(), "alice", "{name}");
        assert!(!t.client.is_empty(), "{name}");
    }
}

#[test]
fn every_password_mechanism_fails_with_a_wrong_password() {
    for (mut c, mut s) in pairs(b"looking-glass") {
        let name = c.name().to_owned();
        let f = failure(run(c.as_mut(), s.as_mut(), &store()).0);
        assert_eq!(f, AuthFailure::BadCredentials, "{name}");
        assert_eq!(f.response_code(), Some("AUTH"));
    }
}

#[test]
fn every_password_mechanism_fails_for_an_unknown_user() {
    let empty = MemoryStore::new();
    for (mut c, mut s) in pairs(b"wonderland") {
        let name = c.name().to_owned();
        let f = failure(run(c.as_mut(), s.as_mut(), &empty).0);
        assert_eq!(f, AuthFailure::BadCredentials, "{name}");
    }
}

#[test]
fn every_bearer_mechanism_succeeds_with_a_good_token_and_fails_with_a_bad_one() {
    for (mut c, mut s) in token_pairs(b"good-token") {
        let name = c.name().to_owned();
        let (outcome, t) = run(c.as_mut(), s.as_mut(), &store());
        assert_eq!(success(outcome).user(), "alice@example.com", "{name}");
        if c.separate_initial_response() {
            assert_eq!(t.server.first().map(Vec::as_slice), Some(&b""[..]), "XO-2");
        }
    }
    for (mut c, mut s) in token_pairs(b"bad-token") {
        let name = c.name().to_owned();
        let (outcome, t) = run(c.as_mut(), s.as_mut(), &store());
        assert_eq!(failure(outcome), AuthFailure::BadCredentials, "{name}");
        // The error challenge went out and the client answered it.
        assert!(c.server_error().is_some(), "{name}");
        let answer = t.client.last().unwrap();
        match name.as_str() {
            "OAUTHBEARER" => assert_eq!(answer, b"AQ=="),
            _ => assert_eq!(answer, b""), // IMPL-11
        }
    }
}

#[test]
fn r5034_11_an_8_kib_oauth_token_works() {
    let token: Vec<u8> = (0..8192)
        .map(|i| b"ABCDEFGHabcdefgh0123456789-._~+/"[i % 32])
        .collect();
    let s = MemoryStore::new().with_token("alice@example.com", token.clone());
    for (mut c, mut srv) in token_pairs(&token) {
        let name = c.name().to_owned();
        let (outcome, t) = run(c.as_mut(), srv.as_mut(), &s);
        success(outcome);
        assert!(t.client.iter().any(|l| l.len() > 10_000), "{name}");
    }
}

#[test]
fn external_uses_the_tls_identity() {
    let s = MemoryStore::new().with_external_identity("alice");
    let (o, t) = run(&mut ExternalClient::new(), &mut ExternalServer::new(), &s);
    assert_eq!(success(o).user(), "alice");
    assert_eq!(
        t.client,
        vec![b"=".to_vec()],
        "E-16: empty initial response is ="
    );

    let mut c = ExternalClient::new().with_authzid("alice").unwrap();
    assert_eq!(
        success(run(&mut c, &mut ExternalServer::new(), &s).0).authzid,
        None
    );

    let mut c = ExternalClient::new().with_authzid("bob").unwrap();
    assert_eq!(
        failure(run(&mut c, &mut ExternalServer::new(), &s).0),
        AuthFailure::NotAuthorized
    );
    // No certificate identity.
    assert_eq!(
        failure(
            run(
                &mut ExternalClient::new(),
                &mut ExternalServer::new(),
                &store()
            )
            .0
        ),
        AuthFailure::BadCredentials
    );
}

#[test]
fn store_failures_map_to_response_codes() {
    struct Down;
    impl CredentialStore for Down {
        fn check_password(&self, _: &str, _: &[u8]) -> Result<bool, StoreError> {
            Err(StoreError::Unavailable)
        }
        fn password(&self, _: &str) -> Result<Option<Secret<Vec<u8>>>, StoreError> {
            Err(StoreError::Unavailable)
        }
        fn scram_credentials(
            &self,
            _: &str,
            _: ScramHash,
        ) -> Result<Option<ScramCredentials>, StoreError> {
            Err(StoreError::Unavailable)
        }
    }
    for (mut c, mut s) in pairs(b"wonderland") {
        let f = failure(run(c.as_mut(), s.as_mut(), &Down).0);
        assert_eq!(f, AuthFailure::Temporary, "{}", c.name());
        assert_eq!(f.response_code(), Some("SYS/TEMP"));
    }
    // A store with nothing at all: every mechanism is unsupported.
    struct Nothing;
    impl CredentialStore for Nothing {}
    for (mut c, mut s) in pairs(b"wonderland")
        .into_iter()
        .chain(token_pairs(b"good-token"))
    {
        let f = failure(run(c.as_mut(), s.as_mut(), &Nothing).0);
        assert_eq!(f, AuthFailure::Unsupported, "{}", c.name());
        assert_eq!(f.response_code(), Some("SYS/PERM"));
    }
}

// ---------------------------------------------------------------------------------------
// LOGIN and CRAM-MD5 details
// ---------------------------------------------------------------------------------------

#[test]
fn login_prompts_username_then_password() {
    let (o, t) = run(
        &mut LoginClient::new("alice", b"wonderland".to_vec()).unwrap(),
        &mut LoginServer::new(),
        &store(),
    );
    success(o);
    assert_eq!(
        t.server,
        vec![encode_base64(b"Username:"), encode_base64(b"Password:")]
    );
    assert_eq!(
        t.client,
        vec![encode_base64(b"alice"), encode_base64(b"wonderland")]
    );
    // De-facto initial response = user name.
    let mut s = LoginServer::new();
    assert_eq!(
        s.step(Some(b"alice"), &store()),
        ServerStep::Challenge(b"Password:".to_vec())
    );
    assert!(matches!(
        s.step(Some(b"wonderland"), &store()),
        ServerStep::Success(_)
    ));
    let mut c = LoginClient::new("alice", b"pw".to_vec()).unwrap();
    c.respond(b"Username:").unwrap();
    c.respond(b"Password:").unwrap();
    assert_eq!(
        c.respond(b"More:").err(),
        Some(SaslError::UnexpectedChallenge)
    );
}

#[test]
fn cram_md5_rfc2195_vector_and_r5034_9() {
    let ts = Timestamp::parse(b"<1896.697170952@postoffice.reston.mci.net>").unwrap();
    let s = MemoryStore::new().with_user("tim", b"tanstaaftanstaaf".to_vec());
    let mut server = CramMd5Server::new(ts.clone());
    assert_eq!(
        server.step(None, &s),
        ServerStep::Challenge(ts.as_bytes().to_vec())
    );
    assert_eq!(
        encode_base64(ts.as_bytes()),
        b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
    );
    let r = decode_base64(b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw").unwrap();
    assert_eq!(r, b"tim b913a602c7eda7a495b4e6e7334d3890");
    assert!(matches!(server.step(Some(&r), &s), ServerStep::Success(_)));
    // Upper-case hex is the same digest.
    let mut server = CramMd5Server::new(ts.clone());
    server.step(None, &s);
    assert!(matches!(
        server.step(Some(b"tim B913A602C7EDA7A495B4E6E7334D3890"), &s),
        ServerStep::Success(_)
    ));
    // An initial response to CRAM-MD5 is refused (R5034-9).
    assert!(matches!(
        CramMd5Server::new(ts).step(Some(b"tim"), &s),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));
    // Client refuses an empty challenge.
    let mut c = CramMd5Client::new("tim", b"x".to_vec()).unwrap();
    assert!(c.respond(b"").is_err());
}

// ---------------------------------------------------------------------------------------
// SCRAM: RFC vectors from both sides
// ---------------------------------------------------------------------------------------

struct FixedScram(ScramCredentials);
impl CredentialStore for FixedScram {
    fn scram_credentials(
        &self,
        user: &str,
        _hash: ScramHash,
    ) -> Result<Option<ScramCredentials>, StoreError> {
        Ok((user == "user").then(|| self.0.clone()))
    }
}

struct ScramVector {
    hash: ScramHash,
    client_nonce: &'static str,
    server_nonce: &'static str,
    salt_b64: &'static [u8],
    server_first: &'static [u8],
    client_final: &'static [u8],
    server_final: &'static [u8],
}

const RFC5802: ScramVector = ScramVector {
    hash: ScramHash::Sha1,
    client_nonce: "fyko+d2lbbFgONRv9qkxdawL",
    server_nonce: "3rfcNHYJY1ZVvWVs7j",
    salt_b64: b"QSXCR+Q6sek8bf92",
    server_first: b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    client_final:
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    server_final: b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

const RFC7677: ScramVector = ScramVector {
    hash: ScramHash::Sha256,
    client_nonce: "rOprNGfwEbeRWgbNEkqO",
    server_nonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    salt_b64: b"W22ZaJ0SNY7soEsUEjb6gQ==",
    server_first: b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    client_final: b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    server_final: b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

fn scram_vector_client(v: &ScramVector) {
    let mut c = ScramClient::new(v.hash, "user", b"pencil".to_vec(), v.client_nonce).unwrap();
    assert_eq!(c.name(), v.hash.mechanism_name());
    let first = c.initial_response().unwrap().unwrap();
    assert_eq!(
        first.expose_secret(),
        format!("n,,n=user,r={}", v.client_nonce).as_bytes()
    );
    assert_eq!(c.finish(), Err(SaslError::Incomplete));
    let fin = c.respond(v.server_first).unwrap();
    assert_eq!(fin.expose_secret(), v.client_final);
    assert_eq!(c.finish(), Err(SaslError::Incomplete));
    assert_eq!(c.respond(v.server_final).unwrap().expose_secret(), b"");
    assert_eq!(c.finish(), Ok(()));
    assert!(c.respond(b"").is_err());
}

fn scram_vector_server(v: &ScramVector) {
    let salt = decode_base64(v.salt_b64).unwrap();
    let creds = ScramCredentials::derive(b"pencil", &salt, 4096, v.hash);
    let store = FixedScram(creds);
    let mut s = ScramServer::new(v.hash, v.server_nonce).unwrap();
    let first = format!("n,,n=user,r={}", v.client_nonce);
    assert_eq!(
        s.step(Some(first.as_bytes()), &store),
        ServerStep::Challenge(v.server_first.to_vec())
    );
    assert_eq!(
        s.step(Some(v.client_final), &store),
        ServerStep::Challenge(v.server_final.to_vec())
    );
    assert_eq!(
        s.step(Some(b""), &store),
        ServerStep::Success(Identity {
            authcid: "user".into(),
            authzid: None
        })
    );
}

#[test]
fn rfc5802_scram_sha1_vector_client_side() {
    scram_vector_client(&RFC5802);
}

#[test]
fn rfc5802_scram_sha1_vector_server_side() {
    scram_vector_server(&RFC5802);
}

#[test]
fn rfc7677_scram_sha256_vector_client_side() {
    scram_vector_client(&RFC7677);
}

#[test]
fn rfc7677_scram_sha256_vector_server_side() {
    scram_vector_server(&RFC7677);
}

#[test]
fn scram_client_refuses_a_wrong_server_signature_and_a_missing_one() {
    for v in [&RFC5802, &RFC7677] {
        let mut c = ScramClient::new(v.hash, "user", b"pencil".to_vec(), v.client_nonce).unwrap();
        c.initial_response().unwrap();
        c.respond(v.server_first).unwrap();
        let mut bad = v.server_final.to_vec();
        bad[3] ^= 1;
        assert_eq!(
            c.respond(&bad).err(),
            Some(SaslError::ServerSignatureMismatch)
        );
        assert_eq!(c.finish(), Err(SaslError::Incomplete));

        // The server says e=... instead.
        let mut c = ScramClient::new(v.hash, "user", b"pencil".to_vec(), v.client_nonce).unwrap();
        c.initial_response().unwrap();
        c.respond(v.server_first).unwrap();
        assert_eq!(
            c.respond(b"e=invalid-proof").err(),
            Some(SaslError::ServerError("invalid-proof".into()))
        );
    }
}

#[test]
fn scram_server_refuses_a_wrong_proof_and_tampering() {
    let v = &RFC7677;
    let salt = decode_base64(v.salt_b64).unwrap();
    let store = FixedScram(ScramCredentials::derive(b"pencil", &salt, 4096, v.hash));
    let first = format!("n,,n=user,r={}", v.client_nonce);
    let tamper = |final_msg: &[u8]| {
        let mut s = ScramServer::new(v.hash, v.server_nonce).unwrap();
        s.step(Some(first.as_bytes()), &store);
        s.step(Some(final_msg), &store)
    };
    let mut wrong_proof = v.client_final.to_vec();
    let n = wrong_proof.len();
    wrong_proof[n - 5] = if wrong_proof[n - 5] == b'A' {
        b'B'
    } else {
        b'A'
    };
    assert_eq!(
        tamper(&wrong_proof),
        ServerStep::Failure(AuthFailure::BadCredentials)
    );
    let other_nonce = std::str::from_utf8(v.client_final)
        .unwrap()
        .replace("k0,p=", "k1,p=");
    assert!(matches!(
        tamper(other_nonce.as_bytes()),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));
    let other_binding = std::str::from_utf8(v.client_final)
        .unwrap()
        .replace("c=biws", "c=eSws");
    assert!(matches!(
        tamper(other_binding.as_bytes()),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));
    assert!(matches!(
        tamper(b"c=biws"),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));

    // Client-first problems.
    for bad in [
        &b"p=tls-unique,,n=user,r=abc"[..],
        b"x,,n=user,r=abc",
        b"n,,m=ext,n=user,r=abc",
        b"n,,n=us=er,r=abc",
        b"n,,n=user",
        b"n,,n=user,r=",
        b"n,a,n=user,r=abc",
        b"n,,n=,r=abc",
        b"",
    ] {
        let mut s = ScramServer::new(v.hash, v.server_nonce).unwrap();
        assert!(
            matches!(
                s.step(Some(bad), &store),
                ServerStep::Failure(AuthFailure::Malformed(_))
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // A non-empty answer to the server-final message.
    let mut s = ScramServer::new(v.hash, v.server_nonce).unwrap();
    s.step(Some(first.as_bytes()), &store);
    s.step(Some(v.client_final), &store);
    assert!(matches!(
        s.step(Some(b"junk"), &store),
        ServerStep::Failure(AuthFailure::Malformed(_))
    ));
}

#[test]
fn scram_client_checks_the_server_first_message() {
    let v = &RFC5802;
    let attempt = |server_first: &[u8]| {
        let mut c = ScramClient::new(v.hash, "user", b"pencil".to_vec(), v.client_nonce).unwrap();
        c.initial_response().unwrap();
        c.respond(server_first).err()
    };
    // A nonce that does not extend ours, or only repeats it.
    assert!(attempt(b"r=other3rfc,s=QSXCR+Q6sek8bf92,i=4096").is_some());
    assert!(attempt(b"r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096").is_some());
    assert!(attempt(b"m=x,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096").is_some());
    assert!(attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=Q===,i=4096").is_some());
    assert!(attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0").is_some());
    assert!(attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=04096").is_some());
    assert!(attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92").is_some());
    // Hostile iteration counts (RFC 5802 §9), and too weak ones.
    assert_eq!(
        attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4000000000"),
        Some(SaslError::IterationCount(4_000_000_000))
    );
    assert_eq!(
        attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=99999999999999"),
        Some(SaslError::IterationCount(u32::MAX))
    );
    assert_eq!(
        attempt(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1"),
        Some(SaslError::IterationCount(1))
    );
    // Unknown optional extensions are ignored.
    assert!(
        attempt(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,x=y")
            .is_none()
    );
}

#[test]
fn scram_client_aborts_when_the_server_iteration_count_is_out_of_bounds() {
    let mut c = ScramClient::new(ScramHash::Sha256, "alice", b"wonderland".to_vec(), "n")
        .unwrap()
        .with_iteration_bounds(1, 100);
    let mut s = ScramServer::new(ScramHash::Sha256, "s").unwrap();
    match run(&mut c, &mut s, &store()).0 {
        Outcome::ClientAbort(e) => assert_eq!(e, SaslError::IterationCount(4096)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn scram_escapes_user_names_and_carries_authzid() {
    let mut c = ScramClient::new(ScramHash::Sha256, "a=b,c", b"commas".to_vec(), "n1").unwrap();
    let first = c.initial_response().unwrap().unwrap();
    assert_eq!(first.expose_secret(), b"n,,n=a=3Db=2Cc,r=n1");
    let mut c = ScramClient::new(ScramHash::Sha256, "a=b,c", b"commas".to_vec(), "n1").unwrap();
    let id = success(
        run(
            &mut c,
            &mut ScramServer::new(ScramHash::Sha256, "s1").unwrap(),
            &store(),
        )
        .0,
    );
    assert_eq!(id.authcid, "a=b,c");

    // An authzid is covered by c= and must be authorized.
    let mut c = ScramClient::new(ScramHash::Sha1, "alice", b"wonderland".to_vec(), "n2")
        .unwrap()
        .with_authzid("user")
        .unwrap();
    let (o, t) = run(
        &mut c,
        &mut ScramServer::new(ScramHash::Sha1, "s2").unwrap(),
        &store(),
    );
    assert_eq!(failure(o), AuthFailure::NotAuthorized);
    assert_eq!(
        decode_base64(&t.client[0]).unwrap(),
        b"n,a=user,n=alice,r=n2"
    );

    assert!(ScramClient::new(ScramHash::Sha1, "al\tice", b"pw".to_vec(), "n").is_err());
    assert!(ScramClient::new(ScramHash::Sha1, "alice", b"p\tw".to_vec(), "n").is_err());
    assert!(ScramClient::new(ScramHash::Sha1, "alice", b"pw".to_vec(), "a,b").is_err());
    assert!(ScramClient::new(ScramHash::Sha1, "alice", b"pw".to_vec(), "").is_err());
    assert!(ScramServer::new(ScramHash::Sha1, "a b").is_err());
}

#[test]
fn scram_non_ascii_password_round_trips() {
    let s = MemoryStore::new().with_user("jörg", "pässwörd".as_bytes().to_vec());
    for hash in [ScramHash::Sha1, ScramHash::Sha256] {
        let mut c = ScramClient::new(hash, "jörg", "pässwörd".as_bytes().to_vec(), "n").unwrap();
        let id = success(run(&mut c, &mut ScramServer::new(hash, "s").unwrap(), &s).0);
        assert_eq!(id.authcid, "jörg");
    }
}

// ---------------------------------------------------------------------------------------
// TV-7: OAUTHBEARER (RFC 7628 §4.3 in POP3 framing) and XOAUTH2
// ---------------------------------------------------------------------------------------

const TV7_IR: &[u8] =
    b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=";
const TV7_ERROR: &[u8] = b"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=";

#[test]
fn tv7_oauthbearer_rfc7628_error_flow_server_side() {
    let ir = decode_base64(TV7_IR).unwrap();
    assert_eq!(
        ir,
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=\x01\x01"
    );
    let mut s = OAuthBearerServer::new()
        .with_scope("example_scope")
        .with_openid_configuration("https://example.com/.well-known/openid-configuration");
    let challenge = match s.step(Some(&ir), &store()) {
        ServerStep::Challenge(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(encode_base64(&challenge), TV7_ERROR);
    let answer = decode_base64(b"AQ==").unwrap();
    assert_eq!(
        s.step(Some(&answer), &store()),
        ServerStep::Failure(AuthFailure::BadCredentials)
    );
}

#[test]
fn tv7_oauthbearer_client_answers_the_error_challenge_with_aq() {
    let mut c = OAuthBearerClient::new("user@example.com", b"some-token".to_vec())
        .unwrap()
        .with_host("server.example.com")
        .unwrap()
        .with_port(143);
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(
        ir.expose_secret(),
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer some-token\x01\x01"
    );
    let json = decode_base64(TV7_ERROR).unwrap();
    let reply = c.respond(&json).unwrap();
    assert_eq!(encode_base64(reply.expose_secret()), b"AQ==");
    assert_eq!(c.server_error(), Some(json.as_slice()));
    assert!(c.respond(b"").is_err());
}

#[test]
fn tv7_oauthbearer_server_accepts_good_token_and_rejects_malformed() {
    let s = store();
    let good = b"n,a=alice@example.com,\x01host=h\x01port=110\x01auth=Bearer good-token\x01\x01";
    let mut srv = OAuthBearerServer::new();
    assert_eq!(srv.step(None, &s), ServerStep::Challenge(vec![]));
    assert!(matches!(srv.step(Some(good), &s), ServerStep::Success(_)));
    // Scheme is case-insensitive, a= is optional (the token names the user).
    let mut srv = OAuthBearerServer::new();
    let id = success_step(srv.step(Some(b"n,,\x01auth=bearer good-token\x01\x01"), &s));
    assert_eq!(id.user(), "alice@example.com");
    for bad in [
        &b"n,a=alice@example.com,\x01host=h\x01\x01"[..], // no auth
        b"p=tls-unique,,\x01auth=Bearer good-token\x01\x01",
        b"n,a=alice@example.com\x01auth=Bearer good-token\x01\x01",
        b"n,a=alice@example.com,auth=Bearer good-token\x01\x01",
        b"n,a=alice@example.com,\x01auth=Bearer good-token\x01",
        b"n,a=al=ice,\x01auth=Bearer good-token\x01\x01",
        b"n,,\x01=x\x01auth=Bearer good-token\x01\x01",
        b"\x01",
        b"",
    ] {
        let mut srv = OAuthBearerServer::new();
        assert!(
            matches!(
                srv.step(Some(bad), &s),
                ServerStep::Failure(AuthFailure::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

fn success_step(step: ServerStep) -> Identity {
    match step {
        ServerStep::Success(id) => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn tv7_xoauth2_encoder_vector() {
    let mut c = XOAuth2Client::new(
        "test@contoso.onmicrosoft.com",
        b"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA".to_vec(),
    )
    .unwrap();
    assert!(!c.separate_initial_response());
    let ir = c.initial_response().unwrap().unwrap();
    let line = encode_base64(ir.expose_secret());
    assert_eq!(
        line,
        b"dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="
    );
    // E-15: `AUTH XOAUTH2 <b64>\r\n` fits in 255 octets. (TV-7 says 131; the 120
    // base64 characters plus `AUTH XOAUTH2 ` and CRLF make 135.)
    assert_eq!(line.len(), 120);
    assert_eq!(b"AUTH XOAUTH2 ".len() + line.len() + 2, 135);
}

#[test]
fn tv7_xoauth2_microsoft_two_step_exchange() {
    let token = b"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
    let s = MemoryStore::new().with_token("someuser@example.com", token.to_vec());
    let mut c = XOAuth2Client::new("someuser@example.com", token.to_vec())
        .unwrap()
        .force_two_step();
    assert!(c.separate_initial_response());
    let (o, t) = run(&mut c, &mut XOAuth2Server::new(), &s);
    success(o);
    assert_eq!(t.server, vec![b"".to_vec()]);
    assert_eq!(
        t.client,
        vec![b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==".to_vec()]
    );
}

#[test]
fn tv7_xoauth2_error_challenge_and_empty_reply() {
    let mut s = XOAuth2Server::new().with_scope("https://mail.google.com/");
    let challenge = match s.step(
        Some(b"user=alice@example.com\x01auth=Bearer wrong\x01\x01"),
        &store(),
    ) {
        ServerStep::Challenge(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        challenge,
        br#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#
    );
    assert_eq!(
        s.step(Some(b""), &store()),
        ServerStep::Failure(AuthFailure::BadCredentials)
    );
    for bad in [
        &b"user=alice@example.com\x01auth=Bearer good-token\x01"[..],
        b"auth=Bearer good-token\x01\x01",
        b"user=alice@example.com\x01\x01",
        b"",
    ] {
        assert!(matches!(
            XOAuth2Server::new().step(Some(bad), &store()),
            ServerStep::Failure(AuthFailure::Malformed(_))
        ));
    }
    assert!(XOAuth2Client::new("a\x01b", b"t".to_vec()).is_err());
    assert!(XOAuth2Client::new("ab", b"t\x01".to_vec()).is_err());
    assert!(XOAuth2Client::new("ab", b"t t".to_vec()).is_err());
    assert!(OAuthBearerClient::new("ab", b"".to_vec()).is_err());
}

// ---------------------------------------------------------------------------------------
// choose_mechanism
// ---------------------------------------------------------------------------------------

#[test]
fn choose_picks_the_strongest_offered() {
    let all = [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "XOAUTH2",
        "OAUTHBEARER",
        "EXTERNAL",
    ];
    let tls = ChoicePolicy::default().with_tls_active(true);
    assert_eq!(
        choose_mechanism(&all, &tls),
        Some(MechanismName::ScramSha256)
    );
    assert_eq!(
        choose_mechanism(&["plain", "scram-sha-1", "cram-md5"], &tls),
        Some(MechanismName::ScramSha1)
    );
    assert_eq!(
        choose_mechanism(&["PLAIN", "CRAM-MD5"], &tls),
        Some(MechanismName::CramMd5)
    );
    assert_eq!(
        choose_mechanism(&["LOGIN", "PLAIN"], &tls),
        Some(MechanismName::Plain)
    );
    assert_eq!(
        choose_mechanism(&["LOGIN"], &tls),
        Some(MechanismName::Login)
    );
    assert_eq!(choose_mechanism(&["GSSAPI", "DIGEST-MD5"], &tls), None);
    assert_eq!(choose_mechanism(&[], &tls), None);
    // Token and certificate holders.
    let bearer = tls.with_credentials(CredentialKind::BearerToken);
    assert_eq!(
        choose_mechanism(&all, &bearer),
        Some(MechanismName::OAuthBearer)
    );
    assert_eq!(
        choose_mechanism(&["PLAIN", "XOAUTH2"], &bearer),
        Some(MechanismName::XOAuth2)
    );
    let cert = tls.with_credentials(CredentialKind::ClientCertificate);
    assert_eq!(choose_mechanism(&all, &cert), Some(MechanismName::External));
    assert_eq!(choose_mechanism(&all, &cert.with_tls_active(false)), None);
}

#[test]
fn r2595_8_no_cleartext_mechanism_before_tls_unless_allowed() {
    let offered = ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"];
    let plain = ChoicePolicy::default();
    assert_eq!(choose_mechanism(&offered, &plain), None);
    assert_eq!(
        choose_mechanism(&["PLAIN", "CRAM-MD5"], &plain),
        Some(MechanismName::CramMd5)
    );
    let bearer = plain.with_credentials(CredentialKind::BearerToken);
    assert_eq!(choose_mechanism(&offered, &bearer), None);
    let allowed = plain.with_allow_cleartext(true);
    assert_eq!(
        choose_mechanism(&offered, &allowed),
        Some(MechanismName::Plain)
    );
    for m in MechanismName::ALL {
        assert_eq!(
            m.is_cleartext(),
            matches!(
                m,
                MechanismName::Plain
                    | MechanismName::Login
                    | MechanismName::OAuthBearer
                    | MechanismName::XOAuth2
            )
        );
        assert_eq!(
            MechanismName::from_name(&m.as_str().to_lowercase()),
            Some(m)
        );
        assert_eq!(m.to_string(), m.as_str());
    }
}

#[test]
fn rfc2384_explicit_choice_is_honoured_or_nothing() {
    let offered = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"];
    let explicit = |name, tls| {
        ChoicePolicy::default()
            .with_tls_active(tls)
            .with_explicit(Some(name))
    };
    assert_eq!(
        choose_mechanism(&offered, &explicit("login", true)),
        Some(MechanismName::Login)
    );
    assert_eq!(
        choose_mechanism(&offered, &explicit("CRAM-MD5", false)),
        Some(MechanismName::CramMd5)
    );
    // Cleartext before TLS: refused, not replaced by CRAM-MD5 or SCRAM.
    assert_eq!(choose_mechanism(&offered, &explicit("PLAIN", false)), None);
    // Not offered / unknown: nothing.
    assert_eq!(
        choose_mechanism(&offered, &explicit("SCRAM-SHA-1", true)),
        None
    );
    assert_eq!(choose_mechanism(&offered, &explicit("GSSAPI", true)), None);
    assert_eq!(choose_mechanism(&offered, &explicit("+APOP", true)), None);
    // `*` means any.
    assert_eq!(
        choose_mechanism(&offered, &explicit("*", false)),
        Some(MechanismName::ScramSha256)
    );
    // An explicit bearer mechanism is allowed even for a password policy.
    assert_eq!(
        choose_mechanism(&["XOAUTH2"], &explicit("XOAUTH2", true)),
        Some(MechanismName::XOAuth2)
    );
}

// ---------------------------------------------------------------------------------------
// Secrets never show in Debug
// ---------------------------------------------------------------------------------------

fn assert_hidden(what: &str, debug: &str, secrets: &[&[u8]]) {
    for s in secrets {
        let forms = [
            String::from_utf8_lossy(s).into_owned(),
            format!("{s:?}"),
            format!("{:?}", s.to_vec()),
            String::from_utf8(encode_base64(s)).unwrap(),
            s.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        ];
        for f in forms.iter().filter(|f| f.len() >= 6) {
            assert!(!debug.contains(f.as_str()), "{what} leaks {f:?} in {debug}");
        }
    }
}

#[test]
fn debug_output_never_contains_secrets() {
    const PW: &[u8] = b"hunter2-secret";
    const TOKEN: &[u8] = b"ya29.TOPSECRETTOKEN";
    let store = MemoryStore::new()
        .with_user("alice", PW.to_vec())
        .with_token("alice", TOKEN.to_vec());
    let creds = ScramCredentials::derive(PW, b"0123456789abcdef", 4096, ScramHash::Sha256);
    let keys: Vec<Vec<u8>> = vec![
        creds.stored_key.expose_secret().clone(),
        creds.server_key.expose_secret().clone(),
    ];
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    assert_hidden("ScramCredentials", &format!("{creds:?}"), &key_refs);
    assert_hidden("MemoryStore", &format!("{store:?}"), &[PW, TOKEN]);

    let mut plain = PlainClient::new("alice", PW.to_vec()).unwrap();
    let mut login = LoginClient::new("alice", PW.to_vec()).unwrap();
    let mut cram = CramMd5Client::new("alice", PW.to_vec()).unwrap();
    let mut xo = XOAuth2Client::new("alice", TOKEN.to_vec()).unwrap();
    let mut ob = OAuthBearerClient::new("alice", TOKEN.to_vec()).unwrap();
    let mut sc = ScramClient::new(ScramHash::Sha256, "alice", PW.to_vec(), "nonce").unwrap();
    let mut clients: Vec<(&str, &mut dyn ClientMechanism)> = vec![
        ("PlainClient", &mut plain),
        ("LoginClient", &mut login),
        ("CramMd5Client", &mut cram),
        ("XOAuth2Client", &mut xo),
        ("OAuthBearerClient", &mut ob),
        ("ScramClient", &mut sc),
    ];
    for (name, c) in clients.iter_mut() {
        if let Some(r) = c.initial_response().unwrap() {
            assert_hidden(name, &format!("{r:?}"), &[PW, TOKEN, r.expose_secret()]);
        }
    }
    assert_hidden("PlainClient", &format!("{plain:?}"), &[PW]);
    assert_hidden("LoginClient", &format!("{login:?}"), &[PW]);
    assert_hidden("CramMd5Client", &format!("{cram:?}"), &[PW]);
    assert_hidden("XOAuth2Client", &format!("{xo:?}"), &[TOKEN]);
    assert_hidden("OAuthBearerClient", &format!("{ob:?}"), &[TOKEN]);

    // SCRAM mid-exchange: the client holds the expected signature, the server the keys.
    let mut server = ScramServer::new(ScramHash::Sha256, "srv").unwrap();
    let first = ScramClient::new(ScramHash::Sha256, "alice", PW.to_vec(), "nonce")
        .unwrap()
        .initial_response()
        .unwrap()
        .unwrap();
    let server_first = match server.step(Some(first.expose_secret()), &store) {
        ServerStep::Challenge(c) => c,
        other => panic!("{other:?}"),
    };
    let fin = sc.respond(&server_first).unwrap();
    assert_hidden("ScramClient", &format!("{sc:?}"), &[PW]);
    assert_hidden("client-final", &format!("{fin:?}"), &[fin.expose_secret()]);
    let srv_creds = store
        .scram_credentials("alice", ScramHash::Sha256)
        .unwrap()
        .unwrap();
    let srv_keys = [
        srv_creds.stored_key.expose_secret().as_slice(),
        srv_creds.server_key.expose_secret().as_slice(),
    ];
    assert_hidden("ScramServer", &format!("{server:?}"), &srv_keys);

    // Server mechanisms mid-exchange.
    let mut login_srv = LoginServer::new();
    login_srv.step(Some(b"alice"), &store);
    assert_hidden("LoginServer", &format!("{login_srv:?}"), &[PW]);

    // Errors.
    let err = PlainClient::new("alice", b"pw\0hunter2-secret".to_vec()).unwrap_err();
    assert_hidden("SaslError", &format!("{err:?} {err}"), &[PW]);
}

// ---------------------------------------------------------------------------------------
// Property tests: hostile input never panics
// ---------------------------------------------------------------------------------------

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn servers() -> Vec<Box<dyn ServerMechanism>> {
        vec![
            Box::new(PlainServer::new()),
            Box::new(LoginServer::new()),
            Box::new(CramMd5Server::new(cram_challenge())),
            Box::new(ScramServer::new(ScramHash::Sha1, "srvnonce").unwrap()),
            Box::new(ScramServer::new(ScramHash::Sha256, "srvnonce").unwrap()),
            Box::new(XOAuth2Server::new()),
            Box::new(OAuthBearerServer::new()),
            Box::new(ExternalServer::new()),
        ]
    }

    fn clients() -> Vec<Box<dyn ClientMechanism>> {
        vec![
            Box::new(PlainClient::new("alice", b"pw".to_vec()).unwrap()),
            Box::new(LoginClient::new("alice", b"pw".to_vec()).unwrap()),
            Box::new(CramMd5Client::new("alice", b"pw".to_vec()).unwrap()),
            Box::new(
                ScramClient::new(ScramHash::Sha1, "alice", b"pw".to_vec(), "abc")
                    .unwrap()
                    .with_iteration_bounds(1, 64),
            ),
            Box::new(
                ScramClient::new(ScramHash::Sha256, "alice", b"pw".to_vec(), "abc")
                    .unwrap()
                    .with_iteration_bounds(1, 64),
            ),
            Box::new(XOAuth2Client::new("alice", b"tok".to_vec()).unwrap()),
            Box::new(OAuthBearerClient::new("alice", b"tok".to_vec()).unwrap()),
            Box::new(ExternalClient::new()),
        ]
    }

    /// Bytes that look a bit like the mechanisms' own messages, to get past the first checks.
    fn sasl_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(
                prop_oneof![
                    Just(b"n,,".to_vec()),
                    Just(b"n=alice,".to_vec()),
                    Just(b"r=abc".to_vec()),
                    Just(b"srvnonce,".to_vec()),
                    Just(b"s=QSXCR+Q6sek8bf92,".to_vec()),
                    Just(b"i=1".to_vec()),
                    Just(b"c=biws,".to_vec()),
                    Just(b"p=".to_vec()),
                    Just(b"v=".to_vec()),
                    Just(b"e=".to_vec()),
                    Just(b"\x01".to_vec()),
                    Just(b"\0".to_vec()),
                    Just(b"auth=Bearer ".to_vec()),
                    Just(b"user=alice".to_vec()),
                    Just(b"a=".to_vec()),
                    Just(b"=2C".to_vec()),
                    Just(b"=".to_vec()),
                    Just(b",".to_vec()),
                    Just(b"alice ".to_vec()),
                    Just(b"0123456789abcdef0123456789abcdef".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ],
                0..12,
            )
            .prop_map(|parts| parts.concat()),
        ]
    }

    proptest! {
        #[test]
        fn server_steps_never_panic(
            first in proptest::option::of(sasl_bytes()),
            rest in proptest::collection::vec(proptest::option::of(sasl_bytes()), 0..5),
        ) {
            let store = store();
            for mut s in servers() {
                let mut step = s.step(first.as_deref(), &store);
                for r in &rest {
                    if !matches!(step, ServerStep::Challenge(_)) {
                        break;
                    }
                    step = s.step(r.as_deref(), &store);
                }
                // Whatever happened, a spent mechanism stays spent or keeps answering.
                let _ = s.step(Some(b""), &store);
            }
        }

        #[test]
        fn client_responds_never_panic(
            challenges in proptest::collection::vec(sasl_bytes(), 0..5),
            take_ir in any::<bool>(),
        ) {
            for mut c in clients() {
                if take_ir {
                    let _ = c.initial_response();
                }
                for ch in &challenges {
                    let _ = c.respond(ch);
                }
                let _ = c.finish();
                let _ = c.server_error();
            }
        }

        #[test]
        fn scram_client_survives_hostile_server_first(
            suffix in "[!-+\\--~]{1,20}",
            salt in proptest::collection::vec(any::<u8>(), 0..40),
            iterations in any::<u32>(),
            extra in sasl_bytes(),
        ) {
            // Well-formed enough to reach the key derivation (bounded by the iteration cap).
            let mut c = ScramClient::new(ScramHash::Sha256, "alice", b"pw".to_vec(), "abc")
                .unwrap()
                .with_iteration_bounds(1, 16);
            c.initial_response().unwrap();
            let mut msg = format!("r=abc{suffix},s=").into_bytes();
            msg.extend_from_slice(&encode_base64(&salt));
            msg.extend_from_slice(format!(",i={iterations}").as_bytes());
            msg.extend_from_slice(&extra);
            let _ = c.respond(&msg);
            let _ = c.respond(&extra);
            prop_assert!(c.finish().is_err());
        }

        #[test]
        fn base64_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let line = encode_base64(&data);
            prop_assert_eq!(line.len() % 4, 0);
            prop_assert_eq!(decode_base64(&line).unwrap(), data);
        }

        #[test]
        fn base64_decode_never_panics_and_only_accepts_canonical(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(data) = decode_base64(&line) {
                prop_assert_eq!(encode_base64(&data), line);
            }
        }

        #[test]
        fn choose_never_picks_cleartext_without_tls(
            offered in proptest::collection::vec(
                proptest::sample::select(vec![
                    "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                    "XOAUTH2", "OAUTHBEARER", "EXTERNAL", "GSSAPI", "plain", "*",
                ]),
                0..8,
            ),
            explicit in proptest::option::of(proptest::sample::select(vec![
                "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "XOAUTH2", "*", "NOPE",
            ])),
            kind in proptest::sample::select(vec![
                CredentialKind::Password, CredentialKind::BearerToken, CredentialKind::ClientCertificate,
            ]),
        ) {
            let policy = ChoicePolicy::default()
                .with_tls_active(false)
                .with_allow_cleartext(false)
                .with_explicit(explicit)
                .with_credentials(kind);
            if let Some(m) = choose_mechanism(&offered, &policy) {
                prop_assert!(!m.is_cleartext());
                prop_assert!(offered.iter().any(|o| o.eq_ignore_ascii_case(m.as_str())));
                if let Some(e) = explicit.filter(|e| *e != "*") {
                    prop_assert!(m.as_str().eq_ignore_ascii_case(e));
                }
            }
        }
    }
}

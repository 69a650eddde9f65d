//! Every SASL mechanism through both state machines in memory (issue 6): the
//! client machine drives a `ClientMechanism`, the server machine hands the
//! exchange to its host, which runs the matching `ServerMechanism` against a
//! credential store. Also APOP, an 8 KiB bearer token in the two-step form, and
//! failures (wrong base64, cancel, wrong password) that end with -ERR and leave
//! the session usable.

use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::sasl::{self, ClientMechanism, MemoryStore, ScramHash};
use pop3_proto::secret::Secret;
use pop3_proto::server::{ServerConfig, ServerEvent};
use pop3_proto::types::{CodeKind, Command, Mechanism, Password, Username};
use pop3_proto_tests::{MemoryHost, Pair, TV1_MSG1};

const MECHANISMS: [&str; 8] = [
    "SCRAM-SHA-256",
    "SCRAM-SHA-1",
    "CRAM-MD5",
    "PLAIN",
    "LOGIN",
    "OAUTHBEARER",
    "XOAUTH2",
    "EXTERNAL",
];

fn pair(token: &[u8]) -> Pair {
    let mut host = MemoryHost::tv1();
    host.store = MemoryStore::new()
        .with_user("mrose", Secret::new(b"tanstaaf".to_vec()))
        .with_token("mrose", Secret::new(token.to_vec()))
        .with_external_identity("mrose");
    let config = ServerConfig::default()
        .with_sasl(
            MECHANISMS
                .iter()
                .map(|m| Mechanism::new(*m).unwrap())
                .collect(),
        )
        .with_apop(true);
    let mut p = Pair::new(ClientConfig::default(), config, "POP3 server ready", host);
    p.run();
    // CAPA first, so the client knows SASL is offered (R5034-2).
    p.client.send(Command::Capa).unwrap();
    p.run();
    p
}

fn client_mechanism(name: &str, password: &str, token: &[u8]) -> Box<dyn ClientMechanism + Send> {
    let pw = Secret::new(password.as_bytes().to_vec());
    match name {
        "SCRAM-SHA-256" => Box::new(
            sasl::ScramClient::new(ScramHash::Sha256, "mrose", pw, "rOprNGfwEbeRWgbNEkqO").unwrap(),
        ),
        "SCRAM-SHA-1" => Box::new(
            sasl::ScramClient::new(ScramHash::Sha1, "mrose", pw, "fyko+d2lbbFgONRv9qkxdawL")
                .unwrap(),
        ),
        "CRAM-MD5" => Box::new(sasl::CramMd5Client::new("mrose", pw).unwrap()),
        "PLAIN" => Box::new(sasl::PlainClient::new("mrose", pw).unwrap()),
        "LOGIN" => Box::new(sasl::LoginClient::new("mrose", pw).unwrap()),
        "OAUTHBEARER" => {
            Box::new(sasl::OAuthBearerClient::new("mrose", Secret::new(token.to_vec())).unwrap())
        }
        "XOAUTH2" => {
            Box::new(sasl::XOAuth2Client::new("mrose", Secret::new(token.to_vec())).unwrap())
        }
        "EXTERNAL" => Box::new(sasl::ExternalClient::new()),
        other => panic!("{other}"),
    }
}

fn last_status(p: &Pair) -> (bool, Option<CodeKind>) {
    p.client_events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Status { line, .. } => Some((line.is_ok(), line.code().map(|c| c.kind()))),
            _ => None,
        })
        .expect("a status event")
}

/// After a failure, the same session still logs in with USER/PASS and reads mail.
fn still_usable(p: &mut Pair) {
    p.client
        .send(Command::User(Username::new("mrose").unwrap()))
        .unwrap();
    p.run();
    p.client
        .send(Command::Pass(Password::new("tanstaaf").unwrap()))
        .unwrap();
    p.run();
    assert_eq!(last_status(p), (true, None), "{:?}", p.client_errors);
    let id = p
        .client
        .send(Command::Retr(
            pop3_proto::types::MessageNumber::new(1).unwrap(),
        ))
        .unwrap();
    p.run();
    assert_eq!(p.body(id), TV1_MSG1);
}

#[test]
fn every_mechanism_logs_in_through_both_machines() {
    let token = b"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
    for name in MECHANISMS {
        let mut p = pair(token);
        let id = p
            .client
            .authenticate(client_mechanism(name, "tanstaaf", token))
            .unwrap();
        p.run();
        let ok = p
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Status { id: i, line } if *i == id && line.is_ok()));
        assert!(
            ok,
            "{name}: {:?} {:?}\nserver wrote: {}",
            p.client_events,
            p.client_errors,
            String::from_utf8_lossy(&p.server_wrote)
        );
        assert!(p.client_errors.is_empty(), "{name}: {:?}", p.client_errors);
        assert_eq!(p.server.phase(), pop3_proto::server::Phase::Transaction);
        let retr = p
            .client
            .send(Command::Retr(
                pop3_proto::types::MessageNumber::new(1).unwrap(),
            ))
            .unwrap();
        p.run();
        assert_eq!(p.body(retr), TV1_MSG1, "{name}");
    }
}

#[test]
fn apop_logs_in_through_both_machines() {
    let mut p = pair(b"t");
    p.client
        .apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec()),
        )
        .unwrap();
    p.run();
    assert_eq!(last_status(&p), (true, None));
    assert!(String::from_utf8_lossy(&p.client_wrote)
        .contains("APOP mrose c4c9334bac560ecc979e58001b3e22fb"));
}

#[test]
fn wrong_password_ends_with_err_auth_and_a_usable_session() {
    for name in ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"] {
        let mut p = pair(b"t");
        p.client
            .authenticate(client_mechanism(name, "wrong", b"t"))
            .unwrap();
        p.run();
        assert_eq!(last_status(&p), (false, Some(CodeKind::Auth)), "{name}");
        assert_eq!(p.server.phase(), pop3_proto::server::Phase::Authorization);
        still_usable(&mut p);
    }
}

#[test]
fn wrong_token_ends_with_err_and_a_usable_session_r7628_2() {
    for name in ["OAUTHBEARER", "XOAUTH2"] {
        let mut p = pair(b"right-token");
        p.client
            .authenticate(client_mechanism(name, "", b"wrong-token"))
            .unwrap();
        p.run();
        let (ok, _) = last_status(&p);
        assert!(!ok, "{name}");
        // The server sent the error challenge (JSON) and the client answered it.
        assert!(
            String::from_utf8_lossy(&p.server_wrote).contains("\r\n+ ey"),
            "{name}: {}",
            String::from_utf8_lossy(&p.server_wrote)
        );
        still_usable(&mut p);
    }
}

#[test]
fn an_8_kib_token_goes_through_the_two_step_form_r5034_8() {
    let token: Vec<u8> = (0..8192u32)
        .map(|i| {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"[i as usize % 66]
        })
        .collect();
    for name in ["XOAUTH2", "OAUTHBEARER"] {
        let mut p = pair(&token);
        let id = p
            .client
            .authenticate(client_mechanism(name, "", &token))
            .unwrap();
        p.run();
        let wrote = String::from_utf8_lossy(&p.client_wrote).into_owned();
        // The command line stays short; the response follows the empty challenge.
        assert!(
            wrote.contains(&format!("AUTH {name}\r\n")),
            "{name}: {wrote:.200}"
        );
        assert!(String::from_utf8_lossy(&p.server_wrote).contains("\r\n+ \r\n"));
        assert!(p
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Status { id: i, line } if *i == id && line.is_ok())));
    }
}

#[test]
fn cancel_ends_with_err_and_a_usable_session_r5034_6() {
    let mut p = pair(b"t");
    // A mechanism whose answer fails makes the client cancel with "*".
    struct Failing;
    impl ClientMechanism for Failing {
        fn name(&self) -> &str {
            "LOGIN"
        }
        fn is_cleartext(&self) -> bool {
            false
        }
        fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, sasl::SaslError> {
            Ok(None)
        }
        fn respond(&mut self, _: &[u8]) -> Result<Secret<Vec<u8>>, sasl::SaslError> {
            Err(sasl::SaslError::MalformedChallenge("test"))
        }
    }
    p.client.authenticate(Box::new(Failing)).unwrap();
    p.run();
    assert!(String::from_utf8_lossy(&p.client_wrote).contains("\r\n*\r\n"));
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::AuthCancelled)));
    assert!(!last_status(&p).0);
    still_usable(&mut p);
}

#[test]
fn wrong_base64_ends_with_err_and_a_usable_session_r5034_10() {
    let mut p = pair(b"t");
    // Straight to the server machine: a response line that is not base64.
    let mut host = MemoryHost::tv1();
    let driven = host.drive(
        &mut p.server,
        b"AUTH LOGIN\r\nAAA=BBB\r\nUSER mrose\r\nPASS tanstaaf\r\nSTAT\r\n",
    );
    let out = String::from_utf8_lossy(&driven.output).into_owned();
    assert!(out.contains("-ERR"), "{out}");
    assert!(out.ends_with("+OK 2 320\r\n"), "{out}");
}

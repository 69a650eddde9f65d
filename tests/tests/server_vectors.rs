//! The server machine's exact bytes for the test vectors (the RFC examples) it can produce:
//! TV-3 against the client machine (the Pair; TV-1 and TV-4 are in
//! session_pair.rs), and TV-2, TV-5, TV-6 and TV-8 from scripted client bytes.

use bytes::Bytes;
use pop3_proto::apop::Timestamp;
use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::dot::{stuff, StuffConfig};
use pop3_proto::sasl::{self, MemoryStore};
use pop3_proto::secret::Secret;
use pop3_proto::server::{AuthStep, MessageInfo, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Command, Expire, Mechanism, MessageNumber, Text, UniqueId, Username};
use pop3_proto::{Machine, StartTls};
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::{MemoryHost, Pair, TV1_MSG2, TV1_TIMESTAMP};

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn tv_server_config() -> ServerConfig {
    ServerConfig::default()
        .with_apop(true)
        .with_pipelining(false)
        .with_signoff(text("dewey POP3 server signing off"))
}

/// A pair logged in as mrose with APOP (TV-1's first two lines), its server
/// output so far cleared.
fn logged_in_pair(host: MemoryHost) -> Pair {
    let mut pair = Pair::new(
        ClientConfig::default(),
        tv_server_config(),
        "POP3 server ready",
        host,
    );
    pair.run();
    let secret = Secret::new(b"tanstaaf".to_vec());
    pair.client
        .apop(Username::new("mrose").unwrap(), &secret)
        .unwrap();
    pair.run();
    pair.server_wrote.clear();
    pair
}

/// Sends `command` through the client, runs the pair, and returns what the
/// server wrote for it.
fn exchange(pair: &mut Pair, command: Command) -> Vec<u8> {
    let before = pair.server_wrote.len();
    pair.client.send(command).unwrap();
    pair.run();
    pair.server_wrote[before..].to_vec()
}

fn assert_bytes(got: &[u8], expected: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(got, expected);
}

#[test]
fn tv3_list_uidl_top_exact_bytes_against_the_client() {
    let mut pair = logged_in_pair(MemoryHost::tv1());
    let cases: Vec<(Command, &[u8])> = vec![
        (Command::List(Some(n(2))), b"+OK 2 200\r\n"),
        (
            Command::List(Some(n(3))),
            b"-ERR no such message, only 2 messages in maildrop\r\n",
        ),
        (
            Command::Uidl(None),
            b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n",
        ),
        (Command::Uidl(Some(n(2))), b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
        (
            Command::Uidl(Some(n(3))),
            b"-ERR no such message, only 2 messages in maildrop\r\n",
        ),
        (
            Command::Top {
                msg: n(100),
                lines: 3,
            },
            b"-ERR no such message\r\n",
        ),
    ];
    for (command, expected) in cases {
        let got = exchange(&mut pair, command.clone());
        assert_bytes(&got, expected);
    }
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
}

#[test]
fn tv3_top_2_0_headers_only() {
    let mut pair = logged_in_pair(MemoryHost::tv1());
    let got = exchange(
        &mut pair,
        Command::Top {
            msg: n(2),
            lines: 0,
        },
    );
    assert_bytes(
        &got,
        b"+OK\r\nFrom: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\n.\r\n",
    );
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
}

#[test]
fn tv3_top_2_1_headers_and_one_body_line() {
    let mut pair = logged_in_pair(MemoryHost::tv1());
    let got = exchange(
        &mut pair,
        Command::Top {
            msg: n(2),
            lines: 1,
        },
    );
    assert_bytes(
        &got,
        b"+OK\r\nFrom: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\n.\r\n",
    );
}

#[test]
fn tv3_top_2_99_past_the_body_sends_the_whole_message_stuffed() {
    let mut pair = logged_in_pair(MemoryHost::tv1());
    let id = pair
        .client
        .send(Command::Top {
            msg: n(2),
            lines: 99,
        })
        .unwrap();
    pair.run();
    let mut expected = b"+OK\r\n".to_vec();
    // TV-1's RETR 2 body, stuffed, and the terminator.
    expected
        .extend_from_slice(&stuff(&Bytes::from_static(TV1_MSG2), StuffConfig::default()).concat());
    assert!(expected.ends_with(b"..leading dot line\r\n..\r\n...two dots\r\nDone.\r\n.\r\n"));
    assert_bytes(&pair.server_wrote, &expected);
    // The client gets message 2 back byte for byte.
    assert_eq!(pair.body(id), TV1_MSG2);
}

#[test]
fn tv3_empty_maildrop_list_and_stat_r1939_15() {
    let host = MemoryHost::new("mrose", "tanstaaf", Vec::new());
    let mut pair = logged_in_pair(host);
    assert_bytes(
        &exchange(&mut pair, Command::List(None)),
        b"+OK 0 messages\r\n.\r\n",
    );
    assert_bytes(&exchange(&mut pair, Command::Stat), b"+OK 0 0\r\n");
    assert_bytes(&exchange(&mut pair, Command::Uidl(None)), b"+OK\r\n.\r\n");
    assert_bytes(
        &exchange(&mut pair, Command::Quit),
        b"+OK dewey POP3 server signing off (maildrop empty)\r\n",
    );
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
    assert!(pair
        .client_events
        .iter()
        .any(|e| matches!(e, Event::ScanListing { .. })));
}

/// TV-2: the machine's own login text, `maildrop has 1 message (369 octets)`.
#[test]
fn tv2_apop_with_host_timestamp_verified_by_apop_verify() {
    let ts = Timestamp::new(1896, 697170952, "dbc.mtview.ca.us").unwrap();
    assert_eq!(ts.as_str(), TV1_TIMESTAMP);
    let mut server = Server::new(tv_server_config(), text("POP3 server ready"), Some(ts));
    server.enqueue_all(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    let Ok(Some(ServerEvent::Apop {
        name,
        digest,
        timestamp,
    })) = server.next_event()
    else {
        panic!("expected an APOP event")
    };
    assert_eq!(name.as_bytes(), b"mrose");
    let secret = Secret::new(b"tanstaaf".to_vec());
    assert!(pop3_proto::apop::verify(
        &timestamp,
        &secret,
        digest.as_bytes()
    ));
    let listing = vec![MessageInfo {
        size: 369,
        uid: UniqueId::new("u1").unwrap(),
    }];
    server.accept_login(listing, None).unwrap();
    assert_eq!(
        server.take_all(),
        b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n+OK maildrop has 1 message (369 octets)\r\n"
    );
}

#[test]
fn tv5_capa_rfc2449_example_exact() {
    let config = ServerConfig::default()
        .with_sasl(vec![
            Mechanism::new("CRAM-MD5").unwrap(),
            Mechanism::new("KERBEROS_V4").unwrap(),
        ])
        .with_login_delay(Some((900, false)))
        .with_expire(Some((Expire::Days(60), false)))
        .with_implementation(Some(text("Shlemazle-Plotz-v302")))
        .with_auth_resp_code(false);
    let mut server = Server::new(config, text("ready"), None);
    let mut host = MemoryHost::tv1();
    let out = host.drive(&mut server, b"CAPA\r\n");
    let expected: &[u8] = b"+OK ready\r\n+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n";
    assert_bytes(&out.output, expected);
}

/// A host answering AUTH with the RFC 5034 §6 texts: user `test`, password
/// `test`, `+OK Maildrop locked and ready`.
fn tv6_drive(
    server: &mut Server,
    mechanism: &mut Option<sasl::PlainServer>,
    input: &[u8],
) -> Vec<u8> {
    let store = MemoryStore::new().with_user("test", Secret::new(b"test".to_vec()));
    server.enqueue_all(input);
    while let Ok(Some(event)) = server.next_event() {
        let response = match &event {
            ServerEvent::AuthStart {
                initial_response, ..
            } => {
                *mechanism = Some(sasl::PlainServer::new());
                initial_response.as_ref().map(|r| r.expose_secret().clone())
            }
            ServerEvent::AuthResponse { response } => Some(response.expose_secret().clone()),
            other => panic!("unexpected {other:?}"),
        };
        let mech = mechanism.as_mut().unwrap();
        match server.auth_step(mech, response.as_deref(), &store).unwrap() {
            AuthStep::Authenticated(identity) => {
                assert_eq!(identity.user(), "test");
                server
                    .accept_login(Vec::new(), Some(text("Maildrop locked and ready")))
                    .unwrap();
            }
            AuthStep::Challenged => {}
            AuthStep::Failed(f) => panic!("{f:?}"),
        }
    }
    server.take_all()
}

fn tv6_config() -> ServerConfig {
    ServerConfig::default().with_implicit_tls(true).with_sasl(
        ["PLAIN", "DIGEST-MD5", "GSSAPI", "ANONYMOUS"]
            .iter()
            .map(|m| Mechanism::new(*m).unwrap())
            .collect(),
    )
}

#[test]
fn tv6_auth_plain_with_initial_response_r5034() {
    let mut server = Server::new(tv6_config(), text("ready"), None);
    server.take_all();
    let out = tv6_drive(
        &mut server,
        &mut None,
        b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
    );
    assert_bytes(&out, b"+OK Maildrop locked and ready\r\n");
}

#[test]
fn tv6_auth_plain_empty_challenge_then_response_r5034_5_r5034_9() {
    let mut server = Server::new(tv6_config(), text("ready"), None);
    server.take_all();
    let mut mechanism = None;
    let out = tv6_drive(&mut server, &mut mechanism, b"AUTH PLAIN\r\n");
    assert_bytes(&out, b"+ \r\n");
    let out = tv6_drive(&mut server, &mut mechanism, b"dGVzdAB0ZXN0AHRlc3Q=\r\n");
    assert_bytes(&out, b"+OK Maildrop locked and ready\r\n");
}

#[test]
fn tv6_auth_unknown_mechanism_r1734_3() {
    let mut server = Server::new(tv6_config(), text("ready"), None);
    server.take_all();
    server.enqueue_all(b"AUTH FOOBAR\r\n");
    assert_eq!(server.next_event(), Ok(None));
    assert_bytes(
        &server.take_all(),
        b"-ERR Unrecognized authentication type\r\n",
    );
}

#[test]
fn tv8_stls_and_capabilities_before_and_after_r2595() {
    let config = tv6_config()
        .with_stls(true)
        .with_cleartext_requires_tls(true)
        .with_user_pass(false)
        .with_top(false)
        .with_uidl(false)
        .with_pipelining(false)
        .with_resp_codes(false)
        .with_auth_resp_code(false)
        .with_implicit_tls(false);
    let mut server = Server::new(config, text("ready"), None);
    let mut host = MemoryHost::tv1();
    let out = host.drive(&mut server, b"CAPA\r\nSTLS\r\n");
    assert_bytes(
        &out.output,
        b"+OK ready\r\n+OK Capability list follows\r\nSASL DIGEST-MD5 GSSAPI ANONYMOUS\r\nSTLS\r\n.\r\n+OK Begin TLS negotiation\r\n",
    );
    assert!(server.is_tls());
    let out = host.drive(&mut server, b"CAPA\r\nSTLS\r\n");
    assert_bytes(
        &out.output,
        b"+OK Capability list follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\n.\r\n-ERR Command not permitted when TLS active\r\n",
    );
}

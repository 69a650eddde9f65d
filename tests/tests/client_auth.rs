//! AUTH as a flow (RFC 5034): initial response inline or on its own line,
//! challenges and answers, `*` to cancel, the barrier, and mechanisms that
//! authenticate the server (SCRAM).

use pop3_proto::client::{Client, ClientConfig, ClientError, Event, Phase, SendError};
use pop3_proto::sasl::{encode_base64, ClientMechanism, SaslError, ScramClient, ScramHash};
use pop3_proto::server::ServerConfig;
use pop3_proto::types::{Command, Mechanism};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{check, Act, Step, TestMechanism};
use pop3_proto_tests::MachineExt as _;
use pop3_proto_tests::{MemoryHost, Pair};

const CAPA_X: &str = "+OK\r\nSASL ABC X-TEST PLAIN\r\nUSER\r\n.\r\n";

/// Greeting and CAPA (listing SASL ABC X-TEST PLAIN), then `tail`.
fn after_capa(tail: impl Fn() -> Vec<Step>) {
    check(ClientConfig::default(), || {
        let mut s = vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server(CAPA_X)
                .expect([
                    "#0 capa Sasl([Mechanism(\"ABC\"), Mechanism(\"X-TEST\"), Mechanism(\"PLAIN\")]), User",
                ]),
        ];
        s.extend(tail());
        s
    });
}

#[test]
fn r5034_8_initial_response_of_255_octets_goes_inline() {
    // "AUTH ABC " + 244 base64 octets + CRLF = 255 octets.
    let ir = || TestMechanism::new("ABC").initial(vec![b'x'; 183]);
    let b64 = String::from_utf8(encode_base64(&[b'x'; 183])).unwrap();
    assert_eq!(b64.len(), 244);
    let line = format!("AUTH ABC {b64}\r\n");
    assert_eq!(line.len(), 255);
    after_capa(|| {
        vec![Step::new(Act::Auth(ir().boxed()))
            .client(&line)
            .server("+OK\r\n")
            .expect(["#1 +OK"])]
    });
}

#[test]
fn r5034_8_long_initial_response_goes_on_its_own_line() {
    // 184 raw octets: 248 base64 octets, 259 with "AUTH ABC " and CRLF.
    let ir = || TestMechanism::new("ABC").initial(vec![b'y'; 184]);
    let b64 = String::from_utf8(encode_base64(&[b'y'; 184])).unwrap();
    after_capa(|| {
        vec![
            Step::new(Act::Auth(ir().boxed()))
                .client(format!("AUTH ABC\r\n{b64}\r\n"))
                .server("+ \r\n"),
            Step::new(Act::Nothing)
                .server("+OK welcome\r\n")
                .expect(["#1 +OK welcome"]),
        ]
    });
}

#[test]
fn r5034_8_deferred_initial_response_needs_an_empty_challenge() {
    let ir = || TestMechanism::new("ABC").initial(vec![b'y'; 200]);
    after_capa(|| {
        vec![
            Step::new(Act::Auth(ir().boxed()))
                .client("AUTH ABC\r\n*\r\n")
                .server("+ c29tZXRoaW5n\r\n")
                .expect([
                    "error Sasl { id: CommandId(1), reason: MalformedChallenge(\"a non-empty challenge where the initial response was due\") }",
                ]),
            Step::new(Act::Nothing)
                .server("-ERR cancelled\r\n")
                .expect(["#1 -ERR cancelled"]),
        ]
    });
}

#[test]
fn r5034_7_empty_initial_response_without_sasl_goes_as_an_empty_line() {
    // No CAPA: the empty initial response waits for "+ " and goes as an empty line
    // (E-16).
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(
                TestMechanism::new("X-EMPTY").initial(b"").boxed(),
            ))
            .client("AUTH X-EMPTY\r\n\r\n")
            .server("+ \r\n"),
            Step::new(Act::Nothing).server("+OK\r\n").expect(["#0 +OK"]),
        ]
    });
}

#[test]
fn impl12_bare_plus_is_an_empty_challenge() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(
                TestMechanism::new("X-TEST")
                    .exchange(b"", b"first")
                    .exchange(b"", b"")
                    .boxed(),
            ))
            .client("AUTH X-TEST\r\nZmlyc3Q=\r\n")
            .server("+\r\n"),
            Step::new(Act::Nothing).client("\r\n").server("+ \r\n"),
            Step::new(Act::Nothing).server("+OK\r\n").expect(["#0 +OK"]),
        ]
    });
}

#[test]
fn r5034_10_bad_base64_challenge_sends_cancel_and_reports() {
    for bad in [
        "+ =AAA\r\n",
        "+ AAA=BBB\r\n",
        "+ AA\r\n",
        "+ a b\r\n",
        "+ AQ=\r\n",
    ] {
        check(ClientConfig::default(), || {
            vec![
                Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
                Step::new(Act::Auth(
                    TestMechanism::new("X-TEST").exchange(b"", b"x").boxed(),
                ))
                .client("AUTH X-TEST\r\n*\r\n")
                .server(bad)
                .expect(["error Sasl { id: CommandId(0), reason: InvalidBase64 }"]),
                // R5034-6: the server must answer -ERR; the session goes on.
                Step::new(Act::Nothing)
                    .server("-ERR cancelled\r\n")
                    .expect(["#0 -ERR cancelled"]),
                Step::send(Command::Quit)
                    .client("QUIT\r\n")
                    .server("+OK bye\r\n")
                    .expect(["#1 closed +OK bye"]),
            ]
        });
    }
}

#[test]
fn r5034_6_ok_after_cancel_is_server_unverified() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(
                TestMechanism::new("X-TEST").exchange(b"hi", b"x").boxed(),
            ))
            .client("AUTH X-TEST\r\n*\r\n")
            .server("+ d3Jvbmc=\r\n")
            .expect([
                "error Sasl { id: CommandId(0), reason: MalformedChallenge(\"not the scripted challenge\") }",
            ]),
            Step::new(Act::Nothing)
                .server("+OK logged in anyway\r\n")
                .expect(["error ServerUnverified { id: CommandId(0), reason: Incomplete }"]),
        ]
    });
}

#[test]
fn r5034_6_continuation_after_cancel_is_an_error() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(TestMechanism::new("X-TEST").boxed()))
                .client("AUTH X-TEST\r\n*\r\n")
                .server("+ \r\n")
                .expect(["error Sasl { id: CommandId(0), reason: UnexpectedChallenge }"]),
            Step::new(Act::Nothing)
                .server("+ \r\n")
                .expect(["error UnexpectedContinuation { id: CommandId(0) }"]),
        ]
    });
}

#[test]
fn r5034_12_finish_failure_is_server_unverified() {
    check(ClientConfig::default(), || {
        let mut mech = TestMechanism::new("X-MUTUAL");
        mech.finish = Err(SaslError::Incomplete);
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(mech.boxed()))
                .client("AUTH X-MUTUAL\r\n")
                .server("+OK\r\n")
                .expect(["error ServerUnverified { id: CommandId(0), reason: Incomplete }"]),
            Step::send(Command::Stat).expect(["refused Closed"]),
        ]
    });
}

#[test]
fn r5034_11_long_challenges_are_accepted() {
    let raw = vec![b'c'; 30_000];
    let line = String::from_utf8(encode_base64(&raw)).unwrap();
    let c = raw.clone();
    check(ClientConfig::default(), move || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(
                TestMechanism::new("X-BIG")
                    .exchange(c.clone(), b"ok")
                    .boxed(),
            ))
            .client("AUTH X-BIG\r\nb2s=\r\n")
            .server(format!("+ {line}\r\n")),
            Step::new(Act::Nothing).server("+OK\r\n").expect(["#0 +OK"]),
        ]
    });
}

#[test]
fn impl6_auth_is_a_pipeline_barrier() {
    let config = ClientConfig::default().with_pipeline_without_capability(true);
    let mut client = Client::new(config);
    client.enqueue_all(b"+OK ready\r\n");
    client.next_event().unwrap();
    client.send(Command::Capa).unwrap();
    // Not while something is in flight...
    assert_eq!(
        client.authenticate(TestMechanism::new("X").boxed()),
        Err(SendError::MustWait)
    );
    client.enqueue_all(b"+OK\r\n.\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Capabilities { .. }))
    ));
    client
        .authenticate(TestMechanism::new("X").exchange(b"", b"").boxed())
        .unwrap();
    // ...and nothing after it until it ends.
    assert_eq!(client.send(Command::Noop), Err(SendError::MustWait));
    assert_eq!(client.send(Command::Quit), Err(SendError::MustWait));
    client.enqueue_all(b"+ \r\n");
    assert_eq!(client.next_event(), Ok(None));
    client.enqueue_all(b"-ERR no\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Status { .. }))
    ));
    assert!(client.send(Command::Quit).is_ok());
}

#[test]
fn r5034_2_mechanism_failing_its_initial_response_sends_nothing() {
    struct Broken;
    impl ClientMechanism for Broken {
        fn name(&self) -> &str {
            "BROKEN"
        }
        fn is_cleartext(&self) -> bool {
            false
        }
        fn initial_response(
            &mut self,
        ) -> Result<Option<pop3_proto::secret::Secret<Vec<u8>>>, SaslError> {
            Err(SaslError::InvalidInput("test"))
        }
        fn respond(&mut self, _: &[u8]) -> Result<pop3_proto::secret::Secret<Vec<u8>>, SaslError> {
            Err(SaslError::UnexpectedChallenge)
        }
    }
    let mut client = Client::new(ClientConfig::default());
    client.enqueue_all(b"+OK ready\r\n");
    client.next_event().unwrap();
    assert_eq!(
        client.authenticate(Box::new(Broken)),
        Err(SendError::Mechanism(SaslError::InvalidInput("test")))
    );
    assert!(!client.has_output());
    assert_eq!(client.in_flight(), 0);
}

// ----- SCRAM: the server proves itself -----

fn scram_client() -> (Client, Vec<u8>) {
    let mut client = Client::new(ClientConfig::default());
    client.enqueue_all(b"+OK ready\r\n");
    client.next_event().unwrap();
    let mech = ScramClient::new(
        ScramHash::Sha256,
        "user",
        b"pencil".to_vec(),
        "rOprNGfwEbeRWgbNEkqO",
    )
    .unwrap();
    client.authenticate(Box::new(mech)).unwrap();
    let out = client.take_output().unwrap().to_vec();
    (client, out)
}

fn server_first() -> String {
    let first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    format!(
        "+ {}\r\n",
        String::from_utf8(encode_base64(first.as_bytes())).unwrap()
    )
}

#[test]
fn rfc5802_scram_bad_server_signature_is_server_unverified() {
    let (mut client, out) = scram_client();
    // No SASL listed: the client-first message waits for the empty challenge.
    assert_eq!(out, b"AUTH SCRAM-SHA-256\r\n");
    client.enqueue_all(b"+ \r\n");
    assert_eq!(client.next_event(), Ok(None));
    let first = client.take_output().unwrap();
    assert_eq!(
        &first[..],
        format!(
            "{}\r\n",
            String::from_utf8(encode_base64(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")).unwrap()
        )
        .as_bytes()
    );
    client.enqueue_all(server_first().as_bytes());
    assert_eq!(client.next_event(), Ok(None));
    assert!(client.take_output().is_some()); // the client-final message
                                             // A server signature that does not verify: cancel, and never trust the session.
    let bogus = encode_base64(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    client.enqueue_all(&[b"+ ".as_slice(), &bogus, b"\r\n"].concat());
    let got = client.next_event();
    assert!(
        matches!(
            &got,
            Err(ClientError::ServerUnverified {
                reason: SaslError::ServerSignatureMismatch,
                ..
            })
        ),
        "{got:?}"
    );
    assert_eq!(&client.take_output().unwrap()[..], b"*\r\n");
    assert_eq!(client.phase(), Phase::Closed);
    client.enqueue_all(b"+OK logged in\r\n");
    assert_eq!(client.next_event(), got);
}

#[test]
fn rfc5802_scram_ok_without_server_signature_is_server_unverified() {
    let (mut client, _) = scram_client();
    client.enqueue_all(b"+ \r\n");
    assert_eq!(client.next_event(), Ok(None));
    client.take_output();
    client.enqueue_all(server_first().as_bytes());
    assert_eq!(client.next_event(), Ok(None));
    client.take_output();
    client.enqueue_all(b"+OK welcome\r\n");
    assert!(matches!(
        client.next_event(),
        Err(ClientError::ServerUnverified {
            reason: SaslError::Incomplete,
            ..
        })
    ));
    assert_eq!(client.phase(), Phase::Closed);
}

#[test]
fn rfc5802_scram_against_the_server_machine_logs_in() {
    let server = ServerConfig::default().with_sasl(vec![Mechanism::new("SCRAM-SHA-256").unwrap()]);
    let mut pair = Pair::new(
        ClientConfig::default(),
        server,
        "POP3 server ready",
        MemoryHost::tv1(),
    );
    pair.run();
    pair.client.send(Command::Capa).unwrap();
    pair.run();
    let mech = ScramClient::new(
        ScramHash::Sha256,
        "mrose",
        b"tanstaaf".to_vec(),
        "abcdefghijkl",
    )
    .unwrap();
    let id = pair.client.authenticate(Box::new(mech)).unwrap();
    pair.run();
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
    assert!(matches!(
        pair.client_events.last(),
        Some(Event::Status { id: i, line }) if *i == id && line.is_ok()
    ));
    assert_eq!(pair.client.phase(), Phase::Transaction);
    // The initial response went inline: SASL was listed.
    assert!(pair
        .client_wrote
        .starts_with(b"CAPA\r\nAUTH SCRAM-SHA-256 biws"));
}

//! Injection and desynchronisation: bytes the server could not have sent in
//! answer to anything the client sent are errors, never replies (IMPL-13, TV-8,
//! issue 4 point 8).

use pop3_proto::client::{Client, ClientConfig, ClientError, Event, Phase, SendError};
use pop3_proto::types::{Command, Username};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{check, run, Act, Feed, Step, TestMechanism};
use pop3_proto_tests::MachineExt as _;

fn user(name: &str) -> Command {
    Command::User(Username::new(name).unwrap())
}

#[test]
fn tv8_stls_injection_in_the_same_read_is_an_error() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("+OK Begin TLS negotiation\r\n+OK injected\r\n")
                .expect(["#0 start-tls", "error DataAfterStls"]),
        ]
    });
    assert_eq!(
        outcome.client.fatal_error(),
        Some(&ClientError::DataAfterStls)
    );
}

#[test]
fn tv8_stls_injection_in_a_later_read_is_an_error() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("+OK Begin TLS negotiation\r\n")
                .expect(["#0 start-tls"]),
            // Plaintext before the handshake finished: never POP3.
            Step::new(Act::Nothing)
                .server("+OK injected\r\n")
                .expect(["error DataAfterStls"]),
            Step::new(Act::TlsEstablished),
            Step::send(Command::Capa).expect(["refused Closed"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

#[test]
fn impl13_unsolicited_data_after_greeting_is_an_error() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n+OK welcome, mrose\r\n").expect([
                "greeting apop=false +OK ready",
                "error Unsolicited { len: 18 }",
            ]),
            Step::send(user("mrose")).expect(["refused Closed"]),
        ]
    });
}

/// The greeting was read, the injected line is buffered but not yet looked at,
/// and then the client sends USER: the line arrived before USER went out, so it
/// cannot be USER's reply.
#[test]
fn impl13_reply_buffered_before_the_command_went_out_is_unsolicited() {
    let mut client = Client::new(ClientConfig::default());
    client.enqueue_all(b"+OK ready\r\n+OK mrose is a real hoopy frood\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { .. }))
    ));
    client.send(user("mrose")).unwrap();
    assert_eq!(
        client.next_event(),
        Err(ClientError::Unsolicited { len: 31 })
    );
    // Fatal: the error repeats, nothing else comes.
    client.enqueue_all(b"+OK\r\n");
    assert_eq!(
        client.next_event(),
        Err(ClientError::Unsolicited { len: 31 })
    );
    assert_eq!(client.phase(), Phase::Closed);
    assert_eq!(client.send(Command::Quit), Err(SendError::Closed));
}

#[test]
fn r2449_17_reply_to_a_command_never_sent_is_an_error() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK\r\n-ERR bogus\r\n")
                .expect(["#0 +OK", "error Unsolicited { len: 10 }"]),
        ]
    });
}

/// The server "answers" the client's SASL response in the same read as the
/// challenge, before it could have read the response. (Fed whole on purpose: one
/// byte at a time, the `+OK` would arrive after the response went out and be a
/// legitimate reply.)
#[test]
fn r5034_6_auth_reply_sent_before_the_answer_is_unsolicited() {
    let steps = vec![
        Step::server_first("+OK ready\r\n"),
        Step::new(Act::Auth(
            TestMechanism::new("X-TEST").exchange(b"", b"resp").boxed(),
        ))
        .server("+ \r\n+OK logged in\r\n"),
    ];
    let outcome = run(ClientConfig::default(), steps, &Feed::Whole);
    assert_eq!(outcome.steps[1].client, b"AUTH X-TEST\r\ncmVzcA==\r\n");
    assert_eq!(
        outcome.steps[1].rendered(),
        ["error Unsolicited { len: 13 }"]
    );
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

#[test]
fn r5034_5_continuation_to_a_command_that_is_not_auth_is_an_error() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+ dGVzdA==\r\n")
                .expect(["error UnexpectedContinuation { id: CommandId(0) }"]),
        ]
    });
}

#[test]
fn r1939_23_data_after_quit_reply_is_an_error_however_split() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Quit)
                .client("QUIT\r\n")
                .server("+OK bye\r\n+OK more\r\n")
                .expect(["#0 closed +OK bye", "error InputAfterClose"]),
        ]
    });
}

#[test]
fn r1939_7_garbage_reply_is_a_fatal_error() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("HTTP/1.1 400 Bad Request\r\n+OK\r\n")
                .expect(["error BadStatusLine { id: Some(CommandId(0)) }"]),
        ]
    });
}

//! Bad input from the server (issue 4 point 8): garbage and negative greetings,
//! over-long lines, listings and bodies past their limits, bodies that never end.
//! Every case gives a clear error and a defined state, never a panic, never
//! unbounded memory.

use pop3_proto::client::{Client, ClientConfig, ClientError, Event, Phase, SendError};
use pop3_proto::framing::FramingError;
use pop3_proto::secret::Secret;
use pop3_proto::types::{
    Command, Extension, Keyword, LanguageRange, MessageNumber, Password, Username, Xtnd,
};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{body, check, Act, Step};
use pop3_proto_tests::MachineExt as _;
use pop3_proto_tests::TV1_MSG1;

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn login() -> Vec<Step> {
    vec![
        Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
        Step::send(Command::User(Username::new("mrose").unwrap()))
            .client("USER mrose\r\n")
            .server("+OK\r\n")
            .expect(["#0 +OK"]),
        Step::send(Command::Pass(Password::new("tanstaaf").unwrap()))
            .client("PASS tanstaaf\r\n")
            .server("+OK locked\r\n")
            .expect(["#1 +OK locked"]),
    ]
}

fn with(config: ClientConfig, tail: impl Fn() -> Vec<Step>) -> pop3_proto_tests::script::Outcome {
    check(config, || {
        let mut s = login();
        s.extend(tail());
        s
    })
}

// ----- greetings -----

#[test]
fn e23_negative_greeting_is_a_refusal() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("-ERR [SYS/TEMP] too many connections\r\n")
                .expect(["error GreetingRefused -ERR [SYS/TEMP]{SysTemp} too many connections"]),
            Step::send(Command::Quit).expect(["refused Closed"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

#[test]
fn r1939_18_garbage_greeting_is_a_refusal() {
    for garbage in [
        &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
        b"* OK IMAP4rev1 ready\r\n",
        b"220 smtp.example.com ESMTP\r\n",
        b"+OKAY\r\n",
        b"\r\n",
    ] {
        check(ClientConfig::default(), || {
            vec![Step::server_first(garbage).expect(["error GreetingRefused (not a status line)"])]
        });
    }
}

#[test]
fn r1939_28_malformed_timestamp_is_never_used_for_apop() {
    for greeting in [
        "+OK hello <no-at-sign>\r\n",
        "+OK hello <a@b@c>\r\n",
        "+OK hello <>\r\n",
        "+OK hello <@host>\r\n",
        // E-7: the first pair counts; a good one later does not rescue it.
        "+OK hello <bad> <1896.697170952@dbc.mtview.ca.us>\r\n",
        "+OK no timestamp at all\r\n",
    ] {
        let mut client = Client::new(ClientConfig::default());
        client.enqueue_all(greeting.as_bytes());
        assert!(
            matches!(
                client.next_event(),
                Ok(Some(Event::Greeting { apop: false, .. }))
            ),
            "{greeting}"
        );
        assert!(client.apop_timestamp().is_none());
        assert_eq!(
            client.apop(Username::new("mrose").unwrap(), &Secret::new(b"x".to_vec())),
            Err(SendError::NoApopTimestamp)
        );
        assert!(!client.has_output());
    }
    let mut client = Client::new(ClientConfig::default());
    client.enqueue_all(b"+OK hi <1896.697170952@dbc.mtview.ca.us> there\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { apop: true, .. }))
    ));
    assert_eq!(
        client.apop_timestamp().unwrap().as_str(),
        "<1896.697170952@dbc.mtview.ca.us>"
    );
}

// ----- over-long lines -----

#[test]
fn e14_over_long_status_line_is_a_fatal_framing_error() {
    let config = ClientConfig::default().with_max_line(64);
    let long = format!("+OK {}\r\n", "x".repeat(100));
    let outcome = with(config, || {
        vec![
            Step::send(Command::Noop)
                .client("NOOP\r\n")
                .server(&long)
                .expect([
                    "error Framing { id: Some(CommandId(2)), error: LineTooLong { limit: 64, skipped: 106 } }",
                ]),
            Step::send(Command::Noop).expect(["refused Closed"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

#[test]
fn e14_over_long_greeting_is_a_fatal_framing_error() {
    let long = format!("+OK {}\r\n", "g".repeat(10_000));
    check(ClientConfig::default(), || {
        vec![Step::server_first(&long).expect([
            "error Framing { id: None, error: LineTooLong { limit: 8192, skipped: 10006 } }",
        ])]
    });
}

#[test]
fn e5_bare_lf_is_an_error_when_strict_and_a_line_end_when_lenient() {
    check(ClientConfig::default(), || {
        vec![Step::server_first("+OK ready\n")
            .expect(["error Framing { id: None, error: BareLf { skipped: 10 } }"])]
    });
    let lenient = ClientConfig::default()
        .with_allow_bare_lf(true)
        .with_lf_to_crlf(true);
    check(lenient, || {
        vec![
            Step::server_first("+OK ready\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::User(Username::new("u").unwrap()))
                .client("USER u\r\n")
                .server("+OK\n")
                .expect(["#0 +OK"]),
            Step::send(Command::Pass(Password::new("p").unwrap()))
                .client("PASS p\r\n")
                .server("+OK\n")
                .expect(["#1 +OK"]),
            Step::send(Command::Retr(n(1)))
                .client("RETR 1\r\n")
                .server("+OK\nline\n..dot\n.\n")
                .expect([
                    "#2 body-start +OK".to_string(),
                    body(2, b"line\r\n.dot\r\n"),
                    "#2 body-end 12".to_string(),
                ]),
        ]
    });
}

// ----- listings -----

#[test]
fn e14_listing_limits_max_listing_lines_and_the_session_continues() {
    let config = ClientConfig::default().with_max_listing_lines(2);
    let outcome = with(config, || {
        vec![
            Step::send(Command::List(None))
                .client("LIST\r\n")
                .server("+OK\r\n1 10\r\n2 20\r\n3 30\r\n.\r\n")
                .expect([
                    "error ListingTooLarge { id: CommandId(2), max_lines: 2, max_bytes: 67108864 }",
                ]),
            Step::send(Command::List(None))
                .client("LIST\r\n")
                .server("+OK\r\n1 10\r\n2 20\r\n.\r\n")
                .expect(["#3 list [1 10, 2 20]"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Transaction);
}

#[test]
fn e14_listing_limits_max_listing_bytes_for_uidl_and_capa() {
    let config = ClientConfig::default().with_max_listing_bytes(30);
    let outcome = with(config, || {
        vec![
            Step::send(Command::Uidl(None))
                .client("UIDL\r\n")
                .server("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n")
                .expect([
                    "error ListingTooLarge { id: CommandId(2), max_lines: 1000000, max_bytes: 30 }",
                ]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK\r\nIMPLEMENTATION a-very-long-implementation-name\r\nTOP\r\n.\r\n")
                .expect([
                    "error ListingTooLarge { id: CommandId(3), max_lines: 1000000, max_bytes: 30 }",
                ]),
            Step::send(Command::Noop)
                .client("NOOP\r\n")
                .server("+OK\r\n")
                .expect(["#4 +OK"]),
        ]
    });
    // A CAPA listing that was dropped is not a capability list.
    assert!(outcome.client.capabilities().is_none());
}

#[test]
fn r1939_32_malformed_listing_line_is_skipped_and_reported() {
    with(ClientConfig::default(), || {
        vec![
            Step::send(Command::List(None))
                .client("LIST\r\n")
                .server("+OK\r\n1 120\r\nbogus\r\n0 5\r\n2 200\r\n.\r\n")
                .expect([
                    "#2 list [1 120, 2 200]",
                    "error BadListingLine { id: CommandId(2) }",
                ]),
            Step::send(Command::Stat)
                .client("STAT\r\n")
                .server("+OK two 320\r\n")
                .expect(["error MalformedReply #3 +OK two 320"]),
            Step::send(Command::Noop)
                .client("NOOP\r\n")
                .server("+OK\r\n")
                .expect(["#4 +OK"]),
        ]
    });
}

// ----- bodies -----

#[test]
fn e14_max_body_hands_out_exactly_the_limit_then_skips_and_continues() {
    let config = ClientConfig::default().with_max_body(Some(10));
    with(config, || {
        vec![
            Step::send(Command::Retr(n(1)))
                .client("RETR 1\r\n")
                .server([&b"+OK 120 octets\r\n"[..], TV1_MSG1, b".\r\n"].concat())
                .expect([
                    "#2 body-start +OK 120 octets".to_string(),
                    body(2, &TV1_MSG1[..10]),
                    "error BodyTooLarge { id: CommandId(2), limit: 10 }".to_string(),
                ]),
            Step::send(Command::Retr(n(2)))
                .client("RETR 2\r\n")
                .server("+OK\r\n0123456789\r\n.\r\n")
                .expect([
                    "#3 body-start +OK".to_string(),
                    body(3, b"0123456789"),
                    "error BodyTooLarge { id: CommandId(3), limit: 10 }".to_string(),
                ]),
            // A body of exactly the limit is fine.
            Step::send(Command::Retr(n(3)))
                .client("RETR 3\r\n")
                .server("+OK\r\n..345678\r\n.\r\n")
                .expect([
                    "#4 body-start +OK".to_string(),
                    body(4, b".345678\r\n"),
                    "#4 body-end 9".to_string(),
                ]),
            Step::send(Command::Dele(n(1)))
                .client("DELE 1\r\n")
                .server("+OK deleted\r\n")
                .expect(["#5 +OK deleted"]),
        ]
    });
}

#[test]
fn e14_bodies_have_no_line_limit() {
    let line = vec![b'z'; 100_000];
    let wire = [&b"+OK\r\n"[..], &line, b"\r\n.\r\n"].concat();
    let expected = [&line[..], b"\r\n"].concat();
    with(ClientConfig::default(), || {
        vec![Step::send(Command::Retr(n(1)))
            .client("RETR 1\r\n")
            .server(&wire)
            .expect([
                "#2 body-start +OK".to_string(),
                body(2, &expected),
                "#2 body-end 100002".to_string(),
            ])]
    });
}

#[test]
fn e1_err_to_every_multi_line_command_is_one_line() {
    let config = ClientConfig::default().with_pipeline_without_capability(true);
    with(config, || {
        let sends = [
            Command::List(None),
            Command::Uidl(None),
            Command::Capa,
            Command::Retr(n(9)),
            Command::Top {
                msg: n(9),
                lines: 0,
            },
            Command::Lang(None),
            Command::Xtnd(Xtnd::Bboards(None)),
        ];
        let mut steps: Vec<Step> = sends
            .into_iter()
            .map(|c| {
                let line = pop3_proto::encode::Encode::to_vec(&c);
                Step::send(c).client(line)
            })
            .collect();
        steps.push(
            Step::new(Act::Extension(
                Extension::command(Keyword::new("XLST").unwrap(), vec![]).unwrap(),
                true,
            ))
            .client("XLST\r\n"),
        );
        steps.push(Step::send(Command::Noop).client("NOOP\r\n").server(
            "-ERR a\r\n-ERR b\r\n-ERR c\r\n-ERR d\r\n-ERR e\r\n-ERR f\r\n-ERR g\r\n-ERR h\r\n+OK\r\n",
        ).expect([
            "#2 -ERR a", "#3 -ERR b", "#4 -ERR c", "#5 -ERR d", "#6 -ERR e", "#7 -ERR f",
            "#8 -ERR g", "#9 -ERR h", "#10 +OK",
        ]));
        steps
    });
}

#[test]
fn r6856_6_lang_listing_and_single_line_lang() {
    with(ClientConfig::default(), || {
        vec![
            Step::send(Command::Lang(Some(LanguageRange::new("MUL").unwrap())))
                .client("LANG MUL\r\n")
                .server("-ERR invalid language MUL\r\n")
                .expect(["#2 -ERR invalid language MUL"]),
            Step::send(Command::Lang(None))
                .client("LANG\r\n")
                .server("+OK Language listing follows:\r\nen English\r\nen-boont English Boontling dialect\r\nde Deutsch\r\nit Italiano\r\nes Espanol\r\nsv Svenska\r\n.\r\n")
                .expect(["#3 lang [en English, en-boont English Boontling dialect, de Deutsch, it Italiano, es Espanol, sv Svenska]"]),
            Step::send(Command::Lang(Some(LanguageRange::new("es").unwrap())))
                .client("LANG es\r\n")
                .server("+OK es Idioma cambiado\r\n")
                .expect(["#4 language es"]),
        ]
    });
}

// ----- end of input -----

#[test]
fn r1939_16_connection_closed_inside_a_body_is_an_error() {
    let outcome = with(ClientConfig::default(), || {
        vec![
            Step::send(Command::Retr(n(1)))
                .client("RETR 1\r\n")
                .server("+OK\r\nFrom: a\r\n\r\nbody that never ends\r\n")
                .expect([
                    "#2 body-start +OK".to_string(),
                    body(2, b"From: a\r\n\r\nbody that never ends\r\n"),
                ]),
            Step::new(Act::ConnectionClosed)
                .expect(["error ConnectionClosed { id: Some(CommandId(2)) }"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

#[test]
fn r1939_16_connection_closed_without_quit_or_before_greeting() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK rea"),
            Step::new(Act::ConnectionClosed).expect(["error ConnectionClosed { id: None }"]),
        ]
    });
    with(ClientConfig::default(), || {
        vec![Step::new(Act::ConnectionClosed).expect(["error ConnectionClosed { id: None }"])]
    });
    with(ClientConfig::default(), || {
        vec![
            Step::send(Command::Stat)
                .client("STAT\r\n")
                .server("+OK 1 "),
            Step::new(Act::ConnectionClosed)
                .expect(["error ConnectionClosed { id: Some(CommandId(2)) }"]),
        ]
    });
}

#[test]
fn e14_input_that_never_ends_keeps_memory_bounded() {
    // A status line that never ends: the framer drops it as it comes.
    let mut client = Client::new(ClientConfig::default().with_max_line(1024));
    let chunk = vec![b'a'; 4096];
    client.enqueue_all(b"+OK ");
    for _ in 0..256 {
        client.enqueue_all(&chunk);
        assert_eq!(client.next_event(), Ok(None));
        assert!(client.buffered_input() <= 1024);
    }
    client.enqueue_all(b"\r\n");
    assert!(matches!(
        client.next_event(),
        Err(ClientError::Framing {
            error: FramingError::LineTooLong { .. },
            ..
        })
    ));

    // A body that never ends: streamed out, nothing kept.
    let mut client = Client::new(ClientConfig::default());
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    client
        .send(Command::User(Username::new("u").unwrap()))
        .unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    client
        .send(Command::Pass(Password::new("p").unwrap()))
        .unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    client.send(Command::Retr(n(1))).unwrap();
    client.enqueue_all(b"+OK\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::BodyStart { .. }))
    ));
    let line = b"0123456789012345678901234567890123456789012345678901234567890123456789012345\r\n";
    let chunk: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let mut total = 0u64;
    for _ in 0..160 {
        client.enqueue_all(&chunk);
        while let Ok(Some(Event::BodyChunk { data, .. })) = client.next_event() {
            total += data.len() as u64;
        }
        assert!(client.buffered_input() <= 1);
    }
    assert_eq!(total, 160 * 64 * 1024);
    client.enqueue_eof();
    assert!(matches!(
        client.next_event(),
        Err(ClientError::ConnectionClosed { id: Some(_) })
    ));
}

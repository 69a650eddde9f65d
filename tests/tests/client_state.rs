//! The client's command checks: state (RFC 1939 §3), USER/PASS sequencing
//! (IMPL-4, E-18), advertised capabilities, pipelined predictions, the capability
//! cache (E-20), XTND and extensions.

use pop3_proto::client::{Client, ClientConfig, Event, Phase, SendError};
use pop3_proto::options::ReplyOptions;
use pop3_proto::secret::Secret;
use pop3_proto::types::{
    Command, Extension, Keyword, MessageNumber, Param, Password, Username, Xtnd,
};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{body, check, Act, Step};
use pop3_proto_tests::MachineExt as _;

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn user(name: &str) -> Command {
    Command::User(Username::new(name).unwrap())
}

fn pass(p: &str) -> Command {
    Command::Pass(Password::new(p).unwrap())
}

fn greeted(config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client.enqueue_all(b"+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { .. }))
    ));
    client
}

fn wrong(command: &'static str, state: &'static str) -> SendError {
    SendError::WrongState { command, state }
}

#[test]
fn r1939_17_nothing_before_the_greeting() {
    let mut client = Client::new(ClientConfig::default());
    assert_eq!(client.send(Command::Capa), Err(SendError::MustWait));
    assert_eq!(
        client.apop(Username::new("u").unwrap(), &Secret::new(b"s".to_vec())),
        Err(SendError::MustWait)
    );
    assert_eq!(client.phase(), Phase::Greeting);
}

#[test]
fn impl4_no_second_user_and_no_apop_after_a_successful_user() {
    let mut client = greeted(ClientConfig::default());
    client.send(user("mrose")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    let after_user = "after a successful USER (IMPL-4)";
    assert_eq!(client.send(user("other")), Err(wrong("USER", after_user)));
    assert_eq!(
        client.apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec())
        ),
        Err(wrong("APOP", after_user))
    );
    // PASS fails: now USER and APOP are allowed again, PASS is not (E-18).
    client.send(pass("bad")).unwrap();
    client.enqueue_all(b"-ERR [AUTH] invalid password\r\n");
    client.next_event().unwrap();
    let after = "except right after a successful USER (R1939-26)";
    assert_eq!(client.send(pass("again")), Err(wrong("PASS", after)));
    client
        .apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec()),
        )
        .unwrap();
    client.enqueue_all(b"-ERR [AUTH] no\r\n");
    client.next_event().unwrap();
    client.send(user("mrose")).unwrap();
    client.enqueue_all(b"-ERR no such user\r\n");
    client.next_event().unwrap();
    // A failed USER does not allow PASS.
    assert_eq!(client.send(pass("x")), Err(wrong("PASS", after)));
}

#[test]
fn r1939_26_pass_only_right_after_user() {
    let mut client = greeted(ClientConfig::default());
    let after = "except right after a successful USER (R1939-26)";
    assert_eq!(client.send(pass("x")), Err(wrong("PASS", after)));
    client.send(user("mrose")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    // Another command in between breaks "right after".
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nUSER\r\n.\r\n");
    client.next_event().unwrap();
    assert_eq!(client.send(pass("x")), Err(wrong("PASS", after)));
}

#[test]
fn spec_2_2_commands_checked_against_the_state() {
    let mut client = greeted(ClientConfig::default());
    for c in [
        Command::Stat,
        Command::List(None),
        Command::Retr(n(1)),
        Command::Dele(n(1)),
        Command::Noop,
        Command::Rset,
        Command::Top {
            msg: n(1),
            lines: 0,
        },
        Command::Uidl(None),
        Command::Xtnd(Xtnd::Bboards(None)),
    ] {
        assert!(
            matches!(
                client.send(c.clone()),
                Err(SendError::WrongState {
                    state: "before login",
                    ..
                })
            ),
            "{c:?}"
        );
    }
    client.send(user("mrose")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    client.send(pass("tanstaaf")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    assert_eq!(client.phase(), Phase::Transaction);
    for c in [user("x"), Command::Stls, Command::Utf8] {
        assert!(
            matches!(
                client.send(c.clone()),
                Err(SendError::WrongState {
                    state: "after login",
                    ..
                })
            ),
            "{c:?}"
        );
    }
    assert!(matches!(
        client.apop(Username::new("u").unwrap(), &Secret::new(b"s".to_vec())),
        Err(SendError::WrongState { .. })
    ));
    // CAPA is valid in both states (R2449-7).
    client.send(Command::Capa).unwrap();
}

#[test]
fn r2449_17_pipelined_login_predicts_transaction_and_survives_failure() {
    let config = ClientConfig::default().with_pipeline_without_capability(true);
    check(config, || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(user("mrose")).client("USER mrose\r\n"),
            Step::send(pass("wrong")).client("PASS wrong\r\n"),
            // Sent as if PASS will succeed; answered -ERR when it does not.
            Step::send(Command::Stat).client("STAT\r\n"),
            // A second USER right behind the first is still refused.
            Step::send(user("again"))
                .expect(["refused WrongState { command: \"USER\", state: \"after login\" }"]),
            Step::new(Act::Nothing)
                .server("+OK\r\n-ERR [AUTH] wrong password\r\n-ERR not logged in\r\n")
                .expect([
                    "#0 +OK",
                    "#1 -ERR [AUTH]{Auth} wrong password",
                    "#2 -ERR not logged in",
                ]),
            Step::send(user("mrose")).client("USER mrose\r\n"),
            Step::send(pass("tanstaaf")).client("PASS tanstaaf\r\n"),
            Step::send(Command::Stat).client("STAT\r\n"),
            Step::send(Command::Quit).client("QUIT\r\n"),
            Step::send(Command::Noop).expect(["refused Closed"]),
            Step::new(Act::Nothing)
                .server("+OK\r\n+OK locked\r\n+OK 2 320\r\n+OK bye\r\n")
                .expect([
                    "#3 +OK",
                    "#4 +OK locked",
                    "#5 stat 2 320",
                    "#6 closed +OK bye",
                ]),
        ]
    });
}

#[test]
fn r2449_capabilities_checked_once_known() {
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nSASL PLAIN\r\n.\r\n");
    client.next_event().unwrap();
    assert_eq!(
        client.send(user("mrose")),
        Err(SendError::NotAdvertised { capability: "USER" })
    );
    assert_eq!(
        client.send(Command::Utf8),
        Err(SendError::NotAdvertised { capability: "UTF8" })
    );
    // APOP has no capability (R2449-6): the greeting decides.
    client
        .apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec()),
        )
        .unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    assert_eq!(
        client.send(Command::Top {
            msg: n(1),
            lines: 0
        }),
        Err(SendError::NotAdvertised { capability: "TOP" })
    );
    assert_eq!(
        client.send(Command::Uidl(None)),
        Err(SendError::NotAdvertised { capability: "UIDL" })
    );
    client.send(Command::Retr(n(1))).unwrap();

    // Without a CAPA reply nothing is assumed; with the check off nothing is refused.
    let mut client = greeted(ClientConfig::default().with_check_capabilities(false));
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\n.\r\n");
    client.next_event().unwrap();
    client.send(user("mrose")).unwrap();
}

#[test]
fn e20_login_delay_user_asks_for_capa_after_login() {
    let mut client = greeted(ClientConfig::default());
    assert!(!client.should_refresh_capabilities());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nUSER\r\nLOGIN-DELAY 900 USER\r\nEXPIRE 5 USER\r\n.\r\n");
    client.next_event().unwrap();
    // Not before login: the exact values only come in TRANSACTION.
    assert!(!client.should_refresh_capabilities());
    client.send(user("mrose")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    client.send(pass("tanstaaf")).unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    assert!(client.should_refresh_capabilities());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nUSER\r\nLOGIN-DELAY 1800\r\nEXPIRE 30\r\n.\r\n");
    client.next_event().unwrap();
    assert!(!client.should_refresh_capabilities());

    // EXPIRE ... USER alone is enough.
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nUSER\r\nEXPIRE NEVER USER\r\n.\r\n");
    client.next_event().unwrap();
    client
        .apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec()),
        )
        .unwrap();
    client.enqueue_all(b"+OK\r\n");
    client.next_event().unwrap();
    assert!(client.should_refresh_capabilities());
}

#[test]
fn r1082_xtnd_listings_and_lenient_spaced_ok() {
    let config =
        ClientConfig::default().with_reply_options(ReplyOptions::strict().with_spaced_status(true));
    check(config, || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK\r\n")
                .expect(["#0 +OK"]),
            Step::send(pass("x"))
                .client("PASS x\r\n")
                .server("+OK\r\n")
                .expect(["#1 +OK"]),
            Step::send(Command::Xtnd(Xtnd::Bboards(None)))
                .client("XTND BBOARDS\r\n")
                .server("+OK XTND\r\nsystem 10\r\nmh-users 100\r\n.\r\n")
                .expect(["#2 groups [system 10, mh-users 100]"]),
            // IMPL-15: the RFC's "+ OK" typo, accepted for XTND in lenient mode.
            Step::send(Command::Xtnd(Xtnd::Bboards(Some(
                Param::new("system").unwrap(),
            ))))
            .client("XTND BBOARDS system\r\n")
            .server("+ OK XTND\r\nsystem 10\r\n.\r\n")
            .expect(["#3 groups [system 10]"]),
            // R1082-4: with a group open, scan listings carry MAXIMA.
            Step::send(Command::List(None))
                .client("LIST\r\n")
                .server("+OK\r\n1 120 10\r\n.\r\n")
                .expect(["#4 list [1 120 10]"]),
            // "+ OK" for anything but XTND stays an error.
            Step::send(Command::Noop)
                .client("NOOP\r\n")
                .server("+ OK\r\n")
                .expect(["error UnexpectedContinuation { id: CommandId(5) }"]),
        ]
    });
}

#[test]
fn impl16_extension_commands_with_caller_declared_shape() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Extension(
                Extension::command(Keyword::new("XLST").unwrap(), vec![]).unwrap(),
                true,
            ))
            .client("XLST\r\n")
            .server("+OK list\r\n..a\r\nb\r\n.\r\n")
            .expect([
                "#0 body-start +OK list".to_string(),
                body(0, b".a\r\nb\r\n"),
                "#0 body-end 7".to_string(),
            ]),
            Step::new(Act::Extension(
                Extension::command(
                    Keyword::new("XSET").unwrap(),
                    vec![Param::new("1").unwrap()],
                )
                .unwrap(),
                false,
            ))
            .client("XSET 1\r\n")
            .server("+OK set\r\n")
            .expect(["#1 +OK set"]),
        ]
    });
}

#[test]
fn r2449_17_events_carry_their_ids_in_order() {
    let mut client = greeted(ClientConfig::default());
    let id = client.send(Command::Capa).unwrap();
    assert_eq!(id.sequence(), 0);
    client.enqueue_all(b"+OK\r\nTOP\r\n.\r\n");
    let event = client.next_event().unwrap().unwrap();
    assert_eq!(event.id(), Some(id));
    assert!(event.is_final());
    assert_eq!(client.in_flight(), 0);
}

#[test]
fn impl13_enqueue_buf_gives_the_same_events_as_enqueue_input() {
    let stream: &[u8] = b"+OK ready\r\n";
    let mut a = Client::new(ClientConfig::default());
    let mut b = Client::new(ClientConfig::default());
    a.enqueue_all(stream);
    let mut buf = bytes::BytesMut::from(stream);
    b.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(a.next_event(), b.next_event());
    for c in [&mut a, &mut b] {
        c.send(user("u")).unwrap();
    }
    a.enqueue_all(b"+OK\r\n");
    let mut buf = bytes::BytesMut::from(&b"+OK\r\n"[..]);
    b.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(a.next_event(), b.next_event());
    // A reply handed over before its command went out is caught either way.
    a.enqueue_all(b"+OK early\r\n");
    let mut buf = bytes::BytesMut::from(&b"+OK early\r\n"[..]);
    b.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    for c in [&mut a, &mut b] {
        c.send(pass("p")).unwrap();
    }
    assert_eq!(a.next_event(), b.next_event());
    assert!(a.next_event().is_err());
}

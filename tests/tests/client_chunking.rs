//! Chunk independence (E-4: the events never depend on how the input is split): random splits of a
//! scripted server stream give the same events, once the body chunks of each
//! command are joined, and the same client bytes, as the stream fed whole.

use pop3_proto::client::ClientConfig;
use pop3_proto::types::{Command, MessageNumber, Password, Username};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{run, Act, Feed, Step, TestMechanism};
use pop3_proto_tests::MachineExt as _;
use proptest::prelude::*;

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

/// A pipelined session exercising every reply shape, limits and leniencies,
/// with all of the server's replies in one stream.
fn session(tail: &'static [u8]) -> Vec<Step> {
    let sends = [
        Command::Capa,
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("tanstaaf").unwrap()),
        Command::Stat,
        Command::List(None),
        Command::Uidl(None),
        Command::List(Some(n(2))),
        Command::Uidl(Some(n(9))),
        Command::Retr(n(1)),
        Command::Top {
            msg: n(2),
            lines: 0,
        },
        Command::Retr(n(3)),
        Command::List(None),
        Command::Uidl(None),
        Command::Noop,
        Command::Quit,
    ];
    let mut steps = vec![Step::server_first(
        "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
    )];
    steps.extend(sends.into_iter().map(|c| Step::new(Act::Send(c))));
    let server: &[u8] = b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900 USER\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n\
+OK mrose is a real hoopy frood\r\n\
+OK [IN-USE] just kidding\r\n\
+OK 3 320\r\n\
+OK 3 messages\r\n1 120\r\n2 200\r\n3 1000\r\n.\r\n\
+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n3 abc\r\n.\r\n\
+OK 2 200\r\n\
-ERR [SYS/TEMP] no such message\r\n\
+OK 120 octets\r\nFrom: a\r\n\r\n..\r\n...\r\n.x unstuffed\r\nlone\rcr\r\nbare\nlf\r\n..\rdotcr\r\n\r\n.\r\n\
+OK\r\nFrom: b@example.com\r\nSubject: two\r\n\r\n.\r\n\
+OK 1000 octets\r\n0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij\r\n..more\r\n.\r\n\
+OK\r\n1 1\r\n2 2\r\n3 3\r\n4 4\r\n5 5\r\n6 6\r\n7 7\r\n8 8\r\n9 9\r\n10 10\r\n.\r\n\
+OK\r\n1 ok-id\r\nnot a listing\r\n2 another-id\r\n.\r\n\
+OK\r\n\
+OK bye\r\n";
    steps.push(Step::new(Act::Nothing).server([server, tail].concat()));
    steps
}

fn config() -> ClientConfig {
    ClientConfig::default()
        .with_pipeline_without_capability(true)
        .with_max_body(Some(64))
        .with_max_listing_lines(9)
}

/// An AUTH exchange over several steps, then a STLS injection.
fn auth_then_stls_injection() -> Vec<Step> {
    vec![
        Step::server_first("+OK ready\r\n"),
        Step::new(Act::Auth(
            TestMechanism::new("X-TEST")
                .exchange(b"", b"first")
                .exchange(b"second challenge", b"")
                .boxed(),
        ))
        .server("+\r\n"),
        Step::new(Act::Nothing).server("+ c2Vjb25kIGNoYWxsZW5nZQ==\r\n"),
        Step::new(Act::Nothing).server("-ERR [AUTH] no\r\n"),
        Step::new(Act::Auth(TestMechanism::new("X-BAD").boxed())).server("+ !!!!\r\n"),
        Step::new(Act::Nothing).server("-ERR cancelled\r\n"),
        Step::new(Act::Send(Command::Stls))
            .server(&b"+OK Begin TLS negotiation\r\n\x16\x03\x01\x00\xa5+OK injected\r\n"[..]),
    ]
}

/// A session ending in a fatal error in the middle of the stream.
fn fatal_midway() -> Vec<Step> {
    let mut steps = vec![Step::server_first("+OK ready\r\n")];
    steps.push(Step::new(Act::Send(Command::Capa)));
    steps.push(Step::new(Act::Send(Command::Noop)));
    steps.push(Step::new(Act::Nothing).server(
        "+OK\r\nUSER\r\n.\r\n-ERR not logged in\r\n+OK unsolicited\r\n+OK more\r\n".as_bytes(),
    ));
    steps
}

fn splits(len: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..len.max(1), 0..48).prop_map(|mut v| {
        v.sort_unstable();
        v.dedup();
        v
    })
}

fn same_as_whole(config: ClientConfig, make: fn() -> Vec<Step>, feed: Feed) {
    let whole = run(config, make(), &Feed::Whole);
    let split = run(config, make(), &feed);
    assert_eq!(split.client_wrote(), whole.client_wrote(), "{feed:?}");
    assert_eq!(split.items(), whole.items(), "{feed:?}");
    assert_eq!(split.client.phase(), whole.client.phase());
    assert_eq!(split.client.fatal_error(), whole.client.fatal_error());
}

fn full_session() -> Vec<Step> {
    session(b"")
}

fn session_with_trailing_garbage() -> Vec<Step> {
    session(b"+OK who asked\r\n")
}

#[test]
fn e4_session_whole_gives_the_expected_events() {
    // The reference itself: every reply understood, limits reported, in order.
    let outcome = run(config(), full_session(), &Feed::Whole);
    let rendered: Vec<String> = outcome
        .items()
        .iter()
        .map(pop3_proto_tests::script::render_item)
        .collect();
    let expected = [
        "greeting apop=true +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
        "#0 capa Top, User, Sasl([Mechanism(\"CRAM-MD5\"), Mechanism(\"KERBEROS_V4\")]), RespCodes, LoginDelay { seconds: 900, per_user: true }, Pipelining, Expire { expire: Days(60), per_user: false }, Uidl, Implementation(Text(\"Shlemazle-Plotz-v302\"))",
        "#1 +OK mrose is a real hoopy frood",
        "#2 +OK [IN-USE]{InUse} just kidding",
        "#3 stat 3 320",
        "#4 list [1 120, 2 200, 3 1000]",
        "#5 uidl [1 whqtswO00WBw418f9t5JxYwZ, 2 QhdPYR:00WBw1Ph7x7, 3 abc]",
        "#6 scan 2 200",
        "#7 -ERR [SYS/TEMP]{SysTemp} no such message",
        "#8 body-start +OK 120 octets",
        "#8 body \"From: a\\r\\n\\r\\n.\\r\\n..\\r\\nx unstuffed\\r\\nlone\\rcr\\r\\nbare\\nlf\\r\\n.\\rdotcr\\r\\n\\r\\n\"",
        "#8 body-end 60",
        "#9 body-start +OK",
        "#9 body \"From: b@example.com\\r\\nSubject: two\\r\\n\\r\\n\"",
        "#9 body-end 37",
        "#10 body-start +OK 1000 octets",
        "#10 body \"0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij\\r\\n.m\"",
        "error BodyTooLarge { id: CommandId(10), limit: 64 }",
        "error ListingTooLarge { id: CommandId(11), max_lines: 9, max_bytes: 67108864 }",
        "#12 uidl [1 ok-id, 2 another-id]",
        "error BadListingLine { id: CommandId(12) }",
        "#13 +OK",
        "#14 closed +OK bye",
    ];
    assert_eq!(rendered, expected);
}

#[test]
fn e4_one_byte_at_a_time_matches_whole() {
    same_as_whole(config(), full_session, Feed::ByteAtATime);
    same_as_whole(config(), session_with_trailing_garbage, Feed::ByteAtATime);
    same_as_whole(
        ClientConfig::default(),
        auth_then_stls_injection,
        Feed::ByteAtATime,
    );
    same_as_whole(ClientConfig::default(), fatal_midway, Feed::ByteAtATime);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn e4_random_splits_give_identical_coalesced_events(cuts in splits(1100)) {
        same_as_whole(config(), full_session, Feed::Splits(cuts.clone()));
        same_as_whole(config(), session_with_trailing_garbage, Feed::Splits(cuts));
    }

    #[test]
    fn e4_random_splits_of_auth_stls_and_fatal_sessions(cuts in splits(80)) {
        same_as_whole(ClientConfig::default(), auth_then_stls_injection, Feed::Splits(cuts.clone()));
        same_as_whole(ClientConfig::default(), fatal_midway, Feed::Splits(cuts));
    }
}

/// Fragments a hostile or broken server might send, glued in random order.
const FRAGMENTS: &[&[u8]] = &[
    b"+OK",
    b"-ERR",
    b" ",
    b"\r\n",
    b"\n",
    b"\r",
    b".",
    b"..",
    b"+ ",
    b"+",
    b"[IN-USE]",
    b"[SYS/TEMP/",
    b"1 120",
    b"2 QhdPYR:00WBw1Ph7x7",
    b"SASL PLAIN",
    b"PIPELINING",
    b"dGVzdA==",
    b"=AAA",
    b"\x00",
    b"\xff\xfe",
    b"<1896.697170952@dbc.mtview.ca.us>",
];

fn hostile() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(FRAGMENTS).prop_map(|f| f.to_vec()),
            prop::collection::vec(any::<u8>(), 0..8),
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Issue 4 point 8: whatever the server sends, the machine never panics, stays
    /// within its limits, and after a fatal error only repeats it.
    #[test]
    fn invariant1_arbitrary_server_bytes_never_panic(bytes in hostile(), cuts in splits(600)) {
        use pop3_proto::client::{Client, Phase};
        let config = ClientConfig::default().with_pipeline_without_capability(true).with_max_line(128).with_max_sasl_line(128).with_max_listing_lines(8).with_max_listing_bytes(64).with_max_body(Some(32));
        let mut client = Client::new(config);
        client.enqueue_all(b"+OK ready <a@b>\r\n");
        let _ = client.next_event();
        for c in [
            Command::Capa,
            Command::User(Username::new("u").unwrap()),
            Command::Pass(Password::new("p").unwrap()),
            Command::Stat,
            Command::List(None),
            Command::Uidl(Some(n(2))),
            Command::Retr(n(1)),
            Command::Top { msg: n(1), lines: 2 },
            Command::Noop,
        ] {
            let _ = client.send(c);
        }
        let mut fatal = None;
        for piece in Feed::Splits(cuts).pieces_of(&bytes) {
            client.enqueue_all(piece);
            for _ in 0..10_000 {
                match client.next_event() {
                    Ok(Some(_)) => prop_assert!(fatal.is_none()),
                    Ok(None) => break,
                    Err(e) => {
                        if let Some(f) = &fatal {
                            prop_assert_eq!(f, &e);
                        }
                        fatal = Some(e);
                        prop_assert_eq!(client.phase(), Phase::Closed);
                        break;
                    }
                }
            }
            prop_assert!(client.buffered_input() <= 128 + 8);
        }
        client.enqueue_eof();
        let _ = client.next_event();
    }
}

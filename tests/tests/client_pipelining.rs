//! Pipelining (R2449-17, IMPL-7): with PIPELINING listed, many commands go out
//! before their replies arrive, and the replies come back matched in order.

use pop3_proto::client::{Client, ClientConfig, Event, SendError};
use pop3_proto::types::{Command, MessageNumber, Password, Username};
use pop3_proto::Machine as _;
use pop3_proto_tests::script::{run, Act, Feed, Item, Step};
use pop3_proto_tests::MachineExt as _;

const MESSAGES: u32 = 1000;

/// Message `i`: a few header lines, then body lines of varying length, some of
/// which start with a dot or are a lone dot (so stuffing is exercised).
fn message(i: u32) -> Vec<u8> {
    let mut m = format!("From: sender{i}@example.com\r\nSubject: message {i}\r\n\r\n").into_bytes();
    for line in 0..(i % 23 + 1) {
        match (i + line) % 7 {
            0 => m.extend_from_slice(b".\r\n"),
            1 => m.extend_from_slice(format!(".leading dot {line}\r\n").as_bytes()),
            2 => m.extend_from_slice(b"..two dots\r\n"),
            3 => m.extend_from_slice(b"\r\n"),
            _ => m.extend_from_slice(
                format!("{}\r\n", "x".repeat(((i * 7 + line * 13) % 90) as usize)).as_bytes(),
            ),
        }
    }
    m
}

/// R1939-12, written independently of the crate's stuffer.
fn stuffed(m: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in m.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn script() -> (Vec<Step>, Vec<u8>) {
    let mut steps = vec![
        Step::server_first("+OK ready\r\n"),
        Step::send(Command::Capa)
            .client("CAPA\r\n")
            .server("+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"),
        Step::send(Command::User(Username::new("mrose").unwrap())).client("USER mrose\r\n"),
        Step::send(Command::Pass(Password::new("tanstaaf").unwrap())).client("PASS tanstaaf\r\n"),
    ];
    let mut client_bytes = Vec::new();
    for i in 1..=MESSAGES {
        let line = format!("RETR {i}\r\n");
        client_bytes.extend_from_slice(line.as_bytes());
        steps.push(Step::send(Command::Retr(MessageNumber::new(i).unwrap())).client(line));
    }
    let mut server = b"+OK\r\n+OK maildrop locked and ready\r\n".to_vec();
    for i in 1..=MESSAGES {
        let m = message(i);
        server.extend_from_slice(format!("+OK {} octets\r\n", m.len()).as_bytes());
        server.extend_from_slice(&stuffed(&m));
    }
    steps.push(Step::new(Act::Nothing).server(&server));
    (steps, client_bytes)
}

fn pipelining_1000_retrs(feed: Feed) {
    let (steps, retrs) = script();
    let outcome = run(ClientConfig::default(), steps, &feed);
    // Every RETR went out before any reply came back.
    let sent: Vec<u8> = outcome.steps[4..4 + MESSAGES as usize]
        .iter()
        .flat_map(|s| s.client.clone())
        .collect();
    assert_eq!(sent, retrs);
    for s in &outcome.steps[..4 + MESSAGES as usize] {
        assert!(
            s.items.iter().all(|i| matches!(
                i,
                Item::Event(Event::Greeting { .. } | Event::Capabilities { .. })
            )),
            "{:?}",
            s.items
        );
    }
    // Then 2 status lines and 1,000 bodies, in order, byte for byte.
    let last = outcome.steps.last().unwrap();
    assert_eq!(last.client, b"");
    assert_eq!(last.items.len(), 2 + 3 * MESSAGES as usize, "{feed:?}");
    let mut bodies = 0;
    for (k, i) in (1..=MESSAGES).enumerate() {
        let id = outcome.ids[4 + k].unwrap();
        let expected = message(i);
        match &last.items[2 + 3 * k..2 + 3 * k + 3] {
            [Item::Event(Event::BodyStart { id: a, line }), Item::Event(Event::BodyChunk { id: b, data }), Item::Event(Event::BodyEnd { id: c, size })] =>
            {
                assert_eq!((*a, *b, *c), (id, id, id));
                assert!(line.is_ok());
                assert_eq!(&data[..], &expected[..], "message {i}, {feed:?}");
                assert_eq!(*size, expected.len() as u64);
                bodies += 1;
            }
            other => panic!("message {i}, {feed:?}: {other:?}"),
        }
    }
    assert_eq!(bodies, MESSAGES);
    assert_eq!(outcome.client.in_flight(), 0);
    assert!(outcome.client.fatal_error().is_none());
}

#[test]
fn r2449_17_pipelining_1000_retrs_whole() {
    pipelining_1000_retrs(Feed::Whole);
}

#[test]
fn r2449_17_pipelining_1000_retrs_in_odd_chunks() {
    pipelining_1000_retrs(Feed::Chunks(1459));
    pipelining_1000_retrs(Feed::Chunks(7));
}

#[test]
fn r2449_17_pipelining_1000_retrs_byte_at_a_time() {
    pipelining_1000_retrs(Feed::ByteAtATime);
}

fn greeted(config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client.enqueue_all(b"+OK ready\r\n");
    client.next_event().unwrap();
    client
}

#[test]
fn impl7_one_at_a_time_without_pipelining_unless_opted_in() {
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    assert_eq!(client.send(Command::Noop), Err(SendError::MustWait));
    client.enqueue_all(b"+OK\r\nUSER\r\n.\r\n");
    client.next_event().unwrap();
    client
        .send(Command::User(Username::new("u").unwrap()))
        .unwrap();
    assert_eq!(
        client.send(Command::Pass(Password::new("p").unwrap())),
        Err(SendError::MustWait)
    );

    let mut client = greeted(ClientConfig::default().with_pipeline_without_capability(true));
    client
        .send(Command::User(Username::new("u").unwrap()))
        .unwrap();
    client
        .send(Command::Pass(Password::new("p").unwrap()))
        .unwrap();
    client.send(Command::Stat).unwrap();
    assert_eq!(client.in_flight(), 3);
    assert_eq!(
        &client.take_output().unwrap()[..],
        b"USER u\r\nPASS p\r\nSTAT\r\n"
    );
}

#[test]
fn r2449_17_max_in_flight_is_enforced() {
    let mut client = greeted(
        ClientConfig::default()
            .with_pipeline_without_capability(true)
            .with_max_in_flight(3),
    );
    for _ in 0..3 {
        client.send(Command::Capa).unwrap();
    }
    assert_eq!(
        client.send(Command::Capa),
        Err(SendError::TooManyInFlight { limit: 3 })
    );
    client.enqueue_all(b"+OK\r\n.\r\n");
    client.next_event().unwrap();
    client.send(Command::Capa).unwrap();
}

#[test]
fn r1939_23_nothing_after_a_pipelined_quit() {
    let mut client = greeted(ClientConfig::default().with_pipeline_without_capability(true));
    client.send(Command::Capa).unwrap();
    client.send(Command::Quit).unwrap();
    assert_eq!(client.send(Command::Capa), Err(SendError::Closed));
}

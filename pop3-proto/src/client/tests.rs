//! The client's side of the IO contract: the bounded input, recoverable failures
//! as events, the repeated error, continuations through the parser, and sending
//! past the capability check.

use alloc::vec::Vec;

use super::*;
use crate::machine::{Machine, StartTls};
use crate::sasl::PlainClient;
use crate::types::MessageNumber;

fn drain(client: &mut Client) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = client.next_event().unwrap() {
        events.push(event);
    }
    events
}

fn feed(client: &mut Client, data: &[u8]) -> Vec<Event> {
    assert_eq!(client.enqueue_input(data), data.len());
    drain(client)
}

fn logged_in(config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    feed(&mut client, b"+OK hi\r\n");
    client
        .send(Command::User(Username::new("a").unwrap()))
        .unwrap();
    feed(&mut client, b"+OK\r\n");
    client
        .send(Command::Pass(crate::types::Password::new("p").unwrap()))
        .unwrap();
    feed(&mut client, b"+OK\r\n");
    assert_eq!(client.phase(), Phase::Transaction);
    client.take_output();
    client
}

#[test]
fn input_room_bounds_what_is_taken() {
    let config = ClientConfig::default()
        .with_max_buffered_input(16)
        .with_max_line(16)
        .with_max_sasl_line(16);
    let mut client = Client::new(config);
    assert_eq!(client.input_room(), 16);
    let data = b"+OK a greeting\r\n+OK extra\r\n";
    // Only what fits is taken; the rest is the caller's.
    assert_eq!(client.enqueue_input(data), 16);
    assert_eq!(client.input_room(), 0);
    assert_eq!(client.enqueue_input(&data[16..]), 0);
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { .. }))
    ));
    assert_eq!(client.input_room(), 16);

    // enqueue_buf takes from the front and leaves the rest.
    let mut buf = BytesMut::from(&data[..]);
    let _ = buf.split_to(16);
    buf.extend_from_slice(&[b'x'; 20]);
    client.enqueue_buf(&mut buf);
    assert_eq!(client.buffered_input(), 16);
    assert_eq!(buf.len(), 11 + 20 - 16);
    assert_eq!(&buf[..], &[b'x'; 15][..]);
}

#[test]
fn input_bound_is_never_below_a_line() {
    let config = ClientConfig::default()
        .with_max_buffered_input(1)
        .with_max_line(100)
        .with_max_sasl_line(50);
    assert_eq!(Client::new(config).input_room(), 100);
    assert_eq!(ClientConfig::default().max_buffered_input, 256 * 1024);
}

#[test]
fn enqueue_buf_keeps_the_callers_bytes_without_a_copy() {
    let mut client = Client::new(ClientConfig::default());
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"+OK hi\r\n");
    let ptr = buf.as_ptr();
    client.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(client.input.as_ptr(), ptr);
}

#[test]
fn recoverable_failures_are_events_and_the_session_goes_on() {
    let mut client = logged_in(ClientConfig::default().with_max_body(Some(3)));
    let stat = client.send(Command::Stat).unwrap();
    let events = feed(&mut client, b"+OK lots\r\n");
    assert_eq!(
        events,
        [Event::Failed {
            id: stat,
            error: CommandError::MalformedReply {
                line: StatusLine::parse(b"+OK lots").unwrap()
            },
        }]
    );
    assert!(events.iter().all(Event::is_final));

    let retr = client
        .send(Command::Retr(MessageNumber::new(1).unwrap()))
        .unwrap();
    let events = feed(&mut client, b"+OK\r\nabcdef\r\n.\r\n");
    assert!(matches!(events.first(), Some(Event::BodyStart { id, .. }) if *id == retr));
    // Exactly the limit is handed out: the machine, not a second copy of the
    // limit in the decoder, cuts the body.
    let body: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::BodyChunk { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(body, b"abc");
    assert_eq!(
        events.last(),
        Some(&Event::Failed {
            id: retr,
            error: CommandError::BodyTooLarge { limit: 3 }
        })
    );

    // The session goes on.
    let noop = client.send(Command::Noop).unwrap();
    let events = feed(&mut client, b"+OK\r\n");
    assert!(matches!(events.as_slice(), [Event::Status { id, .. }] if *id == noop));
    assert!(!client.is_closed());
}

#[test]
fn stls_not_offered_names_the_capa_command() {
    let mut client = Client::new(ClientConfig::default().with_require_tls(true));
    feed(&mut client, b"+OK hi\r\n");
    let capa = client.send(Command::Capa).unwrap();
    let events = feed(&mut client, b"+OK\r\nTOP\r\n.\r\n");
    assert!(matches!(events.first(), Some(Event::Capabilities { id, .. }) if *id == capa));
    assert_eq!(
        events.get(1),
        Some(&Event::Failed {
            id: capa,
            error: CommandError::StlsNotOffered
        })
    );
    assert!(!events.iter().skip(1).any(Event::is_final));
}

#[test]
fn an_error_repeats_and_ends_everything() {
    let mut client = Client::new(ClientConfig::default());
    let _ = client.enqueue_input(b"+OK hi\r\n+OK unsolicited\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { .. }))
    ));
    let error = client.next_event().unwrap_err();
    assert!(matches!(error, ClientError::Unsolicited { .. }));
    for _ in 0..3 {
        assert_eq!(client.next_event(), Err(error.clone()));
    }
    assert!(client.is_closed());
    assert_eq!(client.send(Command::Noop), Err(SendError::Closed));
    // Input after the end is taken and dropped; the error stays.
    assert_eq!(client.enqueue_input(b"+OK\r\n"), 5);
    assert_eq!(client.next_event(), Err(error));
}

#[test]
fn eof_inside_a_reply_is_an_error() {
    let mut client = logged_in(ClientConfig::default());
    let stat = client.send(Command::Stat).unwrap();
    client.enqueue_eof();
    let error = ClientError::ConnectionClosed { id: Some(stat) };
    assert_eq!(client.next_event(), Err(error.clone()));
    assert_eq!(client.next_event(), Err(error));
}

fn auth_plain(options: ReplyOptions) -> (Client, CommandId) {
    let mut client = Client::new(ClientConfig::default().with_reply_options(options));
    feed(&mut client, b"+OK hi\r\n");
    let mech = PlainClient::new("a", Secret::new(b"p".to_vec())).unwrap();
    let id = client.authenticate(Box::new(mech)).unwrap();
    // No CAPA, so no SASL list: the initial response waits for a challenge.
    assert_eq!(&client.take_output().unwrap()[..], b"AUTH PLAIN\r\n");
    (client, id)
}

#[test]
fn bare_continuation_follows_the_reply_options() {
    // On by default (IMPL-12): a bare `+` is the empty challenge.
    assert!(ClientConfig::default().reply_options.bare_continuation);
    let (mut client, _) = auth_plain(ClientConfig::default().reply_options);
    assert!(feed(&mut client, b"+\r\n").is_empty());
    assert_eq!(&client.take_output().unwrap()[..], b"AGEAcA==\r\n");

    // Off: a bare `+` is not a continuation, and not a status line either.
    let (mut client, id) = auth_plain(ReplyOptions::strict());
    let _ = client.enqueue_input(b"+\r\n");
    assert_eq!(
        client.next_event(),
        Err(ClientError::BadStatusLine { id: Some(id) })
    );

    // `+ ` is the empty challenge either way.
    let (mut client, _) = auth_plain(ReplyOptions::strict());
    assert!(feed(&mut client, b"+ \r\n").is_empty());
    assert_eq!(&client.take_output().unwrap()[..], b"AGEAcA==\r\n");
}

#[test]
fn an_undecodable_challenge_cancels_as_an_event() {
    let (mut client, id) = auth_plain(ReplyOptions::strict());
    let events = feed(&mut client, b"+ not base64!\r\n");
    assert_eq!(
        events,
        [Event::Failed {
            id,
            error: CommandError::Sasl {
                reason: SaslError::InvalidBase64
            }
        }]
    );
    assert_eq!(&client.take_output().unwrap()[..], b"*\r\n");
    let events = feed(&mut client, b"-ERR cancelled\r\n");
    assert!(matches!(events.as_slice(), [Event::Status { id: i, .. }] if *i == id));
    assert_eq!(client.phase(), Phase::Authorization);
}

#[test]
fn send_unchecked_skips_only_the_capability_check() {
    let mut client = logged_in(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    feed(&mut client, b"+OK\r\nUSER\r\n.\r\n");
    client.take_output();
    assert_eq!(
        client.send(Command::Uidl(None)),
        Err(SendError::NotAdvertised { capability: "UIDL" })
    );
    let uidl = client.send_unchecked(Command::Uidl(None)).unwrap();
    assert_eq!(&client.take_output().unwrap()[..], b"UIDL\r\n");
    let events = feed(&mut client, b"+OK\r\n1 abc\r\n.\r\n");
    assert!(
        matches!(events.as_slice(), [Event::UidListing { id, listing }] if *id == uidl && listing.len() == 1)
    );
    // The state checks stay.
    assert!(matches!(
        client.send_unchecked(Command::Stls),
        Err(SendError::WrongState { .. })
    ));
}

#[test]
fn decoder_config_carries_max_body() {
    let config = ClientConfig::default().with_max_body(Some(42));
    assert_eq!(config.decoder().max_body, Some(42));
    assert!(!Client::new(config).is_tls());
}

//! Limits review (issue 9): every buffer and queue the crate keeps has a configurable
//! bound, and each test here drives input or commands past exactly one bound and
//! checks what happens there: the input is refused or skipped and reported, memory
//! stays under the bound, and the session goes on (or ends) as documented.
//!
//! One test per bound, named after it. The table in the fuzzing report lists them.

use bytes::{Bytes, BytesMut};
use pop3_proto::client::{Client, ClientConfig, ClientError, CommandError, Event, SendError};
use pop3_proto::dot::{BodyDecoder, BodyPiece, DecoderConfig, DotError};
use pop3_proto::framing::{FramingConfig, FramingError, LineFramer};
use pop3_proto::server::{Refusal, Server, ServerConfig, ServerError, ServerEvent};
use pop3_proto::types::{
    Command, Extension, Keyword, MessageNumber, Param, Password, ResponseCode, Status, StatusLine,
    Text, UniqueId, Username,
};
use pop3_proto::Machine;
use pop3_proto_tests::MachineExt;

// ----- helpers -----

fn server(config: ServerConfig) -> Server {
    let mut s = Server::new(config, Text::new("ready").unwrap(), None);
    s.take_all();
    s
}

fn output(s: &mut Server) -> Vec<u8> {
    s.take_all()
}

/// A client past the greeting, with pipelining allowed.
fn client(config: ClientConfig) -> Client {
    let mut c = Client::new(config.with_pipeline_without_capability(true));
    c.enqueue_all(b"+OK ready\r\n");
    assert!(matches!(c.next_event(), Ok(Some(Event::Greeting { .. }))));
    c
}

/// A client logged in with USER/PASS.
fn logged_in(config: ClientConfig) -> Client {
    let mut c = client(config);
    c.send(Command::User(Username::new("u").unwrap())).unwrap();
    c.send(Command::Pass(Password::new("p").unwrap())).unwrap();
    c.take_output();
    c.enqueue_all(b"+OK\r\n+OK in\r\n");
    assert!(matches!(c.next_event(), Ok(Some(Event::Status { .. }))));
    assert!(matches!(c.next_event(), Ok(Some(Event::Status { .. }))));
    c
}

/// Everything the client reports until it needs input, or the error that ended
/// its session.
fn drain(c: &mut Client) -> Vec<Result<Event, ClientError>> {
    let mut out = Vec::new();
    for _ in 0..1_000_000 {
        match c.next_event() {
            Ok(Some(e)) => out.push(Ok(e)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e));
                return out;
            }
        }
    }
    panic!("the client never asked for input");
}

fn n(k: u32) -> MessageNumber {
    MessageNumber::new(k).unwrap()
}

// ----- framing and dot layers -----

/// `FramingConfig::max_line`: a line of exactly the limit (CRLF included) passes,
/// one octet more is skipped and reported, and while it is skipped the buffer never
/// holds more than the limit.
#[test]
fn limit_framing_max_line() {
    let config = FramingConfig::STATUS; // 512
    for total in [512usize, 513] {
        let mut framer = LineFramer::new(config);
        let mut buf = BytesMut::new();
        let mut line = vec![b'a'; total - 2];
        line.extend_from_slice(b"\r\nNEXT\r\n");
        let mut results = Vec::new();
        for chunk in line.chunks(7) {
            buf.extend_from_slice(chunk);
            loop {
                match framer.next_line(&mut buf) {
                    Ok(Some(l)) => results.push(Ok(l.bytes.len())),
                    Ok(None) => break,
                    Err(e) => results.push(Err(e)),
                }
            }
            assert!(buf.len() < config.max_line);
        }
        if total == 512 {
            assert_eq!(results, vec![Ok(510), Ok(4)]);
        } else {
            assert_eq!(
                results,
                vec![
                    Err(FramingError::LineTooLong {
                        limit: 512,
                        skipped: 513
                    }),
                    Ok(4)
                ]
            );
        }
    }
}

/// `DecoderConfig::max_body`: a body of exactly the limit is handed out whole; one
/// octet more gives `BodyTooLarge`, never more than the limit handed out, and the
/// decoder still finds the terminator (the session resynchronises).
#[test]
fn limit_decoder_max_body() {
    let limit = 100u64;
    for size in [100usize, 101] {
        let mut wire = vec![b'x'; size - 2];
        wire.extend_from_slice(b"\r\n.\r\n+OK next");
        let mut decoder = BodyDecoder::new(DecoderConfig::STRICT.with_max_body(Some(limit)));
        let mut buf = BytesMut::new();
        let mut handed = 0u64;
        let mut too_large = false;
        let mut ended = false;
        for chunk in wire.chunks(9) {
            buf.extend_from_slice(chunk);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(BodyPiece::Data(d)) => handed += d.len() as u64,
                    Ok(BodyPiece::End) => {
                        ended = true;
                        break;
                    }
                    Ok(BodyPiece::NeedMore) => break,
                    Err(DotError::BodyTooLarge { limit: l }) => {
                        assert_eq!(l, limit);
                        too_large = true;
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
        assert!(ended, "the terminator is found either way");
        assert_eq!(&buf[..], b"+OK next");
        assert!(handed <= limit);
        assert_eq!(too_large, size as u64 > limit, "size {size}");
        if !too_large {
            assert_eq!(handed, limit);
        }
    }
}

// ----- typed values -----

/// `StatusLine::MAX_LEN` (R1939-9): a status line is built only if it fits in 512
/// octets with its CRLF.
#[test]
fn limit_status_line_512() {
    // "+OK " + text + CRLF = 512 with 506 octets of text.
    let fits = Text::new(vec![b'a'; 506]).unwrap();
    assert_eq!(StatusLine::ok(fits).unwrap().to_line_len(), 512);
    let over = Text::new(vec![b'a'; 507]).unwrap();
    assert!(StatusLine::ok(over).is_err());
    // The code counts too: "-ERR [SYS/TEMP] " + text + CRLF.
    let text = Text::new(vec![b'a'; 512 - 18]).unwrap();
    assert!(StatusLine::new(Status::Err, Some(ResponseCode::sys_temp()), text).is_ok());
    let text = Text::new(vec![b'a'; 512 - 17]).unwrap();
    assert!(StatusLine::new(Status::Err, Some(ResponseCode::sys_temp()), text).is_err());
}

trait LineLen {
    fn to_line_len(&self) -> usize;
}

impl<T: pop3_proto::encode::Encode> LineLen for T {
    fn to_line_len(&self) -> usize {
        let wire = self.to_vec();
        assert_eq!(wire.len(), self.encoded_len());
        wire.len()
    }
}

/// The command-line bound of the typed commands (R2449-1): every argument type is
/// capped so that a command fits in 255 octets; an extension with too many
/// arguments is refused.
#[test]
fn limit_command_values_255() {
    let user = Command::User(Username::new(vec![b'u'; Username::MAX_LEN]).unwrap());
    assert!(user.to_line_len() <= 255);
    assert!(Username::new(vec![b'u'; Username::MAX_LEN + 1]).is_err());
    let pass = Command::Pass(Password::new(vec![b'p'; Password::MAX_LEN]).unwrap());
    assert_eq!(pass.to_line_len(), 255);
    assert!(Password::new(vec![b'p'; Password::MAX_LEN + 1]).is_err());
    assert!(UniqueId::new(vec![b'u'; 70]).is_ok());
    assert!(UniqueId::new(vec![b'u'; 71]).is_err());
    let arg = Param::new(vec![b'a'; 100]).unwrap();
    let kw = Keyword::new("XLST").unwrap();
    assert!(Extension::command(kw.clone(), vec![arg.clone(), arg.clone()]).is_ok());
    assert!(Extension::command(kw, vec![arg.clone(), arg.clone(), arg]).is_err());
}

// ----- server -----

/// `ServerConfig::max_command_line` (R2449-1, E-14) set to RFC 2449's 255: 255
/// octets with CRLF are read, 256 get `-ERR` and the next command is read as usual.
#[test]
fn limit_server_command_line_255() {
    'cases: for (total, ok) in [(255usize, true), (256, false)] {
        let mut s = server(ServerConfig::default().with_max_command_line(255));
        s.enqueue_all(b"USER u\r\n");
        assert_eq!(s.next_event(), Ok(None));
        output(&mut s);
        // "PASS " + password + CRLF, `total` octets.
        let mut line = b"PASS ".to_vec();
        line.resize(total - 2, b'p');
        line.extend_from_slice(b"\r\nQUIT\r\n");
        for chunk in line.chunks(40) {
            s.enqueue_all(chunk);
            assert!(s.buffered_input() < 255 + 40);
            if let Ok(Some(event)) = s.next_event() {
                if ok {
                    assert!(matches!(event, ServerEvent::Login { .. }), "{event:?}");
                    continue 'cases;
                }
                assert!(matches!(event, ServerEvent::Closed), "{event:?}");
            }
        }
        assert!(!ok, "PASS of {total} octets was not read");
        let out = output(&mut s);
        assert!(out.starts_with(b"-ERR line too long\r\n+OK "), "{out:?}");
    }
}

/// `ServerConfig::max_sasl_line` (R5034-11): a SASL response line may be longer
/// than a command, up to this bound; past it the exchange fails with `-ERR`.
#[test]
fn limit_server_sasl_line() {
    let config = ServerConfig::default()
        .with_sasl(vec![pop3_proto::types::Mechanism::new("PLAIN").unwrap()])
        .with_max_sasl_line(1024);
    for (len, accepted) in [(1022usize, true), (1023, false)] {
        let mut s = server(config.clone());
        s.enqueue_all(b"AUTH PLAIN\r\n");
        assert!(matches!(
            s.next_event(),
            Ok(Some(ServerEvent::AuthStart { .. }))
        ));
        s.auth_challenge(b"").unwrap();
        assert_eq!(output(&mut s), b"+ \r\n");
        // A line of `len` octets plus CRLF.
        let mut line = vec![b'A'; len];
        line.extend_from_slice(b"\r\n");
        s.enqueue_all(&line);
        let _ = s.next_event();
        let out = output(&mut s);
        let too_long = out.windows(13).any(|w| w == b"line too long");
        assert_eq!(too_long, !accepted, "{len}: {out:?}");
        assert!(s.buffered_input() < 1024);
    }
}

/// `ServerConfig::max_buffered_input`: while the host answers a command, pipelined
/// input waits in the buffer up to this bound; `enqueue_input` takes what fits
/// and says how much, and takes nothing more until the host catches up.
#[test]
fn limit_server_buffered_input() {
    let config = ServerConfig::default()
        .with_max_buffered_input(1024)
        .with_max_sasl_line(1024);
    let mut s = server(config);
    s.enqueue_all(b"USER u\r\nPASS p\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    // The host is busy; the client pipelines 6-octet commands.
    let mut queued = s.buffered_input();
    loop {
        let taken = s.enqueue_input(b"STAT\r\n");
        queued += taken;
        assert_eq!(s.buffered_input(), queued);
        assert!(s.buffered_input() <= 1024);
        if taken < 6 {
            break;
        }
    }
    assert_eq!(queued, 1024);
    assert_eq!(s.input_room(), 0);
    assert_eq!(s.enqueue_input(b"STAT\r\n"), 0);
    // The host answers: the queue drains; the command cut at the bound waits for
    // its rest, which is taken now.
    s.accept_login(Vec::new(), None).unwrap();
    assert_eq!(s.next_event(), Ok(None));
    assert_eq!(s.buffered_input(), 1024 % 6);
    s.enqueue_all(&b"STAT\r\n"[1024 % 6..]);
    assert_eq!(s.next_event(), Ok(None));
    assert_eq!(s.buffered_input(), 0);
}

/// `ServerConfig::max_pending_output`: a client that pipelines commands without
/// reading the replies makes the server hold at most about this much output (one
/// reply past the bound); the machine reads no further command until the host
/// takes the output, then goes on where it stopped.
#[test]
fn limit_server_pending_output() {
    let config = ServerConfig::default().with_max_pending_output(1000);
    let mut s = server(config);
    s.enqueue_all(b"USER u\r\nPASS p\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    let drop: Vec<pop3_proto::server::MessageInfo> = (0..20)
        .map(|i| pop3_proto::server::MessageInfo {
            size: 1000 + i,
            uid: UniqueId::new(format!("uid{i}")).unwrap(),
        })
        .collect();
    s.accept_login(drop, None).unwrap();
    // Each LIST reply is about 200 octets; 100 of them are pipelined.
    let mut commands = Vec::new();
    for _ in 0..100 {
        commands.extend_from_slice(b"LIST\r\n");
    }
    s.enqueue_all(&commands);
    assert_eq!(s.next_event(), Ok(None));
    let held = s.output_len();
    assert!(held > 1000, "it stopped only past the bound");
    assert!(held < 1000 + 400, "at most one reply past it: {held}");
    assert!(s.buffered_input() > 0, "the rest waits, unread");
    // Taking the output lets it go on, a bounded step at a time.
    let mut replies = 0;
    for _ in 0..1000 {
        let out = output(&mut s);
        replies += out.windows(5).filter(|w| w == b"\r\n.\r\n").count();
        if s.buffered_input() == 0 && out.is_empty() {
            break;
        }
        assert_eq!(s.next_event(), Ok(None));
        assert!(s.output_len() < 1000 + 400);
    }
    assert_eq!(replies, 100);
}

/// `ServerConfig::max_failed_logins`: the failure that reaches the bound ends the
/// session (`Err(TooManyFailures)`, on every later call); commands after it are
/// not read.
#[test]
fn limit_failed_logins() {
    let config = ServerConfig::default().with_max_failed_logins(2);
    let mut s = server(config);
    s.enqueue_all(b"USER u\r\nPASS a\r\nUSER u\r\nPASS b\r\nUSER u\r\nPASS c\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    s.refuse_login(Refusal::bad_credentials()).unwrap();
    assert_eq!(s.failed_logins(), 1);
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    s.refuse_login(Refusal::bad_credentials()).unwrap();
    assert_eq!(s.failed_logins(), 2);
    assert_eq!(s.next_event(), Err(ServerError::TooManyFailures));
    assert_eq!(s.next_event(), Err(ServerError::TooManyFailures));
    let out = output(&mut s);
    assert!(out.windows(4).filter(|w| w == b"-ERR").count() >= 2);
    // Two USERs answered; the third USER and PASS were never read.
    assert_eq!(
        out.windows(4).filter(|w| w == b"+OK ").count(),
        2,
        "{out:?}"
    );
}

// ----- client -----

/// `ClientConfig::max_line` (E-14, IMPL-21): a status line of exactly the bound is
/// read; one octet more is a framing error.
#[test]
fn limit_client_status_line() {
    for (total, ok) in [(300usize, true), (301, false)] {
        let mut c = logged_in(ClientConfig::default().with_max_line(300));
        c.send(Command::Noop).unwrap();
        let mut line = b"+OK ".to_vec();
        line.resize(total - 2, b'a');
        line.extend_from_slice(b"\r\n");
        for chunk in line.chunks(50) {
            c.enqueue_all(chunk);
            let events = drain(&mut c);
            assert!(c.buffered_input() < 300);
            if !events.is_empty() {
                assert_eq!(events.len(), 1);
                if ok {
                    assert!(matches!(events[0], Ok(Event::Status { .. })));
                } else {
                    assert!(
                        matches!(events[0], Err(ClientError::Framing { .. })),
                        "{events:?}"
                    );
                }
            }
        }
    }
}

/// `ClientConfig::max_sasl_line` (R5034-11): AUTH challenges may be longer than
/// status lines, up to this bound; one octet more is a framing error.
#[test]
fn limit_client_sasl_line() {
    for (len, ok) in [(1000usize, true), (1001, false)] {
        let mut c = client(
            ClientConfig::default()
                .with_max_line(100)
                .with_max_sasl_line(1000),
        );
        let mech = pop3_proto::sasl::LoginClient::new("u", b"p".to_vec()).unwrap();
        c.authenticate(Box::new(mech)).unwrap();
        c.take_output();
        // "+ " + base64 + CRLF, `len` octets in all.
        let mut line = b"+ ".to_vec();
        line.resize(len - 2, b'A');
        line.extend_from_slice(b"\r\n");
        c.enqueue_all(&line);
        let events = drain(&mut c);
        assert!(c.buffered_input() < 1000);
        let framing = events
            .iter()
            .any(|e| matches!(e, Err(ClientError::Framing { .. })));
        assert_eq!(framing, !ok, "{len}: {events:?}");
    }
}

/// `ClientConfig::max_listing_lines`: a LIST with more lines than the bound is read
/// to its end, dropped and reported; the next reply is read as usual.
#[test]
fn limit_client_listing_lines() {
    for (lines, ok) in [(5usize, true), (6, false)] {
        let mut c = logged_in(ClientConfig::default().with_max_listing_lines(5));
        c.send(Command::List(None)).unwrap();
        c.send(Command::Noop).unwrap();
        let mut reply = b"+OK\r\n".to_vec();
        for i in 1..=lines {
            reply.extend_from_slice(format!("{i} 100\r\n").as_bytes());
        }
        reply.extend_from_slice(b".\r\n+OK noop\r\n");
        c.enqueue_all(&reply);
        let events = drain(&mut c);
        if ok {
            assert!(
                matches!(&events[0], Ok(Event::ScanListing { listing, .. }) if listing.len() == 5)
            );
        } else {
            assert!(
                matches!(
                    events[0],
                    Ok(Event::Failed {
                        error: CommandError::ListingTooLarge { .. },
                        ..
                    })
                ),
                "{events:?}"
            );
        }
        assert!(matches!(events.last(), Some(Ok(Event::Status { .. }))));
    }
}

/// `ClientConfig::max_listing_bytes`: the same for the octets a listing holds.
#[test]
fn limit_client_listing_bytes() {
    for (bytes, ok) in [(100usize, true), (101, false)] {
        let mut c = logged_in(ClientConfig::default().with_max_listing_bytes(100));
        c.send(Command::Uidl(None)).unwrap();
        c.send(Command::Noop).unwrap();
        // One listing line "1 " + uid of `bytes - 2` octets... split over two lines
        // so each uid stays within 70 octets.
        let first = 50usize;
        let second = bytes - first;
        let mut reply = b"+OK\r\n".to_vec();
        reply.extend_from_slice(b"1 ");
        reply.extend_from_slice(&vec![b'a'; first - 2]);
        reply.extend_from_slice(b"\r\n2 ");
        reply.extend_from_slice(&vec![b'b'; second - 2]);
        reply.extend_from_slice(b"\r\n.\r\n+OK noop\r\n");
        c.enqueue_all(&reply);
        let events = drain(&mut c);
        if ok {
            assert!(
                matches!(&events[0], Ok(Event::UidListing { listing, .. }) if listing.len() == 2),
                "{events:?}"
            );
        } else {
            assert!(
                matches!(
                    events[0],
                    Ok(Event::Failed {
                        error: CommandError::ListingTooLarge { .. },
                        ..
                    })
                ),
                "{events:?}"
            );
        }
        assert!(matches!(events.last(), Some(Ok(Event::Status { .. }))));
    }
}

/// `ClientConfig::max_body`: at most this many octets of a body are handed out;
/// past it `BodyTooLarge` is reported and the rest of the body skipped.
#[test]
fn limit_client_max_body() {
    for (size, ok) in [(1000usize, true), (1001, false)] {
        let mut c = logged_in(ClientConfig::default().with_max_body(Some(1000)));
        c.send(Command::Retr(n(1))).unwrap();
        // One body line of `size` octets, CRLF included.
        let mut reply = b"+OK\r\n".to_vec();
        reply.extend_from_slice(&vec![b'x'; size - 2]);
        reply.extend_from_slice(b"\r\n.\r\n");
        let mut handed = 0usize;
        let mut too_large = false;
        for chunk in reply.chunks(64) {
            c.enqueue_all(chunk);
            for e in drain(&mut c) {
                match e {
                    Ok(Event::BodyChunk { data, .. }) => handed += data.len(),
                    Ok(Event::Failed {
                        error: CommandError::BodyTooLarge { limit },
                        ..
                    }) => {
                        assert_eq!(limit, 1000);
                        too_large = true;
                    }
                    _ => {}
                }
            }
        }
        assert!(handed <= 1000, "{handed}");
        assert_eq!(too_large, !ok, "size {size}");
        // Below the bound the whole body; past it exactly the first `max_body` octets.
        assert_eq!(handed, size.min(1000));
    }
}

/// `ClientConfig::max_buffered_input`: the client takes no more input than the
/// bound until its events are taken; what does not fit stays with the caller,
/// and nothing is lost.
#[test]
fn limit_client_buffered_input() {
    let config = ClientConfig::default()
        .with_max_buffered_input(64)
        .with_max_line(64)
        .with_max_sasl_line(64);
    let mut c = logged_in(config);
    c.send(Command::Retr(n(1))).unwrap();
    let mut reply = b"+OK\r\n".to_vec();
    for i in 0..20 {
        reply.extend_from_slice(format!("line {i:02} of the body\r\n").as_bytes());
    }
    reply.extend_from_slice(b".\r\n");
    let mut rest = &reply[..];
    let mut body = Vec::new();
    let mut ended = false;
    while !rest.is_empty() {
        let room = c.input_room();
        assert!(room <= 64);
        let taken = c.enqueue_input(rest);
        assert_eq!(taken, room.min(rest.len()), "takes exactly what fits");
        assert!(c.buffered_input() <= 64);
        rest = &rest[taken..];
        for e in drain(&mut c) {
            match e {
                Ok(Event::BodyChunk { data, .. }) => body.extend_from_slice(&data),
                Ok(Event::BodyEnd { .. }) => ended = true,
                _ => {}
            }
        }
    }
    assert!(ended);
    assert_eq!(body, reply[5..reply.len() - 3]);
}

/// `ClientConfig::max_in_flight`: at most this many commands wait for replies;
/// the next `send` is refused, and accepted again once a reply came.
#[test]
fn limit_client_in_flight() {
    let mut c = logged_in(ClientConfig::default().with_max_in_flight(3));
    for _ in 0..3 {
        c.send(Command::Noop).unwrap();
    }
    assert_eq!(c.in_flight(), 3);
    assert_eq!(
        c.send(Command::Noop),
        Err(SendError::TooManyInFlight { limit: 3 })
    );
    c.enqueue_all(b"+OK\r\n");
    assert!(matches!(c.next_event(), Ok(Some(Event::Status { .. }))));
    assert!(c.send(Command::Noop).is_ok());
    // Output is bounded by the same limit: 3 commands of at most 255 octets each.
    assert!(c.take_output().map_or(0, |b: Bytes| b.len()) <= 4 * 255);
}

// ----- POP2 (RFC 937) -----

/// `pop2::ServerConfig::max_buffered_input`: while the host answers HELO, input
/// waits up to this bound (never below one command line); past it only what
/// fits is taken, and the room is 0 until the host has answered.
#[test]
fn limit_pop2_server_buffered_input() {
    use pop3_proto::pop2::{Greeting, HostName, Server as Pop2Server, ServerConfig as Pop2Config};
    use pop3_proto::Machine as _;
    let config = Pop2Config::default().with_max_buffered_input(600);
    let greeting = Greeting::new(HostName::new("mail.example").unwrap(), Text::empty()).unwrap();
    let mut s = Pop2Server::new(config, greeting);
    assert_eq!(s.enqueue_input(b"HELO alice secret\r\n"), 19);
    assert!(matches!(s.next_event(), Ok(Some(_))));
    let mut queued = s.buffered_input();
    loop {
        let taken = s.enqueue_input(b"READ\r\n");
        queued += taken;
        if taken < 6 {
            assert_eq!(s.input_room(), 0);
            assert_eq!(s.enqueue_input(b"READ\r\n"), 0);
            break;
        }
    }
    assert_eq!(queued, 600);
    assert_eq!(s.buffered_input(), 600);
}

/// Input that can never be run is still taken by the room rule: after the end,
/// each machine's room is its whole bound, and `enqueue_input` takes the smaller
/// of the room and the slice, never more (the client fuzz target found a closed
/// machine that said 0 and took everything).
#[test]
fn limit_input_after_the_end_follows_the_room() {
    let config = ServerConfig::default()
        .with_max_buffered_input(1024)
        .with_max_sasl_line(1024)
        .with_max_command_line(512);
    let mut s = server(config);
    s.enqueue_all(b"QUIT\r\n");
    assert_eq!(s.next_event(), Ok(Some(ServerEvent::Closed)));
    assert!(s.is_closed());
    assert_eq!(s.input_room(), 1024);
    let flood = vec![b'x'; 3000];
    assert_eq!(s.enqueue_input(&flood), 1024);
    let mut buf = BytesMut::from(&flood[..]);
    s.enqueue_buf(&mut buf);
    assert_eq!(buf.len(), 3000 - 1024);

    let config = ClientConfig::default()
        .with_max_buffered_input(1024)
        .with_max_line(512)
        .with_max_sasl_line(512);
    let mut c = Client::new(config);
    c.enqueue_all(b"-ERR go away\r\n");
    assert!(c.next_event().is_err());
    assert!(c.is_closed());
    assert_eq!(c.input_room(), 1024);
    assert_eq!(c.enqueue_input(&flood), 1024);
    let mut buf = BytesMut::from(&flood[..]);
    c.enqueue_buf(&mut buf);
    assert_eq!(buf.len(), 3000 - 1024);
}

//! Unit tests of the POP2 values and machines; whole sessions are in
//! `tests/tests/pop2.rs`.

use alloc::vec;
use alloc::vec::Vec;

use bytes::Bytes;

use super::*;
use crate::encode::Encode;
use crate::machine::Machine;
use crate::types::{MessageNumber, Text};

fn arg(s: &str) -> Argument {
    Argument::new(s).unwrap()
}

fn server() -> Server {
    let greeting = Greeting::new(HostName::new("h").unwrap(), Text::empty()).unwrap();
    let mut server = Server::new(ServerConfig::default(), greeting);
    let _ = server.take_output();
    server
}

fn out<M: Machine>(machine: &mut M) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = machine.take_output() {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Feeds all of `data`, which must fit the machine's room.
fn feed<M: Machine>(machine: &mut M, data: &[u8]) {
    assert_eq!(machine.enqueue_input(data), data.len());
}

#[test]
fn quoting_round_trip() {
    let helo = Command::Helo {
        user: arg("a b\\c"),
        password: Password::new(" \\ ").unwrap(),
    };
    let wire = helo.to_vec();
    assert_eq!(wire, b"HELO a\\ b\\\\c \\ \\\\\\ \r\n");
    assert_eq!(wire.len(), helo.encoded_len());
    assert_eq!(Command::parse(&wire[..wire.len() - 2]), Ok(helo));
    // Any escaped octet stands for itself.
    assert_eq!(Command::parse(b"FOLD \\a\\b"), Ok(Command::Fold(arg("ab"))));
    assert_eq!(
        Command::parse(b"FOLD ab\\"),
        Err(ParseError::DanglingEscape { offset: 7 })
    );
}

#[test]
fn command_parse_errors() {
    assert_eq!(Command::parse(b""), Err(ParseError::Empty));
    assert_eq!(Command::parse(b"read"), Ok(Command::Read(None)));
    assert_eq!(Command::parse(b"READ 0"), Ok(Command::Read(Some(0))));
    assert_eq!(
        Command::parse(b"READ "),
        Err(ParseError::ExtraSpace { offset: 4 })
    );
    assert_eq!(
        Command::parse(b"HELO a  b"),
        Err(ParseError::ExtraSpace { offset: 6 })
    );
    assert_eq!(
        Command::parse(b"HELO a"),
        Err(ParseError::MissingArgument { what: "HELO" })
    );
    assert_eq!(
        Command::parse(b"RETR 1"),
        Err(ParseError::ExtraArgument {
            what: "RETR",
            offset: 5
        })
    );
    assert_eq!(
        Command::parse(b"READ x"),
        Err(ParseError::BadNumber { offset: 5 })
    );
    assert_eq!(
        Command::parse(b"READ 4294967296"),
        Err(ParseError::BadNumber { offset: 5 })
    );
    assert_eq!(Command::parse(b"STAT"), Err(ParseError::UnknownCommand));
    assert_eq!(
        Command::parse(b"HELOX a b"),
        Err(ParseError::UnknownCommand)
    );
    assert!(matches!(
        Command::parse(b"QUIT\r"),
        Err(ParseError::ForbiddenByte { byte: b'\r', .. })
    ));
    let long = [b'x'; 511];
    assert!(matches!(
        Command::parse(&long),
        Err(ParseError::TooLong { len: 513, .. })
    ));
}

#[test]
fn argument_limits() {
    assert!(Argument::new(vec![b'a'; 250]).is_ok());
    assert!(Argument::new(vec![b'a'; 251]).is_err());
    assert!(Argument::new(vec![b' '; 125]).is_ok());
    assert!(Argument::new(vec![b' '; 126]).is_err());
    let helo = Command::Helo {
        user: Argument::new(vec![b' '; 125]).unwrap(),
        password: Password::new(vec![b'\\'; 125]).unwrap(),
    };
    assert!(helo.encoded_len() <= MAX_COMMAND_LINE);
}

#[test]
fn replies() {
    for (line, kind, text) in [
        (&b"+"[..], ReplyKind::Ok, &b""[..]),
        (b"+ OK, bye, bye", ReplyKind::Ok, b"OK, bye, bye"),
        (b"- error", ReplyKind::Err, b"error"),
        (b"#0", ReplyKind::Count(0), b""),
        (
            b"=18446744073709551615 x",
            ReplyKind::Length(u64::MAX),
            b"x",
        ),
        (b"+  two spaces", ReplyKind::Ok, b" two spaces"),
    ] {
        let reply = Reply::parse(line).unwrap();
        assert_eq!((reply.kind(), reply.text().as_bytes()), (kind, text));
        let wire = reply.to_vec();
        assert_eq!(Reply::parse(&wire[..wire.len() - 2]), Ok(reply));
    }
    assert_eq!(
        Reply::parse(b"+OK"),
        Err(ParseError::MissingSpace { offset: 1 })
    );
    assert_eq!(Reply::parse(b"#"), Err(ParseError::BadNumber { offset: 1 }));
    assert_eq!(
        Reply::parse(b"=12x"),
        Err(ParseError::MissingSpace { offset: 3 })
    );
    assert_eq!(
        Reply::parse(b"#4294967296"),
        Err(ParseError::BadNumber { offset: 1 })
    );
    assert_eq!(Reply::parse(b"*"), Err(ParseError::UnknownIndicator));
    assert!(Reply::new(ReplyKind::Ok, Text::new(vec![b'a'; 508]).unwrap()).is_ok());
    assert!(Reply::new(ReplyKind::Ok, Text::new(vec![b'a'; 509]).unwrap()).is_err());
    assert_eq!(
        Greeting::parse(b"+ pop2 h"),
        Ok(Greeting::parse(b"+ POP2 h").unwrap())
    );
    assert_eq!(Greeting::parse(b"+ POP2 "), Err(ParseError::NotGreeting));
    assert_eq!(Greeting::parse(b"+ POP2"), Err(ParseError::NotGreeting));
}

/// R937-9: a command not valid in a state is answered `- error` and closes.
#[test]
fn decision_table_errors() {
    let cases: [(&[u8], &[u8]); 7] = [
        (b"", b"READ\r\n"),
        (b"", b"RETR\r\n"),
        (b"", b"FOLD x\r\n"),
        (b"", b"ACKD\r\n"),
        (b"HELO a b\r\n", b"RETR\r\n"),
        (b"HELO a b\r\n", b"HELO a b\r\n"),
        (b"HELO a b\r\nREAD\r\n", b"ACKS\r\n"),
    ];
    for (before, bad) in cases {
        let mut s = server();
        feed(&mut s, before);
        if !before.is_empty() {
            assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Helo { .. }))));
            s.accept_login(vec![10]).unwrap();
        }
        assert_eq!(s.next_event(), Ok(None));
        let _ = out(&mut s);
        feed(&mut s, bad);
        let error = s.next_event().unwrap_err();
        assert!(
            matches!(error, ServerError::UnexpectedCommand { .. }),
            "{bad:?}"
        );
        assert_eq!(out(&mut s), b"- error\r\n");
        assert_eq!(s.phase(), ServerPhase::Done);
        assert!(s.is_closed());
        // The error repeats.
        assert_eq!(s.next_event(), Err(error));
    }
}

#[test]
fn pointer_and_marks() {
    let mut s = server();
    feed(&mut s, b"HELO a b\r\nREAD 2\r\nRETR\r\n");
    assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Helo { .. }))));
    s.accept_login(vec![3, 4, 5]).unwrap();
    let two = MessageNumber::new(2).unwrap();
    assert_eq!(
        s.next_event(),
        Ok(Some(ServerEvent::Retrieve { msg: two, size: 4 }))
    );
    assert_eq!(
        s.send_message(Bytes::from_static(b"abc")),
        Err(AnswerError::WrongLength {
            expected: 4,
            given: 3
        })
    );
    s.send_message_chunk(Bytes::from_static(b"ab")).unwrap();
    assert_eq!(s.remaining_message_len(), Some(2));
    assert!(s.send_message_chunk(Bytes::from_static(b"abc")).is_err());
    s.send_message_chunk(Bytes::from_static(b"cd")).unwrap();
    assert_eq!(s.phase(), ServerPhase::Next);
    feed(&mut s, b"NACK\r\nRETR\r\n");
    assert_eq!(
        s.next_event(),
        Ok(Some(ServerEvent::Retrieve { msg: two, size: 4 }))
    );
    s.send_message(Bytes::from_static(b"abcd")).unwrap();
    feed(&mut s, b"ACKD\r\nREAD 2\r\nREAD 9\r\nREAD 1\r\nQUIT\r\n");
    assert_eq!(
        s.next_event(),
        Ok(Some(ServerEvent::Quit { deleted: vec![two] }))
    );
    assert!(s.is_deleted(two));
    s.quit_done().unwrap();
    assert_eq!(s.next_event(), Ok(Some(ServerEvent::Closed)));
    assert_eq!(s.next_event(), Ok(None));
    assert!(s.is_closed());
    let wire = out(&mut s);
    assert_eq!(
        wire,
        b"#3 messages in your mailbox\r\n=4 characters in message 2\r\nabcd=4 characters in message 2\r\nabcd=5 characters in message 3\r\n=0 no more messages\r\n=0 no more messages\r\n=3 characters in message 1\r\n+ OK, bye, bye\r\n"
    );
}

#[test]
fn answers_out_of_turn_are_refused() {
    let mut s = server();
    assert!(s.accept_login(vec![]).is_err());
    assert!(s.open_folder(vec![]).is_err());
    assert!(s.send_message(Bytes::new()).is_err());
    assert!(s.quit_done().is_err());
    assert!(s.refuse_login(Text::empty()).is_err());
    assert!(out(&mut s).is_empty());
}

#[test]
fn client_checks_commands() {
    let mut c = Client::new(ClientConfig::default());
    assert_eq!(c.send(Command::Quit), Err(SendError::MustWait));
    feed(&mut c, b"+ POP2 h\r\n");
    assert!(matches!(c.next_event(), Ok(Some(ClientEvent::Greeting(_)))));
    assert_eq!(
        c.send(Command::Retr),
        Err(SendError::WrongState {
            command: "RETR",
            phase: ClientPhase::Call
        })
    );
    c.send(Command::Helo {
        user: arg("u"),
        password: Password::new("p").unwrap(),
    })
    .unwrap();
    assert_eq!(c.send(Command::Read(None)), Err(SendError::MustWait));
    feed(&mut c, b"#1\r\n");
    assert!(c.next_event().unwrap().is_some());
    assert!(matches!(
        c.send(Command::Retr),
        Err(SendError::WrongState { .. })
    ));
    c.send(Command::Read(Some(2))).unwrap();
    feed(&mut c, b"=0 no more messages\r\n");
    assert!(c.next_event().unwrap().is_some());
    assert_eq!(c.send(Command::Retr), Err(SendError::EmptyMessage));
    c.send(Command::Quit).unwrap();
    assert_eq!(c.send(Command::Quit), Err(SendError::MustWait));
    feed(&mut c, b"+ bye\r\n");
    assert!(matches!(
        c.next_event(),
        Ok(Some(ClientEvent::Closed { .. }))
    ));
    assert!(c.is_closed());
    // A normal end: the connection's end afterwards is no error.
    c.enqueue_eof();
    assert_eq!(c.next_event(), Ok(None));
    assert_eq!(c.send(Command::Quit), Err(SendError::Closed));
    assert_eq!(
        c.take_output().unwrap(),
        Bytes::from_static(b"HELO u p\r\nREAD 2\r\nQUIT\r\n")
    );
}

#[test]
fn client_errors_are_fatal() {
    let mut c = Client::new(ClientConfig::default());
    feed(&mut c, b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.send(Command::Helo {
        user: arg("u"),
        password: Password::new("p").unwrap(),
    })
    .unwrap();
    feed(&mut c, b"=5\r\n");
    let err = ClientError::UnexpectedReply {
        expected: "#nnn",
        got: ReplyKind::Length(5),
    };
    assert_eq!(c.next_event(), Err(err.clone()));
    assert_eq!(c.next_event(), Err(err));
    assert_eq!(c.phase(), ClientPhase::Exit);
    assert!(c.is_closed());

    // R937-9: the server closes after `-`, so the session is over.
    let mut c = Client::new(ClientConfig::default());
    feed(&mut c, b"- go away\r\n");
    let refused = ClientError::Refused {
        text: Text::new("go away").unwrap(),
    };
    assert_eq!(c.next_event(), Err(refused.clone()));
    assert_eq!(c.next_event(), Err(refused));
    assert_eq!(c.phase(), ClientPhase::Exit);

    let mut c = Client::new(ClientConfig::default());
    feed(&mut c, b"+ POP2 h\r\n");
    c.next_event().unwrap();
    feed(&mut c, &[b'x'; 600]);
    assert!(matches!(
        c.next_event(),
        Err(ClientError::Unsolicited { buffered: 600 })
    ));
}

// ----- the Machine contract -----

fn helo() -> Command {
    Command::Helo {
        user: arg("u"),
        password: Password::new("p").unwrap(),
    }
}

/// Input past the room is not refused whole: the part that fits is taken and
/// its count returned; the rest fits once events have drained the buffer.
#[test]
fn server_takes_what_fits() {
    let greeting = Greeting::new(HostName::new("h").unwrap(), Text::empty()).unwrap();
    let config = ServerConfig::default().with_max_buffered_input(600);
    let mut s = Server::new(config, greeting);
    feed(&mut s, b"HELO a b\r\n");
    assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Helo { .. }))));
    // While the host has not answered, pipelined commands wait in the buffer.
    let input = b"READ\r\n".repeat(200);
    let taken = s.enqueue_input(&input);
    assert_eq!(taken, 600);
    assert_eq!(s.input_room(), 0);
    assert_eq!(s.enqueue_input(&input[taken..]), 0);
    s.accept_login(vec![1]).unwrap();
    assert_eq!(s.next_event(), Ok(None));
    assert_eq!(s.input_room(), 600);
    // The rest, given as a buffer: taken from its front, no more than the room.
    let mut rest = bytes::BytesMut::from(&input[taken..]);
    s.enqueue_buf(&mut rest);
    assert_eq!(rest.len(), 1200 - 600 - 600);
    assert_eq!(s.next_event(), Ok(None));
    assert_eq!(
        out(&mut s).len(),
        b"+ POP2 h\r\n#1 message in your mailbox\r\n".len()
            + 200 * b"=1 characters in message 1\r\n".len()
    );
}

#[test]
fn client_takes_what_fits() {
    let config = ClientConfig::default().with_max_buffered_input(100);
    let mut c = Client::new(config);
    // Never below one reply line.
    assert_eq!(c.input_room(), MAX_REPLY_LINE);
    feed(&mut c, b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.send(helo()).unwrap();
    feed(&mut c, b"#1\r\n");
    c.next_event().unwrap();
    c.send(Command::Read(None)).unwrap();
    feed(&mut c, b"=2000\r\n");
    c.next_event().unwrap();
    c.send(Command::Retr).unwrap();
    let data = vec![b'm'; 2000];
    let mut buf = bytes::BytesMut::from(&data[..]);
    let mut received = 0;
    while !buf.is_empty() {
        let before = buf.len();
        c.enqueue_buf(&mut buf);
        assert_eq!(before - buf.len(), MAX_REPLY_LINE.min(before));
        while let Some(event) = c.next_event().unwrap() {
            match event {
                ClientEvent::Data(d) => received += d.len(),
                ClientEvent::DataEnd { size } => assert_eq!(size, 2000),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(received, 2000);
    // A slice past the room: only the room is taken.
    c.send(Command::Ackd).unwrap();
    let long = [b'x'; 700];
    assert_eq!(c.enqueue_input(&long), MAX_REPLY_LINE);
}

/// The client's connection cut before QUIT is answered ends the session with
/// an error, after the events for the input already taken; the error repeats.
#[test]
fn client_eof_mid_session() {
    let mut c = Client::new(ClientConfig::default());
    feed(&mut c, b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.send(helo()).unwrap();
    feed(&mut c, b"#1\r\n");
    c.send(Command::Read(None)).unwrap_err();
    c.enqueue_eof();
    assert!(matches!(
        c.next_event(),
        Ok(Some(ClientEvent::Count { .. }))
    ));
    let error = ClientError::ConnectionClosed {
        phase: ClientPhase::Nmbr,
    };
    assert_eq!(c.next_event(), Err(error.clone()));
    assert_eq!(c.next_event(), Err(error.clone()));
    assert!(c.is_closed());
    assert_eq!(c.send(Command::Quit), Err(SendError::Closed));
    // Input after the end is taken (as much as the room) and dropped.
    assert!(c.input_room() >= 4);
    assert_eq!(c.enqueue_input(b"#1\r\n"), 4);
    assert_eq!(c.next_event(), Err(error));

    // Cut inside RETR's data.
    let mut c = Client::new(ClientConfig::default());
    feed(&mut c, b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.send(helo()).unwrap();
    feed(&mut c, b"#1\r\n");
    c.next_event().unwrap();
    c.send(Command::Read(None)).unwrap();
    feed(&mut c, b"=10\r\n");
    c.next_event().unwrap();
    c.send(Command::Retr).unwrap();
    feed(&mut c, b"abc");
    c.enqueue_eof();
    assert_eq!(c.next_event(), Ok(Some(ClientEvent::Data("abc".into()))));
    assert_eq!(
        c.next_event(),
        Err(ClientError::ConnectionClosed {
            phase: ClientPhase::Xfer
        })
    );

    // Cut before the greeting.
    let mut c = Client::new(ClientConfig::default());
    c.enqueue_eof();
    assert_eq!(
        c.next_event(),
        Err(ClientError::ConnectionClosed {
            phase: ClientPhase::Call
        })
    );
}

/// The server's connection cut before QUIT: commands already taken still run,
/// a pending answer can still be given, then the session ends with an error
/// and nothing is deleted.
#[test]
fn server_eof_mid_session() {
    let mut s = server();
    feed(&mut s, b"HELO a b\r\nREAD\r\nRETR\r\n");
    assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Helo { .. }))));
    s.accept_login(vec![3, 4]).unwrap();
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    feed(&mut s, b"ACKD\r\nQU");
    s.enqueue_eof();
    assert_eq!(s.next_event(), Ok(None));
    s.send_message(Bytes::from_static(b"abc")).unwrap();
    let error = ServerError::ConnectionLost {
        phase: ServerPhase::Item,
    };
    assert_eq!(s.next_event(), Err(error.clone()));
    assert_eq!(s.next_event(), Err(error.clone()));
    assert!(s.is_closed());
    // ACKD marked message 1, but no release happened: no Quit or Fold event
    // ever handed the deletion to the host.
    assert_eq!(
        out(&mut s),
        b"#2 messages in your mailbox\r\n=3 characters in message 1\r\nabc=4 characters in message 2\r\n"
    );
    assert_eq!(s.enqueue_input(b"QUIT\r\n"), 6);
    assert_eq!(s.next_event(), Err(error));
    assert!(out(&mut s).is_empty());

    // EOF right after the greeting.
    let mut s = server();
    s.enqueue_eof();
    assert_eq!(
        s.next_event(),
        Err(ServerError::ConnectionLost {
            phase: ServerPhase::Auth
        })
    );

    // QUIT then EOF: the normal end, not an error.
    let mut s = server();
    feed(&mut s, b"QUIT\r\n");
    s.enqueue_eof();
    assert_eq!(s.next_event(), Ok(Some(ServerEvent::Closed)));
    assert_eq!(s.next_event(), Ok(None));
}

/// A refused login ends the server's session with an error, repeated.
#[test]
fn server_login_refused_is_the_end() {
    let mut s = server();
    feed(&mut s, b"HELO a b\r\nREAD\r\n");
    assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Helo { .. }))));
    s.refuse_login(Text::new("no").unwrap()).unwrap();
    assert_eq!(s.next_event(), Err(ServerError::LoginRefused));
    assert_eq!(s.next_event(), Err(ServerError::LoginRefused));
    assert_eq!(out(&mut s), b"- no\r\n");
}

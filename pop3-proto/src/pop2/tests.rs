//! Unit tests of the POP2 values and machines; whole sessions are in
//! `tests/tests/pop2.rs`.

use alloc::vec;
use alloc::vec::Vec;

use bytes::Bytes;

use super::*;
use crate::encode::Encode;
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

fn out(server: &mut Server) -> Vec<u8> {
    server.take_output().concat()
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
        s.enqueue_input(before).unwrap();
        if !before.is_empty() {
            assert!(matches!(s.next_event(), Some(ServerEvent::Helo { .. })));
            s.accept_login(vec![10]).unwrap();
        }
        assert_eq!(s.next_event(), None);
        let _ = out(&mut s);
        s.enqueue_input(bad).unwrap();
        assert!(
            matches!(
                s.next_event(),
                Some(ServerEvent::Closed {
                    reason: CloseReason::UnexpectedCommand { .. }
                })
            ),
            "{bad:?}"
        );
        assert_eq!(out(&mut s), b"- error\r\n");
        assert_eq!(s.state(), ServerState::Done);
        assert_eq!(s.next_event(), None);
    }
}

#[test]
fn pointer_and_marks() {
    let mut s = server();
    s.enqueue_input(b"HELO a b\r\nREAD 2\r\nRETR\r\n").unwrap();
    assert!(matches!(s.next_event(), Some(ServerEvent::Helo { .. })));
    s.accept_login(vec![3, 4, 5]).unwrap();
    let two = MessageNumber::new(2).unwrap();
    assert_eq!(
        s.next_event(),
        Some(ServerEvent::Retrieve { msg: two, size: 4 })
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
    assert_eq!(s.state(), ServerState::Next);
    s.enqueue_input(b"NACK\r\nRETR\r\n").unwrap();
    assert_eq!(
        s.next_event(),
        Some(ServerEvent::Retrieve { msg: two, size: 4 })
    );
    s.send_message(Bytes::from_static(b"abcd")).unwrap();
    s.enqueue_input(b"ACKD\r\nREAD 2\r\nREAD 9\r\nREAD 1\r\nQUIT\r\n")
        .unwrap();
    assert_eq!(
        s.next_event(),
        Some(ServerEvent::Quit { deleted: vec![two] })
    );
    assert!(s.is_deleted(two));
    s.quit_done().unwrap();
    assert_eq!(
        s.next_event(),
        Some(ServerEvent::Closed {
            reason: CloseReason::Quit
        })
    );
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
    c.enqueue_input(b"+ POP2 h\r\n");
    assert!(matches!(c.next_event(), Ok(Some(ClientEvent::Greeting(_)))));
    assert_eq!(
        c.send(Command::Retr),
        Err(SendError::WrongState {
            command: "RETR",
            state: ClientState::Call
        })
    );
    c.send(Command::Helo {
        user: arg("u"),
        password: Password::new("p").unwrap(),
    })
    .unwrap();
    assert_eq!(c.send(Command::Read(None)), Err(SendError::MustWait));
    c.enqueue_input(b"#1\r\n");
    assert!(c.next_event().unwrap().is_some());
    assert!(matches!(
        c.send(Command::Retr),
        Err(SendError::WrongState { .. })
    ));
    c.send(Command::Read(Some(2))).unwrap();
    c.enqueue_input(b"=0 no more messages\r\n");
    assert!(c.next_event().unwrap().is_some());
    assert_eq!(c.send(Command::Retr), Err(SendError::EmptyMessage));
    c.send(Command::Quit).unwrap();
    assert_eq!(c.send(Command::Quit), Err(SendError::MustWait));
    c.enqueue_input(b"+ bye\r\n");
    assert!(matches!(
        c.next_event(),
        Ok(Some(ClientEvent::Closed { .. }))
    ));
    assert_eq!(c.send(Command::Quit), Err(SendError::Closed));
    assert_eq!(
        c.take_output().unwrap(),
        Bytes::from_static(b"HELO u p\r\nREAD 2\r\nQUIT\r\n")
    );
}

#[test]
fn client_errors_are_fatal() {
    let mut c = Client::new(ClientConfig::default());
    c.enqueue_input(b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.send(Command::Helo {
        user: arg("u"),
        password: Password::new("p").unwrap(),
    })
    .unwrap();
    c.enqueue_input(b"=5\r\n");
    let err = ClientError::UnexpectedReply {
        expected: "#nnn",
        got: ReplyKind::Length(5),
    };
    assert_eq!(c.next_event(), Err(err.clone()));
    assert_eq!(c.next_event(), Err(err));
    assert_eq!(c.state(), ClientState::Exit);

    let mut c = Client::new(ClientConfig::default());
    c.enqueue_input(b"- go away\r\n");
    assert!(matches!(
        c.next_event(),
        Ok(Some(ClientEvent::Refused { .. }))
    ));
    assert_eq!(c.state(), ClientState::Exit);

    let mut c = Client::new(ClientConfig::default());
    c.enqueue_input(b"+ POP2 h\r\n");
    c.next_event().unwrap();
    c.enqueue_input(&[b'x'; 600]);
    assert!(matches!(
        c.next_event(),
        Err(ClientError::Unsolicited { buffered: 600 })
    ));
}

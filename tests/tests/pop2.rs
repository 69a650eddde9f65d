//! POP2 (RFC 937): the RFC's Example 1 byte for byte, each machine
//! against the other's scripted bytes and the two machines as an in-memory
//! pair; the error paths of the decision tables (R937-9); and properties: chunk
//! independence, encode->parse round trips, and no panic on arbitrary bytes.
//! Both machines are driven through [`Machine`], the crate's one IO contract.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use pop3_proto::encode::Encode;
use pop3_proto::pop2::{
    Argument, Client, ClientConfig, ClientError, ClientEvent, ClientPhase, Command, Greeting,
    HostName, Password, Reply, ReplyKind, SendError, Server, ServerConfig, ServerError,
    ServerEvent, ServerPhase, MAX_COMMAND_LINE, MAX_REPLY_LINE,
};
use pop3_proto::types::{MessageNumber, Text};
use pop3_proto::Machine;
use proptest::prelude::*;

/// A synthetic message of exactly `size` octets, CRLF lines.
fn message(tag: &str, size: usize) -> Bytes {
    let mut body = Vec::new();
    let mut i = 0;
    while body.len() < size {
        body.extend_from_slice(format!("{tag} line {i:04}\r\n").as_bytes());
        i += 1;
    }
    body.truncate(size.saturating_sub(2));
    body.extend_from_slice(&b"\r\n"[..size.min(2)]);
    assert_eq!(body.len(), size);
    Bytes::from(body)
}

fn example_messages() -> Vec<Bytes> {
    vec![message("one", 537), message("two", 234)]
}

/// What the client writes in Example 1.
const EXAMPLE_CLIENT: &[u8] =
    b"HELO POSTEL SECRET\r\nREAD\r\nRETR\r\nACKD\r\nRETR\r\nACKD\r\nQUIT\r\n";

/// What the server writes in Example 1, with the synthetic messages.
fn example_server() -> Vec<u8> {
    let [one, two] = <[Bytes; 2]>::try_from(example_messages()).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(b"+ POP2 USC-ISIF.ARPA Server\r\n");
    out.extend_from_slice(b"#2 messages in your mailbox\r\n");
    out.extend_from_slice(b"=537 characters in message 1\r\n");
    out.extend_from_slice(&one);
    out.extend_from_slice(b"=234 characters in message 2\r\n");
    out.extend_from_slice(&two);
    out.extend_from_slice(b"=0 no more messages\r\n");
    out.extend_from_slice(b"+ OK, bye, bye\r\n");
    out
}

fn example_greeting() -> Greeting {
    Greeting::new(
        HostName::new("USC-ISIF.ARPA").unwrap(),
        Text::new("Server").unwrap(),
    )
    .unwrap()
}

// ----- the server's host -----

/// Mailboxes in memory; deletions are applied when a mailbox is released.
struct Host {
    user: &'static str,
    password: &'static str,
    boxes: HashMap<String, Vec<Bytes>>,
    selected: String,
    /// (mailbox, message numbers) for each release.
    applied: Vec<(String, Vec<u32>)>,
}

impl Host {
    fn example() -> Self {
        let mut boxes = HashMap::new();
        boxes.insert("POSTEL".to_string(), example_messages());
        Host {
            user: "POSTEL",
            password: "SECRET",
            boxes,
            selected: "POSTEL".to_string(),
            applied: Vec::new(),
        }
    }

    fn sizes(&self) -> Vec<u64> {
        self.boxes
            .get(&self.selected)
            .map(|m| m.iter().map(|b| b.len() as u64).collect())
            .unwrap_or_default()
    }

    fn release(&mut self, deleted: &[MessageNumber]) {
        let numbers: Vec<u32> = deleted.iter().map(|m| m.get()).collect();
        if let Some(messages) = self.boxes.get_mut(&self.selected) {
            let mut i = 0;
            messages.retain(|_| {
                i += 1;
                !numbers.contains(&i)
            });
        }
        self.applied.push((self.selected.clone(), numbers));
    }

    /// Answers one event the way a real host would.
    fn answer(&mut self, server: &mut Server, event: &ServerEvent) {
        match event {
            ServerEvent::Helo { user, password } => {
                if user.as_bytes() == self.user.as_bytes()
                    && password.expose_secret() == self.password.as_bytes()
                {
                    self.selected = self.user.to_string();
                    server.accept_login(self.sizes()).unwrap();
                } else {
                    server
                        .refuse_login(Text::new("invalid user or password").unwrap())
                        .unwrap();
                }
            }
            ServerEvent::Fold { mailbox, deleted } => {
                self.release(deleted);
                self.selected = String::from_utf8_lossy(mailbox.as_bytes()).into_owned();
                server.open_folder(self.sizes()).unwrap();
            }
            ServerEvent::Retrieve { msg, size } => {
                let data = self.boxes[&self.selected][msg.index()].clone();
                assert_eq!(data.len() as u64, *size);
                server.send_message(data).unwrap();
            }
            ServerEvent::Quit { deleted } => {
                self.release(deleted);
                server.quit_done().unwrap();
            }
            ServerEvent::Closed => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
}

/// Everything a machine has to write, in order.
fn drain<M: Machine>(machine: &mut M) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = machine.take_output() {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Feeds `chunks` to the server, no more at a time than its room, answering
/// events as they come; stops at the error that ends the session.
fn drive_server(
    server: &mut Server,
    host: &mut Host,
    chunks: &[&[u8]],
) -> (Vec<ServerEvent>, Option<ServerError>) {
    let mut events = Vec::new();
    for chunk in chunks {
        let mut rest: &[u8] = chunk;
        loop {
            let taken = server.enqueue_input(rest);
            rest = &rest[taken..];
            let mut any = false;
            loop {
                match server.next_event() {
                    Ok(Some(event)) => {
                        host.answer(server, &event);
                        events.push(event);
                        any = true;
                    }
                    Ok(None) => break,
                    Err(error) => return (events, Some(error)),
                }
            }
            if rest.is_empty() {
                break;
            }
            assert!(taken > 0 || any, "no room and no progress");
        }
        assert!(server.buffered_input() < MAX_COMMAND_LINE);
    }
    (events, None)
}

// ----- the client's program -----

/// A client event with message data merged, to compare runs split differently.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Event(ClientEvent),
    Data(Vec<u8>),
}

fn push_seen(seen: &mut Vec<Seen>, event: ClientEvent) {
    if let ClientEvent::Data(data) = &event {
        if let Some(Seen::Data(last)) = seen.last_mut() {
            last.extend_from_slice(data);
        } else {
            seen.push(Seen::Data(data.to_vec()));
        }
    } else {
        seen.push(Seen::Event(event));
    }
}

/// Example 1's client program: log in, READ, RETR and ACKD every message,
/// QUIT at `=0`. `nack_first` sends NACK after the first message once, to get
/// it again.
struct Program {
    nack_first: bool,
}

impl Program {
    fn next_command(&mut self, event: &ClientEvent) -> Option<Command> {
        match event {
            ClientEvent::Greeting(_) => Some(Command::Helo {
                user: Argument::new("POSTEL").unwrap(),
                password: Password::new("SECRET").unwrap(),
            }),
            ClientEvent::Count { count: 0, .. } | ClientEvent::Length { length: 0, .. } => {
                Some(Command::Quit)
            }
            ClientEvent::Count { .. } => Some(Command::Read(None)),
            ClientEvent::Length { .. } => Some(Command::Retr),
            ClientEvent::DataEnd { .. } if self.nack_first => {
                self.nack_first = false;
                Some(Command::Nack)
            }
            ClientEvent::DataEnd { .. } => Some(Command::Ackd),
            _ => None,
        }
    }
}

/// Feeds `chunks` to the client, sending the program's commands as events come.
fn drive_client(
    client: &mut Client,
    program: &mut Program,
    chunks: &[&[u8]],
) -> (Vec<Seen>, Option<ClientError>) {
    let mut seen = Vec::new();
    for chunk in chunks {
        let mut rest: &[u8] = chunk;
        loop {
            let taken = client.enqueue_input(rest);
            rest = &rest[taken..];
            let mut any = false;
            loop {
                match client.next_event() {
                    Ok(Some(event)) => {
                        if let Some(command) = program.next_command(&event) {
                            client.send(command).unwrap();
                        }
                        push_seen(&mut seen, event);
                        any = true;
                    }
                    Ok(None) => break,
                    Err(error) => return (seen, Some(error)),
                }
            }
            if rest.is_empty() {
                break;
            }
            assert!(taken > 0 || any, "no room and no progress");
        }
        assert!(client.buffered_input() <= MAX_REPLY_LINE);
    }
    (seen, None)
}

fn example_client_events() -> Vec<Seen> {
    let [one, two] = <[Bytes; 2]>::try_from(example_messages()).unwrap();
    let text = |s: &str| Text::new(s).unwrap();
    vec![
        Seen::Event(ClientEvent::Greeting(example_greeting())),
        Seen::Event(ClientEvent::Count {
            count: 2,
            text: text("messages in your mailbox"),
        }),
        Seen::Event(ClientEvent::Length {
            length: 537,
            text: text("characters in message 1"),
        }),
        Seen::Data(one.to_vec()),
        Seen::Event(ClientEvent::DataEnd { size: 537 }),
        Seen::Event(ClientEvent::Length {
            length: 234,
            text: text("characters in message 2"),
        }),
        Seen::Data(two.to_vec()),
        Seen::Event(ClientEvent::DataEnd { size: 234 }),
        Seen::Event(ClientEvent::Length {
            length: 0,
            text: text("no more messages"),
        }),
        Seen::Event(ClientEvent::Closed {
            text: text("OK, bye, bye"),
        }),
    ]
}

fn split<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        chunks.push(&input[prev..cut]);
        prev = cut;
    }
    chunks
}

fn bytes_one_at_a_time(input: &[u8]) -> Vec<&[u8]> {
    input.chunks(1).collect()
}

// ----- Example 1 -----

/// The server machine against the client's bytes of Example 1 writes exactly
/// the server's bytes of Example 1, whole and one byte at a time.
#[test]
fn example1_server_against_scripted_client() {
    for one_byte in [false, true] {
        let mut server = Server::new(ServerConfig::default(), example_greeting());
        let mut host = Host::example();
        let chunks = if one_byte {
            bytes_one_at_a_time(EXAMPLE_CLIENT)
        } else {
            vec![EXAMPLE_CLIENT]
        };
        let (events, error) = drive_server(&mut server, &mut host, &chunks);
        assert_eq!(error, None);
        assert_eq!(drain(&mut server), example_server());
        assert_eq!(server.phase(), ServerPhase::Done);
        assert!(server.is_closed());
        let n = |x| MessageNumber::new(x).unwrap();
        assert_eq!(
            events,
            vec![
                ServerEvent::Helo {
                    user: Argument::new("POSTEL").unwrap(),
                    password: Password::new("SECRET").unwrap(),
                },
                ServerEvent::Retrieve {
                    msg: n(1),
                    size: 537
                },
                ServerEvent::Retrieve {
                    msg: n(2),
                    size: 234
                },
                ServerEvent::Quit {
                    deleted: vec![n(1), n(2)]
                },
                ServerEvent::Closed,
            ]
        );
        // R937-6: both deletions applied when QUIT released the mailbox.
        assert_eq!(host.applied, vec![("POSTEL".to_string(), vec![1, 2])]);
        assert!(host.boxes["POSTEL"].is_empty());
    }
}

/// The client machine against the server's bytes of Example 1 writes exactly
/// the client's bytes, and sees each message whole, whole and one byte at a time.
#[test]
fn example1_client_against_scripted_server() {
    let script = example_server();
    for one_byte in [false, true] {
        let mut client = Client::new(ClientConfig::default());
        let chunks = if one_byte {
            bytes_one_at_a_time(&script)
        } else {
            vec![&script[..]]
        };
        let (seen, error) = drive_client(&mut client, &mut Program { nack_first: false }, &chunks);
        assert_eq!(error, None);
        assert_eq!(seen, example_client_events());
        assert_eq!(client.take_output().unwrap(), EXAMPLE_CLIENT);
        assert_eq!(client.phase(), ClientPhase::Exit);
        assert!(client.is_closed());
    }
}

/// Message data comes out as slices of the buffer given to `enqueue_buf`, and
/// exactly `ccc` of them: the reply after the data is read as a reply.
#[test]
fn retr_data_is_zero_copy_and_counted() {
    let script = example_server();
    let mut buf = BytesMut::from(&script[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut client = Client::new(ClientConfig::default());
    let mut program = Program { nack_first: false };
    client.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    let mut pieces = 0;
    while let Some(event) = client.next_event().unwrap() {
        if let ClientEvent::Data(data) = &event {
            assert!(range.contains(&(data.as_ptr() as usize)));
            assert!(range.contains(&(data.as_ptr() as usize + data.len() - 1)));
            pieces += 1;
        }
        if let Some(command) = program.next_command(&event) {
            client.send(command).unwrap();
        }
    }
    assert_eq!(pieces, 2);
    assert_eq!(client.phase(), ClientPhase::Exit);
}

/// Run the two machines against each other in memory; returns what each wrote,
/// what the client saw, the server's events and the host.
fn run_pair(
    one_byte: bool,
    nack_first: bool,
) -> (Vec<u8>, Vec<u8>, Vec<Seen>, Vec<ServerEvent>, Host) {
    let mut server = Server::new(ServerConfig::default(), example_greeting());
    let mut host = Host::example();
    let mut client = Client::new(ClientConfig::default());
    let mut program = Program { nack_first };
    let (mut server_wrote, mut client_wrote) = (Vec::new(), Vec::new());
    let (mut seen, mut server_events) = (Vec::new(), Vec::new());
    for _round in 0..100 {
        let from_server = drain(&mut server);
        server_wrote.extend_from_slice(&from_server);
        let chunks = if one_byte {
            bytes_one_at_a_time(&from_server)
        } else {
            vec![&from_server[..]]
        };
        let (more, error) = drive_client(&mut client, &mut program, &chunks);
        assert_eq!(error, None);
        for s in more {
            match s {
                Seen::Event(e) => push_seen(&mut seen, e),
                Seen::Data(d) => push_seen(&mut seen, ClientEvent::Data(d.into())),
            }
        }
        let from_client = client.take_output().map(|b| b.to_vec()).unwrap_or_default();
        if from_client.is_empty() && from_server.is_empty() {
            break;
        }
        client_wrote.extend_from_slice(&from_client);
        let chunks = if one_byte {
            bytes_one_at_a_time(&from_client)
        } else {
            vec![&from_client[..]]
        };
        let (events, error) = drive_server(&mut server, &mut host, &chunks);
        assert_eq!(error, None);
        server_events.extend(events);
    }
    (server_wrote, client_wrote, seen, server_events, host)
}

/// The client machine against the server machine, whole and one byte at a
/// time: Example 1's exact bytes both ways.
#[test]
fn example1_pair_in_memory() {
    for one_byte in [false, true] {
        let (server_wrote, client_wrote, seen, events, host) = run_pair(one_byte, false);
        assert_eq!(server_wrote, example_server(), "one byte: {one_byte}");
        assert_eq!(client_wrote, EXAMPLE_CLIENT);
        assert_eq!(seen, example_client_events());
        assert_eq!(events.len(), 5);
        assert_eq!(host.applied, vec![("POSTEL".to_string(), vec![1, 2])]);
    }
}

/// NACK: the server keeps the message and announces it again (=ccc > 0).
#[test]
fn nack_retrieves_again() {
    let (server_wrote, client_wrote, seen, _, host) = run_pair(false, true);
    assert_eq!(
        client_wrote,
        b"HELO POSTEL SECRET\r\nREAD\r\nRETR\r\nNACK\r\nRETR\r\nACKD\r\nRETR\r\nACKD\r\nQUIT\r\n"
    );
    let data: Vec<&Seen> = seen.iter().filter(|s| matches!(s, Seen::Data(_))).collect();
    assert_eq!(data.len(), 3);
    assert_eq!(
        String::from_utf8_lossy(&server_wrote)
            .matches("=537 characters in message 1\r\n")
            .count(),
        2
    );
    assert_eq!(host.applied, vec![("POSTEL".to_string(), vec![1, 2])]);
}

// ----- errors and edge cases -----

fn logged_in(sizes: &[usize]) -> (Server, Host) {
    logged_in_with(ServerConfig::default(), sizes)
}

fn logged_in_with(config: ServerConfig, sizes: &[usize]) -> (Server, Host) {
    let mut host = Host::example();
    host.boxes.insert(
        "POSTEL".to_string(),
        sizes.iter().map(|&s| message("m", s)).collect(),
    );
    let mut server = Server::new(config, example_greeting());
    drive_server(&mut server, &mut host, &[b"HELO POSTEL SECRET\r\n"]);
    drain(&mut server);
    (server, host)
}

/// R937-9: an unexpected command is answered `- error`, and the server closes.
#[test]
fn unexpected_command_closes() {
    let (mut server, mut host) = logged_in(&[10]);
    let (events, error) = drive_server(&mut server, &mut host, &[b"ACKS\r\nREAD\r\n"]);
    assert_eq!(events, vec![]);
    let error = error.unwrap();
    assert_eq!(
        error,
        ServerError::UnexpectedCommand {
            command: "ACKS",
            phase: ServerPhase::Mbox
        }
    );
    assert_eq!(drain(&mut server), b"- error\r\n");
    // Nothing after the close is run, and nothing was deleted; the error repeats.
    assert!(host.applied.is_empty());
    assert_eq!(server.enqueue_input(b"READ\r\n"), 6);
    assert_eq!(server.next_event(), Err(error));
    assert!(drain(&mut server).is_empty());

    // A malformed line and an unknown command close the same way, and so does a
    // bare-LF line when bare LFs are refused.
    let strict = ServerConfig::default().with_allow_bare_lf(false);
    for (bad, config) in [
        (&b"READ x\r\n"[..], ServerConfig::default()),
        (b"STAT\r\n", ServerConfig::default()),
        (b"READ\n", strict),
    ] {
        let (mut server, mut host) = logged_in_with(config, &[10]);
        let (events, error) = drive_server(&mut server, &mut host, &[bad]);
        assert!(events.is_empty(), "{bad:?}");
        assert!(
            matches!(
                error,
                Some(ServerError::BadCommand(_) | ServerError::Framing(_))
            ),
            "{bad:?}"
        );
        assert_eq!(drain(&mut server), b"- error\r\n");
    }
}

/// By default a bare LF ends a command line, as in the POP3 server: each LF ends
/// exactly one line, and two lines are never joined.
#[test]
fn bare_lf_command_lines_are_accepted_by_default() {
    let (mut server, mut host) = logged_in(&[10, 20]);
    let (events, error) = drive_server(&mut server, &mut host, &[b"READ 2\nREAD 1\r\n"]);
    assert_eq!(error, None);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        drain(&mut server),
        b"=20 characters in message 2\r\n=10 characters in message 1\r\n"
    );
}

/// READ past the end (or of a deleted message) answers `=0`; RETR then is an
/// error that closes (R937-5), and so is RETR of a message of length 0.
#[test]
fn read_past_end_and_zero_length_retr() {
    let (mut server, mut host) = logged_in(&[10]);
    let (events, error) = drive_server(&mut server, &mut host, &[b"READ 2\r\nRETR\r\n"]);
    assert_eq!(events, vec![]);
    assert_eq!(error, Some(ServerError::EmptyMessage));
    assert_eq!(drain(&mut server), b"=0 no more messages\r\n- error\r\n");

    let (mut server, mut host) = logged_in(&[0, 4]);
    let (events, error) = drive_server(
        &mut server,
        &mut host,
        &[b"READ\r\nREAD 2\r\nREAD 1\r\nRETR\r\n"],
    );
    assert_eq!(events, vec![]);
    assert_eq!(error, Some(ServerError::EmptyMessage));
    assert_eq!(
        drain(&mut server),
        b"=0 no more messages\r\n=4 characters in message 2\r\n=0 no more messages\r\n- error\r\n"
    );

    // The client refuses to send RETR after =0.
    let mut client = Client::new(ClientConfig::default());
    assert_eq!(client.enqueue_input(b"+ POP2 h\r\n"), 10);
    client.next_event().unwrap();
    client
        .send(Command::Helo {
            user: Argument::new("u").unwrap(),
            password: Password::new("p").unwrap(),
        })
        .unwrap();
    assert_eq!(client.enqueue_input(b"#1\r\n"), 4);
    client.next_event().unwrap();
    client.send(Command::Read(Some(5))).unwrap();
    assert_eq!(client.enqueue_input(b"=0 no more messages\r\n"), 21);
    client.next_event().unwrap();
    assert_eq!(client.send(Command::Retr), Err(SendError::EmptyMessage));
    assert_eq!(client.message_length(), Some(0));
}

/// A refused HELO: `- text`, the server closes, and both sessions end with
/// an error (R937-5, R937-9).
#[test]
fn helo_refused() {
    let mut server = Server::new(ServerConfig::default(), example_greeting());
    let mut host = Host::example();
    let (events, error) = drive_server(&mut server, &mut host, &[b"HELO POSTEL WRONG\r\nREAD\r\n"]);
    assert_eq!(events.len(), 1);
    assert_eq!(error, Some(ServerError::LoginRefused));
    let wire = drain(&mut server);
    assert!(wire.ends_with(b"\r\n- invalid user or password\r\n"));

    let mut client = Client::new(ClientConfig::default());
    let mut program = Program { nack_first: false };
    let (seen, error) = drive_client(&mut client, &mut program, &[&wire]);
    assert_eq!(
        error,
        Some(ClientError::Refused {
            text: Text::new("invalid user or password").unwrap()
        })
    );
    assert!(matches!(
        seen.last(),
        Some(Seen::Event(ClientEvent::Greeting(_)))
    ));
    assert_eq!(client.phase(), ClientPhase::Exit);
    assert!(client.is_closed());
}

/// FOLD releases the mailbox: its ACKD marks are applied then (R937-6), and
/// the new mailbox starts at message 1.
#[test]
fn fold_applies_deletions() {
    let (mut server, mut host) = logged_in(&[3, 4]);
    host.boxes
        .insert("OTHER".to_string(), vec![message("o", 7)]);
    let (events, error) = drive_server(
        &mut server,
        &mut host,
        &[b"READ\r\nRETR\r\nACKD\r\nFOLD OTHER\r\nREAD\r\nFOLD nowhere\r\nQUIT\r\n"],
    );
    assert_eq!(error, None);
    let n1 = MessageNumber::new(1).unwrap();
    assert_eq!(
        events[1],
        ServerEvent::Fold {
            mailbox: Argument::new("OTHER").unwrap(),
            deleted: vec![n1]
        }
    );
    assert_eq!(
        events[2],
        ServerEvent::Fold {
            mailbox: Argument::new("nowhere").unwrap(),
            deleted: vec![]
        }
    );
    assert_eq!(
        host.applied,
        vec![
            ("POSTEL".to_string(), vec![1]),
            ("OTHER".to_string(), vec![]),
            ("nowhere".to_string(), vec![]),
        ]
    );
    assert_eq!(host.boxes["POSTEL"].len(), 1);
    let wire = String::from_utf8(drain(&mut server)).unwrap();
    assert!(wire.contains("=4 characters in message 2\r\n#1 message in your mailbox\r\n=7 characters in message 1\r\n#0 messages in your mailbox\r\n+ OK, bye, bye\r\n"), "{wire}");
}

/// QUIT before HELO: `+`, close, nothing released.
#[test]
fn quit_in_auth() {
    let mut server = Server::new(ServerConfig::default(), example_greeting());
    let mut host = Host::example();
    let (events, error) = drive_server(&mut server, &mut host, &[b"quit\r\n"]);
    assert_eq!(error, None);
    assert_eq!(events, vec![ServerEvent::Closed]);
    assert!(drain(&mut server).ends_with(b"\r\n+ OK, bye, bye\r\n"));
    assert!(host.applied.is_empty());
}

/// R937-8: a command line of 512 octets with CRLF is taken, 513 is an error.
#[test]
fn command_line_limit() {
    let fold = |len: usize| {
        let mut line = b"FOLD ".to_vec();
        line.resize(len - 2, b'x');
        line.extend_from_slice(b"\r\n");
        line
    };
    // An argument is at most 250 octets quoted: a 257-octet FOLD line is fine.
    let (mut server, mut host) = logged_in(&[]);
    host.boxes.insert("x".repeat(250), vec![]);
    let (events, error) = drive_server(&mut server, &mut host, &[&fold(257)]);
    assert_eq!(error, None);
    assert!(matches!(events[..], [ServerEvent::Fold { .. }]));
    // 513 octets: the framer refuses it, and the server closes.
    let (mut server, mut host) = logged_in(&[]);
    let line = fold(513);
    let chunks = bytes_one_at_a_time(&line);
    let (events, error) = drive_server(&mut server, &mut host, &chunks);
    assert!(events.is_empty());
    assert!(matches!(error, Some(ServerError::Framing(_))));
    // A reply line over 512 octets stops the client.
    let mut client = Client::new(ClientConfig::default());
    let mut long = b"+ POP2 h ".to_vec();
    long.resize(511, b'x');
    long.extend_from_slice(b"\r\n");
    assert_eq!(client.enqueue_input(&long), long.len());
    assert!(matches!(client.next_event(), Err(ClientError::Framing(_))));
    assert!(client.next_event().is_err());
}

/// Bad replies stop the client: wrong kind, not a reply, not a greeting.
#[test]
fn client_bad_replies() {
    for script in [
        &b"+OK POP3 ready\r\n"[..],
        b"+ POP3 h\r\n",
        b"#1\r\n",
        b"+ POP2 h\r\n=1\r\n",
        b"+ POP2 h\r\n#x\r\n",
        b"+ POP2 h\r\n#1\r\n#1\r\n",
        b"+ POP2 h\r\n#1\r\n=1\r\nx+ bye\r\n",
    ] {
        let mut client = Client::new(ClientConfig::default());
        let (_, error) = drive_client(&mut client, &mut Program { nack_first: false }, &[script]);
        assert!(error.is_some(), "{:?}", String::from_utf8_lossy(script));
        assert_eq!(client.phase(), ClientPhase::Exit);
    }
}

// ----- properties -----

fn argument_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b' '),
            Just(b'\\'),
            any::<u8>().prop_filter("no CR, LF, NUL", |b| !matches!(b, b'\r' | b'\n' | 0)),
        ],
        1..40,
    )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (argument_bytes(), argument_bytes()).prop_map(|(u, p)| Command::Helo {
            user: Argument::new(u).unwrap(),
            password: Password::new(p).unwrap(),
        }),
        argument_bytes().prop_map(|m| Command::Fold(Argument::new(m).unwrap())),
        proptest::option::of(any::<u32>()).prop_map(Command::Read),
        Just(Command::Retr),
        Just(Command::Acks),
        Just(Command::Ackd),
        Just(Command::Nack),
        Just(Command::Quit),
    ]
}

fn text() -> impl Strategy<Value = Text> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR, LF, NUL", |b| !matches!(b, b'\r' | b'\n' | 0)),
        0..60,
    )
    .prop_map(|t| Text::new(t).unwrap())
}

fn reply() -> impl Strategy<Value = Reply> {
    let kind = prop_oneof![
        Just(ReplyKind::Ok),
        Just(ReplyKind::Err),
        any::<u32>().prop_map(ReplyKind::Count),
        any::<u64>().prop_map(ReplyKind::Length),
    ];
    (kind, text()).prop_map(|(k, t)| Reply::new(k, t).unwrap())
}

fn greeting() -> impl Strategy<Value = Greeting> {
    ("[!-~]{1,30}", text()).prop_map(|(h, t)| Greeting::new(HostName::new(h).unwrap(), t).unwrap())
}

/// Strips the CRLF `encode` always ends with.
fn line(wire: &[u8]) -> &[u8] {
    wire.strip_suffix(b"\r\n").unwrap()
}

/// Fragments of client commands, valid and not, for the server fuzz.
fn client_fragments() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b"HELO POSTEL SECRET\r\n".to_vec()),
            Just(b"HELO a b\r\n".to_vec()),
            Just(b"READ\r\n".to_vec()),
            Just(b"READ 2\r\n".to_vec()),
            Just(b"RETR\r\n".to_vec()),
            Just(b"ACKS\r\n".to_vec()),
            Just(b"ACKD\r\n".to_vec()),
            Just(b"NACK\r\n".to_vec()),
            Just(b"FOLD POSTEL\r\n".to_vec()),
            Just(b"QUIT\r\n".to_vec()),
            Just(b"\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20),
        ],
        0..16,
    )
    .prop_map(|v| v.concat())
}

/// Fragments of server replies, valid and not, for the client fuzz.
fn server_fragments() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b"+ POP2 h\r\n".to_vec()),
            Just(b"#2\r\n".to_vec()),
            Just(b"#0\r\n".to_vec()),
            Just(b"=5 x\r\n".to_vec()),
            Just(b"=0\r\n".to_vec()),
            Just(b"abcde".to_vec()),
            Just(b"- no\r\n".to_vec()),
            Just(b"+ bye\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20),
        ],
        0..16,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Chunk independence: any split of the client's bytes gives the server
    /// the same events and output.
    #[test]
    fn server_chunk_independence(cuts in proptest::collection::vec(0usize..80, 0..12)) {
        let mut server = Server::new(ServerConfig::default(), example_greeting());
        let mut host = Host::example();
        let (events, error) = drive_server(&mut server, &mut host, &split(EXAMPLE_CLIENT, &cuts));
        prop_assert_eq!(error, None);
        prop_assert_eq!(drain(&mut server), example_server());
        prop_assert_eq!(events.len(), 5);
    }

    /// Any split of the server's bytes gives the client the same events, the
    /// same message bytes and the same output.
    #[test]
    fn client_chunk_independence(cuts in proptest::collection::vec(0usize..1200, 0..24)) {
        let script = example_server();
        let mut client = Client::new(ClientConfig::default());
        let (seen, error) = drive_client(&mut client, &mut Program { nack_first: false }, &split(&script, &cuts));
        prop_assert_eq!(error, None);
        prop_assert_eq!(seen, example_client_events());
        prop_assert_eq!(client.take_output().unwrap(), EXAMPLE_CLIENT);
    }

    /// Round trip: parse(encode(x)) == x, within 512 octets (R937-8).
    #[test]
    fn command_round_trip(c in command()) {
        let wire = c.to_vec();
        prop_assert_eq!(wire.len(), c.encoded_len());
        prop_assert!(wire.len() <= MAX_COMMAND_LINE);
        prop_assert_eq!(Command::parse(line(&wire)), Ok(c));
    }

    #[test]
    fn reply_round_trip(r in reply()) {
        let wire = r.to_vec();
        prop_assert_eq!(wire.len(), r.encoded_len());
        prop_assert!(wire.len() <= MAX_REPLY_LINE);
        prop_assert_eq!(Reply::parse(line(&wire)), Ok(r));
    }

    #[test]
    fn greeting_round_trip(g in greeting()) {
        let wire = g.to_vec();
        prop_assert_eq!(wire.len(), g.encoded_len());
        prop_assert_eq!(Greeting::parse(line(&wire)), Ok(g));
    }

    /// Arbitrary bytes never panic a parser, and whatever parses re-encodes to
    /// a line that parses to the same value.
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(c) = Command::parse(&bytes) {
            prop_assert_eq!(Command::parse(line(&c.to_vec())), Ok(c));
        }
        if let Ok(r) = Reply::parse(&bytes) {
            prop_assert_eq!(Reply::parse(line(&r.to_vec())), Ok(r));
        }
        if let Ok(g) = Greeting::parse(&bytes) {
            prop_assert_eq!(Greeting::parse(line(&g.to_vec())), Ok(g));
        }
    }

    /// Arbitrary input never panics the server, and its buffer stays bounded.
    #[test]
    fn server_never_panics(input in client_fragments(), cuts in proptest::collection::vec(0usize..400, 0..8)) {
        let mut server = Server::new(ServerConfig::default(), example_greeting());
        let mut host = Host::example();
        let (events, error) = drive_server(&mut server, &mut host, &split(&input, &cuts));
        if error.is_some() || matches!(events.last(), Some(ServerEvent::Closed)) {
            prop_assert_eq!(server.phase(), ServerPhase::Done);
            prop_assert!(server.is_closed());
        }
        // The end of input ends every session: normally after QUIT, else with
        // an error that repeats.
        server.enqueue_eof();
        loop {
            match server.next_event() {
                Ok(Some(event)) => host.answer(&mut server, &event),
                Ok(None) => break,
                Err(end) => {
                    prop_assert_eq!(server.next_event(), Err(end));
                    break;
                }
            }
        }
        prop_assert!(server.is_closed());
    }

    /// Arbitrary input never panics the client, and its buffer stays bounded.
    #[test]
    fn client_never_panics(input in server_fragments(), cuts in proptest::collection::vec(0usize..400, 0..8)) {
        let mut client = Client::new(ClientConfig::default());
        let (_, error) = drive_client(&mut client, &mut Program { nack_first: false }, &split(&input, &cuts));
        if let Some(error) = error {
            prop_assert_eq!(client.phase(), ClientPhase::Exit);
            prop_assert_eq!(client.next_event(), Err(error));
        }
        // The end of input ends every session: normally after QUIT answered,
        // else with an error that repeats.
        client.enqueue_eof();
        let mut program = Program { nack_first: false };
        loop {
            match client.next_event() {
                Ok(Some(event)) => {
                    if let Some(command) = program.next_command(&event) {
                        client.send(command).unwrap();
                    }
                }
                Ok(None) => break,
                Err(end) => {
                    prop_assert_eq!(client.next_event(), Err(end));
                    break;
                }
            }
        }
        prop_assert!(client.is_closed());
    }
}

/// A connection cut before QUIT ends both sessions with an error: the server
/// deletes nothing although ACKD marked a message (R937-6), and the client
/// reports where it was cut.
#[test]
fn connection_cut_before_quit() {
    let (mut server, mut host) = logged_in(&[10, 20]);
    let (events, error) = drive_server(&mut server, &mut host, &[b"READ\r\nRETR\r\nACKD\r\n"]);
    assert_eq!(error, None);
    assert_eq!(events.len(), 1);
    server.enqueue_eof();
    let lost = ServerError::ConnectionLost {
        phase: ServerPhase::Item,
    };
    assert_eq!(server.next_event(), Err(lost.clone()));
    assert_eq!(server.next_event(), Err(lost));
    assert!(server.is_closed());
    assert!(host.applied.is_empty());
    assert_eq!(host.boxes["POSTEL"].len(), 2);

    // The client, cut inside the first message of Example 1.
    let script = example_server();
    let cut = b"+ POP2 USC-ISIF.ARPA Server\r\n#2 messages in your mailbox\r\n=537 characters in message 1\r\n".len() + 100;
    let mut client = Client::new(ClientConfig::default());
    let (seen, error) = drive_client(
        &mut client,
        &mut Program { nack_first: false },
        &[&script[..cut]],
    );
    assert_eq!(error, None);
    assert_eq!(
        seen.last(),
        Some(&Seen::Data(script[cut - 100..cut].to_vec()))
    );
    assert_eq!(client.remaining_data(), Some(437));
    client.enqueue_eof();
    let closed = ClientError::ConnectionClosed {
        phase: ClientPhase::Xfer,
    };
    assert_eq!(client.next_event(), Err(closed.clone()));
    assert_eq!(client.next_event(), Err(closed));
    assert!(client.is_closed());
}

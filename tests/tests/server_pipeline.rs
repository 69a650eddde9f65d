//! Input handling of the server machine: pipelining in order (R2449-17), the
//! bounded input buffer while the host is busy, the output bound, over-long
//! lines (E-14), STLS injection (IMPL-13, CVE-2011-0411) and chunk
//! independence (the same events and bytes whatever the split).

use bytes::Bytes;
use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::server::{MessageInfo, Phase, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Command, MessageNumber, Password, Text, UniqueId, Username};
use pop3_proto::{Machine, StartTls};
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::{MemoryHost, Pair, TV1_MSG1};

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn logged_in(config: ServerConfig, host: &mut MemoryHost) -> Server {
    let mut server = Server::new(config, text("ready"), None);
    server.take_all();
    host.drive(&mut server, b"USER mrose\r\nPASS tanstaaf\r\n");
    assert_eq!(server.phase(), Phase::Transaction);
    server
}

/// Ten commands whose replies depend only on their place in the block.
fn block() -> (Vec<u8>, Vec<u8>) {
    let commands: &[u8] = b"DELE 1\r\nSTAT\r\nRETR 1\r\nRSET\r\nSTAT\r\nLIST 2\r\nUIDL 1\r\nNOOP\r\nRETR 1\r\nTOP 2 0\r\n";
    let mut replies = b"+OK message 1 deleted\r\n+OK 1 200\r\n-ERR message 1 already deleted\r\n+OK maildrop has 2 messages (320 octets)\r\n+OK 2 320\r\n+OK 2 200\r\n+OK 1 whqtswO00WBw418f9t5JxYwZ\r\n+OK\r\n+OK 120 octets\r\n".to_vec();
    replies.extend_from_slice(TV1_MSG1);
    replies.extend_from_slice(b".\r\n+OK\r\nFrom: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\n.\r\n");
    (commands.to_vec(), replies)
}

#[test]
fn r2449_17_ten_thousand_pipelined_commands_answered_in_order() {
    let (commands, replies) = block();
    let input = commands.repeat(1000);
    let expected = replies.repeat(1000);
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(ServerConfig::default(), &mut host);
    // Fed as fast as the machine takes it (64 KiB buffer, 256 KiB output bound).
    let out = host.drive(&mut server, &input);
    assert_eq!(out.output.len(), expected.len());
    assert!(out.output == expected, "replies out of order");
    let retrieves = out
        .events
        .iter()
        .filter(|e| matches!(e, ServerEvent::Retrieve { .. }))
        .count();
    assert_eq!(retrieves, 2000);
    // And in small pieces that split commands everywhere.
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(ServerConfig::default(), &mut host);
    let out = host.drive_chunked(&mut server, &input, 7);
    assert!(out.output == expected);
}

#[test]
fn r2449_17_ten_thousand_pipelined_commands_against_the_client() {
    let client = ClientConfig::default().with_max_in_flight(20_000);
    let server = ServerConfig::default().with_max_buffered_input(1 << 20);
    let mut pair = Pair::new(client, server, "ready", MemoryHost::tv1());
    pair.run();
    pair.client.send(Command::Capa).unwrap();
    pair.run();
    pair.client
        .send(Command::User(Username::new("mrose").unwrap()))
        .unwrap();
    pair.client
        .send(Command::Pass(Password::new("tanstaaf").unwrap()))
        .unwrap();
    pair.run();
    let mut ids = Vec::new();
    for i in 0..10_000u32 {
        let command = match i % 5 {
            0 => Command::Stat,
            1 => Command::List(Some(n(1 + i % 2))),
            2 => Command::Uidl(Some(n(2))),
            3 => Command::Noop,
            _ => Command::Retr(n(1)),
        };
        ids.push(pair.client.send(command).unwrap());
    }
    pair.run();
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
    // Every command got its reply, in the order sent.
    let answered: Vec<_> = pair
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::Stat { id, .. }
            | Event::ScanOne { id, .. }
            | Event::UidOne { id, .. }
            | Event::BodyEnd { id, .. } => Some(*id),
            Event::Status { id, line } if line.is_ok() => Some(*id),
            _ => None,
        })
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(answered, ids);
    for (i, e) in pair
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::ScanOne { scan, .. } => Some(scan.msg.get()),
            _ => None,
        })
        .enumerate()
    {
        assert_eq!(e, 1 + (5 * i as u32 + 1) % 2);
    }
}

#[test]
fn e14_one_mib_command_line_refused_with_bounded_memory() {
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(ServerConfig::default(), &mut host);
    let limit = server.config().max_command_line;
    let mut line = b"NOOP\r\nLIST ".to_vec();
    line.extend(std::iter::repeat(b'9').take(1 << 20));
    line.extend_from_slice(b"\r\nSTAT\r\n");
    let mut output = Vec::new();
    let mut peak = 0;
    for chunk in line.chunks(4096) {
        server.enqueue_all(chunk);
        peak = peak.max(server.buffered_input());
        assert_eq!(server.next_event(), Ok(None));
        // Whatever was read of the long line is dropped as it arrives.
        assert!(
            server.buffered_input() <= limit,
            "{}",
            server.buffered_input()
        );
        output.extend(server.take_all());
    }
    assert!(peak <= 4096 + limit);
    assert_eq!(
        String::from_utf8(output).unwrap(),
        "+OK\r\n-ERR line too long\r\n+OK 2 320\r\n"
    );
    // The machine is still usable, and the same through drive().
    let out = host.drive(&mut server, &line);
    assert_eq!(out.text(), "+OK\r\n-ERR line too long\r\n+OK 2 320\r\n");
}

#[test]
fn r2449_1_a_255_octet_command_is_accepted_and_256_refused() {
    let mut host = MemoryHost::tv1();
    // RFC 2449's minimum as the configured limit (the default reads 512).
    let config = ServerConfig::default().with_max_command_line(255);
    let mut server = Server::new(config, text("ready"), None);
    server.take_all();
    let password = "p".repeat(248);
    let line = format!("USER mrose\r\nPASS {password}\r\n");
    assert_eq!(format!("PASS {password}\r\n").len(), 255);
    let out = host.drive(&mut server, line.as_bytes());
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::Login { .. })));
    let line = format!("USER mrose\r\nPASS {password}x\r\n");
    let out = host.drive(&mut server, line.as_bytes());
    assert!(
        out.text().ends_with("-ERR line too long\r\n"),
        "{}",
        out.text()
    );
    assert!(!out
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::Login { .. })));
}

#[test]
fn input_full_while_the_host_is_busy_then_everything_runs_in_order() {
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(ServerConfig::default(), &mut host);
    let bound = server.config().max_buffered_input;
    server.enqueue_all(b"RETR 1\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    // The host is reading message 1; the client keeps pipelining.
    let mut queued = 0usize;
    let partial = loop {
        let taken = server.enqueue_input(b"NOOP\r\n");
        if taken < 6 {
            // The bound: what fits is taken, the rest is left to the host.
            break taken;
        }
        queued += 1;
        assert_eq!(server.next_event(), Ok(None));
    };
    assert_eq!(server.buffered_input(), bound);
    assert_eq!(server.buffered_input(), queued * 6 + partial);
    assert_eq!(server.input_room(), 0);
    assert_eq!(server.enqueue_input(b"NOOP\r\n"), 0);
    server.send_message(Bytes::from_static(TV1_MSG1)).unwrap();
    assert_eq!(server.next_event(), Ok(None));
    let out = server.take_all();
    let mut expected = b"+OK 120 octets\r\n".to_vec();
    expected.extend_from_slice(TV1_MSG1);
    expected.extend_from_slice(b".\r\n");
    expected.extend_from_slice(&b"+OK\r\n".repeat(queued));
    assert!(out == expected);
    // The command cut at the bound waits for its rest.
    assert_eq!(server.buffered_input(), partial);
    server.enqueue_all(&b"NOOP\r\n"[partial..]);
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(server.take_all(), b"+OK\r\n");
    assert_eq!(server.buffered_input(), 0);
    server.enqueue_all(b"STAT\r\n");
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(server.take_all(), b"+OK 2 320\r\n");
}

#[test]
fn pending_output_bound_stops_reading_commands_until_written() {
    // 2,000 messages: one LIST reply is about 15 KB.
    let messages: Vec<(Bytes, String)> = (0..2000)
        .map(|i| (Bytes::from_static(b"x\r\n"), format!("u{i}")))
        .collect();
    let mut host = MemoryHost::new("mrose", "tanstaaf", messages);
    let config = ServerConfig::default().with_max_pending_output(64 * 1024);
    let mut server = logged_in(config, &mut host);
    let one_reply = {
        server.enqueue_all(b"LIST\r\n");
        assert_eq!(server.next_event(), Ok(None));
        server.take_all()
    };
    assert!(one_reply.len() > 10_000);
    let commands = b"LIST\r\n".repeat(1000);
    server.enqueue_all(&commands);
    assert_eq!(server.next_event(), Ok(None));
    // Stopped at the bound, with one reply of slack, the rest still buffered.
    assert!(server.output_len() <= 64 * 1024 + one_reply.len());
    assert!(server.buffered_input() > 0);
    let mut total = 0;
    let mut rounds = 0;
    loop {
        assert_eq!(server.next_event(), Ok(None));
        let out = server.take_all();
        if out.is_empty() {
            break;
        }
        total += out.len();
        rounds += 1;
    }
    assert_eq!(total, one_reply.len() * 1000);
    assert!(rounds > 100);
}

#[test]
fn impl13_stls_injection_is_discarded_never_run_cve_2011_0411() {
    let config = ServerConfig::default().with_stls(true);
    let mut server = Server::new(config, text("ready"), None);
    server.take_all();
    let injected: &[u8] = b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\nQUIT\r\n";
    let mut input = b"STLS\r\n".to_vec();
    input.extend_from_slice(injected);
    server.enqueue_all(&input);
    assert_eq!(
        server.next_event(),
        Ok(Some(ServerEvent::StartTls {
            discarded: injected.len()
        }))
    );
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(server.phase(), Phase::TlsHandshake);
    // Plaintext arriving before the handshake is done is not kept either.
    server.enqueue_all(b"USER mallory\r\n");
    assert_eq!(
        server.discarded_input(),
        (injected.len() + b"USER mallory\r\n".len()) as u64
    );
    server.tls_established();
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(server.take_all(), b"+OK Begin TLS negotiation\r\n");
    assert_eq!(server.pending_user(), None);
    // Under TLS the session starts clean.
    server.enqueue_all(b"CAPA\r\n");
    assert_eq!(server.next_event(), Ok(None));
    let capa = server.take_all();
    assert!(capa.starts_with(b"+OK Capability list follows\r\n"));
    assert!(!capa.windows(6).any(|w| w == b"\r\nSTLS"));
}

#[test]
fn impl13_a_partial_line_before_stls_is_not_joined_to_later_input() {
    let config = ServerConfig::default().with_stls(true);
    let mut server = Server::new(config, text("ready"), None);
    server.take_all();
    server.enqueue_all(b"STLS\r\nUSER mr");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::StartTls { discarded: 7 }))
    ));
    server.tls_established();
    server.enqueue_all(b"ose\r\n");
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(
        server.take_all(),
        b"+OK Begin TLS negotiation\r\n-ERR unknown command\r\n"
    );
    assert_eq!(server.pending_user(), None);
}

/// A session touching every kind of input: a greeting, CAPA, bad lines, an
/// over-long line, AUTH with a challenge, pipelined TRANSACTION commands, QUIT.
fn rich_session() -> Vec<u8> {
    let mut input = b"CAPA\r\nNOOP\r\nFOO bar\r\n".to_vec();
    input.extend(std::iter::repeat(b'x').take(700));
    input.extend_from_slice(b"\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN\r\nAG1yb3NlAHRhbnN0YWFm\r\n");
    input.extend_from_slice(
        b"STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 1\r\nDELE 1\r\nLIST 1\r\nRETR 2\r\nRSET\r\nDELE 2\r\nQUIT\r\n",
    );
    input
}

fn chunk_config() -> ServerConfig {
    ServerConfig::default().with_sasl(vec![pop3_proto::types::Mechanism::new("PLAIN").unwrap()])
}

#[test]
fn chunk_independence_byte_at_a_time_equals_whole() {
    let input = rich_session();
    let run = |chunk: usize| {
        let mut server = Server::new(chunk_config(), text("ready"), None);
        let mut host = MemoryHost::tv1();
        let out = host.drive_chunked(&mut server, &input, chunk);
        (
            out.output,
            format!("{:?}", out.events),
            host.removed.clone(),
        )
    };
    let whole = run(0);
    assert!(whole
        .0
        .ends_with(b"+OK POP3 server signing off (1 message left)\r\n"));
    assert_eq!(whole.2, vec![("mrose".to_string(), 1)]);
    for chunk in [1, 2, 3, 5, 8, 13, 255, 256, 4096] {
        assert_eq!(run(chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn chunk_independence_random_splits() {
    let input = rich_session();
    let reference = {
        let mut server = Server::new(chunk_config(), text("ready"), None);
        MemoryHost::tv1().drive(&mut server, &input).output
    };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..50 {
        let mut server = Server::new(chunk_config(), text("ready"), None);
        let mut host = MemoryHost::tv1();
        let mut rest = &input[..];
        let mut output = Vec::new();
        while !rest.is_empty() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let take = (1 + (seed % 40) as usize).min(rest.len());
            let (now, later) = rest.split_at(take);
            output.extend(host.drive(&mut server, now).output);
            rest = later;
        }
        assert!(output == reference);
    }
}

#[test]
fn chunk_independence_pair_byte_at_a_time_session() {
    let run = |bytewise: bool| {
        let mut pair = Pair::new(
            ClientConfig::default(),
            chunk_config(),
            "ready",
            MemoryHost::tv1(),
        );
        pair.byte_at_a_time = bytewise;
        pair.run();
        for c in [
            Command::Capa,
            Command::User(Username::new("mrose").unwrap()),
            Command::Pass(Password::new("tanstaaf").unwrap()),
            Command::List(None),
            Command::Retr(n(2)),
            Command::Top {
                msg: n(2),
                lines: 3,
            },
            Command::Dele(n(2)),
            Command::Quit,
        ] {
            pair.client.send(c).unwrap();
            pair.run();
        }
        assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
        (pair.server_wrote, pair.client_wrote, pair.host.removed)
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn machine_answers_list_from_a_listing_of_many_messages() {
    let mut server = Server::new(ServerConfig::default(), text("ready"), None);
    server.take_all();
    server.enqueue_all(
        b"USER a\r\nPASS b\r\nSTAT\r\nDELE 100000\r\nSTAT\r\nLIST 100000\r\nLIST 100001\r\n",
    );
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    let listing = (0..100_000u32)
        .map(|i| MessageInfo {
            size: u64::from(i) + 1,
            uid: UniqueId::new(format!("m{i}")).unwrap(),
        })
        .collect();
    server.accept_login(listing, None).unwrap();
    assert_eq!(server.next_event(), Ok(None));
    let total: u64 = (1..=100_000u64).sum();
    let out = String::from_utf8(server.take_all()).unwrap();
    assert!(out.ends_with(&format!(
        "+OK 100000 {total}\r\n+OK message 100000 deleted\r\n+OK 99999 {}\r\n-ERR message 100000 already deleted\r\n-ERR no such message, only 100000 messages in maildrop\r\n",
        total - 100_000
    )), "{out}");
}

/// A read larger than `input_room` is taken in part (never refused whole); the
/// rest, fed once the machine has worked, gives exactly what the same bytes give
/// fed one octet at a time.
#[test]
fn a_chunk_larger_than_the_room_is_taken_in_part_and_the_rest_later_same_result() {
    let (one_block, _) = block();
    let commands = one_block.repeat(100);
    let config = ServerConfig::default()
        .with_max_buffered_input(1000)
        .with_max_sasl_line(1000);

    let mut host = MemoryHost::tv1();
    let mut server = logged_in(config.clone(), &mut host);
    let mut output = Vec::new();
    let mut events = Vec::new();
    let mut rest: &[u8] = &commands;
    let mut partial_takes = 0;
    while !rest.is_empty() {
        let room = server.input_room();
        let taken = server.enqueue_input(rest);
        assert_eq!(taken, room.min(rest.len()), "takes what fits");
        if taken < rest.len() {
            partial_takes += 1;
        }
        rest = &rest[taken..];
        while let Some(event) = server.next_event().unwrap() {
            host.handle(&mut server, &event);
            events.push(event);
        }
        output.extend(server.take_all());
    }
    assert!(partial_takes > 1, "the chunk was larger than the room");

    let mut reference_host = MemoryHost::tv1();
    let mut reference = logged_in(config, &mut reference_host);
    let driven = reference_host.drive_chunked(&mut reference, &commands, 1);
    assert!(output == driven.output, "the same bytes out");
    assert_eq!(events, driven.events);
}

/// `enqueue_buf` takes from the front of the host's buffer what fits and leaves
/// the rest there; all of it when it fits, without a copy.
#[test]
fn enqueue_buf_takes_what_fits_and_leaves_the_rest() {
    let config = ServerConfig::default()
        .with_max_buffered_input(600)
        .with_max_sasl_line(600);
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(config, &mut host);
    server.enqueue_all(b"RETR 1\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    // The host is busy: 1,200 octets of NOOPs wait.
    let mut buf = bytes::BytesMut::from(&b"NOOP\r\n".repeat(200)[..]);
    server.enqueue_buf(&mut buf);
    assert_eq!(server.buffered_input(), 600);
    assert_eq!(buf.len(), 600);
    server.send_message(Bytes::from_static(TV1_MSG1)).unwrap();
    assert_eq!(server.next_event(), Ok(None));
    server.enqueue_buf(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(server.next_event(), Ok(None));
    let out = server.take_all();
    assert!(out.ends_with(&b"+OK\r\n".repeat(200)));
}

//! The server machine: a pipelined stream of 1,000,000 mixed commands (commands
//! per second, beside the bare framer + parser), and 100 messages of 1 MiB served
//! through RETR (GB/s, beside the bare stuffing encoder and a memmem scan for
//! `"\n."`, the least any stuffer must do), each group in the same run.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pop3_proto::dot::{self, StuffConfig, Stuffer};
use pop3_proto::framing::{FramingConfig, LineFramer};
use pop3_proto::server::{MessageInfo, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Command, Text, UniqueId};
use pop3_proto::Machine;

const COMMANDS: usize = 1_000_000;
const MESSAGES: usize = 100;
const MESSAGE_SIZE: usize = 1 << 20;

/// Ten commands, answered by the machine (STAT, LIST, UIDL, NOOP, DELE, RSET)
/// or by the host (RETR, TOP).
const BLOCK: &[u8] =
    b"STAT\r\nLIST 1\r\nUIDL 2\r\nNOOP\r\nDELE 1\r\nRSET\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 0\r\n";

const SMALL: &[u8] = b"From: a@example.com\r\nSubject: small\r\n\r\nHello.\r\n.dot line\r\n";

fn logged_in(listing: Vec<MessageInfo>) -> Server {
    let config = ServerConfig::default();
    let mut server = Server::new(config, Text::new("ready").unwrap(), None);
    assert_eq!(server.enqueue_input(b"USER a\r\nPASS b\r\n"), 16);
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    server.accept_login(listing, None).unwrap();
    while server.take_output().is_some() {}
    server
}

fn info(size: usize, i: usize) -> MessageInfo {
    MessageInfo {
        size: size as u64,
        uid: UniqueId::new(format!("uid{i}")).unwrap(),
    }
}

/// Feeds `input` as fast as the machine takes it, answering RETR and TOP with
/// `messages`, and returns the octets written.
fn serve(server: &mut Server, input: &[u8], messages: &[Bytes]) -> usize {
    let mut written = 0;
    let mut rest = input;
    loop {
        let mut progress = false;
        while let Some(event) = server.next_event().unwrap() {
            progress = true;
            if let ServerEvent::Retrieve { msg, .. } = event {
                let body = messages.get(msg.index()).cloned().unwrap_or_default();
                server.send_message(body).unwrap();
            }
        }
        while let Some(chunk) = server.take_output() {
            progress = true;
            written += black_box(chunk).len();
        }
        let take = server.input_room().min(rest.len()).min(64 * 1024);
        if take > 0 {
            progress = true;
            let taken = server.enqueue_input(&rest[..take]);
            rest = &rest[taken..];
        }
        if !progress {
            return written;
        }
    }
}

fn pipeline(c: &mut Criterion) {
    let input = BLOCK.repeat(COMMANDS / 10);
    let messages = vec![Bytes::from_static(SMALL), Bytes::from_static(SMALL)];
    let listing = vec![info(SMALL.len(), 1), info(SMALL.len(), 2)];
    let mut group = c.benchmark_group("server_pipeline_1M_mixed_commands");
    group.throughput(Throughput::Elements(COMMANDS as u64));
    group.sample_size(10);
    group.bench_function("server_machine", |b| {
        b.iter(|| {
            let mut server = logged_in(listing.clone());
            serve(&mut server, &input, &messages)
        })
    });
    // Baseline: only finding the lines and parsing them as commands.
    group.bench_function("framer_and_parser_only", |b| {
        b.iter(|| {
            let mut framer = LineFramer::new(FramingConfig::COMMAND);
            let mut buf = BytesMut::from(&input[..]);
            let mut count = 0usize;
            while let Ok(Some(line)) = framer.next_line(&mut buf) {
                if Command::parse(&line.bytes).is_ok() {
                    count += 1;
                }
            }
            assert_eq!(count, COMMANDS);
            count
        })
    });
    group.finish();
}

/// Typical mail: 76-octet lines, one line in 50 starting with a dot.
fn message(seed: usize) -> Bytes {
    let mut m = Vec::with_capacity(MESSAGE_SIZE);
    m.extend_from_slice(b"From: bench@example.com\r\nSubject: bench\r\n\r\n");
    let mut i = seed;
    while m.len() < MESSAGE_SIZE {
        i += 1;
        let lead = if i % 50 == 0 {
            b'.'
        } else {
            b'a' + (i % 26) as u8
        };
        m.push(lead);
        m.extend(std::iter::repeat(b'a' + (i % 23) as u8).take(73));
        m.extend_from_slice(b"\r\n");
    }
    m.truncate(MESSAGE_SIZE);
    m.truncate(m.len() - 2);
    m.extend_from_slice(b"\r\n");
    Bytes::from(m)
}

fn retr(c: &mut Criterion) {
    let messages: Vec<Bytes> = (0..MESSAGES).map(message).collect();
    let listing: Vec<MessageInfo> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| info(dot::wire_len(m, StuffConfig::default()) as usize, i))
        .collect();
    let input: Vec<u8> = (1..=MESSAGES)
        .flat_map(|i| format!("RETR {i}\r\n").into_bytes())
        .collect();
    let total = (MESSAGES * MESSAGE_SIZE) as u64;
    let mut group = c.benchmark_group("server_retr_100x1MiB");
    group.throughput(Throughput::Bytes(total));
    group.sample_size(20);
    group.bench_function("server_machine", |b| {
        b.iter(|| {
            let mut server = logged_in(listing.clone());
            let written = serve(&mut server, &input, &messages);
            assert!(written as u64 > total);
            written
        })
    });
    group.bench_function("bare_stuffer", |b| {
        let mut out: Vec<Bytes> = Vec::new();
        b.iter(|| {
            let mut written = 0;
            for m in &messages {
                out.clear();
                let mut stuffer = Stuffer::new(StuffConfig::default());
                stuffer.push(m.clone(), &mut out);
                stuffer.finish(&mut out);
                written += out.iter().map(Bytes::len).sum::<usize>();
            }
            written
        })
    });
    group.bench_function("dot_stuff_fn", |b| {
        b.iter(|| {
            messages
                .iter()
                .map(|m| dot::stuff(m, StuffConfig::default()).len())
                .sum::<usize>()
        })
    });
    // The limit: finding every line that starts with a dot.
    group.bench_function("memmem_scan_limit", |b| {
        let finder = memchr::memmem::Finder::new(b"\n.");
        b.iter(|| {
            messages
                .iter()
                .map(|m| finder.find_iter(m).count())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline, retr);
criterion_main!(benches);

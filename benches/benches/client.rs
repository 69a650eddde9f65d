//! The client state machine over a whole session, beside the bare body decoder in
//! the same run (a figure is a ratio, not an absolute time).
//!
//! The session: greeting, CAPA, USER, PASS, LIST, 100 RETRs of 1 MiB messages
//! (typical mail: 76-octet lines, a few lines starting with a dot), QUIT; the
//! commands pipelined after the greeting, the server's replies fed in socket-sized
//! chunks.
//!
//! * `machine`: [`Client`] fed the stream with `Machine::enqueue_input` (each read
//!   fits in its input room once the events are drained), every event drained.
//! * `bare_decoder`: the same bytes in the same chunks, copied into a `BytesMut`
//!   the same way, status lines skipped with `memchr`, every multi-line reply run
//!   through [`BodyDecoder`]: what the machine costs at the least.
//!
//! The machine's overhead is `machine / bare_decoder - 1` on the medians; the goal
//! is at most 15 %.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pop3_proto::client::{Client, ClientConfig, Event};
use pop3_proto::dot::{BodyDecoder, BodyPiece, DecoderConfig};
use pop3_proto::types::{Command, MessageNumber, Password, Username};
use pop3_proto::Machine;

const MESSAGES: u32 = 100;
const MESSAGE_SIZE: usize = 1 << 20;
const GREETING: &[u8] = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

/// A 1 MiB message of 76-octet lines, one in 97 starting with a dot.
fn message(seed: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(MESSAGE_SIZE);
    m.extend_from_slice(
        format!("From: sender{seed}@example.com\r\nSubject: benchmark {seed}\r\n\r\n").as_bytes(),
    );
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +/=";
    let mut line = 0usize;
    while m.len() + 78 <= MESSAGE_SIZE {
        let start = if line % 97 == 13 {
            m.push(b'.');
            1
        } else {
            0
        };
        for k in start..76 {
            m.push(alphabet[(line * 31 + k * 7 + seed as usize) % alphabet.len()]);
        }
        m.extend_from_slice(b"\r\n");
        line += 1;
    }
    while m.len() + 2 < MESSAGE_SIZE {
        m.push(b'z');
    }
    m.extend_from_slice(b"\r\n");
    assert_eq!(m.len(), MESSAGE_SIZE);
    m
}

fn stuff(m: &[u8], out: &mut Vec<u8>) {
    for line in m.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
}

/// Whether each reply after the greeting is multi-line, in order.
fn shapes() -> Vec<bool> {
    let mut s = vec![true, false, false, true]; // CAPA, USER, PASS, LIST
    s.extend((0..MESSAGES).map(|_| true)); // RETR
    s.push(false); // QUIT
    s
}

/// The server's bytes after the greeting.
fn server_stream() -> Vec<u8> {
    let mut s = Vec::with_capacity((MESSAGES as usize) * (MESSAGE_SIZE + MESSAGE_SIZE / 50));
    s.extend_from_slice(
        b"+OK Capability list follows\r\nUSER\r\nPIPELINING\r\nUIDL\r\nTOP\r\n.\r\n",
    );
    s.extend_from_slice(b"+OK\r\n+OK maildrop locked and ready\r\n");
    s.extend_from_slice(format!("+OK {MESSAGES} messages\r\n").as_bytes());
    for i in 1..=MESSAGES {
        s.extend_from_slice(format!("{i} {MESSAGE_SIZE}\r\n").as_bytes());
    }
    s.extend_from_slice(b".\r\n");
    for i in 1..=MESSAGES {
        s.extend_from_slice(format!("+OK {MESSAGE_SIZE} octets\r\n").as_bytes());
        stuff(&message(i), &mut s);
    }
    s.extend_from_slice(b"+OK bye\r\n");
    s
}

/// The whole session through the machine; returns the body octets received.
#[inline(never)]
fn machine(stream: &[u8], chunk: usize) -> u64 {
    let config = ClientConfig::default().with_pipeline_without_capability(true);
    let mut client = Client::new(config);
    let mut body = 0u64;
    let mut drain = |client: &mut Client| loop {
        match client.next_event() {
            Ok(Some(Event::BodyChunk { data, .. })) => body += black_box(data).len() as u64,
            Ok(Some(event)) => {
                black_box(event);
            }
            Ok(None) => break,
            Err(e) => panic!("{e}"),
        }
    };
    let taken = client.enqueue_input(GREETING);
    assert_eq!(taken, GREETING.len());
    drain(&mut client);
    let sends = [
        Command::Capa,
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("tanstaaf").unwrap()),
        Command::List(None),
    ];
    for c in sends {
        client.send(c).unwrap();
    }
    for i in 1..=MESSAGES {
        client
            .send(Command::Retr(MessageNumber::new(i).unwrap()))
            .unwrap();
    }
    client.send(Command::Quit).unwrap();
    black_box(client.take_output());
    for piece in stream.chunks(chunk) {
        let taken = client.enqueue_input(piece);
        assert_eq!(taken, piece.len());
        drain(&mut client);
    }
    body
}

/// The same bytes, fed the same way, through the bare decoder.
#[inline(never)]
fn bare_decoder(stream: &[u8], chunk: usize, shapes: &[bool]) -> u64 {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(GREETING);
    let lf = memchr::memchr(b'\n', &buf).unwrap();
    let _ = buf.split_to(lf + 1);
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    let mut replies = shapes.iter();
    let mut in_body = false;
    let mut searched = 0;
    let mut body = 0u64;
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            if in_body {
                match decoder.decode(&mut buf).unwrap() {
                    BodyPiece::Data(data) => body += black_box(data).len() as u64,
                    BodyPiece::End => {
                        decoder.reset();
                        in_body = false;
                    }
                    BodyPiece::NeedMore => break,
                }
            } else {
                match memchr::memchr(b'\n', &buf[searched..]) {
                    Some(k) => {
                        black_box(buf.split_to(searched + k + 1));
                        searched = 0;
                        in_body = *replies.next().unwrap();
                    }
                    None => {
                        searched = buf.len();
                        break;
                    }
                }
            }
        }
    }
    body
}

/// Median of a sample.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A paired measurement beside criterion's: rounds that time the machine and the
/// bare decoder back to back (alternating which goes first), so a noisy machine
/// slows both sides of a round alike; prints the medians and the median of the
/// per-round ratios.
fn paired_overhead(stream: &[u8], shapes: &[bool], chunk: usize, rounds: usize) {
    use std::time::Instant;
    let mut m = Vec::with_capacity(rounds);
    let mut b = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let time_machine = || {
            let t = Instant::now();
            black_box(machine(black_box(stream), chunk));
            t.elapsed().as_secs_f64()
        };
        let time_bare = || {
            let t = Instant::now();
            black_box(bare_decoder(black_box(stream), chunk, shapes));
            t.elapsed().as_secs_f64()
        };
        let (tm, tb) = if round % 2 == 0 {
            let tm = time_machine();
            (tm, time_bare())
        } else {
            let tb = time_bare();
            (time_machine(), tb)
        };
        m.push(tm);
        b.push(tb);
        ratios.push(tm / tb);
    }
    println!(
        "paired {chunk:>6}-octet chunks, {rounds} rounds: machine median {:.3} ms, bare decoder median {:.3} ms, overhead (median of ratios) {:+.1} %",
        median(m) * 1e3,
        median(b) * 1e3,
        (median(ratios) - 1.0) * 100.0
    );
}

fn client_session(c: &mut Criterion) {
    let stream = server_stream();
    let shapes = shapes();
    let listing: u64 = (1..=MESSAGES)
        .map(|i| format!("{i} {MESSAGE_SIZE}\r\n").len() as u64)
        .sum();
    let expected = u64::from(MESSAGES) * MESSAGE_SIZE as u64;
    // Both see every body octet (the bare decoder also decodes CAPA and LIST).
    assert_eq!(machine(&stream, 65536), expected);
    let capa = b"USER\r\nPIPELINING\r\nUIDL\r\nTOP\r\n".len() as u64;
    assert_eq!(
        bare_decoder(&stream, 65536, &shapes),
        expected + listing + capa
    );

    // POP3_PAIRED_ROUNDS=1 makes a quick run, e.g. under callgrind to count
    // instructions, which the noise of a shared machine does not touch.
    let rounds = std::env::var("POP3_PAIRED_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(101);
    for chunk in [16 * 1024, 64 * 1024] {
        paired_overhead(&stream, &shapes, chunk, rounds);
    }

    let mut group = c.benchmark_group("client_session_100x1MiB");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.sample_size(20);
    for chunk in [16 * 1024, 64 * 1024] {
        group.bench_with_input(BenchmarkId::new("machine", chunk), &chunk, |b, &chunk| {
            b.iter(|| machine(black_box(&stream), chunk))
        });
        group.bench_with_input(
            BenchmarkId::new("bare_decoder", chunk),
            &chunk,
            |b, &chunk| b.iter(|| bare_decoder(black_box(&stream), chunk, &shapes)),
        );
    }
    group.finish();
}

criterion_group!(benches, client_session);
criterion_main!(benches);

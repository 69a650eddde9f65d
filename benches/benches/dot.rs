//! Dot-stuffing benchmarks: our decoder and stuffer, each beside its
//! baselines in the same run. `cargo run -p pop3-proto-benches --bin bench_table` turns
//! the results into the Markdown table of benches/RESULTS.md.
//!
//! Environment: `POP3_BENCH_MAX=<bytes|Nk|Nm>` caps every input size (quick smoke runs);
//! `POP3_BENCH_FULL=1` adds 256 MiB to the scaling group.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};
use memchr::memmem::Finder;
use pop3_proto::dot::{stuff, wire_len, BodyDecoder, DecoderConfig, StuffConfig, Stuffer};
use pop3_proto_benches::{
    capped, decode_bytesmut, decode_chunks, decode_slices, full, memmem_scan, message,
    naive_unstuff, peer_pop3_codec, peer_pop3_codec_streamed, peer_rfc1939, peer_rfc1939_streamed,
    plain_copy, response, wire, Kind, DEFAULT_SIZE, KIB, MIB,
};

/// Inputs decoded in 1-byte chunks are capped at this size: the cost per byte is what
/// is compared, and 64 MiB one byte at a time would dominate the suite's run time.
const ONE_BYTE_SIZE: usize = MIB;

/// The scaling group decodes in 1-byte chunks up to this size.
const SCALING_ONE_BYTE_MAX: usize = 4 * MIB;

fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
}

fn chunk_name(chunk: usize) -> String {
    match chunk {
        usize::MAX => "whole".into(),
        c if c >= MIB && c % MIB == 0 => format!("{}MiB", c / MIB),
        c if c >= KIB && c % KIB == 0 => format!("{}KiB", c / KIB),
        c => format!("{c}B"),
    }
}

fn size_name(size: usize) -> String {
    chunk_name(size)
}

fn decoder_config(kind: Kind) -> DecoderConfig {
    if kind.lenient() {
        DecoderConfig::LENIENT
    } else {
        DecoderConfig::STRICT
    }
}

/// One group per input kind: our decoder at every chunk size, and the baselines.
fn decode_group(c: &mut Criterion, kind: Kind) {
    let size = capped(DEFAULT_SIZE);
    let wire_vec = wire(kind, size);
    let wire_bytes = Bytes::from(wire_vec.clone());
    let finder = Finder::new(b"\n.");
    let config = decoder_config(kind);
    let mut decoder = BodyDecoder::new(config);
    let mut group = c.benchmark_group(format!("decode/{}", kind.name()));
    configure(&mut group);
    group.throughput(Throughput::Bytes(wire_vec.len() as u64));

    group.bench_function("memmem", |b| {
        b.iter(|| memmem_scan(&finder, black_box(&wire_vec)))
    });
    let mut out = Vec::with_capacity(wire_vec.len());
    group.bench_function("copy", |b| {
        b.iter(|| plain_copy(black_box(&wire_vec), &mut out))
    });
    for chunk in [KIB, 64 * KIB, usize::MAX] {
        group.bench_function(BenchmarkId::new("pop3-proto", chunk_name(chunk)), |b| {
            b.iter(|| decode_chunks(&mut decoder, black_box(&wire_bytes), chunk))
        });
    }
    for chunk in [64 * KIB, usize::MAX] {
        group.bench_function(
            BenchmarkId::new("pop3-proto-slices", chunk_name(chunk)),
            |b| b.iter(|| decode_slices(&mut decoder, black_box(&wire_vec), chunk)),
        );
    }
    let mut buf = BytesMut::with_capacity(128 * KIB);
    group.bench_function(BenchmarkId::new("pop3-proto-bytesmut", "64KiB"), |b| {
        b.iter(|| decode_bytesmut(&mut decoder, black_box(&wire_vec), 64 * KIB, &mut buf))
    });
    group.bench_function("naive", |b| {
        b.iter(|| naive_unstuff(black_box(&wire_vec), kind.lenient(), &mut out))
    });
    let resp = response(&wire_vec);
    group.bench_function("peer-pop3-codec", |b| {
        b.iter(|| peer_pop3_codec(black_box(&resp)))
    });
    if !kind.lenient() {
        // rfc1939 looks for "\r\n.\r\n" only: it cannot read a bare-LF body.
        group.bench_function("peer-rfc1939", |b| {
            b.iter(|| peer_rfc1939(black_box(&resp)))
        });
    }

    // 1-byte chunks on a smaller input of the same kind (cost per byte is compared).
    let small = Bytes::from(wire(kind, capped(ONE_BYTE_SIZE)));
    group.throughput(Throughput::Bytes(small.len() as u64));
    group.bench_function(BenchmarkId::new("pop3-proto", "1B"), |b| {
        b.iter(|| decode_chunks(&mut decoder, black_box(&small), 1))
    });
    group.finish();
}

fn decode_typical(c: &mut Criterion) {
    decode_group(c, Kind::Typical);
}

fn decode_dot_dense(c: &mut Criterion) {
    decode_group(c, Kind::DotDense);
}

fn decode_bare_lf(c: &mut Criterion) {
    decode_group(c, Kind::BareLf);
}

fn decode_huge_line(c: &mut Criterion) {
    decode_group(c, Kind::HugeLine);
}

/// Size of the body in the streamed comparison with the peers, which re-parse from the
/// start after every read (quadratic): their cost grows with the body, ours does not.
const STREAMED_SIZE: usize = 4 * MIB;

/// The peers fed as a socket delivers a response (64 KiB reads, see
/// `peer_rfc1939_streamed`), beside our decoder and the naive un-stuffer on the same
/// 4 MiB body.
fn decode_streamed(c: &mut Criterion) {
    for kind in [Kind::Typical, Kind::DotDense] {
        let wire_vec = wire(kind, capped(STREAMED_SIZE));
        let wire_bytes = Bytes::from(wire_vec.clone());
        let resp = response(&wire_vec);
        let mut decoder = BodyDecoder::new(DecoderConfig::STRICT);
        let mut group = c.benchmark_group(format!("decode-streamed/{}", kind.name()));
        configure(&mut group);
        group.throughput(Throughput::Bytes(wire_vec.len() as u64));
        group.bench_function(BenchmarkId::new("pop3-proto", "64KiB"), |b| {
            b.iter(|| decode_chunks(&mut decoder, black_box(&wire_bytes), 64 * KIB))
        });
        group.bench_function(BenchmarkId::new("pop3-proto-slices", "64KiB"), |b| {
            b.iter(|| decode_slices(&mut decoder, black_box(&wire_vec), 64 * KIB))
        });
        let mut out = Vec::with_capacity(wire_vec.len());
        group.bench_function("naive", |b| {
            b.iter(|| naive_unstuff(black_box(&wire_vec), false, &mut out))
        });
        let mut received = Vec::with_capacity(resp.len());
        group.bench_function(BenchmarkId::new("peer-rfc1939", "64KiB"), |b| {
            b.iter(|| peer_rfc1939_streamed(black_box(&resp), 64 * KIB, &mut received))
        });
        group.bench_function(BenchmarkId::new("peer-pop3-codec", "64KiB"), |b| {
            b.iter(|| peer_pop3_codec_streamed(black_box(&resp), 64 * KIB, &mut received))
        });
        group.finish();
    }
}

/// Cost per byte from 1 KiB to 64 MiB (256 MiB with POP3_BENCH_FULL=1), typical mail,
/// 64 KiB chunks, beside memmem; and 1-byte chunks up to 4 MiB.
fn scaling(c: &mut Criterion) {
    let mut sizes = vec![KIB, 16 * KIB, 256 * KIB, 4 * MIB, 64 * MIB];
    if full() {
        sizes.push(256 * MIB);
    }
    let mut sizes: Vec<usize> = sizes.into_iter().map(capped).collect();
    sizes.dedup();
    let finder = Finder::new(b"\n.");
    let mut decoder = BodyDecoder::new(DecoderConfig::STRICT);
    let mut group = c.benchmark_group("scaling/typical");
    configure(&mut group);
    for size in sizes {
        let w = Bytes::from(wire(Kind::Typical, size));
        group.throughput(Throughput::Bytes(w.len() as u64));
        let name = size_name(size);
        group.bench_with_input(BenchmarkId::new("memmem", &name), &w, |b, w| {
            b.iter(|| memmem_scan(&finder, black_box(w)))
        });
        group.bench_with_input(BenchmarkId::new("pop3-proto-64KiB", &name), &w, |b, w| {
            b.iter(|| decode_chunks(&mut decoder, black_box(w), 64 * KIB))
        });
        if size <= SCALING_ONE_BYTE_MAX {
            group.bench_with_input(BenchmarkId::new("pop3-proto-1B", &name), &w, |b, w| {
                b.iter(|| decode_chunks(&mut decoder, black_box(w), 1))
            });
        }
    }
    group.finish();
}

/// Stuffing (server side) with the exact size, beside a plain copy.
///
/// `stuff/KIND` stuffs CRLF stores in the raw mode (`StuffConfig::RAW`: only `"\n."`
/// matters) and the bare-LF store with conversion; `stuff-default/KIND` stuffs the
/// CRLF stores with the default (safe) configuration, which also looks for bare LFs.
fn stuffing(c: &mut Criterion) {
    let runs = [
        ("stuff", Kind::Typical, StuffConfig::RAW),
        ("stuff", Kind::DotDense, StuffConfig::RAW),
        ("stuff", Kind::BareLf, StuffConfig::default()),
        ("stuff-default", Kind::Typical, StuffConfig::default()),
        ("stuff-default", Kind::DotDense, StuffConfig::default()),
    ];
    for (prefix, kind, config) in runs {
        let size = capped(DEFAULT_SIZE);
        let msg_vec = message(kind, size);
        let msg = Bytes::from(msg_vec.clone());
        let mut group = c.benchmark_group(format!("{prefix}/{}", kind.name()));
        configure(&mut group);
        group.throughput(Throughput::Bytes(msg_vec.len() as u64));
        let mut out = Vec::with_capacity(msg_vec.len());
        group.bench_function("copy", |b| {
            b.iter(|| plain_copy(black_box(&msg_vec), &mut out))
        });
        group.bench_function("wire_len", |b| {
            b.iter(|| wire_len(black_box(&msg_vec), config))
        });
        // The server's loop: push a 64 KiB chunk, hand the segments to a vectored
        // write (here: sum their lengths), clear, repeat.
        let mut segments: Vec<Bytes> = Vec::new();
        let stream = |segments: &mut Vec<Bytes>| {
            let mut stuffer = Stuffer::new(config);
            let mut sent = 0usize;
            let mut at = 0;
            while at < msg.len() {
                let end = (at + 64 * KIB).min(msg.len());
                stuffer.push(msg.slice(at..end), segments);
                sent += segments.iter().map(Bytes::len).sum::<usize>();
                segments.clear();
                at = end;
            }
            stuffer.finish(segments);
            sent += segments.iter().map(Bytes::len).sum::<usize>();
            segments.clear();
            sent
        };
        group.bench_function(BenchmarkId::new("stuffer", "64KiB"), |b| {
            b.iter(|| stream(&mut segments))
        });
        // Stuffing with the exact size: what RETR costs a server that also reports
        // LIST sizes.
        group.bench_function(BenchmarkId::new("stuffer+wire_len", "64KiB"), |b| {
            b.iter(|| (wire_len(black_box(&msg_vec), config), stream(&mut segments)))
        });
        // The copying variant into one reused buffer, written out (here: measured)
        // and cleared after each chunk.
        let mut wire_buf = BytesMut::with_capacity(256 * KIB);
        let copy_stream = |wire_buf: &mut BytesMut| {
            let mut stuffer = Stuffer::new(config);
            let mut sent = 0usize;
            for part in msg_vec.chunks(64 * KIB) {
                stuffer.push_copy(part, wire_buf);
                sent += wire_buf.len();
                wire_buf.clear();
            }
            stuffer.finish_copy(wire_buf);
            sent += wire_buf.len();
            wire_buf.clear();
            sent
        };
        group.bench_function(BenchmarkId::new("stuffer-copy+wire_len", "64KiB"), |b| {
            b.iter(|| {
                (
                    wire_len(black_box(&msg_vec), config),
                    copy_stream(&mut wire_buf),
                )
            })
        });
        group.bench_function("stuff-whole", |b| {
            b.iter(|| stuff(black_box(&msg), config).len())
        });
        group.finish();
    }
}

criterion_group!(
    name = benches;
    config = Criterion::default().without_plots();
    targets =
    decode_typical,
    decode_dot_dense,
    decode_bare_lf,
    decode_huge_line,
    decode_streamed,
    scaling,
    stuffing
);
criterion_main!(benches);

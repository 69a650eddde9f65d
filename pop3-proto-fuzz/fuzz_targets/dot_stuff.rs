//! The dot stuffer, checked by decoding: `decode(stuff(x))` is `x` as sent (bare LFs
//! converted when configured, TOP cut, a CRLF after a last line without one), the
//! wire holds exactly one terminator, at its end, and `wire_len` is exact.
//!
//! The copying API (`push_copy`, `finish_copy`, `stuff_into`) must give the same
//! bytes as the zero-copy one.
//!
//! Invariants: the stuffed wire decodes (strictly) to the reference's sent message
//! and the terminator is its last line; the output is the same however the message
//! is split into `push` calls, and for `WireLen` too; `wire_len(x)` equals the
//! length of the sent message (R1939-14); a stuffed line never starts with a
//! lone `.` except the terminator; after the TOP cut, input is ignored.
#![no_main]

use arbitrary::Unstructured;
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use pop3_proto::dot::{
    stuff, stuff_into, wire_len, BodyDecoder, BodyPiece, DecoderConfig, StuffConfig, Stuffer,
    WireLen,
};
use pop3_proto_fuzz::{cuts, pieces, reference_sent};

/// The same through the copying API (`push_copy` / `finish_copy`).
fn stuff_chunks_copy(config: StuffConfig, chunks: &[&[u8]]) -> Vec<u8> {
    let mut stuffer = Stuffer::new(config);
    let mut out = BytesMut::new();
    for chunk in chunks {
        stuffer.push_copy(chunk, &mut out);
    }
    stuffer.finish_copy(&mut out);
    let n = out.len();
    stuffer.finish_copy(&mut out);
    assert_eq!(out.len(), n, "finish_copy twice adds nothing");
    out.to_vec()
}

fn stuff_chunks(config: StuffConfig, chunks: &[&[u8]]) -> Vec<u8> {
    let mut stuffer = Stuffer::new(config);
    let mut out: Vec<Bytes> = Vec::new();
    for chunk in chunks {
        let was_complete = stuffer.is_complete();
        let before = out.len();
        stuffer.push(Bytes::copy_from_slice(chunk), &mut out);
        if was_complete {
            assert_eq!(out.len(), before, "input after the TOP cut is ignored");
        }
    }
    stuffer.finish(&mut out);
    assert!(stuffer.is_finished());
    let n = out.len();
    stuffer.finish(&mut out);
    assert_eq!(out.len(), n, "finish twice adds nothing");
    out.concat()
}

/// Decodes `wire` whole with `config`: the body, and the octets after its end.
fn decode_whole(config: DecoderConfig, wire: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut decoder = BodyDecoder::new(config);
    let mut buf = BytesMut::from(wire);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(BodyPiece::Data(d)) => body.extend_from_slice(&d),
            Ok(BodyPiece::End) => return (body, buf.to_vec()),
            Ok(BodyPiece::NeedMore) => panic!("{config:?}: no terminator in {wire:?}"),
            Err(e) => panic!("{e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let lf_to_crlf = u.arbitrary::<bool>().unwrap_or(false);
    let top_lines = if u.arbitrary::<bool>().unwrap_or(false) {
        Some(u.int_in_range(0u64..=8).unwrap_or(0))
    } else {
        None
    };
    let config = StuffConfig::default()
        .with_lf_to_crlf(lf_to_crlf)
        .with_top_lines(top_lines);
    let split_len = u.int_in_range(0usize..=64).unwrap_or(0);
    let split_bytes = u.bytes(split_len).unwrap_or_default();
    let message = u.take_rest();

    let sent = reference_sent(message, lf_to_crlf, top_lines);
    let wire = stuff(&Bytes::copy_from_slice(message), config).concat();

    // The wire decodes to what was meant to be sent, and ends at its end.
    let (body, rest) = decode_whole(DecoderConfig::STRICT, &wire);
    assert!(rest.is_empty(), "bytes after the terminator: {rest:?}");
    assert_eq!(body, sent, "decode(stuff(x)) for {message:?}");
    if lf_to_crlf {
        // The default mode is safe for readers that end lines at LF: a lenient
        // decoder also ends exactly at the end, with the same body (no content can
        // end the reply early and inject replies).
        let (body, rest) = decode_whole(DecoderConfig::LENIENT, &wire);
        assert!(rest.is_empty(), "LF reader stopped early: {rest:?}");
        assert_eq!(body, sent, "LF reader body for {message:?}");
    }
    assert_eq!(
        wire_len(message, config),
        sent.len() as u64,
        "wire_len exact"
    );
    // Stuffing adds exactly one dot per line starting with a dot, plus the terminator.
    let dotted = sent
        .split_inclusive(|&b| b == b'\n')
        .scan(true, |start, line| {
            let r = *start && line.first() == Some(&b'.');
            *start = line.ends_with(b"\r\n");
            Some(r)
        })
        .filter(|&d| d)
        .count();
    assert_eq!(wire.len(), sent.len() + dotted + 3);

    // Any split gives the same wire and the same length.
    let mut su = Unstructured::new(split_bytes);
    let cut = cuts(&mut su, message.len(), 16);
    let chunks = pieces(message, &cut);
    assert_eq!(stuff_chunks(config, &chunks), wire, "cuts {cut:?}");
    assert_eq!(
        stuff_chunks_copy(config, &chunks),
        wire,
        "push_copy, cuts {cut:?}"
    );
    let mut into = BytesMut::new();
    stuff_into(message, config, &mut into);
    assert_eq!(&into[..], &wire[..], "stuff_into");
    let mut counter = WireLen::new(config);
    for chunk in &chunks {
        counter.push(chunk);
    }
    assert_eq!(counter.finish(), sent.len() as u64);
    if message.len() <= 200 {
        let ones: Vec<&[u8]> = message.chunks(1).collect();
        assert_eq!(stuff_chunks(config, &ones), wire, "one byte at a time");
        assert_eq!(
            stuff_chunks_copy(config, &ones),
            wire,
            "push_copy, one byte at a time"
        );
    }
});

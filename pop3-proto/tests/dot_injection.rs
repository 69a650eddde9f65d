//! Message content must never end a reply early (R1939-11, R1939-12, and the
//! bare-LF readers of RFC 1939 §3 in the field): with the default [`StuffConfig`],
//! whatever a message holds, a reader that ends lines at LF (Python's poplib, our own
//! client with `allow_bare_lf`) and a strict CRLF reader both see the terminator
//! exactly where the stuffer put it, and nowhere before.

use bytes::{Bytes, BytesMut};
use pop3_proto::dot::{
    stuff, stuff_into, wire_len, BodyDecoder, BodyPiece, DecoderConfig, StuffConfig, Stuffer,
};
use proptest::prelude::*;

/// A reader that ends lines at LF, as Python's poplib does (`_getline` and
/// `_getlongresp`): a line is cut at LF; CRLF or LF is stripped (and a line that
/// starts with CR loses that CR and its last octet, poplib's quirk); the line `.` ends
/// the reply; a leading `..` loses one dot. Returns the lines read and the octets
/// consumed through the terminator, or `None` if no terminator was found.
fn lf_reader(wire: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    let mut lines = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let rest = &wire[at..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| p + 1);
        let raw = &rest[..end];
        at += end;
        let text = if raw.ends_with(b"\r\n") {
            &raw[..raw.len() - 2]
        } else if raw.first() == Some(&b'\r') {
            raw.get(1..raw.len() - 1).unwrap_or_default()
        } else {
            raw.strip_suffix(b"\n").unwrap_or(raw)
        };
        if text == b"." {
            return Some((lines, at));
        }
        let content = if text.starts_with(b"..") {
            &text[1..]
        } else {
            text
        };
        lines.push(content.to_vec());
    }
    None
}

/// The message as every reader should get it back: each bare LF as CRLF, and a CRLF
/// after a last line without a line end (E-22).
fn normalised(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for (k, &b) in message.iter().enumerate() {
        if b == b'\n' && (k == 0 || message[k - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Decodes a whole body with our decoder; the body and the octets left after it.
fn decode(config: DecoderConfig, wire: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut decoder = BodyDecoder::new(config);
    let mut buf = BytesMut::from(wire);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf).expect("no limit set") {
            BodyPiece::Data(data) => body.extend_from_slice(&data),
            BodyPiece::End => return (body, buf.to_vec()),
            BodyPiece::NeedMore => panic!("no terminator in {wire:?}"),
        }
    }
}

/// Every reader ends `wire` (the stuffed `message`) exactly at its end, and reads the
/// message back; `wire_len` is the size they read.
fn check_every_reader(message: &[u8], wire: &[u8]) {
    let want = normalised(message);
    assert!(wire.ends_with(b".\r\n"), "{message:?}");
    let (lines, used) = lf_reader(wire).unwrap_or_else(|| panic!("no end: {message:?}"));
    assert_eq!(
        used,
        wire.len(),
        "LF reader stopped early: {message:?} -> {wire:?}"
    );
    let mut joined = Vec::new();
    for line in &lines {
        joined.extend_from_slice(line);
        joined.extend_from_slice(b"\r\n");
    }
    assert_eq!(joined, want, "LF reader content: {message:?} -> {wire:?}");
    for config in [
        DecoderConfig::STRICT,
        DecoderConfig::LENIENT,
        DecoderConfig::LENIENT_CRLF,
    ] {
        let (body, rest) = decode(config, wire);
        assert_eq!(body, want, "{config:?}: {message:?}");
        assert!(rest.is_empty(), "{config:?}: {message:?}");
    }
    assert_eq!(
        wire_len(message, StuffConfig::default()),
        want.len() as u64,
        "LIST size: {message:?}"
    );
}

fn stuffed(message: &[u8]) -> Vec<u8> {
    stuff(&Bytes::copy_from_slice(message), StuffConfig::default()).concat()
}

/// The issue's exact cases: LF . CRLF and LF . LF in content, default configuration.
#[test]
fn r1939_12_default_stuffing_vectors_against_response_injection() {
    let cases: [(&[u8], &[u8]); 5] = [
        (b"a\n.\r\nX\r\n", b"a\r\n..\r\nX\r\n.\r\n"),
        (
            b"Subject: x\r\n\r\nline one\n.\r\n+OK injected\r\nlast\r\n",
            b"Subject: x\r\n\r\nline one\r\n..\r\n+OK injected\r\nlast\r\n.\r\n",
        ),
        (b"a\n.\n.\n", b"a\r\n..\r\n..\r\n.\r\n"),
        (b"\n.\r\n", b"\r\n..\r\n.\r\n"),
        (b".\n", b"..\r\n.\r\n"),
    ];
    for (message, wire) in cases {
        assert_eq!(stuffed(message), wire, "{message:?}");
        let mut copy = BytesMut::new();
        stuff_into(message, StuffConfig::default(), &mut copy);
        assert_eq!(&copy[..], wire, "{message:?}");
        check_every_reader(message, wire);
    }
    // The injected line is read as content by an LF reader, not as the next reply.
    let wire = stuffed(b"Subject: x\r\n\r\nline one\n.\r\n+OK injected\r\nlast\r\n");
    let (lines, _) = lf_reader(&wire).expect("terminated");
    assert!(lines.iter().any(|l| l == b"+OK injected"));
    assert_eq!(lines.last().map(Vec::as_slice), Some(&b"last"[..]));
}

/// The raw mode keeps its documented risk: an LF reader ends the reply early.
#[test]
fn raw_mode_is_opt_in_and_unsafe_for_lf_readers() {
    let message = b"line one\n.\r\n+OK injected\r\n";
    let wire = stuff(&Bytes::from_static(message), StuffConfig::RAW).concat();
    assert_eq!(wire, b"line one\n.\r\n+OK injected\r\n.\r\n");
    let (_, used) = lf_reader(&wire).expect("terminated");
    assert!(used < wire.len());
    assert_ne!(StuffConfig::default(), StuffConfig::RAW);
}

/// Every string over {a . CR LF} up to length 8, stuffed with the default
/// configuration (zero-copy, copying, and in two chunks at every split), read back by
/// an LF reader and by our decoders, ends exactly at the terminator.
#[test]
fn exhaustive_default_stuffing_read_by_lf_reader_ends_exactly() {
    const ALPHABET: [u8; 4] = [b'a', b'.', b'\r', b'\n'];
    let mut message = Vec::new();
    for len in 0..=8u32 {
        for mut n in 0..4usize.pow(len) {
            message.clear();
            for _ in 0..len {
                message.push(ALPHABET[n % 4]);
                n /= 4;
            }
            let wire = stuffed(&message);
            check_every_reader(&message, &wire);
            let mut copy = BytesMut::new();
            stuff_into(&message, StuffConfig::default(), &mut copy);
            assert_eq!(&copy[..], &wire[..], "{message:?}");
            if len <= 6 {
                let bytes = Bytes::copy_from_slice(&message);
                for a in 0..=message.len() {
                    let mut stuffer = Stuffer::new(StuffConfig::default());
                    let mut out = Vec::new();
                    stuffer.push(bytes.slice(..a), &mut out);
                    stuffer.push(bytes.slice(a..), &mut out);
                    stuffer.finish(&mut out);
                    assert_eq!(out.concat(), wire, "{message:?} split at {a}");
                }
            }
        }
    }
}

proptest! {
    /// Long messages built from line-like pieces, in random chunks: the LF reader
    /// ends exactly at the terminator and reads the message back.
    #[test]
    fn default_stuffing_is_safe_for_lf_readers(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just(&b"\n.\r\n"[..]), Just(&b"\n."[..]), Just(&b".\n"[..]),
                Just(&b"\r\n."[..]), Just(&b"\r"[..]), Just(&b"\n"[..]),
                Just(&b"+OK injected"[..]), Just(&b"text"[..]), Just(&b"."[..]),
            ],
            0..200,
        ),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let message: Vec<u8> = pieces.concat();
        let wire = stuffed(&message);
        check_every_reader(&message, &wire);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(message.len() + 1)).collect();
        points.sort_unstable();
        let bytes = Bytes::from(message.clone());
        let mut stuffer = Stuffer::new(StuffConfig::default());
        let mut out = Vec::new();
        let mut copy = BytesMut::new();
        let mut copier = Stuffer::new(StuffConfig::default());
        let mut from = 0;
        for p in points.into_iter().chain(core::iter::once(message.len())) {
            stuffer.push(bytes.slice(from..p), &mut out);
            copier.push_copy(&message[from..p], &mut copy);
            from = p;
        }
        stuffer.finish(&mut out);
        copier.finish_copy(&mut copy);
        prop_assert_eq!(out.concat(), wire.clone());
        prop_assert_eq!(copy.to_vec(), wire);
    }
}

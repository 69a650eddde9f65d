//! Tests of the dot module: spec vectors (TV-1, TV-3, TV-9, E-2, E-3, E-5, E-22) and
//! exhaustive checks of every short string in every split against obviously correct
//! byte-at-a-time references.

use super::*;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

/// Reference un-stuffer (R1939-13), line by line, obviously correct. Returns the body
/// and the number of wire octets consumed through the terminator, or `None` if `wire`
/// holds no terminator.
fn reference_unstuff(wire: &[u8], lenient: bool, lf_to_crlf: bool) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // Find the end of the line starting at i.
        let mut j = i;
        let (content_end, next) = loop {
            if j >= wire.len() {
                return None;
            }
            if wire[j] == b'\n' {
                if j > i && wire[j - 1] == b'\r' {
                    break (j - 1, j + 1);
                }
                if lenient {
                    break (j, j + 1);
                }
            }
            j += 1;
        };
        let line = &wire[i..content_end];
        let ending = &wire[content_end..next];
        if line == b"." {
            return Some((out, next));
        }
        let content = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            line
        };
        out.extend_from_slice(content);
        if lenient && lf_to_crlf && ending == b"\n" {
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(ending);
        }
        i = next;
    }
}

/// Reference stuffer (R1939-12, E-22), line by line: CRLF line ends only.
fn reference_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line_start = true;
    for (k, &b) in message.iter().enumerate() {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n' && k > 0 && message[k - 1] == b'\r';
    }
    if !line_start && !message.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// What decoding gave: the body, the bytes left after the terminator (`None` if the
/// body did not end), and the bytes examined.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    rest: Option<Vec<u8>>,
    examined: u64,
}

/// Decodes `wire` cut at the sorted positions `cuts`, through the `Bytes`,
/// borrowed-slice and `BytesMut` APIs, checks that the three give exactly the same and
/// returns it.
fn decode_chunks(decoder: &mut BodyDecoder, wire: &Bytes, cuts: &[usize]) -> Outcome {
    let chunks: Vec<Bytes> = cuts
        .iter()
        .chain(core::iter::once(&wire.len()))
        .scan(0, |prev, &cut| {
            let chunk = wire.slice(*prev..cut);
            *prev = cut;
            Some(chunk)
        })
        .collect();
    let outcome = decode_via::<Bytes>(decoder, &chunks);
    assert_eq!(decode_via::<&[u8]>(decoder, &chunks), outcome, "slices");
    assert_eq!(
        decode_via::<BytesMut>(decoder, &chunks),
        outcome,
        "BytesMut"
    );
    outcome
}

/// One of the decoder's input APIs, fed one chunk at a time.
trait Feed<'a> {
    fn new(chunk: &'a Bytes) -> Self;
    /// One call of the API: `Some(data)`, or `None` for `End` and `NeedMore`
    /// (told apart by [`BodyDecoder::is_done`]).
    fn next(&mut self, decoder: &mut BodyDecoder) -> Option<Vec<u8>>;
    fn left(&self) -> &[u8];
}

impl<'a> Feed<'a> for Bytes {
    fn new(chunk: &'a Bytes) -> Self {
        chunk.clone()
    }
    fn next(&mut self, decoder: &mut BodyDecoder) -> Option<Vec<u8>> {
        match decoder.decode_bytes(self).unwrap() {
            BodyPiece::Data(d) => Some(d.to_vec()),
            BodyPiece::End | BodyPiece::NeedMore => None,
        }
    }
    fn left(&self) -> &[u8] {
        self
    }
}

impl<'a> Feed<'a> for &'a [u8] {
    fn new(chunk: &'a Bytes) -> Self {
        chunk
    }
    fn next(&mut self, decoder: &mut BodyDecoder) -> Option<Vec<u8>> {
        match decoder.decode_slice(self).unwrap() {
            SlicePiece::Data(d) => Some(d.to_vec()),
            SlicePiece::End | SlicePiece::NeedMore => None,
        }
    }
    fn left(&self) -> &[u8] {
        self
    }
}

/// Each chunk in a fresh receive buffer; the decoder leaves it empty unless it ended,
/// so this is the state machines' one buffer, appended to.
impl<'a> Feed<'a> for BytesMut {
    fn new(chunk: &'a Bytes) -> Self {
        BytesMut::from(&chunk[..])
    }
    fn next(&mut self, decoder: &mut BodyDecoder) -> Option<Vec<u8>> {
        match decoder.decode(self).unwrap() {
            BodyPiece::Data(d) => Some(d.to_vec()),
            BodyPiece::End | BodyPiece::NeedMore => None,
        }
    }
    fn left(&self) -> &[u8] {
        self
    }
}

/// Decodes `chunks` one after the other through the API `F`.
fn decode_via<'a, F: Feed<'a>>(decoder: &mut BodyDecoder, chunks: &'a [Bytes]) -> Outcome {
    decoder.reset();
    let mut body = Vec::new();
    let mut rest: Option<Vec<u8>> = None;
    for chunk in chunks {
        if let Some(rest) = rest.as_mut() {
            rest.extend_from_slice(chunk);
            continue;
        }
        let mut input = F::new(chunk);
        while let Some(d) = input.next(decoder) {
            assert!(!d.is_empty());
            body.extend_from_slice(&d);
        }
        if decoder.is_done() {
            rest = Some(input.left().to_vec());
        } else {
            assert!(input.left().is_empty(), "NeedMore with input left");
        }
    }
    assert_eq!(decoder.body_len(), body.len() as u64);
    Outcome {
        body,
        rest,
        examined: decoder.bytes_examined(),
    }
}

/// Decodes a whole buffer through the `BytesMut` API.
fn decode_all(config: DecoderConfig, wire: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut decoder = BodyDecoder::new(config);
    let mut buf = BytesMut::from(wire);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf).unwrap() {
            BodyPiece::Data(d) => body.extend_from_slice(&d),
            BodyPiece::End => return (body, buf.to_vec()),
            BodyPiece::NeedMore => panic!("no terminator in {wire:?}"),
        }
    }
}

fn stuffed(message: &[u8], config: StuffConfig) -> Vec<u8> {
    stuff(&Bytes::copy_from_slice(message), config).concat()
}

/// The message as a client gets it back: with the CRLF the stuffer adds to a last line
/// without one (E-22).
fn with_final_crlf(message: &[u8]) -> Vec<u8> {
    let mut m = message.to_vec();
    if !m.is_empty() && !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m
}

const TV1_MESSAGE_2: &[u8] = b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n.leading dot line\r\n.\r\n..two dots\r\nDone.\r\n";
const TV1_RETR_2_BODY: &[u8] = b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n..leading dot line\r\n..\r\n...two dots\r\nDone.\r\n.\r\n";

/// TV-9 (R1939-12, R1939-13, E-3): the micro vectors, both directions.
#[test]
fn tv9_micro_vectors() {
    let vectors: [(&[u8], &[u8]); 6] = [
        (b".\r\n", b"..\r\n"),
        (b"..\r\n", b"...\r\n"),
        (b".hidden\r\n", b"..hidden\r\n"),
        (b"a.\r\n.b\r\n", b"a.\r\n..b\r\n"),
        (b"\r\n", b"\r\n"),
        (b"", b""),
    ];
    for (content, wire_body) in vectors {
        let mut wire = wire_body.to_vec();
        wire.extend_from_slice(b".\r\n");
        assert_eq!(stuffed(content, StuffConfig::default()), wire);
        assert_eq!(
            wire_len(content, StuffConfig::default()),
            content.len() as u64
        );
        let (body, rest) = decode_all(DecoderConfig::default(), &wire);
        assert_eq!(body, content);
        assert!(rest.is_empty());
    }
}

/// TV-9 decoder-only, R1939-13b: `.x` from a server that did not stuff gives `x`.
#[test]
fn tv9_unstuffed_leading_dot() {
    assert_eq!(
        decode_all(DecoderConfig::default(), b".x\r\n.\r\n").0,
        b"x\r\n"
    );
}

/// TV-9 lenient LF (E-5): `+OK\nline\n.\n` gives `line\n` or `line\r\n` as configured.
#[test]
fn tv9_lenient_lf() {
    let wire = b"line\n.\n";
    assert_eq!(decode_all(DecoderConfig::LENIENT, wire).0, b"line\n");
    assert_eq!(decode_all(DecoderConfig::LENIENT_CRLF, wire).0, b"line\r\n");
    // Strict mode: a bare LF is content and `.\n` does not end the body.
    let mut decoder = BodyDecoder::new(DecoderConfig::STRICT);
    let mut buf = BytesMut::from(&wire[..]);
    let mut body = Vec::new();
    while let BodyPiece::Data(d) = decoder.decode(&mut buf).unwrap() {
        body.extend_from_slice(&d);
    }
    assert!(!decoder.is_done());
    assert_eq!(body, b"line\n.\n");
    assert_eq!(decoder.check_eof(), Err(DotError::Truncated));
}

/// E-5 lenient details: `.\r\n` still terminates, mixed line ends, dot after bare LF.
#[test]
fn e5_lenient_mixed_line_ends() {
    let wire = b"a\n..b\r\n.c\n\n.\r\nnext";
    assert_eq!(
        decode_all(DecoderConfig::LENIENT, wire),
        (b"a\n.b\r\nc\n\n".to_vec(), b"next".to_vec())
    );
    assert_eq!(
        decode_all(DecoderConfig::LENIENT_CRLF, wire),
        (b"a\r\n.b\r\nc\r\n\r\n".to_vec(), b"next".to_vec())
    );
    // lf_to_crlf alone does nothing in strict mode.
    let strict_conv = DecoderConfig {
        lf_to_crlf: true,
        ..DecoderConfig::STRICT
    };
    assert_eq!(
        decode_all(strict_conv, b"a\n.b\r\n.\r\n").0,
        b"a\n.b\r\n".to_vec()
    );
}

/// E-2: `..` is a line holding a dot, `...x` is `..x`, `.x` is `x`, only `.` CRLF ends.
#[test]
fn e2_unstuffing_cases() {
    let cases: [(&[u8], &[u8]); 7] = [
        (b"..\r\n.\r\n", b".\r\n"),
        (b"...x\r\n.\r\n", b"..x\r\n"),
        (b".x\r\n.\r\n", b"x\r\n"),
        (b". \r\n.\r\n", b" \r\n"),
        (b".\r\r\n.\r\n", b"\r\r\n"),
        (b"x.\r\n.\r\n", b"x.\r\n"),
        (b".\r\n", b""),
    ];
    for (wire, body) in cases {
        for cut in 0..=wire.len() {
            let mut d = BodyDecoder::new(DecoderConfig::default());
            let out = decode_chunks(&mut d, &Bytes::copy_from_slice(wire), &[cut]);
            assert_eq!(out.body, body, "{wire:?} cut {cut}");
            assert_eq!(out.rest, Some(Vec::new()));
        }
    }
}

/// Bodies back to back in one buffer (pipelined RETRs), each with a decoder of its
/// own built from the one config: no reset anywhere, and each body starts fresh (its
/// own length, its own line state, its own size limit).
#[test]
fn a_fresh_decoder_per_body_needs_no_reset() {
    let config = DecoderConfig::STRICT.with_max_body(Some(5));
    let mut buf = BytesMut::from(&b"..a\r\n.\r\n.b\r\n.\r\n123456789\r\n.\r\n+OK"[..]);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let mut decoder = BodyDecoder::new(config);
        let mut body = Vec::new();
        let mut too_large = false;
        loop {
            match decoder.decode(&mut buf) {
                Ok(BodyPiece::Data(d)) => body.extend_from_slice(&d),
                Ok(BodyPiece::End) => break,
                Ok(BodyPiece::NeedMore) => panic!("the terminator is in the buffer"),
                Err(DotError::BodyTooLarge { limit }) => {
                    assert_eq!(limit, 5);
                    too_large = true;
                }
                Err(e) => panic!("{e}"),
            }
        }
        bodies.push((body, too_large));
    }
    assert_eq!(bodies[0], (b".a\r\n".to_vec(), false));
    assert_eq!(bodies[1], (b"b\r\n".to_vec(), false));
    assert!(bodies[2].1, "the third body is over the limit");
    assert_eq!(&buf[..], b"+OK");
}

/// R1939-15: an empty body; and after End the decoder stays done.
#[test]
fn r1939_15_empty_body_and_done() {
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    let mut buf = BytesMut::from(&b".\r\n+OK"[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(BodyPiece::End));
    assert!(decoder.is_done());
    assert_eq!(decoder.check_eof(), Ok(()));
    assert_eq!(decoder.decode(&mut buf), Ok(BodyPiece::End));
    assert_eq!(&buf[..], b"+OK");
    assert_eq!(decoder.body_len(), 0);
}

/// TV-1: decoding RETR 2 gives message 2 byte for byte, 200 octets, in every split;
/// stuffing message 2 gives the RETR 2 body, and LIST reports 200 (R1939-14).
#[test]
fn tv1_retr_2() {
    assert_eq!(TV1_MESSAGE_2.len(), 200);
    let wire = Bytes::from_static(TV1_RETR_2_BODY);
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    for cut in 0..=wire.len() {
        for cut2 in cut..=wire.len() {
            let out = decode_chunks(&mut decoder, &wire, &[cut, cut2]);
            assert_eq!(out.body, TV1_MESSAGE_2);
            assert_eq!(out.rest, Some(Vec::new()));
            assert_eq!(out.examined, wire.len() as u64);
        }
    }
    let ones: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(
        decode_chunks(&mut decoder, &wire, &ones).body,
        TV1_MESSAGE_2
    );
    assert_eq!(
        stuffed(TV1_MESSAGE_2, StuffConfig::default()),
        TV1_RETR_2_BODY
    );
    assert_eq!(wire_len(TV1_MESSAGE_2, StuffConfig::default()), 200);
}

/// TV-3 (R1939-37, E-6): TOP 2 0, TOP 2 1 and TOP 2 99, exact bytes.
#[test]
fn tv3_top() {
    let top = |n| StuffConfig {
        lf_to_crlf: false,
        top_lines: Some(n),
    };
    assert_eq!(
        stuffed(TV1_MESSAGE_2, top(0)),
        b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\n.\r\n"
    );
    assert_eq!(
        stuffed(TV1_MESSAGE_2, top(1)),
        b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\n.\r\n"
    );
    assert_eq!(stuffed(TV1_MESSAGE_2, top(99)), TV1_RETR_2_BODY);
    assert_eq!(wire_len(TV1_MESSAGE_2, top(0)), 65);
    assert_eq!(wire_len(TV1_MESSAGE_2, top(99)), 200);
    // Fed one byte at a time, the Stuffer gives the same bytes and then reports the cut.
    for n in [0, 1, 5, 6, 99] {
        let mut stuffer = Stuffer::new(top(n));
        let mut out = Vec::new();
        for k in 0..TV1_MESSAGE_2.len() {
            stuffer.push(Bytes::from_static(&TV1_MESSAGE_2[k..k + 1]), &mut out);
        }
        assert_eq!(stuffer.is_complete(), n < 7);
        stuffer.finish(&mut out);
        assert_eq!(out.concat(), stuffed(TV1_MESSAGE_2, top(n)), "TOP 2 {n}");
    }
}

/// TOP on a message without a blank line (all headers), with LF line ends, and a body
/// without a final line end.
#[test]
fn top_edge_cases() {
    let top = |n, lf| StuffConfig {
        lf_to_crlf: lf,
        top_lines: Some(n),
    };
    assert_eq!(
        stuffed(b"A: 1\r\nB: 2", top(0, false)),
        b"A: 1\r\nB: 2\r\n.\r\n"
    );
    assert_eq!(
        stuffed(b"A: 1\n\n.x\ny\n", top(1, true)),
        b"A: 1\r\n\r\n..x\r\n.\r\n"
    );
    assert_eq!(wire_len(b"A: 1\n\n.x\ny\n", top(1, true)), 12);
    // Without conversion a LF-only store has no CRLF blank line: all headers.
    assert_eq!(
        stuffed(b"A: 1\n\nb\n", top(0, false)),
        b"A: 1\n\nb\n\r\n.\r\n"
    );
    assert_eq!(stuffed(b"\r\nbody", top(0, false)), b"\r\n.\r\n");
    assert_eq!(
        stuffed(b"H\r\n\r\nb1\r\nb2", top(5, false)),
        b"H\r\n\r\nb1\r\nb2\r\n.\r\n"
    );
}

/// E-22 / IMPL-22 and LF to CRLF (Maildir): the stuffer adds the final CRLF and converts
/// bare LFs; a lone CR stays content.
#[test]
fn e22_final_crlf_and_conversion() {
    let conv = StuffConfig {
        lf_to_crlf: true,
        top_lines: None,
    };
    assert_eq!(stuffed(b"abc", StuffConfig::RAW), b"abc\r\n.\r\n");
    assert_eq!(stuffed(b"abc\r", StuffConfig::RAW), b"abc\r\r\n.\r\n");
    assert_eq!(stuffed(b"abc", StuffConfig::default()), b"abc\r\n.\r\n");
    assert_eq!(stuffed(b"abc\r", StuffConfig::default()), b"abc\r\r\n.\r\n");
    assert_eq!(stuffed(b"a\n.b\n.", conv), b"a\r\n..b\r\n..\r\n.\r\n");
    assert_eq!(wire_len(b"a\n.b\n.", conv), 10);
    assert_eq!(stuffed(b"a\r\n\n\r.\r\n", conv), b"a\r\n\r\n\r.\r\n.\r\n");
    // Without conversion (the opt-in raw mode) a dot after a bare LF is not at a
    // line start; by default the LF is a line end and the dot is stuffed.
    assert_eq!(stuffed(b"a\n.b\r\n", StuffConfig::RAW), b"a\n.b\r\n.\r\n");
    assert_eq!(
        stuffed(b"a\n.b\r\n", StuffConfig::default()),
        b"a\r\n..b\r\n.\r\n"
    );
}

/// max_body: the error comes once, the body handed out stays within the limit, and the
/// decoder then skips to the terminator so the session can resynchronise.
#[test]
fn max_body_limit_and_skip_mode() {
    let wire = b"0123456789\r\n..abc\r\nmore\r\n.\r\n+OK next\r\n";
    let full = b"0123456789\r\n.abc\r\nmore\r\n";
    assert_eq!(full.len(), 24);
    let exact = DecoderConfig::default().with_max_body(Some(24));
    assert_eq!(
        decode_all(exact, wire),
        (full.to_vec(), b"+OK next\r\n".to_vec())
    );
    for limit in [0u64, 5, 12, 13, 17, 23] {
        for cut in 0..=wire.len() {
            let config = DecoderConfig::default().with_max_body(Some(limit));
            let mut decoder = BodyDecoder::new(config);
            let mut body = Vec::new();
            let mut errors = 0;
            let mut rest: Option<Vec<u8>> = None;
            for part in [&wire[..cut], &wire[cut..]] {
                if let Some(rest) = rest.as_mut() {
                    rest.extend_from_slice(part);
                    continue;
                }
                let mut buf = BytesMut::from(part);
                loop {
                    match decoder.decode(&mut buf) {
                        Ok(BodyPiece::Data(d)) => body.extend_from_slice(&d),
                        Ok(BodyPiece::NeedMore) => break,
                        Ok(BodyPiece::End) => {
                            rest = Some(buf.to_vec());
                            break;
                        }
                        Err(e) => {
                            assert_eq!(e, DotError::BodyTooLarge { limit });
                            assert!(decoder.is_skipping());
                            errors += 1;
                        }
                    }
                }
            }
            assert_eq!(errors, 1, "limit {limit} cut {cut}");
            assert_eq!(rest.as_deref(), Some(&b"+OK next\r\n"[..]));
            assert!(body.len() as u64 <= limit);
            assert_eq!(decoder.body_len(), body.len() as u64);

            // The borrowed-slice API: the same pieces, the same one error, the same end.
            let mut slices = BodyDecoder::new(config);
            let (mut body2, mut errors2, mut rest2) = (Vec::new(), 0, None::<Vec<u8>>);
            let mut held = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                if let Some(rest2) = rest2.as_mut() {
                    rest2.extend_from_slice(part);
                    continue;
                }
                held.extend_from_slice(part);
                let mut input: &[u8] = &held;
                loop {
                    match slices.decode_slice(&mut input) {
                        Ok(SlicePiece::Data(d)) => body2.extend_from_slice(d),
                        Ok(SlicePiece::NeedMore) => break,
                        Ok(SlicePiece::End) => {
                            rest2 = Some(input.to_vec());
                            break;
                        }
                        Err(e) => {
                            assert_eq!(e, DotError::BodyTooLarge { limit });
                            errors2 += 1;
                        }
                    }
                }
                held = input.to_vec();
            }
            assert_eq!(
                (body2, errors2),
                (body, errors),
                "slices, limit {limit} cut {cut}"
            );
            assert_eq!(rest2, rest);
        }
    }
}

/// Bytes handed out are slices of the input buffer (zero copy), except the static
/// re-emitted bytes.
#[test]
fn data_is_zero_copy() {
    let wire = Bytes::from_static(b"abc\r\n..def\r\n.\r\n");
    let mut chunk = wire.clone();
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    while let BodyPiece::Data(d) = decoder.decode_bytes(&mut chunk).unwrap() {
        assert!(range.contains(&(d.as_ptr() as usize)));
    }
    assert!(decoder.is_done());
}

/// The search switches to walking line ends after close dot lines and back to memmem
/// after a few lines without one (DENSE_PROBES); whichever it uses, at every split, the
/// result is the reference un-stuffer's (R1939-13).
#[test]
fn dense_then_sparse_dots_every_split() {
    let mut body = Vec::new();
    for i in 0..40 {
        let line: &[u8] = match i % 13 {
            0..=5 => b"..dense\r\n",
            6 => b"\r\n",
            7..=11 => b"plain line without a dot\r\n",
            _ => b".x\r\n",
        };
        body.extend_from_slice(line);
        if i == 20 {
            body.extend_from_slice(&[b'x'; 300]);
            body.extend_from_slice(b"\r\n..after a long line\r\n");
        }
    }
    body.extend_from_slice(b".\r\n+OK");
    let (expected, used) = reference_unstuff(&body, false, false).expect("terminated");
    let wire = Bytes::from(body);
    let mut decoder = BodyDecoder::new(DecoderConfig::STRICT);
    let whole = decode_chunks(&mut decoder, &wire, &[]);
    assert_eq!(whole.body, expected);
    assert_eq!(whole.rest.as_deref(), Some(&b"+OK"[..]));
    assert_eq!(whole.examined, used as u64);
    assert_eq!(used, wire.len() - 3);
    for cut in 1..wire.len() {
        assert_eq!(decode_chunks(&mut decoder, &wire, &[cut]), whole, "{cut}");
    }
    let ones: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(decode_chunks(&mut decoder, &wire, &ones), whole);
}

/// The borrowed API hands out sub-slices of the input, except the static bytes.
#[test]
fn slice_pieces_are_zero_copy() {
    let wire: &[u8] = b"abc\r\n..def\r\n.\rx\r\n.\r\n+OK";
    let mut input = wire;
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    let range = wire.as_ptr_range();
    let mut pieces = Vec::new();
    while let SlicePiece::Data(d) = decoder.decode_slice(&mut input).unwrap() {
        pieces.push(d);
    }
    assert!(decoder.is_done());
    assert_eq!(input, b"+OK");
    assert_eq!(pieces.concat(), b"abc\r\n.def\r\n\rx\r\n");
    for piece in pieces {
        assert!(
            range.contains(&piece.as_ptr()) || piece == b"\r",
            "{piece:?}"
        );
    }
}

/// Linear cost: bytes examined is the same for 1-byte chunks as for the
/// whole input (counted, not timed), for typical, dot-dense and LF bodies.
#[test]
fn linear_bytes_examined_whole_vs_one_byte_chunks() {
    let mut typical = Vec::new();
    let mut dense = Vec::new();
    let mut lf = Vec::new();
    for i in 0..2000 {
        let line = if i % 200 == 7 {
            b".x" as &[u8]
        } else {
            b"some text"
        };
        typical.extend_from_slice(line);
        typical.extend_from_slice(b"\r\n");
        dense.extend_from_slice(b"..dotted\r\n");
        lf.extend_from_slice(b"..lf line\n");
    }
    for (body, configs) in [
        (
            &typical,
            &[DecoderConfig::STRICT, DecoderConfig::LENIENT_CRLF][..],
        ),
        (&dense, &[DecoderConfig::STRICT, DecoderConfig::LENIENT][..]),
        (
            &lf,
            &[DecoderConfig::LENIENT, DecoderConfig::LENIENT_CRLF][..],
        ),
    ] {
        let mut wire = body.clone();
        wire.extend_from_slice(b".\r\n");
        let wire = Bytes::from(wire);
        for &config in configs {
            let mut decoder = BodyDecoder::new(config);
            let whole = decode_chunks(&mut decoder, &wire, &[]);
            let ones: Vec<usize> = (1..wire.len()).collect();
            let split = decode_chunks(&mut decoder, &wire, &ones);
            assert_eq!(whole.examined, wire.len() as u64);
            assert_eq!(split.examined, whole.examined);
            assert_eq!(split.body, whole.body);
        }
    }
}

/// Every string over {a, ., \r, \n} of length `0..=max_len`.
fn for_each_string(max_len: u32, mut f: impl FnMut(&[u8])) {
    const ALPHABET: [u8; 4] = [b'a', b'.', b'\r', b'\n'];
    let mut s = Vec::new();
    for len in 0..=max_len {
        for mut n in 0..4usize.pow(len) {
            s.clear();
            for _ in 0..len {
                s.push(ALPHABET[n % 4]);
                n /= 4;
            }
            f(&s);
        }
    }
}

/// E-3, E-4, R1939-12/13: every string up to length 8, stuffed in the raw mode and
/// terminated, decodes
/// back to itself (with the final CRLF of E-22) at every split point (every pair of
/// split points up to length 6); the stuffer agrees with the reference stuffer and
/// wire_len with the decoded length.
#[test]
fn exhaustive_stuff_then_decode_every_split() {
    let mut decoder = BodyDecoder::new(DecoderConfig::default());
    for_each_string(8, |s| {
        let wire = stuffed(s, StuffConfig::RAW);
        assert_eq!(wire, reference_stuff(s), "{s:?}");
        let expected = with_final_crlf(s);
        assert_eq!(wire_len(s, StuffConfig::RAW), expected.len() as u64);
        let wire = Bytes::from(wire);
        let whole = decode_chunks(&mut decoder, &wire, &[]);
        assert_eq!(whole.body, expected, "{s:?}");
        assert_eq!(whole.rest, Some(Vec::new()));
        assert_eq!(whole.examined, wire.len() as u64);
        for a in 1..wire.len() {
            assert_eq!(decode_chunks(&mut decoder, &wire, &[a]), whole, "{s:?} {a}");
            if s.len() <= 6 {
                for b in a + 1..wire.len() {
                    assert_eq!(decode_chunks(&mut decoder, &wire, &[a, b]), whole);
                }
            }
        }
    });
}

/// E-2, E-4, E-5: every raw string up to length 8 received as a body and followed by
/// `\r\n.\r\n`, in strict, lenient and lenient-CRLF modes, decodes at every split
/// point (pairs up to length 6) exactly as the reference un-stuffer, including where
/// the body ends (a terminator inside the string ends it early) and what is left.
#[test]
fn exhaustive_raw_wire_every_split() {
    let configs = [
        DecoderConfig::STRICT,
        DecoderConfig::LENIENT,
        DecoderConfig::LENIENT_CRLF,
    ];
    let mut decoders = configs.map(BodyDecoder::new);
    let mut wire = Vec::new();
    for_each_string(8, |s| {
        wire.clear();
        wire.extend_from_slice(s);
        wire.extend_from_slice(b"\r\n.\r\n");
        let bytes = Bytes::copy_from_slice(&wire);
        for decoder in decoders.iter_mut() {
            let c = decoder.config();
            let (body, used) =
                reference_unstuff(&wire, c.allow_bare_lf, c.lf_to_crlf).expect("terminated");
            let whole = decode_chunks(decoder, &bytes, &[]);
            assert_eq!(whole.body, body, "{c:?} {s:?}");
            assert_eq!(whole.rest.as_deref(), Some(&wire[used..]), "{c:?} {s:?}");
            assert_eq!(whole.examined, used as u64);
            for a in 1..wire.len() {
                assert_eq!(
                    decode_chunks(decoder, &bytes, &[a]),
                    whole,
                    "{c:?} {s:?} {a}"
                );
                if s.len() <= 6 {
                    for b in a + 1..wire.len() {
                        assert_eq!(decode_chunks(decoder, &bytes, &[a, b]), whole);
                    }
                }
            }
        }
    });
}

/// Stuffing with LF to CRLF, then decoding strictly, gives the message with every line
/// end as CRLF; a TOP cut gives a prefix of the full stuffed message. Every string up to
/// length 7, every chunk split of the Stuffer.
#[test]
fn exhaustive_conversion_and_top_stuffer_splits() {
    let conv = StuffConfig {
        lf_to_crlf: true,
        top_lines: None,
    };
    for_each_string(7, |s| {
        let mut normalised = Vec::new();
        for (k, &b) in s.iter().enumerate() {
            if b == b'\n' && (k == 0 || s[k - 1] != b'\r') {
                normalised.push(b'\r');
            }
            normalised.push(b);
        }
        let wire = stuffed(s, conv);
        assert_eq!(wire, reference_stuff(&normalised), "{s:?}");
        assert_eq!(wire_len(s, conv), with_final_crlf(&normalised).len() as u64);
        for config in [
            conv,
            StuffConfig::RAW,
            StuffConfig {
                lf_to_crlf: false,
                top_lines: Some(0),
            },
            StuffConfig {
                lf_to_crlf: true,
                top_lines: Some(1),
            },
        ] {
            let whole = stuffed(s, config);
            let mut into = BytesMut::new();
            stuff_into(s, config, &mut into);
            assert_eq!(&into[..], &whole[..]);
            let message = Bytes::copy_from_slice(s);
            for a in 0..=s.len() {
                let mut stuffer = Stuffer::new(config);
                let mut out = Vec::new();
                stuffer.push(message.slice(..a), &mut out);
                stuffer.push(message.slice(a..), &mut out);
                stuffer.finish(&mut out);
                assert_eq!(out.concat(), whole, "{config:?} {s:?} {a}");
                // The copying variant gives the same bytes.
                let mut copier = Stuffer::new(config);
                let mut copied = BytesMut::new();
                copier.push_copy(&s[..a], &mut copied);
                copier.push_copy(&s[a..], &mut copied);
                copier.finish_copy(&mut copied);
                assert_eq!(&copied[..], &whole[..], "copy {config:?} {s:?} {a}");
                let mut counter = WireLen::new(config);
                counter.push(&s[..a]);
                counter.push(&s[a..]);
                assert_eq!(counter.finish(), wire_len(s, config));
            }
            if config.top_lines.is_some() {
                let full = stuffed(
                    s,
                    StuffConfig {
                        top_lines: None,
                        ..config
                    },
                );
                let cut = &whole[..whole.len() - 3];
                // The TOP response is the full one cut after a line end (plus E-22).
                assert!(
                    full.starts_with(cut) || full.starts_with(&cut[..cut.len().saturating_sub(2)]),
                    "{config:?} {s:?}"
                );
            }
        }
    });
}

/// The message with every bare LF made CRLF (what LF to CRLF sends).
fn normalise_lf(s: &[u8]) -> Vec<u8> {
    let mut normalised = Vec::new();
    for (k, &b) in s.iter().enumerate() {
        if b == b'\n' && (k == 0 || s[k - 1] != b'\r') {
            normalised.push(b'\r');
        }
        normalised.push(b);
    }
    normalised
}

/// `message` through `push_copy`, the general path and the line-by-line path, cut at
/// `cuts`: all three give the same bytes, and `WireLen` fed the same chunks the size.
fn check_copy_paths(message: &[u8], config: StuffConfig, cuts: &[usize]) {
    let mut parts = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(core::iter::once(&message.len())) {
        let cut = cut.clamp(prev, message.len());
        parts.push(&message[prev..cut]);
        prev = cut;
    }
    let mut fast = Stuffer::new(config);
    let mut general = Stuffer::new(config);
    let mut lines = Stuffer::new(config);
    let mut counter = WireLen::new(config);
    let (mut a, mut b, mut c) = (BytesMut::new(), BytesMut::new(), BytesMut::new());
    for part in &parts {
        fast.push_copy(part, &mut a);
        general.push_copy_general(part, &mut b);
        lines.push_copy_lines(part, &mut c);
        counter.push(part);
    }
    fast.finish_copy(&mut a);
    general.finish_copy(&mut b);
    lines.finish_copy(&mut c);
    assert_eq!(&a[..], &b[..], "{config:?} {message:?} {cuts:?}");
    assert_eq!(&a[..], &c[..], "{config:?} {message:?} {cuts:?}");
    // The size: the decoded body (the wire without stuffing dots and terminator).
    let (body, rest) = decode_all(DecoderConfig::default(), &a);
    assert!(rest.is_empty());
    assert_eq!(
        counter.finish(),
        body.len() as u64,
        "{config:?} {message:?} {cuts:?}"
    );
    assert_eq!(wire_len(message, config), body.len() as u64);
}

/// The copying LF to CRLF fast path works on blocks of `COPY_BLOCK` octets: every
/// string over {a, ., \r, \n} up to length 5, placed at every offset around the first
/// and second block edges after a long line, followed by nothing, a short or a long
/// tail, at every split around it, gives the bytes of the general and line-by-line
/// paths (both configurations; without conversion the fast path is not taken).
#[test]
fn exhaustive_copy_fast_path_at_block_edges() {
    const B: usize = encode::COPY_BLOCK;
    let mut pads: Vec<usize> = vec![0, 1, 2, 3];
    pads.extend(B - 3..=B + 2);
    pads.extend(2 * B - 2..=2 * B + 1);
    let mut message = Vec::new();
    for_each_string(5, |s| {
        for &pad in &pads {
            for tail in [0, 3, B + 1] {
                message.clear();
                message.extend(core::iter::repeat(b'x').take(pad));
                message.extend_from_slice(s);
                message.extend(core::iter::repeat(b'y').take(tail));
                for lf_to_crlf in [true, false] {
                    let config = StuffConfig {
                        lf_to_crlf,
                        top_lines: None,
                    };
                    check_copy_paths(&message, config, &[]);
                    let around = pad.saturating_sub(2)..=(pad + s.len() + 1).min(message.len());
                    for a in around.chain([1, B, message.len().saturating_sub(1)]) {
                        check_copy_paths(&message, config, &[a]);
                    }
                }
            }
        }
    });
}

/// The copying fast path first looks for a line's LF where the length of the line
/// before puts it (lines of 65 to 128 octets). Two lines of one length, then a third
/// of that length with every string up to length 4 written into it at offsets around
/// the two blocks the guess checks (and past its end), then a fourth: the guess is
/// taken only when right, and the bytes agree with the general and line-by-line
/// paths, whole and split around the third line.
#[test]
fn exhaustive_copy_fast_path_line_length_guess() {
    const B: usize = encode::COPY_BLOCK;
    let mut message = Vec::new();
    for len in [B, B + 1, B + 2, 77, 2 * B - 1, 2 * B, 2 * B + 1] {
        let mut offsets: Vec<usize> = vec![0, 1, B - 2, B - 1, B, B + 1];
        offsets.extend(len.saturating_sub(B + 2)..=len.saturating_sub(B - 1));
        offsets.extend(len - 3..=len + 1);
        for_each_string(4, |s| {
            for &at in &offsets {
                message.clear();
                for _ in 0..2 {
                    message.extend(core::iter::repeat(b'x').take(len - 1));
                    message.push(b'\n');
                }
                let third = message.len();
                message.extend(core::iter::repeat(b'x').take(len - 1));
                message.push(b'\n');
                message.extend(core::iter::repeat(b'y').take(len - 1));
                message.push(b'\n');
                for (k, &b) in s.iter().enumerate() {
                    if let Some(x) = message.get_mut(third + at + k) {
                        *x = b;
                    }
                }
                for lf_to_crlf in [true, false] {
                    let config = StuffConfig {
                        lf_to_crlf,
                        top_lines: None,
                    };
                    check_copy_paths(&message, config, &[]);
                    for a in [third, third + at, third + at + s.len()] {
                        check_copy_paths(&message, config, &[a]);
                    }
                }
            }
        });
    }
}

/// Every string over {a, ., \r, \n} up to length 7, at every one-split: the copying
/// fast path (LF to CRLF) agrees with the general and line-by-line paths.
#[test]
fn exhaustive_copy_fast_path_small_every_split() {
    let config = StuffConfig {
        lf_to_crlf: true,
        top_lines: None,
    };
    for_each_string(7, |s| {
        for a in 0..=s.len() {
            check_copy_paths(s, config, &[a]);
        }
    });
}

/// `wire_len` with LF to CRLF counts in blocks of `COUNT_BLOCK` octets, each with a
/// look back at the octet before: every string up to length 4 around the first and
/// second block edges, in messages with and without CRs elsewhere, is counted as the
/// message with CRLF line ends, whole and split around the edge.
#[test]
fn exhaustive_wire_len_lf_at_count_block_edges() {
    const B: usize = encode::COUNT_BLOCK;
    let config = StuffConfig {
        lf_to_crlf: true,
        top_lines: None,
    };
    let mut message = Vec::new();
    for_each_string(4, |s| {
        for edge in [B, 2 * B] {
            for back in 0..=s.len() + 1 {
                for filler in [&b"text\n"[..], b"text\r\n", b"a.\r"] {
                    message.clear();
                    while message.len() < edge - back {
                        message.extend_from_slice(filler);
                    }
                    message.truncate(edge - back);
                    message.extend_from_slice(s);
                    message.extend_from_slice(b"z\nz");
                    let expected = with_final_crlf(&normalise_lf(&message)).len() as u64;
                    assert_eq!(wire_len(&message, config), expected, "{s:?} {edge} {back}");
                    for a in [edge - back, edge - 1, edge, edge + 1] {
                        let mut counter = WireLen::new(config);
                        counter.push(&message[..a]);
                        counter.push(&message[a..]);
                        assert_eq!(counter.finish(), expected, "{s:?} {edge} {back} {a}");
                    }
                }
            }
        }
    });
}

/// The zero-copy LF to CRLF path checks blocks of `COUNT_BLOCK` octets for a bare LF
/// and searches clean ones for `"\n."` only: every string up to length 3 just before,
/// across and after the first block edge, in CRLF mail with and without dot lines,
/// gives the bytes of the line-by-line path, whole and split at the edge.
#[test]
fn exhaustive_lf_stuffer_at_count_block_edges() {
    const B: usize = encode::COUNT_BLOCK;
    let config = StuffConfig::default();
    let mut message = Vec::new();
    for_each_string(3, |s| {
        for back in 0..=s.len() + 1 {
            for filler in [&b"text\r\n"[..], b".\r\n", b"\r\n."] {
                message.clear();
                while message.len() < B - back {
                    message.extend_from_slice(filler);
                }
                message.truncate(B - back);
                message.extend_from_slice(s);
                message.extend_from_slice(b".z\r\n.");
                check_copy_paths(&message, config, &[]);
                check_copy_paths(&message, config, &[B - back]);
            }
        }
    });
}

/// A restarted stuffer (the server keeps one for every message it sends) writes
/// what a new one writes, whatever the message before it left behind: a TOP cut
/// midway, a line without its end, a pending CR.
#[test]
fn restarted_stuffer_matches_a_new_one() {
    let messages: [&[u8]; 5] = [
        b"a\r\n.b\r\n\r\nbody\r\n.c\r\n",
        b"no end\r",
        b"x\n.y\n\n.z",
        b"",
        b"H: v\r\n\r\nl1\r\nl2\r\nl3\r\n",
    ];
    let configs = [
        StuffConfig::SAFE,
        StuffConfig::RAW,
        StuffConfig::SAFE.with_top_lines(Some(0)),
        StuffConfig::RAW.with_top_lines(Some(1)),
    ];
    let run = |stuffer: &mut Stuffer, message: &[u8]| -> Vec<u8> {
        let mut out: Vec<Bytes> = Vec::new();
        stuffer.push(Bytes::copy_from_slice(message), &mut out);
        stuffer.finish(&mut out);
        out.concat()
    };
    for first_config in configs {
        for first in messages {
            for config in configs {
                for message in messages {
                    let mut reused = Stuffer::new(first_config);
                    let _ = run(&mut reused, first);
                    reused.restart(config);
                    let expected = run(&mut Stuffer::new(config), message);
                    assert_eq!(run(&mut reused, message), expected);
                }
            }
        }
    }
}

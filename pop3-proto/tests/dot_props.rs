//! Property tests of dot-stuffing (R1939-12, R1939-13, R1939-14, E-4, E-22): random
//! bodies, random splits.

use bytes::{Bytes, BytesMut};
use pop3_proto::dot::{
    stuff, wire_len, BodyDecoder, BodyPiece, DecoderConfig, SlicePiece, StuffConfig, Stuffer,
    WireLen,
};
use proptest::prelude::*;

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            4 => Just(b'.'),
            4 => Just(b'\r'),
            4 => Just(b'\n'),
            3 => Just(b'a'),
            1 => any::<u8>(),
        ],
        0..300,
    )
}

/// Long bodies, across the block sizes of the copying and counting fast paths (64 and
/// 4096 octets): lines of 0 to 150 octets (often 76, as wrapped mail), some starting
/// with `.`, some holding `\n`, `\r` or `.`, ending in LF, CRLF, a lone CR or nothing.
fn long_body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        any::<bool>(),
        // Often 76 (a line of 77 octets with its LF), sometimes about one block.
        prop_oneof![3 => 0usize..150, 2 => Just(76usize), 1 => 62usize..67],
        prop_oneof![
            4 => Just(&b"\n"[..]),
            2 => Just(&b"\r\n"[..]),
            1 => Just(&b"\r"[..]),
            1 => Just(&b""[..]),
        ],
        any::<u8>(),
    );
    proptest::collection::vec(line, 0..120).prop_map(|lines| {
        let mut body = Vec::new();
        for (dot, len, end, fill) in lines {
            if dot {
                body.push(b'.');
            }
            // Mostly text, one octet in 16 made `\n`, `\r`, `.` or any octet.
            let special = [b'\n', b'\r', b'.', fill];
            body.extend((0..len).map(|k| {
                let x = fill.wrapping_add(k as u8).wrapping_mul(151);
                match x % 16 {
                    0 => special[usize::from(x / 16 % 4)],
                    _ => b'a' + x % 26,
                }
            }));
            body.extend_from_slice(end);
        }
        body
    })
}

fn long_cuts_strategy() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..20_000, 0..16).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

fn cuts_strategy() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..400, 0..16).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

/// Splits `data` at `cuts` (clamped), as `Bytes` slices.
fn chunks(data: &Bytes, cuts: &[usize]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        let cut = cut.clamp(prev, data.len());
        out.push(data.slice(prev..cut));
        prev = cut;
    }
    out
}

/// Decodes chunks through the `BytesMut` API (appending each chunk, as a state machine
/// does), and checks that the borrowed-slice API gives the same. Returns the body, the
/// bytes left after the terminator and the bytes examined.
fn decode(config: DecoderConfig, parts: &[Bytes]) -> (Vec<u8>, Option<Vec<u8>>, u64) {
    let outcome = decode_bytesmut(config, parts);
    assert_eq!(
        decode_slices(config, parts),
        outcome,
        "decode_slice differs"
    );
    outcome
}

/// Decodes chunks through [`BodyDecoder::decode_slice`], each chunk on its own.
fn decode_slices(config: DecoderConfig, parts: &[Bytes]) -> (Vec<u8>, Option<Vec<u8>>, u64) {
    let mut decoder = BodyDecoder::new(config);
    let mut body = Vec::new();
    let mut rest: Option<Vec<u8>> = None;
    for part in parts {
        if let Some(rest) = rest.as_mut() {
            rest.extend_from_slice(part);
            continue;
        }
        let mut input: &[u8] = part;
        loop {
            match decoder.decode_slice(&mut input).unwrap() {
                SlicePiece::Data(d) => body.extend_from_slice(d),
                SlicePiece::NeedMore => break,
                SlicePiece::End => {
                    rest = Some(input.to_vec());
                    break;
                }
            }
        }
    }
    (body, rest, decoder.bytes_examined())
}

/// Decodes chunks through the `BytesMut` API.
fn decode_bytesmut(config: DecoderConfig, parts: &[Bytes]) -> (Vec<u8>, Option<Vec<u8>>, u64) {
    let mut decoder = BodyDecoder::new(config);
    let mut buf = BytesMut::new();
    let mut body = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        if decoder.is_done() {
            continue;
        }
        loop {
            match decoder.decode(&mut buf).unwrap() {
                BodyPiece::Data(d) => body.extend_from_slice(&d),
                BodyPiece::NeedMore => break,
                BodyPiece::End => break,
            }
        }
    }
    let rest = decoder.is_done().then(|| buf.to_vec());
    (body, rest, decoder.bytes_examined())
}

fn with_final_crlf(message: &[u8]) -> Vec<u8> {
    let mut m = message.to_vec();
    if !m.is_empty() && !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m
}

fn normalise_lf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, &b) in message.iter().enumerate() {
        if b == b'\n' && (k == 0 || message[k - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The number of stuffing dots the wire needs for `sent` (the message as sent: CRLF
/// line ends, final CRLF added): one per line that starts with `.` (R1939-12).
fn stuffing_dots(sent: &[u8]) -> usize {
    let mut n = 0;
    let mut line_start = true;
    for (k, &b) in sent.iter().enumerate() {
        if line_start && b == b'.' {
            n += 1;
        }
        line_start = b == b'\n' && k > 0 && sent[k - 1] == b'\r';
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// In the raw mode, decode(stuff(x)) == x (with the final CRLF of E-22), in random splits; wire_len
    /// is the bytes produced minus stuffing dots minus the terminator (R1939-14).
    #[test]
    fn r1939_13_decode_of_stuff_is_identity(
        x in body_strategy(),
        cuts in cuts_strategy(),
        trailer in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let message = Bytes::from(x.clone());
        let wire: Vec<u8> = stuff(&message, StuffConfig::RAW).concat();
        let expected = with_final_crlf(&x);
        prop_assert_eq!(
            wire_len(&x, StuffConfig::RAW),
            (wire.len() - stuffing_dots(&expected) - 3) as u64
        );
        prop_assert_eq!(wire_len(&x, StuffConfig::RAW), expected.len() as u64);

        let mut full = wire.clone();
        full.extend_from_slice(&trailer);
        let full = Bytes::from(full);
        let (body, rest, examined) = decode(DecoderConfig::default(), &chunks(&full, &cuts));
        prop_assert_eq!(&body, &expected);
        prop_assert_eq!(rest.as_deref(), Some(&trailer[..]));
        prop_assert_eq!(examined, wire.len() as u64);
        let ones: Vec<usize> = (1..full.len()).collect();
        let (body1, rest1, examined1) = decode(DecoderConfig::default(), &chunks(&full, &ones));
        prop_assert_eq!(&body1, &expected);
        prop_assert_eq!(rest1.as_deref(), Some(&trailer[..]));
        prop_assert_eq!(examined1, examined);
    }

    /// With LF to CRLF, decoding (strict) gives the message with CRLF line ends.
    #[test]
    fn lf_to_crlf_round_trip(x in body_strategy(), cuts in cuts_strategy()) {
        let config = StuffConfig::default().with_lf_to_crlf(true).with_top_lines(None);
        let message = Bytes::from(x.clone());
        let wire = Bytes::from(stuff(&message, config).concat());
        let expected = with_final_crlf(&normalise_lf(&x));
        prop_assert_eq!(wire_len(&x, config), expected.len() as u64);
        prop_assert_eq!(
            wire_len(&x, config),
            (wire.len() - stuffing_dots(&expected) - 3) as u64
        );
        let (body, rest, _) = decode(DecoderConfig::default(), &chunks(&wire, &cuts));
        prop_assert_eq!(body, expected);
        prop_assert_eq!(rest, Some(Vec::new()));
    }

    /// The Stuffer fed in random chunks gives the same wire bytes as the whole message
    /// (zero-copy segments and the copying variant alike), and the streaming WireLen the
    /// same count, for every configuration.
    #[test]
    fn stuffer_chunks_match_whole(
        x in body_strategy(),
        cuts in cuts_strategy(),
        lf_to_crlf in any::<bool>(),
        top in proptest::option::of(0u64..6),
    ) {
        let config = StuffConfig::default().with_lf_to_crlf(lf_to_crlf).with_top_lines(top);
        let message = Bytes::from(x.clone());
        let whole: Vec<u8> = stuff(&message, config).concat();
        let mut stuffer = Stuffer::new(config);
        let mut out: Vec<Bytes> = Vec::new();
        let mut counter = WireLen::new(config);
        let mut copier = Stuffer::new(config);
        let mut copied = BytesMut::new();
        for part in chunks(&message, &cuts) {
            counter.push(&part);
            copier.push_copy(&part, &mut copied);
            stuffer.push(part, &mut out);
        }
        stuffer.finish(&mut out);
        copier.finish_copy(&mut copied);
        prop_assert!(stuffer.is_finished());
        prop_assert_eq!(out.concat(), whole.clone());
        prop_assert_eq!(&copied[..], &whole[..]);
        prop_assert_eq!(counter.finish(), wire_len(&x, config));
        // Whatever the configuration, the wire decodes strictly to a body whose length
        // is the reported size: the bytes produced minus stuffing dots minus ".\r\n".
        let (body, rest, _) = decode(DecoderConfig::default(), &[Bytes::from(whole.clone())]);
        prop_assert_eq!(body.len() as u64, wire_len(&x, config));
        prop_assert_eq!(rest, Some(Vec::new()));
        prop_assert_eq!(
            wire_len(&x, config),
            (whole.len() - stuffing_dots(&body) - 3) as u64
        );
    }

    /// Lenient decoding in random splits equals lenient decoding of the whole input, for
    /// arbitrary (not necessarily stuffed) input.
    #[test]
    fn e4_lenient_random_input_split_independent(
        x in body_strategy(),
        cuts in cuts_strategy(),
        lf_to_crlf in any::<bool>(),
        strict in any::<bool>(),
    ) {
        let config = DecoderConfig::default()
            .with_allow_bare_lf(!strict)
            .with_lf_to_crlf(lf_to_crlf)
            .with_max_body(None);
        let mut wire = x.clone();
        wire.extend_from_slice(b"\r\n.\r\n");
        let wire = Bytes::from(wire);
        let whole = decode(config, std::slice::from_ref(&wire));
        let split = decode(config, &chunks(&wire, &cuts));
        prop_assert_eq!(&split, &whole);
        prop_assert!(whole.1.is_some());
    }

    /// Long bodies in random chunks: the copying variant (its LF to CRLF fast path)
    /// gives the bytes of the zero-copy one (the general path) and of the whole message,
    /// and the streaming WireLen (its counting fast path) the size of what is sent.
    #[test]
    fn long_bodies_copy_and_count_match_general_path(
        x in long_body_strategy(),
        cuts in long_cuts_strategy(),
        lf_to_crlf in any::<bool>(),
    ) {
        let config = StuffConfig::default().with_lf_to_crlf(lf_to_crlf).with_top_lines(None);
        let message = Bytes::from(x.clone());
        let whole: Vec<u8> = stuff(&message, config).concat();
        let mut stuffer = Stuffer::new(config);
        let mut out: Vec<Bytes> = Vec::new();
        let mut counter = WireLen::new(config);
        let mut copier = Stuffer::new(config);
        let mut copied = BytesMut::new();
        for part in chunks(&message, &cuts) {
            counter.push(&part);
            copier.push_copy(&part, &mut copied);
            stuffer.push(part, &mut out);
        }
        stuffer.finish(&mut out);
        copier.finish_copy(&mut copied);
        prop_assert_eq!(out.concat(), whole.clone());
        prop_assert_eq!(&copied[..], &whole[..]);
        let (body, rest, _) = decode(DecoderConfig::default(), &[Bytes::from(whole.clone())]);
        prop_assert_eq!(rest, Some(Vec::new()));
        if lf_to_crlf {
            prop_assert_eq!(&body, &with_final_crlf(&normalise_lf(&x)));
        }
        prop_assert_eq!(counter.finish(), body.len() as u64);
        prop_assert_eq!(wire_len(&x, config), body.len() as u64);
        prop_assert_eq!(
            wire_len(&x, config),
            (whole.len() - stuffing_dots(&body) - 3) as u64
        );
    }
}

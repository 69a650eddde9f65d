//! The streaming dot decoder against a line-by-line reference un-stuffer
//! (differential), under random splits, over `BytesMut`, `Bytes` and borrowed-slice
//! input.
//!
//! Invariants: the same body bytes and the same end (the buffer starts right after
//! the terminator) as the reference, for every split; `Data` pieces are never empty;
//! after `End` nothing more is consumed; every byte consumed was examined once;
//! with `max_body`, what is handed out is a prefix of the body and at most the limit,
//! `BodyTooLarge` comes exactly when the body is larger, no `Data` follows it, and
//! the decoder still finds the same end.
#![no_main]

use arbitrary::Unstructured;
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use pop3_proto::dot::{BodyDecoder, BodyPiece, DecoderConfig, DotError, SlicePiece};
use pop3_proto_fuzz::{cuts, pieces, reference_unstuff};

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    /// Octets consumed through the terminator, if it was found.
    end: Option<usize>,
    too_large: bool,
}

fn run(config: DecoderConfig, chunks: &[&[u8]], as_bytes: bool) -> Outcome {
    let mut decoder = BodyDecoder::new(config);
    let mut body = Vec::new();
    let mut consumed = 0usize;
    let mut end = None;
    let mut too_large = false;
    let mut held_mut = BytesMut::new();
    for chunk in chunks {
        if end.is_some() {
            break;
        }
        // With `Bytes` input, the caller hands each chunk over and must keep what is
        // left; with `BytesMut`, the leftovers stay in the one buffer.
        let mut held_bytes = if as_bytes {
            let mut b = BytesMut::from(&held_mut[..]);
            b.extend_from_slice(chunk);
            held_mut.clear();
            b.freeze()
        } else {
            held_mut.extend_from_slice(chunk);
            Bytes::new()
        };
        loop {
            let before = if as_bytes {
                held_bytes.len()
            } else {
                held_mut.len()
            };
            let piece = if as_bytes {
                decoder.decode_bytes(&mut held_bytes)
            } else {
                decoder.decode(&mut held_mut)
            };
            let after = if as_bytes {
                held_bytes.len()
            } else {
                held_mut.len()
            };
            assert!(after <= before);
            consumed += before - after;
            match piece {
                Ok(BodyPiece::Data(d)) => {
                    assert!(!d.is_empty(), "empty Data piece");
                    assert!(!too_large, "Data after BodyTooLarge");
                    body.extend_from_slice(&d);
                }
                Ok(BodyPiece::End) => {
                    assert!(decoder.is_done());
                    end = Some(consumed);
                    // Idempotent: End again, nothing consumed.
                    let again = if as_bytes {
                        decoder.decode_bytes(&mut held_bytes)
                    } else {
                        decoder.decode(&mut held_mut)
                    };
                    assert_eq!(again, Ok(BodyPiece::End));
                    let after2 = if as_bytes {
                        held_bytes.len()
                    } else {
                        held_mut.len()
                    };
                    assert_eq!(after2, after);
                    break;
                }
                Ok(BodyPiece::NeedMore) => {
                    assert_eq!(after, 0, "NeedMore with input left");
                    break;
                }
                Err(DotError::BodyTooLarge { limit }) => {
                    assert_eq!(Some(limit), config.max_body);
                    assert!(!too_large, "BodyTooLarge twice");
                    assert!(decoder.is_skipping());
                    too_large = true;
                }
                Err(DotError::Truncated) => panic!("decode never says Truncated"),
            }
        }
        if as_bytes {
            held_mut = BytesMut::from(&held_bytes[..]);
        }
        if end.is_none() {
            assert!(decoder.check_eof().is_err());
        }
    }
    assert_eq!(
        decoder.bytes_examined(),
        consumed as u64,
        "every byte examined once"
    );
    assert_eq!(decoder.body_len(), body.len() as u64);
    Outcome {
        body,
        end,
        too_large,
    }
}

/// [`run`] through [`BodyDecoder::decode_slice`]: the caller keeps what a chunk left
/// over and puts it before the next one.
fn run_slices(config: DecoderConfig, chunks: &[&[u8]]) -> Outcome {
    let mut decoder = BodyDecoder::new(config);
    let mut body = Vec::new();
    let mut consumed = 0usize;
    let mut end = None;
    let mut too_large = false;
    let mut held: Vec<u8> = Vec::new();
    for chunk in chunks {
        if end.is_some() {
            break;
        }
        held.extend_from_slice(chunk);
        let mut input: &[u8] = &held;
        loop {
            let before = input.len();
            let piece = decoder.decode_slice(&mut input);
            assert!(input.len() <= before);
            consumed += before - input.len();
            match piece {
                Ok(SlicePiece::Data(d)) => {
                    assert!(!d.is_empty(), "empty Data piece");
                    assert!(!too_large, "Data after BodyTooLarge");
                    body.extend_from_slice(d);
                }
                Ok(SlicePiece::End) => {
                    end = Some(consumed);
                    let left = input.len();
                    assert_eq!(decoder.decode_slice(&mut input), Ok(SlicePiece::End));
                    assert_eq!(input.len(), left);
                    break;
                }
                Ok(SlicePiece::NeedMore) => {
                    assert!(input.is_empty(), "NeedMore with input left");
                    break;
                }
                Err(DotError::BodyTooLarge { .. }) => {
                    assert!(!too_large, "BodyTooLarge twice");
                    too_large = true;
                }
                Err(DotError::Truncated) => panic!("decode never says Truncated"),
            }
        }
        held = input.to_vec();
    }
    assert_eq!(decoder.bytes_examined(), consumed as u64);
    assert_eq!(decoder.body_len(), body.len() as u64);
    Outcome {
        body,
        end,
        too_large,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mode = u.int_in_range(0u8..=2).unwrap_or(0);
    let base = match mode {
        0 => DecoderConfig::STRICT,
        1 => DecoderConfig::LENIENT,
        _ => DecoderConfig::LENIENT_CRLF,
    };
    let max_body = if u.arbitrary::<bool>().unwrap_or(false) {
        Some(u.int_in_range(0u64..=300).unwrap_or(0))
    } else {
        None
    };
    let split_len = u.int_in_range(0usize..=64).unwrap_or(0);
    let split_bytes = u.bytes(split_len).unwrap_or_default();
    let wire = u.take_rest();

    let reference = reference_unstuff(wire, base.allow_bare_lf, base.lf_to_crlf);
    let unlimited = run(base, &[wire], false);
    match &reference {
        Some((body, end)) => {
            assert_eq!(&unlimited.body, body, "body");
            assert_eq!(unlimited.end, Some(*end), "end");
        }
        None => {
            assert_eq!(unlimited.end, None, "no terminator");
            // Everything handed out so far is a prefix of any completion's body; at
            // least, nothing was invented.
            assert!(unlimited.body.len() <= wire.len() + wire.len());
        }
    }

    let mut su = Unstructured::new(split_bytes);
    let cut = cuts(&mut su, wire.len(), 24);
    let chunks = pieces(wire, &cut);
    assert_eq!(
        run(base, &chunks, false),
        unlimited,
        "BytesMut, cuts {cut:?}"
    );
    assert_eq!(run(base, &chunks, true), unlimited, "Bytes, cuts {cut:?}");
    assert_eq!(run_slices(base, &chunks), unlimited, "slices, cuts {cut:?}");
    if wire.len() <= 256 {
        let ones: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(run(base, &ones, false), unlimited, "one byte at a time");
    }

    if let Some(limit) = max_body {
        let config = base.with_max_body(Some(limit));
        for as_bytes in [false, true] {
            let limited = run(config, &chunks, as_bytes);
            assert_eq!(run_slices(config, &chunks), limited, "slices, limited");
            assert!(limited.body.len() as u64 <= limit);
            assert!(unlimited.body.starts_with(&limited.body), "a prefix");
            assert_eq!(limited.end, unlimited.end, "same end when limited");
            if unlimited.end.is_some() {
                assert_eq!(
                    limited.too_large,
                    unlimited.body.len() as u64 > limit,
                    "BodyTooLarge exactly when the body is larger"
                );
                if !limited.too_large {
                    assert_eq!(limited.body, unlimited.body);
                }
            } else if limited.too_large {
                assert!(unlimited.body.len() as u64 > limit);
            }
        }
    }
});

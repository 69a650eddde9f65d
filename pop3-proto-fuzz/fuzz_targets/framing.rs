//! The line framer under random splits, against a reference framer.
//!
//! Invariants: for any configuration and any split (random cuts, and one byte at a
//! time for short inputs) the framer gives exactly the reference's lines and errors
//! and holds exactly the reference's unfinished bytes (chunk independence); after
//! every `Ok(None)` it holds fewer than `max_line` octets (memory bound); a line it
//! hands out, with its end, fits in `max_line` and holds no LF; every byte is
//! examined once (`bytes_examined` equals the octets consumed, linear cost).
#![no_main]

use arbitrary::Unstructured;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pop3_proto::framing::{FramingConfig, FramingError, LineEnding, LineFramer};
use pop3_proto_fuzz::{bytewise, cuts, pieces, reference_frame, RefLine};

fn run(config: FramingConfig, chunks: &[&[u8]], input_len: usize) -> (Vec<RefLine>, Vec<u8>) {
    let mut framer = LineFramer::new(config);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut fed = 0usize;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        fed += chunk.len();
        loop {
            match framer.next_line(&mut buf) {
                Ok(Some(line)) => {
                    assert!(!line.bytes.contains(&b'\n'));
                    assert!(line.bytes.len() + line.ending.len() <= config.max_line);
                    if line.ending == LineEnding::Lf {
                        assert!(config.allow_bare_lf);
                    }
                    items.push(RefLine::Line(
                        line.bytes.to_vec(),
                        line.ending == LineEnding::CrLf,
                    ));
                }
                Ok(None) => break,
                Err(FramingError::LineTooLong { limit, skipped }) => {
                    assert_eq!(limit, config.max_line);
                    items.push(RefLine::TooLong(skipped));
                }
                Err(FramingError::BareLf { skipped }) => items.push(RefLine::BareLf(skipped)),
            }
        }
        assert!(
            buf.len() < config.max_line.max(1),
            "holds {} octets, limit {}",
            buf.len(),
            config.max_line
        );
        // Linear: nothing examined twice; what is held was not consumed.
        assert!(framer.bytes_examined() <= fed as u64);
    }
    assert_eq!(fed, input_len);
    (items, buf.to_vec())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let max_line: usize = match u.int_in_range(0u8..=5).unwrap_or(0) {
        0 => 255,
        1 => 512,
        2 => 0,
        3 => 1,
        4 => 2,
        _ => u.int_in_range(3usize..=64).unwrap_or(8),
    };
    let allow_bare_lf = u.arbitrary::<bool>().unwrap_or(false);
    let config = FramingConfig::default()
        .with_max_line(max_line)
        .with_allow_bare_lf(allow_bare_lf);
    let split_len = u.int_in_range(0usize..=64).unwrap_or(0);
    let split_bytes = u.bytes(split_len).unwrap_or_default();
    let input = u.take_rest();

    let (want_items, want_rest) = reference_frame(input, max_line, allow_bare_lf);
    let whole = run(config, &[input], input.len());
    assert_eq!(whole.0, want_items, "whole input");
    assert_eq!(whole.1, want_rest, "held bytes, whole input");

    let mut su = Unstructured::new(split_bytes);
    let cut = cuts(&mut su, input.len(), 16);
    let split = run(config, &pieces(input, &cut), input.len());
    assert_eq!(split, whole, "cuts {cut:?}");

    if input.len() <= 512 {
        let ones = run(config, &bytewise(input), input.len());
        assert_eq!(ones, whole, "one byte at a time");
    }
});

//! Framing limits and linear cost (RFC 1939 §3, RFC 2449 §4, E-14): bounded memory, and
//! no byte searched twice whatever the split.
//!
//! The required test: 100 MiB without a line end, fed in 1-byte and in 64 KiB chunks.
//! The buffer never holds more than the limit plus one chunk, and the number of bytes
//! the framer examined equals the number of bytes fed (counted, not timed).

use bytes::BytesMut;
use pop3_proto::framing::{FramingConfig, FramingError, LineEnding, LineFramer};
use proptest::prelude::*;

const HUNDRED_MIB: usize = 100 * 1024 * 1024;

fn feed_without_line_end(config: FramingConfig, chunk: usize) {
    let data = vec![b'x'; chunk];
    let mut framer = LineFramer::new(config);
    let mut buf = BytesMut::with_capacity(config.max_line + chunk);
    let mut fed = 0usize;
    let mut max_held = 0usize;
    while fed < HUNDRED_MIB {
        buf.extend_from_slice(&data);
        fed += chunk;
        max_held = max_held.max(buf.len());
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        assert!(buf.len() <= config.max_line + chunk);
    }
    assert!(max_held <= config.max_line + chunk, "held {max_held}");
    assert!(framer.is_discarding());
    assert_eq!(
        framer.bytes_examined(),
        fed as u64,
        "linear: each byte examined once"
    );
    // The line end finally arrives: one error, then normal lines again (E-14 resync).
    buf.extend_from_slice(b"\r\nNOOP\r\n");
    assert_eq!(
        framer.next_line(&mut buf),
        Err(FramingError::LineTooLong {
            limit: config.max_line,
            skipped: fed + 2
        })
    );
    let line = framer.next_line(&mut buf).unwrap().unwrap();
    assert_eq!(&line.bytes[..], b"NOOP");
    assert_eq!(line.ending, LineEnding::CrLf);
    assert_eq!(framer.bytes_examined(), fed as u64 + 8);
}

#[test]
fn e14_100_mib_without_line_end_1_byte_chunks() {
    feed_without_line_end(FramingConfig::COMMAND, 1);
}

#[test]
fn e14_100_mib_without_line_end_64_kib_chunks() {
    feed_without_line_end(FramingConfig::COMMAND, 64 * 1024);
    feed_without_line_end(FramingConfig::SASL, 64 * 1024);
}

/// A line just under the limit, fed one byte at a time, is searched once in total (the
/// remembered search offset), not once per call (which would be quadratic).
#[test]
fn incomplete_line_searched_once_per_byte() {
    let config = FramingConfig::SASL;
    let mut framer = LineFramer::new(config);
    let mut buf = BytesMut::new();
    let len = config.max_line - 2;
    for _ in 0..len {
        buf.extend_from_slice(b"y");
        assert_eq!(framer.next_line(&mut buf), Ok(None));
    }
    assert_eq!(framer.bytes_examined(), len as u64);
    buf.extend_from_slice(b"\r\n");
    let line = framer.next_line(&mut buf).unwrap().unwrap();
    assert_eq!(line.bytes.len(), len);
    assert_eq!(framer.bytes_examined(), len as u64 + 2);
}

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Line(Vec<u8>, LineEnding),
    Err(FramingError),
}

fn frame_all(config: FramingConfig, input: &[u8], cuts: &[usize]) -> (Vec<Item>, Vec<u8>, u64) {
    let mut framer = LineFramer::new(config);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(prev, input.len());
        buf.extend_from_slice(&input[prev..cut]);
        prev = cut;
        loop {
            match framer.next_line(&mut buf) {
                Ok(Some(l)) => items.push(Item::Line(l.bytes.to_vec(), l.ending)),
                Ok(None) => break,
                Err(e) => items.push(Item::Err(e)),
            }
        }
        assert!(buf.len() < config.max_line);
    }
    (items, buf.to_vec(), framer.bytes_examined())
}

/// A simple reference framer: the first LF ends the line; long lines and bare LF are
/// errors.
fn reference(config: FramingConfig, input: &[u8]) -> (Vec<Item>, Vec<u8>) {
    let mut items = Vec::new();
    let mut rest = input;
    while let Some(lf) = rest.iter().position(|&b| b == b'\n') {
        let (line, after) = rest.split_at(lf + 1);
        rest = after;
        let total = line.len();
        if total > config.max_line {
            items.push(Item::Err(FramingError::LineTooLong {
                limit: config.max_line,
                skipped: total,
            }));
        } else if line.len() >= 2 && line[line.len() - 2] == b'\r' {
            items.push(Item::Line(line[..total - 2].to_vec(), LineEnding::CrLf));
        } else if config.allow_bare_lf {
            items.push(Item::Line(line[..total - 1].to_vec(), LineEnding::Lf));
        } else {
            items.push(Item::Err(FramingError::BareLf { skipped: total }));
        }
    }
    // An incomplete tail longer than the limit is already being dropped.
    let tail = if rest.len() >= config.max_line {
        Vec::new()
    } else {
        rest.to_vec()
    };
    (items, tail)
}

fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            4 => Just(b'\r'),
            4 => Just(b'\n'),
            3 => Just(b'a'),
            1 => any::<u8>(),
        ],
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// E-4: the framer yields identical results for every split, and matches the
    /// reference framer.
    #[test]
    fn e4_random_splits_match_reference(
        input in input_strategy(),
        mut cuts in proptest::collection::vec(0usize..200, 0..12),
        max_line in 1usize..40,
        lenient in any::<bool>(),
    ) {
        let config = FramingConfig::default().with_max_line(max_line).with_allow_bare_lf(lenient);
        cuts.sort_unstable();
        let (want_items, want_rest) = reference(config, &input);
        let (items, rest, examined) = frame_all(config, &input, &cuts);
        prop_assert_eq!(&items, &want_items);
        prop_assert_eq!(&rest, &want_rest);
        prop_assert_eq!(examined, input.len() as u64);
        let ones: Vec<usize> = (1..input.len()).collect();
        let (items1, rest1, examined1) = frame_all(config, &input, &ones);
        prop_assert_eq!(&items1, &want_items);
        prop_assert_eq!(&rest1, &want_rest);
        prop_assert_eq!(examined1, examined);
    }
}

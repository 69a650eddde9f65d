//! Inputs and baselines shared by the benchmarks.
//!
//! Every benchmark group measures our code beside its baselines in the same run, so a
//! figure is a ratio, not an absolute time:
//! * the limit: [`memmem_scan`], a `memchr::memmem` search for `"\n."` over the same
//!   buffer (nothing can un-stuff faster than finding the dots), and [`plain_copy`];
//! * [`naive_unstuff`], a byte-at-a-time un-stuffer (what most POP3 clients do);
//! * the published peers that parse multi-line replies: [`peer_pop3_codec`] and
//!   [`peer_rfc1939`].
//!
//! Sizes: `POP3_BENCH_MAX=<bytes>` caps every input size (for a quick smoke run);
//! `POP3_BENCH_FULL=1` adds the 256 MiB point to the scaling group.

use bytes::Bytes;
use pop3_proto::dot::{BodyDecoder, BodyPiece, SlicePiece};

/// 1 KiB.
pub const KIB: usize = 1024;
/// 1 MiB.
pub const MIB: usize = 1024 * 1024;

/// The default input size of the main groups (the issue asks for 64 MiB inputs).
pub const DEFAULT_SIZE: usize = 64 * MIB;

/// The largest input size allowed by `POP3_BENCH_MAX` (bytes; `k`/`m` suffixes accepted),
/// or `usize::MAX`.
pub fn max_size() -> usize {
    std::env::var("POP3_BENCH_MAX")
        .ok()
        .and_then(|v| parse_size(&v))
        .unwrap_or(usize::MAX)
}

fn parse_size(v: &str) -> Option<usize> {
    let v = v.trim().to_ascii_lowercase();
    let (digits, mult) = if let Some(d) = v.strip_suffix('m') {
        (d, MIB)
    } else if let Some(d) = v.strip_suffix('k') {
        (d, KIB)
    } else {
        (v.as_str(), 1)
    };
    digits.parse::<usize>().ok().map(|n| n.saturating_mul(mult))
}

/// `true` when `POP3_BENCH_FULL=1`: include the 256 MiB sizes.
pub fn full() -> bool {
    std::env::var("POP3_BENCH_FULL").is_ok_and(|v| v == "1")
}

/// `size` capped by [`max_size`].
pub fn capped(size: usize) -> usize {
    size.min(max_size())
}

/// A small deterministic generator (xorshift), so inputs are the same in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Printable text for a line of `len` octets.
fn text(rng: &mut Rng, out: &mut Vec<u8>, len: usize) {
    const WORDS: &[&[u8]] = &[
        b"the ",
        b"message ",
        b"body ",
        b"of ",
        b"a ",
        b"typical ",
        b"mail, ",
        b"with ",
        b"words ",
        b"and ",
        b"numbers 42 ",
        b"quoted> ",
        b"text ",
    ];
    let start = out.len();
    while out.len() - start < len {
        let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        out.extend_from_slice(w);
    }
    out.truncate(start + len);
}

/// The kinds of input the benchmarks measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Typical mail: 76-octet lines, about 1 in 200 starting with `.`.
    Typical,
    /// Every line starts with `.`.
    DotDense,
    /// Typical mail with bare LF line ends (the lenient decoder).
    BareLf,
    /// One huge line.
    HugeLine,
}

impl Kind {
    /// A short name for benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Typical => "typical",
            Kind::DotDense => "dot-dense",
            Kind::BareLf => "bare-lf",
            Kind::HugeLine => "huge-line",
        }
    }

    /// `true` for inputs only the lenient decoder reads correctly.
    pub fn lenient(self) -> bool {
        self == Kind::BareLf
    }
}

/// A message (unstuffed content) of about `size` octets.
pub fn message(kind: Kind, size: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(size + 128);
    if kind == Kind::HugeLine {
        text(&mut rng, &mut out, size.saturating_sub(2));
        out.extend_from_slice(b"\r\n");
        return out;
    }
    let eol: &[u8] = if kind == Kind::BareLf { b"\n" } else { b"\r\n" };
    let mut n = 0u64;
    while out.len() < size {
        let dot = match kind {
            Kind::DotDense => true,
            _ => rng.next() % 200 == 0,
        };
        n += 1;
        if dot {
            out.push(b'.');
            text(&mut rng, &mut out, 75);
        } else if n % 50 == 0 {
            // Some short and empty lines, as in real mail.
            let len = (rng.next() % 20) as usize;
            text(&mut rng, &mut out, len);
        } else {
            text(&mut rng, &mut out, 76);
        }
        out.extend_from_slice(eol);
    }
    out
}

/// The wire form of a multi-line body: `message` stuffed and terminated. Bare-LF inputs
/// are stuffed after every LF and end with `.\n`, as a lenient server would send them.
pub fn wire(kind: Kind, size: usize) -> Vec<u8> {
    let m = message(kind, size);
    if kind.lenient() {
        let mut out = Vec::with_capacity(m.len() + m.len() / 64 + 8);
        let mut line_start = true;
        for &b in &m {
            if line_start && b == b'.' {
                out.push(b'.');
            }
            out.push(b);
            line_start = b == b'\n';
        }
        out.extend_from_slice(b".\n");
        out
    } else {
        pop3_proto::dot::stuff(&Bytes::from(m), Default::default()).concat()
    }
}

/// The limit baseline: counts the `"\n."` places with a prepared `memmem` searcher.
pub fn memmem_scan(finder: &memchr::memmem::Finder<'_>, wire: &[u8]) -> usize {
    finder.find_iter(wire).count()
}

/// The copy baseline: `wire` appended to a pre-allocated vector.
pub fn plain_copy(wire: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    out.extend_from_slice(wire);
    out.len()
}

/// The naive baseline: a byte-at-a-time un-stuffer writing the body into `out` (the
/// shape of most hand-written POP3 clients). Strict or lenient line ends. Returns the
/// number of wire octets consumed through the terminator.
pub fn naive_unstuff(wire: &[u8], lenient: bool, out: &mut Vec<u8>) -> usize {
    #[derive(PartialEq)]
    enum S {
        LineStart,
        Mid,
        Cr,
        Dot,
        DotCr,
    }
    out.clear();
    let mut s = S::LineStart;
    for (i, &b) in wire.iter().enumerate() {
        s = match (s, b) {
            (S::LineStart, b'.') => S::Dot,
            (S::Dot, b'\r') => S::DotCr,
            (S::Dot, b'\n') if lenient => return i + 1,
            (S::DotCr, b'\n') => return i + 1,
            (S::DotCr, _) => {
                out.push(b'\r');
                out.push(b);
                if b == b'\r' {
                    S::Cr
                } else {
                    S::Mid
                }
            }
            (S::Cr, b'\n') => {
                out.push(b);
                S::LineStart
            }
            (_, b'\n') if lenient => {
                out.push(b);
                S::LineStart
            }
            (_, b'\r') => {
                out.push(b);
                S::Cr
            }
            (_, _) => {
                out.push(b);
                S::Mid
            }
        };
    }
    wire.len()
}

/// Our decoder over `Bytes` chunks of `chunk` octets (`usize::MAX`: the whole input):
/// zero-copy slices of the input, as an IO layer handing out `Bytes` would give.
/// Returns the body length.
pub fn decode_chunks(decoder: &mut BodyDecoder, wire: &Bytes, chunk: usize) -> u64 {
    decoder.reset();
    let mut body = 0u64;
    let mut at = 0;
    while at < wire.len() {
        let end = at.saturating_add(chunk).min(wire.len());
        let mut part = wire.slice(at..end);
        at = end;
        loop {
            match decoder.decode_bytes(&mut part) {
                Ok(BodyPiece::Data(d)) => body += d.len() as u64,
                Ok(BodyPiece::NeedMore) => break,
                Ok(BodyPiece::End) => return body,
                Err(_) => return u64::MAX,
            }
        }
    }
    body
}

/// Our decoder over borrowed chunks of `chunk` octets ([`BodyDecoder::decode_slice`]):
/// the pieces are sub-slices of the input, with no reference counting. Returns the body
/// length.
pub fn decode_slices(decoder: &mut BodyDecoder, wire: &[u8], chunk: usize) -> u64 {
    decoder.reset();
    let mut body = 0u64;
    for mut part in wire.chunks(chunk.max(1)) {
        loop {
            match decoder.decode_slice(&mut part) {
                Ok(SlicePiece::Data(d)) => body += d.len() as u64,
                Ok(SlicePiece::NeedMore) => break,
                Ok(SlicePiece::End) => return body,
                Err(_) => return u64::MAX,
            }
        }
    }
    body
}

/// Our decoder the way the state machines drive it: each chunk appended to a `BytesMut`
/// receive buffer (a copy, as a socket read would make), then decoded from its front.
pub fn decode_bytesmut(
    decoder: &mut BodyDecoder,
    wire: &[u8],
    chunk: usize,
    buf: &mut bytes::BytesMut,
) -> u64 {
    decoder.reset();
    buf.clear();
    let mut body = 0u64;
    for part in wire.chunks(chunk.max(1)) {
        buf.reserve(part.len());
        buf.extend_from_slice(part);
        loop {
            match decoder.decode(buf) {
                Ok(BodyPiece::Data(d)) => body += d.len() as u64,
                Ok(BodyPiece::NeedMore) => break,
                Ok(BodyPiece::End) => return body,
                Err(_) => return u64::MAX,
            }
        }
    }
    body
}

/// The status line prepended for the peers, which parse whole responses.
pub const STATUS: &[u8] = b"+OK message follows\r\n";

/// `+OK ...\r\n` followed by `wire`, for the peers.
pub fn response(wire: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(STATUS.len() + wire.len());
    r.extend_from_slice(STATUS);
    r.extend_from_slice(wire);
    r
}

/// Peer `pop3-codec` 0.3: `parse::response_retr`, a nom parser of a whole RETR response
/// into one `String` per line (UTF-8 checked). It does not un-stuff (`..x` stays `..x`)
/// and it is not streaming: it needs the whole response in one slice. Returns the sum of
/// the line lengths, or 0 on a parse failure.
pub fn peer_pop3_codec(response: &[u8]) -> usize {
    use pop3_codec::types::Response;
    match pop3_codec::parse::response_retr(response) {
        Ok((_, Response::Ok(ml))) => ml.body.iter().map(|l| l.len()).sum(),
        _ => 0,
    }
}

/// Peer `rfc1939` 1.0: `transaction::response::retr`, which finds the terminator with
/// nom's `take_until("\r\n.\r\n")` (a memchr for `\r` on every line) and returns the
/// stuffed body as one slice: it does not un-stuff either, and is not streaming. It
/// cannot read an empty body (`+OK\r\n.\r\n`) or bare-LF input. Returns the body length.
pub fn peer_rfc1939(response: &[u8]) -> usize {
    rfc1939::transaction::response::retr(response)
        .and_then(|r| r.message)
        .map_or(0, <[u8]>::len)
}

/// Peer `rfc1939` fed the way a socket delivers a response: after each read of `chunk`
/// octets it parses everything received so far again, until it returns the body. Its
/// API offers nothing else: it keeps no state between calls, and on a partial body it
/// returns a reply without a message (it cannot tell "incomplete" from "no body"), so a
/// caller can only retry from the start. Returns the body length.
pub fn peer_rfc1939_streamed(response: &[u8], chunk: usize, received: &mut Vec<u8>) -> usize {
    received.clear();
    for part in response.chunks(chunk.max(1)) {
        received.extend_from_slice(part);
        if let Some(body) = rfc1939::transaction::response::retr(received).and_then(|r| r.message) {
            return body.len();
        }
    }
    0
}

/// Peer `pop3-codec` fed the way a socket delivers a response: its nom parsers are
/// streaming (they say `Incomplete`) but cannot resume, so after each read of `chunk`
/// octets everything received so far is parsed again, until a whole response comes
/// back. Returns the sum of the line lengths, as [`peer_pop3_codec`].
pub fn peer_pop3_codec_streamed(response: &[u8], chunk: usize, received: &mut Vec<u8>) -> usize {
    use pop3_codec::types::Response;
    received.clear();
    for part in response.chunks(chunk.max(1)) {
        received.extend_from_slice(part);
        if let Ok((_, reply)) = pop3_codec::parse::response_retr(received) {
            return match reply {
                Response::Ok(ml) => ml.body.iter().map(|l| l.len()).sum(),
                Response::Err(_) => 0,
            };
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use pop3_proto::dot::DecoderConfig;

    #[test]
    fn inputs_decode_and_baselines_agree() {
        for kind in [Kind::Typical, Kind::DotDense, Kind::BareLf, Kind::HugeLine] {
            let config = if kind.lenient() {
                DecoderConfig::LENIENT
            } else {
                DecoderConfig::STRICT
            };
            let w = wire(kind, 64 * KIB);
            let mut naive = Vec::new();
            assert_eq!(naive_unstuff(&w, kind.lenient(), &mut naive), w.len());
            let bytes = Bytes::from(w.clone());
            let mut decoder = BodyDecoder::new(config);
            for chunk in [1, 1000, KIB, 64 * KIB, usize::MAX] {
                assert_eq!(
                    decode_chunks(&mut decoder, &bytes, chunk),
                    naive.len() as u64,
                    "{kind:?} {chunk}"
                );
                let mut buf = bytes::BytesMut::new();
                assert_eq!(
                    decode_bytesmut(&mut decoder, &w, chunk, &mut buf),
                    naive.len() as u64
                );
                assert_eq!(decode_slices(&mut decoder, &w, chunk), naive.len() as u64);
            }
            assert_eq!(naive, message(kind, 64 * KIB));
            if !kind.lenient() {
                let r = response(&w);
                assert!(peer_pop3_codec(&r) > 0, "{kind:?}");
                assert_eq!(peer_rfc1939(&r), w.len() - 5, "{kind:?}");
                let mut received = Vec::new();
                for chunk in [KIB, 16 * KIB] {
                    assert_eq!(
                        peer_pop3_codec_streamed(&r, chunk, &mut received),
                        peer_pop3_codec(&r)
                    );
                    assert_eq!(
                        peer_rfc1939_streamed(&r, chunk, &mut received),
                        peer_rfc1939(&r)
                    );
                }
            }
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Some(64 * MIB));
        assert_eq!(parse_size("1k"), Some(KIB));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
    }
}

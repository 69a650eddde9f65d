//! Line framing: finding line ends in the receive buffer with `memchr`, enforcing
//! line-length limits and resynchronising after an over-long line.
//!
//! The state machines own one [`BytesMut`] receive buffer into which socket bytes are
//! appended. A [`LineFramer`] takes complete lines from the front of that buffer as
//! zero-copy [`Bytes`] slices. It remembers how far it has already searched, so no byte
//! is examined twice however the input is split.
//!
//! Limits (RFC 1939 §3, RFC 2449 §4, E-14): a line, *counting its line end*, may be at most
//! [`FramingConfig::max_line`] octets. The bytes of a longer line are dropped from the
//! buffer as soon as the limit is passed, so memory never holds more than about
//! `max_line` octets of a bad line; when its line end finally arrives the framer reports
//! [`FramingError::LineTooLong`] once and carries on with the next line.
//!
//! Line ends (E-5): in strict mode only CRLF ends a line; a LF not preceded by CR ends
//! the line with [`FramingError::BareLf`] (the line is dropped). In lenient mode a bare
//! LF is a line end too. A lone CR is never a line end: it is part of the content.
//!
//! ```
//! use bytes::BytesMut;
//! use pop3_proto::framing::{FramingConfig, LineEnding, LineFramer};
//!
//! let mut framer = LineFramer::new(FramingConfig::COMMAND);
//! let mut buf = BytesMut::from(&b"STAT\r\nLI"[..]);
//! let line = framer.next_line(&mut buf).unwrap().unwrap();
//! assert_eq!(&line.bytes[..], b"STAT");
//! assert_eq!(line.ending, LineEnding::CrLf);
//! assert!(framer.next_line(&mut buf).unwrap().is_none()); // "LI" is incomplete
//! buf.extend_from_slice(b"ST\r\n");
//! assert_eq!(&framer.next_line(&mut buf).unwrap().unwrap().bytes[..], b"LIST");
//! ```

use bytes::{Buf, Bytes, BytesMut};

use crate::setters::setters;

/// How a framed line ended on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\r\n`, the only line end the RFCs allow.
    CrLf,
    /// A bare `\n`, accepted only with [`FramingConfig::allow_bare_lf`] (E-5, IMPL-18).
    Lf,
}

impl LineEnding {
    /// The octets of this line end.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
        }
    }

    /// The number of octets of this line end (2 or 1).
    pub const fn len(self) -> usize {
        match self {
            LineEnding::CrLf => 2,
            LineEnding::Lf => 1,
        }
    }

    /// Always `false`: a line end has at least one octet. Present for API symmetry.
    pub const fn is_empty(self) -> bool {
        false
    }
}

/// One complete line taken from the front of the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's content without its line end: a zero-copy slice of the input buffer.
    pub bytes: Bytes,
    /// How the line ended.
    pub ending: LineEnding,
}

/// Line-length limit and line-end leniency of a [`LineFramer`].
///
/// Start from a constant ([`COMMAND`](Self::COMMAND), [`STATUS`](Self::STATUS),
/// [`CLIENT_DEFAULT`](Self::CLIENT_DEFAULT), [`SASL`](Self::SASL)) or `default()` and
/// change it with the `with_*` setters: the struct is `#[non_exhaustive]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FramingConfig {
    /// The longest accepted line in octets, *including* its line end.
    pub max_line: usize,
    /// Accept a bare `\n` as a line end (lenient mode, E-5). When `false`, a bare LF
    /// ends the line with [`FramingError::BareLf`].
    pub allow_bare_lf: bool,
}

impl FramingConfig {
    /// Commands received by a server: 255 octets including CRLF (R2449-1), strict.
    pub const COMMAND: Self = Self {
        max_line: 255,
        allow_bare_lf: false,
    };
    /// Response status lines as the RFC bounds them: 512 octets including CRLF
    /// (R1939-9, R2449-3), strict.
    pub const STATUS: Self = Self {
        max_line: 512,
        allow_bare_lf: false,
    };
    /// What a client should accept for status and capability lines: 8 KiB, well above
    /// 512, because real servers exceed it (E-14, IMPL-21), strict.
    pub const CLIENT_DEFAULT: Self = Self {
        max_line: 8 * 1024,
        allow_bare_lf: false,
    };
    /// SASL challenge and response lines, which must not be limited to 512 octets
    /// (R5034-11): 64 KiB, strict.
    pub const SASL: Self = Self {
        max_line: 64 * 1024,
        allow_bare_lf: false,
    };
}

setters!(FramingConfig {
    /// Sets [`FramingConfig::max_line`], the longest accepted line with its line end.
    ///
    /// ```
    /// use pop3_proto::framing::FramingConfig;
    /// let lenient = FramingConfig::CLIENT_DEFAULT.with_allow_bare_lf(true);
    /// assert!(lenient.allow_bare_lf);
    /// assert_eq!(lenient.with_max_line(100).max_line, 100);
    /// ```
    with_max_line => max_line: usize,
    /// Sets [`FramingConfig::allow_bare_lf`] (lenient line ends, E-5).
    with_allow_bare_lf => allow_bare_lf: bool,
});

impl Default for FramingConfig {
    /// [`FramingConfig::CLIENT_DEFAULT`].
    fn default() -> Self {
        Self::CLIENT_DEFAULT
    }
}

/// A line that could not be framed. The offending bytes have been removed from the
/// buffer; the next call to [`LineFramer::next_line`] continues after them.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// The line, with its line end, was longer than `limit` octets. `skipped` is the
    /// number of octets of that line dropped, line end included (E-14: answer `-ERR`
    /// and resynchronise at the next line).
    #[error("line longer than {limit} octets ({skipped} octets skipped)")]
    LineTooLong {
        /// The configured [`FramingConfig::max_line`].
        limit: usize,
        /// Octets dropped, line end included.
        skipped: usize,
    },
    /// In strict mode, the line ended with a LF not preceded by CR (E-5). `skipped` is
    /// the number of octets dropped, the LF included.
    #[error("line ended by a bare LF ({skipped} octets skipped)")]
    BareLf {
        /// Octets dropped, the LF included.
        skipped: usize,
    },
}

/// Takes complete lines from the front of a receive buffer (see the [module
/// docs](self)).
///
/// The framer keeps a search offset into the buffer so that no byte is searched
/// twice, and keeps it right by itself: the offset is dropped whenever a line (or a bad
/// line) is taken, and whenever the buffer is handed back shorter than the framer left
/// it, which is what taking bytes from its front (the body decoder, a TLS switch
/// emptying it) looks like. Appending at the back is what it expects between calls.
#[derive(Clone, Debug)]
pub struct LineFramer {
    config: FramingConfig,
    /// The first `searched` bytes of the buffer are known to hold no usable line end.
    searched: usize,
    /// Dropping the rest of an over-long line.
    discarding: bool,
    /// Octets of the over-long line dropped so far.
    skipped: usize,
    /// The buffer's length when the last call returned: a shorter buffer on the next
    /// call means bytes were taken from it, so `searched` no longer holds.
    held: usize,
    examined: u64,
}

impl LineFramer {
    /// A framer with the given limits.
    pub fn new(config: FramingConfig) -> Self {
        Self {
            config,
            searched: 0,
            discarding: false,
            skipped: 0,
            held: 0,
            examined: 0,
        }
    }

    /// The current configuration.
    pub fn config(&self) -> FramingConfig {
        self.config
    }

    /// Changes the configuration, for example to a larger limit during an AUTH
    /// exchange. Takes effect for the line being framed.
    pub fn set_config(&mut self, config: FramingConfig) {
        self.config = config;
    }

    /// Forgets the remembered search position.
    ///
    /// Not needed after taking bytes from the buffer's front: the framer sees that the
    /// buffer is shorter than it left it and searches afresh (see the type's docs).
    /// Calling it is harmless (the next search starts at the buffer's front). The
    /// one change a framer cannot see is bytes taken from the front *and* as many or
    /// more appended with no call in between; a caller that does that calls this.
    pub fn reset(&mut self) {
        self.searched = 0;
    }

    /// `true` while the rest of an over-long line is being dropped.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Total octets examined by line-end searches so far. It grows by the number of
    /// bytes fed, whatever the split: no byte is searched twice.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Takes the next complete line from the front of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds no complete line yet (append more input and
    /// call again). On `Err`, the bad line has been removed from `buf` and the next call
    /// continues after it. While an over-long line is being dropped, `buf` is emptied on
    /// every call.
    pub fn next_line(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, FramingError> {
        if buf.len() < self.held {
            // Bytes left the buffer since the last call: what was searched may be gone.
            self.searched = 0;
        }
        let result = self.frame(buf);
        self.held = buf.len();
        result
    }

    fn frame(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, FramingError> {
        loop {
            if self.discarding {
                self.discard(buf)?;
                return Ok(None);
            }
            let max = self.config.max_line;
            let end = buf.len().min(max);
            let start = self.searched.min(end);
            let window = buf.get(start..end).unwrap_or_default();
            match find_lf(window) {
                Some(k) => {
                    let lf = start + k;
                    self.examined += (k + 1) as u64;
                    self.searched = 0;
                    let cr = lf
                        .checked_sub(1)
                        .and_then(|p| buf.get(p))
                        .is_some_and(|&b| b == b'\r');
                    let (content_len, ending) = if cr {
                        (lf - 1, LineEnding::CrLf)
                    } else if self.config.allow_bare_lf {
                        (lf, LineEnding::Lf)
                    } else {
                        buf.advance(lf + 1);
                        return Err(FramingError::BareLf { skipped: lf + 1 });
                    };
                    let mut line = buf.split_to(lf + 1);
                    line.truncate(content_len);
                    return Ok(Some(Line {
                        bytes: line.freeze(),
                        ending,
                    }));
                }
                None => {
                    self.examined += window.len() as u64;
                    self.searched = end;
                    if end < max || buf.is_empty() {
                        return Ok(None);
                    }
                    // `max` octets and still no line end: the line (with its end) is
                    // longer than allowed. Drop what we hold and discard until the LF.
                    buf.advance(end);
                    self.searched = 0;
                    self.skipped = end;
                    self.discarding = true;
                }
            }
        }
    }

    /// Drops bytes of an over-long line: `Ok(())` when more input is needed, the error
    /// once the line end arrived (and was dropped too).
    fn discard(&mut self, buf: &mut BytesMut) -> Result<(), FramingError> {
        match find_lf(buf) {
            Some(lf) => {
                self.examined += (lf + 1) as u64;
                buf.advance(lf + 1);
                let skipped = self.skipped.saturating_add(lf + 1);
                self.skipped = 0;
                self.discarding = false;
                self.searched = 0;
                Err(FramingError::LineTooLong {
                    limit: self.config.max_line,
                    skipped,
                })
            }
            None => {
                self.examined += buf.len() as u64;
                self.skipped = self.skipped.saturating_add(buf.len());
                buf.clear();
                self.searched = 0;
                Ok(())
            }
        }
    }
}

/// The first LF in `hay`. Tiny haystacks (input arriving a few bytes at a time) are
/// searched with a plain loop, which costs less than setting up `memchr`.
#[inline]
fn find_lf(hay: &[u8]) -> Option<usize> {
    if hay.len() < 8 {
        hay.iter().position(|&b| b == b'\n')
    } else {
        memchr::memchr(b'\n', hay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// What one call gave, in a comparable form.
    #[derive(Debug, PartialEq, Eq, Clone)]
    enum Item {
        Line(Vec<u8>, LineEnding),
        Err(FramingError),
    }

    /// Feeds `input` split at `splits` (sorted positions) and collects every result.
    fn run(config: FramingConfig, input: &[u8], splits: &[usize]) -> (Vec<Item>, Vec<u8>, u64) {
        let mut framer = LineFramer::new(config);
        let mut buf = BytesMut::new();
        let mut items = Vec::new();
        let mut prev = 0;
        for &cut in splits.iter().chain(core::iter::once(&input.len())) {
            buf.extend_from_slice(&input[prev..cut]);
            prev = cut;
            loop {
                match framer.next_line(&mut buf) {
                    Ok(Some(line)) => items.push(Item::Line(line.bytes.to_vec(), line.ending)),
                    Ok(None) => break,
                    Err(e) => items.push(Item::Err(e)),
                }
            }
            // Memory bound: after `Ok(None)` less than one line limit is held.
            assert!(buf.len() < config.max_line.max(1));
        }
        (items, buf.to_vec(), framer.bytes_examined())
    }

    fn line(s: &[u8]) -> Item {
        Item::Line(s.to_vec(), LineEnding::CrLf)
    }

    #[test]
    fn simple_lines_and_partial() {
        let (items, rest, examined) = run(FramingConfig::COMMAND, b"USER a\r\nPASS b\r\nQU", &[]);
        assert_eq!(items, vec![line(b"USER a"), line(b"PASS b")]);
        assert_eq!(rest, b"QU");
        assert_eq!(examined, 18);
    }

    #[test]
    fn lone_cr_is_content() {
        let (items, _, _) = run(FramingConfig::COMMAND, b"a\rb\r\r\n", &[]);
        assert_eq!(items, vec![line(b"a\rb\r")]);
    }

    #[test]
    fn cr_at_end_of_chunk_then_lf() {
        for split in 0..=4 {
            let (items, rest, _) = run(FramingConfig::COMMAND, b"ab\r\n", &[split]);
            assert_eq!(items, vec![line(b"ab")], "split {split}");
            assert!(rest.is_empty());
        }
    }

    /// E-5: a bare LF is an error in strict mode and a line end in lenient mode.
    #[test]
    fn e5_bare_lf_strict_vs_lenient() {
        let input = b"one\ntwo\r\nthree\n";
        let (items, _, _) = run(FramingConfig::COMMAND, input, &[]);
        assert_eq!(
            items,
            vec![
                Item::Err(FramingError::BareLf { skipped: 4 }),
                line(b"two"),
                Item::Err(FramingError::BareLf { skipped: 6 }),
            ]
        );
        let (items, _, _) = run(FramingConfig::COMMAND.with_allow_bare_lf(true), input, &[]);
        assert_eq!(
            items,
            vec![
                Item::Line(b"one".to_vec(), LineEnding::Lf),
                line(b"two"),
                Item::Line(b"three".to_vec(), LineEnding::Lf),
            ]
        );
        // An empty line ended by a bare LF.
        let (items, _, _) = run(
            FramingConfig::COMMAND.with_allow_bare_lf(true),
            b"\n\r\n",
            &[],
        );
        assert_eq!(
            items,
            vec![Item::Line(Vec::new(), LineEnding::Lf), line(b"")]
        );
    }

    /// R2449-1 / E-14: 255 octets including CRLF are accepted, 256 are not.
    #[test]
    fn e14_command_limit_boundary() {
        for total in [253usize, 254, 255, 256, 257, 600] {
            let mut input = vec![b'x'; total - 2];
            input.extend_from_slice(b"\r\nNOOP\r\n");
            for splits in [
                vec![],
                vec![total - 2],
                vec![total - 1],
                vec![255],
                vec![254],
            ] {
                let splits: Vec<usize> = splits.into_iter().filter(|&s| s <= input.len()).collect();
                let (items, rest, examined) = run(FramingConfig::COMMAND, &input, &splits);
                assert!(rest.is_empty());
                assert_eq!(examined, input.len() as u64);
                if total <= 255 {
                    assert_eq!(items, vec![line(&input[..total - 2]), line(b"NOOP")]);
                } else {
                    assert_eq!(
                        items,
                        vec![
                            Item::Err(FramingError::LineTooLong {
                                limit: 255,
                                skipped: total
                            }),
                            line(b"NOOP")
                        ],
                        "total {total} splits {splits:?}"
                    );
                }
            }
        }
    }

    /// A CR exactly at the limit whose LF is one octet past it: too long.
    #[test]
    fn crlf_straddling_the_limit() {
        let config = FramingConfig::COMMAND.with_max_line(4);
        let (items, _, _) = run(config, b"abc\r\nok\r\n", &[]);
        assert_eq!(
            items,
            vec![
                Item::Err(FramingError::LineTooLong {
                    limit: 4,
                    skipped: 5
                }),
                line(b"ok")
            ]
        );
        let (items, _, _) = run(config, b"ab\r\nok\r\n", &[3]);
        assert_eq!(items, vec![line(b"ab"), line(b"ok")]);
    }

    /// E-14: after an over-long line the framer resynchronises at the next line, and
    /// while discarding it holds at most one chunk.
    #[test]
    fn e14_resync_after_overlong() {
        let mut framer = LineFramer::new(FramingConfig::COMMAND);
        let mut buf = BytesMut::new();
        let mut total = 0usize;
        for _ in 0..100 {
            buf.extend_from_slice(&[b'z'; 100]);
            total += 100;
            assert_eq!(framer.next_line(&mut buf), Ok(None));
            assert!(buf.len() < 255 + 100);
        }
        assert!(framer.is_discarding());
        buf.extend_from_slice(b"zz\r\nSTAT\r\n");
        assert_eq!(
            framer.next_line(&mut buf),
            Err(FramingError::LineTooLong {
                limit: 255,
                skipped: total + 4
            })
        );
        assert!(!framer.is_discarding());
        let l = framer.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(&l.bytes[..], b"STAT");
        assert_eq!(framer.bytes_examined(), total as u64 + 10);
    }

    /// Bytes taken from the front by someone else (the body decoder) need no reset:
    /// the framer sees the shorter buffer.
    #[test]
    fn foreign_consumption_needs_no_reset() {
        for taken in 1..=6 {
            let mut framer = LineFramer::new(FramingConfig::STATUS);
            let mut buf = BytesMut::from(&b"ab\ncdef"[..]);
            // Lenient framing off: "ab\n" is a bare-LF error; search "cdef".
            assert!(framer.next_line(&mut buf).is_err());
            assert_eq!(framer.next_line(&mut buf), Ok(None));
            buf.advance(taken.min(buf.len()));
            // The body decoder stops at the terminator: a line follows.
            assert_eq!(framer.next_line(&mut buf), Ok(None));
            buf.extend_from_slice(b"\r\n+OK\r\n");
            let l = framer.next_line(&mut buf).unwrap().unwrap();
            assert_eq!(&l.bytes[..], &b"cdef"[taken.min(4)..], "taken {taken}");
            let l = framer.next_line(&mut buf).unwrap().unwrap();
            assert_eq!(&l.bytes[..], b"+OK");
        }
    }

    /// The decisive case: after a search of a partial line, most of it is taken and a
    /// line end arrives before the next call. Without the shrink check the framer
    /// would start past the new LF and miss it.
    #[test]
    fn front_taken_then_line_end_needs_no_reset() {
        let mut framer = LineFramer::new(FramingConfig::STATUS);
        let mut buf = BytesMut::from(&b"xxxxxx"[..]);
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        buf.advance(5);
        buf.extend_from_slice(b"\r\n");
        let l = framer.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(&l.bytes[..], b"x");
        // A buffer emptied and replaced by a shorter one (a TLS switch).
        let mut buf = BytesMut::from(&b"yyyyyyyy"[..]);
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        let mut buf = BytesMut::from(&b"z\r\n"[..]);
        let l = framer.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(&l.bytes[..], b"z");
    }

    #[test]
    fn reset_after_foreign_consumption() {
        let mut framer = LineFramer::new(FramingConfig::STATUS);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        buf.advance(3);
        framer.reset();
        buf.extend_from_slice(b"\r\n");
        let l = framer.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(&l.bytes[..], b"def");
    }

    #[test]
    fn set_config_shrinking_limit_does_not_panic() {
        let mut framer = LineFramer::new(FramingConfig::SASL);
        let mut buf = BytesMut::from(&[b'a'; 1000][..]);
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        framer.set_config(FramingConfig::COMMAND);
        assert_eq!(framer.next_line(&mut buf), Ok(None));
        assert!(framer.is_discarding());
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            framer.next_line(&mut buf),
            Err(FramingError::LineTooLong {
                limit: 255,
                skipped: 1002
            })
        );
    }

    #[test]
    fn zero_limit_does_not_loop() {
        let mut framer = LineFramer::new(FramingConfig::COMMAND.with_max_line(0));
        let mut buf = BytesMut::from(&b"\r\nab\r\n"[..]);
        assert!(framer.next_line(&mut buf).is_err());
        assert!(framer.next_line(&mut buf).is_err());
        assert_eq!(framer.next_line(&mut buf), Ok(None));
    }

    /// E-4: every split (all single cut points and all pairs) of a set of tricky inputs
    /// gives the same results as the whole input, for several configurations.
    #[test]
    fn e4_every_split_small_inputs() {
        let inputs: [&[u8]; 6] = [
            b"a\r\nb\nc\r\r\n\n\r\n",
            b"xxxxxx\r\nyy\r\nzzzzzzzzz\nw\r\n",
            b"\r\r\r\n\n\n\rx\r\n",
            b"abcd\r\nabc\r\nabcde\r\n\r\n",
            b"\n\n\n\r\n\r\r",
            b"aaaaaaaaaaaaaaaa\r\nb",
        ];
        let configs = [
            FramingConfig::COMMAND,
            FramingConfig::COMMAND.with_max_line(5),
            FramingConfig::COMMAND
                .with_max_line(5)
                .with_allow_bare_lf(true),
            FramingConfig::COMMAND.with_max_line(2),
            FramingConfig::COMMAND
                .with_max_line(1)
                .with_allow_bare_lf(true),
        ];
        for config in configs {
            for input in inputs {
                let whole = run(config, input, &[]);
                for a in 0..=input.len() {
                    for b in a..=input.len() {
                        let got = run(config, input, &[a, b]);
                        assert_eq!(got.0, whole.0, "{config:?} {input:?} {a} {b}");
                        assert_eq!(got.1, whole.1, "{config:?} {input:?} {a} {b}");
                    }
                }
                let ones: Vec<usize> = (1..input.len()).collect();
                let got = run(config, input, &ones);
                assert_eq!(got.0, whole.0);
                assert_eq!(got.1, whole.1);
                // Linear: one byte at a time examines no more than the whole input.
                assert!(got.2 <= input.len() as u64);
            }
        }
    }

    /// Exhaustive: every string over {a, \r, \n} up to length 7 in every single split.
    #[test]
    fn e4_exhaustive_alphabet() {
        let alphabet = [b'a', b'\r', b'\n'];
        let configs = [
            FramingConfig::COMMAND.with_max_line(3),
            FramingConfig::COMMAND
                .with_max_line(4)
                .with_allow_bare_lf(true),
        ];
        let mut s = Vec::new();
        for len in 0..=7u32 {
            for mut n in 0..3usize.pow(len) {
                s.clear();
                for _ in 0..len {
                    s.push(alphabet[n % 3]);
                    n /= 3;
                }
                for config in configs {
                    let whole = run(config, &s, &[]);
                    for cut in 0..=s.len() {
                        let got = run(config, &s, &[cut]);
                        assert_eq!(got.0, whole.0, "{config:?} {s:?} {cut}");
                        assert_eq!(got.1, whole.1);
                    }
                }
            }
        }
    }
}

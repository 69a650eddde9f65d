//! Streaming un-stuffing of multi-line response bodies (client side).

use bytes::{Bytes, BytesMut};
use memchr::memmem::Finder;

mod input;

use input::{body_piece, Input, Piece};

use super::lf::find_lf_near;
use super::DotError;
use crate::setters::setters;

/// A `"\n."` found this close to where its search began switches the next search to
/// walking line ends.
const DENSE_DISTANCE: usize = 256;

/// Line ends walked before the search goes back to `memmem`.
const DENSE_PROBES: usize = 4;

/// Options of a [`BodyDecoder`]: one value serves every body (it is `Copy`); each
/// body gets its own decoder, built from it with [`BodyDecoder::new`].
///
/// `#[non_exhaustive]`: start from a constant or `default()` and use the `with_*`
/// setters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// Lenient mode (E-5, IMPL-18): a bare `\n` also ends a line and `.\n` also ends the
    /// body. When `false` (strict, the default) only CRLF ends a line and a bare LF is
    /// ordinary content.
    pub allow_bare_lf: bool,
    /// Lenient mode only: hand out every bare-LF line end as CRLF (TV-9). Ignored in
    /// strict mode, where a bare LF is content and is kept as it is.
    pub lf_to_crlf: bool,
    /// The largest body, in octets after un-stuffing, the decoder hands out. Exceeding it
    /// gives [`DotError::BodyTooLarge`]; see [`BodyDecoder::decode`] for what follows.
    pub max_body: Option<u64>,
}

impl DecoderConfig {
    /// Strict: CRLF line ends only, no conversion, no limit (the default).
    pub const STRICT: Self = Self {
        allow_bare_lf: false,
        lf_to_crlf: false,
        max_body: None,
    };
    /// Lenient: a bare LF is a line end too and `.\n` ends the body; line ends are handed
    /// out as they came.
    pub const LENIENT: Self = Self {
        allow_bare_lf: true,
        lf_to_crlf: false,
        max_body: None,
    };
    /// Lenient, handing out bare-LF line ends as CRLF.
    pub const LENIENT_CRLF: Self = Self {
        allow_bare_lf: true,
        lf_to_crlf: true,
        max_body: None,
    };
}

setters!(DecoderConfig {
    /// Sets [`DecoderConfig::allow_bare_lf`] (lenient line ends, E-5).
    with_allow_bare_lf => allow_bare_lf: bool,
    /// Sets [`DecoderConfig::lf_to_crlf`] (bare LFs handed out as CRLF, TV-9).
    with_lf_to_crlf => lf_to_crlf: bool,
    /// Sets [`DecoderConfig::max_body`], the largest body handed out.
    with_max_body => max_body: Option<u64>,
});

/// One result of [`BodyDecoder::decode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPiece {
    /// The next bytes of the body, un-stuffed. Never empty. A slice of the input (zero
    /// copy), or one of the short static strings `"\r"` / `"\r\n"` when a byte held back
    /// from an earlier chunk turns out to be content, or a bare LF is converted.
    Data(Bytes),
    /// The terminating line (`.` CRLF, or `.` LF in lenient mode) has been consumed: the
    /// body is complete and the buffer starts right after the terminator.
    End,
    /// Everything in the buffer has been consumed; append more input and call again.
    NeedMore,
}

/// One result of [`BodyDecoder::decode_slice`]: [`BodyPiece`] for input held in a plain
/// byte slice, borrowing from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlicePiece<'a> {
    /// The next bytes of the body, un-stuffed. Never empty. A sub-slice of the input, or
    /// one of the short static strings `"\r"` / `"\r\n"` (see [`BodyPiece::Data`]).
    Data(&'a [u8]),
    /// The terminating line has been consumed: the body is complete and the input
    /// starts right after the terminator.
    End,
    /// Everything in the input has been consumed; call again with more.
    NeedMore,
}

/// Where the decoder stands between two bytes of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line (after a line end, or at the start of the body).
    LineStart,
    /// Inside a line; the previous byte was not `\r`.
    Mid,
    /// Inside a line; the previous byte was `\r` (strict mode needs it: `\r\n` may be
    /// split across chunks).
    Cr,
    /// A line started with `.`, which was consumed and held back.
    Dot,
    /// A line started with `.\r`: both consumed, the `\r` held back.
    DotCr,
    /// Lenient conversion: a bare LF was consumed; `\r\n` is to be handed out next.
    PendingCrLf,
    /// The terminator has been consumed.
    Done,
}

/// What one step decided, before any `Bytes` is made: the piece is cut from the buffer
/// only once it is known to be handed out (the size limit and skip mode are checked
/// first), so a piece is built once, straight into the return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Hand out the first `len` bytes of the buffer, then drop `skip` more (a dot).
    Take {
        len: usize,
        skip: usize,
    },
    /// Hand out these static bytes (a held-back `\r`, or `\r\n` for a bare LF).
    Static(&'static [u8]),
    End,
    NeedMore,
}

/// Streaming un-stuffer of one multi-line body (R1939-11, R1939-13).
///
/// Feed it the bytes that follow the status line's CRLF, in chunks of any size; it hands
/// out the body as zero-copy slices of the input. It finds only the places where a line
/// starts with `.` (a `memmem` search for `"\n."`), so it does not walk the lines, and
/// it never examines a byte twice: between chunks it carries a few bits of state, never
/// bytes.
///
/// * A line that is exactly `.` CRLF ends the body and is not part of it.
/// * Any other line starting with `.` loses exactly that first `.` (E-2: `..` gives
///   `.`, `.x` gives `x` even from a server that did not stuff).
/// * The CRLF before the terminator is part of the body.
///
/// ```
/// use bytes::BytesMut;
/// use pop3_proto::dot::{BodyDecoder, BodyPiece, DecoderConfig};
///
/// let mut decoder = BodyDecoder::new(DecoderConfig::default());
/// let mut buf = BytesMut::from(&b"line one\r\n..dot\r\n.\r\n+OK next"[..]);
/// let mut body = Vec::new();
/// loop {
///     match decoder.decode(&mut buf).unwrap() {
///         BodyPiece::Data(bytes) => body.extend_from_slice(&bytes),
///         BodyPiece::End => break,
///         BodyPiece::NeedMore => unreachable!("the terminator is in the buffer"),
///     }
/// }
/// assert_eq!(body, b"line one\r\n.dot\r\n");
/// assert_eq!(&buf[..], b"+OK next");
/// ```
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    config: DecoderConfig,
    state: State,
    finder: Finder<'static>,
    /// The last line starting with `.` was close to the one before: look for the next
    /// one line by line (see [`find_dot_line`](Self::find_dot_line)).
    dense: bool,
    body_len: u64,
    examined: u64,
    skipping: bool,
}

impl BodyDecoder {
    /// A decoder positioned at the start of a body. Build one per body: nothing carries
    /// over from an earlier body, so there is nothing to reset.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            state: State::LineStart,
            finder: Finder::new(b"\n."),
            dense: false,
            body_len: 0,
            examined: 0,
            skipping: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> DecoderConfig {
        self.config
    }

    /// Makes the decoder ready for the next body, keeping its configuration (and its
    /// prepared searcher). Resets every counter.
    ///
    /// Not needed: the intended use is one decoder per body, built with
    /// [`new`](Self::new) from the same (`Copy`) [`DecoderConfig`], which starts fresh
    /// by construction. This only spares setting up the `memmem` searcher again, for
    /// a caller that decodes many small bodies with one value.
    pub fn reset(&mut self) {
        self.state = State::LineStart;
        self.body_len = 0;
        self.examined = 0;
        self.skipping = false;
        self.dense = false;
    }

    /// Decodes from the front of `buf`, consuming what it processed, and returns one
    /// piece. Loop until [`BodyPiece::End`] or [`BodyPiece::NeedMore`].
    ///
    /// After `End` the buffer starts right after the terminator, and further calls
    /// return `End` without consuming anything.
    ///
    /// # Errors
    ///
    /// [`DotError::BodyTooLarge`] when handing out the next piece would take the body
    /// past [`DecoderConfig::max_body`]. That piece has been consumed and is lost; the
    /// body handed out so far is at most the limit. The decoder is then in *skip mode*:
    /// if you keep calling `decode`, it consumes and discards the rest of the body (it
    /// never returns `Data` again) and returns `End` after the terminator, so the session
    /// resynchronises on the next response. Or drop the decoder and the connection.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<BodyPiece, DotError> {
        self.decode_input(buf).map(body_piece)
    }

    /// The same as [`decode`](Self::decode), over an immutable [`Bytes`] chunk (for IO
    /// layers that hand out `Bytes`). Consumed bytes are removed from the front of `buf`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use pop3_proto::dot::{BodyDecoder, BodyPiece, DecoderConfig};
    ///
    /// let mut decoder = BodyDecoder::new(DecoderConfig::default());
    /// let mut body = Vec::new();
    /// for chunk in [&b"a\r\n."[..], b".b\r\n.", b"\r", b"\n"] {
    ///     let mut chunk = Bytes::copy_from_slice(chunk);
    ///     while let BodyPiece::Data(d) = decoder.decode_bytes(&mut chunk).unwrap() {
    ///         body.extend_from_slice(&d);
    ///     }
    /// }
    /// assert!(decoder.is_done());
    /// assert_eq!(body, b"a\r\n.b\r\n");
    /// ```
    pub fn decode_bytes(&mut self, buf: &mut Bytes) -> Result<BodyPiece, DotError> {
        self.decode_input(buf).map(body_piece)
    }

    /// The same as [`decode_bytes`](Self::decode_bytes), over a borrowed byte slice:
    /// the pieces are sub-slices of `input` (zero copy, and no reference counting, so
    /// the fastest way to stream a body into a file or a hash). Consumed bytes are
    /// removed from the front of `input`. The decoder keeps no reference to the input,
    /// so the next chunk can come from anywhere.
    ///
    /// ```
    /// use pop3_proto::dot::{BodyDecoder, DecoderConfig, SlicePiece};
    ///
    /// let mut decoder = BodyDecoder::new(DecoderConfig::default());
    /// let mut body = Vec::new();
    /// for chunk in [&b"a\r\n."[..], b".b\r\n.", b"\r\n+OK"] {
    ///     let mut input = chunk;
    ///     while let SlicePiece::Data(d) = decoder.decode_slice(&mut input).unwrap() {
    ///         body.extend_from_slice(d);
    ///     }
    ///     if decoder.is_done() {
    ///         assert_eq!(input, b"+OK");
    ///     }
    /// }
    /// assert_eq!(body, b"a\r\n.b\r\n");
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`decode`](Self::decode).
    pub fn decode_slice<'a>(&mut self, input: &mut &'a [u8]) -> Result<SlicePiece<'a>, DotError> {
        self.decode_input(input).map(|piece| match piece {
            Piece::Data(data) => SlicePiece::Data(data),
            Piece::End => SlicePiece::End,
            Piece::NeedMore => SlicePiece::NeedMore,
        })
    }

    /// Octets of body handed out so far (after un-stuffing and conversion).
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// `true` once the terminator has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// `true` after [`DotError::BodyTooLarge`]: the rest of the body is being discarded.
    pub fn is_skipping(&self) -> bool {
        self.skipping
    }

    /// Total input octets examined so far. Every input byte up to the terminator is
    /// examined exactly once, whatever the split, so this equals the octets consumed.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Call at end of input: `Err(DotError::Truncated)` if the terminator has not been
    /// seen (the connection closed inside a body).
    pub fn check_eof(&self) -> Result<(), DotError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(DotError::Truncated)
        }
    }

    #[inline]
    fn decode_input<I: Input>(&mut self, buf: &mut I) -> Result<Piece<I::Piece>, DotError> {
        // The hot path: inside a line, no size limit, no conversion. One search, one
        // piece, nothing else to decide.
        if self.config.max_body.is_none()
            && matches!(self.state, State::Mid | State::Cr)
            && !self.config.lf_to_crlf
            && !buf.bytes().is_empty()
        {
            let (len, skip) = self.scan(buf);
            self.body_len = self.body_len.saturating_add(len as u64);
            let data = buf.take(len);
            buf.skip(skip);
            return Ok(Piece::Data(data));
        }
        self.decode_general(buf)
    }

    /// Everything but the hot path of [`decode_input`](Self::decode_input): state
    /// transitions, the size limit and skip mode.
    #[inline]
    fn decode_general<I: Input>(&mut self, buf: &mut I) -> Result<Piece<I::Piece>, DotError> {
        loop {
            let step = self.step(buf);
            let len = match step {
                Step::End => return Ok(Piece::End),
                Step::NeedMore => return Ok(Piece::NeedMore),
                Step::Take { len, .. } => len,
                Step::Static(bytes) => bytes.len(),
            };
            let mut error = None;
            if !self.skipping {
                let total = self.body_len.saturating_add(len as u64);
                match self.config.max_body {
                    Some(limit) if total > limit => {
                        self.skipping = true;
                        error = Some(DotError::BodyTooLarge { limit });
                    }
                    _ => {
                        self.body_len = total;
                        let data = match step {
                            Step::Take { len, skip } => {
                                let data = buf.take(len);
                                buf.skip(skip);
                                data
                            }
                            Step::Static(bytes) => I::from_static(bytes),
                            Step::End | Step::NeedMore => I::from_static(b""),
                        };
                        return Ok(Piece::Data(data));
                    }
                }
            }
            // Not handed out (over the limit, or skip mode): the piece is dropped.
            if let Step::Take { len, skip } = step {
                buf.skip(len + skip);
            }
            if let Some(error) = error {
                return Err(error);
            }
        }
    }

    /// Consumes the one byte a state transition looked at and moves to `next`.
    #[inline]
    fn consume_into<I: Input>(&mut self, buf: &mut I, next: State) {
        buf.skip(1);
        self.examined += 1;
        self.state = next;
    }

    /// Decides the next piece, without the size limit. Consumes only the bytes of state
    /// transitions; a `Take` is cut by the caller.
    #[inline(always)]
    fn step<I: Input>(&mut self, buf: &mut I) -> Step {
        loop {
            match self.state {
                State::Done => return Step::End,
                State::PendingCrLf => {
                    self.state = State::LineStart;
                    return Step::Static(b"\r\n");
                }
                State::LineStart | State::Dot | State::DotCr => {
                    let Some(&b) = buf.bytes().first() else {
                        return Step::NeedMore;
                    };
                    match (self.state, b) {
                        (State::LineStart, b'.') => self.consume_into(buf, State::Dot),
                        (State::LineStart, _) => self.state = State::Mid,
                        (State::Dot, b'\r') => self.consume_into(buf, State::DotCr),
                        (State::Dot, b'\n') if self.config.allow_bare_lf => {
                            self.consume_into(buf, State::Done);
                            return Step::End;
                        }
                        // The dot was a stuffing dot (or an unstuffed leading dot): it
                        // stays dropped, and the line goes on from this byte.
                        (State::Dot, _) => self.state = State::Mid,
                        (State::DotCr, b'\n') => {
                            self.consume_into(buf, State::Done);
                            return Step::End;
                        }
                        // `.\r` then something else (DotCr, the only state left): the
                        // dot was stuffing, the `\r` content.
                        _ => {
                            self.state = State::Cr;
                            return Step::Static(b"\r");
                        }
                    }
                }
                State::Mid | State::Cr => {
                    if buf.bytes().is_empty() {
                        return Step::NeedMore;
                    }
                    return if self.config.allow_bare_lf && self.config.lf_to_crlf {
                        self.scan_converting(buf)
                    } else {
                        let (len, skip) = self.scan(buf);
                        Step::Take { len, skip }
                    };
                }
            }
        }
    }

    /// The position of the next `"\n."` in `hay` at or after `pos`.
    ///
    /// A `memmem` search skips most lines at once but costs a fixed setup per call,
    /// which dominates when nearly every line starts with a dot. So after a dot line
    /// found within [`DENSE_DISTANCE`] of where the search began, the next search walks
    /// line ends ([`find_lf_near`], cheap to start) for up to [`DENSE_PROBES`] lines,
    /// then falls back to `memmem`. Either way every byte is looked at once, and the cost
    /// per byte stays bounded whatever the dot density.
    #[inline(always)]
    fn find_dot_line(&mut self, hay: &[u8], pos: usize) -> Option<usize> {
        let rest = hay.get(pos..)?;
        let mut at = 0;
        if self.dense {
            for _ in 0..DENSE_PROBES {
                let lf = at + find_lf_near(rest.get(at..)?)?;
                match rest.get(lf + 1) {
                    Some(b'.') => return Some(pos + lf),
                    Some(_) => at = lf + 1,
                    None => return None,
                }
            }
            self.dense = false;
        }
        let k = self.finder.find(rest.get(at..)?)?;
        self.dense = at + k < DENSE_DISTANCE;
        Some(pos + at + k)
    }

    /// Strict mode, and lenient mode without conversion: search only for `"\n."`.
    /// `buf` is not empty. Returns the piece to take: its length, then the octets to
    /// drop after it (a dot, or the terminator's).
    #[inline(always)]
    fn scan<I: Input>(&mut self, buf: &mut I) -> (usize, usize) {
        let lenient = self.config.allow_bare_lf;
        let hay = buf.bytes();
        let len = hay.len();
        let mut pos = 0;
        let mut found = None;
        while let Some(lf) = self.find_dot_line(hay, pos) {
            // In strict mode the LF must end a CRLF to start a line; the CR may have been
            // the last byte of the previous chunk.
            let starts_line = lenient
                || match lf.checked_sub(1) {
                    Some(p) => hay.get(p) == Some(&b'\r'),
                    None => self.state == State::Cr,
                };
            if starts_line {
                found = Some(lf);
                break;
            }
            pos = lf + 1;
        }
        if let Some(lf) = found {
            // Hand out the line end and drop the dot. When the bytes after the dot are
            // in this buffer, decide on them here: a stuffing dot (the common case) or
            // the terminator. Otherwise the `Dot` state decides with the next chunk.
            let (skip, state) = match (hay.get(lf + 2), hay.get(lf + 3)) {
                (Some(b'\r'), Some(b'\n')) => (3, State::Done),
                (Some(b'\r'), _) | (None, _) => (1, State::Dot),
                (Some(b'\n'), _) if lenient => (2, State::Done),
                (Some(_), _) => (1, State::Mid),
            };
            self.examined += (lf + 1 + skip) as u64;
            self.state = state;
            return (lf + 1, skip);
        }
        // No line in this buffer starts with a dot: everything is content. Remember
        // whether it ended at a line start (the next chunk may begin with a dot).
        let last = hay.last().copied();
        let before = match len.checked_sub(2) {
            Some(p) => hay.get(p) == Some(&b'\r'),
            None => self.state == State::Cr,
        };
        self.state = match last {
            Some(b'\n') if lenient || before => State::LineStart,
            Some(b'\r') => State::Cr,
            _ => State::Mid,
        };
        self.examined += len as u64;
        (len, 0)
    }

    /// Lenient mode with LF to CRLF conversion: every line end has to be looked at, to
    /// find the bare ones. `buf` is not empty.
    fn scan_converting<I: Input>(&mut self, buf: &mut I) -> Step {
        let hay = buf.bytes();
        let len = hay.len();
        let mut pos = 0;
        while let Some(k) = memchr::memchr(b'\n', hay.get(pos..).unwrap_or_default()) {
            let lf = pos + k;
            let crlf = match lf.checked_sub(1) {
                Some(p) => hay.get(p) == Some(&b'\r'),
                None => self.state == State::Cr,
            };
            if !crlf {
                self.examined += (lf + 1) as u64;
                if lf == 0 {
                    buf.skip(1);
                    self.state = State::LineStart;
                    return Step::Static(b"\r\n");
                }
                self.state = State::PendingCrLf;
                return Step::Take { len: lf, skip: 1 };
            }
            match hay.get(lf + 1) {
                // The line after this CRLF starts with a dot, or the buffer ends here.
                Some(b'.') | None => {
                    self.examined += (lf + 1) as u64;
                    self.state = State::LineStart;
                    return Step::Take {
                        len: lf + 1,
                        skip: 0,
                    };
                }
                Some(_) => pos = lf + 1,
            }
        }
        // The buffer does not end with a LF (that case returned above).
        self.state = if hay.last() == Some(&b'\r') {
            State::Cr
        } else {
            State::Mid
        };
        self.examined += len as u64;
        Step::Take { len, skip: 0 }
    }
}

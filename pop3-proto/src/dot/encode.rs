//! Byte-stuffing of multi-line response bodies (server side) and their exact size.

use alloc::vec::Vec;
use core::ops::Range;

use bytes::{Bytes, BytesMut};
use memchr::memmem::Finder;

pub(super) use super::lf::BLOCK as COPY_BLOCK;
use super::lf::{first_lf, has_lf};

/// Options of a [`Stuffer`] (and of [`stuff`] and [`wire_len`]).
///
/// The default is safe for every reader: each LF of the message is a line end
/// (a bare LF goes out as CRLF, which RFC 5322 mail may not hold anyway), so a `.`
/// at the start of anything a reader could take for a line is stuffed. Content can
/// then never end the reply early, whether the reader ends lines at CRLF (RFC 1939
/// §3) or at LF (as Python's poplib and many clients do).
///
/// ```
/// use bytes::Bytes;
/// use pop3_proto::dot::{stuff, StuffConfig};
///
/// // A bare LF then ".": a reader that ends lines at LF must not see a terminator.
/// let wire = stuff(&Bytes::from_static(b"a\n.\r\nX\r\n"), StuffConfig::default()).concat();
/// assert_eq!(wire, b"a\r\n..\r\nX\r\n.\r\n");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StuffConfig {
    /// Send every bare LF of the message as CRLF (on by default). A stored LF is then
    /// a line end like CRLF, and a `.` after it is stuffed.
    ///
    /// `false` is the raw mode: a bare LF is content, sent as it is and not a line
    /// end, so a `.` after it is **not** stuffed. A strict reader (CRLF only) reads
    /// such a message back unchanged, but a reader that ends lines at LF takes
    /// `LF . CRLF` in the content for the end of the reply and the rest of the
    /// message for replies to its next commands: anyone who can send mail to the
    /// mailbox can then inject responses. Use it only for stores known to hold CRLF
    /// line ends and nothing else, or for a peer known to read strictly.
    pub lf_to_crlf: bool,
    /// `Some(n)` for `TOP msg n` (R1939-37, E-6): the headers, the blank line, then the
    /// first `n` lines of the body (`n = 0` allowed). `None` sends the whole message.
    ///
    /// The headers end at the first empty line: a line that is just CRLF, or, with
    /// `lf_to_crlf`, just LF. A message without an empty line is all headers, so `TOP`
    /// sends all of it. A body with fewer than `n` lines is sent whole.
    pub top_lines: Option<u64>,
}

impl Default for StuffConfig {
    /// Bare LFs sent as CRLF (the safe mode), the whole message.
    fn default() -> Self {
        StuffConfig {
            lf_to_crlf: true,
            top_lines: None,
        }
    }
}

impl StuffConfig {
    /// The raw mode: bare LFs sent as they are (see [`lf_to_crlf`](Self::lf_to_crlf)
    /// for the risk), the whole message.
    pub const RAW: StuffConfig = StuffConfig {
        lf_to_crlf: false,
        top_lines: None,
    };
}

/// Where a TOP cut stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Still in the headers (only with `top_lines`).
    Headers,
    /// In the body; `Some(n)`: `n` more lines to send.
    Body(Option<u64>),
    /// The TOP cut is reached: the rest of the input is ignored.
    Complete,
}

/// Receives what the stuffer produces: ranges of the current chunk and inserted bytes.
trait Sink {
    /// `false` for a sink that only counts message octets: stuffing dots are not
    /// counted, so without conversion or TOP cut there is nothing to search for.
    const NEEDS_DOTS: bool = true;
    /// Bytes `range` of the chunk being pushed, sent as they are.
    fn content(&mut self, range: Range<usize>);
    /// Bytes `range` of the chunk, whose last byte is a `.` starting a line: it is sent
    /// here as the stuffing dot, and again as the first byte of the next range (so a
    /// stuffed line costs one segment, with no inserted static byte).
    fn content_then_dot(&mut self, range: Range<usize>);
    /// A stuffing `.` (not counted in the message size).
    fn dot(&mut self);
    /// An inserted CRLF: a converted bare LF or the final CRLF (counted).
    fn crlf(&mut self);
    /// The terminating `.\r\n` (not counted).
    fn terminator(&mut self);
    /// Octets added without producing them (a counting sink only).
    fn count_extra(&mut self, _octets: u64) {}
}

/// `count_bare_lf` looks at a block of this many octets twice (for a CR, then counting
/// LFs): small enough that the second look finds it in the L1 cache. On a 64 MiB
/// message (from memory, not the cache), 4 KiB blocks read about as fast as one pass,
/// 16 KiB and larger ones clearly slower.
pub(super) const COUNT_BLOCK: usize = 4 * 1024;

/// The number of LFs in `chunk` not preceded by CR within `chunk` (the first byte is
/// not counted: its predecessor is in the previous chunk).
fn count_bare_lf(chunk: &[u8]) -> u64 {
    let mut total = 0u64;
    let mut start = 0;
    while start < chunk.len() {
        let end = chunk.len().min(start + COUNT_BLOCK);
        // One byte of overlap: the predecessor of the block's first byte.
        let window = chunk.get(start.saturating_sub(1)..end).unwrap_or_default();
        total += count_bare_lf_window(window);
        start = end;
    }
    total
}

/// `true` if an LF after the first octet of `window` has no CR before it (the first
/// octet is only looked at as a predecessor), without early exit.
#[inline]
fn has_bare_lf(window: &[u8]) -> bool {
    let rest = window.get(1..).unwrap_or_default();
    // One flat loop, an OR into a byte: the compiler vectorises it.
    window.iter().zip(rest).fold(0u8, |any, (&x, &y)| {
        any | (u8::from(y == b'\n') & u8::from(x != b'\r'))
    }) != 0
}

/// [`count_bare_lf`] of one block. Without a CR in it, every LF after the first byte
/// is bare: `memchr`'s count (vectorised, AVX2 where the CPU has it) is the answer.
/// With CRs (CRLF mail), usually no LF is bare, which [`has_bare_lf`] tells faster
/// than counting.
fn count_bare_lf_window(window: &[u8]) -> u64 {
    let rest = window.get(1..).unwrap_or_default();
    if memchr::memchr(b'\r', window).is_none() {
        return memchr::memchr_iter(b'\n', rest).count() as u64;
    }
    if !has_bare_lf(window) {
        return 0;
    }
    // Counted in blocks into `u8` lanes so the compiler vectorises it.
    let mut total = 0u64;
    for (a, b) in window.chunks(255).zip(rest.chunks(255)) {
        let mut n = 0u8;
        for (&x, &y) in a.iter().zip(b) {
            n += u8::from((y == b'\n') & (x != b'\r'));
        }
        total += u64::from(n);
    }
    total
}

/// Emits wire segments as [`Bytes`].
struct BytesSink<'a, E> {
    chunk: &'a Bytes,
    out: &'a mut E,
}

impl<E: Extend<Bytes>> Sink for BytesSink<'_, E> {
    #[inline]
    fn content(&mut self, range: Range<usize>) {
        if !range.is_empty() {
            self.out.extend(core::iter::once(self.chunk.slice(range)));
        }
    }
    #[inline]
    fn content_then_dot(&mut self, range: Range<usize>) {
        self.content(range);
    }
    #[inline]
    fn dot(&mut self) {
        self.out.extend(core::iter::once(Bytes::from_static(b".")));
    }
    #[inline]
    fn crlf(&mut self) {
        self.out
            .extend(core::iter::once(Bytes::from_static(b"\r\n")));
    }
    #[inline]
    fn terminator(&mut self) {
        self.out
            .extend(core::iter::once(Bytes::from_static(b".\r\n")));
    }
}

/// Copies the wire bytes into one contiguous buffer.
struct CopySink<'a> {
    chunk: &'a [u8],
    out: &'a mut BytesMut,
}

impl Sink for CopySink<'_> {
    #[inline]
    fn content(&mut self, range: Range<usize>) {
        self.out
            .extend_from_slice(self.chunk.get(range).unwrap_or_default());
    }
    #[inline]
    fn content_then_dot(&mut self, range: Range<usize>) {
        self.content(range);
    }
    #[inline]
    fn dot(&mut self) {
        self.out.extend_from_slice(b".");
    }
    #[inline]
    fn crlf(&mut self) {
        self.out.extend_from_slice(b"\r\n");
    }
    #[inline]
    fn terminator(&mut self) {
        self.out.extend_from_slice(b".\r\n");
    }
}

/// Counts the octets of the message as sent (R1939-14).
#[derive(Clone, Debug)]
struct CountSink(u64);

impl Sink for CountSink {
    const NEEDS_DOTS: bool = false;
    #[inline]
    fn content(&mut self, range: Range<usize>) {
        self.0 += range.len() as u64;
    }
    #[inline]
    fn content_then_dot(&mut self, range: Range<usize>) {
        self.0 += range.len().saturating_sub(1) as u64;
    }
    #[inline]
    fn dot(&mut self) {}
    #[inline]
    fn crlf(&mut self) {
        self.0 += 2;
    }
    #[inline]
    fn terminator(&mut self) {}
    #[inline]
    fn count_extra(&mut self, octets: u64) {
        self.0 += octets;
    }
}

/// The stuffing state machine, independent of where its output goes.
#[derive(Clone, Debug)]
struct Core {
    config: StuffConfig,
    finder: Finder<'static>,
    /// The next byte starts a line.
    line_start: bool,
    /// The last byte pushed was `\r`.
    prev_cr: bool,
    /// Octets of the current line so far (to recognise the empty line after headers).
    line_len: u64,
    phase: Phase,
    finished: bool,
}

impl Core {
    fn new(config: StuffConfig) -> Self {
        Self {
            config,
            finder: Finder::new(b"\n."),
            line_start: true,
            prev_cr: false,
            line_len: 0,
            phase: match config.top_lines {
                Some(_) => Phase::Headers,
                None => Phase::Body(None),
            },
            finished: false,
        }
    }

    fn push<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
        if self.finished || self.phase == Phase::Complete || chunk.is_empty() {
            return;
        }
        if !self.config.lf_to_crlf && self.phase == Phase::Body(None) {
            if S::NEEDS_DOTS {
                self.push_fast(chunk, sink);
            } else {
                // Counting only: stuffing dots are not counted (R1939-14), so the size
                // is the length; only the line state at the end matters (E-22).
                sink.content(0..chunk.len());
                self.track_tail(chunk);
            }
        } else if self.phase == Phase::Body(None) {
            // LF to CRLF, no TOP cut.
            if S::NEEDS_DOTS {
                self.push_fast_lf(chunk, sink);
            } else {
                // Counting only: one more octet per bare LF.
                let first_bare = chunk.first() == Some(&b'\n') && !self.prev_cr;
                sink.content(0..chunk.len());
                sink.count_extra(count_bare_lf(chunk) + u64::from(first_bare));
                self.track_tail_lf(chunk);
            }
        } else {
            self.push_lines(chunk, sink);
        }
    }

    /// Line state after a chunk when every LF is a line end (LF to CRLF).
    #[inline]
    fn track_tail_lf(&mut self, chunk: &[u8]) {
        let last = chunk.last().copied();
        self.line_start = last == Some(b'\n');
        self.prev_cr = last == Some(b'\r');
    }

    /// LF to CRLF without a TOP cut: a bare LF gets a static `\r\n` in its place, and a
    /// `.` after any line end is doubled. `chunk` is not empty.
    ///
    /// The chunk goes through in blocks of [`COUNT_BLOCK`] octets. Mail mostly holds
    /// CRLF line ends only, so each block is first checked for a bare LF (a compare
    /// the compiler vectorises): without one, only `"\n."` matters and `memmem` finds
    /// it, as in the raw mode; with one, every LF of the block is looked at (`memchr`).
    fn push_fast_lf<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
        if self.line_start && chunk.first() == Some(&b'.') {
            sink.dot();
        }
        let len = chunk.len();
        let mut start = 0;
        let mut block = 0;
        while block < len {
            let end = len.min(block + COUNT_BLOCK);
            let clean = match block.checked_sub(1) {
                Some(before) => !has_bare_lf(chunk.get(before..end).unwrap_or_default()),
                None => {
                    let first_bare = chunk.first() == Some(&b'\n') && !self.prev_cr;
                    !first_bare && !has_bare_lf(chunk.get(..end).unwrap_or_default())
                }
            };
            if clean {
                // Every LF here follows a CR. The dot after the block's last LF may be
                // the first octet of the next block: search one octet further.
                let hay = chunk.get(block..len.min(end + 1)).unwrap_or_default();
                for k in self.finder.find_iter(hay) {
                    let lf = block + k;
                    sink.content_then_dot(start..lf + 2);
                    start = lf + 1;
                }
            } else {
                let lines = chunk.get(block..end).unwrap_or_default();
                for lf in memchr::memchr_iter(b'\n', lines).map(|k| block + k) {
                    let cr = match lf.checked_sub(1) {
                        Some(p) => chunk.get(p) == Some(&b'\r'),
                        None => self.prev_cr,
                    };
                    if !cr {
                        sink.content(start..lf);
                        sink.crlf();
                        start = lf + 1;
                    }
                    if chunk.get(lf + 1) == Some(&b'.') {
                        if cr {
                            sink.content_then_dot(start..lf + 2);
                            start = lf + 1;
                        } else {
                            sink.dot();
                        }
                    }
                }
            }
            block = end;
        }
        sink.content(start..len);
        self.track_tail_lf(chunk);
    }

    /// [`Stuffer::push_copy`]: the copying fast path for LF to CRLF without a TOP cut,
    /// the general one otherwise.
    ///
    /// A chunk with no bare LF (CRLF mail, the usual case) needs no conversion:
    /// it goes through the raw mode's `memmem` path, which gives the same bytes
    /// when every LF follows a CR.
    fn push_copy(&mut self, chunk: &[u8], out: &mut BytesMut) {
        if self.config.lf_to_crlf
            && self.phase == Phase::Body(None)
            && !self.finished
            && !chunk.is_empty()
        {
            let first_bare = chunk.first() == Some(&b'\n') && !self.prev_cr;
            if first_bare || has_bare_lf(chunk) {
                self.push_copy_lf(chunk, out);
            } else {
                self.push_fast(chunk, &mut CopySink { chunk, out });
            }
        } else {
            let mut sink = CopySink { chunk, out };
            self.push(chunk, &mut sink);
        }
    }

    /// LF to CRLF without a TOP cut, copying (the bytes of [`push_fast_lf`] into a
    /// [`CopySink`]). With one LF about every line, `memchr` and a copy per line cost
    /// more than the bytes: instead the chunk goes through in blocks of [`COPY_BLOCK`]
    /// octets, each appended whole (a fixed-size copy) and its LFs found with a
    /// compare the compiler vectorises. At an LF the output is cut back after the
    /// line, `\r\n` or `\n` appended, and a `.` if the next line starts with one; the
    /// next block starts after the LF. `chunk` is not empty.
    ///
    /// [`push_fast_lf`]: Self::push_fast_lf
    fn push_copy_lf(&mut self, chunk: &[u8], out: &mut BytesMut) {
        let len = chunk.len();
        // The usual output (a CR added per line of 32 octets or more) and the over-copy
        // of two blocks; `extend_from_slice` grows the buffer if more is needed.
        out.reserve(len + len / 32 + 4 * COPY_BLOCK);
        if self.line_start && chunk.first() == Some(&b'.') {
            out.extend_from_slice(b".");
        }
        let mut i = 0;
        // The length (LF included) of the last line the block path found, and where
        // the current line starts: lines of mail often have one length (wrapped at 76
        // columns), so the next LF is first looked for where that length puts it.
        let mut guess = 0;
        let mut line = 0;
        loop {
            if guess > COPY_BLOCK {
                if let Some(next) = self.copy_line_guess(chunk, i, guess, out) {
                    i = next;
                    line = next;
                    continue;
                }
            }
            let Some(block) = chunk.get(i..).and_then(<[u8]>::first_chunk::<COPY_BLOCK>) else {
                break;
            };
            let next = self.copy_block_lf(chunk, i, block, COPY_BLOCK, out);
            if next.checked_sub(1).and_then(|p| chunk.get(p)) == Some(&b'\n') {
                guess = next - line;
                line = next;
            }
            i = next;
        }
        while i < len {
            // The end of the chunk, padded (the padding holds no LF).
            let rest = chunk.get(i..).unwrap_or_default();
            let mut block = [0u8; COPY_BLOCK];
            if let Some(head) = block.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            i = self.copy_block_lf(chunk, i, &block, rest.len(), out);
        }
        self.track_tail_lf(chunk);
    }

    /// One step of [`push_copy_lf`](Self::push_copy_lf): `block` holds the octets at
    /// `i..i + n` of `chunk` (padded past `n`). Returns where the next block starts.
    #[inline(always)]
    fn copy_block_lf(
        &self,
        chunk: &[u8],
        i: usize,
        block: &[u8; COPY_BLOCK],
        n: usize,
        out: &mut BytesMut,
    ) -> usize {
        if !has_lf(block) {
            let base = out.len();
            out.extend_from_slice(block);
            out.truncate(base + n);
            return i + n;
        }
        let j = first_lf(block);
        self.copy_line_lf(chunk, i, j, block, out)
    }

    /// The line at `i` of `chunk` if it is `guess` octets long, LF included (65 to
    /// 128): the octet there is an LF and neither the first nor the last 64 octets
    /// before it hold one (together they cover the line). Returns where the next line
    /// starts, or `None` (nothing done) if the line is not that long.
    #[inline(always)]
    fn copy_line_guess(
        &self,
        chunk: &[u8],
        i: usize,
        guess: usize,
        out: &mut BytesMut,
    ) -> Option<usize> {
        let line = chunk.get(i..)?.first_chunk::<{ 2 * COPY_BLOCK }>()?;
        let j = guess.checked_sub(1)?;
        let head = line.first_chunk::<COPY_BLOCK>()?;
        let tail = line
            .get(j.checked_sub(COPY_BLOCK)?..j)?
            .first_chunk::<COPY_BLOCK>()?;
        if line.get(j) != Some(&b'\n') || has_lf(head) || has_lf(tail) {
            return None;
        }
        Some(self.copy_line_lf(chunk, i, j, line, out))
    }

    /// Appends the line at `i` of `chunk`, whose LF is at `i + j`, as sent: `copy` holds
    /// the octets from `i` (at least `j`; it is appended whole, then cut back), then
    /// the line end and the stuffing dot of the next line if it starts with one (its
    /// own dot is the first octet of the next block). Returns `i + j + 1`.
    #[inline(always)]
    fn copy_line_lf(
        &self,
        chunk: &[u8],
        i: usize,
        j: usize,
        copy: &[u8],
        out: &mut BytesMut,
    ) -> usize {
        let lf = i + j;
        let cr = match lf.checked_sub(1) {
            Some(p) => chunk.get(p) == Some(&b'\r'),
            None => self.prev_cr,
        };
        let dot = chunk.get(lf + 1) == Some(&b'.');
        let (end, end_len): (&[u8; 3], usize) = if cr { (b"\n..", 1) } else { (b"\r\n.", 2) };
        let base = out.len();
        out.extend_from_slice(copy);
        out.truncate(base + j);
        out.extend_from_slice(end);
        out.truncate(base + j + end_len + usize::from(dot));
        lf + 1
    }

    /// No conversion, no TOP cut: only lines starting with `.` matter, found with a
    /// `memmem` search for `"\n."`. `chunk` is not empty.
    #[inline]
    fn push_fast<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
        let len = chunk.len();
        if self.line_start && chunk.first() == Some(&b'.') {
            sink.dot();
        }
        let mut start = 0;
        let mut pos = 0;
        while let Some(k) = self.finder.find(chunk.get(pos..).unwrap_or_default()) {
            let lf = pos + k;
            let crlf = match lf.checked_sub(1) {
                Some(p) => chunk.get(p) == Some(&b'\r'),
                None => self.prev_cr,
            };
            if crlf {
                // The dot is sent at the end of this segment and again at the start of
                // the next one.
                sink.content_then_dot(start..lf + 2);
                start = lf + 1;
            }
            pos = lf + 2;
        }
        sink.content(start..len);
        self.track_tail(chunk);
    }

    /// Updates the line state from the last bytes of a chunk processed without a line
    /// scan. `chunk` is not empty.
    #[inline]
    fn track_tail(&mut self, chunk: &[u8]) {
        let before_cr = match chunk.len().checked_sub(2) {
            Some(p) => chunk.get(p) == Some(&b'\r'),
            None => self.prev_cr,
        };
        let last = chunk.last().copied();
        self.line_start = last == Some(b'\n') && before_cr;
        self.prev_cr = last == Some(b'\r');
    }

    /// Line by line (LF to CRLF conversion and TOP cutting need every line end).
    fn push_lines<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
        let len = chunk.len();
        let mut start = 0;
        let mut pos = 0;
        loop {
            if self.phase == Phase::Complete {
                sink.content(start..pos);
                return;
            }
            if self.line_start {
                let Some(&b) = chunk.get(pos) else { break };
                if b == b'.' {
                    sink.content(start..pos);
                    start = pos;
                    sink.dot();
                }
                self.line_start = false;
            }
            let Some(k) = memchr::memchr(b'\n', chunk.get(pos..).unwrap_or_default()) else {
                self.line_len = self.line_len.saturating_add((len - pos) as u64);
                self.prev_cr = chunk.last() == Some(&b'\r');
                break;
            };
            let lf = pos + k;
            let cr = match lf.checked_sub(1) {
                Some(p) => chunk.get(p) == Some(&b'\r'),
                None => self.prev_cr,
            };
            let line_total = self.line_len.saturating_add((k + 1) as u64);
            pos = lf + 1;
            self.prev_cr = false;
            if !cr {
                if !self.config.lf_to_crlf {
                    // A bare LF is content: the line goes on.
                    self.line_len = line_total;
                    continue;
                }
                sink.content(start..lf);
                sink.crlf();
                start = pos;
            }
            let blank = line_total == if cr { 2 } else { 1 };
            self.line_len = 0;
            self.line_start = true;
            self.phase = match self.phase {
                Phase::Headers if blank => match self.config.top_lines {
                    Some(0) => Phase::Complete,
                    remaining => Phase::Body(remaining),
                },
                Phase::Body(Some(n)) if n <= 1 => Phase::Complete,
                Phase::Body(Some(n)) => Phase::Body(Some(n - 1)),
                other => other,
            };
        }
        sink.content(start..len);
    }

    fn finish<S: Sink>(&mut self, sink: &mut S) {
        if self.finished {
            return;
        }
        // E-22 / IMPL-22: every body line ends in CRLF, the last one too.
        if self.phase != Phase::Complete && !self.line_start {
            sink.crlf();
        }
        sink.terminator();
        self.finished = true;
    }
}

/// Streaming byte-stuffer for one multi-line response body (R1939-11, R1939-12).
///
/// Feed the message in chunks of any size with [`push`](Self::push), then call
/// [`finish`](Self::finish). The output is a sequence of wire segments for vectored
/// writes: slices of the input chunks (zero copy) plus a few static inserts. Every line
/// that starts with `.` gets a second `.` (at offset 0 too): usually the segment before
/// the line ends with the line's own dot and the next one starts with it again, so the
/// dot costs no extra segment; at the start of a chunk it is a static `"."`. Static
/// `\r\n` segments stand for converted bare LFs and for a last line without a line end
/// (E-22), and the body ends with a static `.\r\n`. The status line is not part of it.
///
/// ```
/// use bytes::Bytes;
/// use pop3_proto::dot::{StuffConfig, Stuffer};
///
/// let mut stuffer = Stuffer::new(StuffConfig::default());
/// let mut out: Vec<Bytes> = Vec::new();
/// stuffer.push(Bytes::from_static(b".hidden\r\nlast line, no CRLF"), &mut out);
/// stuffer.finish(&mut out);
/// assert_eq!(out.concat(), b"..hidden\r\nlast line, no CRLF\r\n.\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct Stuffer {
    core: Core,
}

impl Stuffer {
    /// A stuffer at the start of a message.
    pub fn new(config: StuffConfig) -> Self {
        Self {
            core: Core::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> StuffConfig {
        self.core.config
    }

    /// Stuffs the next chunk of the message, extending `out` with wire segments. Input
    /// after the TOP cut ([`is_complete`](Self::is_complete)) or after
    /// [`finish`](Self::finish) is ignored.
    pub fn push<E: Extend<Bytes>>(&mut self, chunk: Bytes, out: &mut E) {
        let mut sink = BytesSink { chunk: &chunk, out };
        self.core.push(&chunk, &mut sink);
    }

    /// Ends the body: adds CRLF if the last line had no line end (E-22, IMPL-22), then
    /// the terminator `.\r\n`. Further calls do nothing.
    pub fn finish<E: Extend<Bytes>>(&mut self, out: &mut E) {
        let empty = Bytes::new();
        let mut sink = BytesSink { chunk: &empty, out };
        self.core.finish(&mut sink);
    }

    /// `true` once the TOP cut has been reached: further input is ignored, and the
    /// caller may stop reading the message.
    pub fn is_complete(&self) -> bool {
        self.core.phase == Phase::Complete
    }

    /// `true` after [`finish`](Self::finish).
    pub fn is_finished(&self) -> bool {
        self.core.finished
    }

    /// Like [`push`](Self::push), but appends the wire bytes to one contiguous buffer
    /// (a copy). Use it when many small segments would cost more than copying: with
    /// LF to CRLF every bare LF needs an inserted byte, so zero-copy output is two
    /// segments per line. The output is byte for byte what `push` produces.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use pop3_proto::dot::{StuffConfig, Stuffer};
    ///
    /// let maildir = StuffConfig::default(); // bare LFs go out as CRLF
    /// let mut stuffer = Stuffer::new(maildir);
    /// let mut out = BytesMut::new();
    /// stuffer.push_copy(b"Subject: x\n\n.dot\n", &mut out);
    /// stuffer.finish_copy(&mut out);
    /// assert_eq!(&out[..], b"Subject: x\r\n\r\n..dot\r\n.\r\n");
    /// ```
    pub fn push_copy(&mut self, chunk: &[u8], out: &mut BytesMut) {
        self.core.push_copy(chunk, out);
    }

    /// [`push_copy`](Self::push_copy) through the general [`Sink`] path (the zero-copy
    /// one's state machine), bypassing the copying fast path: the reference of tests.
    #[cfg(test)]
    pub(super) fn push_copy_general(&mut self, chunk: &[u8], out: &mut BytesMut) {
        let mut sink = CopySink { chunk, out };
        self.core.push(chunk, &mut sink);
    }

    /// [`push_copy`](Self::push_copy) through the line-by-line path (the one of TOP
    /// cuts), for every configuration: the other reference of tests.
    #[cfg(test)]
    pub(super) fn push_copy_lines(&mut self, chunk: &[u8], out: &mut BytesMut) {
        if self.core.finished || self.core.phase == Phase::Complete || chunk.is_empty() {
            return;
        }
        let mut sink = CopySink { chunk, out };
        self.core.push_lines(chunk, &mut sink);
    }

    /// Like [`finish`](Self::finish), appending to a contiguous buffer.
    pub fn finish_copy(&mut self, out: &mut BytesMut) {
        let mut sink = CopySink { chunk: &[], out };
        self.core.finish(&mut sink);
    }
}

/// Stuffs a whole message into a contiguous buffer (a copy; see
/// [`Stuffer::push_copy`]), the final `.\r\n` included.
///
/// ```
/// use bytes::BytesMut;
/// use pop3_proto::dot::{stuff_into, StuffConfig};
///
/// let mut out = BytesMut::new();
/// stuff_into(b".\r\n", StuffConfig::default(), &mut out);
/// assert_eq!(&out[..], b"..\r\n.\r\n"); // TV-9
/// ```
pub fn stuff_into(message: &[u8], config: StuffConfig, out: &mut BytesMut) {
    let mut stuffer = Stuffer::new(config);
    stuffer.push_copy(message, out);
    stuffer.finish_copy(out);
}

/// Stuffs a whole message: the wire segments of its body, the final `.\r\n` included.
///
/// ```
/// use bytes::Bytes;
/// use pop3_proto::dot::{stuff, StuffConfig};
///
/// let wire = stuff(&Bytes::from_static(b"a.\r\n.b\r\n"), StuffConfig::default()).concat();
/// assert_eq!(wire, b"a.\r\n..b\r\n.\r\n"); // TV-9
/// ```
pub fn stuff(message: &Bytes, config: StuffConfig) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut stuffer = Stuffer::new(config);
    stuffer.push(message.clone(), &mut out);
    stuffer.finish(&mut out);
    out
}

/// The exact size LIST must report for `message` (R1939-14, R6856-1): octets as sent,
/// with CRLF line ends (after LF to CRLF conversion if configured, and with the CRLF
/// added after a last line without one), not counting stuffing dots or the terminator.
/// With `top_lines`, the size of the TOP response body. Nothing is produced.
///
/// ```
/// use pop3_proto::dot::{wire_len, StuffConfig};
///
/// assert_eq!(wire_len(b".a\r\nb", StuffConfig::default()), 7);
/// let maildir = StuffConfig::default(); // bare LFs go out as CRLF
/// assert_eq!(wire_len(b"a\nb\n", maildir), 6);
/// ```
pub fn wire_len(message: &[u8], config: StuffConfig) -> u64 {
    let mut counter = WireLen::new(config);
    counter.push(message);
    counter.finish()
}

/// Streaming counterpart of [`wire_len`]: feed the message in chunks of any size.
///
/// ```
/// use pop3_proto::dot::{wire_len, StuffConfig, WireLen};
///
/// let mut counter = WireLen::new(StuffConfig::default());
/// counter.push(b"line\r");
/// counter.push(b"\n.dot");
/// assert_eq!(counter.finish(), wire_len(b"line\r\n.dot", StuffConfig::default()));
/// ```
#[derive(Clone, Debug)]
pub struct WireLen {
    core: Core,
    sink: CountSink,
}

impl WireLen {
    /// A counter at the start of a message.
    pub fn new(config: StuffConfig) -> Self {
        Self {
            core: Core::new(config),
            sink: CountSink(0),
        }
    }

    /// Counts the next chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.core.push(chunk, &mut self.sink);
    }

    /// The size of the message as sent.
    pub fn finish(mut self) -> u64 {
        self.core.finish(&mut self.sink);
        self.sink.0
    }
}

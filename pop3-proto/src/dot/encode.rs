//! Byte-stuffing of multi-line response bodies (server side) and their exact size.

use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use crate::setters::setters;
use memchr::memmem::Finder;

mod fast;
mod sink;

pub(super) use super::lf::BLOCK as COPY_BLOCK;
use fast::count_bare_lf;
#[cfg_attr(not(test), allow(unused_imports))]
pub(super) use fast::COUNT_BLOCK;
use sink::{BytesSink, CopySink, CountSink, Sink};

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
///
/// `#[non_exhaustive]`: start from [`StuffConfig::SAFE`] (the default) or
/// [`StuffConfig::RAW`] and use the `with_*` setters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
        Self::SAFE
    }
}

impl StuffConfig {
    /// The default, safe for every reader: bare LFs sent as CRLF, the whole message.
    pub const SAFE: StuffConfig = StuffConfig {
        lf_to_crlf: true,
        top_lines: None,
    };
    /// The raw mode: bare LFs sent as they are (see [`lf_to_crlf`](Self::lf_to_crlf)
    /// for the risk), the whole message.
    pub const RAW: StuffConfig = StuffConfig {
        lf_to_crlf: false,
        top_lines: None,
    };
}

setters!(StuffConfig {
    /// Sets [`StuffConfig::lf_to_crlf`] (`false` is the raw mode; see the field).
    with_lf_to_crlf => lf_to_crlf: bool,
    /// Sets [`StuffConfig::top_lines`]: `Some(n)` for `TOP msg n`.
    with_top_lines => top_lines: Option<u64>,
});

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
    /// Back at the start of a message, with `config`; the searcher is kept, as
    /// building it costs more than a short message's whole stuffing.
    fn restart(&mut self, config: StuffConfig) {
        self.config = config;
        self.line_start = true;
        self.prev_cr = false;
        self.line_len = 0;
        self.phase = Self::first_phase(config);
        self.finished = false;
    }

    fn first_phase(config: StuffConfig) -> Phase {
        match config.top_lines {
            Some(_) => Phase::Headers,
            None => Phase::Body(None),
        }
    }

    fn new(config: StuffConfig) -> Self {
        Self {
            config,
            finder: Finder::new(b"\n."),
            line_start: true,
            prev_cr: false,
            line_len: 0,
            phase: Self::first_phase(config),
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

    /// The same stuffer, back at the start of a new message with `config`:
    /// cheaper than [`Stuffer::new`] for a machine that sends many short
    /// messages.
    pub(crate) fn restart(&mut self, config: StuffConfig) {
        self.core.restart(config);
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

//! Where the stuffer's output goes: wire segments, one contiguous buffer, or a count.

use core::ops::Range;

use bytes::{Bytes, BytesMut};

/// Receives what the stuffer produces: ranges of the current chunk and inserted bytes.
pub(super) trait Sink {
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

/// Emits wire segments as [`Bytes`].
pub(super) struct BytesSink<'a, E> {
    pub(super) chunk: &'a Bytes,
    pub(super) out: &'a mut E,
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
pub(super) struct CopySink<'a> {
    pub(super) chunk: &'a [u8],
    pub(super) out: &'a mut BytesMut,
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
pub(super) struct CountSink(pub(super) u64);

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

//! The stuffer's speed paths: whole chunks searched with `memmem`/`memchr` instead of
//! walked line by line, when there is no TOP cut. Measured by `benches/benches/dot.rs`.

use bytes::BytesMut;

use super::super::lf::{first_lf, has_lf};
use super::sink::CopySink;
use super::{Core, Phase, Sink, COPY_BLOCK};

/// `count_bare_lf` looks at a block of this many octets twice (for a CR, then counting
/// LFs): small enough that the second look finds it in the L1 cache. On a 64 MiB
/// message (from memory, not the cache), 4 KiB blocks read about as fast as one pass,
/// 16 KiB and larger ones clearly slower.
pub(crate) const COUNT_BLOCK: usize = 4 * 1024;

/// The number of LFs in `chunk` not preceded by CR within `chunk` (the first byte is
/// not counted: its predecessor is in the previous chunk).
pub(super) fn count_bare_lf(chunk: &[u8]) -> u64 {
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

impl Core {
    /// LF to CRLF without a TOP cut: a bare LF gets a static `\r\n` in its place, and a
    /// `.` after any line end is doubled. `chunk` is not empty.
    ///
    /// The chunk goes through in blocks of [`COUNT_BLOCK`] octets. Mail mostly holds
    /// CRLF line ends only, so each block is first checked for a bare LF (a compare
    /// the compiler vectorises): without one, only `"\n."` matters and `memmem` finds
    /// it, as in the raw mode; with one, every LF of the block is looked at (`memchr`).
    pub(super) fn push_fast_lf<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
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
    pub(super) fn push_copy(&mut self, chunk: &[u8], out: &mut BytesMut) {
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
    pub(super) fn push_copy_lf(&mut self, chunk: &[u8], out: &mut BytesMut) {
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
    pub(super) fn copy_block_lf(
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
    pub(super) fn copy_line_guess(
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
    pub(super) fn copy_line_lf(
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
    pub(super) fn push_fast<S: Sink>(&mut self, chunk: &[u8], sink: &mut S) {
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
}

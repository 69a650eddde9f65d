//! Status lines the machines write from pieces, with the 512-octet rule of
//! RFC 1939 §3 (R1939-9) applied once, here.

use bytes::BufMut;

use super::{decimal_len, status_prefix, Sink, CRLF};
use crate::types::{ResponseCode, Status, StatusLine};

/// A piece of the text of a status line [`put_status`] writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece<'a> {
    /// Octets, written as they are (the caller gives text octets only).
    Text(&'a [u8]),
    /// A number, in decimal.
    Num(u64),
}

/// Writes a status line whose text is `text`'s pieces joined: `+OK`/`-ERR`, the
/// code, a space and the text when it is not empty, CRLF. The text is cut where
/// the line would pass 512 octets ([`StatusLine::text_room`], R1939-9): a text
/// from the configuration (a signoff, a language's name) never makes a line too
/// long. A number that does not fit whole is left out.
pub(crate) fn put_status<B: BufMut + ?Sized>(
    out: &mut B,
    status: Status,
    code: Option<&ResponseCode>,
    text: &[Piece<'_>],
) {
    // The line is gathered on the stack and written with one copy: replies are
    // short, and most are written by the machine itself, once per command.
    let total: usize = text
        .iter()
        .map(|piece| match *piece {
            Piece::Text(bytes) => bytes.len(),
            Piece::Num(n) => decimal_len(n),
        })
        .sum();
    if StatusLine::line_len(status, code, total) <= SHORT {
        // Far below the limit: nothing to cut.
        let mut line = Line {
            buf: [0; SHORT],
            len: 0,
        };
        status_prefix(&mut line, status, code);
        if total > 0 {
            line.put(b" ");
            for piece in text {
                match *piece {
                    Piece::Text(bytes) => line.put(bytes),
                    Piece::Num(n) => line.number(n),
                }
            }
        }
        line.put(CRLF);
        out.put_slice(line.buf.get(..line.len).unwrap_or_default());
        return;
    }
    let mut line = Line {
        buf: [0; StatusLine::MAX_LEN],
        len: 0,
    };
    status_prefix(&mut line, status, code);
    let mut room = StatusLine::text_room(status, code);
    let mut started = false;
    for piece in text {
        let len = match *piece {
            Piece::Text(bytes) => bytes.len().min(room),
            Piece::Num(n) => match decimal_len(n) {
                len if len <= room => len,
                _ => 0,
            },
        };
        if len == 0 {
            continue;
        }
        if !started {
            line.put(b" ");
            started = true;
        }
        match *piece {
            Piece::Text(bytes) => line.put(bytes.get(..len).unwrap_or_default()),
            Piece::Num(n) => line.number(n),
        }
        room -= len;
    }
    out.put_slice(line.buf.get(..line.len).unwrap_or_default());
    out.put_slice(CRLF);
}

/// The longest line gathered in the small buffer: most replies.
const SHORT: usize = 64;

/// A status line being gathered, in `N` octets: never more than
/// [`StatusLine::MAX_LEN`] (the prefix and a text cut to
/// [`StatusLine::text_room`] fit).
struct Line<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Sink for Line<N> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(to) = self.buf.get_mut(self.len..end) {
            to.copy_from_slice(bytes);
            self.len = end;
        }
    }

    fn number(&mut self, mut n: u64) {
        // The digits straight into place, last first.
        let end = self.len + decimal_len(n);
        if let Some(to) = self.buf.get_mut(self.len..end) {
            for d in to.iter_mut().rev() {
                // n % 10 < 10, so the cast keeps the value.
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            self.len = end;
        }
    }
}

/// Writes a greeting: `+OK`, the text, and the APOP timestamp (R1939-28). The
/// text is cut so that the line and the whole timestamp fit in 512 octets
/// (R1939-9); the caller keeps a timestamp longer than
/// [`StatusLine::text_room`] out.
pub(crate) fn put_greeting<B: BufMut + ?Sized>(out: &mut B, text: &[u8], timestamp: Option<&[u8]>) {
    let reserved = timestamp.map_or(0, |ts| 1 + ts.len());
    let room = StatusLine::text_room(Status::Ok, None).saturating_sub(reserved);
    let text = text.get(..room.min(text.len())).unwrap_or_default();
    let space: &[u8] = if text.is_empty() { b"" } else { b" " };
    put_status(
        out,
        Status::Ok,
        None,
        &[
            Piece::Text(text),
            Piece::Text(timestamp.map_or(b"", |_| space)),
            Piece::Text(timestamp.unwrap_or_default()),
        ],
    );
}

//! Typed values to wire bytes.
//!
//! [`Encode`] writes a value as it goes on the wire, line ending included, into any
//! [`BufMut`] (a `Vec<u8>`, a `BytesMut`, or a `&mut dyn BufMut`). Every value the
//! types module can build encodes to a line the parser reads back as the same
//! value, and the encoders never write a lenient form: status indicators in upper
//! case, one space between tokens, `+ ` before a SASL challenge even when it is
//! empty (R5034-5, IMPL-12).
//!
//! ```
//! use pop3_proto::encode::Encode;
//! use pop3_proto::types::{Command, MessageNumber};
//! let top = Command::Top { msg: MessageNumber::new(1).unwrap(), lines: 10 };
//! assert_eq!(top.to_vec(), b"TOP 1 10\r\n");
//! assert_eq!(top.encoded_len(), 10);
//! ```

use alloc::vec::Vec;

use bytes::BufMut;

use crate::types::{
    AuthResponse, Capability, Command, Continuation, DropListing, Expire, Extension, Greeting,
    GroupListing, InitialResponse, LanguageListing, ResponseCode, ScanListing, Status, StatusLine,
    Text, UidListing, Xtnd,
};

/// A value that can be written to the wire.
///
/// `out` must have room for [`encoded_len`](Encode::encoded_len) more octets;
/// growable buffers (`Vec<u8>`, `BytesMut`) always do.
pub trait Encode {
    /// Writes the value, its CRLF included.
    fn encode<B: BufMut + ?Sized>(&self, out: &mut B);

    /// The number of octets [`encode`](Encode::encode) writes.
    fn encoded_len(&self) -> usize;

    /// The value's octets in a new vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }
}

/// A value whose encoding is one line of a multi-line body that never starts with
/// `.`, so it goes on the wire without dot-stuffing (R1939-12).
pub trait BodyLine: Encode {}

mod status;

pub(crate) use status::{put_greeting, put_status, Piece};

/// Where encoded pieces go: a buffer, or a counter.
trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn number(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        self.put(decimal(n, &mut digits));
    }

    /// A space, then `bytes`: the next argument of a line.
    fn arg(&mut self, bytes: &[u8]) {
        self.put(b" ");
        self.put(bytes);
    }

    /// A space, then `n` in decimal: the next numeric argument of a line.
    fn number_arg(&mut self, n: u64) {
        self.put(b" ");
        self.number(n);
    }
}

/// `n` in decimal, written into the end of `digits`: the crate's one decimal
/// writer.
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            // n % 10 < 10, so the cast keeps the value.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    digits.get(start..).unwrap_or_default()
}

/// Writes `n` in decimal, as every number on the wire is written.
pub(crate) fn put_decimal<B: BufMut + ?Sized>(out: &mut B, n: u64) {
    let mut digits = [0u8; 20];
    out.put_slice(decimal(n, &mut digits));
}

/// The number of octets [`put_decimal`] writes for `n`.
pub(crate) fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

struct Buf<'a, B: BufMut + ?Sized>(&'a mut B);

impl<B: BufMut + ?Sized> Sink for Buf<'_, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}

struct Count(usize);

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Writes a value's pieces to a sink; `Encode` is derived from it.
trait Emit {
    fn emit(&self, out: &mut dyn Sink);
}

macro_rules! encode_via_emit {
    ($($ty:ty),* $(,)?) => {$(
        impl Encode for $ty {
            fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
                self.emit(&mut Buf(out));
            }

            fn encoded_len(&self) -> usize {
                let mut count = Count(0);
                self.emit(&mut count);
                count.0
            }
        }
    )*};
}

encode_via_emit!(
    Command,
    AuthResponse,
    StatusLine,
    Greeting,
    Continuation,
    Capability,
    ScanListing,
    UidListing,
    LanguageListing,
    GroupListing,
);

impl BodyLine for Capability {}
impl BodyLine for ScanListing {}
impl BodyLine for UidListing {}
impl BodyLine for LanguageListing {}
impl BodyLine for GroupListing {}

const CRLF: &[u8] = b"\r\n";

fn extension(ext: &Extension, out: &mut dyn Sink) {
    out.put(ext.keyword().as_bytes());
    for arg in ext.args() {
        out.arg(arg.as_bytes());
    }
}

impl Emit for Command {
    fn emit(&self, out: &mut dyn Sink) {
        out.put(self.keyword());
        match self {
            Command::User(name) => out.arg(name.as_bytes()),
            Command::Pass(password) => out.arg(password.expose_secret()),
            Command::Apop { name, digest } => {
                out.arg(name.as_bytes());
                out.arg(digest.as_bytes());
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                out.arg(mechanism.as_bytes());
                match initial_response {
                    None => {}
                    Some(InitialResponse::Empty) => out.put(b" ="),
                    Some(InitialResponse::Base64(text)) => out.arg(text.expose_secret()),
                }
            }
            Command::Lang(Some(range)) => out.arg(range.as_bytes()),
            Command::List(Some(msg))
            | Command::Retr(msg)
            | Command::Dele(msg)
            | Command::Uidl(Some(msg)) => out.number_arg(u64::from(msg.get())),
            Command::Top { msg, lines } => {
                out.number_arg(u64::from(msg.get()));
                out.number_arg(u64::from(*lines));
            }
            Command::Xtnd(xtnd) => {
                out.put(b" ");
                match xtnd {
                    Xtnd::Bboards(name) => {
                        out.put(b"BBOARDS");
                        if let Some(name) = name {
                            out.arg(name.as_bytes());
                        }
                    }
                    Xtnd::Archive(name) => {
                        out.put(b"ARCHIVE ");
                        out.put(name.as_bytes());
                    }
                    Xtnd::XBboards(name) => {
                        out.put(b"X-BBOARDS ");
                        out.put(name.as_bytes());
                    }
                    Xtnd::Other(ext) => extension(ext, out),
                }
            }
            Command::Other(ext) => {
                // The keyword is already out.
                for arg in ext.args() {
                    out.arg(arg.as_bytes());
                }
            }
            Command::Stls
            | Command::Capa
            | Command::Utf8
            | Command::Lang(None)
            | Command::Quit
            | Command::Stat
            | Command::List(None)
            | Command::Noop
            | Command::Rset
            | Command::Uidl(None) => {}
        }
        out.put(CRLF);
    }
}

impl Emit for AuthResponse {
    fn emit(&self, out: &mut dyn Sink) {
        match self {
            AuthResponse::Base64(text) => out.put(text.expose_secret()),
            AuthResponse::Empty => {}
            AuthResponse::Cancel => out.put(b"*"),
        }
        out.put(CRLF);
    }
}

/// `+OK` or `-ERR`, then ` [code]` when there is one: the octets before a status
/// line's text. The code is written as its octets (levels joined by `/`).
fn status_prefix<S: Sink + ?Sized>(out: &mut S, status: Status, code: Option<&ResponseCode>) {
    out.put(match status {
        Status::Ok => b"+OK",
        Status::Err => b"-ERR",
    });
    if let Some(code) = code {
        out.put(b" [");
        for (i, level) in code.levels().iter().enumerate() {
            if i > 0 {
                out.put(b"/");
            }
            out.put(level.as_bytes());
        }
        out.put(b"]");
    }
}

impl Emit for StatusLine {
    fn emit(&self, out: &mut dyn Sink) {
        status_prefix(out, self.status(), self.code());
        if !self.text().is_empty() {
            out.arg(self.text().as_bytes());
        }
        out.put(CRLF);
    }
}

/// Writes a SASL continuation line, `+ ` and the base64 (R5034-5).
pub(crate) fn put_continuation<B: BufMut + ?Sized>(out: &mut B, base64: &[u8]) {
    continuation(&mut Buf(out), base64);
}

fn continuation<S: Sink + ?Sized>(out: &mut S, base64: &[u8]) {
    // Always `+ `, even for the empty challenge (R5034-5, IMPL-12).
    out.put(b"+ ");
    out.put(base64);
    out.put(CRLF);
}

/// Writes a scan listing line, `msg size [maxima]` (R1939-32, R1082-4).
pub(crate) fn put_scan<B: BufMut + ?Sized>(out: &mut B, msg: u64, size: u64, maxima: Option<u64>) {
    let mut out = Buf(out);
    scan_text(&mut out, msg, size, maxima);
    out.put(CRLF);
}

/// Writes a unique-id listing line, `msg unique-id` (R1939-39).
pub(crate) fn put_uid<B: BufMut + ?Sized>(out: &mut B, msg: u64, uid: &[u8]) {
    let mut out = Buf(out);
    uid_text(&mut out, msg, uid);
    out.put(CRLF);
}

/// Writes a language listing line, `tag [description]` (RFC 6856 §3).
pub(crate) fn put_language<B: BufMut + ?Sized>(
    out: &mut B,
    tag: &[u8],
    description: Option<&[u8]>,
) {
    language(&mut Buf(out), tag, description);
}

fn language<S: Sink + ?Sized>(out: &mut S, tag: &[u8], description: Option<&[u8]>) {
    out.put(tag);
    if let Some(description) = description {
        out.arg(description);
    }
    out.put(CRLF);
}

/// The line that ends a multi-line reply (R1939-11).
const END: &[u8] = b".\r\n";

/// Writes the `.` line that ends a multi-line reply (R1939-11).
pub(crate) fn put_end<B: BufMut + ?Sized>(out: &mut B) {
    out.put_slice(END);
}

impl Emit for Greeting {
    fn emit(&self, out: &mut dyn Sink) {
        self.line().emit(out);
    }
}

impl Emit for Continuation {
    fn emit(&self, out: &mut dyn Sink) {
        continuation(out, self.base64());
    }
}

impl Emit for Capability {
    fn emit(&self, out: &mut dyn Sink) {
        out.put(self.tag());
        match self {
            Capability::Sasl(mechanisms) => {
                for m in mechanisms {
                    out.arg(m.as_bytes());
                }
            }
            Capability::LoginDelay { seconds, per_user } => {
                out.number_arg(u64::from(*seconds));
                if *per_user {
                    out.put(b" USER");
                }
            }
            Capability::Expire { expire, per_user } => {
                out.put(b" ");
                match expire {
                    Expire::Days(days) => out.number(u64::from(*days)),
                    Expire::Never => out.put(b"NEVER"),
                }
                if *per_user {
                    out.put(b" USER");
                }
            }
            Capability::Implementation(text) => {
                if !text.is_empty() {
                    out.arg(text.as_bytes());
                }
            }
            Capability::Utf8 { user: true } => out.put(b" USER"),
            Capability::Other(other) => {
                if let Some(args) = other.args() {
                    out.arg(args.as_bytes());
                }
            }
            Capability::Top
            | Capability::User
            | Capability::RespCodes
            | Capability::Pipelining
            | Capability::Uidl
            | Capability::Stls
            | Capability::AuthRespCode
            | Capability::Utf8 { user: false }
            | Capability::Lang => {}
        }
        out.put(CRLF);
    }
}

/// `msg size [maxima]`, without a line ending.
fn scan_text<S: Sink + ?Sized>(out: &mut S, msg: u64, size: u64, maxima: Option<u64>) {
    out.number(msg);
    out.number_arg(size);
    if let Some(maxima) = maxima {
        out.number_arg(maxima);
    }
}

/// `msg unique-id`, without a line ending.
fn uid_text<S: Sink + ?Sized>(out: &mut S, msg: u64, uid: &[u8]) {
    out.number(msg);
    out.arg(uid);
}

impl Emit for ScanListing {
    fn emit(&self, out: &mut dyn Sink) {
        scan_text(out, u64::from(self.msg.get()), self.size, self.maxima);
        out.put(CRLF);
    }
}

impl Emit for UidListing {
    fn emit(&self, out: &mut dyn Sink) {
        uid_text(out, u64::from(self.msg.get()), self.uid.as_bytes());
        out.put(CRLF);
    }
}

impl Emit for LanguageListing {
    fn emit(&self, out: &mut dyn Sink) {
        language(
            out,
            self.tag.as_bytes(),
            self.description.as_ref().map(Text::as_bytes),
        );
    }
}

impl Emit for GroupListing {
    fn emit(&self, out: &mut dyn Sink) {
        out.put(self.name.as_bytes());
        out.number_arg(self.maxima);
        out.put(CRLF);
    }
}

/// Collects a single-line text (digits, tags and ids only, far below the text
/// limit).
fn text_of(f: impl Fn(&mut dyn Sink)) -> Text {
    let mut bytes = Vec::new();
    f(&mut Buf(&mut bytes));
    Text::from_checked(bytes)
}

impl DropListing {
    /// The text of a STAT reply, `count size` (R1939-31), to put after `+OK `.
    ///
    /// ```
    /// use pop3_proto::encode::Encode;
    /// use pop3_proto::types::{DropListing, StatusLine};
    /// let text = DropListing { count: 2, size: 320 }.to_text();
    /// assert_eq!(StatusLine::ok(text).unwrap().to_vec(), b"+OK 2 320\r\n");
    /// ```
    pub fn to_text(&self) -> Text {
        text_of(|out| {
            out.number(u64::from(self.count));
            out.number_arg(self.size);
        })
    }
}

impl ScanListing {
    /// The text of a `LIST n` reply, `msg size` (R1939-32), to put after `+OK `.
    ///
    /// ```
    /// use pop3_proto::types::{MessageNumber, ScanListing};
    /// let scan = ScanListing { msg: MessageNumber::new(2).unwrap(), size: 200, maxima: None };
    /// assert_eq!(scan.to_text().as_bytes(), b"2 200");
    /// ```
    pub fn to_text(&self) -> Text {
        text_of(|out| scan_text(out, u64::from(self.msg.get()), self.size, self.maxima))
    }
}

impl UidListing {
    /// The text of a `UIDL n` reply, `msg unique-id` (R1939-39), to put after
    /// `+OK `.
    pub fn to_text(&self) -> Text {
        text_of(|out| uid_text(out, u64::from(self.msg.get()), self.uid.as_bytes()))
    }
}

/// A whole multi-line reply: the first line, the body lines, and the `.` line
/// (R1939-11). The body lines need no dot-stuffing ([`BodyLine`]). The first line
/// should be `+OK`: a `-ERR` reply is never multi-line.
///
/// ```
/// use pop3_proto::encode::{Encode, MultiLine};
/// use pop3_proto::types::{Capability, StatusLine, Text};
/// let first = StatusLine::ok(Text::new("Capability list follows").unwrap()).unwrap();
/// let caps = [Capability::Top, Capability::Uidl];
/// assert_eq!(
///     MultiLine::new(&first, &caps).to_vec(),
///     b"+OK Capability list follows\r\nTOP\r\nUIDL\r\n.\r\n"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MultiLine<'a, T: BodyLine> {
    first: &'a StatusLine,
    body: &'a [T],
}

impl<'a, T: BodyLine> MultiLine<'a, T> {
    /// The reply made of `first` and `body`.
    pub fn new(first: &'a StatusLine, body: &'a [T]) -> Self {
        MultiLine { first, body }
    }
}

impl<T: BodyLine> Encode for MultiLine<'_, T> {
    fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        self.first.encode(out);
        for line in self.body {
            line.encode(out);
        }
        put_end(out);
    }

    fn encoded_len(&self) -> usize {
        self.first.encoded_len()
            + self.body.iter().map(Encode::encoded_len).sum::<usize>()
            + END.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MessageNumber;

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 120, u64::from(u32::MAX), u64::MAX] {
            let scan = ScanListing {
                msg: MessageNumber::new(1).unwrap(),
                size: n,
                maxima: None,
            };
            assert_eq!(scan.to_vec(), alloc::format!("1 {n}\r\n").into_bytes());
            assert_eq!(scan.encoded_len(), scan.to_vec().len());
        }
    }

    #[test]
    fn empty_continuation_keeps_its_space_r5034_5() {
        assert_eq!(Continuation::empty().to_vec(), b"+ \r\n");
    }

    #[test]
    fn dyn_buf_mut() {
        let mut v: Vec<u8> = Vec::new();
        let out: &mut dyn BufMut = &mut v;
        Command::Quit.encode(out);
        assert_eq!(v, b"QUIT\r\n");
    }
}

//! What a server sends: the greeting, status lines, the listings inside replies,
//! and SASL continuation lines.

use alloc::vec::Vec;

use super::{GroupName, LanguageTag, MessageNumber, ResponseCode, Text, UniqueId, ValueError};

/// The status indicator (R1939-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Status {
    /// `+OK`
    Ok,
    /// `-ERR`
    Err,
}

/// A status line: `+OK`/`-ERR`, an optional response code (R2449-20), and text.
///
/// A text that would read as a response code must be given as one: the value has a
/// single representation, so it encodes and parses back to itself.
///
/// ```
/// use pop3_proto::types::{ResponseCode, Status, StatusLine, Text};
/// let line = StatusLine::new(Status::Err, Some(ResponseCode::in_use()),
///     Text::new("Do you have another POP session running?").unwrap()).unwrap();
/// assert!(line.is_err());
/// assert_eq!(line.text().as_bytes(), b"Do you have another POP session running?");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    status: Status,
    code: Option<ResponseCode>,
    text: Text,
}

impl StatusLine {
    /// The longest status line, CRLF included (R1939-9).
    pub const MAX_LEN: usize = 512;

    /// Builds a status line. Refuses a text that starts with something a parser
    /// would read as a response code when `code` is `None`, and a line longer than
    /// 512 octets with its CRLF (R1939-9).
    pub fn new(status: Status, code: Option<ResponseCode>, text: Text) -> Result<Self, ValueError> {
        if code.is_none() && super::split_code(text.as_bytes()).is_some() {
            return Err(ValueError::Reserved {
                what: "status text starting with a response code",
            });
        }
        let len = Self::line_len(status, code.as_ref(), text.as_bytes().len());
        let line = StatusLine { status, code, text };
        if len > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                what: "status line",
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(line)
    }

    /// `+OK` with a text.
    pub fn ok(text: Text) -> Result<Self, ValueError> {
        Self::new(Status::Ok, None, text)
    }

    /// `-ERR` with a text.
    pub fn err(text: Text) -> Result<Self, ValueError> {
        Self::new(Status::Err, None, text)
    }

    /// Builds without the length check, for lines read from a peer, whose limit
    /// the framing layer sets.
    pub(crate) fn from_parts(status: Status, code: Option<ResponseCode>, text: Text) -> Self {
        StatusLine { status, code, text }
    }

    /// The octets this line takes on the wire, CRLF included.
    pub fn encoded_len(&self) -> usize {
        Self::line_len(self.status, self.code.as_ref(), self.text.as_bytes().len())
    }

    /// The length rule of a status line (RFC 1939 §3, R1939-9), written once: the
    /// octets of `status`, `code` and a text of `text_len` octets, CRLF included.
    /// [`StatusLine::new`] refuses a line over [`StatusLine::MAX_LEN`]; the
    /// cutting writer of [`crate::encode`] cuts a text to
    /// [`StatusLine::text_room`].
    pub(crate) fn line_len(status: Status, code: Option<&ResponseCode>, text_len: usize) -> usize {
        let mut len = match status {
            Status::Ok => 3,
            Status::Err => 4,
        };
        if let Some(code) = code {
            // ` [` levels joined by `/` `]`
            len += 3 + code.levels().len().saturating_sub(1);
            len += code
                .levels()
                .iter()
                .map(|l| l.as_bytes().len())
                .sum::<usize>();
        }
        if text_len > 0 {
            len += 1 + text_len;
        }
        len + 2
    }

    /// The most octets of text a status line with `status` and `code` can carry
    /// within [`StatusLine::MAX_LEN`].
    pub(crate) fn text_room(status: Status, code: Option<&ResponseCode>) -> usize {
        // The space before the text is counted by a one-octet text.
        Self::MAX_LEN.saturating_sub(Self::line_len(status, code, 1) - 1)
    }

    /// The status indicator.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether the status is `+OK`.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// Whether the status is `-ERR`.
    pub fn is_err(&self) -> bool {
        self.status == Status::Err
    }

    /// The response code, if the text began with one.
    pub fn code(&self) -> Option<&ResponseCode> {
        self.code.as_ref()
    }

    /// The text after the status and the code.
    pub fn text(&self) -> &Text {
        &self.text
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for StatusLine {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let status = u.arbitrary()?;
        let code = u.arbitrary()?;
        let text: Text = u.arbitrary()?;
        StatusLine::new(status, code, text).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// The greeting (R1939-18, R2449-5): a positive status line whose text may hold an
/// APOP timestamp, the first `<`...`>` pair (E-7).
///
/// ```
/// use pop3_proto::types::{Greeting, Text};
/// let g = Greeting::new(None, Text::new("POP3 server ready <1896.697170952@dbc.mtview.ca.us>").unwrap()).unwrap();
/// assert_eq!(g.timestamp(), Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    line: StatusLine,
}

impl Greeting {
    /// Builds a greeting from an optional response code and a text.
    pub fn new(code: Option<ResponseCode>, text: Text) -> Result<Self, ValueError> {
        Ok(Greeting {
            line: StatusLine::new(Status::Ok, code, text)?,
        })
    }

    pub(crate) fn from_line(line: StatusLine) -> Self {
        Greeting { line }
    }

    /// The greeting as a status line.
    pub fn line(&self) -> &StatusLine {
        &self.line
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&ResponseCode> {
        self.line.code()
    }

    /// The text after `+OK` (and the code).
    pub fn text(&self) -> &Text {
        self.line.text()
    }

    /// The first `<`...`>` pair of the text, brackets included, as it came. It is
    /// not checked here: APOP checks it as an RFC 822 msg-id before any use.
    pub fn timestamp(&self) -> Option<&[u8]> {
        let text = self.line.text().as_bytes();
        let start = memchr::memchr(b'<', text)?;
        let rest = text.get(start..)?;
        let end = memchr::memchr(b'>', rest)?;
        rest.get(..=end)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Greeting {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let code = u.arbitrary()?;
        let text: Text = u.arbitrary()?;
        Greeting::new(code, text).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// The drop listing of STAT (R1939-31): `+OK count size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DropListing {
    /// Messages not marked as deleted.
    pub count: u32,
    /// Their size in octets.
    pub size: u64,
}

/// A scan listing (R1939-32): `msg size`, in LIST replies; after `XTND BBOARDS`,
/// `msg size maxima` (R1082-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ScanListing {
    /// The message number.
    pub msg: MessageNumber,
    /// Its exact size in octets (R1939-14).
    pub size: u64,
    /// The MAXIMA field of a bulletin-board listing (RFC 1082).
    pub maxima: Option<u64>,
}

/// A unique-id listing (R1939-39): `msg unique-id`, nothing after it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UidListing {
    /// The message number.
    pub msg: MessageNumber,
    /// Its unique-id.
    pub uid: UniqueId,
}

/// One line of a LANG listing (R6856-6): a tag, optionally followed by the
/// language's name in that language.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LanguageListing {
    /// The language tag.
    pub tag: LanguageTag,
    /// Its description, if given.
    pub description: Option<Text>,
}

/// A discussion-group listing of `XTND BBOARDS` (R1082-3): `NAME MAXIMA`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GroupListing {
    /// The group name (case-insensitive).
    pub name: GroupName,
    /// The highest message number ever used in the group.
    pub maxima: u64,
}

/// A SASL continuation line from the server (R5034-5): `+ ` and base64 text, the
/// text possibly empty.
///
/// ```
/// use pop3_proto::types::Continuation;
/// assert!(Continuation::new("dGVzdA==").is_ok());
/// assert!(Continuation::new("not base64!").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    data: Vec<u8>,
}

impl Continuation {
    /// Builds a continuation from its base64 text, refusing octets outside the
    /// base64 alphabet and `=`. (Whether the padding is well placed is checked when
    /// the text is decoded.)
    pub fn new(base64: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let data = base64.into();
        if let Some(offset) = data.iter().position(|&b| !super::is_base64_byte(b)) {
            return Err(ValueError::ForbiddenByte {
                what: "base64 text",
                byte: data.get(offset).copied().unwrap_or_default(),
                offset,
            });
        }
        Ok(Continuation { data })
    }

    /// The empty challenge, `+ ` CRLF.
    pub fn empty() -> Self {
        Continuation { data: Vec::new() }
    }

    /// The base64 text, as sent.
    pub fn base64(&self) -> &[u8] {
        &self.data
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Continuation {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let groups = u.int_in_range(0..=8usize)?;
        Ok(Continuation {
            data: super::command::arbitrary_base64(u, groups)?,
        })
    }
}

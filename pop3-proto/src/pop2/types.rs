//! The POP2 vocabulary (RFC 937): arguments, commands, replies and the greeting,
//! each checked when it is built so that it always encodes to a line within the
//! RFC's limits (R937-8) that the parser reads back as the same value.

use alloc::vec::Vec;
use core::fmt;

use crate::secret::Secret;
use crate::types::{Text, ValueError};

/// The longest command line, counting the command word and CRLF (R937-8).
pub const MAX_COMMAND_LINE: usize = 512;
/// The longest reply line, counting the indicator and CRLF (R937-8).
pub const MAX_REPLY_LINE: usize = 512;

/// Octets no POP2 line may carry: CR, LF (line ends) and NUL.
pub(crate) fn is_forbidden(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | 0)
}

/// The length of `bytes` once quoted: `\` before every space and backslash
/// (R937-7).
pub(crate) fn quoted_len(bytes: &[u8]) -> usize {
    bytes.len() + bytes.iter().filter(|&&b| b == b' ' || b == b'\\').count()
}

fn check_argument(what: &'static str, bytes: &[u8]) -> Result<(), ValueError> {
    if bytes.is_empty() {
        return Err(ValueError::Empty { what });
    }
    if let Some(offset) = bytes.iter().position(|&b| is_forbidden(b)) {
        return Err(ValueError::ForbiddenByte {
            what,
            byte: bytes.get(offset).copied().unwrap_or_default(),
            offset,
        });
    }
    let len = quoted_len(bytes);
    if len > Argument::MAX_QUOTED_LEN {
        return Err(ValueError::TooLong {
            what,
            len,
            max: Argument::MAX_QUOTED_LEN,
        });
    }
    Ok(())
}

/// A server line as built, refused when it would exceed 512 octets with its CRLF.
fn fits_reply_line<T: crate::encode::Encode>(what: &'static str, line: T) -> Result<T, ValueError> {
    let len = line.encoded_len();
    if len > MAX_REPLY_LINE {
        return Err(ValueError::TooLong {
            what,
            len,
            max: MAX_REPLY_LINE,
        });
    }
    Ok(line)
}

fn debug_bytes(f: &mut fmt::Formatter<'_>, name: &str, bytes: &[u8]) -> fmt::Result {
    match core::str::from_utf8(bytes) {
        Ok(s) => write!(f, "{name}({s:?})"),
        Err(_) => write!(f, "{name}({:?})", bytes.escape_ascii()),
    }
}

/// An argument of `HELO` or `FOLD`: a user name or a mailbox name.
///
/// Any octets but CR, LF and NUL, spaces and backslashes included: on the wire
/// they are quoted as `\ ` and `\\` (R937-7). Quoted, an argument is at most
/// [`Argument::MAX_QUOTED_LEN`] octets, so `HELO user password` always fits the
/// 512-octet command line (R937-8). This limit is the crate's, not the RFC's.
///
/// ```
/// use pop3_proto::pop2::Argument;
/// let a = Argument::new("My Mail\\Box").unwrap();
/// assert_eq!(a.quoted_len(), 13);
/// assert!(Argument::new("").is_err());
/// assert!(Argument::new("x\r\nQUIT").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Argument(Vec<u8>);

impl Argument {
    /// The longest quoted form, in octets: two of them and `HELO`, its spaces and
    /// CRLF make 508 octets.
    pub const MAX_QUOTED_LEN: usize = 250;

    /// Builds an argument from its unquoted octets.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let bytes = bytes.into();
        check_argument("POP2 argument", &bytes)?;
        Ok(Argument(bytes))
    }

    /// The unquoted octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The argument as a string, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }

    /// The length of the quoted form on the wire.
    pub fn quoted_len(&self) -> usize {
        quoted_len(&self.0)
    }
}

impl fmt::Debug for Argument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(f, "Argument", &self.0)
    }
}

impl TryFrom<&str> for Argument {
    type Error = ValueError;
    fn try_from(s: &str) -> Result<Self, ValueError> {
        Argument::new(s.as_bytes())
    }
}

/// The password of `HELO`: the same rules as [`Argument`], redacted in `Debug`
/// and wiped on drop.
///
/// ```
/// use pop3_proto::pop2::Password;
/// let pw = Password::new("two words").unwrap();
/// assert_eq!(format!("{pw:?}"), "Password(Secret([REDACTED]))");
/// assert_eq!(pw.expose_secret(), b"two words");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Password(Secret<Vec<u8>>);

impl Password {
    /// Builds a password from its unquoted octets.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let secret = Secret::new(bytes.into());
        check_argument("POP2 password", secret.expose_secret())?;
        Ok(Password(secret))
    }

    /// The unquoted octets. Every call site that reveals them names this method.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// The host name in the greeting (`+ POP2 <host>`): 1-255 printable ASCII
/// octets, no space.
///
/// ```
/// use pop3_proto::pop2::HostName;
/// assert!(HostName::new("USC-ISIF.ARPA").is_ok());
/// assert!(HostName::new("two words").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HostName(Vec<u8>);

impl HostName {
    /// Builds a host name.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let bytes = bytes.into();
        let what = "POP2 host name";
        if bytes.is_empty() {
            return Err(ValueError::Empty { what });
        }
        if bytes.len() > 255 {
            return Err(ValueError::TooLong {
                what,
                len: bytes.len(),
                max: 255,
            });
        }
        if let Some(offset) = bytes.iter().position(|b| !(0x21..=0x7E).contains(b)) {
            return Err(ValueError::ForbiddenByte {
                what,
                byte: bytes.get(offset).copied().unwrap_or_default(),
                offset,
            });
        }
        Ok(HostName(bytes))
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as a string (always ASCII).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(f, "HostName", &self.0)
    }
}

/// One POP2 command (R937-3).
///
/// ```
/// use pop3_proto::encode::Encode;
/// use pop3_proto::pop2::{Argument, Command, Password};
/// let helo = Command::Helo {
///     user: Argument::new("POSTEL").unwrap(),
///     password: Password::new("SECRET").unwrap(),
/// };
/// assert_eq!(helo.to_vec(), b"HELO POSTEL SECRET\r\n");
/// assert_eq!(Command::parse(b"READ 7").unwrap(), Command::Read(Some(7)));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Command {
    /// `HELO user password`: log in; the reply is `#nnn`, the number of messages
    /// in the default mailbox, or `-` and a close.
    Helo {
        /// The user name.
        user: Argument,
        /// The password.
        password: Password,
    },
    /// `FOLD mailbox`: release the current mailbox (its deletions happen now,
    /// R937-6) and select another; the reply is `#nnn`.
    Fold(Argument),
    /// `READ [n]`: the reply is `=ccc`, the size of message `n` (which becomes the
    /// current message) or of the current message; `=0` when there is none.
    Read(Option<u32>),
    /// `RETR`: the server sends exactly `ccc` octets of the current message, with
    /// no terminator.
    Retr,
    /// `ACKS`: keep the message just retrieved and move on; the reply is `=ccc`.
    Acks,
    /// `ACKD`: mark the message just retrieved deleted and move on; the reply is
    /// `=ccc`.
    Ackd,
    /// `NACK`: the message was not received properly: keep it, do not move on;
    /// the reply is `=ccc` again.
    Nack,
    /// `QUIT`: the reply is `+`, then the server closes.
    Quit,
}

impl Command {
    /// The command word, upper case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::Helo { .. } => "HELO",
            Command::Fold(_) => "FOLD",
            Command::Read(_) => "READ",
            Command::Retr => "RETR",
            Command::Acks => "ACKS",
            Command::Ackd => "ACKD",
            Command::Nack => "NACK",
            Command::Quit => "QUIT",
        }
    }
}

/// What a reply says, from its first character (R937-4).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ReplyKind {
    /// `+`: success (to QUIT; the greeting is a [`Greeting`]).
    Ok,
    /// `-`: an error; the server closes the connection (R937-9).
    Err,
    /// `#nnn`: the number of messages in the mailbox (to HELO and FOLD).
    Count(u32),
    /// `=ccc`: the length in octets of the current message (to READ, ACKS,
    /// ACKD, NACK); 0 when there is none.
    Length(u64),
}

/// One reply line: its kind and its free text (R937-4). The whole line, CRLF
/// included, is at most 512 octets (R937-8).
///
/// ```
/// use pop3_proto::encode::Encode;
/// use pop3_proto::pop2::{Reply, ReplyKind};
/// let r = Reply::parse(b"=537 characters in message 1").unwrap();
/// assert_eq!(r.kind(), ReplyKind::Length(537));
/// assert_eq!(r.text().as_bytes(), b"characters in message 1");
/// assert_eq!(r.to_vec(), b"=537 characters in message 1\r\n");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reply {
    kind: ReplyKind,
    text: Text,
}

impl Reply {
    /// Builds a reply, refusing one whose line would exceed 512 octets.
    pub fn new(kind: ReplyKind, text: Text) -> Result<Self, ValueError> {
        fits_reply_line("POP2 reply line", Reply { kind, text })
    }

    /// The kind, with its number.
    pub fn kind(&self) -> ReplyKind {
        self.kind
    }

    /// The text after the indicator (possibly empty).
    pub fn text(&self) -> &Text {
        &self.text
    }

    /// Splits the reply into its kind and text.
    pub fn into_parts(self) -> (ReplyKind, Text) {
        (self.kind, self.text)
    }
}

/// The server's greeting: `+ POP2 <host> [text]` (R937-4).
///
/// ```
/// use pop3_proto::encode::Encode;
/// use pop3_proto::pop2::Greeting;
/// let g = Greeting::parse(b"+ POP2 USC-ISIF.ARPA Server").unwrap();
/// assert_eq!(g.host().as_str(), "USC-ISIF.ARPA");
/// assert_eq!(g.text().as_bytes(), b"Server");
/// assert_eq!(g.to_vec(), b"+ POP2 USC-ISIF.ARPA Server\r\n");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Greeting {
    host: HostName,
    text: Text,
}

impl Greeting {
    /// Builds a greeting, refusing one whose line would exceed 512 octets.
    pub fn new(host: HostName, text: Text) -> Result<Self, ValueError> {
        fits_reply_line("POP2 greeting", Greeting { host, text })
    }

    /// The server's host name.
    pub fn host(&self) -> &HostName {
        &self.host
    }

    /// The text after the host name (possibly empty).
    pub fn text(&self) -> &Text {
        &self.text
    }
}

crate::error::line_parse_error! {
    /// Why a POP2 line could not be parsed. Offsets count from the start of the line.
    pub enum ParseError {
        /// The line, with its CRLF, was longer than 512 octets (R937-8).
        #[error("the line is {len} octets with its CRLF, more than {max}")]
        TooLong {
            /// Its length with CRLF.
            len: usize,
            /// The limit.
            max: usize,
        },
        /// A command word that is not one of RFC 937's.
        #[error("unknown command")]
        UnknownCommand,
        /// A reply that does not start with `+`, `-`, `#` or `=`.
        #[error("the reply does not start with +, -, # or =")]
        UnknownIndicator,
        /// A `+` line that is not `+ POP2 <host> [text]`.
        #[error("not a POP2 greeting")]
        NotGreeting,
        /// A `\` at the end of the line, escaping nothing (R937-7).
        #[error("a backslash at offset {offset} escapes nothing")]
        DanglingEscape {
            /// Where the backslash was.
            offset: usize,
        },
        /// A number that is missing, not decimal, or too large.
        #[error("bad number at offset {offset}")]
        BadNumber {
            /// Where the number starts.
            offset: usize,
        },
        /// No space between the indicator (or its number) and the text.
        #[error("a space is missing at offset {offset}")]
        MissingSpace {
            /// Where the space should be.
            offset: usize,
        },
    }
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use arbitrary::{Arbitrary, Result, Unstructured};

    fn bytes(u: &mut Unstructured<'_>, max: usize, ok: fn(u8) -> bool) -> Result<Vec<u8>> {
        let len = u.int_in_range(1..=max)?;
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            let b: u8 = u.arbitrary()?;
            out.push(if ok(b) { b } else { b'a' + b % 26 });
        }
        Ok(out)
    }

    impl<'a> Arbitrary<'a> for Argument {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Argument::new(bytes(u, 24, |b| !is_forbidden(b))?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        }
    }

    impl<'a> Arbitrary<'a> for Password {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Password::new(bytes(u, 24, |b| !is_forbidden(b))?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        }
    }

    impl<'a> Arbitrary<'a> for HostName {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            HostName::new(bytes(u, 24, |b| (0x21..=0x7E).contains(&b))?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        }
    }

    impl<'a> Arbitrary<'a> for Command {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Ok(match u.int_in_range(0..=7u8)? {
                0 => Command::Helo {
                    user: u.arbitrary()?,
                    password: u.arbitrary()?,
                },
                1 => Command::Fold(u.arbitrary()?),
                2 => Command::Read(u.arbitrary()?),
                3 => Command::Retr,
                4 => Command::Acks,
                5 => Command::Ackd,
                6 => Command::Nack,
                _ => Command::Quit,
            })
        }
    }

    impl<'a> Arbitrary<'a> for ReplyKind {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Ok(match u.int_in_range(0..=3u8)? {
                0 => ReplyKind::Ok,
                1 => ReplyKind::Err,
                2 => ReplyKind::Count(u.arbitrary()?),
                _ => ReplyKind::Length(u.arbitrary()?),
            })
        }
    }

    impl<'a> Arbitrary<'a> for Reply {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Reply::new(u.arbitrary()?, u.arbitrary()?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        }
    }

    impl<'a> Arbitrary<'a> for Greeting {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            Greeting::new(u.arbitrary()?, u.arbitrary()?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        }
    }
}

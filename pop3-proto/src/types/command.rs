//! Commands a client sends (RFC 1939, 2449, 5034, 2595, 6856, 1082) and the lines
//! it sends inside an AUTH exchange.

use alloc::vec::Vec;

use super::{
    ApopDigest, Base64Text, Keyword, LanguageRange, Mechanism, MessageNumber, Param, Password,
    Username, ValueError,
};

/// One POP3 command.
///
/// ```
/// use pop3_proto::types::{Command, MessageNumber};
/// let retr = Command::Retr(MessageNumber::new(1).unwrap());
/// assert!(retr.is_multi_line_reply());
/// assert!(!Command::List(Some(MessageNumber::new(2).unwrap())).is_multi_line_reply());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Command {
    /// `USER name` (R1939-24).
    User(Username),
    /// `PASS string` (R1939-26): the password keeps its spaces.
    Pass(Password),
    /// `APOP name digest` (R1939-27).
    Apop {
        /// The mailbox name.
        name: Username,
        /// MD5 of timestamp and secret, lower-case hex (R1939-29).
        digest: ApopDigest,
    },
    /// `AUTH mechanism [initial-response]` (R5034-3).
    Auth {
        /// The SASL mechanism.
        mechanism: Mechanism,
        /// The initial response, if sent on the command line (R5034-7).
        initial_response: Option<InitialResponse>,
    },
    /// `STLS` (R2595-5).
    Stls,
    /// `CAPA` (R2449-7).
    Capa,
    /// `UTF8` (R6856-4).
    Utf8,
    /// `LANG [range]` (R6856-6): with no argument, asks for the language listing.
    Lang(Option<LanguageRange>),
    /// `QUIT` (R1939-23).
    Quit,
    /// `STAT` (R1939-31).
    Stat,
    /// `LIST [msg]` (R1939-32).
    List(Option<MessageNumber>),
    /// `RETR msg` (R1939-33).
    Retr(MessageNumber),
    /// `DELE msg` (R1939-34).
    Dele(MessageNumber),
    /// `NOOP` (R1939-35).
    Noop,
    /// `RSET` (R1939-36).
    Rset,
    /// `TOP msg n` (R1939-37): headers, the blank line, then `n` body lines.
    Top {
        /// The message.
        msg: MessageNumber,
        /// How many body lines; 0 is allowed.
        lines: u32,
    },
    /// `UIDL [msg]` (R1939-39).
    Uidl(Option<MessageNumber>),
    /// `XTND subcommand ...` (RFC 1082).
    Xtnd(Xtnd),
    /// Any other command: a keyword and its arguments (extensions, IMPL-16).
    Other(Extension),
}

impl Command {
    /// The keyword this command is sent with, upper case.
    pub fn keyword(&self) -> &[u8] {
        match self {
            Command::User(_) => b"USER",
            Command::Pass(_) => b"PASS",
            Command::Apop { .. } => b"APOP",
            Command::Auth { .. } => b"AUTH",
            Command::Stls => b"STLS",
            Command::Capa => b"CAPA",
            Command::Utf8 => b"UTF8",
            Command::Lang(_) => b"LANG",
            Command::Quit => b"QUIT",
            Command::Stat => b"STAT",
            Command::List(_) => b"LIST",
            Command::Retr(_) => b"RETR",
            Command::Dele(_) => b"DELE",
            Command::Noop => b"NOOP",
            Command::Rset => b"RSET",
            Command::Top { .. } => b"TOP",
            Command::Uidl(_) => b"UIDL",
            Command::Xtnd(_) => b"XTND",
            Command::Other(ext) => ext.keyword().as_bytes(),
        }
    }

    /// Whether a `+OK` reply to this command is multi-line (RFC 1939 §3, E-1).
    /// `-ERR` is always one line. For [`Command::Other`] the caller declares the
    /// shape (IMPL-16); this returns `false` for it.
    pub fn is_multi_line_reply(&self) -> bool {
        matches!(
            self,
            Command::Capa
                | Command::List(None)
                | Command::Uidl(None)
                | Command::Lang(None)
                | Command::Retr(_)
                | Command::Top { .. }
                | Command::Xtnd(_)
        )
    }

    /// Whether this command carries a credential (USER name aside): PASS, APOP, AUTH.
    pub fn carries_secret(&self) -> bool {
        matches!(
            self,
            Command::Pass(_) | Command::Apop { .. } | Command::Auth { .. }
        )
    }
}

/// The optional initial response of `AUTH` (R5034-7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum InitialResponse {
    /// A response present but empty, sent as `=`.
    Empty,
    /// The response's base64 text, as sent (it holds credentials, so it is secret).
    Base64(Base64Text),
}

/// Valid base64 text of `groups` quads, the last one possibly padded.
#[cfg(feature = "arbitrary")]
pub(crate) fn arbitrary_base64(
    u: &mut arbitrary::Unstructured<'_>,
    groups: usize,
) -> arbitrary::Result<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(groups * 4);
    for _ in 0..groups * 4 {
        let i: u8 = u.arbitrary()?;
        out.push(ALPHABET.get(usize::from(i % 64)).copied().unwrap_or(b'A'));
    }
    if groups == 0 {
        return Ok(out);
    }
    match u.int_in_range(0..=2u8)? {
        1 => {
            if let Some(last) = out.last_mut() {
                *last = b'=';
            }
        }
        2 => {
            let n = out.len();
            if let Some(tail) = out.get_mut(n.saturating_sub(2)..) {
                tail.copy_from_slice(b"==");
            }
        }
        _ => {}
    }
    Ok(out)
}

/// A line the client sends inside an AUTH exchange (R5034-6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum AuthResponse {
    /// A response: base64 text.
    Base64(Base64Text),
    /// An empty response: an empty line (R5034-17, E-16).
    Empty,
    /// `*`: cancel the exchange.
    Cancel,
}

/// The XTND subcommands of RFC 1082, and any other (IMPL-16).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Xtnd {
    /// `XTND BBOARDS [name]` (R1082-4).
    Bboards(Option<Param>),
    /// `XTND ARCHIVE name` (R1082-5).
    Archive(Param),
    /// `XTND X-BBOARDS name` (R1082-6).
    XBboards(Param),
    /// Any other subcommand (for example `XMIT`), with its arguments.
    Other(Extension),
}

/// A command (or XTND subcommand) this crate has no type for: a keyword and its
/// arguments.
///
/// Its keyword is none of the typed commands' keywords and none of the typed XTND
/// subcommands' (`BBOARDS`, `ARCHIVE`, `X-BBOARDS`), whichever constructor built
/// it, and `XTND keyword args` fits in the 255-octet command limit (R2449-1). So
/// the same value is valid in [`Command::Other`] and in [`Xtnd::Other`], and every
/// command has exactly one representation.
///
/// ```
/// use pop3_proto::types::{Extension, Keyword, Param};
/// let x = Extension::command(Keyword::new("XLST").unwrap(), vec![Param::new("1").unwrap()]);
/// assert!(x.is_ok());
/// assert!(Extension::command(Keyword::new("stat").unwrap(), vec![]).is_err());
/// assert!(Extension::xtnd(Keyword::new("bboards").unwrap(), vec![]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    keyword: Keyword,
    args: Vec<Param>,
}

/// The keywords of the typed commands.
pub(crate) const COMMAND_KEYWORDS: [&str; 18] = [
    "USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "UTF8", "LANG", "QUIT", "STAT", "LIST", "RETR",
    "DELE", "NOOP", "RSET", "TOP", "UIDL", "XTND",
];

/// The XTND subcommands of RFC 1082 that have their own type.
pub(crate) const XTND_KEYWORDS: [&str; 3] = ["BBOARDS", "ARCHIVE", "X-BBOARDS"];

/// The longest command line, CRLF included (R2449-1).
const MAX_COMMAND: usize = 255;

impl Extension {
    /// An extension command, `KEYWORD arg...`.
    pub fn command(keyword: Keyword, args: Vec<Param>) -> Result<Self, ValueError> {
        Self::build(keyword, args)
    }

    /// An XTND subcommand other than BBOARDS, ARCHIVE and X-BBOARDS:
    /// `XTND SUBCOMMAND arg...`. The rules are those of [`Extension::command`].
    pub fn xtnd(subcommand: Keyword, args: Vec<Param>) -> Result<Self, ValueError> {
        Self::build(subcommand, args)
    }

    fn build(keyword: Keyword, args: Vec<Param>) -> Result<Self, ValueError> {
        if COMMAND_KEYWORDS
            .iter()
            .chain(XTND_KEYWORDS.iter())
            .any(|r| r.as_bytes() == keyword.as_bytes())
        {
            return Err(ValueError::Reserved { what: "keyword" });
        }
        let len = "XTND ".len()
            + keyword.as_bytes().len()
            + args.iter().map(|a| 1 + a.as_bytes().len()).sum::<usize>()
            + 2;
        if len > MAX_COMMAND {
            return Err(ValueError::TooLong {
                what: "command line",
                len,
                max: MAX_COMMAND,
            });
        }
        Ok(Extension { keyword, args })
    }

    /// The keyword (or XTND subcommand), upper case.
    pub fn keyword(&self) -> &Keyword {
        &self.keyword
    }

    /// The arguments.
    pub fn args(&self) -> &[Param] {
        &self.args
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Extension {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let keyword: Keyword = u.arbitrary()?;
        let keyword = if COMMAND_KEYWORDS
            .iter()
            .chain(XTND_KEYWORDS.iter())
            .any(|r| r.as_bytes() == keyword.as_bytes())
        {
            Keyword::new("XEXT").map_err(|_| arbitrary::Error::IncorrectFormat)?
        } else {
            keyword
        };
        let n = u.int_in_range(0..=3usize)?;
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            args.push(u.arbitrary()?);
        }
        Extension::command(keyword, args).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

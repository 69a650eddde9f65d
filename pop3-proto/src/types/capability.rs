//! Capabilities of a CAPA reply (RFC 2449 §5-6 and the RFCs that add to it).

use alloc::vec::Vec;
use core::fmt;

use super::atoms::check;
use super::{decimal_u32, Mechanism, Text, ValueError};

/// How long the server keeps mail (R2449-16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Expire {
    /// Kept at least this many days; 0 means the client may not leave mail.
    Days(u32),
    /// Never deleted by the server.
    Never,
}

/// One capability line (RFC 2449 §6). The thirteen known capabilities are typed
/// with their arguments; any other line is kept as it came, never rejected
/// (R2449-12).
///
/// ```
/// use pop3_proto::types::{Capability, Expire};
/// let c = Capability::Expire { expire: Expire::Days(60), per_user: false };
/// assert_eq!(c.tag(), b"EXPIRE");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Capability {
    /// `TOP` (RFC 2449 §6.1).
    Top,
    /// `USER` (RFC 2449 §6.2).
    User,
    /// `SASL mech...` (RFC 5034 §3).
    Sasl(Vec<Mechanism>),
    /// `RESP-CODES` (RFC 2449 §6.4).
    RespCodes,
    /// `LOGIN-DELAY seconds [USER]` (R2449-15).
    LoginDelay {
        /// Seconds between logins.
        seconds: u32,
        /// `USER`: the value varies by user; ask again after login.
        per_user: bool,
    },
    /// `PIPELINING` (R2449-17).
    Pipelining,
    /// `EXPIRE days|NEVER [USER]` (R2449-16).
    Expire {
        /// The retention.
        expire: Expire,
        /// `USER`: the value varies by user; ask again after login.
        per_user: bool,
    },
    /// `UIDL` (RFC 2449 §6.8).
    Uidl,
    /// `IMPLEMENTATION text` (R2449-18): for information only.
    Implementation(Text),
    /// `STLS` (R2595-2).
    Stls,
    /// `AUTH-RESP-CODE` (R3206-1).
    AuthRespCode,
    /// `UTF8 [USER]` (R6856-5).
    Utf8 {
        /// `USER`: UTF-8 is accepted in USER, PASS and APOP.
        user: bool,
    },
    /// `LANG` (R6856-6).
    Lang,
    /// Any other capability line, kept as it came.
    Other(OtherCapability),
}

impl Capability {
    /// The capability's tag, upper case for the typed ones.
    pub fn tag(&self) -> &[u8] {
        match self {
            Capability::Top => b"TOP",
            Capability::User => b"USER",
            Capability::Sasl(_) => b"SASL",
            Capability::RespCodes => b"RESP-CODES",
            Capability::LoginDelay { .. } => b"LOGIN-DELAY",
            Capability::Pipelining => b"PIPELINING",
            Capability::Expire { .. } => b"EXPIRE",
            Capability::Uidl => b"UIDL",
            Capability::Implementation(_) => b"IMPLEMENTATION",
            Capability::Stls => b"STLS",
            Capability::AuthRespCode => b"AUTH-RESP-CODE",
            Capability::Utf8 { .. } => b"UTF8",
            Capability::Lang => b"LANG",
            Capability::Other(o) => o.tag(),
        }
    }
}

/// A capability line this crate has no type for: its tag (`1*cchar`, R2449-8) and
/// the rest of the line after the first space.
///
/// It cannot hold a line that reads as one of the typed capabilities (that line
/// has its own variant), so every capability has one representation. A known tag
/// with arguments the typed form does not allow (`LOGIN-DELAY soon`) is kept here.
#[derive(Clone, PartialEq, Eq)]
pub struct OtherCapability {
    tag: Vec<u8>,
    args: Option<Text>,
}

/// `cchar = %x21-2D / %x2F-7F`: printable, excluding ".".
fn is_cchar(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && b != b'.'
}

impl OtherCapability {
    /// The longest tag.
    pub const MAX_TAG: usize = 64;

    /// Builds an unknown capability line from its tag and the text after it.
    pub fn new(tag: impl Into<Vec<u8>>, args: Option<Text>) -> Result<Self, ValueError> {
        let tag = tag.into();
        check("capability tag", &tag, 1, Self::MAX_TAG, is_cchar)?;
        let other = OtherCapability { tag, args };
        if typed(other.tag(), other.args().map(|t| t.as_bytes())).is_some() {
            return Err(ValueError::Reserved {
                what: "capability line of a typed capability",
            });
        }
        Ok(other)
    }

    /// The tag, as it came.
    pub fn tag(&self) -> &[u8] {
        &self.tag
    }

    /// The text after the tag and one space, if there was a space.
    pub fn args(&self) -> Option<&Text> {
        self.args.as_ref()
    }
}

impl fmt::Debug for OtherCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OtherCapability({}", self.tag.escape_ascii())?;
        if let Some(args) = &self.args {
            write!(f, " {}", args.as_bytes().escape_ascii())?;
        }
        f.write_str(")")
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for OtherCapability {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(1..=12usize)?;
        let mut tag = Vec::with_capacity(len + 2);
        tag.extend_from_slice(b"X-");
        for _ in 0..len {
            let b: u8 = u.arbitrary()?;
            tag.push(if is_cchar(b) { b } else { b'Q' });
        }
        let args: Option<Text> = u.arbitrary()?;
        OtherCapability::new(tag, args).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}
/// The arguments split at single spaces; `None` if any is empty (a run of spaces,
/// or a space at either end).
fn words(args: &[u8]) -> Option<Vec<&[u8]>> {
    let words: Vec<&[u8]> = args.split(|&b| b == b' ').collect();
    if words.iter().any(|w| w.is_empty()) {
        None
    } else {
        Some(words)
    }
}

/// An optional trailing `USER` token (R2449-15, R2449-16).
fn per_user(rest: &[&[u8]]) -> Option<bool> {
    match rest {
        [] => Some(false),
        [user] if user.eq_ignore_ascii_case(b"USER") => Some(true),
        _ => None,
    }
}

/// The typed capability that `tag` and `args` (the text after the first space, if
/// there was one) stand for, if their arguments fit its grammar. Tags and keyword
/// arguments are case-insensitive (R2449-8).
fn typed(tag: &[u8], args: Option<&[u8]>) -> Option<Capability> {
    let is = |name: &str| tag.eq_ignore_ascii_case(name.as_bytes());
    // The capabilities that take no argument.
    const BARE: [(&str, Capability); 8] = [
        ("TOP", Capability::Top),
        ("USER", Capability::User),
        ("RESP-CODES", Capability::RespCodes),
        ("PIPELINING", Capability::Pipelining),
        ("UIDL", Capability::Uidl),
        ("STLS", Capability::Stls),
        ("AUTH-RESP-CODE", Capability::AuthRespCode),
        ("LANG", Capability::Lang),
    ];
    if let Some((_, capability)) = BARE.into_iter().find(|(name, _)| is(name)) {
        args.is_none().then_some(capability)
    } else if is("SASL") {
        let mechanisms = match args {
            None => Vec::new(),
            Some(args) => words(args)?
                .into_iter()
                .map(|m| Mechanism::new(m).ok())
                .collect::<Option<Vec<_>>>()?,
        };
        Some(Capability::Sasl(mechanisms))
    } else if is("LOGIN-DELAY") {
        let words = words(args?)?;
        let (seconds, rest) = words.split_first()?;
        Some(Capability::LoginDelay {
            seconds: decimal_u32(seconds).ok()?,
            per_user: per_user(rest)?,
        })
    } else if is("EXPIRE") {
        let words = words(args?)?;
        let (value, rest) = words.split_first()?;
        let expire = if value.eq_ignore_ascii_case(b"NEVER") {
            Expire::Never
        } else {
            Expire::Days(decimal_u32(value).ok()?)
        };
        Some(Capability::Expire {
            expire,
            per_user: per_user(rest)?,
        })
    } else if is("IMPLEMENTATION") {
        let text = match args {
            None => Text::empty(),
            Some(args) => Text::new(args).ok()?,
        };
        Some(Capability::Implementation(text))
    } else if is("UTF8") {
        match args {
            None => Some(Capability::Utf8 { user: false }),
            Some(user) if user.eq_ignore_ascii_case(b"USER") => {
                Some(Capability::Utf8 { user: true })
            }
            Some(_) => None,
        }
    } else {
        None
    }
}

impl Capability {
    /// The typed capability that `tag` and `args` stand for, if their arguments fit
    /// its grammar (see [`typed`]). The parser and [`OtherCapability::new`] share it.
    pub(crate) fn typed(tag: &[u8], args: Option<&[u8]>) -> Option<Capability> {
        typed(tag, args)
    }
}

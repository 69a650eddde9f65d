//! RFC 2449 response codes (`[IN-USE]`, `[SYS/TEMP]`, ...) and their meaning.

use alloc::vec::Vec;
use core::fmt;

use super::atoms::{check, check_len};
use super::ValueError;

/// One level of a hierarchical response code (R2449-20: `1*rchar`, printable ASCII
/// except `/` and `]`). Case is kept as it came; comparisons of meaning ignore it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CodeLevel(Vec<u8>);

impl CodeLevel {
    /// The largest length of one level.
    pub const MAX_LEN: usize = 64;

    /// Builds a level, refusing the empty level, `/`, `]` and non-printable octets.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let bytes = bytes.into();
        check("response code level", &bytes, 1, Self::MAX_LEN, is_rchar)?;
        Ok(CodeLevel(bytes))
    }

    /// The level's octets, as they came.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// `rchar = %x21-2E / %x30-5C / %x5E-7F` (printable, excluding "/" and "]").
pub(crate) fn is_rchar(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && b != b'/' && b != b']'
}

/// Splits a well-formed response code, `"[" resp-level *("/" resp-level) "]"`
/// (R2449-20), off the start of `text`, returning it and the text after the `]`.
/// A text that does not start with a code this crate can hold (no closing `]`, an
/// empty level, too many or too long levels) is plain text (IMPL-8): `None`.
///
/// It lives with the type because both the status-line parser and
/// [`StatusLine::new`](super::StatusLine::new) (which refuses a text a parser would
/// read as a code) need the same rule.
pub(crate) fn split_code(text: &[u8]) -> Option<(ResponseCode, &[u8])> {
    let body = text.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', body)?;
    let inner = body.get(..close)?;
    let rest = body.get(close + 1..)?;
    let levels = inner
        .split(|&b| b == b'/')
        .map(|level| {
            if level.is_empty() || !level.iter().all(|&b| is_rchar(b)) {
                None
            } else {
                CodeLevel::new(level).ok()
            }
        })
        .collect::<Option<Vec<_>>>()?;
    let code = ResponseCode::from_levels(levels).ok()?;
    Some((code, rest))
}

impl fmt::Debug for CodeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

/// What a response code means, with unknown lower levels ignored (R2449-20):
/// `[SYS/TEMP/DISK]` is [`CodeKind::SysTemp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeKind {
    /// `LOGIN-DELAY`: logged in too recently (RFC 2449 §8.1.1).
    LoginDelay,
    /// `IN-USE`: credentials fine, maildrop busy (RFC 2449 §8.1.2).
    InUse,
    /// `SYS/TEMP`: a temporary system problem (RFC 3206 §4).
    SysTemp,
    /// `SYS/PERM`: a permanent system problem (RFC 3206 §4).
    SysPerm,
    /// `SYS` with no known second level.
    Sys,
    /// `AUTH`: the credentials are the problem (RFC 3206 §5).
    Auth,
    /// `UTF8`: the message needs UTF-8 mode (RFC 6856 §5).
    Utf8,
    /// Any other code; read [`ResponseCode::levels`].
    Other,
}

/// A response code: `[` level *(`/` level) `]` at the start of a status text
/// (R2449-20), kept exactly as it came so it encodes back to the same bytes.
///
/// ```
/// use pop3_proto::types::{CodeKind, ResponseCode};
/// assert_eq!(ResponseCode::in_use().kind(), CodeKind::InUse);
/// let code = ResponseCode::new(["sys", "perm", "x"]).unwrap();
/// assert_eq!(code.kind(), CodeKind::SysPerm);
/// assert_eq!(code.levels().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseCode {
    levels: Vec<CodeLevel>,
}

impl ResponseCode {
    /// The most levels a code may have.
    pub const MAX_LEVELS: usize = 8;

    /// Builds a code from its levels.
    pub fn new<I, L>(levels: I) -> Result<Self, ValueError>
    where
        I: IntoIterator<Item = L>,
        L: Into<Vec<u8>>,
    {
        let levels = levels
            .into_iter()
            .map(CodeLevel::new)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_levels(levels)
    }

    /// Builds a code from levels already checked.
    pub fn from_levels(levels: Vec<CodeLevel>) -> Result<Self, ValueError> {
        check_len("response code", levels.len(), 1, Self::MAX_LEVELS)?;
        Ok(ResponseCode { levels })
    }

    fn known(levels: &[&str]) -> Self {
        ResponseCode {
            levels: levels
                .iter()
                .map(|l| CodeLevel(l.as_bytes().to_vec()))
                .collect(),
        }
    }

    /// `[IN-USE]`
    pub fn in_use() -> Self {
        Self::known(&["IN-USE"])
    }
    /// `[LOGIN-DELAY]`
    pub fn login_delay() -> Self {
        Self::known(&["LOGIN-DELAY"])
    }
    /// `[SYS/TEMP]`
    pub fn sys_temp() -> Self {
        Self::known(&["SYS", "TEMP"])
    }
    /// `[SYS/PERM]`
    pub fn sys_perm() -> Self {
        Self::known(&["SYS", "PERM"])
    }
    /// `[AUTH]`
    pub fn auth() -> Self {
        Self::known(&["AUTH"])
    }
    /// `[UTF8]`
    pub fn utf8() -> Self {
        Self::known(&["UTF8"])
    }

    /// The levels, as they came.
    pub fn levels(&self) -> &[CodeLevel] {
        &self.levels
    }

    /// What the code means, ignoring case and unknown lower levels.
    pub fn kind(&self) -> CodeKind {
        let mut levels = self.levels.iter();
        let Some(top) = levels.next() else {
            return CodeKind::Other;
        };
        if top.is("IN-USE") {
            CodeKind::InUse
        } else if top.is("LOGIN-DELAY") {
            CodeKind::LoginDelay
        } else if top.is("AUTH") {
            CodeKind::Auth
        } else if top.is("UTF8") {
            CodeKind::Utf8
        } else if top.is("SYS") {
            match levels.next() {
                Some(l) if l.is("TEMP") => CodeKind::SysTemp,
                Some(l) if l.is("PERM") => CodeKind::SysPerm,
                _ => CodeKind::Sys,
            }
        } else {
            CodeKind::Other
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{}", level.0.escape_ascii())?;
        }
        f.write_str("]")
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ResponseCode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0..=6u8)? {
            0 => Self::in_use(),
            1 => Self::login_delay(),
            2 => Self::sys_temp(),
            3 => Self::sys_perm(),
            4 => Self::auth(),
            5 => Self::utf8(),
            _ => {
                let n = u.int_in_range(1..=3usize)?;
                let mut levels = Vec::with_capacity(n);
                for _ in 0..n {
                    let len = u.int_in_range(1..=8usize)?;
                    let mut l = Vec::with_capacity(len);
                    for _ in 0..len {
                        let b: u8 = u.arbitrary()?;
                        l.push(if is_rchar(b) { b } else { b'X' });
                    }
                    levels.push(l);
                }
                Self::new(levels).map_err(|_| arbitrary::Error::IncorrectFormat)?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_code_grammar_r2449_20() {
        let (code, rest) = split_code(b"[SYS/TEMP] try later").unwrap();
        assert_eq!(code, ResponseCode::sys_temp());
        assert_eq!(rest, b" try later");
        for plain in [
            &b"[unclosed text"[..],
            b"[]",
            b"[A//B]",
            b"[A/]",
            b"[/A]",
            b"[A B]",
            b"x[A]",
            b"",
        ] {
            assert!(split_code(plain).is_none(), "{plain:?}");
        }
        // Nine levels do not fit in a ResponseCode: plain text.
        assert!(split_code(b"[a/b/c/d/e/f/g/h/i]").is_none());
    }
}

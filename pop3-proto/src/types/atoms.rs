//! Small validated values: the words and numbers commands and replies are made of.

use alloc::vec::Vec;
use core::fmt;
use core::num::NonZeroU32;

use super::ValueError;
use crate::secret::Secret;

/// Checks a length against a range: `Empty` below it, `TooLong` above it.
pub(super) fn check_len(
    what: &'static str,
    len: usize,
    min: usize,
    max: usize,
) -> Result<(), ValueError> {
    if len < min {
        return Err(ValueError::Empty { what });
    }
    if len > max {
        return Err(ValueError::TooLong { what, len, max });
    }
    Ok(())
}

/// Checks `bytes` against a length range and an octet rule.
pub(super) fn check(
    what: &'static str,
    bytes: &[u8],
    min: usize,
    max: usize,
    allowed: fn(u8) -> bool,
) -> Result<(), ValueError> {
    check_len(what, bytes.len(), min, max)?;
    match bytes.iter().position(|&b| !allowed(b)) {
        Some(offset) => Err(ValueError::ForbiddenByte {
            what,
            byte: bytes.get(offset).copied().unwrap_or_default(),
            offset,
        }),
        None => Ok(()),
    }
}

/// A printable, non-space octet, 8-bit allowed (user names may be UTF-8, RFC 6856).
fn is_token_byte(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) || b >= 0x80
}

/// Any octet a line can carry: everything but CR, LF and NUL.
fn is_text_byte(b: u8) -> bool {
    !matches!(b, b'\r' | b'\n' | 0)
}

fn is_vchar(b: u8) -> bool {
    (0x21..=0x7E).contains(&b)
}

fn is_mechanism_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

fn is_language_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Shows bytes as a string where they are UTF-8, escaped otherwise.
fn debug_bytes(f: &mut fmt::Formatter<'_>, name: &str, bytes: &[u8]) -> fmt::Result {
    match core::str::from_utf8(bytes) {
        Ok(s) => write!(f, "{name}({s:?})"),
        Err(_) => write!(f, "{name}({:?})", bytes.escape_ascii()),
    }
}

macro_rules! byte_value {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal, min = $min:expr, max = $max:expr, allowed = $allowed:expr
        $(, normalize = $norm:expr)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// The largest length, in octets, this value may have.
            pub const MAX_LEN: usize = $max;

            /// Builds the value, refusing bytes that break its rule.
            pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
                #[allow(unused_mut)]
                let mut bytes: Vec<u8> = bytes.into();
                check($what, &bytes, $min, $max, $allowed)?;
                $( ($norm)(&mut bytes); )?
                Ok($name(bytes))
            }

            /// The value's octets, as they go on the wire.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The value as a string, when it is UTF-8.
            pub fn as_str(&self) -> Option<&str> {
                core::str::from_utf8(&self.0).ok()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                debug_bytes(f, stringify!($name), &self.0)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, ValueError> {
                Self::new(s.as_bytes())
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = ValueError;
            fn try_from(s: &[u8]) -> Result<Self, ValueError> {
                Self::new(s)
            }
        }

        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for $name {
            fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
                let len = u.int_in_range($min..=($max).min($min + 24))?;
                let mut bytes = Vec::with_capacity(len);
                for _ in 0..len {
                    // Draw until an allowed octet comes; every rule allows some ASCII letter.
                    let b: u8 = u.arbitrary()?;
                    bytes.push(if ($allowed)(b) { b } else { b'A' + b % 26 });
                }
                Self::new(bytes).map_err(|_| arbitrary::Error::IncorrectFormat)
            }
        }
    };
}

fn upper(bytes: &mut [u8]) {
    bytes.make_ascii_uppercase();
}

fn lower(bytes: &mut [u8]) {
    bytes.make_ascii_lowercase();
}

byte_value!(
    /// A mailbox name, as in `USER` and `APOP` (R1939-24, R1939-27): 1-215 octets,
    /// no space or control octet; 8-bit octets are allowed for UTF-8 names (RFC 6856).
    /// 215 keeps `APOP name digest` within the 255-octet command limit (R2449-1).
    ///
    /// ```
    /// use pop3_proto::types::Username;
    /// assert!(Username::new("mrose").is_ok());
    /// assert!(Username::new("mrose\r\nDELE 1").is_err());
    /// ```
    Username, "user name", min = 1, max = 215, allowed = is_token_byte
);

byte_value!(
    /// One argument of an extension command or a capability parameter: printable,
    /// no space (R2449-2 `param = 1*VCHAR`; 8-bit allowed).
    Param, "parameter", min = 1, max = 250, allowed = is_token_byte
);

byte_value!(
    /// A command keyword (R1939-3, R1939-4): printable ASCII, case-insensitive on
    /// input, kept in upper case.
    ///
    /// ```
    /// use pop3_proto::types::Keyword;
    /// assert_eq!(Keyword::new("xlst").unwrap().as_bytes(), b"XLST");
    /// ```
    Keyword, "keyword", min = 1, max = 32, allowed = is_vchar, normalize = upper
);

byte_value!(
    /// A SASL mechanism name (RFC 4422: 1-20 of upper-case letters, digits, `-`, `_`).
    /// Input is case-insensitive (R5034-3) and is kept in upper case.
    ///
    /// ```
    /// use pop3_proto::types::Mechanism;
    /// assert_eq!(Mechanism::new("cram-md5").unwrap().as_bytes(), b"CRAM-MD5");
    /// ```
    Mechanism, "SASL mechanism", min = 1, max = 20,
    allowed = |b: u8| is_mechanism_byte(b.to_ascii_uppercase()), normalize = upper
);

byte_value!(
    /// A unique-id (R1939-39, E-24): 1-70 octets in 0x21-0x7E.
    ///
    /// ```
    /// use pop3_proto::types::UniqueId;
    /// assert!(UniqueId::new("QhdPYR:00WBw1Ph7x7").is_ok());
    /// assert!(UniqueId::new("has space").is_err());
    /// ```
    UniqueId, "unique-id", min = 1, max = 70, allowed = is_vchar
);

byte_value!(
    /// Free text after a status indicator, a capability's free-form argument or a
    /// language name: any octets but CR, LF and NUL, possibly empty.
    Text, "text", min = 0, max = 4096, allowed = is_text_byte
);

byte_value!(
    /// A language tag as LANG returns it (RFC 6856 §3): letters, digits and `-`.
    LanguageTag, "language tag", min = 1, max = 64, allowed = is_language_byte
);

byte_value!(
    /// The argument of `LANG`: a language range, a tag or `*` (RFC 6856 §3.2).
    LanguageRange, "language range", min = 1, max = 64,
    allowed = |b: u8| is_language_byte(b) || b == b'*'
);

byte_value!(
    /// The APOP digest (R1939-29): 32 hexadecimal digits, kept in lower case.
    ApopDigest, "APOP digest", min = 32, max = 32,
    allowed = |b: u8| b.is_ascii_hexdigit(), normalize = lower
);

byte_value!(
    /// A discussion-group name of XTND (R1082-3): letters, digits and `-`,
    /// case-insensitive, kept as it came.
    GroupName, "group name", min = 1, max = 64, allowed = is_language_byte
);

impl Text {
    /// Wraps octets known to follow the rule (ASCII digits, tags, ids: built by the
    /// encoder from values already checked).
    pub(crate) fn from_checked(bytes: Vec<u8>) -> Self {
        debug_assert!(check("text", &bytes, 0, Self::MAX_LEN, is_text_byte).is_ok());
        Text(bytes)
    }

    /// The empty text.
    pub fn empty() -> Self {
        Text(Vec::new())
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::empty()
    }
}

/// A message number (R1939-20): 1 or more.
///
/// ```
/// use pop3_proto::types::MessageNumber;
/// assert_eq!(MessageNumber::new(2).unwrap().get(), 2);
/// assert!(MessageNumber::new(0).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageNumber(NonZeroU32);

impl MessageNumber {
    /// Builds a message number, refusing 0.
    pub fn new(n: u32) -> Result<Self, ValueError> {
        NonZeroU32::new(n)
            .map(MessageNumber)
            .ok_or(ValueError::ZeroMessageNumber)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The zero-based index of this message in a listing.
    pub fn index(self) -> usize {
        // u32 always fits usize on the 32- and 64-bit targets this crate supports.
        (self.0.get() - 1) as usize
    }
}

impl fmt::Debug for MessageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageNumber({})", self.0)
    }
}

impl fmt::Display for MessageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<u32> for MessageNumber {
    type Error = ValueError;
    fn try_from(n: u32) -> Result<Self, ValueError> {
        MessageNumber::new(n)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MessageNumber {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        MessageNumber::new(u.int_in_range(1..=u32::MAX)?)
            .map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// A password for `PASS` (R1939-26): any octets but CR, LF and NUL, spaces
/// included, at most 248 octets so the command fits in 255 (R2449-1). Redacted in
/// `Debug` and wiped on drop.
///
/// ```
/// use pop3_proto::types::Password;
/// let pw = Password::new("two words").unwrap();
/// assert_eq!(format!("{pw:?}"), "Password(Secret([REDACTED]))");
/// assert!(Password::new("a\r\nDELE 1").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Password(Secret<Vec<u8>>);

impl Password {
    /// The largest length, in octets.
    pub const MAX_LEN: usize = 248;

    /// Builds a password, refusing CR, LF and NUL (IMPL-5).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let secret = Secret::new(bytes.into());
        check(
            "password",
            secret.expose_secret(),
            0,
            Self::MAX_LEN,
            is_text_byte,
        )?;
        Ok(Password(secret))
    }

    /// The password's octets. Every call site that reveals it names this method.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The password as a [`Secret`].
    pub fn as_secret(&self) -> &Secret<Vec<u8>> {
        &self.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Password {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(0..=24)?;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            let b: u8 = u.arbitrary()?;
            bytes.push(if is_text_byte(b) { b } else { b' ' });
        }
        Password::new(bytes).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// Whether `b` is in the base64 alphabet of RFC 4648, padding included.
pub(crate) fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// Base64 text sent by a client in an AUTH exchange: the initial response of
/// `AUTH` or a response line (R5034-6, R5034-7).
///
/// It holds 1 or more octets of the base64 alphabet (`A`-`Z`, `a`-`z`, `0`-`9`,
/// `+`, `/`, `=`) and does not start with `=` (padding only ever ends a text,
/// R5034-10), so it can never be confused with the `=` that marks an empty initial
/// response. Whether it decodes (length, padding) is checked when it is decoded.
/// The text carries credentials: it is redacted in `Debug` and wiped on drop.
///
/// ```
/// use pop3_proto::types::Base64Text;
/// assert!(Base64Text::new("dGVzdAB0ZXN0AHRlc3Q=").is_ok());
/// assert!(Base64Text::new("").is_err());
/// assert!(Base64Text::new("=").is_err());
/// assert!(Base64Text::new("not base64!").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Base64Text(Secret<Vec<u8>>);

impl Base64Text {
    /// Builds the text, refusing the empty text, octets outside the base64
    /// alphabet, and a leading `=`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ValueError> {
        let secret = Secret::new(bytes.into());
        let bytes = secret.expose_secret();
        check("base64 text", bytes, 1, usize::MAX, is_base64_byte)?;
        if bytes.first() == Some(&b'=') {
            return Err(ValueError::ForbiddenByte {
                what: "base64 text",
                byte: b'=',
                offset: 0,
            });
        }
        Ok(Base64Text(secret))
    }

    /// The base64 octets. Every call site that reveals them names this method.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The text as a [`Secret`].
    pub fn as_secret(&self) -> &Secret<Vec<u8>> {
        &self.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Base64Text {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let groups = u.int_in_range(1..=8usize)?;
        Base64Text::new(super::command::arbitrary_base64(u, groups)?)
            .map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_refuse_line_breaks_and_nul() {
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b"] {
            assert!(Username::new(bad).is_err());
            assert!(Param::new(bad).is_err());
            assert!(Text::new(bad).is_err());
            assert!(Password::new(bad).is_err());
        }
    }

    #[test]
    fn unique_id_rules_e24() {
        assert!(UniqueId::new("").is_err());
        assert!(UniqueId::new([b'a'; 70]).is_ok());
        assert!(UniqueId::new([b'a'; 71]).is_err());
        assert!(UniqueId::new("a b").is_err());
        assert!(UniqueId::new(&[0x7F][..]).is_err());
        assert!(UniqueId::new("whqtswO00WBw418f9t5JxYwZ").is_ok());
    }

    #[test]
    fn password_keeps_spaces_r1939_26() {
        let pw = Password::new(" a  b ").unwrap();
        assert_eq!(pw.expose_secret(), b" a  b ");
    }

    #[test]
    fn normalised_case() {
        assert_eq!(Keyword::new("stat").unwrap().as_bytes(), b"STAT");
        assert_eq!(
            Mechanism::new("scram-sha-256").unwrap().as_bytes(),
            b"SCRAM-SHA-256"
        );
        assert_eq!(
            ApopDigest::new("C4C9334BAC560ECC979E58001B3E22FB")
                .unwrap()
                .as_bytes(),
            b"c4c9334bac560ecc979e58001b3e22fb"
        );
        assert!(Mechanism::new("PLA IN").is_err());
        assert!(Mechanism::new([b'A'; 21]).is_err());
    }
}

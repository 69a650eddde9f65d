//! `APOP` (RFC 1939 §7): the greeting timestamp and the MD5 digest over it.
//!
//! The timestamp is validated before any digest is computed over it: a server-chosen
//! string that is not a plain msg-id is the known way to turn APOP into an MD5 oracle
//! (the 2007 Leurent / Sasaki attacks used timestamps with chosen non-printable content),
//! so [`digest`] only accepts a [`Timestamp`], which cannot be built invalid.
//!
//! ```
//! use pop3_proto::apop::{digest, verify, Timestamp};
//! use pop3_proto::secret::Secret;
//!
//! // TV-2 (RFC 1939 §7)
//! let ts = Timestamp::from_greeting_text(b"POP3 server ready <1896.697170952@dbc.mtview.ca.us>")?;
//! let secret = Secret::new(b"tanstaaf".to_vec());
//! let d = digest(&ts, &secret);
//! assert_eq!(d.as_str(), "c4c9334bac560ecc979e58001b3e22fb");
//! assert!(verify(&ts, &secret, b"c4c9334bac560ecc979e58001b3e22fb"));
//! # Ok::<(), pop3_proto::apop::ApopError>(())
//! ```
//!
//! R6856-2: when UTF-8 user names or passwords are in use, both sides must apply SASLprep
//! to the secret first; this module hashes the octets it is given.

use crate::hex::{hex16, hex_lower};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

/// Why a timestamp was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApopError {
    /// The greeting has no `<...>` pair, so the server does not offer APOP (E-7, R2449-6):
    /// a client asked to use APOP must fail before sending anything.
    #[error("the greeting has no APOP timestamp")]
    NoTimestamp,
    /// The timestamp is not a plain msg-id (see [`Timestamp`]).
    #[error("malformed APOP timestamp: {0}")]
    Malformed(&'static str),
}

/// An APOP timestamp: an RFC 822 msg-id such as `<1896.697170952@dbc.mtview.ca.us>`,
/// validated on construction.
///
/// Accepted shape (a strict subset of RFC 822 `msg-id`): starts with `<`, ends with `>`,
/// between them only printable ASCII 0x21-0x7E without `<` or `>`, exactly one `@` with a
/// non-empty part on each side, and at most [`Timestamp::MAX_LEN`] octets in all.
/// Quoted local parts with spaces, comments and folding are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

impl Timestamp {
    /// The longest timestamp accepted, brackets included (a greeting line is at most 512
    /// octets with `+OK ` and CRLF).
    pub const MAX_LEN: usize = 510;

    /// Validates exactly `bytes` as a timestamp, brackets included.
    ///
    /// ```
    /// use pop3_proto::apop::Timestamp;
    /// assert!(Timestamp::parse(b"<1896.697170952@dbc.mtview.ca.us>").is_ok());
    /// assert!(Timestamp::parse(b"<no-at-sign>").is_err());
    /// assert!(Timestamp::parse(b"<a@b@c>").is_err());
    /// assert!(Timestamp::parse(b"<a b@c>").is_err());
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, ApopError> {
        if bytes.len() > Self::MAX_LEN {
            return Err(ApopError::Malformed("longer than 510 octets"));
        }
        let inner = bytes
            .strip_prefix(b"<")
            .and_then(|b| b.strip_suffix(b">"))
            .ok_or(ApopError::Malformed("must be enclosed in < >"))?;
        if !inner
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b'<' && b != b'>')
        {
            return Err(ApopError::Malformed(
                "only printable ASCII without < > inside the brackets",
            ));
        }
        let mut parts = inner.split(|&b| b == b'@');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => {}
            _ => {
                return Err(ApopError::Malformed(
                    "needs exactly one @ between a local part and a domain",
                ))
            }
        }
        // All octets are ASCII, so this cannot fail.
        let text = core::str::from_utf8(bytes).map_err(|_| ApopError::Malformed("not ASCII"))?;
        Ok(Timestamp(String::from(text)))
    }

    /// Takes the timestamp from a greeting's text: the first `<` and the first `>` after it
    /// (E-7). No such pair is [`ApopError::NoTimestamp`]; a pair that is not a valid
    /// timestamp is [`ApopError::Malformed`] (never searched past, never used).
    ///
    /// ```
    /// use pop3_proto::apop::{ApopError, Timestamp};
    /// let ts = Timestamp::from_greeting_text(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")?;
    /// assert_eq!(ts.as_str(), "<1896.697170952@dbc.mtview.ca.us>");
    /// assert_eq!(Timestamp::from_greeting_text(b"+OK hello"), Err(ApopError::NoTimestamp));
    /// # Ok::<(), ApopError>(())
    /// ```
    pub fn from_greeting_text(text: &[u8]) -> Result<Self, ApopError> {
        let start = memchr::memchr(b'<', text).ok_or(ApopError::NoTimestamp)?;
        let candidate = text.get(start..).unwrap_or_default();
        let len = memchr::memchr(b'>', candidate).ok_or(ApopError::NoTimestamp)? + 1;
        Self::parse(candidate.get(..len).unwrap_or_default())
    }

    /// Builds a fresh server timestamp `<id.clock@host>` from values the host supplies (the
    /// codec has no clock or randomness): `id` a process id or per-connection counter,
    /// `clock` the current time; RFC 1939 requires the timestamp to differ for every
    /// greeting (R1939-28). Fails when `host` is empty or not printable ASCII without
    /// `<`, `>`, `@`.
    ///
    /// ```
    /// use pop3_proto::apop::Timestamp;
    /// let ts = Timestamp::new(1896, 697170952, "dbc.mtview.ca.us")?;
    /// assert_eq!(ts.as_str(), "<1896.697170952@dbc.mtview.ca.us>");
    /// # Ok::<(), pop3_proto::apop::ApopError>(())
    /// ```
    pub fn new(id: u64, clock: u64, host: &str) -> Result<Self, ApopError> {
        Self::parse(alloc::format!("<{id}.{clock}@{host}>").as_bytes())
    }

    /// The timestamp, brackets included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The timestamp's octets, brackets included: what the digest covers.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An APOP digest: 32 lower-case hex digits, as sent in `APOP name digest` (R1939-29).
///
/// With the timestamp it allows an offline dictionary attack on the secret, so it is
/// redacted in `Debug` and zeroed on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest(Secret<[u8; 32]>);

impl Digest {
    /// The 32 lower-case hex digits.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The 32 lower-case hex digits, as text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.0.expose_secret()).unwrap_or_default()
    }
}

fn md5_raw(timestamp: &Timestamp, secret: &Secret<Vec<u8>>) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(timestamp.as_bytes());
    h.update(secret.expose_secret());
    h.finalize().into()
}

/// Computes `MD5(timestamp secret)` as 32 lower-case hex digits (R1939-29, TV-2).
pub fn digest(timestamp: &Timestamp, secret: &Secret<Vec<u8>>) -> Digest {
    let raw = md5_raw(timestamp, secret);
    let mut out = [0u8; 32];
    for (o, c) in out.iter_mut().zip(hex_lower(&raw)) {
        *o = c;
    }
    Digest(Secret::new(out))
}

/// Checks a digest a client presented, in constant time.
///
/// The digest must be exactly 32 hex digits. RFC 1939 says clients send lower case;
/// upper case is accepted too (it denotes the same 128 bits, so accepting it costs no
/// security and spares an interoperability failure). Anything else is refused.
pub fn verify(timestamp: &Timestamp, secret: &Secret<Vec<u8>>, presented: &[u8]) -> bool {
    let expected = md5_raw(timestamp, secret);
    match hex16(presented) {
        Some(given) => bool::from(given.ct_eq(&expected)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv2_digest() {
        let ts = Timestamp::parse(b"<1896.697170952@dbc.mtview.ca.us>").unwrap();
        let secret = Secret::new(b"tanstaaf".to_vec());
        assert_eq!(
            digest(&ts, &secret).as_str(),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
    }
}

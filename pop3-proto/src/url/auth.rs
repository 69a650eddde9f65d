//! The `;AUTH=` part of a POP URL and the user name (RFC 2384 §3).

use alloc::string::String;
use core::fmt;

use super::percent::{decode, write_encoded};
use super::UrlError;
use crate::types::Mechanism;

/// The name of an extension mechanism (`;AUTH=+name`, R2384-3), decoded: not
/// empty, no control characters, and not `APOP` in any case (that is
/// [`Auth::Apop`]).
///
/// ```
/// use pop3_proto::url::ExtensionName;
/// assert!(ExtensionName::new("X-TOKEN").is_ok());
/// assert!(ExtensionName::new("apop").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionName(String);

impl ExtensionName {
    /// Checks an extension mechanism name.
    pub fn new(name: &str) -> Result<Self, UrlError> {
        if name.is_empty()
            || name.eq_ignore_ascii_case("APOP")
            || name.chars().any(char::is_control)
        {
            return Err(UrlError::InvalidExtension(String::from(name)));
        }
        Ok(ExtensionName(String::from(name)))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How to log in, from `;AUTH=` (R2384-3).
///
/// ```
/// use pop3_proto::url::{Auth, PopUrl};
/// let url = PopUrl::parse("pop://baz;AUTH=SCRAM-MD5@foo.bar").unwrap();
/// assert!(matches!(url.auth(), Some(Auth::Sasl(m)) if m.as_bytes() == b"SCRAM-MD5"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Auth {
    /// `;AUTH=*`: any mechanism the server supports (also what a user name
    /// without `;AUTH=` implies). It should not fall back to a cleartext password
    /// without strong encryption (R2384-6).
    Any,
    /// `;AUTH=+APOP`: the APOP command.
    Apop,
    /// `;AUTH=<name>`: this SASL mechanism, with the AUTH command.
    Sasl(Mechanism),
    /// `;AUTH=+<name>`: an extension mechanism other than APOP.
    Extension(ExtensionName),
}

impl fmt::Display for Auth {
    /// The `;AUTH=` value as it goes in a URL, percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Any => f.write_str("*"),
            Auth::Apop => f.write_str("+APOP"),
            Auth::Sasl(m) => write_encoded(f, m.as_bytes()),
            Auth::Extension(name) => {
                f.write_str("+")?;
                write_encoded(f, name.as_str().as_bytes())
            }
        }
    }
}

/// The `;AUTH=` value, percent-decoded and classified (R2384-3).
pub(super) fn parse_auth(raw: &str, base: usize) -> Result<Auth, UrlError> {
    if raw.is_empty() {
        return Err(UrlError::EmptyAuth);
    }
    let value = decode(raw, base)?;
    if value == "*" {
        return Ok(Auth::Any);
    }
    if let Some(ext) = value.strip_prefix('+') {
        if ext.eq_ignore_ascii_case("APOP") {
            return Ok(Auth::Apop);
        }
        if ext.is_empty() {
            return Err(UrlError::EmptyAuth);
        }
        return ExtensionName::new(ext).map(Auth::Extension);
    }
    Mechanism::new(value.as_bytes())
        .map(Auth::Sasl)
        .map_err(|_| UrlError::InvalidMechanism(value))
}

pub(super) fn check_user(user: &str) -> Result<(), UrlError> {
    if user.is_empty() {
        return Err(UrlError::EmptyUser);
    }
    if user.chars().any(char::is_control) {
        return Err(UrlError::ControlCharacter("the user name"));
    }
    Ok(())
}

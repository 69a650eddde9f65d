//! POP URLs (RFC 2384): parsing, validation and formatting.
//!
//! ```text
//! pop-url   = scheme "://" [user-auth "@"] host [":" port] ["/"]
//! scheme    = "pop" / "pop3" / "pops" / "pop3s"        ; case-insensitive
//! user-auth = enc-user [";AUTH=" ("*" / "+APOP" / "+" ext-name / sasl-name)]
//! ```
//!
//! * `pop://` is RFC 2384's scheme (default port 110, R2384-2). `pops://` (implicit
//!   TLS, default port 995, R8314-1) is this crate's documented extension: no RFC
//!   defines it. `pop3://` and `pop3s://` are accepted as aliases
//!   of `pop://` and `pops://` (curl's spelling); the spelling used is kept, so
//!   formatting gives it back.
//! * The user name and the `;AUTH=` value are percent-decoded (RFC 1738 `achar`,
//!   R2384-4) and must decode to UTF-8 (R2384-5). Formatting percent-encodes every
//!   octet that is not an `achar` in the clear.
//! * `;AUTH=` is matched case-insensitively (ABNF literals, R2384-1). `*` is
//!   [`Auth::Any`], `+APOP` (any case) is [`Auth::Apop`], `+name` is
//!   [`Auth::Extension`], anything else is a SASL mechanism name,
//!   [`Auth::Sasl`] (R2384-3).
//! * **`;AUTH=` needs a user name.** The grammar is `user-auth = enc-user [auth]`:
//!   there is no `auth` without `enc-user`, so `pop://;AUTH=*@host` is refused
//!   with [`UrlError::AuthWithoutUser`]. A URL with no user at all means "ask the
//!   user" (R2384-3): [`PopUrl::user`] is `None`.
//! * A password in the URL (`pop://user:pass@host`) is refused with
//!   [`UrlError::CleartextPassword`] (R2384-2).
//! * Relative URLs are refused (R2384-5), and so are a path, a query and a
//!   fragment: POP URLs have none. One trailing `/` (as curl writes
//!   `pop3://host/`) is tolerated and dropped; it is not kept, so
//!   `pop://h/` and `pop://h` are the same URL and format as `pop://h`.
//! * Hosts: a registered name (RFC 1738/1123 host name: letters, digits and `-`,
//!   kept in lower case), an IPv4 address in dotted-quad form, or an IPv6 address
//!   in brackets (RFC 2732). A name whose last label is all digits is refused: it
//!   is either an IPv4 address or no host name at all.
//! * Ports 1-65535. An explicit port equal to the default is kept as written, so
//!   `pop://h:110` formats with its port; [`PopUrl::port`] gives the port to use
//!   either way.
//!
//! ```
//! use pop3_proto::url::{Auth, PopUrl};
//!
//! let url: PopUrl = "pop://rg;AUTH=+APOP@mail.eudora.com:8110".parse().unwrap();
//! assert_eq!(url.user(), Some("rg"));
//! assert_eq!(url.auth(), Some(&Auth::Apop));
//! assert_eq!(url.host().to_string(), "mail.eudora.com");
//! assert_eq!(url.port(), 8110);
//! assert!(!url.is_tls());
//! assert_eq!(url.to_string(), "pop://rg;AUTH=+APOP@mail.eudora.com:8110");
//!
//! assert!(PopUrl::parse("pop://u:pw@h").is_err());
//! ```

use alloc::string::String;
use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

mod auth;
mod host;
mod percent;

pub use auth::{Auth, ExtensionName};
pub use host::{DomainName, Host, Scheme};

use auth::{check_user, parse_auth};
use host::split_host_port;
use percent::{decode, write_encoded};

/// Why a string is not a POP URL, or a value cannot be part of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No scheme: a relative URL, which RFC 2384 does not allow (R2384-5).
    #[error("not an absolute URL: relative POP URLs are not allowed")]
    NotAbsolute,
    /// A scheme other than `pop`, `pops`, `pop3` or `pop3s`.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// The scheme is not followed by `//`.
    #[error("the scheme must be followed by \"//\" and a host")]
    NoAuthority,
    /// The host is missing.
    #[error("the URL has no host")]
    MissingHost,
    /// The host is not a valid host name, IPv4 address or bracketed IPv6 address.
    #[error("invalid host {0:?}")]
    InvalidHost(String),
    /// The port is empty, not a number, 0 or above 65535.
    #[error("invalid port {0:?}")]
    InvalidPort(String),
    /// `user:password@`: cleartext passwords are not allowed in POP URLs (R2384-2).
    #[error("a password in the URL is not allowed (RFC 2384 §3)")]
    CleartextPassword,
    /// `@` with nothing before it.
    #[error("the user name is empty")]
    EmptyUser,
    /// `;AUTH=` with no user name before it: the grammar requires one (R2384-1).
    #[error(";AUTH= requires a user name before it (RFC 2384 user-auth)")]
    AuthWithoutUser,
    /// A `;` parameter other than `AUTH=`.
    #[error("unknown parameter {0:?}: only ;AUTH= is defined")]
    UnknownParameter(String),
    /// `;AUTH=` with nothing after it, or `;AUTH=+`.
    #[error("the ;AUTH= value is empty")]
    EmptyAuth,
    /// The `;AUTH=` value is not a valid SASL mechanism name.
    #[error("invalid SASL mechanism name {0:?}")]
    InvalidMechanism(String),
    /// An extension mechanism name that cannot be used (empty, a control
    /// character, or `APOP`, which is [`Auth::Apop`]).
    #[error("invalid extension mechanism name {0:?}")]
    InvalidExtension(String),
    /// A character that must be percent-encoded appeared in the clear (R2384-4).
    #[error("character {ch:?} at offset {offset} must be percent-encoded")]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the input.
        offset: usize,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("bad percent-encoding at offset {offset}")]
    InvalidPercentEncoding {
        /// The byte offset of the `%`.
        offset: usize,
    },
    /// Percent-decoding gave octets that are not UTF-8 (R2384-5).
    #[error("percent-decoded octets are not UTF-8")]
    NotUtf8,
    /// A decoded user name or mechanism holds a control character (CR, LF, NUL
    /// and the like), which could inject commands when it is sent.
    #[error("a control character is not allowed in {0}")]
    ControlCharacter(&'static str),
    /// A path after the host (only one trailing `/` is tolerated).
    #[error("POP URLs have no path")]
    PathNotAllowed,
    /// A `?query`.
    #[error("POP URLs have no query")]
    QueryNotAllowed,
    /// A `#fragment`.
    #[error("POP URLs have no fragment")]
    FragmentNotAllowed,
}

/// A POP URL (RFC 2384). See the [module documentation](self) for the accepted
/// forms. Build one with [`PopUrl::parse`] (or `str::parse`), or with
/// [`PopUrl::new`] and the `with_*` methods; every value formats (`Display`) to
/// a string that parses back to the same value.
///
/// ```
/// use pop3_proto::url::{Auth, Host, PopUrl, Scheme};
/// let url = PopUrl::new(Scheme::Pops, "mail.example.net".parse::<Host>().unwrap())
///     .with_user("a b")
///     .unwrap()
///     .with_auth(Auth::Any)
///     .unwrap();
/// assert_eq!(url.to_string(), "pops://a%20b;AUTH=*@mail.example.net");
/// assert_eq!(url.port(), 995);
/// assert_eq!(PopUrl::parse(&url.to_string()).unwrap(), url);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PopUrl {
    scheme: Scheme,
    user: Option<String>,
    auth: Option<Auth>,
    host: Host,
    port: Option<u16>,
}

impl PopUrl {
    /// A URL with no user, no `;AUTH=` and the scheme's default port.
    pub fn new(scheme: Scheme, host: Host) -> Self {
        PopUrl {
            scheme,
            user: None,
            auth: None,
            host,
            port: None,
        }
    }

    /// The same URL with an explicit port (1-65535).
    pub fn with_port(mut self, port: u16) -> Result<Self, UrlError> {
        if port == 0 {
            return Err(UrlError::InvalidPort(String::from("0")));
        }
        self.port = Some(port);
        Ok(self)
    }

    /// The same URL with a user name (not encoded: it is encoded when formatted).
    /// Refuses an empty name and control characters.
    pub fn with_user(mut self, user: &str) -> Result<Self, UrlError> {
        check_user(user)?;
        self.user = Some(String::from(user));
        Ok(self)
    }

    /// The same URL with an `;AUTH=` value. Refused when the URL has no user
    /// (the grammar's `user-auth = enc-user [auth]`).
    pub fn with_auth(mut self, auth: Auth) -> Result<Self, UrlError> {
        if self.user.is_none() {
            return Err(UrlError::AuthWithoutUser);
        }
        self.auth = Some(auth);
        Ok(self)
    }

    /// Parses a POP URL (see the [module documentation](self)).
    ///
    /// ```
    /// use pop3_proto::url::{PopUrl, UrlError};
    /// assert_eq!(PopUrl::parse("pop://foo.bar").unwrap().port(), 110);
    /// assert_eq!(PopUrl::parse("POP3S://foo.bar/").unwrap().port(), 995);
    /// assert_eq!(PopUrl::parse("pop://u:pw@h"), Err(UrlError::CleartextPassword));
    /// assert_eq!(PopUrl::parse("//h"), Err(UrlError::NotAbsolute));
    /// ```
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let (scheme_name, rest) = input.split_once(':').ok_or(UrlError::NotAbsolute)?;
        if !is_scheme_syntax(scheme_name) {
            return Err(UrlError::NotAbsolute);
        }
        let scheme = Scheme::from_name(scheme_name)
            .ok_or_else(|| UrlError::UnsupportedScheme(scheme_name.to_ascii_lowercase()))?;
        let rest = rest.strip_prefix("//").ok_or(UrlError::NoAuthority)?;
        // Offset of `rest` in `input`, for error positions.
        let base = scheme_name.len() + 3;

        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
        let tail = tail.strip_prefix('/').unwrap_or(tail);
        match tail.bytes().next() {
            None => {}
            Some(b'?') => return Err(UrlError::QueryNotAllowed),
            Some(b'#') => return Err(UrlError::FragmentNotAllowed),
            Some(_) => return Err(UrlError::PathNotAllowed),
        }

        let (userinfo, hostport, host_base) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h, base + u.len() + 1),
            None => (None, authority, base),
        };

        let mut url = PopUrl::new(scheme, Host::Ipv4(Ipv4Addr::UNSPECIFIED));
        let (host, port) = split_host_port(hostport, host_base)?;
        url.host = host.parse()?;
        url.port = port;

        if let Some(userinfo) = userinfo {
            if userinfo.contains(':') {
                return Err(UrlError::CleartextPassword);
            }
            let (enc_user, param) = match userinfo.split_once(';') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if enc_user.is_empty() {
                return Err(if param.is_some() {
                    UrlError::AuthWithoutUser
                } else {
                    UrlError::EmptyUser
                });
            }
            let user = decode(enc_user, base)?;
            check_user(&user)?;
            url.user = Some(user);
            if let Some(param) = param {
                let param_base = base + enc_user.len() + 1;
                let value = strip_prefix_ignore_case(param, "AUTH=")
                    .ok_or_else(|| UrlError::UnknownParameter(String::from(param)))?;
                url.auth = Some(parse_auth(value, param_base + 5)?);
            }
        }
        Ok(url)
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether the connection is TLS from its first byte (`pops://`, `pop3s://`).
    pub fn is_tls(&self) -> bool {
        self.scheme.is_tls()
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port to connect to: the explicit one, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// The port written in the URL, if any.
    pub fn explicit_port(&self) -> Option<u16> {
        self.port
    }

    /// The user name, decoded. `None`: the client should ask for one (R2384-3).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The `;AUTH=` value, if the URL has one.
    pub fn auth(&self) -> Option<&Auth> {
        self.auth.as_ref()
    }

    /// The mechanism choice the URL asks for: its `;AUTH=` value, or
    /// [`Auth::Any`] when it has none (R2384-3: a user name alone implies
    /// `;AUTH=*`).
    ///
    /// ```
    /// use pop3_proto::url::{Auth, PopUrl};
    /// let url = PopUrl::parse("pop://rg@mailsrv.qualcomm.com").unwrap();
    /// assert_eq!(url.auth(), None);
    /// assert_eq!(url.effective_auth(), Auth::Any);
    /// ```
    pub fn effective_auth(&self) -> Auth {
        self.auth.clone().unwrap_or(Auth::Any)
    }
}

impl FromStr for PopUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        PopUrl::parse(s)
    }
}

impl TryFrom<&str> for PopUrl {
    type Error = UrlError;

    fn try_from(s: &str) -> Result<Self, UrlError> {
        PopUrl::parse(s)
    }
}

impl fmt::Display for PopUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            write_encoded(f, user.as_bytes())?;
            if let Some(auth) = &self.auth {
                write!(f, ";AUTH={auth}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// RFC 3986 `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme_syntax(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn encode_decode_utf8_user() {
        let url = PopUrl::parse("pop://J%C3%BCrgen%3Bx%40y@h").unwrap();
        assert_eq!(url.user(), Some("Jürgen;x@y"));
        assert_eq!(url.to_string(), "pop://J%C3%BCrgen%3Bx%40y@h");
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            PopUrl::parse("pop://u:@h"),
            Err(UrlError::CleartextPassword)
        );
        assert_eq!(
            PopUrl::parse("pop://;AUTH=*@h"),
            Err(UrlError::AuthWithoutUser)
        );
        assert_eq!(PopUrl::parse("pop://@h"), Err(UrlError::EmptyUser));
        assert_eq!(PopUrl::parse("pop://u;AUTH=@h"), Err(UrlError::EmptyAuth));
        assert_eq!(PopUrl::parse("pop://u;AUTH=+@h"), Err(UrlError::EmptyAuth));
        assert!(matches!(
            PopUrl::parse("pop://u;X=1@h"),
            Err(UrlError::UnknownParameter(_))
        ));
        assert_eq!(
            PopUrl::parse("pop://a b@h"),
            Err(UrlError::InvalidCharacter { ch: ' ', offset: 7 })
        );
        assert_eq!(
            PopUrl::parse("pop://a%2@h"),
            Err(UrlError::InvalidPercentEncoding { offset: 7 })
        );
        assert_eq!(PopUrl::parse("pop://a%FF@h"), Err(UrlError::NotUtf8));
        assert_eq!(
            PopUrl::parse("pop://a%0D%0ADELE@h"),
            Err(UrlError::ControlCharacter("the user name"))
        );
        assert_eq!(PopUrl::parse("pop://h/x"), Err(UrlError::PathNotAllowed));
        assert_eq!(PopUrl::parse("pop://h//"), Err(UrlError::PathNotAllowed));
        assert_eq!(PopUrl::parse("pop://h?x"), Err(UrlError::QueryNotAllowed));
        assert_eq!(
            PopUrl::parse("pop://h/#x"),
            Err(UrlError::FragmentNotAllowed)
        );
        assert_eq!(PopUrl::parse("pop:h"), Err(UrlError::NoAuthority));
        assert_eq!(PopUrl::parse("pop://"), Err(UrlError::MissingHost));
        assert_eq!(PopUrl::parse("pop://u@"), Err(UrlError::MissingHost));
        assert_eq!(
            PopUrl::parse("pop://h:"),
            Err(UrlError::InvalidPort("".into()))
        );
        assert_eq!(
            PopUrl::parse("pop://h:0"),
            Err(UrlError::InvalidPort("0".into()))
        );
        assert!(PopUrl::parse("pop://h:65536").is_err());
        assert!(PopUrl::parse("pop://[::1").is_err());
        assert!(PopUrl::parse("pop://[::1]x").is_err());
        assert!(PopUrl::parse("pop://[fe80::1%25eth0]").is_err());
        assert!(PopUrl::parse("pop://010.0.0.1").is_err());
        assert!(matches!(
            PopUrl::parse("imap://h"),
            Err(UrlError::UnsupportedScheme(s)) if s == "imap"
        ));
    }

    #[test]
    fn ipv6_and_ports() {
        let url = PopUrl::parse("pops://[2001:DB8::1]:1995").unwrap();
        assert_eq!(url.host(), &Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(url.port(), 1995);
        assert_eq!(url.host().to_connect_string(), "2001:db8::1");
        assert_eq!(url.to_string(), "pops://[2001:db8::1]:1995");
        let url = PopUrl::parse("pop://192.0.2.7:110").unwrap();
        assert_eq!(url.explicit_port(), Some(110));
        assert_eq!(url.to_string(), "pop://192.0.2.7:110");
    }
}

//! The scheme and the server of a POP URL: `pop://`/`pops://`, host names, IP
//! literals and ports (RFC 2384 §3, RFC 3986 §3.2.2).

use alloc::string::String;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use super::UrlError;

/// The URL scheme: whether TLS starts at once, and how it was spelled.
///
/// ```
/// use pop3_proto::url::Scheme;
/// assert_eq!(Scheme::Pop.default_port(), 110);
/// assert_eq!(Scheme::Pop3s.default_port(), 995);
/// assert!(Scheme::Pops.is_tls());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `pop://` (RFC 2384): plain TCP, default port 110.
    Pop,
    /// `pop3://`: an alias of `pop://`.
    Pop3,
    /// `pops://`: implicit TLS, default port 995 (this crate's extension; no RFC
    /// defines it).
    Pops,
    /// `pop3s://`: an alias of `pops://`.
    Pop3s,
}

impl Scheme {
    /// The scheme name, lower case, without `://`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Pop => "pop",
            Scheme::Pop3 => "pop3",
            Scheme::Pops => "pops",
            Scheme::Pop3s => "pop3s",
        }
    }

    /// Whether the connection is TLS from its first byte (R8314-1).
    pub const fn is_tls(self) -> bool {
        matches!(self, Scheme::Pops | Scheme::Pop3s)
    }

    /// 110, or 995 for the TLS schemes.
    pub const fn default_port(self) -> u16 {
        if self.is_tls() {
            995
        } else {
            110
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Self> {
        [Scheme::Pop, Scheme::Pop3, Scheme::Pops, Scheme::Pop3s]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered host name (RFC 1738 `hostname`, with RFC 1123's leading digits):
/// dot-separated labels of 1-63 letters, digits and `-` (not first or last), at
/// most 253 octets, the last label not all digits. Kept in lower case.
///
/// ```
/// use pop3_proto::url::DomainName;
/// assert_eq!(DomainName::new("Mail.Example.COM").unwrap().as_str(), "mail.example.com");
/// assert!(DomainName::new("-bad.example").is_err());
/// assert!(DomainName::new("1.2.3.4").is_err()); // an IPv4 address, not a name
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Checks and lower-cases a host name.
    pub fn new(name: &str) -> Result<Self, UrlError> {
        let bad = || UrlError::InvalidHost(String::from(name));
        if name.is_empty() || name.len() > 253 {
            return Err(bad());
        }
        let mut last_all_digits = false;
        for label in name.split('.') {
            let ok_len = (1..=63).contains(&label.len());
            let ok_chars = label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let ok_ends = !label.starts_with('-') && !label.ends_with('-');
            if !(ok_len && ok_chars && ok_ends) {
                return Err(bad());
            }
            last_all_digits = label.bytes().all(|b| b.is_ascii_digit());
        }
        if last_all_digits {
            return Err(bad());
        }
        Ok(DomainName(name.to_ascii_lowercase()))
    }

    /// The name, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The server's host.
///
/// ```
/// use pop3_proto::url::Host;
/// let v6: Host = "[2001:db8::1]".parse().unwrap();
/// assert_eq!(v6.to_string(), "[2001:db8::1]");
/// assert!(matches!("192.0.2.1".parse::<Host>(), Ok(Host::Ipv4(_))));
/// assert!(matches!("pop.example.org".parse::<Host>(), Ok(Host::Domain(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A registered name.
    Domain(DomainName),
    /// An IPv4 address, dotted-quad.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, written in brackets.
    Ipv6(Ipv6Addr),
}

impl Host {
    /// The host as a name or address to resolve or connect to: no brackets
    /// around an IPv6 address (unlike `Display`).
    pub fn to_connect_string(&self) -> String {
        match self {
            Host::Domain(d) => String::from(d.as_str()),
            Host::Ipv4(a) => alloc::format!("{a}"),
            Host::Ipv6(a) => alloc::format!("{a}"),
        }
    }
}

impl FromStr for Host {
    type Err = UrlError;

    /// Parses `name`, `a.b.c.d` or `[v6]`.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        let bad = || UrlError::InvalidHost(String::from(s));
        if s.is_empty() {
            return Err(UrlError::MissingHost);
        }
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(bad)?;
            return Ipv6Addr::from_str(inner).map(Host::Ipv6).map_err(|_| bad());
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Ipv4Addr::from_str(s).map(Host::Ipv4).map_err(|_| bad());
        }
        DomainName::new(s).map(Host::Domain)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d.as_str()),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Splits `host[:port]` (the host possibly `[v6]`).
pub(super) fn split_host_port(
    hostport: &str,
    base: usize,
) -> Result<(&str, Option<u16>), UrlError> {
    if hostport.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(close) => {
                let (host, after) = hostport
                    .split_at_checked(close + 1)
                    .unwrap_or((hostport, ""));
                match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if after.is_empty() => (host, None),
                    None => return Err(UrlError::InvalidHost(String::from(hostport))),
                }
            }
            None => return Err(UrlError::InvalidHost(String::from(hostport))),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    if let Some((offset, ch)) = host
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':')))
    {
        return Err(UrlError::InvalidCharacter {
            ch,
            offset: base + offset,
        });
    }
    let port = match port {
        None => None,
        Some(p) => {
            let bad = || UrlError::InvalidPort(String::from(p));
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad()),
                Ok(n) => Some(n),
            }
        }
    };
    Ok((host, port))
}

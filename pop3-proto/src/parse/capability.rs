//! Capability lines of a CAPA reply (R2449-8, SPEC.md §4.2).

use alloc::vec::Vec;

use super::{check_line, decimal_u32};
use crate::error::ParseError;
use crate::types::{Capability, Expire, Mechanism, OtherCapability, Text};

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
pub(crate) fn typed(tag: &[u8], args: Option<&[u8]>) -> Option<Capability> {
    let is = |name: &str| tag.eq_ignore_ascii_case(name.as_bytes());
    let bare = |c: Capability| args.is_none().then_some(c);
    if is("TOP") {
        bare(Capability::Top)
    } else if is("USER") {
        bare(Capability::User)
    } else if is("RESP-CODES") {
        bare(Capability::RespCodes)
    } else if is("PIPELINING") {
        bare(Capability::Pipelining)
    } else if is("UIDL") {
        bare(Capability::Uidl)
    } else if is("STLS") {
        bare(Capability::Stls)
    } else if is("AUTH-RESP-CODE") {
        bare(Capability::AuthRespCode)
    } else if is("LANG") {
        bare(Capability::Lang)
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
            seconds: decimal_u32("LOGIN-DELAY", 0, seconds).ok()?,
            per_user: per_user(rest)?,
        })
    } else if is("EXPIRE") {
        let words = words(args?)?;
        let (value, rest) = words.split_first()?;
        let expire = if value.eq_ignore_ascii_case(b"NEVER") {
            Expire::Never
        } else {
            Expire::Days(decimal_u32("EXPIRE", 0, value).ok()?)
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
    /// Parses one capability line of a CAPA reply, without its CRLF (R2449-8):
    /// `tag *(SP param)`, the tag case-insensitive. A known tag whose arguments
    /// fit its grammar gives the typed capability (`LOGIN-DELAY 900 USER`,
    /// `EXPIRE NEVER`, `SASL PLAIN GSSAPI`, ...); any other line gives
    /// [`Capability::Other`], kept as it came (R2449-12). Only a line with CR, LF
    /// or NUL, or with an invalid tag (empty, longer than 64 octets, or with an
    /// octet outside `%x21-2D / %x2F-7E`), is an error.
    ///
    /// ```
    /// use pop3_proto::types::{Capability, Expire};
    /// assert_eq!(
    ///     Capability::parse(b"expire 5 user").unwrap(),
    ///     Capability::Expire { expire: Expire::Days(5), per_user: true }
    /// );
    /// assert!(matches!(Capability::parse(b"LOGIN-DELAY soon").unwrap(), Capability::Other(_)));
    /// ```
    pub fn parse(line: &[u8]) -> Result<Capability, ParseError> {
        check_line(line)?;
        let (tag, args) = match memchr::memchr(b' ', line) {
            None => (line, None),
            Some(space) => (line.get(..space).unwrap_or_default(), line.get(space + 1..)),
        };
        if let Some(capability) = typed(tag, args) {
            return Ok(capability);
        }
        let args = args
            .map(Text::new)
            .transpose()
            .map_err(|error| ParseError::BadArgument {
                what: "capability",
                error,
            })?;
        OtherCapability::new(tag, args)
            .map(Capability::Other)
            .map_err(|error| ParseError::BadArgument {
                what: "capability tag",
                error,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(line: &[u8]) -> bool {
        matches!(Capability::parse(line), Ok(Capability::Other(_)))
    }

    #[test]
    fn typed_when_arguments_fit() {
        assert_eq!(
            Capability::parse(b"LOGIN-DELAY 900 USER"),
            Ok(Capability::LoginDelay {
                seconds: 900,
                per_user: true
            })
        );
        assert_eq!(
            Capability::parse(b"EXPIRE NEVER"),
            Ok(Capability::Expire {
                expire: Expire::Never,
                per_user: false
            })
        );
        assert_eq!(
            Capability::parse(b"UTF8 USER"),
            Ok(Capability::Utf8 { user: true })
        );
        assert_eq!(
            Capability::parse(b"IMPLEMENTATION BlurdyBlurp POP3 server"),
            Ok(Capability::Implementation(
                Text::new("BlurdyBlurp POP3 server").unwrap()
            ))
        );
        assert_eq!(Capability::parse(b"sasl"), Ok(Capability::Sasl(Vec::new())));
        assert_eq!(Capability::parse(b"Top"), Ok(Capability::Top));
    }

    #[test]
    fn other_when_arguments_do_not_fit() {
        for line in [
            &b"TOP 1"[..],
            b"TOP ",
            b"LOGIN-DELAY",
            b"LOGIN-DELAY -1",
            b"LOGIN-DELAY 900 USER X",
            b"LOGIN-DELAY  900",
            b"EXPIRE 99999999999",
            b"EXPIRE soon",
            b"SASL A  B",
            b"SASL pl@in",
            b"UTF8 ONLY",
            b"X-FOO bar baz",
            b"X-FOO",
        ] {
            assert!(other(line), "{line:?}");
        }
    }

    #[test]
    fn invalid_tags_are_errors() {
        assert!(Capability::parse(b"").is_err());
        assert!(Capability::parse(b" TOP").is_err());
        assert!(Capability::parse(b".").is_err());
        assert!(Capability::parse(&[b'A'; 65]).is_err());
        assert!(Capability::parse(b"TOP\0").is_err());
    }

    #[test]
    fn other_capability_refuses_typed_lines() {
        assert!(OtherCapability::new("top", None).is_err());
        assert!(OtherCapability::new("EXPIRE", Some(Text::new("5 user").unwrap())).is_err());
        assert!(OtherCapability::new("IMPLEMENTATION", Some(Text::empty())).is_err());
        assert!(OtherCapability::new("TOP", Some(Text::empty())).is_ok());
        assert!(OtherCapability::new("EXPIRE", Some(Text::new("soon").unwrap())).is_ok());
    }
}

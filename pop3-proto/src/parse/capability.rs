//! Capability lines of a CAPA reply (RFC 2449 §5, §6; R2449-8).

use super::{bad, check_line};
use crate::error::ParseError;
use crate::types::{Capability, OtherCapability, Text};

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
        if let Some(capability) = Capability::typed(tag, args) {
            return Ok(capability);
        }
        let args = args.map(Text::new).transpose().map_err(bad("capability"))?;
        OtherCapability::new(tag, args)
            .map(Capability::Other)
            .map_err(bad("capability tag"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Expire;
    use alloc::vec::Vec;

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

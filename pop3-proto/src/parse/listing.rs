//! The listings inside replies: drop (STAT), scan (LIST), unique-id (UIDL),
//! language (LANG) and discussion-group (XTND BBOARDS) listings.

use super::{bad, check_line, decimal, decimal_u32, message_number, Cursor};
use crate::error::ParseError;
use crate::options::ReplyOptions;
use crate::types::{
    DropListing, GroupListing, GroupName, LanguageListing, LanguageTag, MessageNumber, ScanListing,
    Text, UidListing, UniqueId, ValueError,
};

/// The fields of one listing line, read in order; errors name the listing (`what`).
struct Fields<'a> {
    what: &'static str,
    cursor: Cursor<'a>,
    started: bool,
}

impl<'a> Fields<'a> {
    /// Checks the line and stands before its first field.
    fn new(what: &'static str, line: &'a [u8], collapse: bool) -> Result<Self, ParseError> {
        check_line(line)?;
        Ok(Fields {
            what,
            cursor: Cursor::new(line, collapse),
            started: false,
        })
    }

    /// The next field, required: the first, or one after a separator.
    fn next(&mut self) -> Result<(usize, &'a [u8]), ParseError> {
        if core::mem::replace(&mut self.started, true) {
            self.cursor.field(self.what)
        } else {
            self.cursor.first()
        }
    }

    /// The next field as a message number.
    fn message_number(&mut self) -> Result<MessageNumber, ParseError> {
        let (at, msg) = self.next()?;
        message_number(self.what, at, msg)
    }

    /// The next field as a size or count, any `u64`.
    fn number(&mut self) -> Result<u64, ParseError> {
        let (at, number) = self.next()?;
        decimal(self.what, at, number, u64::MAX)
    }

    /// The next field as a value of its own rule (`new`).
    fn value<T>(
        &mut self,
        new: impl FnOnce(&'a [u8]) -> Result<T, ValueError>,
    ) -> Result<T, ParseError> {
        let (_, value) = self.next()?;
        new(value).map_err(bad(self.what))
    }

    /// After the last required field: the end of the line, or a space and anything
    /// (allowed but discouraged, R1939-31, R1939-32, R1082-3).
    fn ignore_rest(&self) -> Result<(), ParseError> {
        match self.cursor.rest().first() {
            None | Some(b' ') => Ok(()),
            Some(_) => Err(ParseError::ExtraArgument {
                what: self.what,
                offset: self.cursor.offset(),
            }),
        }
    }
}

impl DropListing {
    /// Parses the drop listing of a STAT reply: the text after `+OK `, `count size`,
    /// anything after the size ignored (R1939-31).
    ///
    /// ```
    /// use pop3_proto::types::{DropListing, StatusLine};
    /// let line = StatusLine::parse(b"+OK 2 320").unwrap();
    /// let drop = DropListing::parse(line.text().as_bytes()).unwrap();
    /// assert_eq!((drop.count, drop.size), (2, 320));
    /// ```
    pub fn parse(text: &[u8]) -> Result<DropListing, ParseError> {
        Self::parse_with(text, &ReplyOptions::default())
    }

    /// Parses a drop listing with the given options (`collapse_spaces`).
    pub fn parse_with(text: &[u8], options: &ReplyOptions) -> Result<DropListing, ParseError> {
        let strict = Self::parse_strict(text, options);
        match strict {
            Err(_) if options.wordy_stat => {
                Self::parse_wordy(text).ok_or(strict.err().unwrap_or(ParseError::Empty))
            }
            result => result,
        }
    }

    /// `+OK 20 messages (1234 octets)`: the first two decimal numbers.
    fn parse_wordy(text: &[u8]) -> Option<DropListing> {
        check_line(text).ok()?;
        let mut numbers = text
            .split(|b| !b.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|digits| {
                digits.iter().try_fold(0u64, |n, d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
            });
        let count = u32::try_from(numbers.next()??).ok()?;
        let size = numbers.next()??;
        Some(DropListing { count, size })
    }

    fn parse_strict(text: &[u8], options: &ReplyOptions) -> Result<DropListing, ParseError> {
        let mut fields = Fields::new("drop listing", text, options.collapse_spaces)?;
        let (at, count) = fields.next()?;
        let count = decimal_u32(fields.what, at, count)?;
        let size = fields.number()?;
        fields.ignore_rest()?;
        Ok(DropListing { count, size })
    }
}

impl ScanListing {
    /// Parses a scan listing, `msg size`, anything after the size ignored
    /// (R1939-32): a line of a LIST reply, or the text after `+OK ` of a `LIST n`
    /// reply. `maxima` is `None`.
    ///
    /// ```
    /// use pop3_proto::types::ScanListing;
    /// let scan = ScanListing::parse(b"2 200").unwrap();
    /// assert_eq!((scan.msg.get(), scan.size, scan.maxima), (2, 200, None));
    /// ```
    pub fn parse(line: &[u8]) -> Result<ScanListing, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses a scan listing with the given options: with `bboard_scan`, the
    /// `msg size maxima` form of an open discussion group (R1082-4).
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<ScanListing, ParseError> {
        let mut fields = Fields::new("scan listing", line, options.collapse_spaces)?;
        let msg = fields.message_number()?;
        let size = fields.number()?;
        let maxima = if options.bboard_scan {
            Some(fields.number()?)
        } else {
            None
        };
        fields.ignore_rest()?;
        Ok(ScanListing { msg, size, maxima })
    }
}

impl UidListing {
    /// Parses a unique-id listing, `msg unique-id` with nothing after it
    /// (R1939-39): a line of a UIDL reply, or the text after `+OK ` of a `UIDL n`
    /// reply. The unique-id is 1-70 octets in 0x21-0x7E (E-24).
    ///
    /// ```
    /// use pop3_proto::types::UidListing;
    /// let uid = UidListing::parse(b"2 QhdPYR:00WBw1Ph7x7").unwrap();
    /// assert_eq!(uid.uid.as_bytes(), b"QhdPYR:00WBw1Ph7x7");
    /// assert!(UidListing::parse(b"2 QhdPYR:00WBw1Ph7x7 extra").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<UidListing, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses a unique-id listing with the given options (`collapse_spaces`: runs
    /// of spaces and trailing spaces).
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<UidListing, ParseError> {
        let mut fields = Fields::new("unique-id listing", line, options.collapse_spaces)?;
        let msg = fields.message_number()?;
        let uid = fields.value(UniqueId::new)?;
        if fields.cursor.separator()? {
            return Err(ParseError::ExtraArgument {
                what: fields.what,
                offset: fields.cursor.offset(),
            });
        }
        Ok(UidListing { msg, uid })
    }
}

impl LanguageListing {
    /// Parses a language listing, `tag [SP description]` (R6856-6): a line of a
    /// LANG reply, or the text after `+OK ` of a `LANG range` reply (the tag
    /// selected, then the text).
    ///
    /// ```
    /// use pop3_proto::types::LanguageListing;
    /// let l = LanguageListing::parse(b"en-boont English Boontling dialect").unwrap();
    /// assert_eq!(l.tag.as_bytes(), b"en-boont");
    /// assert_eq!(l.description.unwrap().as_bytes(), b"English Boontling dialect");
    /// ```
    pub fn parse(line: &[u8]) -> Result<LanguageListing, ParseError> {
        let mut fields = Fields::new("language listing", line, false)?;
        let tag = fields.value(LanguageTag::new)?;
        let description = match fields.cursor.rest().split_first() {
            None => None,
            Some((_, text)) => Some(Text::new(text).map_err(bad(fields.what))?),
        };
        Ok(LanguageListing { tag, description })
    }
}

impl GroupListing {
    /// Parses a discussion-group listing of `XTND BBOARDS`, `NAME MAXIMA`,
    /// anything after it ignored (R1082-3).
    ///
    /// ```
    /// use pop3_proto::types::GroupListing;
    /// let g = GroupListing::parse(b"mh-users 100").unwrap();
    /// assert_eq!((g.name.as_bytes(), g.maxima), (&b"mh-users"[..], 100));
    /// ```
    pub fn parse(line: &[u8]) -> Result<GroupListing, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses a group listing with the given options (`collapse_spaces`).
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<GroupListing, ParseError> {
        let mut fields = Fields::new("group listing", line, options.collapse_spaces)?;
        let name = fields.value(GroupName::new)?;
        let maxima = fields.number()?;
        fields.ignore_rest()?;
        Ok(GroupListing { name, maxima })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_listing_ignores_trailing_text_r1939_31() {
        let d = DropListing::parse(b"2 320 (discouraged)").unwrap();
        assert_eq!((d.count, d.size), (2, 320));
        assert!(DropListing::parse(b"2").is_err());
        assert!(DropListing::parse(b"2 320x").is_err());
        assert!(DropListing::parse(b"2  320").is_err());
        assert!(DropListing::parse(b"-2 320").is_err());
        assert!(DropListing::parse_with(b"2  320", &ReplyOptions::lenient()).is_ok());
    }

    #[test]
    fn scan_listing_forms() {
        assert!(ScanListing::parse(b"0 120").is_err());
        assert_eq!(ScanListing::parse(b"1 120 extra").unwrap().size, 120);
        let o = ReplyOptions {
            bboard_scan: true,
            ..ReplyOptions::default()
        };
        assert_eq!(
            ScanListing::parse_with(b"1 120 7", &o).unwrap().maxima,
            Some(7)
        );
        assert!(ScanListing::parse_with(b"1 120", &o).is_err());
    }

    #[test]
    fn uid_listing_nothing_after_r1939_39() {
        assert!(UidListing::parse(b"1 abc ").is_err());
        assert!(UidListing::parse(b"1  abc").is_err());
        assert!(UidListing::parse(b"1").is_err());
        assert!(UidListing::parse(&[b'1', b' ', 0x7F]).is_err());
        let o = ReplyOptions::lenient();
        assert_eq!(
            UidListing::parse_with(b"1   abc  ", &o)
                .unwrap()
                .uid
                .as_bytes(),
            b"abc"
        );
        assert!(UidListing::parse_with(b"1 abc def", &o).is_err());
    }

    #[test]
    fn language_listing_description() {
        assert_eq!(LanguageListing::parse(b"de").unwrap().description, None);
        assert_eq!(
            LanguageListing::parse(b"de ").unwrap().description,
            Some(Text::empty())
        );
        assert!(LanguageListing::parse(b" de").is_err());
    }
}

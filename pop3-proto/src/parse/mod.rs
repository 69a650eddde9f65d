//! Parsing with nom, private to the crate: from one framed line to a typed value.
//! No nom type leaves this module: the public entry points are inherent methods of
//! the types (`Command::parse`, `StatusLine::parse`, ...), defined in the files of
//! this module, one per kind of line.

mod capability;
mod command;
mod listing;
mod sasl;
mod status;

use nom::bytes::complete::take_till;
use nom::{IResult, Parser};

use crate::error::{NumberError, ParseError};
use crate::types::{MessageNumber, ValueError};

/// The error for an argument or field `what` that breaks its value's rule, as a
/// `map_err` argument.
pub(crate) fn bad(what: &'static str) -> impl Fn(ValueError) -> ParseError {
    move |error| ParseError::BadArgument { what, error }
}

/// Refuses a line holding CR, LF or NUL: framing removed the line ending, so any
/// of them left is an injection attempt or a framing bug.
pub(crate) fn check_line(line: &[u8]) -> Result<(), ParseError> {
    match memchr::memchr3(b'\r', b'\n', 0, line) {
        Some(offset) => Err(ParseError::ForbiddenByte {
            byte: line.get(offset).copied().unwrap_or_default(),
            offset,
        }),
        None => Ok(()),
    }
}

/// A decimal number of digits only: leading zeros accepted, signs refused, checked
/// arithmetic (E-12, IMPL-20). The rule is [`crate::types::decimal`]'s; this names
/// the field and where it starts.
pub(crate) fn decimal(
    what: &'static str,
    offset: usize,
    token: &[u8],
    max: u64,
) -> Result<u64, ParseError> {
    crate::types::decimal(token, max).map_err(|reason| ParseError::BadNumber {
        what,
        offset,
        reason,
    })
}

/// A `u32` field.
pub(crate) fn decimal_u32(
    what: &'static str,
    offset: usize,
    token: &[u8],
) -> Result<u32, ParseError> {
    crate::types::decimal_u32(token).map_err(|reason| ParseError::BadNumber {
        what,
        offset,
        reason,
    })
}

/// A message number: a `u32` field that is not 0 (R1939-20).
pub(crate) fn message_number(
    what: &'static str,
    offset: usize,
    token: &[u8],
) -> Result<MessageNumber, ParseError> {
    MessageNumber::new(decimal_u32(what, offset, token)?).map_err(|_| ParseError::BadNumber {
        what,
        offset,
        reason: NumberError::Zero,
    })
}

/// Walks a line token by token, tokens separated by SP.
pub(crate) struct Cursor<'a> {
    line: &'a [u8],
    pos: usize,
    collapse: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `line`. With `collapse`, runs of spaces count as
    /// one separator and spaces at the start and the end are skipped (E-27).
    pub(crate) fn new(line: &'a [u8], collapse: bool) -> Self {
        let mut cursor = Cursor {
            line,
            pos: 0,
            collapse,
        };
        if collapse {
            cursor.skip_spaces();
        }
        cursor
    }

    fn skip_spaces(&mut self) {
        while self.line.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    /// Where the cursor is.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// What is left of the line.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.line.get(self.pos..).unwrap_or_default()
    }

    /// Whether nothing is left.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// The octets up to the next space or the end (possibly none).
    pub(crate) fn token(&mut self) -> (usize, &'a [u8]) {
        let start = self.pos;
        let result: IResult<&[u8], &[u8]> = take_till(|b| b == b' ').parse(self.rest());
        let token = match result {
            Ok((_, token)) => token,
            Err(_) => &[],
        };
        self.pos += token.len();
        (start, token)
    }

    /// The first token of the line (a command keyword, a listing's first field):
    /// `Empty` for an empty line, `ExtraSpace` when the line starts with a space.
    pub(crate) fn first(&mut self) -> Result<(usize, &'a [u8]), ParseError> {
        let (at, token) = self.token();
        if token.is_empty() {
            return Err(if self.at_end() {
                ParseError::Empty
            } else {
                ParseError::ExtraSpace { offset: at }
            });
        }
        Ok((at, token))
    }

    /// The next token, required: `MissingArgument { what }` at the end of the line.
    pub(crate) fn field(&mut self, what: &'static str) -> Result<(usize, &'a [u8]), ParseError> {
        if !self.separator()? {
            return Err(ParseError::MissingArgument { what });
        }
        Ok(self.token())
    }

    /// Consumes the separator before the next token. `Ok(false)` at the end of the
    /// line. Strict: exactly one space, and something after it; lenient: a run of
    /// spaces, and trailing spaces end the line.
    pub(crate) fn separator(&mut self) -> Result<bool, ParseError> {
        if self.at_end() {
            return Ok(false);
        }
        if self.line.get(self.pos) != Some(&b' ') {
            // Not reached: tokens stop at a space or the end.
            return Err(ParseError::ExtraArgument {
                what: "line",
                offset: self.pos,
            });
        }
        if self.collapse {
            self.skip_spaces();
            return Ok(!self.at_end());
        }
        let space = self.pos;
        self.pos += 1;
        match self.line.get(self.pos) {
            None => Err(ParseError::ExtraSpace { offset: space }),
            Some(b' ') => Err(ParseError::ExtraSpace { offset: self.pos }),
            Some(_) => Ok(true),
        }
    }

    /// Every remaining token, each with its offset.
    pub(crate) fn tokens(&mut self) -> Result<alloc::vec::Vec<(usize, &'a [u8])>, ParseError> {
        let mut tokens = alloc::vec::Vec::new();
        while self.separator()? {
            tokens.push(self.token());
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_rules_e12() {
        assert_eq!(decimal("n", 0, b"007", u64::MAX), Ok(7));
        assert_eq!(decimal_u32("n", 0, b"4294967295"), Ok(u32::MAX));
        assert!(matches!(
            decimal_u32("n", 0, b"4294967296"),
            Err(ParseError::BadNumber {
                reason: NumberError::TooLarge,
                ..
            })
        ));
        assert!(decimal("n", 0, b"18446744073709551616", u64::MAX).is_err());
        assert!(decimal("n", 0, b"00000000000000000000000000001", u64::MAX).is_ok());
        for bad in [&b"+1"[..], b"-1", b"1a", b" 1", b""] {
            assert!(decimal("n", 0, bad, u64::MAX).is_err(), "{bad:?}");
        }
        assert!(matches!(
            message_number("n", 0, b"000"),
            Err(ParseError::BadNumber {
                reason: NumberError::Zero,
                ..
            })
        ));
    }

    #[test]
    fn cursor_spacing() {
        let mut c = Cursor::new(b"A B", false);
        assert_eq!(c.token(), (0, &b"A"[..]));
        assert_eq!(c.tokens().unwrap(), [(2, &b"B"[..])]);
        let mut c = Cursor::new(b"A  B", false);
        c.token();
        assert_eq!(c.tokens(), Err(ParseError::ExtraSpace { offset: 2 }));
        let mut c = Cursor::new(b"A ", false);
        c.token();
        assert_eq!(c.tokens(), Err(ParseError::ExtraSpace { offset: 1 }));
        let mut c = Cursor::new(b"  A   B  ", true);
        assert_eq!(c.token(), (2, &b"A"[..]));
        assert_eq!(c.tokens().unwrap(), [(6, &b"B"[..])]);
    }
}

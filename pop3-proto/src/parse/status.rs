//! Status lines (`+OK` / `-ERR`, R1939-7) with their response codes (R2449-20),
//! and the greeting.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case};
use nom::combinator::value;
use nom::{IResult, Parser};

use super::{bad, check_line};
use crate::error::ParseError;
use crate::options::ReplyOptions;
use crate::types::split_code;
use crate::types::{Greeting, Status, StatusLine, Text};

/// The status indicator at the start of `line`, exact case.
fn indicator(line: &[u8]) -> IResult<&[u8], Status> {
    alt((
        value(Status::Ok, tag(&b"+OK"[..])),
        value(Status::Err, tag(&b"-ERR"[..])),
    ))
    .parse(line)
}

/// The status indicator, any case (IMPL-19).
fn indicator_no_case(line: &[u8]) -> IResult<&[u8], Status> {
    alt((
        value(Status::Ok, tag_no_case(&b"+OK"[..])),
        value(Status::Err, tag_no_case(&b"-ERR"[..])),
    ))
    .parse(line)
}

/// `+ OK`, the RFC 1082 typo (IMPL-15).
fn spaced_ok(line: &[u8], any_case: bool) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"+ ")?;
    let ok = rest.get(..2)?;
    let matches = if any_case {
        ok.eq_ignore_ascii_case(b"OK")
    } else {
        ok == b"OK"
    };
    if matches {
        rest.get(2..)
    } else {
        None
    }
}

fn status(
    line: &[u8],
    options: &ReplyOptions,
) -> Result<(Status, Text, Option<crate::types::ResponseCode>), ParseError> {
    check_line(line)?;
    let parsed = if options.lowercase_status {
        indicator_no_case(line)
    } else {
        indicator(line)
    };
    let (status, rest) = match parsed {
        Ok((rest, status)) => (status, rest),
        Err(_) => match spaced_ok(line, options.lowercase_status) {
            Some(rest) if options.spaced_status => (Status::Ok, rest),
            _ => return Err(ParseError::UnknownStatus),
        },
    };
    // R1957-1: nothing after the status is fine.
    let after = match rest.split_first() {
        None => rest,
        Some((b' ', after)) => after,
        Some(_) if options.missing_space => rest,
        Some(_) => return Err(ParseError::UnknownStatus),
    };
    let (code, text) = match split_code(after) {
        Some((code, text)) => (Some(code), text.strip_prefix(b" ").unwrap_or(text)),
        None => (None, after),
    };
    let text = Text::new(text).map_err(bad("status text"))?;
    Ok((status, text, code))
}

impl StatusLine {
    /// Parses a status line, without its CRLF, strictly: `+OK` or `-ERR` in upper
    /// case (R1939-8), then nothing (R1957-1, E-8) or a space, an optional response
    /// code (R2449-20), an optional space and the text. A leading `[` that is not a
    /// well-formed code is plain text (IMPL-8).
    ///
    /// ```
    /// use pop3_proto::types::{CodeKind, StatusLine};
    /// let line = StatusLine::parse(b"-ERR [IN-USE] Do you have another POP session running?").unwrap();
    /// assert_eq!(line.code().unwrap().kind(), CodeKind::InUse);
    /// assert!(StatusLine::parse(b"+OK").unwrap().text().is_empty());
    /// ```
    pub fn parse(line: &[u8]) -> Result<StatusLine, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses a status line with the given options (IMPL-15, IMPL-19).
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<StatusLine, ParseError> {
        let (status, text, code) = status(line, options)?;
        Ok(StatusLine::from_parts(status, code, text))
    }
}

impl Greeting {
    /// Parses the greeting, without its CRLF (R1939-18): a `+OK` status line whose
    /// text is read as it is (E-11). A `-ERR` greeting gives
    /// [`ParseError::NegativeGreeting`] (E-23).
    ///
    /// ```
    /// use pop3_proto::error::ParseError;
    /// use pop3_proto::types::Greeting;
    /// let g = Greeting::parse(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>").unwrap();
    /// assert_eq!(g.timestamp(), Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..]));
    /// assert_eq!(Greeting::parse(b"-ERR go away"), Err(ParseError::NegativeGreeting));
    /// ```
    pub fn parse(line: &[u8]) -> Result<Greeting, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses the greeting with the given options.
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<Greeting, ParseError> {
        let line = StatusLine::parse_with(line, options)?;
        if line.is_err() {
            return Err(ParseError::NegativeGreeting);
        }
        Ok(Greeting::from_line(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CodeKind, ResponseCode};

    #[test]
    fn bare_status_r1957_1() {
        let ok = StatusLine::parse(b"+OK").unwrap();
        assert!(ok.is_ok() && ok.text().is_empty() && ok.code().is_none());
        let err = StatusLine::parse(b"-ERR").unwrap();
        assert!(err.is_err() && err.text().is_empty());
        assert!(StatusLine::parse(b"+OK ").unwrap().text().is_empty());
    }

    #[test]
    fn status_must_be_followed_by_space() {
        assert_eq!(StatusLine::parse(b"+OKAY"), Err(ParseError::UnknownStatus));
        assert_eq!(StatusLine::parse(b"OK"), Err(ParseError::UnknownStatus));
        assert_eq!(StatusLine::parse(b""), Err(ParseError::UnknownStatus));
        let o = ReplyOptions {
            missing_space: true,
            ..ReplyOptions::default()
        };
        let line = StatusLine::parse_with(b"-ERRno such message", &o).unwrap();
        assert_eq!(line.text().as_bytes(), b"no such message");
    }

    #[test]
    fn code_spacing() {
        let line = StatusLine::parse(b"-ERR [AUTH]bad").unwrap();
        assert_eq!(line.code(), Some(&ResponseCode::auth()));
        assert_eq!(line.text().as_bytes(), b"bad");
        let line = StatusLine::parse(b"-ERR [AUTH]  bad").unwrap();
        assert_eq!(line.text().as_bytes(), b" bad");
        let line = StatusLine::parse(b"-ERR [SYS/TEMP/DISK]").unwrap();
        assert_eq!(line.code().unwrap().kind(), CodeKind::SysTemp);
        assert!(line.text().is_empty());
        let line = StatusLine::parse(b"+OK  [AUTH] x").unwrap();
        assert!(line.code().is_none());
        assert_eq!(line.text().as_bytes(), b" [AUTH] x");
    }

    #[test]
    fn lenient_forms() {
        assert!(StatusLine::parse(b"+ok").is_err());
        assert!(StatusLine::parse(b"+ OK XTND").is_err());
        let mut o = ReplyOptions {
            lowercase_status: true,
            ..ReplyOptions::default()
        };
        assert!(StatusLine::parse_with(b"-err x", &o).unwrap().is_err());
        assert!(StatusLine::parse_with(b"+ OK XTND", &o).is_err());
        o.spaced_status = true;
        let line = StatusLine::parse_with(b"+ ok XTND", &o).unwrap();
        assert!(line.is_ok());
        assert_eq!(line.text().as_bytes(), b"XTND");
        assert!(StatusLine::parse_with(b"- ERR x", &o).is_err());
    }
}

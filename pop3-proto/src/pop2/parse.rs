//! Reading one POP2 line (without its CRLF) as a command, a reply or a greeting.
//! Hand-written: the grammar is a handful of words, and the `\` quoting (R937-7)
//! is easier to follow as a loop than as combinators.

use alloc::vec::Vec;

use super::types::{
    is_forbidden, Argument, Command, Greeting, HostName, ParseError, Password, Reply, ReplyKind,
    MAX_COMMAND_LINE, MAX_REPLY_LINE,
};
use crate::types::Text;

/// Refuses a line too long for `max` (counting its CRLF) or holding CR, LF, NUL.
fn check_line(line: &[u8], max: usize) -> Result<(), ParseError> {
    let len = line.len().saturating_add(2);
    if len > max {
        return Err(ParseError::TooLong { len, max });
    }
    if let Some(offset) = line.iter().position(|&b| is_forbidden(b)) {
        return Err(ParseError::ForbiddenByte {
            byte: line.get(offset).copied().unwrap_or_default(),
            offset,
        });
    }
    Ok(())
}

/// One argument, unquoted, and where it started.
struct Token {
    bytes: Vec<u8>,
    offset: usize,
}

/// Splits `rest` (what follows the command word, starting at `base`) into
/// unquoted arguments: single spaces separate them, `\x` stands for `x`.
fn split_arguments(rest: &[u8], base: usize) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    // `rest` is empty or starts with the space after the command word.
    while i < rest.len() {
        // At a separating space.
        let space = base + i;
        i += 1;
        match rest.get(i) {
            None | Some(b' ') => return Err(ParseError::ExtraSpace { offset: space }),
            Some(_) => {}
        }
        let start = i;
        let mut bytes = Vec::new();
        while let Some(&b) = rest.get(i) {
            match b {
                b' ' => break,
                b'\\' => match rest.get(i + 1) {
                    Some(&escaped) => {
                        bytes.push(escaped);
                        i += 2;
                    }
                    None => return Err(ParseError::DanglingEscape { offset: base + i }),
                },
                _ => {
                    bytes.push(b);
                    i += 1;
                }
            }
        }
        tokens.push(Token {
            bytes,
            offset: base + start,
        });
    }
    Ok(tokens)
}

/// A decimal number of digits only (leading zeros accepted), at most `max`.
fn number(token: &[u8], offset: usize, max: u64) -> Result<u64, ParseError> {
    let bad = ParseError::BadNumber { offset };
    if token.is_empty() || token.len() > 20 || !token.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let mut n: u64 = 0;
    for &d in token {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(bad)?;
    }
    if n > max {
        return Err(bad);
    }
    Ok(n)
}

impl Command {
    /// Parses one command line, without its CRLF (R937-3). Command words are
    /// matched without regard to case (RFC 937 does not say; POP3 does, R1939-3).
    /// Arguments are unquoted (R937-7). The line with CRLF may be at most 512
    /// octets (R937-8).
    ///
    /// ```
    /// use pop3_proto::pop2::{Command, ParseError};
    /// let c = Command::parse(b"FOLD My\\ Box").unwrap();
    /// assert!(matches!(c, Command::Fold(a) if a.as_bytes() == b"My Box"));
    /// assert_eq!(Command::parse(b"NOOP"), Err(ParseError::UnknownCommand));
    /// ```
    pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
        check_line(line, MAX_COMMAND_LINE)?;
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let word_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
        let (word, rest) = line.split_at_checked(word_end).unwrap_or((line, &[]));
        let mut upper = [0u8; 4];
        if word.len() != 4 {
            return Err(ParseError::UnknownCommand);
        }
        for (u, b) in upper.iter_mut().zip(word) {
            *u = b.to_ascii_uppercase();
        }
        let what: &'static str = match &upper {
            b"HELO" => "HELO",
            b"FOLD" => "FOLD",
            b"READ" => "READ",
            b"RETR" => "RETR",
            b"ACKS" => "ACKS",
            b"ACKD" => "ACKD",
            b"NACK" => "NACK",
            b"QUIT" => "QUIT",
            _ => return Err(ParseError::UnknownCommand),
        };
        let mut args = split_arguments(rest, word_end)?.into_iter();
        let mut next = || args.next();
        let bad = |error| ParseError::BadArgument { what, error };
        let command = match what {
            "HELO" => {
                let user = next().ok_or(ParseError::MissingArgument { what })?;
                let password = next().ok_or(ParseError::MissingArgument { what })?;
                Command::Helo {
                    user: Argument::new(user.bytes).map_err(bad)?,
                    password: Password::new(password.bytes).map_err(bad)?,
                }
            }
            "FOLD" => {
                let mailbox = next().ok_or(ParseError::MissingArgument { what })?;
                Command::Fold(Argument::new(mailbox.bytes).map_err(bad)?)
            }
            "READ" => match next() {
                None => Command::Read(None),
                Some(n) => {
                    let n = number(&n.bytes, n.offset, u64::from(u32::MAX))?;
                    Command::Read(Some(u32::try_from(n).unwrap_or(u32::MAX)))
                }
            },
            "RETR" => Command::Retr,
            "ACKS" => Command::Acks,
            "ACKD" => Command::Ackd,
            "NACK" => Command::Nack,
            _ => Command::Quit,
        };
        if let Some(extra) = next() {
            return Err(ParseError::ExtraArgument {
                what,
                offset: extra.offset,
            });
        }
        Ok(command)
    }
}

/// The text after an indicator: nothing, or one space and the text.
fn reply_text(rest: &[u8], offset: usize) -> Result<Text, ParseError> {
    let text = match rest.split_first() {
        None => &[][..],
        Some((b' ', text)) => text,
        Some(_) => return Err(ParseError::MissingSpace { offset }),
    };
    Text::new(text).map_err(|error| ParseError::BadArgument {
        what: "reply text",
        error,
    })
}

impl Reply {
    /// Parses one reply line, without its CRLF (R937-4): `+ [text]`,
    /// `- [text]`, `#nnn [text]` or `=ccc [text]`. The indicator is followed by
    /// the end of the line or a space; the number follows `#` and `=` at once.
    /// The line with CRLF may be at most 512 octets (R937-8).
    ///
    /// ```
    /// use pop3_proto::pop2::{Reply, ReplyKind};
    /// assert_eq!(Reply::parse(b"#2 messages in your mailbox").unwrap().kind(), ReplyKind::Count(2));
    /// assert_eq!(Reply::parse(b"-").unwrap().kind(), ReplyKind::Err);
    /// assert!(Reply::parse(b"+OK").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<Reply, ParseError> {
        check_line(line, MAX_REPLY_LINE)?;
        let (&first, rest) = line.split_first().ok_or(ParseError::Empty)?;
        let (kind, rest, offset) = match first {
            b'+' => (ReplyKind::Ok, rest, 1),
            b'-' => (ReplyKind::Err, rest, 1),
            b'#' | b'=' => {
                let digits = rest
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(rest.len());
                let (number_bytes, after) = rest.split_at_checked(digits).unwrap_or((rest, &[]));
                let kind = if first == b'#' {
                    let n = number(number_bytes, 1, u64::from(u32::MAX))?;
                    ReplyKind::Count(u32::try_from(n).unwrap_or(u32::MAX))
                } else {
                    ReplyKind::Length(number(number_bytes, 1, u64::MAX)?)
                };
                (kind, after, 1 + digits)
            }
            _ => return Err(ParseError::UnknownIndicator),
        };
        let text = reply_text(rest, offset)?;
        // The line fitted in 512 octets, and the encoded form is never longer.
        Reply::new(kind, text).map_err(|error| ParseError::BadArgument {
            what: "reply",
            error,
        })
    }
}

impl Greeting {
    /// Parses the greeting line, without its CRLF: `+ POP2 <host> [text]`
    /// (R937-4; `POP2` matched without regard to case).
    ///
    /// ```
    /// use pop3_proto::pop2::{Greeting, ParseError};
    /// assert!(Greeting::parse(b"+ POP2 host").is_ok());
    /// assert_eq!(Greeting::parse(b"+ OK"), Err(ParseError::NotGreeting));
    /// ```
    pub fn parse(line: &[u8]) -> Result<Greeting, ParseError> {
        check_line(line, MAX_REPLY_LINE)?;
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let rest = line
            .strip_prefix(b"+ ")
            .filter(|r| r.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"POP2 ")))
            .and_then(|r| r.get(5..))
            .ok_or(ParseError::NotGreeting)?;
        let host_end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let (host, after) = rest.split_at_checked(host_end).unwrap_or((rest, &[]));
        if host.is_empty() {
            return Err(ParseError::NotGreeting);
        }
        let host = HostName::new(host).map_err(|error| ParseError::BadArgument {
            what: "greeting host",
            error,
        })?;
        let text = reply_text(after, 7 + host_end)?;
        Greeting::new(host, text).map_err(|error| ParseError::BadArgument {
            what: "greeting",
            error,
        })
    }
}

//! The lines of an AUTH exchange (RFC 5034 §4): the client's responses and the
//! server's continuations.

use super::{bad, check_line};
use crate::error::ParseError;
use crate::options::ReplyOptions;
use crate::types::{AuthResponse, Base64Text, Continuation};

impl AuthResponse {
    /// Parses a client line inside an AUTH exchange (R5034-6): `*` cancels, an
    /// empty line is an empty response (R5034-17), anything else must be base64
    /// text. Only the alphabet is checked here (and that it does not start with
    /// `=`); whether the text decodes is checked when it is decoded (R5034-10).
    ///
    /// ```
    /// use pop3_proto::types::AuthResponse;
    /// assert_eq!(AuthResponse::parse(b"*").unwrap(), AuthResponse::Cancel);
    /// assert_eq!(AuthResponse::parse(b"").unwrap(), AuthResponse::Empty);
    /// assert!(AuthResponse::parse(b"dGVzdA==").is_ok());
    /// assert!(AuthResponse::parse(b"QUIT now").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<AuthResponse, ParseError> {
        check_line(line)?;
        match line {
            b"" => Ok(AuthResponse::Empty),
            b"*" => Ok(AuthResponse::Cancel),
            _ => Base64Text::new(line)
                .map(AuthResponse::Base64)
                .map_err(bad("AUTH response")),
        }
    }
}

impl Continuation {
    /// Parses a server continuation line (R5034-5): `+ ` and base64 text, `+ `
    /// alone being the empty challenge. Only the alphabet is checked.
    ///
    /// ```
    /// use pop3_proto::types::Continuation;
    /// assert_eq!(Continuation::parse(b"+ ").unwrap(), Continuation::empty());
    /// assert_eq!(Continuation::parse(b"+ AmFYig==").unwrap().base64(), b"AmFYig==");
    /// assert!(Continuation::parse(b"+").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<Continuation, ParseError> {
        Self::parse_with(line, &ReplyOptions::default())
    }

    /// Parses a continuation line with the given options (`bare_continuation`:
    /// a lone `+` is the empty challenge, IMPL-12).
    pub fn parse_with(line: &[u8], options: &ReplyOptions) -> Result<Continuation, ParseError> {
        check_line(line)?;
        if line == b"+" && options.bare_continuation {
            return Ok(Continuation::empty());
        }
        let Some(data) = line.strip_prefix(b"+ ") else {
            return Err(ParseError::NotContinuation);
        };
        Continuation::new(data).map_err(bad("continuation"))
    }
}

//! Errors of every layer, small enums a caller can match on.
//!
//! [`ParseError`] says why one line could not be read as the value asked for.
//! Framing, dot-stuffing and SASL errors live in their own modules.

pub use crate::types::NumberError;

/// Declares a line parse error: the variants every line grammar of the crate shares
/// (POP3's and POP2's alike), then the grammar's own, given in the braces. Both
/// [`ParseError`] and [`pop2::ParseError`](crate::pop2::ParseError) are written by it, so
/// the shared variants are written once and read the same in both.
macro_rules! line_parse_error {
    ($(#[$attr:meta])* pub enum $name:ident { $($own:tt)* }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum $name {
            /// The line was empty.
            #[error("the line is empty")]
            Empty,
            /// The line held CR, LF or NUL, which no line may carry.
            #[error("forbidden octet 0x{byte:02X} at offset {offset}")]
            ForbiddenByte {
                /// The octet.
                byte: u8,
                /// Where it was.
                offset: usize,
            },
            /// A required argument or field was missing (E-13).
            #[error("{what}: an argument is missing")]
            MissingArgument {
                /// The command keyword, or the kind of line.
                what: &'static str,
            },
            /// An argument or field more than the grammar allows (E-13).
            #[error("{what}: unexpected argument at offset {offset}")]
            ExtraArgument {
                /// The command keyword, or the kind of line.
                what: &'static str,
                /// Where the first unexpected argument starts.
                offset: usize,
            },
            /// A space where the grammar allows none: a run of spaces, or a space at the
            /// start or the end of the line (R1939-2, E-27).
            #[error("unexpected space at offset {offset}")]
            ExtraSpace {
                /// Where the space was.
                offset: usize,
            },
            /// An argument or field that breaks its value's rule.
            #[error("{what}: {error}")]
            BadArgument {
                /// The command keyword, or the kind of line.
                what: &'static str,
                /// The rule broken.
                error: $crate::types::ValueError,
            },
            $($own)*
        }
    };
}
pub(crate) use line_parse_error;

line_parse_error! {
    /// Why a line could not be parsed.
    ///
    /// Every parse entry point (`Command::parse`, `StatusLine::parse`,
    /// `Capability::parse`, ...) takes one line without its line ending and returns
    /// this error when the line breaks the grammar. Offsets are counted from the start
    /// of the line given.
    ///
    /// ```
    /// use pop3_proto::error::ParseError;
    /// use pop3_proto::types::Command;
    /// assert_eq!(
    ///     Command::parse(b"RETR"),
    ///     Err(ParseError::MissingArgument { what: "RETR" })
    /// );
    /// ```
    pub enum ParseError {
        /// A reply that does not start with `+OK` or `-ERR` (R1939-7).
        #[error("the line does not start with +OK or -ERR")]
        UnknownStatus,
        /// A greeting that is `-ERR`: the server refuses the connection (E-23). Parse
        /// the line with `StatusLine::parse` to read its text.
        #[error("the server refused the connection with a negative greeting")]
        NegativeGreeting,
        /// A line that does not start with `+ ` where a SASL continuation was expected
        /// (R5034-5).
        #[error("not a SASL continuation line")]
        NotContinuation,
        /// A number that is not a plain decimal number in range (E-12).
        #[error("{what}: bad number at offset {offset}: {reason}")]
        BadNumber {
            /// What the number was for.
            what: &'static str,
            /// Where the number starts.
            offset: usize,
            /// What was wrong with it.
            reason: NumberError,
        },
    }
}

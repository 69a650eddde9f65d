//! Options of the line parsers: strict by default, with opt-in leniency for peers
//! that bend the grammar.
//!
//! Every option is off by default, and the encoders never produce a lenient form.
//! Both structs are `#[non_exhaustive]`: build them from `default()` (or
//! `strict()`/`lenient()`) and the `with_*` setters.
//!
//! ```
//! use pop3_proto::options::ReplyOptions;
//! use pop3_proto::types::StatusLine;
//! assert!(StatusLine::parse(b"+ok fine").is_err());
//! let lenient = ReplyOptions::default().with_lowercase_status(true);
//! assert!(StatusLine::parse_with(b"+ok fine", &lenient).unwrap().is_ok());
//! ```

use crate::setters::setters;

/// How [`Command::parse_with`](crate::types::Command::parse_with) reads a command
/// line (server side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandOptions {
    /// Accept runs of spaces between tokens, and spaces at the start or end of the
    /// line, in every command but PASS (E-27). PASS always takes everything after
    /// the first space (R1939-26).
    pub collapse_spaces: bool,
}

impl CommandOptions {
    /// Strict parsing: exactly one space between tokens (R1939-2). The default.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Every leniency on.
    pub fn lenient() -> Self {
        CommandOptions {
            collapse_spaces: true,
        }
    }
}

/// How the reply parsers (status lines, greetings, continuations, listings) read
/// a line (client side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyOptions {
    /// Accept the status indicator in any case, `+ok` / `-err` (IMPL-19, E-9).
    pub lowercase_status: bool,
    /// Accept `+ OK` for `+OK`, the typo of the RFC 1082 XTND examples (R1082-7,
    /// IMPL-15). Meant for XTND replies only.
    pub spaced_status: bool,
    /// Accept text right after the status indicator with no space, as in
    /// `-ERRno such message`.
    pub missing_space: bool,
    /// Accept a bare `+` (no space) as the empty SASL challenge (IMPL-12).
    pub bare_continuation: bool,
    /// Accept runs of spaces between the fields of listings and trailing spaces
    /// after a unique-id listing (E-27 applied to replies).
    pub collapse_spaces: bool,
    /// Read a STAT reply written in words, `+OK 20 messages (1234 octets)` as
    /// some servers send it: the first number is the count, the second the size.
    pub wordy_stat: bool,
    /// Read scan listings as `msg size maxima`, the form LIST takes once
    /// `XTND BBOARDS` or `XTND ARCHIVE` has opened a group (R1082-4). This is a
    /// mode, not a leniency: the MAXIMA field is then required.
    pub bboard_scan: bool,
}

impl ReplyOptions {
    /// Strict parsing. The default.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Every leniency on (`bboard_scan` stays off: it is a mode).
    pub fn lenient() -> Self {
        ReplyOptions {
            lowercase_status: true,
            spaced_status: true,
            missing_space: true,
            bare_continuation: true,
            collapse_spaces: true,
            wordy_stat: true,
            bboard_scan: false,
        }
    }
}

setters!(CommandOptions {
    /// Sets [`CommandOptions::collapse_spaces`] (E-27).
    with_collapse_spaces => collapse_spaces: bool,
});

setters!(ReplyOptions {
    /// Sets [`ReplyOptions::lowercase_status`] (IMPL-19, E-9).
    with_lowercase_status => lowercase_status: bool,
    /// Sets [`ReplyOptions::spaced_status`] (R1082-7, IMPL-15).
    with_spaced_status => spaced_status: bool,
    /// Sets [`ReplyOptions::missing_space`].
    with_missing_space => missing_space: bool,
    /// Sets [`ReplyOptions::bare_continuation`] (IMPL-12).
    with_bare_continuation => bare_continuation: bool,
    /// Sets [`ReplyOptions::collapse_spaces`] (E-27).
    with_collapse_spaces => collapse_spaces: bool,
    /// Sets [`ReplyOptions::wordy_stat`].
    with_wordy_stat => wordy_stat: bool,
    /// Sets [`ReplyOptions::bboard_scan`] (R1082-4).
    with_bboard_scan => bboard_scan: bool,
});

//! How a POP2 [`Server`](super::Server) behaves: limits, leniency, sign-off.

use crate::setters::setters;
use crate::types::Text;

/// The POP2 server machine's settings.
///
/// ```
/// use pop3_proto::pop2::ServerConfig;
/// let config = ServerConfig::default().with_max_buffered_input(4096);
/// assert_eq!(config.max_command_line, 512);
/// assert_eq!(config.signoff.as_bytes(), b"OK, bye, bye");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The longest command line accepted, CRLF included: 512 (R937-8). A
    /// smaller value is stricter; a larger one has no effect, since
    /// [`Command::parse`](crate::pop2::Command::parse) enforces 512.
    pub max_command_line: usize,
    /// Accept a bare LF as a line end (on by default, as POP3 servers in the field
    /// do; each LF ends exactly one line). Off: a bare LF is an error, and the
    /// session closes.
    pub allow_bare_lf: bool,
    /// Most octets of input held at once, while the host answers an event (a
    /// client that sends ahead): what
    /// [`Machine::input_room`](crate::Machine::input_room) offers. The bound in
    /// force is never below `max_command_line`, so one whole line always fits.
    pub max_buffered_input: usize,
    /// The text of the `+` reply to QUIT.
    pub signoff: Text,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_command_line: crate::pop2::MAX_COMMAND_LINE,
            allow_bare_lf: true,
            max_buffered_input: 8 * 1024,
            signoff: Text::new("OK, bye, bye").unwrap_or_default(),
        }
    }
}

impl ServerConfig {
    /// The input bound in force: [`ServerConfig::max_buffered_input`], but never
    /// below one command line.
    pub(crate) fn input_limit(&self) -> usize {
        self.max_buffered_input.max(self.max_command_line)
    }
}

setters!(ServerConfig {
    /// Sets [`ServerConfig::max_command_line`].
    with_max_command_line => max_command_line: usize,
    /// Sets [`ServerConfig::allow_bare_lf`].
    with_allow_bare_lf => allow_bare_lf: bool,
    /// Sets [`ServerConfig::max_buffered_input`].
    with_max_buffered_input => max_buffered_input: usize,
    /// Sets [`ServerConfig::signoff`].
    with_signoff => signoff: Text,
});

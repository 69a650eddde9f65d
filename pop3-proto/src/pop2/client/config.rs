//! How a POP2 [`Client`](super::Client) behaves: line limit, leniency, input
//! buffer.

use crate::setters::setters;

/// The POP2 client machine's settings.
///
/// ```
/// use pop3_proto::pop2::ClientConfig;
/// let config = ClientConfig::default().with_allow_bare_lf(true);
/// assert_eq!(config.max_reply_line, 512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The longest reply line accepted, CRLF included: 512 (R937-8). A smaller
    /// value is stricter; a larger one has no effect, since
    /// [`Reply::parse`](super::super::Reply::parse) enforces 512. Message data is
    /// counted, never framed, so RFC 937's 1000-octet text-line limit is not
    /// checked.
    pub max_reply_line: usize,
    /// Accept a bare LF as the end of a reply line. Off: a bare LF is a fatal
    /// error. Message data is never looked at: it is counted.
    pub allow_bare_lf: bool,
    /// Most octets of input held at once: what
    /// [`Machine::input_room`](crate::Machine::input_room) offers. Message data
    /// leaves the buffer as [`ClientEvent::Data`](super::ClientEvent::Data)
    /// events, so this bounds memory, not message size. The bound in force is
    /// never below `max_reply_line`, so one whole reply line always fits.
    pub max_buffered_input: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_reply_line: crate::pop2::MAX_REPLY_LINE,
            allow_bare_lf: false,
            max_buffered_input: 64 * 1024,
        }
    }
}

impl ClientConfig {
    /// The input bound in force: [`ClientConfig::max_buffered_input`], but never
    /// below one reply line.
    pub(crate) fn input_limit(&self) -> usize {
        self.max_buffered_input.max(self.max_reply_line)
    }
}

setters!(ClientConfig {
    /// Sets [`ClientConfig::max_reply_line`].
    with_max_reply_line => max_reply_line: usize,
    /// Sets [`ClientConfig::allow_bare_lf`].
    with_allow_bare_lf => allow_bare_lf: bool,
    /// Sets [`ClientConfig::max_buffered_input`].
    with_max_buffered_input => max_buffered_input: usize,
});

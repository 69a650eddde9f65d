//! What can go wrong on the POP2 client side: commands refused before they are
//! sent, and the reasons a session ends early.

use crate::framing::FramingError;
use crate::pop2::{ParseError, ReplyKind};
use crate::types::Text;

use super::ClientPhase;

/// Why a command was not sent. Nothing was written; the machine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The command is not valid in this state (R937-9).
    #[error("{command} is not valid in state {phase}")]
    WrongState {
        /// The command word.
        command: &'static str,
        /// Where the session is.
        phase: ClientPhase,
    },
    /// The reply to the last command (or the greeting, or message data) has
    /// not all come yet: POP2 has no pipelining.
    #[error("a reply is outstanding")]
    MustWait,
    /// RETR after `=0`: there is no message to retrieve, and the server would
    /// close the connection (R937-5).
    #[error("RETR after =0: no message to retrieve")]
    EmptyMessage,
    /// The session is over.
    #[error("the session is over")]
    Closed,
}

/// Why the session ended early. POP2 recovers from nothing (R937-9: if
/// anything goes wrong, close the connection), so every error is the end of the
/// session: [`Machine::next_event`](crate::Machine::next_event) returns it, and
/// the same error again on every later call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `- text`: the server refused the connection or the last command (a
    /// HELO with a wrong password, most often) and closes the connection
    /// (R937-5, R937-9).
    #[error("the server refused: {}", text.as_bytes().escape_ascii())]
    Refused {
        /// The reply text.
        text: Text,
    },
    /// A reply line too long, or ended by a bare LF.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// A line that is not a POP2 reply (or greeting).
    #[error("bad reply: {0}")]
    BadReply(ParseError),
    /// A reply of the wrong kind for the command sent (for example `=ccc` to
    /// HELO, or `#nnn` to READ).
    #[error("expected {expected}, got {got:?}")]
    UnexpectedReply {
        /// What the command's reply should have been.
        expected: &'static str,
        /// What came.
        got: ReplyKind,
    },
    /// More than a reply line's worth of bytes arrived while no command was
    /// waiting for a reply.
    #[error("{buffered} octets arrived with no command waiting for them")]
    Unsolicited {
        /// Octets buffered.
        buffered: usize,
    },
    /// The connection ended ([`Machine::enqueue_eof`](crate::Machine::enqueue_eof))
    /// before QUIT was answered: before the greeting, with a reply or message
    /// data outstanding, or between commands.
    #[error("the connection closed in state {phase} before QUIT was answered")]
    ConnectionClosed {
        /// Where the session was.
        phase: ClientPhase,
    },
}

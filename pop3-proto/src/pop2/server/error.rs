//! What can go wrong on the POP2 server side: host answers that do not fit,
//! and the reasons a session ends early.

use crate::framing::FramingError;
use crate::pop2::ParseError;
use crate::types::ValueError;

use super::ServerPhase;

/// Why the session ended other than by QUIT. Returned by
/// [`Machine::next_event`](crate::Machine::next_event), and again by every
/// later call. Only QUIT ever releases a mailbox with its deletions: a session
/// that ends with one of these deletes nothing (R937-6, the conservative
/// reading).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The host refused the HELO ([`Server::refuse_login`](super::Server::refuse_login)):
    /// `- text` was written (R937-5).
    #[error("the login was refused")]
    LoginRefused,
    /// A command not valid in this state: answered `- error` (R937-9).
    #[error("{command} is not valid in state {phase}")]
    UnexpectedCommand {
        /// The command word.
        command: &'static str,
        /// The state it arrived in.
        phase: ServerPhase,
    },
    /// A line that is not a POP2 command: answered `- error`.
    #[error("bad command: {0}")]
    BadCommand(ParseError),
    /// A line too long or ended by a bare LF: answered `- error`.
    #[error(transparent)]
    Framing(FramingError),
    /// RETR of a message of length 0 (none, deleted, or empty): answered
    /// `- error` (R937-5).
    #[error("RETR of a message of length 0")]
    EmptyMessage,
    /// The connection ended ([`Machine::enqueue_eof`](crate::Machine::enqueue_eof))
    /// before QUIT: nothing is answered, nothing deleted.
    #[error("the connection was lost in state {phase}")]
    ConnectionLost {
        /// Where the session was.
        phase: ServerPhase,
    },
}

/// A host call that does not fit what the machine is waiting for. Nothing was
/// written; the machine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The machine is not waiting for this answer.
    #[error("the machine is not waiting for {0}")]
    NotExpected(&'static str),
    /// Message bytes that do not add up to the announced length.
    #[error("{given} octets given, {expected} expected")]
    WrongLength {
        /// Octets still expected.
        expected: u64,
        /// Octets given.
        given: u64,
    },
    /// More messages than `#nnn` can count.
    #[error("too many messages for one mailbox")]
    TooManyMessages,
    /// A value was invalid (for example a reply text too long for 512 octets).
    #[error(transparent)]
    Value(#[from] ValueError),
}

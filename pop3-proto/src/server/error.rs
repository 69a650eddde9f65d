//! Errors the host gets back from the server machine.

/// A host call that does not fit what the machine is waiting for. Nothing was
/// written; the machine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The machine is not waiting for this answer.
    #[error("the machine is not waiting for {0}")]
    NotExpected(&'static str),
    /// A value was invalid (for example a line over 512 octets, R1939-9).
    #[error(transparent)]
    Value(#[from] crate::types::ValueError),
}

/// Why a session ended other than by QUIT, as
/// [`Machine::next_event`](crate::Machine::next_event) returns it from then on.
/// None of these ends removes a message (R1939-21): only QUIT in TRANSACTION
/// does, through [`ServerEvent::Update`](super::ServerEvent::Update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Too many failed logins
    /// ([`ServerConfig::max_failed_logins`](super::ServerConfig::max_failed_logins)).
    /// The `-ERR` of the last one is in the output: write it, then close.
    #[error("too many failed logins")]
    TooManyFailures,
    /// The input ended ([`Machine::enqueue_eof`](crate::Machine::enqueue_eof))
    /// before the session did.
    #[error("the connection ended before the session did")]
    ConnectionLost,
    /// The host's inactivity timer fired ([`Server::timeout`](super::Server::timeout)):
    /// the connection is closed without a reply (R1939-16).
    #[error("the session timed out")]
    Timeout,
    /// The host ended the session itself ([`Server::abort`](super::Server::abort)),
    /// for example when a message could not be read after its `+OK` was sent.
    #[error("the host aborted the session")]
    Aborted,
}

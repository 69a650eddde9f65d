//! The error of the client side of an exchange and of the base64 framing.

use alloc::string::String;

/// What can go wrong on the client side of an exchange, or in the base64 framing.
///
/// On any of these the client state machine cancels the exchange with `*` (R5034-6,
/// R5034-10). No variant ever carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// A line is not strict base64: a character outside the alphabet, `=` anywhere but at
    /// the end, missing padding or non-zero padding bits (R5034-10).
    #[error("invalid base64 (R5034-10)")]
    InvalidBase64,
    /// A value handed to a mechanism cannot be sent: a NUL inside a PLAIN field, a control
    /// character in a user name, a comma in a SCRAM nonce, an empty user name...
    #[error("invalid {0}")]
    InvalidInput(&'static str),
    /// The server's challenge is not what the mechanism expects at this point.
    #[error("malformed challenge: {0}")]
    MalformedChallenge(&'static str),
    /// A challenge arrived when the mechanism had nothing more to say.
    #[error("unexpected challenge: the exchange is already complete")]
    UnexpectedChallenge,
    /// SCRAM: the server's signature is wrong, so the server does not know the user's
    /// credentials (a fake server, or a man in the middle). The client MUST treat the
    /// exchange as failed (RFC 5802 §5).
    #[error("the server's SCRAM signature does not verify")]
    ServerSignatureMismatch,
    /// SCRAM: the server ended the exchange with `e=<reason>` (at most 64 characters of it,
    /// control characters replaced).
    #[error("the server reported an error: {0}")]
    ServerError(String),
    /// SCRAM: the server's iteration count is outside the client's accepted range (a hostile
    /// server can burn client CPU with a huge count, or weaken the exchange with a tiny one).
    #[error("SCRAM iteration count {0} is outside the accepted range")]
    IterationCount(u32),
    /// [`ClientMechanism::finish`](super::ClientMechanism::finish) was called before the exchange completed: for SCRAM, the
    /// server said `+OK` without proving that it knows the credentials.
    #[error("the authentication exchange is incomplete: the server was not verified")]
    Incomplete,
}

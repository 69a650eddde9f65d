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

/// Input the machine cannot take now: the host is still answering a command and
/// the pipelined input waiting behind it reached its bound. Stop reading from the
/// connection until the machine has processed its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the input buffer holds {buffered} octets, its limit is {limit}")]
pub struct InputFull {
    /// Octets waiting.
    pub buffered: usize,
    /// The configured bound.
    pub limit: usize,
}

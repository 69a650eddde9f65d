//! What a POP2 [`Client`](super::Client) reports: its events, and the RFC 937
//! client states it moves through.

use bytes::Bytes;

use crate::pop2::Greeting;
use crate::types::Text;

/// The client states of RFC 937's decision tables (RFC 937, "Client Decision
/// Table").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientPhase {
    /// Connected; waiting for the greeting, then sending HELO.
    Call,
    /// HELO or FOLD sent; waiting for, or having, the `#nnn` message count.
    Nmbr,
    /// READ or an acknowledgement sent; waiting for, or having, the `=ccc`
    /// message length.
    Size,
    /// RETR sent; receiving the message, then sending ACKS, ACKD or NACK.
    Xfer,
    /// QUIT sent, or the session ended: nothing more is sent.
    Exit,
}

impl ClientPhase {
    fn name(self) -> &'static str {
        match self {
            ClientPhase::Call => "CALL",
            ClientPhase::Nmbr => "NMBR",
            ClientPhase::Size => "SIZE",
            ClientPhase::Xfer => "XFER",
            ClientPhase::Exit => "EXIT",
        }
    }
}

impl core::fmt::Display for ClientPhase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Something that happened on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The greeting, `+ POP2 host [text]`: send HELO (or QUIT).
    Greeting(Greeting),
    /// `#nnn`, the reply to HELO or FOLD: the number of messages.
    Count {
        /// Messages in the mailbox.
        count: u32,
        /// The reply text.
        text: Text,
    },
    /// `=ccc`, the reply to READ, ACKS, ACKD or NACK: the length of the current
    /// message, 0 when there is none.
    Length {
        /// Octets RETR will send.
        length: u64,
        /// The reply text.
        text: Text,
    },
    /// A piece of the message RETR sends: a slice of the input, never a copy.
    Data(Bytes),
    /// All `ccc` octets have come: send ACKS, ACKD or NACK.
    DataEnd {
        /// The message's length.
        size: u64,
    },
    /// `+`, the reply to QUIT: the session ended normally and the server
    /// closes the connection.
    Closed {
        /// The reply text.
        text: Text,
    },
}

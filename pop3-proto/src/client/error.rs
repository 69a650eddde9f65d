//! What can go wrong on the client side: commands refused before they are sent
//! ([`SendError`]), a command whose reply could not be used ([`CommandError`],
//! reported in [`Event::Failed`](super::Event::Failed); the session goes on), and a
//! server that broke the session ([`ClientError`]; the session is over).

use crate::framing::FramingError;
use crate::types::{StatusLine, ValueError};

use super::CommandId;

/// Why a command was not sent. Nothing was written; the machine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The command is not valid in the current state (RFC 1939 §3).
    #[error("{command} is not valid {state}")]
    WrongState {
        /// The command's keyword.
        command: &'static str,
        /// Where the session is.
        state: &'static str,
    },
    /// Another command must be answered first: no pipelining without the
    /// PIPELINING capability, or an AUTH or STLS exchange is in progress
    /// (R2595-3, IMPL-6, IMPL-7).
    #[error("a reply is outstanding and this command cannot be pipelined")]
    MustWait,
    /// Too many commands in flight.
    #[error("{limit} commands are already in flight")]
    TooManyInFlight {
        /// The configured limit.
        limit: usize,
    },
    /// A credential would go out in the clear while TLS is required (R2595-8).
    #[error("TLS is required before credentials are sent")]
    TlsRequired,
    /// APOP needs a well-formed timestamp in the greeting (E-7, R2449-6).
    #[error("the greeting held no usable APOP timestamp")]
    NoApopTimestamp,
    /// The server did not list the capability this command needs.
    #[error("the server did not advertise {capability}")]
    NotAdvertised {
        /// The capability.
        capability: &'static str,
    },
    /// STLS after UTF8 is not allowed (R6856-3), nor after TLS is active.
    #[error("STLS is not allowed now: {reason}")]
    StlsNotAllowed {
        /// Why.
        reason: &'static str,
    },
    /// The SASL mechanism failed to produce its initial response.
    #[error("the SASL mechanism failed: {0}")]
    Mechanism(crate::sasl::SaslError),
    /// A value for the command was invalid.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The machine stopped after a fatal error or the end of the session.
    #[error("the session is over")]
    Closed,
}

/// Why the session is over: a server that broke the protocol beyond recovery, or
/// a connection that ended too early. Returned by
/// [`Machine::next_event`](crate::Machine::next_event); from then on every call
/// returns the same error, no event follows, [`Client::phase`](super::Client::phase)
/// is [`Phase::Closed`](super::Phase::Closed), and the host should close the
/// connection. Failures the session survives are [`CommandError`]s, reported as
/// [`Event::Failed`](super::Event::Failed).
///
/// ```
/// use pop3_proto::Machine;
/// use pop3_proto::client::{Client, ClientConfig, ClientError, Phase};
/// let mut client = Client::new(ClientConfig::default());
/// let _ = client.enqueue_input(b"-ERR go away\r\n");
/// let error = client.next_event().unwrap_err();
/// assert!(matches!(error, ClientError::GreetingRefused { .. }));
/// assert_eq!(client.next_event(), Err(error));
/// assert_eq!(client.phase(), Phase::Closed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The greeting was `-ERR` (E-23) or not a status line at all.
    #[error("the server refused the connection")]
    GreetingRefused {
        /// The `-ERR` greeting, if it was one.
        line: Option<StatusLine>,
    },
    /// A line that should be a status line was not one.
    #[error("expected a status line for command {id:?}")]
    BadStatusLine {
        /// The command whose reply it should have been.
        id: Option<CommandId>,
    },
    /// A line arrived when no command was waiting for a reply: an injected or
    /// desynchronised reply.
    #[error("a reply arrived for a command never sent ({len} octets)")]
    Unsolicited {
        /// Its length.
        len: usize,
    },
    /// Bytes arrived after the `+OK` to STLS and before the TLS handshake: possibly
    /// injected plaintext (IMPL-13, TV-8). They were discarded, never parsed. It
    /// comes right after [`Event::StartTls`](super::Event::StartTls) when the
    /// bytes came with the `+OK`, or as soon as they arrive.
    #[error("data arrived after the STLS +OK, before TLS")]
    DataAfterStls,
    /// A line broke the framing rules (too long, bare LF).
    #[error("framing: {error}")]
    Framing {
        /// The command whose reply held it, if known.
        id: Option<CommandId>,
        /// What was wrong.
        error: FramingError,
    },
    /// The server accepted AUTH without proving itself to the mechanism (SCRAM:
    /// no valid server signature). The session must not be trusted.
    #[error("the server did not prove its identity in AUTH {id:?}: {reason}")]
    ServerUnverified {
        /// The AUTH command.
        id: CommandId,
        /// What the mechanism found.
        reason: crate::sasl::SaslError,
    },
    /// A SASL continuation arrived for a command that is not AUTH, or after the
    /// client cancelled the exchange.
    #[error("a continuation line arrived for command {id:?}, which does not expect one")]
    UnexpectedContinuation {
        /// The command at the head of the queue.
        id: CommandId,
    },
    /// Input arrived after the session ended (QUIT answered).
    #[error("input after the session ended")]
    InputAfterClose,
    /// The connection closed while the session was not over: before the greeting,
    /// with commands unanswered, inside a reply (a body that never ended), or
    /// without QUIT (R1939-16: an inactivity timeout closes without a reply).
    #[error("the connection closed before the reply to command {id:?} ended")]
    ConnectionClosed {
        /// The first command left unanswered, if any.
        id: Option<CommandId>,
    },
}

/// A command whose reply could not be used, or a policy the reply broke. The
/// session goes on: it comes in [`Event::Failed`](super::Event::Failed), which
/// names the command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A line of a listing could not be parsed; it was skipped.
    #[error("skipped a malformed listing line")]
    BadListingLine,
    /// A listing had more lines or octets than allowed; it was read to its end
    /// and dropped, and the session goes on. This failure stands in for the
    /// listing's event.
    #[error("the listing passed {max_lines} lines or {max_bytes} octets")]
    ListingTooLarge {
        /// The configured line limit.
        max_lines: usize,
        /// The configured octet limit.
        max_bytes: usize,
    },
    /// A body passed the configured size limit: the first `limit` octets were
    /// handed out, the rest is skipped up to the terminator, and the session goes
    /// on. No [`Event::BodyEnd`](super::Event::BodyEnd) follows for this command.
    #[error("the body passed {limit} octets")]
    BodyTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The server's reply to STAT, `LIST n` or `UIDL n` was `+OK` but not in the
    /// form the RFC gives. The status line is kept.
    #[error("malformed reply")]
    MalformedReply {
        /// The line.
        line: StatusLine,
    },
    /// A SASL challenge could not be decoded or answered; the exchange was
    /// cancelled with `*` (R5034-10).
    #[error("SASL exchange failed: {reason}")]
    Sasl {
        /// What went wrong.
        reason: crate::sasl::SaslError,
    },
    /// TLS was required but the server did not offer STLS (downgrade, R2595-8,
    /// RFC 2595 §4). Raised when the CAPA reply arrives (after its
    /// [`Event::Capabilities`](super::Event::Capabilities), or its `-ERR`
    /// [`Event::Status`](super::Event::Status)): the failure names the CAPA command.
    #[error("TLS is required but the server does not offer STLS")]
    StlsNotOffered,
    /// TLS was required but the server refused STLS (downgrade). This failure
    /// stands in for the STLS command's event.
    #[error("TLS is required but the server refused STLS")]
    StlsRefused {
        /// The refusal.
        line: StatusLine,
    },
}

impl CommandError {
    /// Whether this failure stands in for the command's final event (nothing else
    /// follows for the command), rather than coming after it
    /// ([`CommandError::BadListingLine`], [`CommandError::StlsNotOffered`]) or
    /// before the server's `-ERR` ([`CommandError::Sasl`]).
    pub fn ends_command(&self) -> bool {
        matches!(
            self,
            CommandError::ListingTooLarge { .. }
                | CommandError::BodyTooLarge { .. }
                | CommandError::MalformedReply { .. }
                | CommandError::StlsRefused { .. }
        )
    }
}

//! What the client machine reports: one event per thing that happened, tied to the
//! command it answers.

use alloc::vec::Vec;
use bytes::Bytes;

use super::CommandError;
use crate::types::{
    Capability, DropListing, Greeting, GroupListing, LanguageListing, ScanListing, StatusLine,
    UidListing,
};

/// Identifies one command sent through the client machine; every reply event
/// carries the id of the command it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandId(pub(crate) u64);

impl CommandId {
    /// The command's sequence number, from 0, in the order commands were sent.
    pub fn sequence(self) -> u64 {
        self.0
    }
}

/// Something that happened on the connection.
///
/// Every command ends with exactly one of [`Event::Status`], [`Event::Stat`],
/// [`Event::ScanOne`], [`Event::UidOne`], [`Event::Capabilities`],
/// [`Event::ScanListing`], [`Event::UidListing`], [`Event::Languages`],
/// [`Event::Groups`], [`Event::BodyEnd`], [`Event::StartTls`] or
/// [`Event::Closed`], in the order the commands were sent, or with an
/// [`Event::Failed`] standing in for that event (one whose
/// [`CommandError::ends_command`] is true: a listing or body over its limit, a
/// malformed STAT / `LIST n` / `UIDL n` / `LANG x` reply, STLS refused while TLS
/// is required). A `-ERR` reply comes as [`Event::Status`] (or [`Event::Closed`]
/// for QUIT), never followed by a body (E-1).
///
/// Every failure the session survives is an [`Event::Failed`] naming its command;
/// `Err` from [`Machine::next_event`](crate::Machine::next_event) means the session
/// is over.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's `+OK` greeting. `apop` tells whether it held a well-formed
    /// APOP timestamp.
    Greeting {
        /// The greeting.
        greeting: Greeting,
        /// Whether APOP can be used with this greeting.
        apop: bool,
    },
    /// A single-line reply: USER, PASS, APOP, AUTH, DELE, NOOP, RSET, QUIT, UTF8,
    /// `LANG x`, and `-ERR` to any command.
    Status {
        /// The command answered.
        id: CommandId,
        /// The status line, with its response code typed.
        line: StatusLine,
    },
    /// The reply to STAT.
    Stat {
        /// The command answered.
        id: CommandId,
        /// The status line.
        line: StatusLine,
        /// Count and size.
        drop: DropListing,
    },
    /// The reply to `LIST n`.
    ScanOne {
        /// The command answered.
        id: CommandId,
        /// The status line.
        line: StatusLine,
        /// The scan listing.
        scan: ScanListing,
    },
    /// The reply to `UIDL n`.
    UidOne {
        /// The command answered.
        id: CommandId,
        /// The status line.
        line: StatusLine,
        /// The unique-id listing.
        uid: UidListing,
    },
    /// The reply to CAPA, also kept as the capability cache.
    Capabilities {
        /// The command answered.
        id: CommandId,
        /// The capabilities, in the server's order.
        capabilities: Vec<Capability>,
    },
    /// The reply to LIST.
    ScanListing {
        /// The command answered.
        id: CommandId,
        /// One listing per message not deleted.
        listing: Vec<ScanListing>,
    },
    /// The reply to UIDL.
    UidListing {
        /// The command answered.
        id: CommandId,
        /// One listing per message not deleted.
        listing: Vec<UidListing>,
    },
    /// The reply to LANG with no argument.
    Languages {
        /// The command answered.
        id: CommandId,
        /// The languages.
        languages: Vec<LanguageListing>,
    },
    /// `+OK` to `LANG range` (R6856-6): the language now in use, as its tag
    /// (the first word of the reply text) and the rest of the text, which is in
    /// that language.
    Language {
        /// The command answered.
        id: CommandId,
        /// The status line.
        line: StatusLine,
        /// The language selected.
        language: LanguageListing,
    },
    /// The reply to `XTND BBOARDS` (RFC 1082).
    Groups {
        /// The command answered.
        id: CommandId,
        /// The groups.
        groups: Vec<GroupListing>,
    },
    /// The `+OK` line of a reply whose body follows: RETR, TOP, other XTND, or an
    /// extension declared multi-line.
    BodyStart {
        /// The command answered.
        id: CommandId,
        /// The status line.
        line: StatusLine,
    },
    /// A piece of a body, un-stuffed: a slice of the bytes read, never a copy.
    BodyChunk {
        /// The command answered.
        id: CommandId,
        /// The bytes.
        data: Bytes,
    },
    /// The end of a body.
    BodyEnd {
        /// The command answered.
        id: CommandId,
        /// The body's length in octets, un-stuffed.
        size: u64,
    },
    /// `+OK` to STLS: start the TLS handshake now, then call
    /// [`StartTls::tls_established`](crate::StartTls::tls_established).
    StartTls {
        /// The command answered.
        id: CommandId,
    },
    /// The server acknowledged QUIT; it closes the connection now.
    Closed {
        /// The QUIT command.
        id: CommandId,
        /// The status line (`-ERR` when the server could not remove every message).
        line: StatusLine,
    },
    /// A command failed in a way the session survives; see [`CommandError`] for
    /// each case and [`CommandError::ends_command`] for whether it stands in for
    /// the command's final event. [`CommandError::StlsNotOffered`] names the CAPA
    /// command whose reply lacked STLS.
    Failed {
        /// The command it belongs to.
        id: CommandId,
        /// What went wrong.
        error: CommandError,
    },
}

impl Event {
    /// The command this event answers, if it answers one.
    pub fn id(&self) -> Option<CommandId> {
        match self {
            Event::Greeting { .. } => None,
            Event::Status { id, .. }
            | Event::Stat { id, .. }
            | Event::ScanOne { id, .. }
            | Event::UidOne { id, .. }
            | Event::Capabilities { id, .. }
            | Event::ScanListing { id, .. }
            | Event::UidListing { id, .. }
            | Event::Languages { id, .. }
            | Event::Language { id, .. }
            | Event::Groups { id, .. }
            | Event::BodyStart { id, .. }
            | Event::BodyChunk { id, .. }
            | Event::BodyEnd { id, .. }
            | Event::StartTls { id }
            | Event::Closed { id, .. }
            | Event::Failed { id, .. } => Some(*id),
        }
    }

    /// Whether this is the last event for its command. An [`Event::Failed`] is
    /// final when it stands in for the command's event
    /// ([`CommandError::ends_command`]).
    pub fn is_final(&self) -> bool {
        match self {
            Event::Greeting { .. } | Event::BodyStart { .. } | Event::BodyChunk { .. } => false,
            Event::Failed { error, .. } => error.ends_command(),
            _ => true,
        }
    }
}

//! What a POP2 [`Server`](super::Server) asks of its host, and the RFC 937
//! server states it moves through.

use alloc::vec::Vec;

use crate::pop2::{Argument, Password};
use crate::types::MessageNumber;

/// The server states of RFC 937's decision tables. LSTN, listening for a
/// connection, is the host's: [`Server::new`](super::Server::new) is the move
/// from LSTN to AUTH (the greeting is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerPhase {
    /// Greeted; waiting for HELO (or QUIT).
    Auth,
    /// A mailbox is selected; waiting for READ, FOLD or QUIT.
    Mbox,
    /// A message is current (after READ or an acknowledgement); waiting for
    /// RETR, READ, FOLD or QUIT.
    Item,
    /// A message was sent; waiting for ACKS, ACKD or NACK.
    Next,
    /// The session is over: write the output, then close.
    Done,
}

impl ServerPhase {
    fn name(self) -> &'static str {
        match self {
            ServerPhase::Auth => "AUTH",
            ServerPhase::Mbox => "MBOX",
            ServerPhase::Item => "ITEM",
            ServerPhase::Next => "NEXT",
            ServerPhase::Done => "DONE",
        }
    }
}

impl core::fmt::Display for ServerPhase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the host must know or do. Events that ask for an answer stop the
/// machine until the host calls the named method; commands sent ahead wait in
/// the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `HELO user password`. Answer: [`Server::accept_login`](super::Server::accept_login)
    /// with the sizes of the messages in the user's default mailbox, or
    /// [`Server::refuse_login`](super::Server::refuse_login).
    Helo {
        /// The user name.
        user: Argument,
        /// The password.
        password: Password,
    },
    /// `FOLD mailbox`. First remove the messages in `deleted` from the mailbox
    /// being released (R937-6: deletion happens when a mailbox is released),
    /// then answer [`Server::open_folder`](super::Server::open_folder) with the
    /// sizes of the messages of `mailbox` (none if it is empty or does not exist).
    Fold {
        /// The mailbox to select.
        mailbox: Argument,
        /// Messages of the released mailbox acknowledged with ACKD, in order.
        deleted: Vec<MessageNumber>,
    },
    /// RETR of message `msg`, `size` octets as announced by `=size`. Answer:
    /// [`Server::send_message`](super::Server::send_message) with exactly `size`
    /// octets, or [`Server::send_message_chunk`](super::Server::send_message_chunk)
    /// until they are all given.
    Retrieve {
        /// The message.
        msg: MessageNumber,
        /// Its announced length.
        size: u64,
    },
    /// QUIT with a mailbox selected: remove the messages in `deleted` (R937-6),
    /// then answer [`Server::quit_done`](super::Server::quit_done), which writes
    /// the `+` reply.
    Quit {
        /// Messages acknowledged with ACKD, in order.
        deleted: Vec<MessageNumber>,
    },
    /// QUIT was answered: the session ended normally. Write the output, then
    /// close the connection.
    Closed,
}

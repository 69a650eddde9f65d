//! POP2, the Post Office Protocol version 2 (RFC 937, historic; TCP port 109):
//! typed commands and replies, and pure client and server state machines of
//! the same shape as the POP3 ones ([`crate::client`], [`crate::server`]).
//!
//! What differs from POP3, and how this module handles it:
//!
//! * Replies are `+ [text]`, `- [text]`, `#nnn [text]` (a message count, to HELO
//!   and FOLD) and `=ccc [text]` (a message length, to READ, ACKS, ACKD and
//!   NACK); the greeting is `+ POP2 <host> [text]` (R937-4). See [`Reply`] and
//!   [`Greeting`].
//! * `RETR` sends exactly the `ccc` octets announced by the preceding `=ccc`,
//!   with no terminator and no stuffing (R937-5). The [`Client`] counts them and
//!   hands them out as zero-copy slices of its input ([`ClientEvent::Data`]),
//!   then expects a reply line again.
//! * Arguments are quoted with `\`: `\ ` is a space, `\\` a backslash (R937-7).
//!   [`Argument`] and [`Password`] hold the unquoted octets; encoding quotes
//!   them and parsing unquotes them.
//! * ACKD only marks a message; deletions are handed to the host when the
//!   mailbox is released, by QUIT or FOLD (R937-6, [`ServerEvent::Quit`],
//!   [`ServerEvent::Fold`]). A session that ends any other way (an error, a
//!   dropped connection) deletes nothing: this is the conservative reading, as
//!   in POP3.
//! * "If anything goes wrong, close the connection" (R937-9): a command not
//!   valid in the current state, a malformed or over-long line, or RETR of a
//!   message of length 0 is answered `- error` and the [`Server`] ends the
//!   session with a [`ServerError`]; a `-` reply or any bad reply ends the
//!   [`Client`]'s session with a [`ClientError`]. Neither machine has a
//!   recoverable failure: an error from `next_event` is always the end.
//! * Lines are at most 512 octets with CRLF, both ways (R937-8). Command words
//!   are matched without regard to case (RFC 937 does not say).
//!
//! RFC 937's Example 1, the client machine against the server machine, both
//! driven through [`Machine`](crate::Machine):
//!
//! ```
//! use bytes::Bytes;
//! use pop3_proto::Machine;
//! use pop3_proto::pop2::*;
//! use pop3_proto::types::Text;
//!
//! let greeting = Greeting::new(HostName::new("USC-ISIF.ARPA").unwrap(), Text::new("Server").unwrap()).unwrap();
//! let mut server = Server::new(ServerConfig::default(), greeting);
//! let mut client = Client::new(ClientConfig::default());
//! let messages = [Bytes::from(vec![b'a'; 537]), Bytes::from(vec![b'b'; 234])];
//! let mut received = Vec::new();
//! loop {
//!     while let Some(chunk) = server.take_output() {
//!         assert_eq!(client.enqueue_input(&chunk), chunk.len());
//!     }
//!     while let Some(event) = client.next_event().unwrap() {
//!         let next = match event {
//!             ClientEvent::Greeting(_) => Some(Command::Helo {
//!                 user: Argument::new("POSTEL").unwrap(),
//!                 password: Password::new("SECRET").unwrap(),
//!             }),
//!             ClientEvent::Count { count: 0, .. } | ClientEvent::Length { length: 0, .. } => Some(Command::Quit),
//!             ClientEvent::Count { .. } => Some(Command::Read(None)),
//!             ClientEvent::Length { .. } => Some(Command::Retr),
//!             ClientEvent::Data(data) => { received.extend_from_slice(&data); None }
//!             ClientEvent::DataEnd { .. } => Some(Command::Ackd),
//!             _ => None,
//!         };
//!         if let Some(command) = next {
//!             client.send(command).unwrap();
//!         }
//!     }
//!     let Some(bytes) = client.take_output() else { break };
//!     assert_eq!(server.enqueue_input(&bytes), bytes.len());
//!     while let Some(event) = server.next_event().unwrap() {
//!         match event {
//!             ServerEvent::Helo { .. } => server.accept_login(vec![537, 234]).unwrap(),
//!             ServerEvent::Retrieve { msg, .. } => server.send_message(messages[msg.index()].clone()).unwrap(),
//!             ServerEvent::Quit { deleted } => {
//!                 assert_eq!(deleted.len(), 2);
//!                 server.quit_done().unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(received.len(), 537 + 234);
//! assert_eq!(client.phase(), ClientPhase::Exit);
//! assert_eq!(server.phase(), ServerPhase::Done);
//! assert!(client.is_closed() && server.is_closed());
//! ```

mod client;
mod encode;
mod parse;
mod server;
mod types;

pub use client::{Client, ClientConfig, ClientError, ClientEvent, ClientPhase, SendError};
pub use server::{AnswerError, Server, ServerConfig, ServerError, ServerEvent, ServerPhase};
pub use types::{
    Argument, Command, Greeting, HostName, ParseError, Password, Reply, ReplyKind,
    MAX_COMMAND_LINE, MAX_REPLY_LINE,
};

#[cfg(test)]
mod tests;

//! The POP2 server machine (RFC 937): commands in, replies and message bytes
//! out, events for what only the host can do (check a password, open a
//! mailbox, read a message, apply deletions), driven through
//! [`Machine`](crate::Machine).

mod answers;
mod commands;
mod config;
mod error;
mod event;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

pub use config::ServerConfig;
pub use error::{AnswerError, ServerError};
pub use event::{ServerEvent, ServerPhase};

use crate::encode::{put_decimal, Encode};
use crate::framing::{FramingConfig, LineFramer};
use crate::machine::{input_until_closed, Machine};
use crate::pop2::{Greeting, Reply, ReplyKind};
use crate::types::{MessageNumber, Text};

/// What the machine waits for from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    Login,
    Folder,
    Message { remaining: u64 },
    Quit,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// QUIT answered; `reported` once the [`ServerEvent::Closed`] went out.
    Quit { reported: bool },
    /// Ended early, for this reason.
    Error(ServerError),
}

/// The POP2 server state machine.
///
/// ```
/// use bytes::Bytes;
/// use pop3_proto::Machine;
/// use pop3_proto::pop2::{Greeting, HostName, Server, ServerConfig, ServerEvent};
/// use pop3_proto::types::Text;
///
/// let greeting = Greeting::new(HostName::new("mail.example").unwrap(), Text::empty()).unwrap();
/// let mut server = Server::new(ServerConfig::default(), greeting);
/// let input = b"HELO alice secret\r\nREAD\r\nRETR\r\n";
/// assert_eq!(server.enqueue_input(input), input.len());
/// let Ok(Some(ServerEvent::Helo { user, password })) = server.next_event() else { panic!() };
/// assert_eq!((user.as_bytes(), password.expose_secret()), (&b"alice"[..], &b"secret"[..]));
/// server.accept_login(vec![5]).unwrap();
/// // READ is answered by the machine; RETR asks the host for the bytes.
/// let Ok(Some(ServerEvent::Retrieve { size: 5, .. })) = server.next_event() else { panic!() };
/// server.send_message(Bytes::from_static(b"Hi\r\n!")).unwrap();
/// let mut out = Vec::new();
/// while let Some(bytes) = server.take_output() {
///     out.extend_from_slice(&bytes);
/// }
/// assert_eq!(out, b"+ POP2 mail.example\r\n#1 message in your mailbox\r\n=5 characters in message 1\r\nHi\r\n!");
/// ```
///
/// The host's loop is the one every machine of the crate has (see
/// [`crate::machine`]): feed what the socket reads to
/// [`Machine::enqueue_input`], call [`Machine::next_event`] until it returns
/// `Ok(None)`, answer the events that ask for an answer, and write what
/// [`Machine::take_output`] gives (reply lines gathered, message bytes as the
/// host's own slices). Commands the protocol alone decides (READ, ACKS, ACKD,
/// NACK, and every error) are answered by the machine. A session that ends with
/// QUIT answered ends with [`ServerEvent::Closed`]; any other end is a
/// [`ServerError`].
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    framer: LineFramer,
    staging: BytesMut,
    output: VecDeque<Bytes>,
    phase: ServerPhase,
    awaiting: Awaiting,
    /// Sizes of the selected mailbox's messages, message 1 first.
    sizes: Vec<u64>,
    deleted: Vec<bool>,
    /// The current-message pointer (R937-5); may point past the end.
    current: u32,
    eof: bool,
    end: Option<End>,
}

impl Server {
    /// A server for a new connection; the greeting is written to the output at
    /// once (LSTN to AUTH).
    pub fn new(config: ServerConfig, greeting: Greeting) -> Self {
        let framer = LineFramer::new(FramingConfig {
            max_line: config.max_command_line,
            allow_bare_lf: config.allow_bare_lf,
        });
        let mut server = Server {
            config,
            input: BytesMut::new(),
            framer,
            staging: BytesMut::new(),
            output: VecDeque::new(),
            phase: ServerPhase::Auth,
            awaiting: Awaiting::Nothing,
            sizes: Vec::new(),
            deleted: Vec::new(),
            current: 0,
            eof: false,
            end: None,
        };
        greeting.encode(&mut server.staging);
        server
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The RFC 937 state.
    pub fn phase(&self) -> ServerPhase {
        self.phase
    }

    /// Whether the machine waits for the host to answer an event.
    pub fn is_waiting_for_host(&self) -> bool {
        self.awaiting != Awaiting::Nothing
    }

    /// The current-message pointer (1 after HELO and FOLD).
    pub fn current_message(&self) -> u32 {
        self.current
    }

    /// The number of messages in the selected mailbox.
    pub fn message_count(&self) -> usize {
        self.sizes.len()
    }

    /// Whether message `msg` of the selected mailbox is marked deleted (ACKD).
    pub fn is_deleted(&self, msg: MessageNumber) -> bool {
        self.deleted.get(msg.index()).copied().unwrap_or(false)
    }

    /// Octets of the message being sent that the host has still to give.
    pub fn remaining_message_len(&self) -> Option<u64> {
        match self.awaiting {
            Awaiting::Message { remaining } => Some(remaining),
            _ => None,
        }
    }

    /// Octets received and not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    // ----- replies -----

    fn flush_staging(&mut self) {
        if !self.staging.is_empty() {
            self.output.push_back(self.staging.split().freeze());
        }
    }

    /// Writes the reply `kind text`; a text that does not fit the line is left
    /// out.
    fn reply(&mut self, kind: ReplyKind, text: &[u8]) {
        let text = Text::new(text).unwrap_or_default();
        let reply = Reply::new(kind, text).or_else(|_| Reply::new(kind, Text::empty()));
        if let Ok(reply) = reply {
            reply.encode(&mut self.staging);
        }
    }

    fn size_of(&self, msg: u32) -> u64 {
        let Some(index) = msg.checked_sub(1).and_then(|i| usize::try_from(i).ok()) else {
            return 0;
        };
        match (self.sizes.get(index), self.deleted.get(index)) {
            (Some(&size), Some(false)) => size,
            _ => 0,
        }
    }

    /// `=ccc` for the current message (R937-5).
    fn reply_length(&mut self) {
        let size = self.size_of(self.current);
        if size > 0 {
            let mut text = Vec::with_capacity(32);
            text.extend_from_slice(b"characters in message ");
            put_decimal(&mut text, u64::from(self.current));
            self.reply(ReplyKind::Length(size), &text);
        } else {
            self.reply(ReplyKind::Length(0), b"no more messages");
        }
        self.phase = ServerPhase::Item;
    }

    /// Ends the session; nothing more is read.
    fn close(&mut self, end: End) {
        self.phase = ServerPhase::Done;
        self.awaiting = Awaiting::Nothing;
        self.input.clear();
        self.framer.reset();
        self.end = Some(end);
    }

    /// `- error` and close (R937-9).
    fn fail(&mut self, error: ServerError) -> ServerError {
        self.reply(ReplyKind::Err, b"error");
        self.close(End::Error(error.clone()));
        error
    }

    /// What [`Machine::next_event`] says once the session is over.
    fn report_end(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        match &mut self.end {
            Some(End::Error(error)) => Err(error.clone()),
            Some(End::Quit { reported }) if !*reported => {
                *reported = true;
                Ok(Some(ServerEvent::Closed))
            }
            _ => Ok(None),
        }
    }
}

impl Machine for Server {
    type Event = ServerEvent;
    type Error = ServerError;

    // Runs what it takes until the session is over; then takes and drops
    // (as much as its room) what it is given.
    input_until_closed!();

    /// The client closed its side. Commands already taken still run (and the
    /// host can still answer a pending event); then, unless QUIT was answered,
    /// the session ends with [`ServerError::ConnectionLost`] and nothing is
    /// deleted.
    fn enqueue_eof(&mut self) {
        self.eof = true;
    }

    fn next_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        self.run()
    }

    fn take_output(&mut self) -> Option<Bytes> {
        self.flush_staging();
        self.output.pop_front()
    }

    fn output_len(&self) -> usize {
        self.staging.len() + self.output.iter().map(Bytes::len).sum::<usize>()
    }

    fn is_closed(&self) -> bool {
        self.phase == ServerPhase::Done
    }
}

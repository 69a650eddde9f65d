//! The POP2 server machine (RFC 937): commands in, replies and message bytes out,
//! events for what only the host can do (check a password, open a mailbox, read
//! a message, apply deletions).

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::types::{Argument, Command, Greeting, ParseError, Password, Reply, ReplyKind};
use crate::encode::Encode;
use crate::framing::{FramingConfig, FramingError, LineFramer};
use crate::types::{MessageNumber, Text, ValueError};

/// Settings of a [`Server`].
///
/// ```
/// use pop3_proto::pop2::ServerConfig;
/// let config = ServerConfig::default();
/// assert_eq!(config.max_command_line, 512);
/// assert_eq!(config.signoff.as_bytes(), b"OK, bye, bye");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The longest command line accepted, CRLF included: 512 (R937-8). A
    /// smaller value is stricter; a larger one has no effect, since
    /// [`Command::parse`] enforces 512.
    pub max_command_line: usize,
    /// Accept a bare LF as a line end (on by default, as POP3 servers in the field
    /// do; each LF ends exactly one line). Off: a bare LF is an error, and the
    /// session closes.
    pub allow_bare_lf: bool,
    /// Input kept while the host answers an event (a client that sends ahead);
    /// [`Server::enqueue_input`] refuses more.
    pub max_buffered_input: usize,
    /// The text of the `+` reply to QUIT.
    pub signoff: Text,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_command_line: super::types::MAX_COMMAND_LINE,
            allow_bare_lf: true,
            max_buffered_input: 8 * 1024,
            signoff: Text::new("OK, bye, bye").unwrap_or_default(),
        }
    }
}

/// The server states of RFC 937's decision tables. LSTN, listening for a
/// connection, is the host's: [`Server::new`] is the move from LSTN to AUTH
/// (the greeting is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
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

impl ServerState {
    fn name(self) -> &'static str {
        match self {
            ServerState::Auth => "AUTH",
            ServerState::Mbox => "MBOX",
            ServerState::Item => "ITEM",
            ServerState::Next => "NEXT",
            ServerState::Done => "DONE",
        }
    }
}

impl core::fmt::Display for ServerState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// QUIT was answered.
    Quit,
    /// The host refused the HELO ([`Server::refuse_login`]).
    LoginRefused,
    /// A command not valid in this state: answered `- error` (R937-9).
    UnexpectedCommand {
        /// The command word.
        command: &'static str,
        /// The state it arrived in.
        state: ServerState,
    },
    /// A line that is not a POP2 command: answered `- error`.
    BadCommand(ParseError),
    /// A line too long or ended by a bare LF: answered `- error`.
    Framing(FramingError),
    /// RETR of a message of length 0 (none, deleted, or empty): answered
    /// `- error` and closed (R937-5).
    EmptyMessage,
}

/// What the host must know or do. Events that ask for an answer stop the
/// machine until the host calls the named method; commands sent ahead wait in
/// the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `HELO user password`. Answer: [`Server::accept_login`] with the sizes of
    /// the messages in the user's default mailbox, or [`Server::refuse_login`].
    Helo {
        /// The user name.
        user: Argument,
        /// The password.
        password: Password,
    },
    /// `FOLD mailbox`. First remove the messages in `deleted` from the mailbox
    /// being released (R937-6: deletion happens when a mailbox is released),
    /// then answer [`Server::open_folder`] with the sizes of the messages of
    /// `mailbox` (none if it is empty or does not exist).
    Fold {
        /// The mailbox to select.
        mailbox: Argument,
        /// Messages of the released mailbox acknowledged with ACKD, in order.
        deleted: Vec<MessageNumber>,
    },
    /// RETR of message `msg`, `size` octets as announced by `=size`. Answer:
    /// [`Server::send_message`] with exactly `size` octets, or
    /// [`Server::send_message_chunk`] until they are all given.
    Retrieve {
        /// The message.
        msg: MessageNumber,
        /// Its announced length.
        size: u64,
    },
    /// QUIT with a mailbox selected: remove the messages in `deleted` (R937-6),
    /// then answer [`Server::quit_done`], which writes the `+` reply.
    Quit {
        /// Messages acknowledged with ACKD, in order.
        deleted: Vec<MessageNumber>,
    },
    /// The session is over: write the output, then close the connection.
    Closed {
        /// Why.
        reason: CloseReason,
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

/// Input the machine cannot take now: stop reading until the host has answered
/// the pending event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the input buffer holds {buffered} octets, its limit is {limit}")]
pub struct InputFull {
    /// Octets waiting.
    pub buffered: usize,
    /// The configured bound.
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    Login,
    Folder,
    Message { remaining: u64 },
    Quit,
}

/// The POP2 server state machine.
///
/// ```
/// use bytes::Bytes;
/// use pop3_proto::pop2::{Greeting, HostName, Server, ServerConfig, ServerEvent};
/// use pop3_proto::types::Text;
///
/// let greeting = Greeting::new(HostName::new("mail.example").unwrap(), Text::empty()).unwrap();
/// let mut server = Server::new(ServerConfig::default(), greeting);
/// server.enqueue_input(b"HELO alice secret\r\nREAD\r\nRETR\r\n").unwrap();
/// let Some(ServerEvent::Helo { user, password }) = server.next_event() else { panic!() };
/// assert_eq!((user.as_bytes(), password.expose_secret()), (&b"alice"[..], &b"secret"[..]));
/// server.accept_login(vec![5]).unwrap();
/// // READ is answered by the machine; RETR asks the host for the bytes.
/// let Some(ServerEvent::Retrieve { size: 5, .. }) = server.next_event() else { panic!() };
/// server.send_message(Bytes::from_static(b"Hi\r\n!")).unwrap();
/// let out: Vec<u8> = server.take_output().concat();
/// assert_eq!(out, b"+ POP2 mail.example\r\n#1 message in your mailbox\r\n=5 characters in message 1\r\nHi\r\n!");
/// ```
///
/// The host's loop: feed what the socket reads to [`Server::enqueue_input`],
/// call [`Server::next_event`] until it returns `None`, answer the events that
/// ask for an answer, and write what [`Server::take_output`] gives.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    framer: LineFramer,
    staging: BytesMut,
    output: VecDeque<Bytes>,
    state: ServerState,
    awaiting: Awaiting,
    /// Sizes of the selected mailbox's messages, message 1 first.
    sizes: Vec<u64>,
    deleted: Vec<bool>,
    /// The current-message pointer (R937-5); may point past the end.
    current: u32,
    close_reason: Option<CloseReason>,
    close_reported: bool,
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
            state: ServerState::Auth,
            awaiting: Awaiting::Nothing,
            sizes: Vec::new(),
            deleted: Vec::new(),
            current: 0,
            close_reason: None,
            close_reported: false,
        };
        greeting.encode(&mut server.staging);
        server
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The RFC 937 state.
    pub fn state(&self) -> ServerState {
        self.state
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

    // ----- input and output -----

    /// Takes bytes read from the client. Refuses them (keeping none) when the
    /// buffer would pass [`ServerConfig::max_buffered_input`]; the host should
    /// then stop reading until it has answered the pending event. After the
    /// session is over, input is ignored.
    pub fn enqueue_input(&mut self, data: &[u8]) -> Result<(), InputFull> {
        if self.state == ServerState::Done {
            return Ok(());
        }
        let limit = self
            .config
            .max_buffered_input
            .max(self.config.max_command_line);
        if self.input.len().saturating_add(data.len()) > limit {
            return Err(InputFull {
                buffered: self.input.len(),
                limit,
            });
        }
        self.input.extend_from_slice(data);
        Ok(())
    }

    /// Takes everything to write, as slices for a vectored write: reply lines
    /// gathered, message bytes as the host's own slices.
    pub fn take_output(&mut self) -> Vec<Bytes> {
        self.flush_staging();
        self.output.drain(..).collect()
    }

    /// The next slice to write, if any.
    pub fn poll_output(&mut self) -> Option<Bytes> {
        self.flush_staging();
        self.output.pop_front()
    }

    /// Octets waiting to be written.
    pub fn output_len(&self) -> usize {
        self.staging.len() + self.output.iter().map(Bytes::len).sum::<usize>()
    }

    fn flush_staging(&mut self) {
        if !self.staging.is_empty() {
            self.output.push_back(self.staging.split().freeze());
        }
    }

    // ----- replies -----

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
            let text = format!("characters in message {}", self.current);
            self.reply(ReplyKind::Length(size), text.as_bytes());
        } else {
            self.reply(ReplyKind::Length(0), b"no more messages");
        }
        self.state = ServerState::Item;
    }

    fn select(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        let count = u32::try_from(sizes.len()).map_err(|_| AnswerError::TooManyMessages)?;
        self.deleted = alloc::vec![false; sizes.len()];
        self.sizes = sizes;
        self.current = 1;
        let noun = if count == 1 { "message" } else { "messages" };
        self.reply(
            ReplyKind::Count(count),
            format!("{noun} in your mailbox").as_bytes(),
        );
        self.state = ServerState::Mbox;
        self.awaiting = Awaiting::Nothing;
        Ok(())
    }

    fn deleted_list(&self) -> Vec<MessageNumber> {
        self.deleted
            .iter()
            .enumerate()
            .filter(|(_, &d)| d)
            .filter_map(|(i, _)| {
                let n = u32::try_from(i).ok()?.checked_add(1)?;
                MessageNumber::new(n).ok()
            })
            .collect()
    }

    fn close(&mut self, reason: CloseReason) {
        self.state = ServerState::Done;
        self.awaiting = Awaiting::Nothing;
        self.input.clear();
        self.framer.reset();
        self.close_reason = Some(reason);
    }

    /// `- error` and close (R937-9).
    fn fail(&mut self, reason: CloseReason) -> Option<ServerEvent> {
        self.reply(ReplyKind::Err, b"error");
        self.close(reason);
        self.report_close()
    }

    fn report_close(&mut self) -> Option<ServerEvent> {
        if self.close_reported {
            return None;
        }
        self.close_reported = true;
        self.close_reason
            .clone()
            .map(|reason| ServerEvent::Closed { reason })
    }

    // ----- events -----

    /// The next thing the host must know or do, or `None` when the machine
    /// needs more input or waits for the host's answer. Commands the protocol
    /// alone decides (READ, ACKS, ACKD, NACK, and every error) are answered by
    /// the machine.
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        loop {
            if self.state == ServerState::Done {
                return self.report_close();
            }
            if self.awaiting != Awaiting::Nothing {
                return None;
            }
            let line = match self.framer.next_line(&mut self.input) {
                Ok(None) => return None,
                Ok(Some(line)) => line,
                Err(error) => return self.fail(CloseReason::Framing(error)),
            };
            let command = match Command::parse(&line.bytes) {
                Ok(command) => command,
                Err(error) => return self.fail(CloseReason::BadCommand(error)),
            };
            if let Some(event) = self.dispatch(command) {
                return Some(event);
            }
        }
    }

    /// RFC 937's server decision table (R937-9).
    fn dispatch(&mut self, command: Command) -> Option<ServerEvent> {
        use ServerState::{Auth, Item, Mbox, Next};
        match (self.state, command) {
            (Auth, Command::Helo { user, password }) => {
                self.awaiting = Awaiting::Login;
                Some(ServerEvent::Helo { user, password })
            }
            (Auth, Command::Quit) => {
                let signoff = self.config.signoff.clone();
                self.reply(ReplyKind::Ok, signoff.as_bytes());
                self.close(CloseReason::Quit);
                self.report_close()
            }
            (Mbox | Item, Command::Fold(mailbox)) => {
                self.awaiting = Awaiting::Folder;
                Some(ServerEvent::Fold {
                    mailbox,
                    deleted: self.deleted_list(),
                })
            }
            (Mbox | Item, Command::Read(n)) => {
                if let Some(n) = n {
                    self.current = n;
                }
                self.reply_length();
                None
            }
            (Mbox | Item, Command::Quit) => {
                self.awaiting = Awaiting::Quit;
                Some(ServerEvent::Quit {
                    deleted: self.deleted_list(),
                })
            }
            (Item, Command::Retr) => {
                let size = self.size_of(self.current);
                match MessageNumber::new(self.current) {
                    Ok(msg) if size > 0 => {
                        self.awaiting = Awaiting::Message { remaining: size };
                        Some(ServerEvent::Retrieve { msg, size })
                    }
                    _ => self.fail(CloseReason::EmptyMessage),
                }
            }
            (Next, Command::Acks) => {
                self.current = self.current.saturating_add(1);
                self.reply_length();
                None
            }
            (Next, Command::Ackd) => {
                let index = self
                    .current
                    .checked_sub(1)
                    .and_then(|i| usize::try_from(i).ok());
                if let Some(mark) = index.and_then(|i| self.deleted.get_mut(i)) {
                    *mark = true;
                }
                self.current = self.current.saturating_add(1);
                self.reply_length();
                None
            }
            (Next, Command::Nack) => {
                self.reply_length();
                None
            }
            (state, command) => self.fail(CloseReason::UnexpectedCommand {
                command: command.keyword(),
                state,
            }),
        }
    }

    // ----- answers -----

    /// Accepts the HELO: `sizes` are the lengths of the messages in the user's
    /// default mailbox, message 1 first (octets as sent, CRLF counting 2).
    /// Replies `#nnn`.
    pub fn accept_login(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Login {
            return Err(AnswerError::NotExpected("a login answer"));
        }
        self.select(sizes)
    }

    /// Refuses the HELO: replies `- text` and closes (R937-5).
    pub fn refuse_login(&mut self, text: Text) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Login {
            return Err(AnswerError::NotExpected("a login answer"));
        }
        let reply = Reply::new(ReplyKind::Err, text)?;
        reply.encode(&mut self.staging);
        self.close(CloseReason::LoginRefused);
        Ok(())
    }

    /// Answers FOLD once the released mailbox's deletions are applied: `sizes`
    /// are the lengths of the new mailbox's messages (empty when it is empty or
    /// does not exist). Replies `#nnn`.
    pub fn open_folder(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Folder {
            return Err(AnswerError::NotExpected("a FOLD answer"));
        }
        self.select(sizes)
    }

    /// Sends the whole message for RETR: exactly the announced number of octets,
    /// written as given (no stuffing, no terminator, R937-5).
    pub fn send_message(&mut self, message: Bytes) -> Result<(), AnswerError> {
        let Awaiting::Message { remaining } = self.awaiting else {
            return Err(AnswerError::NotExpected("message data"));
        };
        let given = message.len() as u64;
        if given != remaining {
            return Err(AnswerError::WrongLength {
                expected: remaining,
                given,
            });
        }
        self.send_message_chunk(message)
    }

    /// Sends the next piece of the message for RETR. Once the announced length
    /// is reached the machine waits for ACKS, ACKD or NACK. A piece past the
    /// announced length is refused.
    pub fn send_message_chunk(&mut self, chunk: Bytes) -> Result<(), AnswerError> {
        let Awaiting::Message { remaining } = self.awaiting else {
            return Err(AnswerError::NotExpected("message data"));
        };
        let given = chunk.len() as u64;
        if given > remaining {
            return Err(AnswerError::WrongLength {
                expected: remaining,
                given,
            });
        }
        if !chunk.is_empty() {
            self.flush_staging();
            self.output.push_back(chunk);
        }
        let remaining = remaining - given;
        if remaining == 0 {
            self.awaiting = Awaiting::Nothing;
            self.state = ServerState::Next;
        } else {
            self.awaiting = Awaiting::Message { remaining };
        }
        Ok(())
    }

    /// Answers QUIT once the deletions are applied: replies `+` with the
    /// configured sign-off, and the session is over.
    pub fn quit_done(&mut self) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Quit {
            return Err(AnswerError::NotExpected("a QUIT answer"));
        }
        let signoff = self.config.signoff.clone();
        self.reply(ReplyKind::Ok, signoff.as_bytes());
        self.close(CloseReason::Quit);
        Ok(())
    }
}

//! The POP2 client machine (RFC 937): commands in through a checked method,
//! replies and message bytes out as events.

use bytes::{Bytes, BytesMut};

use super::types::{Command, Greeting, ParseError, Reply, ReplyKind};
use crate::encode::Encode;
use crate::framing::{FramingConfig, FramingError, LineFramer};
use crate::types::Text;

/// Settings of a [`Client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// The longest reply line accepted, CRLF included: 512 (R937-8). A smaller
    /// value is stricter; a larger one has no effect, since [`Reply::parse`]
    /// enforces 512. Message data is counted, never framed, so RFC 937's
    /// 1000-octet text-line limit is not checked.
    pub max_reply_line: usize,
    /// Accept a bare LF as the end of a reply line. Off: a bare LF is a fatal
    /// error. Message data is never looked at: it is counted.
    pub allow_bare_lf: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_reply_line: super::types::MAX_REPLY_LINE,
            allow_bare_lf: false,
        }
    }
}

/// The client states of RFC 937's decision tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// Connected; waiting for the greeting, then sending HELO.
    Call,
    /// HELO or FOLD sent; waiting for, or having, the `#nnn` message count.
    Nmbr,
    /// READ or an acknowledgement sent; waiting for, or having, the `=ccc`
    /// message length.
    Size,
    /// RETR sent; receiving the message, then sending ACKS, ACKD or NACK.
    Xfer,
    /// QUIT sent, or the server refused or failed: the session is over.
    Exit,
}

impl ClientState {
    fn name(self) -> &'static str {
        match self {
            ClientState::Call => "CALL",
            ClientState::Nmbr => "NMBR",
            ClientState::Size => "SIZE",
            ClientState::Xfer => "XFER",
            ClientState::Exit => "EXIT",
        }
    }
}

impl core::fmt::Display for ClientState {
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
    /// `-`: the server refused the last command (or the connection) and
    /// closes it (R937-9).
    Refused {
        /// The reply text.
        text: Text,
    },
    /// `+`, the reply to QUIT: the server closes the connection.
    Closed {
        /// The reply text.
        text: Text,
    },
}

/// Why a command was not sent. Nothing was written; the machine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The command is not valid in this state (R937-9).
    #[error("{command} is not valid in state {state}")]
    WrongState {
        /// The command word.
        command: &'static str,
        /// Where the session is.
        state: ClientState,
    },
    /// The reply to the last command (or the greeting, or message data) has
    /// not all come yet: POP2 has no pipelining.
    #[error("a reply is outstanding")]
    MustWait,
    /// RETR after `=0`: there is no message to retrieve, and the server would
    /// close the connection (R937-5).
    #[error("RETR after =0: no message to retrieve")]
    EmptyMessage,
    /// The session is over.
    #[error("the session is over")]
    Closed,
}

/// Bad input from the server. Every error is fatal (R937-9: if anything goes
/// wrong, close the connection): the same error comes back from every later
/// call of [`Client::next_event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A reply line too long, or ended by a bare LF.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// A line that is not a POP2 reply (or greeting).
    #[error("bad reply: {0}")]
    BadReply(ParseError),
    /// A reply of the wrong kind for the command sent (for example `=ccc` to
    /// HELO, or `#nnn` to READ).
    #[error("expected {expected}, got {got:?}")]
    UnexpectedReply {
        /// What the command's reply should have been.
        expected: &'static str,
        /// What came.
        got: ReplyKind,
    },
    /// More than a reply line's worth of bytes arrived while no command was
    /// waiting for a reply.
    #[error("{buffered} octets arrived with no command waiting for them")]
    Unsolicited {
        /// Octets buffered.
        buffered: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Count,
    Length,
    Data { remaining: u64, total: u64 },
    Quit,
}

/// The POP2 client state machine.
///
/// ```
/// use pop3_proto::pop2::{Argument, Client, ClientConfig, ClientEvent, Command, Password};
///
/// let mut client = Client::new(ClientConfig::default());
/// client.enqueue_input(b"+ POP2 mail.example ready\r\n");
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Greeting(_)))));
/// client
///     .send(Command::Helo {
///         user: Argument::new("alice").unwrap(),
///         password: Password::new("secret").unwrap(),
///     })
///     .unwrap();
/// assert_eq!(&client.take_output().unwrap()[..], b"HELO alice secret\r\n");
/// client.enqueue_input(b"#1\r\n");
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Count { count: 1, .. }))));
/// client.send(Command::Read(None)).unwrap();
/// client.enqueue_input(b"=4\r\n");
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Length { length: 4, .. }))));
/// client.send(Command::Retr).unwrap();
/// client.enqueue_input(b"Hi\r\n");
/// assert_eq!(client.next_event(), Ok(Some(ClientEvent::Data("Hi\r\n".into()))));
/// assert_eq!(client.next_event(), Ok(Some(ClientEvent::DataEnd { size: 4 })));
/// client.send(Command::Ackd).unwrap();
/// ```
///
/// The program's loop: write what [`Client::take_output`] gives, feed what
/// the socket reads to [`Client::enqueue_input`], and call
/// [`Client::next_event`] until it returns `Ok(None)`, sending the next
/// command when an event calls for one. POP2 has one command in flight at a
/// time; RETR's reply is counted by the length of the preceding `=ccc`, not
/// terminated (R937-5).
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    framer: LineFramer,
    output: BytesMut,
    state: ClientState,
    expect: Option<Expect>,
    greeted: bool,
    count: Option<u32>,
    length: Option<u64>,
    fatal: Option<ClientError>,
}

impl Client {
    /// A client for a new connection, waiting for the greeting.
    pub fn new(config: ClientConfig) -> Self {
        Client {
            config,
            input: BytesMut::new(),
            framer: LineFramer::new(FramingConfig {
                max_line: config.max_reply_line,
                allow_bare_lf: config.allow_bare_lf,
            }),
            output: BytesMut::new(),
            state: ClientState::Call,
            expect: Some(Expect::Greeting),
            greeted: false,
            count: None,
            length: None,
            fatal: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The RFC 937 state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Whether a reply (or message data) is outstanding.
    pub fn is_waiting(&self) -> bool {
        self.expect.is_some()
    }

    /// The last `#nnn`: messages in the selected mailbox.
    pub fn message_count(&self) -> Option<u32> {
        self.count
    }

    /// The last `=ccc`: the length of the current message.
    pub fn message_length(&self) -> Option<u64> {
        self.length
    }

    /// Octets of the message being received still to come.
    pub fn remaining_data(&self) -> Option<u64> {
        match self.expect {
            Some(Expect::Data { remaining, .. }) => Some(remaining),
            _ => None,
        }
    }

    /// The error that stopped the machine, if any.
    pub fn fatal_error(&self) -> Option<&ClientError> {
        self.fatal.as_ref()
    }

    /// Octets read but not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    // ----- input and output -----

    /// Takes bytes read from the server. Call [`Client::next_event`] until it
    /// returns `Ok(None)` afterwards. Input after the end of the session is
    /// ignored.
    pub fn enqueue_input(&mut self, data: &[u8]) {
        if self.accepts_input() {
            self.input.extend_from_slice(data);
        }
    }

    /// Like [`Client::enqueue_input`], but takes ownership of a buffer, which
    /// avoids a copy when nothing is buffered: message data then reaches the
    /// caller as slices of this very buffer.
    pub fn enqueue_buf(&mut self, data: BytesMut) {
        if self.input.is_empty() && self.accepts_input() {
            self.input = data;
            self.framer.reset();
        } else {
            self.enqueue_input(&data);
        }
    }

    fn accepts_input(&self) -> bool {
        self.fatal.is_none() && (self.state != ClientState::Exit || self.expect.is_some())
    }

    /// Takes the bytes to write to the server, if any.
    pub fn take_output(&mut self) -> Option<Bytes> {
        if self.output.is_empty() {
            None
        } else {
            Some(self.output.split().freeze())
        }
    }

    /// Whether there are bytes to write.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    // ----- commands -----

    /// Sends a command after checking that it is valid now (RFC 937's client
    /// decision table): HELO or QUIT after the greeting; READ, FOLD or QUIT
    /// after `#nnn`; READ, FOLD, QUIT or RETR (unless the length is 0) after
    /// `=ccc`; ACKS, ACKD or NACK once the message has come.
    pub fn send(&mut self, command: Command) -> Result<(), SendError> {
        if self.fatal.is_some() || (self.state == ClientState::Exit && self.expect.is_none()) {
            return Err(SendError::Closed);
        }
        if self.expect.is_some() {
            return Err(SendError::MustWait);
        }
        use ClientState::{Call, Nmbr, Size, Xfer};
        let (state, expect) = match (self.state, &command) {
            (Call, Command::Helo { .. }) if self.greeted => (Nmbr, Expect::Count),
            (Nmbr | Size, Command::Fold(_)) => (Nmbr, Expect::Count),
            (Nmbr | Size, Command::Read(_)) => (Size, Expect::Length),
            (Size, Command::Retr) => match self.length {
                Some(length) if length > 0 => (
                    Xfer,
                    Expect::Data {
                        remaining: length,
                        total: length,
                    },
                ),
                _ => return Err(SendError::EmptyMessage),
            },
            (Xfer, Command::Acks | Command::Ackd | Command::Nack) => (Size, Expect::Length),
            (Call | Nmbr | Size, Command::Quit) if self.greeted => {
                (ClientState::Exit, Expect::Quit)
            }
            (state, command) => {
                return Err(SendError::WrongState {
                    command: command.keyword(),
                    state,
                })
            }
        };
        command.encode(&mut self.output);
        self.state = state;
        self.expect = Some(expect);
        Ok(())
    }

    // ----- events -----

    /// The next thing that happened, `Ok(None)` when more input is needed (or
    /// nothing is expected), or an error. After an error the machine is stopped:
    /// the same error comes back on every call.
    pub fn next_event(&mut self) -> Result<Option<ClientEvent>, ClientError> {
        if let Some(fatal) = &self.fatal {
            return Err(fatal.clone());
        }
        let result = self.step();
        if let Err(error) = &result {
            self.fatal = Some(error.clone());
            self.state = ClientState::Exit;
            self.expect = None;
            self.input.clear();
        }
        result
    }

    fn step(&mut self) -> Result<Option<ClientEvent>, ClientError> {
        let Some(expect) = self.expect else {
            // Nothing was asked: keep what came for the next command's reply,
            // but no more than one reply line's worth.
            if self.state != ClientState::Exit && self.input.len() > self.config.max_reply_line {
                return Err(ClientError::Unsolicited {
                    buffered: self.input.len(),
                });
            }
            return Ok(None);
        };
        if let Expect::Data { remaining, total } = expect {
            if remaining == 0 {
                self.expect = None;
                return Ok(Some(ClientEvent::DataEnd { size: total }));
            }
            if self.input.is_empty() {
                return Ok(None);
            }
            let n =
                usize::try_from(remaining).map_or(self.input.len(), |r| r.min(self.input.len()));
            let data = self.input.split_to(n).freeze();
            self.expect = Some(Expect::Data {
                remaining: remaining - n as u64,
                total,
            });
            // Bytes left the buffer's front: the framer must search afresh.
            self.framer.reset();
            return Ok(Some(ClientEvent::Data(data)));
        }
        let Some(line) = self.framer.next_line(&mut self.input)? else {
            return Ok(None);
        };
        let line = line.bytes;
        if expect == Expect::Greeting && line.first() != Some(&b'-') {
            let greeting = Greeting::parse(&line).map_err(ClientError::BadReply)?;
            self.greeted = true;
            self.expect = None;
            return Ok(Some(ClientEvent::Greeting(greeting)));
        }
        let (kind, text) = Reply::parse(&line)
            .map_err(ClientError::BadReply)?
            .into_parts();
        let event = match (expect, kind) {
            (_, ReplyKind::Err) => {
                self.state = ClientState::Exit;
                self.input.clear();
                ClientEvent::Refused { text }
            }
            (Expect::Count, ReplyKind::Count(count)) => {
                self.count = Some(count);
                self.length = None;
                ClientEvent::Count { count, text }
            }
            (Expect::Length, ReplyKind::Length(length)) => {
                self.length = Some(length);
                ClientEvent::Length { length, text }
            }
            (Expect::Quit, ReplyKind::Ok) => {
                self.input.clear();
                ClientEvent::Closed { text }
            }
            (expect, got) => {
                let expected = match expect {
                    Expect::Greeting => "the greeting",
                    Expect::Count => "#nnn",
                    Expect::Length => "=ccc",
                    Expect::Data { .. } | Expect::Quit => "+",
                };
                return Err(ClientError::UnexpectedReply { expected, got });
            }
        };
        self.expect = None;
        Ok(Some(event))
    }
}

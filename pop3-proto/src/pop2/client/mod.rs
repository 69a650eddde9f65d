//! The POP2 client machine (RFC 937): commands in through a checked method,
//! replies and message bytes out as events, driven through
//! [`Machine`](crate::Machine).

mod config;
mod error;
mod event;
mod receive;
mod send;

use bytes::{Bytes, BytesMut};

pub use config::ClientConfig;
pub use error::{ClientError, SendError};
pub use event::{ClientEvent, ClientPhase};

use crate::framing::{FramingConfig, LineFramer};
use crate::machine::{input_until_closed, output, Machine};

/// What the client waits for from the server.
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
/// use pop3_proto::Machine;
/// use pop3_proto::pop2::{Argument, Client, ClientConfig, ClientEvent, Command, Password};
///
/// let mut client = Client::new(ClientConfig::default());
/// assert_eq!(client.enqueue_input(b"+ POP2 mail.example ready\r\n"), 27);
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Greeting(_)))));
/// client
///     .send(Command::Helo {
///         user: Argument::new("alice").unwrap(),
///         password: Password::new("secret").unwrap(),
///     })
///     .unwrap();
/// assert_eq!(&client.take_output().unwrap()[..], b"HELO alice secret\r\n");
/// let _ = client.enqueue_input(b"#1\r\n");
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Count { count: 1, .. }))));
/// client.send(Command::Read(None)).unwrap();
/// let _ = client.enqueue_input(b"=4\r\n");
/// assert!(matches!(client.next_event(), Ok(Some(ClientEvent::Length { length: 4, .. }))));
/// client.send(Command::Retr).unwrap();
/// let _ = client.enqueue_input(b"Hi\r\n");
/// assert_eq!(client.next_event(), Ok(Some(ClientEvent::Data("Hi\r\n".into()))));
/// assert_eq!(client.next_event(), Ok(Some(ClientEvent::DataEnd { size: 4 })));
/// client.send(Command::Ackd).unwrap();
/// ```
///
/// The program's loop is the one every machine of the crate has (see
/// [`crate::machine`]): feed what the socket reads to
/// [`Machine::enqueue_input`], call [`Machine::next_event`] until it returns
/// `Ok(None)`, sending the next command with [`Client::send`] when an event
/// calls for one, and write what [`Machine::take_output`] gives. POP2 has one
/// command in flight at a time; RETR's reply is counted by the length of the
/// preceding `=ccc`, not terminated (R937-5). Every error ends the session
/// (R937-9); a session that ends with QUIT answered ends with
/// [`ClientEvent::Closed`].
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    framer: LineFramer,
    output: BytesMut,
    phase: ClientPhase,
    expect: Option<Expect>,
    greeted: bool,
    count: Option<u32>,
    length: Option<u64>,
    eof: bool,
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
            phase: ClientPhase::Call,
            expect: Some(Expect::Greeting),
            greeted: false,
            count: None,
            length: None,
            eof: false,
            fatal: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The RFC 937 state.
    pub fn phase(&self) -> ClientPhase {
        self.phase
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

    /// The error that ended the session, if any.
    pub fn fatal_error(&self) -> Option<&ClientError> {
        self.fatal.as_ref()
    }

    /// Octets read but not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    /// Whether the session ended normally: QUIT was sent and answered `+`.
    fn quit_answered(&self) -> bool {
        self.phase == ClientPhase::Exit && self.expect.is_none()
    }

    /// Stops the machine for good after `error`.
    fn fail(&mut self, error: ClientError) -> ClientError {
        self.fatal = Some(error.clone());
        self.phase = ClientPhase::Exit;
        self.expect = None;
        self.input.clear();
        error
    }
}

impl Machine for Client {
    type Event = ClientEvent;
    type Error = ClientError;

    // Runs what it takes until the session is over; then takes and drops
    // (as much as its room) what it is given.
    input_until_closed!();

    /// Unless QUIT was answered, the session ends with
    /// [`ClientError::ConnectionClosed`] once the events for the input already
    /// taken are out.
    fn enqueue_eof(&mut self) {
        self.eof = true;
    }

    fn next_event(&mut self) -> Result<Option<ClientEvent>, ClientError> {
        if let Some(fatal) = &self.fatal {
            return Err(fatal.clone());
        }
        match self.step() {
            Ok(None) if self.eof && !self.quit_answered() => {
                let phase = self.phase;
                Err(self.fail(ClientError::ConnectionClosed { phase }))
            }
            Ok(event) => Ok(event),
            Err(error) => Err(self.fail(error)),
        }
    }

    fn take_output(&mut self) -> Option<Bytes> {
        output::take(&mut self.output)
    }

    fn output_len(&self) -> usize {
        self.output.len()
    }

    /// After an error, or once QUIT was answered.
    fn is_closed(&self) -> bool {
        self.fatal.is_some() || self.quit_answered()
    }
}

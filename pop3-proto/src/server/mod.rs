//! The server half of the codec: a pure state machine that turns a client's bytes
//! into events for the host, and answers by itself everything the protocol alone
//! decides (STAT, LIST, UIDL, DELE, RSET, NOOP, CAPA, wrong-state and malformed
//! commands). No IO, storage, clock or randomness inside. It is driven through
//! [`Machine`] and [`StartTls`], as every machine of the crate is.
//!
//! ```
//! use pop3_proto::Machine;
//! use pop3_proto::server::{Server, ServerConfig, ServerEvent, MessageInfo};
//! use pop3_proto::types::{Text, UniqueId};
//!
//! let mut server = Server::new(ServerConfig::default(), Text::new("POP3 ready").unwrap(), None);
//! let input = b"USER alice\r\nPASS secret\r\nSTAT\r\n";
//! assert_eq!(server.enqueue_input(input), input.len());
//! let Ok(Some(ServerEvent::Login { name, password })) = server.next_event() else { panic!() };
//! assert_eq!(password.expose_secret(), b"secret");
//! let drop = vec![MessageInfo { size: 120, uid: UniqueId::new("a1").unwrap() }];
//! server.accept_login(drop, None).unwrap();
//! assert_eq!(server.next_event(), Ok(None)); // STAT answered by the machine
//! let mut out = Vec::new();
//! while let Some(bytes) = server.take_output() {
//!     out.extend_from_slice(&bytes);
//! }
//! assert!(out.ends_with(b"+OK 1 120\r\n"));
//! ```
//!
//! The host's loop is the one of [`crate::machine`]: feed what the socket reads
//! (at most [`Machine::input_room`]) to [`Machine::enqueue_input`], call
//! [`Machine::next_event`] until it returns `Ok(None)`, answer the events that
//! ask for an answer, and write what [`Machine::take_output`] gives. After
//! writing, call [`Machine::next_event`] again: the machine stops reading
//! pipelined commands while more than [`ServerConfig::max_pending_output`] octets
//! wait to be written.
//!
//! # How a session ends
//!
//! QUIT ends it the normal way: [`ServerEvent::Closed`] comes once, after the
//! reply to QUIT (and after [`Server::update_done`] in TRANSACTION). Every other
//! end is an `Err` from [`Machine::next_event`], returned again by every later
//! call: [`ServerError::TooManyFailures`] (after the `-ERR` of the last failed
//! login is in the output), [`ServerError::ConnectionLost`]
//! ([`Machine::enqueue_eof`] before the session ended), [`ServerError::Timeout`]
//! ([`Server::timeout`]) and [`ServerError::Aborted`] ([`Server::abort`]).
//!
//! # States (RFC 1939 §3)
//!
//! * AUTHORIZATION ([`Phase::Authorization`]): USER, PASS (only right after a
//!   successful USER, [`Server::pending_user`]), APOP, AUTH, STLS, CAPA, UTF8, LANG,
//!   QUIT. Everything else gets `-ERR` and the state does not change (IMPL-3).
//! * TRANSACTION ([`Phase::Transaction`]): the machine answers STAT, LIST, UIDL,
//!   DELE, RSET, NOOP and CAPA from the listing the host gave at login; RETR and
//!   TOP become [`ServerEvent::Retrieve`]; QUIT becomes [`ServerEvent::Update`].
//! * UPDATE ([`Phase::Update`]): only after QUIT in TRANSACTION. Nothing else ever
//!   asks the host to remove a message: QUIT in AUTHORIZATION, end of input,
//!   [`Server::timeout`] and [`Server::abort`] end the session without an UPDATE
//!   (R1939-21).

mod answers;
mod commands;
mod config;
mod error;
mod event;
mod io;
mod replies;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

pub use config::ServerConfig;
pub use error::{AnswerError, ServerError};
pub use event::{AuthStep, MessageInfo, Refusal, ServerEvent};

use crate::apop::Timestamp;
use crate::dot::Stuffer;
use crate::encode;
use crate::framing::{FramingConfig, LineFramer};
use crate::machine::{Machine, StartTls};
use crate::types::{MessageNumber, Status, StatusLine, Text, Username};

/// Where the session is (RFC 1939 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// AUTHORIZATION: before login.
    Authorization,
    /// TRANSACTION: logged in, maildrop locked.
    Transaction,
    /// UPDATE: QUIT arrived in TRANSACTION; the host is removing messages.
    Update,
    /// STLS was accepted; the host runs the TLS handshake.
    TlsHandshake,
    /// The session is over.
    Closed,
}

/// What a USER the machine answered `+OK` left for PASS.
#[derive(Debug)]
enum PendingUser {
    /// A valid name: PASS goes to the host with it.
    Named(Username),
    /// A name no mailbox can have (a NUL, a control octet, a space, too long): the
    /// machine said `+OK` as for any name (RFC 1939 §7 lets a server not reveal
    /// which names exist, and servers in the field do so), and PASS fails without
    /// the host seeing it.
    Impossible,
}

/// What the machine waits for from the host.
#[derive(Debug)]
enum Awaiting {
    Nothing,
    User(Username),
    Login,
    Auth,
    Retrieve {
        msg: MessageNumber,
        top: Option<u32>,
        stuffer: Option<Box<Stuffer>>,
    },
    Update,
    Extension,
}

/// The server state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    framer: LineFramer,
    /// The framer's limit for command lines, and for SASL lines, built once.
    command_framing: FramingConfig,
    sasl_framing: FramingConfig,
    /// Small lines are gathered here; [`Machine::take_output`] gives them as one
    /// piece. Always the tail of the output: it is moved to `output` before a
    /// body's slices are queued.
    staging: BytesMut,
    output: VecDeque<Bytes>,
    /// Octets in `output`.
    output_queued: usize,
    /// The last message's stuffer, restarted for the next one: cheaper than
    /// building one per message. Boxed, as is the one in use, so that handing it
    /// between the two moves a pointer, not the searcher's tables.
    spare_stuffer: Option<Box<Stuffer>>,
    phase: Phase,
    awaiting: Awaiting,
    /// USER was accepted: PASS may follow.
    user: Option<PendingUser>,
    /// An AUTH challenge was sent: the next line is a SASL response.
    in_sasl: bool,
    timestamp: Option<Timestamp>,
    tls: bool,
    utf8: bool,
    language: Option<usize>,
    failed_logins: u32,
    maildrop: Vec<MessageInfo>,
    deleted: Vec<bool>,
    /// With a bulletin board open (`XTND BBOARDS name` or `XTND ARCHIVE name`,
    /// R1082-4): the MAXIMA of each message. The maildrop is then read-only.
    group_maxima: Option<Vec<u64>>,
    /// Messages not marked as deleted, and their total size.
    live_count: u64,
    live_size: u64,
    /// The exact per-user values CAPA gives in TRANSACTION (R2449-15, R2449-16).
    user_login_delay: Option<u32>,
    user_expire: Option<crate::types::Expire>,
    /// Octets of input thrown away unrun: pipelined after STLS, or fed during the
    /// handshake or after the end.
    discarded: u64,
    /// Once closed: why, when it was not QUIT.
    error: Option<ServerError>,
    /// [`ServerEvent::Closed`] was given.
    close_reported: bool,
}

impl Server {
    /// A server for a new connection. The greeting (`+OK text`, then the APOP
    /// timestamp if one is given and [`ServerConfig::apop`] is on, R1939-28) is
    /// written to the output at once. The host makes the timestamp fresh for every
    /// connection from its own clock and counter ([`Timestamp::new`]), since the
    /// machine has neither.
    ///
    /// The greeting line is kept within 512 octets (R1939-9): a text that would
    /// push it past is cut, and a timestamp too long to fit turns APOP off.
    pub fn new(config: ServerConfig, greeting: Text, timestamp: Option<Timestamp>) -> Self {
        let command_framing = FramingConfig {
            max_line: config.max_command_line,
            allow_bare_lf: config.allow_bare_lf,
        };
        let sasl_framing = FramingConfig {
            max_line: config.max_sasl_line,
            ..command_framing
        };
        let tls = config.implicit_tls;
        let timestamp = timestamp
            .filter(|_| config.apop)
            .filter(|ts| ts.as_bytes().len() <= StatusLine::text_room(Status::Ok, None));
        // Its capacity is also what every later buffer gets once a piece was
        // split off (`bytes` keeps the first capacity): lines never grow it bit by
        // bit.
        let mut staging = BytesMut::with_capacity(Self::STAGING_PIECE);
        encode::put_greeting(
            &mut staging,
            greeting.as_bytes(),
            timestamp.as_ref().map(Timestamp::as_bytes),
        );
        Server {
            config,
            input: BytesMut::new(),
            framer: LineFramer::new(command_framing),
            command_framing,
            sasl_framing,
            staging,
            output: VecDeque::new(),
            output_queued: 0,
            spare_stuffer: None,
            phase: Phase::Authorization,
            awaiting: Awaiting::Nothing,
            user: None,
            in_sasl: false,
            timestamp,
            tls,
            utf8: false,
            language: None,
            failed_logins: 0,
            maildrop: Vec::new(),
            deleted: Vec::new(),
            group_maxima: None,
            live_count: 0,
            live_size: 0,
            user_login_delay: None,
            user_expire: None,
            discarded: 0,
            error: None,
            close_reported: false,
        }
    }

    /// A server that offers APOP, its greeting timestamp `<id.clock@host>` built
    /// from values the host supplies (R1939-28: a process id or connection
    /// counter, and the current time; the timestamp must differ for every
    /// greeting). Turns [`ServerConfig::apop`] on. Fails when `host` cannot be
    /// the domain of a msg-id.
    ///
    /// ```
    /// use pop3_proto::Machine;
    /// use pop3_proto::server::{Server, ServerConfig};
    /// use pop3_proto::types::Text;
    /// let mut server = Server::with_apop(
    ///     ServerConfig::default(), Text::new("POP3 server ready").unwrap(),
    ///     1896, 697170952, "dbc.mtview.ca.us",
    /// ).unwrap();
    /// assert_eq!(
    ///     server.take_output().unwrap(),
    ///     &b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"[..]
    /// );
    /// ```
    pub fn with_apop(
        config: ServerConfig,
        greeting: Text,
        id: u64,
        clock: u64,
        host: &str,
    ) -> Result<Self, crate::apop::ApopError> {
        let timestamp = Timestamp::new(id, clock, host)?;
        let config = ServerConfig {
            apop: true,
            ..config
        };
        Ok(Self::new(config, greeting, Some(timestamp)))
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Where the session is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The name a successful USER gave, while PASS may follow (the
    /// AUTHORIZATION sub-state "USER accepted" of RFC 1939 §7). `None` also after a
    /// USER whose name no mailbox can have, which was answered `+OK` all the same.
    pub fn pending_user(&self) -> Option<&Username> {
        match &self.user {
            Some(PendingUser::Named(name)) => Some(name),
            _ => None,
        }
    }

    /// Whether UTF-8 mode is on (the client sent `UTF8`, R6856-4).
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// This session's APOP timestamp, if APOP is on.
    pub fn timestamp(&self) -> Option<&Timestamp> {
        self.timestamp.as_ref()
    }

    /// Failed logins so far.
    pub fn failed_logins(&self) -> u32 {
        self.failed_logins
    }

    /// Octets received and not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    /// Octets of input thrown away without being run: what the client pipelined
    /// after `STLS` (IMPL-13), and anything fed during the TLS handshake, the
    /// UPDATE or after the end.
    pub fn discarded_input(&self) -> u64 {
        self.discarded
    }

    /// Whether message `msg` is marked as deleted.
    pub fn is_deleted(&self, msg: MessageNumber) -> bool {
        self.deleted.get(msg.index()).copied().unwrap_or(false)
    }

    /// The messages marked as deleted, in order.
    pub fn deleted_messages(&self) -> Vec<MessageNumber> {
        self.deleted
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .filter_map(|(i, _)| MessageNumber::new(u32::try_from(i + 1).ok()?).ok())
            .collect()
    }

    /// The host's inactivity timer fired (at least 10 minutes, R1939-16): the
    /// session ends with [`ServerError::Timeout`], without a reply and without
    /// UPDATE (R1939-21). Close the connection after writing any output already
    /// produced. Does nothing once the session is over.
    pub fn timeout(&mut self) {
        self.end(ServerError::Timeout);
    }

    /// Ends the session at once with [`ServerError::Aborted`], without a reply
    /// and without UPDATE: for a host that cannot go on, for example a message
    /// that could not be read after its `+OK` went out (closing is then the only
    /// way to tell the client the body is incomplete). Does nothing once the
    /// session is over.
    pub fn abort(&mut self) {
        self.end(ServerError::Aborted);
    }

    fn end(&mut self, error: ServerError) {
        if self.phase != Phase::Closed {
            self.close(Some(error));
        }
    }
}

//! The server half of the codec: a pure state machine that turns a client's bytes
//! into events for the host, and answers by itself everything the protocol alone
//! decides (STAT, LIST, UIDL, DELE, RSET, NOOP, CAPA, wrong-state and malformed
//! commands). No IO, storage, clock or randomness inside.
//!
//! ```
//! use pop3_proto::server::{Server, ServerConfig, ServerEvent, MessageInfo};
//! use pop3_proto::types::{Text, UniqueId};
//!
//! let mut server = Server::new(ServerConfig::default(), Text::new("POP3 ready").unwrap(), None);
//! server.enqueue_input(b"USER alice\r\nPASS secret\r\nSTAT\r\n").unwrap();
//! let Some(ServerEvent::Login { name, password }) = server.next_event() else { panic!() };
//! assert_eq!(password.expose_secret(), b"secret");
//! let drop = vec![MessageInfo { size: 120, uid: UniqueId::new("a1").unwrap() }];
//! server.accept_login(drop, None).unwrap();
//! assert_eq!(server.next_event(), None); // STAT answered by the machine
//! let out: Vec<u8> = server.take_output().concat();
//! assert!(out.ends_with(b"+OK 1 120\r\n"));
//! ```
//!
//! The host's loop: feed what the socket reads to [`Server::enqueue_input`], call
//! [`Server::next_event`] until it returns `None`, answer the events that ask for
//! an answer, and write what [`Server::take_output`] gives (a list of slices, for
//! vectored writes). After writing, call [`Server::next_event`] again: the machine
//! stops reading pipelined commands while more than
//! [`ServerConfig::max_pending_output`] octets wait to be written.
//!
//! # States (SPEC.md §2)
//!
//! * AUTHORIZATION ([`Phase::Authorization`]): USER, PASS (only right after a
//!   successful USER, [`Server::pending_user`]), APOP, AUTH, STLS, CAPA, UTF8, LANG,
//!   QUIT. Everything else gets `-ERR` and the state does not change (IMPL-3).
//! * TRANSACTION ([`Phase::Transaction`]): the machine answers STAT, LIST, UIDL,
//!   DELE, RSET, NOOP and CAPA from the listing the host gave at login; RETR and
//!   TOP become [`ServerEvent::Retrieve`]; QUIT becomes [`ServerEvent::Update`].
//! * UPDATE ([`Phase::Update`]): only after QUIT in TRANSACTION. Nothing else ever
//!   asks the host to remove a message: QUIT in AUTHORIZATION,
//!   [`Server::connection_lost`], [`Server::timeout`] and [`Server::abort`] end
//!   the session without an UPDATE (R1939-21).

mod answers;
mod commands;
mod config;
mod error;
mod event;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;

use bytes::{BufMut, Bytes, BytesMut};

pub use config::ServerConfig;
pub use error::{AnswerError, InputFull};
pub use event::{AuthStep, CloseReason, MessageInfo, Refusal, ServerEvent};

use crate::apop::Timestamp;
use crate::dot::{StuffConfig, Stuffer};
use crate::encode::Encode;
use crate::framing::{FramingConfig, FramingError, LineFramer};
use crate::options::CommandOptions;
use crate::sasl;
use crate::secret::Secret;
use crate::types::{
    AuthResponse, Capability, Command, Expire, GroupListing, InitialResponse, LanguageRange,
    Mechanism, MessageNumber, ResponseCode, Status, StatusLine, Text, Username,
};

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

/// What the machine waits for from the host.
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

// One value per machine, never in a collection: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Awaiting {
    Nothing,
    User(Username),
    Login,
    Auth,
    Retrieve {
        msg: MessageNumber,
        top: Option<u32>,
        stuffer: Option<Stuffer>,
    },
    Update,
    Extension,
}

/// The output queue and its length in octets, as one [`Extend`] target for the
/// stuffer, so the length never has to be recounted.
struct Counted<'a> {
    queue: &'a mut VecDeque<Bytes>,
    len: &'a mut usize,
}

impl Extend<Bytes> for Counted<'_> {
    fn extend<I: IntoIterator<Item = Bytes>>(&mut self, iter: I) {
        for bytes in iter {
            *self.len = self.len.saturating_add(bytes.len());
            self.queue.push_back(bytes);
        }
    }
}

/// Writes `n` in decimal.
fn put_decimal(buf: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            // n % 10 < 10: the cast cannot truncate.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    buf.put_slice(digits.get(start..).unwrap_or_default());
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The server state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    framer: LineFramer,
    /// Small lines are gathered here, then moved to `output` as one slice.
    staging: BytesMut,
    output: VecDeque<Bytes>,
    /// Octets in `output`.
    output_queued: usize,
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
    user_expire: Option<Expire>,
    /// Octets of input thrown away unrun: pipelined after STLS, or fed during the
    /// handshake or after the end.
    discarded: u64,
    close_reported: bool,
    close_reason: CloseReason,
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
        let framing = FramingConfig {
            max_line: config.max_command_line,
            allow_bare_lf: config.allow_bare_lf,
        };
        let tls = config.implicit_tls;
        // "+OK" SP timestamp CRLF
        let timestamp = timestamp
            .filter(|_| config.apop)
            .filter(|ts| 3 + 1 + ts.as_bytes().len() + 2 <= StatusLine::MAX_LEN);
        let mut server = Server {
            config,
            input: BytesMut::new(),
            framer: LineFramer::new(framing),
            staging: BytesMut::new(),
            output: VecDeque::new(),
            output_queued: 0,
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
            close_reported: false,
            close_reason: CloseReason::Quit,
        };
        let ts_len = server
            .timestamp
            .as_ref()
            .map_or(0, |ts| 1 + ts.as_bytes().len());
        let room = StatusLine::MAX_LEN.saturating_sub(3 + 2 + ts_len + 1);
        let text = greeting.as_bytes();
        let text = text.get(..room.min(text.len())).unwrap_or_default();
        server.staging.put_slice(b"+OK");
        if !text.is_empty() {
            server.staging.put_u8(b' ');
            server.staging.put_slice(text);
        }
        if let Some(ts) = &server.timestamp {
            server.staging.put_u8(b' ');
            server.staging.put_slice(ts.as_bytes());
        }
        server.staging.put_slice(b"\r\n");
        server
    }

    /// A server that offers APOP, its greeting timestamp `<id.clock@host>` built
    /// from values the host supplies (R1939-28: a process id or connection
    /// counter, and the current time; the timestamp must differ for every
    /// greeting). Turns [`ServerConfig::apop`] on. Fails when `host` cannot be
    /// the domain of a msg-id.
    ///
    /// ```
    /// use pop3_proto::server::{Server, ServerConfig};
    /// use pop3_proto::types::Text;
    /// let mut server = Server::with_apop(
    ///     ServerConfig::default(), Text::new("POP3 server ready").unwrap(),
    ///     1896, 697170952, "dbc.mtview.ca.us",
    /// ).unwrap();
    /// assert_eq!(
    ///     server.take_output().concat(),
    ///     b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
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

    /// Whether TLS is active.
    pub fn is_tls(&self) -> bool {
        self.tls
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

    /// How many more octets [`Server::enqueue_input`] takes now: a host can read
    /// at most this much from the socket.
    pub fn input_room(&self) -> usize {
        self.input_limit().saturating_sub(self.input.len())
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

    // ----- input and output -----

    fn input_limit(&self) -> usize {
        // At least one whole line of either kind: a smaller buffer could hold a
        // partial command it may never complete (found by the server fuzz target).
        self.config
            .max_buffered_input
            .max(self.config.max_sasl_line)
            .max(self.config.max_command_line)
    }

    /// Takes bytes read from the client. Refuses them (and keeps none) when they
    /// do not fit in the buffer of waiting input ([`Server::input_room`]); the
    /// host should then stop reading until it has answered the pending event and
    /// [`Server::next_event`] has worked through the buffer.
    ///
    /// During the TLS handshake after STLS, during UPDATE and after the end,
    /// input is never run: it is counted in [`Server::discarded_input`] and
    /// dropped.
    pub fn enqueue_input(&mut self, data: &[u8]) -> Result<(), InputFull> {
        match self.phase {
            Phase::TlsHandshake | Phase::Closed | Phase::Update => {
                self.discarded = self.discarded.saturating_add(data.len() as u64);
                return Ok(());
            }
            Phase::Authorization | Phase::Transaction => {}
        }
        let limit = self.input_limit();
        if self.input.len().saturating_add(data.len()) > limit {
            return Err(InputFull {
                buffered: self.input.len(),
                limit,
            });
        }
        self.input.extend_from_slice(data);
        Ok(())
    }

    /// Takes everything to write, as slices for a vectored write: small lines
    /// gathered, message bodies as slices of the host's bytes.
    pub fn take_output(&mut self) -> Vec<Bytes> {
        self.flush_staging();
        self.output_queued = 0;
        self.output.drain(..).collect()
    }

    /// The next slice to write, if any.
    pub fn poll_output(&mut self) -> Option<Bytes> {
        self.flush_staging();
        let next = self.output.pop_front()?;
        self.output_queued = self.output_queued.saturating_sub(next.len());
        Some(next)
    }

    /// Octets waiting to be written.
    pub fn output_len(&self) -> usize {
        self.staging.len().saturating_add(self.output_queued)
    }

    fn flush_staging(&mut self) {
        if !self.staging.is_empty() {
            let bytes = self.staging.split().freeze();
            self.output_queued = self.output_queued.saturating_add(bytes.len());
            self.output.push_back(bytes);
        }
    }

    /// Tells the machine the TLS handshake after STLS finished: the session starts
    /// again in AUTHORIZATION, under TLS (R2595-6).
    pub fn tls_established(&mut self) {
        if self.phase == Phase::TlsHandshake {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.user = None;
            self.framer = LineFramer::new(self.framer.config());
        }
    }

    /// The host saw the connection drop (EOF or a reset): the session ends with
    /// [`CloseReason::ConnectionLost`]. Nothing is removed, whatever was marked
    /// (R1939-21): this never produces [`ServerEvent::Update`]. Anything waiting
    /// (a pending answer, pipelined commands) is dropped; later answers return
    /// [`AnswerError::NotExpected`]. Does nothing once the session is over.
    pub fn connection_lost(&mut self) {
        self.end(CloseReason::ConnectionLost);
    }

    /// The host's inactivity timer fired (at least 10 minutes, R1939-16): the
    /// session ends with [`CloseReason::Timeout`], without a reply and without
    /// UPDATE (R1939-21). Close the connection after writing any output already
    /// produced. Does nothing once the session is over.
    pub fn timeout(&mut self) {
        self.end(CloseReason::Timeout);
    }

    /// Ends the session at once, without a reply and without UPDATE: for a host
    /// that cannot go on, for example a message that could not be read after its
    /// `+OK` went out (closing is then the only way to tell the client the body
    /// is incomplete). Does nothing once the session is over.
    pub fn abort(&mut self) {
        self.end(CloseReason::Aborted);
    }

    fn end(&mut self, reason: CloseReason) {
        if self.phase != Phase::Closed {
            self.close(reason);
        }
    }

    // ----- replies -----

    fn line(&mut self, status: Status, code: Option<&ResponseCode>, text: &[u8]) {
        let start = self.staging.len();
        self.staging.put_slice(match status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = code {
            self.staging.put_u8(b' ');
            self.staging.put_slice(format!("{code}").as_bytes());
        }
        // R1939-9: a text from the configuration (the signoff, a language's name)
        // is cut so that the line fits in 512 octets (found by the server fuzz
        // target).
        let used = self.staging.len() - start;
        let room = StatusLine::MAX_LEN.saturating_sub(used + 1 + 2);
        let text = text.get(..room.min(text.len())).unwrap_or_default();
        if !text.is_empty() {
            self.staging.put_u8(b' ');
            self.staging.put_slice(text);
        }
        self.staging.put_slice(b"\r\n");
    }

    fn ok(&mut self, text: &[u8]) {
        self.line(Status::Ok, None, text);
    }

    fn err(&mut self, text: &[u8]) {
        self.line(Status::Err, None, text);
    }

    /// A status line the host supplied the text of, checked before anything is
    /// written (R1939-9: 512 octets at most).
    fn host_line(
        status: Status,
        code: Option<ResponseCode>,
        text: Text,
    ) -> Result<StatusLine, AnswerError> {
        Ok(StatusLine::new(status, code, text)?)
    }

    fn refusal_line(refusal: Refusal) -> Result<StatusLine, AnswerError> {
        Self::host_line(Status::Err, refusal.code, refusal.text)
    }

    /// `maildrop has N messages (S octets)`
    fn put_summary(&mut self) {
        let (count, size) = (self.live_count, self.live_size);
        self.staging.put_slice(b"+OK maildrop has ");
        put_decimal(&mut self.staging, count);
        self.staging.put_slice(b" message");
        self.staging.put_slice(plural(count).as_bytes());
        self.staging.put_slice(b" (");
        put_decimal(&mut self.staging, size);
        self.staging.put_slice(b" octets)\r\n");
    }

    /// The index of message `msg` if it exists and is not deleted; otherwise
    /// answers `-ERR` (E-10, E-12): `message n already deleted` for a deleted
    /// message, and for a number past the end `no such message`, with the
    /// maildrop's size when `count` (the RFC's LIST and UIDL examples).
    fn message_or_err(&mut self, msg: MessageNumber, count: bool) -> Option<usize> {
        let i = msg.index();
        match self.deleted.get(i) {
            Some(false) => Some(i),
            Some(true) => {
                self.staging.put_slice(b"-ERR message ");
                put_decimal(&mut self.staging, u64::from(msg.get()));
                self.staging.put_slice(b" already deleted\r\n");
                None
            }
            None if count => {
                let total = self.maildrop.len() as u64;
                self.staging.put_slice(b"-ERR no such message, only ");
                put_decimal(&mut self.staging, total);
                self.staging.put_slice(b" message");
                self.staging.put_slice(plural(total).as_bytes());
                self.staging.put_slice(b" in maildrop\r\n");
                None
            }
            None => {
                self.err(b"no such message");
                None
            }
        }
    }
}

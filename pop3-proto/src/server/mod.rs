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
    /// USER was accepted with this name: PASS may follow.
    user: Option<Username>,
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
    /// AUTHORIZATION sub-state "USER accepted" of SPEC.md §2.3).
    pub fn pending_user(&self) -> Option<&Username> {
        self.user.as_ref()
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

    // ----- events -----

    /// Processes buffered commands in order, answering what the machine can by
    /// itself, and returns the next event for the host, or `None` when it needs
    /// more input, is waiting for the host's answer, or holds more than
    /// [`ServerConfig::max_pending_output`] octets of output (write them, then call
    /// again).
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        loop {
            if self.phase == Phase::Closed {
                if self.close_reported {
                    return None;
                }
                self.close_reported = true;
                return Some(ServerEvent::Closed {
                    reason: self.close_reason,
                });
            }
            if !matches!(self.awaiting, Awaiting::Nothing)
                || matches!(self.phase, Phase::TlsHandshake | Phase::Update)
                || self.output_len() > self.config.max_pending_output
            {
                return None;
            }
            let limit = if self.in_sasl {
                self.config.max_sasl_line
            } else {
                self.config.max_command_line
            };
            let cfg = self.framer.config();
            if cfg.max_line != limit {
                self.framer.set_config(FramingConfig {
                    max_line: limit,
                    ..cfg
                });
            }
            let line = match self.framer.next_line(&mut self.input) {
                Ok(Some(line)) => line.bytes,
                Ok(None) => return None,
                Err(error) => {
                    if let Some(event) = self.framing_error(error) {
                        return Some(event);
                    }
                    continue;
                }
            };
            if self.in_sasl {
                if let Some(event) = self.sasl_line(&line) {
                    return Some(event);
                }
                continue;
            }
            let options = CommandOptions {
                collapse_spaces: self.config.lenient_spaces,
            };
            match Command::parse_with(&line, &options) {
                Ok(command) => {
                    if let Some(event) = self.command(command) {
                        return Some(event);
                    }
                }
                Err(error) => {
                    // The error's text names the rule broken, never the input's bytes.
                    let text = format!("{error}");
                    self.err(text.as_bytes());
                }
            }
        }
    }

    /// An over-long line or a bare LF: `-ERR`, and the machine goes on with the
    /// next line (E-14, E-5). Inside an AUTH exchange it ends the exchange, which
    /// the host learns from [`ServerEvent::AuthCancelled`].
    fn framing_error(&mut self, error: FramingError) -> Option<ServerEvent> {
        let text: &[u8] = match error {
            FramingError::LineTooLong { .. } => b"line too long",
            FramingError::BareLf { .. } => b"lines must end with CRLF",
        };
        self.err(text);
        if self.in_sasl {
            self.in_sasl = false;
            return Some(ServerEvent::AuthCancelled);
        }
        None
    }

    /// A line inside an AUTH exchange (R5034-6).
    fn sasl_line(&mut self, line: &[u8]) -> Option<ServerEvent> {
        self.in_sasl = false;
        match AuthResponse::parse(line) {
            Ok(AuthResponse::Cancel) => {
                // R5034-6: `*` cancels, and the server MUST answer -ERR.
                self.err(b"AUTH cancelled");
                Some(ServerEvent::AuthCancelled)
            }
            Ok(AuthResponse::Empty) => {
                self.awaiting = Awaiting::Auth;
                Some(ServerEvent::AuthResponse {
                    response: Secret::new(Vec::new()),
                })
            }
            Ok(AuthResponse::Base64(b64)) => match sasl::decode_base64(b64.expose_secret()) {
                Ok(response) => {
                    self.awaiting = Awaiting::Auth;
                    Some(ServerEvent::AuthResponse {
                        response: Secret::new(response),
                    })
                }
                Err(_) => self.bad_base64(),
            },
            Err(_) => self.bad_base64(),
        }
    }

    fn bad_base64(&mut self) -> Option<ServerEvent> {
        // R5034-10: a response that is not base64 fails the exchange.
        self.err(b"invalid base64");
        self.count_failure();
        Some(ServerEvent::AuthCancelled)
    }

    fn wrong_state(&mut self) {
        self.err(b"command not valid in this state");
    }

    fn command(&mut self, command: Command) -> Option<ServerEvent> {
        let authorization = self.phase == Phase::Authorization;
        let transaction = self.phase == Phase::Transaction;
        match command {
            Command::Capa => {
                self.capa();
                None
            }
            Command::Quit => self.quit(),
            Command::Noop if transaction => {
                self.ok(b"");
                None
            }
            Command::User(name) if authorization => self.user_command(name),
            Command::Pass(password) if authorization => {
                let Some(name) = self.user.take() else {
                    // E-18: PASS only right after a successful USER.
                    self.err(b"PASS must follow a successful USER");
                    return None;
                };
                if self.cleartext_refused() {
                    self.refuse_cleartext();
                    return None;
                }
                if !self.utf8_credentials(&[name.as_bytes(), password.expose_secret()]) {
                    return None;
                }
                self.awaiting = Awaiting::Login;
                Some(ServerEvent::Login { name, password })
            }
            Command::Apop { name, digest } if authorization => {
                if self.user.is_some() {
                    // IMPL-4: not right after a successful USER; the state stays.
                    self.err(b"APOP not valid after USER; send PASS");
                    return None;
                }
                let Some(timestamp) = self.timestamp.clone() else {
                    self.err(b"APOP not available");
                    return None;
                };
                if !self.utf8_credentials(&[name.as_bytes()]) {
                    return None;
                }
                self.awaiting = Awaiting::Login;
                Some(ServerEvent::Apop {
                    name,
                    digest,
                    timestamp,
                })
            }
            Command::Auth {
                mechanism,
                initial_response,
            } if authorization => self.auth(mechanism, initial_response),
            Command::Stls if authorization => self.stls(),
            Command::Utf8 if authorization => {
                if self.config.utf8.is_some() {
                    self.utf8 = true;
                    self.ok(b"UTF8 enabled");
                } else {
                    self.err(b"unknown command");
                }
                None
            }
            Command::Lang(range) if !self.config.languages.is_empty() => {
                self.lang(range);
                None
            }
            Command::Stat if transaction => {
                self.staging.put_slice(b"+OK ");
                put_decimal(&mut self.staging, self.live_count);
                self.staging.put_u8(b' ');
                put_decimal(&mut self.staging, self.live_size);
                self.staging.put_slice(b"\r\n");
                None
            }
            Command::List(arg) if transaction => {
                self.list(arg);
                None
            }
            Command::Uidl(arg) if transaction && self.config.uidl => {
                self.uidl(arg);
                None
            }
            Command::Dele(msg) if transaction => {
                self.dele(msg);
                None
            }
            Command::Rset if transaction => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                self.live_count = self.maildrop.len() as u64;
                self.live_size = self
                    .maildrop
                    .iter()
                    .fold(0u64, |s, m| s.saturating_add(m.size));
                self.put_summary();
                None
            }
            Command::Retr(msg) if transaction => self.retrieve(msg, None),
            Command::Top { msg, lines } if transaction && self.config.top => {
                self.retrieve(msg, Some(lines))
            }
            command @ (Command::Xtnd(_) | Command::Other(_)) if self.config.extensions => {
                if matches!(command, Command::Xtnd(_)) && !transaction {
                    // R1082-2: XTND only in TRANSACTION.
                    self.wrong_state();
                    return None;
                }
                self.awaiting = Awaiting::Extension;
                Some(ServerEvent::Extension { command })
            }
            Command::Other(_) | Command::Xtnd(_) | Command::Lang(_) => {
                self.err(b"unknown command");
                None
            }
            Command::Uidl(_) | Command::Top { .. } if transaction => {
                // Not offered in this configuration.
                self.err(b"unknown command");
                None
            }
            _ => {
                self.wrong_state();
                None
            }
        }
    }

    /// R6856-5: a server that lists `UTF8 USER` must refuse credentials that are
    /// not valid UTF-8. Answers and counts the failure when they are not.
    fn utf8_credentials(&mut self, parts: &[&[u8]]) -> bool {
        if self.config.utf8 != Some(true) || parts.iter().all(|p| core::str::from_utf8(p).is_ok()) {
            return true;
        }
        self.line(
            Status::Err,
            Some(&ResponseCode::auth()),
            b"credentials must be valid UTF-8",
        );
        self.count_failure();
        false
    }

    fn cleartext_refused(&self) -> bool {
        self.config.cleartext_requires_tls && !self.tls
    }

    /// R8314-5: the same answer for good and bad credentials.
    fn refuse_cleartext(&mut self) {
        self.line(
            Status::Err,
            Some(&ResponseCode::auth()),
            b"cleartext logins are not allowed before STLS",
        );
        self.count_failure();
    }

    fn user_command(&mut self, name: Username) -> Option<ServerEvent> {
        if !self.config.user_pass {
            self.err(b"USER not available");
            return None;
        }
        if self.user.is_some() {
            // IMPL-4: no second USER after a successful one; the state stays
            // (IMPL-3), so the PASS that follows still goes with the first name.
            self.err(b"USER already given; send PASS");
            return None;
        }
        if self.config.check_user && !self.cleartext_refused() {
            self.awaiting = Awaiting::User(name.clone());
            return Some(ServerEvent::User { name });
        }
        self.user = Some(name);
        self.ok(b"send PASS");
        None
    }

    fn auth(
        &mut self,
        mechanism: Mechanism,
        initial: Option<InitialResponse>,
    ) -> Option<ServerEvent> {
        // A refused AUTH leaves the state as it was (R5034-13, SPEC.md §2.3): a
        // successful USER before it still lets PASS follow.
        if !self.config.sasl.contains(&mechanism) {
            // R1734-3, TV-6.
            self.err(b"Unrecognized authentication type");
            return None;
        }
        if self.cleartext_refused() && self.config.cleartext_sasl.contains(&mechanism) {
            self.refuse_cleartext();
            return None;
        }
        let initial_response = match initial {
            None => None,
            Some(InitialResponse::Empty) => Some(Secret::new(Vec::new())),
            Some(InitialResponse::Base64(b64)) => match sasl::decode_base64(b64.expose_secret()) {
                Ok(data) => Some(Secret::new(data)),
                Err(_) => {
                    // R5034-10.
                    self.err(b"invalid base64 in initial response");
                    self.count_failure();
                    return None;
                }
            },
        };
        self.awaiting = Awaiting::Auth;
        Some(ServerEvent::AuthStart {
            mechanism,
            initial_response,
        })
    }

    fn stls(&mut self) -> Option<ServerEvent> {
        if self.tls {
            self.err(b"Command not permitted when TLS active");
            return None;
        }
        if !self.config.stls {
            self.err(b"STLS not available");
            return None;
        }
        if self.utf8 {
            // R6856-3: no STLS after UTF8, and no response code.
            self.err(b"STLS not permitted after UTF8");
            return None;
        }
        self.ok(b"Begin TLS negotiation");
        // IMPL-13, CVE-2011-0411: whatever was pipelined after STLS is discarded,
        // never run after the handshake.
        let discarded = self.input.len();
        self.discarded = self.discarded.saturating_add(discarded as u64);
        self.input.clear();
        self.framer = LineFramer::new(self.framer.config());
        self.user = None;
        self.phase = Phase::TlsHandshake;
        Some(ServerEvent::StartTls { discarded })
    }

    fn quit(&mut self) -> Option<ServerEvent> {
        match self.phase {
            Phase::Transaction => {
                // E-17: the only way to an UPDATE.
                self.phase = Phase::Update;
                self.awaiting = Awaiting::Update;
                self.discarded = self.discarded.saturating_add(self.input.len() as u64);
                self.input.clear();
                Some(ServerEvent::Update {
                    deleted: self.deleted_messages(),
                })
            }
            _ => {
                // R1939-21: QUIT in AUTHORIZATION removes nothing.
                let text = self.config.signoff.clone();
                self.ok(text.as_bytes());
                self.close(CloseReason::Quit);
                None
            }
        }
    }

    fn close(&mut self, reason: CloseReason) {
        self.phase = Phase::Closed;
        self.close_reason = reason;
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        self.user = None;
        self.discarded = self.discarded.saturating_add(self.input.len() as u64);
        self.input.clear();
    }

    /// Counts a failed login. The reply to it is already written; at the limit the
    /// session ends after it (one reply per command, nothing added).
    fn count_failure(&mut self) {
        self.failed_logins = self.failed_logins.saturating_add(1);
        let max = self.config.max_failed_logins;
        if max != 0 && self.failed_logins >= max {
            self.close(CloseReason::TooManyFailures);
        }
    }

    /// CAPA (R2449-7), right for the state and the TLS status. The order is the
    /// RFC 2449 §5 example's (TV-5), then the later extensions.
    fn capa(&mut self) {
        let mut caps: Vec<Capability> = Vec::new();
        let before_tls = !self.tls;
        let authorization = self.phase == Phase::Authorization;
        let cleartext_hidden = before_tls && self.config.cleartext_requires_tls;
        if self.config.top {
            caps.push(Capability::Top);
        }
        // R2595-8, R5034-16: no cleartext login offered before TLS when refused.
        if self.config.user_pass && !cleartext_hidden {
            caps.push(Capability::User);
        }
        let mechanisms: Vec<Mechanism> = self
            .config
            .sasl
            .iter()
            .filter(|m| !(cleartext_hidden && self.config.cleartext_sasl.contains(m)))
            .cloned()
            .collect();
        if !mechanisms.is_empty() {
            // R5034-2: listed in TRANSACTION too, though AUTH is no longer valid.
            caps.push(Capability::Sasl(mechanisms));
        }
        if self.config.resp_codes {
            caps.push(Capability::RespCodes);
        }
        if let Some((seconds, per_user)) = self.config.login_delay {
            // R2449-15: with USER, the largest value before login, and the user's
            // exact value after it.
            let seconds = match (authorization, self.user_login_delay) {
                (false, Some(exact)) => exact,
                _ => seconds,
            };
            caps.push(Capability::LoginDelay {
                seconds,
                per_user: per_user && authorization,
            });
        }
        if self.config.pipelining {
            caps.push(Capability::Pipelining);
        }
        if let Some((expire, per_user)) = self.config.expire {
            // R2449-16: likewise, with the smallest value before login.
            let expire = match (authorization, self.user_expire) {
                (false, Some(exact)) => exact,
                _ => expire,
            };
            caps.push(Capability::Expire {
                expire,
                per_user: per_user && authorization,
            });
        }
        if self.config.uidl {
            caps.push(Capability::Uidl);
        }
        if let Some(text) = &self.config.implementation {
            // R2449-4: a capability line is 512 octets at most, CRLF included.
            let room = StatusLine::MAX_LEN - "IMPLEMENTATION ".len() - 2;
            let cut = text.as_bytes().get(..room).map(Text::new);
            caps.push(Capability::Implementation(match cut {
                Some(Ok(cut)) => cut,
                _ => text.clone(),
            }));
        }
        if self.config.auth_resp_code {
            caps.push(Capability::AuthRespCode);
        }
        // R2595-2: STLS only where it is allowed: AUTHORIZATION, before TLS, and
        // not after UTF8 (R6856-3).
        if self.config.stls && before_tls && authorization && !self.utf8 {
            caps.push(Capability::Stls);
        }
        if let Some(user) = self.config.utf8 {
            caps.push(Capability::Utf8 { user });
        }
        if !self.config.languages.is_empty() {
            caps.push(Capability::Lang);
        }
        self.ok(b"Capability list follows");
        for cap in &caps {
            cap.encode(&mut self.staging);
        }
        self.staging.put_slice(b".\r\n");
    }

    fn lang(&mut self, range: Option<LanguageRange>) {
        let Some(range) = range else {
            self.ok(b"Language listing follows");
            for (tag, name) in &self.config.languages {
                self.staging.put_slice(tag.as_bytes());
                if !name.is_empty() {
                    self.staging.put_u8(b' ');
                    self.staging.put_slice(name.as_bytes());
                }
                self.staging.put_slice(b"\r\n");
            }
            self.staging.put_slice(b".\r\n");
            return;
        };
        let wanted = range.as_bytes();
        let found = if wanted == b"*" {
            (!self.config.languages.is_empty()).then_some(0)
        } else {
            self.config.languages.iter().position(|(tag, _)| {
                let tag = tag.as_bytes();
                tag.eq_ignore_ascii_case(wanted)
                    || (tag.len() > wanted.len()
                        && tag
                            .get(..wanted.len())
                            .is_some_and(|p| p.eq_ignore_ascii_case(wanted))
                        && tag.get(wanted.len()) == Some(&b'-'))
            })
        };
        match found.and_then(|i| self.config.languages.get(i).map(|l| (i, l.clone()))) {
            Some((i, (tag, name))) => {
                self.language = Some(i);
                let mut text = tag.as_bytes().to_vec();
                if !name.is_empty() {
                    text.push(b' ');
                    text.extend_from_slice(name.as_bytes());
                }
                self.ok(&text);
            }
            None => {
                let mut text = b"invalid language ".to_vec();
                text.extend_from_slice(wanted);
                self.err(&text);
            }
        }
    }

    /// `LIST [msg]` (R1939-32): deleted messages are left out, and refused.
    fn list(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => {
                if let Some(i) = self.message_or_err(msg, true) {
                    let size = self.maildrop.get(i).map_or(0, |m| m.size);
                    self.staging.put_slice(b"+OK ");
                    put_decimal(&mut self.staging, u64::from(msg.get()));
                    self.staging.put_u8(b' ');
                    put_decimal(&mut self.staging, size);
                    // R1082-4: a bulletin board's scan listings carry MAXIMA.
                    if let Some(maxima) = self.group_maxima.as_ref().and_then(|g| g.get(i)) {
                        self.staging.put_u8(b' ');
                        put_decimal(&mut self.staging, *maxima);
                    }
                    self.staging.put_slice(b"\r\n");
                }
            }
            None => {
                let (count, size) = (self.live_count, self.live_size);
                self.staging.put_slice(b"+OK ");
                put_decimal(&mut self.staging, count);
                self.staging.put_slice(b" message");
                self.staging.put_slice(plural(count).as_bytes());
                if count != 0 {
                    // TV-1: `2 messages (320 octets)`; TV-3: `0 messages`.
                    self.staging.put_slice(b" (");
                    put_decimal(&mut self.staging, size);
                    self.staging.put_slice(b" octets)");
                }
                self.staging.put_slice(b"\r\n");
                let Server {
                    maildrop,
                    deleted,
                    staging,
                    group_maxima,
                    ..
                } = self;
                for ((info, _), n) in maildrop
                    .iter()
                    .zip(deleted.iter())
                    .zip(1u64..)
                    .filter(|((_, d), _)| !**d)
                {
                    put_decimal(staging, n);
                    staging.put_u8(b' ');
                    put_decimal(staging, info.size);
                    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
                    if let Some(maxima) = group_maxima.as_ref().and_then(|g| g.get(index)) {
                        staging.put_u8(b' ');
                        put_decimal(staging, *maxima);
                    }
                    staging.put_slice(b"\r\n");
                }
                self.staging.put_slice(b".\r\n");
            }
        }
    }

    /// `UIDL [msg]` (R1939-39): deleted messages are left out, and refused.
    fn uidl(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => {
                if let Some(info) = self
                    .message_or_err(msg, true)
                    .and_then(|i| self.maildrop.get(i))
                {
                    self.staging.put_slice(b"+OK ");
                    put_decimal(&mut self.staging, u64::from(msg.get()));
                    self.staging.put_u8(b' ');
                    self.staging.put_slice(info.uid.as_bytes());
                    self.staging.put_slice(b"\r\n");
                }
            }
            None => {
                // The RFC's example is a bare `+OK` (TV-3).
                self.ok(b"");
                let Server {
                    maildrop,
                    deleted,
                    staging,
                    ..
                } = self;
                for ((info, _), n) in maildrop
                    .iter()
                    .zip(deleted.iter())
                    .zip(1u64..)
                    .filter(|((_, d), _)| !**d)
                {
                    put_decimal(staging, n);
                    staging.put_u8(b' ');
                    staging.put_slice(info.uid.as_bytes());
                    staging.put_slice(b"\r\n");
                }
                self.staging.put_slice(b".\r\n");
            }
        }
    }

    /// `DELE msg` (R1939-34): marks it; numbers are not reassigned.
    fn dele(&mut self, msg: MessageNumber) {
        let Some(i) = self.message_or_err(msg, false) else {
            return;
        };
        if self.group_maxima.is_some() {
            // R1082-4: a bulletin board is read-only; DELE does nothing.
            self.ok(b"bulletin board is read-only, nothing deleted");
            return;
        }
        let size = self.maildrop.get(i).map_or(0, |m| m.size);
        if let Some(d) = self.deleted.get_mut(i) {
            *d = true;
            self.live_count = self.live_count.saturating_sub(1);
            self.live_size = self.live_size.saturating_sub(size);
        }
        self.staging.put_slice(b"+OK message ");
        put_decimal(&mut self.staging, u64::from(msg.get()));
        self.staging.put_slice(b" deleted\r\n");
    }

    fn retrieve(&mut self, msg: MessageNumber, top: Option<u32>) -> Option<ServerEvent> {
        self.message_or_err(msg, false)?;
        self.awaiting = Awaiting::Retrieve {
            msg,
            top,
            stuffer: None,
        };
        Some(ServerEvent::Retrieve { msg, top })
    }

    // ----- the host's answers -----

    fn not_expected(&self, what: &'static str) -> Result<(), AnswerError> {
        Err(AnswerError::NotExpected(what))
    }

    /// Answers [`ServerEvent::User`]: `+OK` with `text` (or `send PASS`); PASS may
    /// follow.
    pub fn accept_user(&mut self, text: Option<Text>) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::User(_)) {
            return self.not_expected("accept_user");
        }
        let line = match text {
            Some(text) => Some(Self::host_line(Status::Ok, None, text)?),
            None => None,
        };
        let Awaiting::User(name) = core::mem::replace(&mut self.awaiting, Awaiting::Nothing) else {
            return self.not_expected("accept_user");
        };
        self.user = Some(name);
        match line {
            Some(line) => line.encode(&mut self.staging),
            None => self.ok(b"send PASS"),
        }
        Ok(())
    }

    /// Answers [`ServerEvent::User`]: `-ERR` (R1939-24). Beware that refusing
    /// USER tells a client which names exist (R1939-25); `[AUTH]` here is
    /// strongly not recommended (RFC 3206 §5).
    pub fn refuse_user(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::User(_)) {
            return self.not_expected("refuse_user");
        }
        let line = Self::refusal_line(refusal)?;
        self.awaiting = Awaiting::Nothing;
        line.encode(&mut self.staging);
        Ok(())
    }

    /// Accepts a login (PASS, APOP or AUTH): the maildrop is locked and these are
    /// its messages, in order (R1939-20). The reply is `+OK` with `text`, or
    /// `maildrop has N messages (S octets)`.
    pub fn accept_login(
        &mut self,
        maildrop: Vec<MessageInfo>,
        text: Option<Text>,
    ) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Login | Awaiting::Auth) {
            return self.not_expected("accept_login");
        }
        let line = match text {
            Some(text) => Some(Self::host_line(Status::Ok, None, text)?),
            None => None,
        };
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        self.user = None;
        self.deleted = alloc::vec![false; maildrop.len()];
        self.live_count = maildrop.len() as u64;
        self.live_size = maildrop.iter().fold(0u64, |s, m| s.saturating_add(m.size));
        self.maildrop = maildrop;
        self.phase = Phase::Transaction;
        match line {
            Some(line) => line.encode(&mut self.staging),
            None => self.put_summary(),
        }
        Ok(())
    }

    /// Refuses a login (PASS, APOP or AUTH) with a response code (E-19): `[AUTH]`
    /// for bad credentials, `[IN-USE]`, `[SYS/TEMP]`, `[SYS/PERM]`,
    /// `[LOGIN-DELAY]` (see [`Refusal`]). The failure is counted; at
    /// [`ServerConfig::max_failed_logins`] the session ends after this reply.
    pub fn refuse_login(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Login | Awaiting::Auth) {
            return self.not_expected("refuse_login");
        }
        let line = Self::refusal_line(refusal)?;
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        line.encode(&mut self.staging);
        self.count_failure();
        Ok(())
    }

    /// Sends an AUTH challenge (raw bytes; the machine base64-encodes them, and an
    /// empty challenge goes out as `+ `, R5034-5). The client's answer comes as
    /// [`ServerEvent::AuthResponse`], or [`ServerEvent::AuthCancelled`].
    pub fn auth_challenge(&mut self, challenge: &[u8]) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Auth) {
            return self.not_expected("auth_challenge");
        }
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = true;
        self.staging.put_slice(b"+ ");
        self.staging.put_slice(&sasl::encode_base64(challenge));
        self.staging.put_slice(b"\r\n");
        Ok(())
    }

    /// Runs one step of a SASL mechanism for [`ServerEvent::AuthStart`] (pass its
    /// initial response) or [`ServerEvent::AuthResponse`] (pass its response), and
    /// answers for it: a challenge ([`AuthStep::Challenged`]: keep the mechanism
    /// for the next response), or a refusal with the response code the failure
    /// calls for ([`AuthStep::Failed`]: `[AUTH]`, `[SYS/TEMP]`, ...; drop the
    /// mechanism). On success ([`AuthStep::Authenticated`]) nothing is sent: the
    /// host locks that identity's maildrop and calls [`Server::accept_login`] (or
    /// [`Server::refuse_login`] with `[IN-USE]`).
    ///
    /// The mechanism stays with the host, so the machine needs no `Send` bound or
    /// allocation for it, and the host can keep it beside its credential store.
    pub fn auth_step(
        &mut self,
        mechanism: &mut dyn sasl::ServerMechanism,
        response: Option<&[u8]>,
        store: &dyn sasl::CredentialStore,
    ) -> Result<AuthStep, AnswerError> {
        if !matches!(self.awaiting, Awaiting::Auth) {
            return Err(AnswerError::NotExpected("auth_step"));
        }
        match mechanism.step(response, store) {
            sasl::ServerStep::Challenge(challenge) => {
                self.auth_challenge(&challenge)?;
                Ok(AuthStep::Challenged)
            }
            sasl::ServerStep::Success(identity) => Ok(AuthStep::Authenticated(identity)),
            sasl::ServerStep::Failure(failure) => {
                let code = failure
                    .response_code()
                    .and_then(|c| ResponseCode::new(c.split('/')).ok());
                let text = Text::new(format!("{failure}")).unwrap_or_default();
                self.refuse_login(Refusal { code, text })?;
                Ok(AuthStep::Failed(failure))
            }
        }
    }

    /// Sets the exact per-user values CAPA gives in TRANSACTION, where the
    /// configuration advertises `LOGIN-DELAY n USER` or `EXPIRE n USER` before
    /// login (R2449-15, R2449-16: the largest delay and the smallest retention
    /// before, the user's own after). Call it with or after
    /// [`Server::accept_login`].
    pub fn set_user_values(&mut self, login_delay: Option<u32>, expire: Option<Expire>) {
        self.user_login_delay = login_delay;
        self.user_expire = expire;
    }

    fn stuff_config(&self, top: Option<u32>) -> StuffConfig {
        StuffConfig {
            lf_to_crlf: self.config.lf_to_crlf,
            top_lines: top.map(u64::from),
        }
    }

    /// Sends part of the message asked for by [`ServerEvent::Retrieve`]; call
    /// [`Server::finish_message`] after the last part. The machine stuffs it
    /// (R1939-12), turns LF into CRLF if configured, and cuts TOP (R1939-37). The
    /// output holds slices of `chunk`, not copies.
    pub fn send_message_chunk(&mut self, chunk: Bytes) -> Result<(), AnswerError> {
        let (msg, top, started) = match &self.awaiting {
            Awaiting::Retrieve {
                msg, top, stuffer, ..
            } => (*msg, *top, stuffer.is_some()),
            _ => return self.not_expected("send_message_chunk"),
        };
        if !started {
            match top {
                // The RFC's TOP example is a bare `+OK` (TV-3).
                Some(_) => self.ok(b""),
                None => {
                    // TV-1: `+OK 120 octets`.
                    let size = self.maildrop.get(msg.index()).map_or(0, |m| m.size);
                    self.staging.put_slice(b"+OK ");
                    put_decimal(&mut self.staging, size);
                    self.staging.put_slice(b" octets\r\n");
                }
            }
            self.flush_staging();
        }
        let config = self.stuff_config(top);
        let Server {
            awaiting,
            output,
            output_queued,
            ..
        } = self;
        let Awaiting::Retrieve { stuffer, .. } = awaiting else {
            return Err(AnswerError::NotExpected("send_message_chunk"));
        };
        let stuffer = stuffer.get_or_insert_with(|| Stuffer::new(config));
        stuffer.push(
            chunk,
            &mut Counted {
                queue: output,
                len: output_queued,
            },
        );
        Ok(())
    }

    /// Whether the message being sent needs more bytes: `false` once TOP has all
    /// its lines, so the host can stop reading the message.
    pub fn wants_message_data(&self) -> bool {
        match &self.awaiting {
            Awaiting::Retrieve {
                stuffer: Some(s), ..
            } => !s.is_complete(),
            Awaiting::Retrieve { stuffer: None, .. } => true,
            _ => false,
        }
    }

    /// Ends the message: adds a CRLF if its last line had none (IMPL-22), then
    /// the terminating `.` line.
    pub fn finish_message(&mut self) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Retrieve { .. }) {
            return self.not_expected("finish_message");
        }
        if matches!(self.awaiting, Awaiting::Retrieve { stuffer: None, .. }) {
            // An empty message: the status line goes out first.
            self.send_message_chunk(Bytes::new())?;
        }
        if let Awaiting::Retrieve {
            stuffer: Some(mut stuffer),
            ..
        } = core::mem::replace(&mut self.awaiting, Awaiting::Nothing)
        {
            stuffer.finish(&mut Counted {
                queue: &mut self.output,
                len: &mut self.output_queued,
            });
        }
        Ok(())
    }

    /// Sends a whole message for [`ServerEvent::Retrieve`].
    pub fn send_message(&mut self, message: Bytes) -> Result<(), AnswerError> {
        self.send_message_chunk(message)?;
        self.finish_message()
    }

    /// Refuses the command the host was asked about (a RETR or TOP whose message
    /// cannot be read, an extension command) with `-ERR`. Once part of a message
    /// went out, only [`Server::finish_message`] or [`Server::abort`] remain.
    pub fn refuse(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        match self.awaiting {
            Awaiting::Retrieve { stuffer: None, .. } | Awaiting::Extension => {}
            _ => return self.not_expected("refuse"),
        }
        let line = Self::refusal_line(refusal)?;
        self.awaiting = Awaiting::Nothing;
        line.encode(&mut self.staging);
        Ok(())
    }

    /// Answers [`ServerEvent::Extension`] with a status line and, for a `+OK`
    /// multi-line reply, a body (stuffed and terminated by the machine).
    pub fn reply(&mut self, line: StatusLine, body: Option<Bytes>) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Extension) {
            return self.not_expected("reply");
        }
        self.awaiting = Awaiting::Nothing;
        line.encode(&mut self.staging);
        if let (true, Some(body)) = (line.is_ok(), body) {
            self.flush_staging();
            let mut stuffer = Stuffer::new(self.stuff_config(None));
            let mut out = Counted {
                queue: &mut self.output,
                len: &mut self.output_queued,
            };
            stuffer.push(body, &mut out);
            stuffer.finish(&mut out);
        }
        Ok(())
    }

    /// Answers `XTND BBOARDS` without a name (R1082-4): `+OK XTND` and one
    /// listing per group the user may read.
    pub fn reply_groups(&mut self, groups: &[GroupListing]) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Extension) {
            return self.not_expected("reply_groups");
        }
        self.awaiting = Awaiting::Nothing;
        self.ok(b"XTND");
        for group in groups {
            group.encode(&mut self.staging);
        }
        self.staging.put_slice(b".\r\n");
        Ok(())
    }

    /// Answers `XTND BBOARDS name` or `XTND ARCHIVE name` (R1082-4, R1082-5):
    /// the user's own maildrop is closed and the group's opened in its place,
    /// read-only. The reply is `+OK XTND` and the group's listing; from then on
    /// LIST gives `msg size maxima` (with `maxima[i]` for message `i + 1`) and
    /// DELE does nothing.
    ///
    /// Returns the messages the user had marked as deleted in the maildrop being
    /// closed: R1082-4 applies those deletions only when it was the user's own
    /// maildrop, so the host removes them now (or, if a group was already open,
    /// gets an empty list).
    pub fn open_group(
        &mut self,
        group: &GroupListing,
        listing: Vec<MessageInfo>,
        maxima: Vec<u64>,
    ) -> Result<Vec<MessageNumber>, AnswerError> {
        if !matches!(self.awaiting, Awaiting::Extension) {
            return Err(AnswerError::NotExpected("open_group"));
        }
        self.awaiting = Awaiting::Nothing;
        let closed = if self.group_maxima.is_some() {
            Vec::new()
        } else {
            self.deleted_messages()
        };
        self.live_count = listing.len() as u64;
        self.live_size = listing.iter().map(|m| m.size).fold(0, u64::saturating_add);
        self.deleted = alloc::vec![false; listing.len()];
        self.maildrop = listing;
        self.group_maxima = Some(maxima);
        self.ok(b"XTND");
        group.encode(&mut self.staging);
        self.staging.put_slice(b".\r\n");
        Ok(closed)
    }

    /// Answers [`ServerEvent::Update`]: `Ok` when every marked message was
    /// removed (`+OK signoff (N messages left)`), `Err` otherwise: the reply is
    /// then `-ERR` with the refusal's code, `[SYS/TEMP]` when it has none
    /// (R1939-23). Either way the session ends.
    pub fn update_done(&mut self, result: Result<(), Refusal>) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Update) {
            return self.not_expected("update_done");
        }
        match result {
            Ok(()) => {
                let count = self.live_count;
                let mut text = self.config.signoff.as_bytes().to_vec();
                if count == 0 {
                    text.extend_from_slice(b" (maildrop empty)");
                } else {
                    text.extend_from_slice(
                        format!(" ({count} message{} left)", plural(count)).as_bytes(),
                    );
                }
                self.ok(&text);
            }
            Err(refusal) => {
                let code = refusal.code.unwrap_or_else(ResponseCode::sys_temp);
                let line = Self::host_line(Status::Err, Some(code), refusal.text)?;
                line.encode(&mut self.staging);
            }
        }
        self.close(CloseReason::Quit);
        Ok(())
    }
}

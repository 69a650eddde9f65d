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
//! vectored writes).

mod config;
mod error;
mod event;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;

use bytes::{BufMut, Bytes, BytesMut};

pub use config::ServerConfig;
pub use error::{AnswerError, InputFull};
pub use event::{CloseReason, MessageInfo, Refusal, ServerEvent};

use crate::apop::Timestamp;
use crate::dot::{StuffConfig, Stuffer};
use crate::encode::Encode;
use crate::framing::{FramingConfig, FramingError, LineFramer};
use crate::options::CommandOptions;
use crate::sasl;
use crate::secret::Secret;
use crate::types::{
    AuthResponse, Capability, Command, InitialResponse, LanguageRange, Mechanism, MessageNumber,
    ResponseCode, Status, StatusLine, Text, Username,
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

/// The server state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: BytesMut,
    framer: LineFramer,
    /// Small lines are gathered here, then moved to `output` as one slice.
    staging: BytesMut,
    output: VecDeque<Bytes>,
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
    close_reported: bool,
    close_reason: CloseReason,
}

impl Server {
    /// A server for a new connection. The greeting (`+OK text`, then the APOP
    /// timestamp if one is given, R1939-28) is written to the output at once. The
    /// host makes the timestamp fresh for every connection
    /// ([`Timestamp::new`]), since the machine has no clock.
    pub fn new(config: ServerConfig, greeting: Text, timestamp: Option<Timestamp>) -> Self {
        let framing = FramingConfig {
            max_line: config.max_command_line,
            allow_bare_lf: config.allow_bare_lf,
        };
        let tls = config.implicit_tls;
        let timestamp = if config.apop { timestamp } else { None };
        let mut server = Server {
            config,
            input: BytesMut::new(),
            framer: LineFramer::new(framing),
            staging: BytesMut::new(),
            output: VecDeque::new(),
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
            close_reported: false,
            close_reason: CloseReason::Quit,
        };
        server.staging.put_slice(b"+OK");
        if !greeting.is_empty() {
            server.staging.put_u8(b' ');
            server.staging.put_slice(greeting.as_bytes());
        }
        if let Some(ts) = &server.timestamp {
            server.staging.put_u8(b' ');
            server.staging.put_slice(ts.as_bytes());
        }
        server.staging.put_slice(b"\r\n");
        server
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Where the session is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether TLS is active.
    pub fn is_tls(&self) -> bool {
        self.tls
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

    /// Whether message `msg` is marked as deleted.
    pub fn is_deleted(&self, msg: MessageNumber) -> bool {
        self.deleted.get(msg.index()).copied().unwrap_or(false)
    }

    // ----- input and output -----

    /// Takes bytes read from the client. Refuses them (and keeps none) when the
    /// buffer of waiting input is full; the host should then stop reading until
    /// it has answered the pending event.
    pub fn enqueue_input(&mut self, data: &[u8]) -> Result<(), InputFull> {
        match self.phase {
            // Plaintext during the handshake, or anything after the end, is never
            // run; the host should not feed it.
            Phase::TlsHandshake | Phase::Closed | Phase::Update => return Ok(()),
            Phase::Authorization | Phase::Transaction => {}
        }
        let limit = self
            .config
            .max_buffered_input
            .max(self.config.max_sasl_line);
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

    /// Tells the machine the TLS handshake after STLS finished: the session starts
    /// again in AUTHORIZATION, under TLS (R2595-6).
    pub fn tls_established(&mut self) {
        if self.phase == Phase::TlsHandshake {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.user = None;
            self.framer.reset();
        }
    }

    // ----- replies -----

    fn line(&mut self, status: Status, code: Option<&ResponseCode>, text: &[u8]) {
        self.staging.put_slice(match status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = code {
            self.staging.put_u8(b' ');
            self.staging.put_slice(format!("{code}").as_bytes());
        }
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

    fn live(&self) -> impl Iterator<Item = (MessageNumber, &MessageInfo)> + '_ {
        self.maildrop
            .iter()
            .zip(self.deleted.iter())
            .enumerate()
            .filter(|(_, (_, deleted))| !**deleted)
            .filter_map(|(i, (info, _))| {
                let n = u32::try_from(i + 1).ok()?;
                Some((MessageNumber::new(n).ok()?, info))
            })
    }

    fn drop_summary(&self) -> (u32, u64) {
        self.live().fold((0u32, 0u64), |(n, s), (_, info)| {
            (n.saturating_add(1), s.saturating_add(info.size))
        })
    }

    fn summary_text(&self) -> Vec<u8> {
        let (count, size) = self.drop_summary();
        let plural = if count == 1 { "" } else { "s" };
        format!("maildrop has {count} message{plural} ({size} octets)").into_bytes()
    }

    /// The message `msg`, if it exists and is not deleted.
    fn message(&self, msg: MessageNumber) -> Option<&MessageInfo> {
        let i = msg.index();
        match self.deleted.get(i) {
            Some(false) => self.maildrop.get(i),
            _ => None,
        }
    }

    fn no_such_message_in_maildrop(&mut self) {
        let total = self.maildrop.len();
        let plural = if total == 1 { "" } else { "s" };
        let text = format!("no such message, only {total} message{plural} in maildrop");
        self.err(text.as_bytes());
    }

    // ----- events -----

    /// Processes buffered commands in order, answering what the machine can by
    /// itself, and returns the next event for the host, or `None` when it needs
    /// more input or is waiting for the host's answer.
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
                    self.framing_error(error);
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
                    let text = format!("{error}");
                    self.err(text.as_bytes());
                }
            }
        }
    }

    fn framing_error(&mut self, error: FramingError) {
        let text: &[u8] = match error {
            FramingError::LineTooLong { .. } => b"line too long",
            FramingError::BareLf { .. } => b"lines must end with CRLF",
        };
        if self.in_sasl {
            self.in_sasl = false;
            self.awaiting = Awaiting::Nothing;
        }
        self.err(text);
    }

    /// A line inside an AUTH exchange (R5034-6).
    fn sasl_line(&mut self, line: &[u8]) -> Option<ServerEvent> {
        self.in_sasl = false;
        match AuthResponse::parse(line) {
            Ok(AuthResponse::Cancel) => {
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
                    self.err(b"PASS must follow a successful USER");
                    return None;
                };
                if self.cleartext_refused() {
                    self.refuse_cleartext();
                    return None;
                }
                self.awaiting = Awaiting::Login;
                Some(ServerEvent::Login { name, password })
            }
            Command::Apop { name, digest } if authorization => {
                self.user = None;
                let Some(timestamp) = self.timestamp.clone() else {
                    self.err(b"APOP not available");
                    return None;
                };
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
                let (count, size) = self.drop_summary();
                self.ok(format!("{count} {size}").as_bytes());
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
                let text = self.summary_text();
                self.ok(&text);
                None
            }
            Command::Retr(msg) if transaction => self.retrieve(msg, None),
            Command::Top { msg, lines } if transaction && self.config.top => {
                self.retrieve(msg, Some(lines))
            }
            command @ (Command::Xtnd(_) | Command::Other(_)) if self.config.extensions => {
                if matches!(command, Command::Xtnd(_)) && !transaction {
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
                self.err(b"unknown command");
                None
            }
            _ => {
                self.wrong_state();
                None
            }
        }
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
            // IMPL-4: no second USER after a successful one.
            self.user = None;
            self.err(b"USER already given");
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
        self.user = None;
        if !self.config.sasl.contains(&mechanism) {
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
            // R6856-3: no STLS after UTF8.
            self.err(b"STLS not permitted after UTF8");
            return None;
        }
        self.ok(b"Begin TLS negotiation");
        // IMPL-13: whatever was pipelined after STLS is discarded, never run.
        let discarded = self.input.len();
        self.input.clear();
        self.framer.reset();
        self.user = None;
        self.phase = Phase::TlsHandshake;
        Some(ServerEvent::StartTls { discarded })
    }

    fn quit(&mut self) -> Option<ServerEvent> {
        match self.phase {
            Phase::Transaction => {
                self.phase = Phase::Update;
                self.awaiting = Awaiting::Update;
                let deleted = self
                    .deleted
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| **d)
                    .filter_map(|(i, _)| MessageNumber::new(u32::try_from(i + 1).ok()?).ok())
                    .collect();
                Some(ServerEvent::Update { deleted })
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
        self.input.clear();
    }

    fn count_failure(&mut self) {
        self.failed_logins = self.failed_logins.saturating_add(1);
        if self.failed_logins >= self.config.max_failed_logins {
            self.err(b"too many failures, goodbye");
            self.close(CloseReason::TooManyFailures);
        }
    }

    fn capa(&mut self) {
        let mut caps: Vec<Capability> = Vec::new();
        let before_tls = !self.tls;
        let authorization = self.phase == Phase::Authorization;
        if self.config.top {
            caps.push(Capability::Top);
        }
        if self.config.uidl {
            caps.push(Capability::Uidl);
        }
        if self.config.user_pass && !(before_tls && self.config.cleartext_requires_tls) {
            caps.push(Capability::User);
        }
        let mechanisms: Vec<Mechanism> = self
            .config
            .sasl
            .iter()
            .filter(|m| {
                !(before_tls
                    && self.config.cleartext_requires_tls
                    && self.config.cleartext_sasl.contains(m))
            })
            .cloned()
            .collect();
        if !mechanisms.is_empty() {
            caps.push(Capability::Sasl(mechanisms));
        }
        if self.config.resp_codes {
            caps.push(Capability::RespCodes);
        }
        if self.config.auth_resp_code {
            caps.push(Capability::AuthRespCode);
        }
        if self.config.pipelining {
            caps.push(Capability::Pipelining);
        }
        if let Some((seconds, per_user)) = self.config.login_delay {
            caps.push(Capability::LoginDelay {
                seconds,
                per_user: per_user && authorization,
            });
        }
        if let Some((expire, per_user)) = self.config.expire {
            caps.push(Capability::Expire {
                expire,
                per_user: per_user && authorization,
            });
        }
        if let Some(text) = &self.config.implementation {
            caps.push(Capability::Implementation(text.clone()));
        }
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
            let mut body = BytesMut::new();
            for (tag, name) in &self.config.languages {
                body.put_slice(tag.as_bytes());
                if !name.is_empty() {
                    body.put_u8(b' ');
                    body.put_slice(name.as_bytes());
                }
                body.put_slice(b"\r\n");
            }
            self.staging.put_slice(&body);
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

    fn list(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => match self.message(msg).map(|m| m.size) {
                Some(size) => self.ok(format!("{msg} {size}").as_bytes()),
                None => self.no_such_message_in_maildrop(),
            },
            None => {
                let (count, size) = self.drop_summary();
                let text = if count == 0 {
                    format!("{count} messages")
                } else {
                    let plural = if count == 1 { "" } else { "s" };
                    format!("{count} message{plural} ({size} octets)")
                };
                self.ok(text.as_bytes());
                let mut body = Vec::new();
                for (msg, info) in self.live() {
                    body.extend_from_slice(format!("{msg} {}\r\n", info.size).as_bytes());
                }
                self.staging.put_slice(&body);
                self.staging.put_slice(b".\r\n");
            }
        }
    }

    fn uidl(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => match self.message(msg).map(|m| m.uid.clone()) {
                Some(uid) => {
                    let mut text = format!("{msg} ").into_bytes();
                    text.extend_from_slice(uid.as_bytes());
                    self.ok(&text);
                }
                None => self.no_such_message_in_maildrop(),
            },
            None => {
                self.ok(b"");
                let mut body = Vec::new();
                for (msg, info) in self.live() {
                    body.extend_from_slice(format!("{msg} ").as_bytes());
                    body.extend_from_slice(info.uid.as_bytes());
                    body.extend_from_slice(b"\r\n");
                }
                self.staging.put_slice(&body);
                self.staging.put_slice(b".\r\n");
            }
        }
    }

    fn dele(&mut self, msg: MessageNumber) {
        match self.deleted.get_mut(msg.index()) {
            Some(d) if !*d => {
                *d = true;
                self.ok(format!("message {msg} deleted").as_bytes());
            }
            Some(_) => self.err(format!("message {msg} already deleted").as_bytes()),
            None => self.err(b"no such message"),
        }
    }

    fn retrieve(&mut self, msg: MessageNumber, top: Option<u32>) -> Option<ServerEvent> {
        if self.message(msg).is_none() {
            self.err(b"no such message");
            return None;
        }
        self.awaiting = Awaiting::Retrieve {
            msg,
            top,
            stuffer: None,
        };
        Some(ServerEvent::Retrieve { msg, top })
    }

    // ----- the host's answers -----

    /// Answers [`ServerEvent::User`]: `+OK`, PASS may follow.
    pub fn accept_user(&mut self, text: Option<Text>) -> Result<(), AnswerError> {
        let Awaiting::User(name) = core::mem::replace(&mut self.awaiting, Awaiting::Nothing) else {
            return self.not_expected("accept_user");
        };
        self.user = Some(name);
        let text = text.unwrap_or_else(|| Text::new("send PASS").unwrap_or_default());
        self.ok(text.as_bytes());
        Ok(())
    }

    /// Answers [`ServerEvent::User`]: `-ERR`.
    pub fn refuse_user(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::User(_)) {
            return self.not_expected("refuse_user");
        }
        self.awaiting = Awaiting::Nothing;
        self.line(Status::Err, refusal.code.as_ref(), refusal.text.as_bytes());
        Ok(())
    }

    fn not_expected(&self, what: &'static str) -> Result<(), AnswerError> {
        Err(AnswerError::NotExpected(what))
    }

    /// Accepts a login (PASS, APOP or AUTH): the maildrop is locked and these are
    /// its messages, in order. The reply is `+OK` with `text`, or
    /// `maildrop has N messages (S octets)`.
    pub fn accept_login(
        &mut self,
        maildrop: Vec<MessageInfo>,
        text: Option<Text>,
    ) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Login | Awaiting::Auth) {
            return self.not_expected("accept_login");
        }
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        self.deleted = alloc::vec![false; maildrop.len()];
        self.maildrop = maildrop;
        self.phase = Phase::Transaction;
        let text = match text {
            Some(t) => t.as_bytes().to_vec(),
            None => self.summary_text(),
        };
        self.ok(&text);
        Ok(())
    }

    /// Refuses a login (PASS, APOP or AUTH) with a response code. The failure is
    /// counted; past the configured number the session ends.
    pub fn refuse_login(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Login | Awaiting::Auth) {
            return self.not_expected("refuse_login");
        }
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        self.line(Status::Err, refusal.code.as_ref(), refusal.text.as_bytes());
        self.count_failure();
        Ok(())
    }

    /// Sends an AUTH challenge (raw bytes; the machine base64-encodes them, and an
    /// empty challenge goes out as `+ `, R5034-5). The client's answer comes as
    /// [`ServerEvent::AuthResponse`].
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

    /// Runs one step of a SASL mechanism for [`ServerEvent::AuthStart`] (with its
    /// initial response) or [`ServerEvent::AuthResponse`], and answers for it: a
    /// challenge, or a refusal with the response code the failure calls for
    /// (`[AUTH]`, `[SYS/TEMP]`, ...). On success it returns who logged in and
    /// answers nothing: the host locks that maildrop and calls
    /// [`Server::accept_login`] (or [`Server::refuse_login`] with `[IN-USE]`).
    pub fn auth_step(
        &mut self,
        mechanism: &mut dyn sasl::ServerMechanism,
        response: Option<&[u8]>,
        store: &dyn sasl::CredentialStore,
    ) -> Result<Option<sasl::Identity>, AnswerError> {
        if !matches!(self.awaiting, Awaiting::Auth) {
            return Err(AnswerError::NotExpected("auth_step"));
        }
        match mechanism.step(response, store) {
            sasl::ServerStep::Challenge(challenge) => {
                self.auth_challenge(&challenge)?;
                Ok(None)
            }
            sasl::ServerStep::Success(identity) => Ok(Some(identity)),
            sasl::ServerStep::Failure(failure) => {
                let code = failure
                    .response_code()
                    .and_then(|c| ResponseCode::new(c.split('/')).ok());
                let text = Text::new(format!("{failure}")).unwrap_or_default();
                self.refuse_login(Refusal { code, text })?;
                Ok(None)
            }
        }
    }

    fn stuff_config(&self, top: Option<u32>) -> StuffConfig {
        StuffConfig {
            lf_to_crlf: self.config.lf_to_crlf,
            top_lines: top.map(u64::from),
        }
    }

    /// Sends part of the message asked for by [`ServerEvent::Retrieve`]; call
    /// [`Server::finish_message`] after the last part. The machine stuffs it,
    /// turns LF into CRLF if configured, and cuts TOP. The output holds slices of
    /// `chunk`, not copies.
    pub fn send_message_chunk(&mut self, chunk: Bytes) -> Result<(), AnswerError> {
        let (msg, top) = match &self.awaiting {
            Awaiting::Retrieve { msg, top, .. } => (*msg, *top),
            _ => return self.not_expected("send_message_chunk"),
        };
        let config = self.stuff_config(top);
        let started = matches!(
            &self.awaiting,
            Awaiting::Retrieve {
                stuffer: Some(_),
                ..
            }
        );
        if !started {
            match top {
                Some(_) => self.ok(b""),
                None => {
                    let size = self.message(msg).map(|m| m.size).unwrap_or(0);
                    self.ok(format!("{size} octets").as_bytes());
                }
            }
            self.flush_staging();
        }
        let Awaiting::Retrieve { stuffer, .. } = &mut self.awaiting else {
            return self.not_expected("send_message_chunk");
        };
        let stuffer = stuffer.get_or_insert_with(|| Stuffer::new(config));
        stuffer.push(chunk, &mut self.output);
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
            stuffer.finish(&mut self.output);
        }
        Ok(())
    }

    /// Sends a whole message for [`ServerEvent::Retrieve`].
    pub fn send_message(&mut self, message: Bytes) -> Result<(), AnswerError> {
        self.send_message_chunk(message)?;
        self.finish_message()
    }

    /// Refuses the command the host was asked about (RETR/TOP that cannot be
    /// read, an extension command) with `-ERR`.
    pub fn refuse(&mut self, refusal: Refusal) -> Result<(), AnswerError> {
        match self.awaiting {
            Awaiting::Retrieve { stuffer: None, .. } | Awaiting::Extension => {}
            _ => return self.not_expected("refuse"),
        }
        self.awaiting = Awaiting::Nothing;
        self.line(Status::Err, refusal.code.as_ref(), refusal.text.as_bytes());
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
            stuffer.push(body, &mut self.output);
            stuffer.finish(&mut self.output);
        }
        Ok(())
    }

    /// Answers [`ServerEvent::Update`]: `Ok` when every marked message was
    /// removed, `Err` otherwise (the reply is then `-ERR [SYS/TEMP]`). The session
    /// ends.
    pub fn update_done(&mut self, result: Result<(), Refusal>) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Update) {
            return self.not_expected("update_done");
        }
        match result {
            Ok(()) => {
                let (count, _) = self.drop_summary();
                let mut text = self.config.signoff.as_bytes().to_vec();
                if count == 0 {
                    text.extend_from_slice(b" (maildrop empty)");
                } else {
                    let plural = if count == 1 { "" } else { "s" };
                    text.extend_from_slice(format!(" ({count} message{plural} left)").as_bytes());
                }
                self.ok(&text);
            }
            Err(refusal) => {
                let code = refusal.code.unwrap_or_else(ResponseCode::sys_temp);
                self.line(Status::Err, Some(&code), refusal.text.as_bytes());
            }
        }
        self.close(CloseReason::Quit);
        Ok(())
    }
}

//! Deciding: which command a line is, whether the state allows it, and whether
//! the machine answers it (CAPA, STAT, LIST, UIDL, DELE, RSET, NOOP, LANG,
//! wrong-state and malformed commands) or the host does (an event). The reply
//! bytes are written by `replies`.

use alloc::vec::Vec;

use super::*;
use crate::framing::FramingError;
use crate::options::CommandOptions;
use crate::sasl;
use crate::secret::Secret;
use crate::types::{AuthResponse, Command, InitialResponse, Mechanism};

impl Server {
    /// Runs buffered lines until one needs the host (an event), no complete line
    /// is left, the host owes an answer, or too much output waits.
    pub(super) fn run(&mut self) -> Option<ServerEvent> {
        let options = CommandOptions {
            collapse_spaces: self.config.lenient_spaces,
        };
        loop {
            if self.staging.len() >= Self::STAGING_PIECE {
                self.flush_staging();
            }
            if self.phase != Phase::Authorization && self.phase != Phase::Transaction
                || !matches!(self.awaiting, Awaiting::Nothing)
                || self.output_len() > self.config.max_pending_output
            {
                return None;
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
            match Command::parse_with(&line, &options) {
                Ok(command) => {
                    if let Some(event) = self.command(command) {
                        return Some(event);
                    }
                }
                Err(error) => {
                    if !self.impossible_user(&line) {
                        // The error's text names the rule broken, never the
                        // input's bytes.
                        self.err_display(&error);
                    }
                }
            }
        }
    }

    /// Switches the framer between command lines and SASL lines (R5034-11).
    pub(super) fn set_sasl(&mut self, on: bool) {
        self.in_sasl = on;
        self.framer.set_config(if on {
            self.sasl_framing
        } else {
            self.command_framing
        });
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
            self.set_sasl(false);
            return Some(ServerEvent::AuthCancelled);
        }
        None
    }

    /// A line inside an AUTH exchange (R5034-6).
    fn sasl_line(&mut self, line: &[u8]) -> Option<ServerEvent> {
        self.set_sasl(false);
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
                let Some(pending) = self.user.take() else {
                    // E-18: PASS only right after a successful USER.
                    self.err(b"PASS must follow a successful USER");
                    return None;
                };
                if self.cleartext_refused() {
                    self.refuse_cleartext();
                    return None;
                }
                let PendingUser::Named(name) = pending else {
                    // No mailbox has that name: a failed login, as a wrong
                    // password is, and the host never sees it.
                    self.auth_err(b"invalid user name or password");
                    self.count_failure();
                    return None;
                };
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
                self.stat();
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
                if self.live_count != self.maildrop.len() as u64 {
                    self.deleted.iter_mut().for_each(|d| *d = false);
                    self.live_count = self.maildrop.len() as u64;
                    self.live_size = total_size(&self.maildrop);
                }
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
        self.auth_err(b"credentials must be valid UTF-8");
        self.count_failure();
        false
    }

    fn cleartext_refused(&self) -> bool {
        self.config.cleartext_requires_tls && !self.tls
    }

    /// R8314-5: the same answer for good and bad credentials.
    fn refuse_cleartext(&mut self) {
        self.auth_err(b"cleartext logins are not allowed before STLS");
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
        self.user = Some(PendingUser::Named(name));
        self.ok(b"send PASS");
        None
    }

    /// USER with an argument that is no valid name (a NUL or another control
    /// octet, a second word, too long): answered `+OK` like any other name, so that
    /// a client learns nothing of which names exist (R1939-25) and behaves as with
    /// the servers in the field, and the PASS after it fails. With
    /// [`ServerConfig::check_user`](super::ServerConfig::check_user) the host
    /// reveals names anyway, and the parse error is the answer. `true` when the
    /// line was answered here.
    fn impossible_user(&mut self, line: &[u8]) -> bool {
        // Called for a line that did not parse: USER, a space, and a name.
        let keyword = line.get(..5).unwrap_or_default();
        let name = line.get(5..).unwrap_or_default();
        let user_value = keyword.eq_ignore_ascii_case(b"USER ") && name.iter().any(|&b| b != b' ');
        if !user_value
            || self.phase != Phase::Authorization
            || !self.config.user_pass
            || self.config.check_user
            || self.user.is_some()
        {
            return false;
        }
        self.user = Some(PendingUser::Impossible);
        self.ok(b"send PASS");
        true
    }

    fn auth(
        &mut self,
        mechanism: Mechanism,
        initial: Option<InitialResponse>,
    ) -> Option<ServerEvent> {
        // A refused AUTH leaves the state as it was (R5034-13, RFC 5034 §4): a
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
        self.framer = LineFramer::new(self.command_framing);
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
                self.put_signoff();
                self.close(None);
                None
            }
        }
    }

    /// Counts a failed login. The reply to it is already written; at the limit the
    /// session ends after it (one reply per command, nothing added).
    pub(super) fn count_failure(&mut self) {
        self.failed_logins = self.failed_logins.saturating_add(1);
        let max = self.config.max_failed_logins;
        if max != 0 && self.failed_logins >= max {
            self.close(Some(ServerError::TooManyFailures));
        }
    }

    /// `DELE msg` (R1939-34): marks it; numbers are not reassigned.
    fn dele(&mut self, msg: MessageNumber) {
        let Some(i) = self.message_or_err(msg, false) else {
            return;
        };
        // R1082-4: a bulletin board is read-only; DELE does nothing.
        let read_only = self.group_maxima.is_some();
        if !read_only {
            let size = self.maildrop.get(i).map_or(0, |m| m.size);
            if let Some(d) = self.deleted.get_mut(i) {
                *d = true;
                self.live_count = self.live_count.saturating_sub(1);
                self.live_size = self.live_size.saturating_sub(size);
            }
        }
        self.put_dele(msg, read_only);
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
}

/// The total size of a listing.
pub(super) fn total_size(maildrop: &[MessageInfo]) -> u64 {
    maildrop.iter().fold(0u64, |s, m| s.saturating_add(m.size))
}

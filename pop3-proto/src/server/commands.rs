//! Reading commands: the machine answers what the protocol alone decides (CAPA,
//! STAT, LIST, UIDL, DELE, RSET, NOOP, LANG, wrong-state and malformed commands)
//! and turns the rest into events for the host.

use super::*;

impl Server {
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
                    if self.impossible_user(&line) {
                        continue;
                    }
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
                    self.line(
                        Status::Err,
                        Some(&ResponseCode::auth()),
                        b"invalid user name or password",
                    );
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

    pub(super) fn close(&mut self, reason: CloseReason) {
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
    pub(super) fn count_failure(&mut self) {
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
}

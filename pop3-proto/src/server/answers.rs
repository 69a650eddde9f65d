//! The host's answers to the events: logins, SASL steps, message bytes, extension
//! replies and UPDATE.

use alloc::vec::Vec;

use super::io::Counted;
use super::*;
use crate::dot::StuffConfig;
use crate::encode::Encode;
use crate::sasl;
use crate::types::{Expire, GroupListing, ResponseCode};

impl Server {
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
        self.user = Some(PendingUser::Named(name));
        match line {
            Some(line) => self.put_line(&line),
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
        self.put_line(&line);
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
        self.set_sasl(false);
        self.user = None;
        self.deleted = alloc::vec![false; maildrop.len()];
        self.live_count = maildrop.len() as u64;
        self.live_size = commands::total_size(&maildrop);
        self.maildrop = maildrop;
        self.phase = Phase::Transaction;
        match line {
            Some(line) => self.put_line(&line),
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
        self.set_sasl(false);
        self.put_line(&line);
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
        self.set_sasl(true);
        encode::put_continuation(&mut self.staging, &sasl::encode_base64(challenge));
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
                // As refuse_login, the text written straight from the failure.
                self.awaiting = Awaiting::Nothing;
                self.set_sasl(false);
                self.line_display(Status::Err, code.as_ref(), &failure);
                self.count_failure();
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
            top_lines: top.map(u64::from),
            ..self.config.stuff_config()
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
        let fresh = if started {
            None
        } else {
            self.put_retrieve_start(msg, top.is_some());
            self.flush_staging();
            Some(self.stuffer(self.stuff_config(top)))
        };
        let Server {
            awaiting,
            output,
            output_queued,
            ..
        } = self;
        let Awaiting::Retrieve { stuffer, .. } = awaiting else {
            return Err(AnswerError::NotExpected("send_message_chunk"));
        };
        if let Some(fresh) = fresh {
            *stuffer = Some(fresh);
        }
        let Some(stuffer) = stuffer else {
            return Err(AnswerError::NotExpected("send_message_chunk"));
        };
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
            stuffer.finish(&mut self.counted());
            self.spare_stuffer = Some(stuffer);
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
        self.put_line(&line);
        Ok(())
    }

    /// Answers [`ServerEvent::Extension`] with a status line and, for a `+OK`
    /// multi-line reply, a body (stuffed and terminated by the machine).
    pub fn reply(&mut self, line: StatusLine, body: Option<Bytes>) -> Result<(), AnswerError> {
        if !matches!(self.awaiting, Awaiting::Extension) {
            return self.not_expected("reply");
        }
        self.awaiting = Awaiting::Nothing;
        self.put_line(&line);
        if let (true, Some(body)) = (line.is_ok(), body) {
            self.flush_staging();
            let mut stuffer = self.stuffer(self.stuff_config(None));
            let mut out = self.counted();
            stuffer.push(body, &mut out);
            stuffer.finish(&mut out);
            self.spare_stuffer = Some(stuffer);
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
        encode::put_end(&mut self.staging);
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
        self.live_size = commands::total_size(&listing);
        self.deleted = alloc::vec![false; listing.len()];
        self.maildrop = listing;
        self.group_maxima = Some(maxima);
        self.ok(b"XTND");
        group.encode(&mut self.staging);
        encode::put_end(&mut self.staging);
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
            Ok(()) => self.put_update_done(),
            Err(refusal) => {
                let code = refusal.code.unwrap_or_else(ResponseCode::sys_temp);
                let line = Self::host_line(Status::Err, Some(code), refusal.text)?;
                self.put_line(&line);
            }
        }
        self.close(None);
        Ok(())
    }
}

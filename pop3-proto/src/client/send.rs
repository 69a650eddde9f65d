//! Commands going out: each is checked against the state, the advertised
//! capabilities, pipelining, the AUTH and STLS barriers and the TLS policy before
//! a byte is written.

use super::*;

impl Client {
    /// Sends a command, after checking it is valid now: the state, the advertised
    /// capabilities, pipelining, the AUTH and STLS barriers, and the TLS policy.
    /// The reply comes as events carrying the returned id.
    ///
    /// Use [`Client::authenticate`] for AUTH, [`Client::apop`] to have the digest
    /// computed, and [`Client::send_extension`] for an extension whose reply is
    /// multi-line.
    pub fn send(&mut self, command: Command) -> Result<CommandId, SendError> {
        self.send_checked(command, true)
    }

    /// Sends a command like [`Client::send`], without checking it against the
    /// capabilities the server listed: for a server that under-reports (a UIDL it
    /// did not list, say, whose `-ERR` is then an ordinary
    /// [`Event::Status`]). Every other check stays: the state, pipelining, the
    /// AUTH and STLS barriers, and the TLS policy. To skip the capability checks
    /// for every command, turn off [`ClientConfig::check_capabilities`].
    ///
    /// ```
    /// use pop3_proto::Machine;
    /// use pop3_proto::client::{Client, ClientConfig, SendError};
    /// use pop3_proto::types::Command;
    ///
    /// let mut client = Client::new(ClientConfig::default());
    /// let _ = client.enqueue_input(b"+OK hi\r\n");
    /// while client.next_event().unwrap().is_some() {}
    /// client.send(Command::Capa).unwrap();
    /// let _ = client.enqueue_input(b"+OK\r\nUSER\r\n.\r\n");
    /// while client.next_event().unwrap().is_some() {}
    /// // CAPA did not list STLS: send refuses it, send_unchecked sends it.
    /// assert!(matches!(
    ///     client.send(Command::Stls),
    ///     Err(SendError::NotAdvertised { .. })
    /// ));
    /// assert!(client.send_unchecked(Command::Stls).is_ok());
    /// ```
    pub fn send_unchecked(&mut self, command: Command) -> Result<CommandId, SendError> {
        self.send_checked(command, false)
    }

    fn send_checked(
        &mut self,
        command: Command,
        capabilities: bool,
    ) -> Result<CommandId, SendError> {
        if matches!(command, Command::Auth { .. }) {
            return Err(SendError::WrongState {
                command: "AUTH",
                state: "through send(); use authenticate()",
            });
        }
        let kind = self.check(&command, capabilities)?;
        let xtnd = match &command {
            Command::Xtnd(Xtnd::Bboards(Some(_)) | Xtnd::Archive(_)) => Some(XtndKind::OpensGroup),
            Command::Xtnd(_) => Some(XtndKind::Other),
            _ => None,
        };
        Ok(self.push(&command, kind, xtnd))
    }

    /// Sends an extension command whose reply shape the caller knows (IMPL-16):
    /// `multi_line` says whether a `+OK` reply is followed by a body.
    pub fn send_extension(
        &mut self,
        extension: Extension,
        multi_line: bool,
    ) -> Result<CommandId, SendError> {
        let command = Command::Other(extension);
        self.check(&command, true)?;
        let kind = if multi_line { Kind::Body } else { Kind::Single };
        Ok(self.push(&command, kind, None))
    }

    /// Sends `APOP name digest`, computing the digest over the greeting's
    /// timestamp (R1939-29). Refused when the greeting had no well-formed
    /// timestamp (E-7): a malformed one is never used.
    pub fn apop(
        &mut self,
        name: Username,
        secret: &Secret<Vec<u8>>,
    ) -> Result<CommandId, SendError> {
        if matches!(self.phase, Phase::Greeting) {
            return Err(SendError::MustWait);
        }
        let timestamp = self.timestamp.as_ref().ok_or(SendError::NoApopTimestamp)?;
        let digest = crate::apop::digest(timestamp, secret);
        let digest = ApopDigest::new(digest.as_bytes())?;
        self.send(Command::Apop { name, digest })
    }

    /// Starts an AUTH exchange with a SASL mechanism (R5034-3). The machine sends
    /// the initial response inline (`=` when it is empty, R5034-7) when the server
    /// listed SASL and the command fits in 255 octets, and on its own line after
    /// the first empty challenge otherwise (R5034-8, R5034-2). It answers
    /// challenges through the mechanism, and cancels with `*` when one cannot be
    /// answered (R5034-10). When the server listed SASL, the mechanism must be in
    /// the list.
    ///
    /// The machine keeps the mechanism for the exchange, since it answers the
    /// server's challenges by itself; any mechanism will do, a boxed one chosen at
    /// run time included (`Box<dyn ClientMechanism + Send>`). It must be `Send`,
    /// so the client stays `Send` for multi-threaded runtimes. (The server side
    /// is the other way round: its host keeps the mechanism beside its credential
    /// store and lends it to [`Server::auth_step`](crate::server::Server::auth_step).)
    pub fn authenticate<M: ClientMechanism + Send + 'static>(
        &mut self,
        mechanism: M,
    ) -> Result<CommandId, SendError> {
        let mut mechanism: Box<dyn ClientMechanism + Send> = Box::new(mechanism);
        let mech = crate::types::Mechanism::new(mechanism.name().as_bytes())?;
        let probe = Command::Auth {
            mechanism: mech.clone(),
            initial_response: None,
        };
        let kind = self.check(&probe, true)?;
        if self.config.require_tls && !self.tls && mechanism.is_cleartext() {
            return Err(SendError::TlsRequired);
        }
        let listed = self.capabilities.as_deref().and_then(|caps| {
            caps.iter().find_map(|c| match c {
                Capability::Sasl(mechs) => Some(mechs),
                _ => None,
            })
        });
        if self.config.check_capabilities
            && listed.is_some_and(|mechs| {
                !mechs
                    .iter()
                    .any(|m| m.as_bytes().eq_ignore_ascii_case(mech.as_bytes()))
            })
        {
            return Err(SendError::NotAdvertised {
                capability: "SASL with this mechanism",
            });
        }
        // R5034-2: without SASL in CAPA, no initial response on the command line.
        let sasl_listed = listed.is_some();
        let initial = mechanism.initial_response().map_err(SendError::Mechanism)?;
        let mut deferred = None;
        let mut inline = None;
        if let Some(ir) = initial {
            let separate = !sasl_listed || mechanism.separate_initial_response();
            if ir.expose_secret().is_empty() {
                if separate {
                    deferred = Some(ir);
                } else {
                    inline = Some(InitialResponse::Empty);
                }
            } else {
                let b64 = sasl::encode_base64(ir.expose_secret());
                // E-15: "AUTH " + mech + " " + b64 + CRLF.
                let len = 5 + mech.as_bytes().len() + 1 + b64.len() + 2;
                if separate || len > MAX_COMMAND {
                    deferred = Some(ir);
                } else {
                    inline = Some(InitialResponse::Base64(Base64Text::new(b64)?));
                }
            }
        }
        let command = Command::Auth {
            mechanism: mech,
            initial_response: inline,
        };
        let id = self.push(&command, kind, None);
        self.auth = Some(AuthFlow {
            id,
            mechanism,
            deferred,
            cancelled: false,
        });
        Ok(id)
    }

    fn push(&mut self, command: &Command, kind: Kind, xtnd: Option<XtndKind>) -> CommandId {
        let id = CommandId(self.next_id);
        self.next_id += 1;
        command.encode(&mut self.output);
        self.pending.push_back(Pending {
            id,
            kind,
            xtnd,
            received_at_send: self.received,
        });
        id
    }

    fn login_pending(&self) -> bool {
        self.pending
            .iter()
            .any(|p| matches!(p.kind, Kind::Login | Kind::Auth))
    }

    /// A USER is in flight, or was the last command answered and accepted.
    fn user_outstanding(&self) -> bool {
        self.pending.iter().any(|p| p.kind == Kind::User)
            || (self.pending.is_empty() && self.user_accepted)
    }

    /// The capability a command needs, checked when the server's list is known.
    fn needs(&self, command: &Command) -> Result<(), SendError> {
        if !self.config.check_capabilities || self.capabilities.is_none() {
            return Ok(());
        }
        let (tag, capability): (&[u8], &'static str) = match command {
            Command::User(_) | Command::Pass(_) => (b"USER", "USER"),
            Command::Top { .. } => (b"TOP", "TOP"),
            Command::Uidl(_) => (b"UIDL", "UIDL"),
            Command::Stls => (b"STLS", "STLS"),
            Command::Utf8 => (b"UTF8", "UTF8"),
            Command::Lang(_) => (b"LANG", "LANG"),
            _ => return Ok(()),
        };
        if self.has_capability(tag) {
            Ok(())
        } else {
            Err(SendError::NotAdvertised { capability })
        }
    }

    /// R6856-5: credentials outside ASCII only when the server listed
    /// `UTF8 USER`.
    fn check_credential_charset(&self, credential: &[u8]) -> Result<(), SendError> {
        if credential.is_ascii() {
            return Ok(());
        }
        let utf8_user = self.capabilities.as_deref().is_some_and(|caps| {
            caps.iter()
                .any(|c| matches!(c, Capability::Utf8 { user: true }))
        });
        if utf8_user {
            Ok(())
        } else {
            Err(SendError::NotAdvertised {
                capability: "UTF8 USER",
            })
        }
    }

    /// Checks a command against the state and policy, and the listed
    /// capabilities when `capabilities`; gives its reply shape.
    fn check(&self, command: &Command, capabilities: bool) -> Result<Kind, SendError> {
        if self.fatal.is_some() || self.phase == Phase::Closed {
            return Err(SendError::Closed);
        }
        if self.pending.iter().any(|p| p.kind == Kind::Quit) {
            return Err(SendError::Closed);
        }
        if matches!(self.phase, Phase::Greeting | Phase::TlsHandshake) {
            return Err(SendError::MustWait);
        }
        if self.pending.len() >= self.config.max_in_flight {
            return Err(SendError::TooManyInFlight {
                limit: self.config.max_in_flight,
            });
        }
        // Barriers: nothing goes out while STLS or AUTH is in flight, and they go
        // out alone (R2595-3, IMPL-6).
        let barrier_pending = self
            .pending
            .iter()
            .any(|p| matches!(p.kind, Kind::Stls | Kind::Auth));
        let is_barrier = matches!(command, Command::Stls | Command::Auth { .. });
        if barrier_pending || (is_barrier && !self.pending.is_empty()) {
            return Err(SendError::MustWait);
        }
        // IMPL-7, R2449-17: one at a time unless PIPELINING was listed or the
        // caller opted in.
        let may_pipeline =
            self.config.pipeline_without_capability || self.has_capability(b"PIPELINING");
        if !self.pending.is_empty() && !may_pipeline {
            return Err(SendError::MustWait);
        }

        let keyword = keyword_name(command);
        // Pipelined commands are checked against the state their predecessors
        // lead to if they succeed: after PASS, APOP or AUTH, TRANSACTION.
        let logged_in = self.phase == Phase::Transaction;
        let authorization = self.phase == Phase::Authorization && !self.login_pending();
        let transaction = logged_in || self.login_pending();
        let wrong = |state: &'static str| SendError::WrongState {
            command: keyword,
            state,
        };
        // R8314-3: with TLS required, only CAPA, STLS and QUIT before TLS.
        if self.config.require_tls
            && !self.tls
            && !matches!(command, Command::Capa | Command::Stls | Command::Quit)
        {
            return Err(SendError::TlsRequired);
        }
        let kind = match command {
            Command::User(name) => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                self.check_credential_charset(name.as_bytes())?;
                if self.user_outstanding() {
                    return Err(wrong("after a successful USER (IMPL-4)"));
                }
                Kind::User
            }
            Command::Pass(password) => {
                self.check_credential_charset(password.expose_secret())?;
                let after_user = self.pending.back().is_some_and(|p| p.kind == Kind::User)
                    || (self.pending.is_empty() && self.user_accepted);
                if !authorization || !after_user {
                    return Err(wrong("except right after a successful USER (R1939-26)"));
                }
                Kind::Login
            }
            Command::Apop { name, .. } => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                self.check_credential_charset(name.as_bytes())?;
                if self.user_outstanding() {
                    return Err(wrong("after a successful USER (IMPL-4)"));
                }
                if self.timestamp.is_none() {
                    return Err(SendError::NoApopTimestamp);
                }
                Kind::Login
            }
            Command::Auth { .. } => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                Kind::Auth
            }
            Command::Stls => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                if self.tls {
                    return Err(SendError::StlsNotAllowed {
                        reason: "TLS is already active",
                    });
                }
                if self.utf8 {
                    return Err(SendError::StlsNotAllowed {
                        reason: "UTF8 mode is on (R6856-3)",
                    });
                }
                Kind::Stls
            }
            Command::Utf8 => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                Kind::Utf8
            }
            Command::Capa => Kind::Capa,
            Command::Lang(None) => Kind::Listing(ListingKind::Lang),
            Command::Lang(Some(_)) => Kind::LangSelect,
            Command::Quit => Kind::Quit,
            Command::Other(_) => Kind::Single,
            Command::Stat
            | Command::List(_)
            | Command::Retr(_)
            | Command::Dele(_)
            | Command::Noop
            | Command::Rset
            | Command::Top { .. }
            | Command::Uidl(_)
            | Command::Xtnd(_) => {
                if !transaction {
                    return Err(wrong("before login"));
                }
                match command {
                    Command::Stat => Kind::Stat,
                    Command::List(None) => Kind::Listing(ListingKind::Scan),
                    Command::List(Some(_)) => Kind::ScanOne,
                    Command::Uidl(None) => Kind::Listing(ListingKind::Uid),
                    Command::Uidl(Some(_)) => Kind::UidOne,
                    Command::Retr(_) | Command::Top { .. } => Kind::Body,
                    Command::Xtnd(Xtnd::Bboards(_)) | Command::Xtnd(Xtnd::Archive(_)) => {
                        Kind::Listing(ListingKind::Groups)
                    }
                    Command::Xtnd(_) => Kind::Body,
                    _ => Kind::Single,
                }
            }
        };
        if capabilities {
            self.needs(command)?;
        }
        Ok(kind)
    }
}

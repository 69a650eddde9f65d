//! The client half of the codec: a pure state machine that a program drives with
//! the bytes it reads, and that tells it which bytes to write and what happened.
//!
//! ```
//! use pop3_proto::client::{Client, ClientConfig, Event};
//! use pop3_proto::types::{Command, MessageNumber, Username, Password};
//!
//! let mut client = Client::new(ClientConfig::default());
//! client.enqueue_input(b"+OK POP3 server ready\r\n");
//! assert!(matches!(client.next_event(), Ok(Some(Event::Greeting { .. }))));
//!
//! let user = client.send(Command::User(Username::new("alice").unwrap())).unwrap();
//! assert_eq!(&client.take_output().unwrap()[..], b"USER alice\r\n");
//! client.enqueue_input(b"+OK\r\n");
//! assert!(matches!(client.next_event(), Ok(Some(Event::Status { id, .. })) if id == user));
//! ```
//!
//! The program's loop: write whatever [`Client::take_output`] gives, feed what the
//! socket reads to [`Client::enqueue_input`], and call [`Client::next_event`] until
//! it returns `Ok(None)`. The reply to each command is decided by the command at the
//! head of the queue of commands in flight (SPEC.md §7): a reply does not say
//! whether it is multi-line.

mod config;
mod error;
mod event;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

pub use config::ClientConfig;
pub use error::{ClientError, SendError};
pub use event::{CommandId, Event};

use crate::apop::Timestamp;
use crate::dot::{BodyDecoder, BodyPiece};
use crate::encode::Encode;
use crate::framing::{FramingConfig, LineFramer};
use crate::sasl::{self, ClientMechanism};
use crate::secret::Secret;
use crate::types::{
    ApopDigest, Base64Text, Capability, Command, DropListing, Extension, Greeting, GroupListing,
    InitialResponse, LanguageListing, ScanListing, StatusLine, UidListing, Username, Xtnd,
};

/// Where the session is, as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the server's greeting.
    Greeting,
    /// AUTHORIZATION: logging in.
    Authorization,
    /// TRANSACTION: logged in.
    Transaction,
    /// STLS was accepted; the caller runs the TLS handshake and then calls
    /// [`Client::tls_established`].
    TlsHandshake,
    /// QUIT was answered, or a fatal error happened.
    Closed,
}

/// What the reply to a command in flight looks like, and what it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One status line, no state change.
    Single,
    /// USER: `+OK` lets PASS follow.
    User,
    /// PASS, APOP: `+OK` enters TRANSACTION.
    Login,
    /// AUTH: continuations, then `+OK` enters TRANSACTION.
    Auth,
    /// STLS: `+OK` starts TLS.
    Stls,
    /// UTF8: `+OK` enters UTF-8 mode.
    Utf8,
    /// QUIT: the server closes.
    Quit,
    /// STAT: a drop listing.
    Stat,
    /// LIST n.
    ScanOne,
    /// UIDL n.
    UidOne,
    /// A multi-line listing of this kind.
    Listing(ListingKind),
    /// A multi-line body (RETR, TOP, XTND, declared extensions).
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListingKind {
    Capa,
    Scan,
    Uid,
    Lang,
    Groups,
}

#[derive(Debug)]
struct Pending {
    id: CommandId,
    kind: Kind,
    /// Bytes received before this command was sent: its reply must start after them.
    received_at_send: u64,
}

#[derive(Debug)]
enum Listing {
    Capa(Vec<Capability>),
    Scan(Vec<ScanListing>),
    Uid(Vec<UidListing>),
    Lang(Vec<LanguageListing>),
    Groups(Vec<GroupListing>),
}

impl Listing {
    fn new(kind: ListingKind) -> Self {
        match kind {
            ListingKind::Capa => Listing::Capa(Vec::new()),
            ListingKind::Scan => Listing::Scan(Vec::new()),
            ListingKind::Uid => Listing::Uid(Vec::new()),
            ListingKind::Lang => Listing::Lang(Vec::new()),
            ListingKind::Groups => Listing::Groups(Vec::new()),
        }
    }

    /// Parses one un-stuffed line into the listing; `false` if it is malformed.
    fn push(&mut self, line: &[u8]) -> bool {
        match self {
            Listing::Capa(v) => Capability::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Scan(v) => ScanListing::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Uid(v) => UidListing::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Lang(v) => LanguageListing::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Groups(v) => GroupListing::parse(line).map(|c| v.push(c)).is_ok(),
        }
    }

    fn into_event(self, id: CommandId) -> Event {
        match self {
            Listing::Capa(capabilities) => Event::Capabilities { id, capabilities },
            Listing::Scan(listing) => Event::ScanListing { id, listing },
            Listing::Uid(listing) => Event::UidListing { id, listing },
            Listing::Lang(languages) => Event::Languages { id, languages },
            Listing::Groups(groups) => Event::Groups { id, groups },
        }
    }
}

/// What the bytes at the front of the input are.
// One value per machine, never in a collection: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Reading {
    /// Status lines (or AUTH continuations).
    Lines,
    /// The lines of a multi-line listing.
    Listing {
        id: CommandId,
        listing: Listing,
        lines: usize,
        bytes: usize,
        /// Past a limit: the rest is skipped up to the terminator.
        overflowed: bool,
        /// A malformed line was skipped (reported once, at the end).
        malformed: bool,
    },
    /// A multi-line body.
    Body { id: CommandId, decoder: BodyDecoder },
}

struct AuthFlow {
    id: CommandId,
    mechanism: Box<dyn ClientMechanism>,
    /// An initial response too long for the command line (R5034-8), or one the
    /// mechanism wants on its own line (XO-2): sent after the first empty challenge.
    deferred: Option<Secret<Vec<u8>>>,
    /// `*` was sent; only `-ERR` may follow.
    cancelled: bool,
}

impl core::fmt::Debug for AuthFlow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthFlow")
            .field("id", &self.id)
            .field("mechanism", &self.mechanism.name())
            .field("deferred", &self.deferred)
            .field("cancelled", &self.cancelled)
            .finish()
    }
}

/// The longest command line, CRLF included (R2449-1).
const MAX_COMMAND: usize = 255;

/// The client state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    input: BytesMut,
    output: BytesMut,
    framer: LineFramer,
    phase: Phase,
    reading: Reading,
    pending: VecDeque<Pending>,
    next_id: u64,
    /// Total octets ever enqueued.
    received: u64,
    capabilities: Option<Vec<Capability>>,
    timestamp: Option<Timestamp>,
    tls: bool,
    utf8: bool,
    /// The last reply was `+OK` to USER, so PASS may follow.
    user_accepted: bool,
    auth: Option<AuthFlow>,
    /// An error to report before anything else (non-fatal, found while finishing
    /// an event).
    queued_error: Option<ClientError>,
    fatal: Option<ClientError>,
}

impl Client {
    /// A client for a new connection, waiting for the greeting.
    pub fn new(config: ClientConfig) -> Self {
        let framing = FramingConfig {
            max_line: config.max_line,
            allow_bare_lf: config.allow_bare_lf,
        };
        Client {
            config,
            input: BytesMut::new(),
            output: BytesMut::new(),
            framer: LineFramer::new(framing),
            phase: Phase::Greeting,
            reading: Reading::Lines,
            pending: VecDeque::new(),
            next_id: 0,
            received: 0,
            capabilities: None,
            timestamp: None,
            tls: config.implicit_tls,
            utf8: false,
            user_accepted: false,
            auth: None,
            queued_error: None,
            fatal: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Where the session is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether TLS is active (implicit, or after STLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The capabilities of the last CAPA reply, or `None` if there was none since
    /// the connection or the last TLS handshake (R2595-7).
    pub fn capabilities(&self) -> Option<&[Capability]> {
        self.capabilities.as_deref()
    }

    /// Whether the server listed a capability with this tag.
    pub fn has_capability(&self, tag: &[u8]) -> bool {
        self.capabilities
            .as_deref()
            .is_some_and(|caps| caps.iter().any(|c| c.tag().eq_ignore_ascii_case(tag)))
    }

    /// Whether CAPA should be asked again after login: `LOGIN-DELAY ... USER` or
    /// `EXPIRE ... USER` was listed (R2449-15, R2449-16, E-20).
    pub fn should_refresh_capabilities(&self) -> bool {
        self.capabilities.as_deref().is_some_and(|caps| {
            caps.iter().any(|c| {
                matches!(
                    c,
                    Capability::LoginDelay { per_user: true, .. }
                        | Capability::Expire { per_user: true, .. }
                )
            })
        })
    }

    /// The greeting's APOP timestamp, if it held a well-formed one.
    pub fn apop_timestamp(&self) -> Option<&Timestamp> {
        self.timestamp.as_ref()
    }

    /// How many commands are waiting for their replies.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// The fatal error that stopped the machine, if any.
    pub fn fatal_error(&self) -> Option<&ClientError> {
        self.fatal.as_ref()
    }

    /// Octets read but not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    // ----- input and output -----

    /// Takes bytes read from the server. Call [`Client::next_event`] until it
    /// returns `Ok(None)` afterwards, so the buffer stays bounded.
    ///
    /// While a TLS handshake is pending (after [`Event::StartTls`]) no POP3 bytes
    /// may arrive: any are discarded and reported (IMPL-13).
    pub fn enqueue_input(&mut self, data: &[u8]) {
        if data.is_empty() || self.fatal.is_some() {
            return;
        }
        match self.phase {
            Phase::TlsHandshake => {
                self.fail(ClientError::DataAfterStls { len: data.len() });
            }
            Phase::Closed => {
                self.fail(ClientError::InputAfterClose);
            }
            _ => {
                self.input.extend_from_slice(data);
                self.received = self.received.saturating_add(data.len() as u64);
            }
        }
    }

    /// Like [`Client::enqueue_input`], but takes ownership of a buffer, which
    /// avoids a copy when nothing is buffered yet.
    pub fn enqueue_buf(&mut self, data: BytesMut) {
        if self.input.is_empty()
            && self.fatal.is_none()
            && matches!(
                self.phase,
                Phase::Greeting | Phase::Authorization | Phase::Transaction
            )
        {
            self.received = self.received.saturating_add(data.len() as u64);
            self.input = data;
        } else {
            self.enqueue_input(&data);
        }
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

    /// Tells the machine the TLS handshake after STLS finished. The capability
    /// cache is emptied (R2595-7); send CAPA again to learn the new one.
    pub fn tls_established(&mut self) {
        if self.phase == Phase::TlsHandshake {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.capabilities = None;
            self.user_accepted = false;
            self.framer.reset();
        }
    }

    fn fail(&mut self, error: ClientError) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
        self.phase = Phase::Closed;
        self.pending.clear();
        self.auth = None;
        self.input.clear();
    }

    // ----- commands -----

    /// Sends a command, after checking it is valid now: the state, the advertised
    /// capabilities, pipelining, the AUTH and STLS barriers, and the TLS policy.
    /// The reply comes as events carrying the returned id.
    ///
    /// Use [`Client::authenticate`] for AUTH, [`Client::apop`] for APOP, and
    /// [`Client::send_extension`] for an extension whose reply is multi-line.
    pub fn send(&mut self, command: Command) -> Result<CommandId, SendError> {
        if matches!(command, Command::Auth { .. }) {
            return Err(SendError::WrongState {
                command: "AUTH",
                state: "through send(); use authenticate()",
            });
        }
        let kind = self.check(&command)?;
        Ok(self.push(&command, kind))
    }

    /// Sends an extension command whose reply shape the caller knows (IMPL-16).
    pub fn send_extension(
        &mut self,
        extension: Extension,
        multi_line: bool,
    ) -> Result<CommandId, SendError> {
        let command = Command::Other(extension);
        self.check(&command)?;
        let kind = if multi_line { Kind::Body } else { Kind::Single };
        Ok(self.push(&command, kind))
    }

    /// Sends `APOP name digest`, computing the digest over the greeting's
    /// timestamp (R1939-29). Refused when the greeting had no well-formed
    /// timestamp (E-7).
    pub fn apop(
        &mut self,
        name: Username,
        secret: &Secret<Vec<u8>>,
    ) -> Result<CommandId, SendError> {
        let timestamp = self.timestamp.as_ref().ok_or(SendError::NoApopTimestamp)?;
        let digest = crate::apop::digest(timestamp, secret);
        let digest = ApopDigest::new(digest.as_bytes())?;
        self.send(Command::Apop { name, digest })
    }

    /// Starts an AUTH exchange with a SASL mechanism (R5034-3). The machine sends
    /// the initial response inline when the server listed SASL and it fits in 255
    /// octets, and on its own line otherwise (R5034-8); it answers challenges
    /// through the mechanism and cancels with `*` when one cannot be answered
    /// (R5034-10).
    pub fn authenticate(
        &mut self,
        mut mechanism: Box<dyn ClientMechanism>,
    ) -> Result<CommandId, SendError> {
        let mech = crate::types::Mechanism::new(mechanism.name().as_bytes())?;
        let probe = Command::Auth {
            mechanism: mech.clone(),
            initial_response: None,
        };
        let kind = self.check(&probe)?;
        if self.config.require_tls && !self.tls && mechanism.is_cleartext() {
            return Err(SendError::TlsRequired);
        }
        let initial = mechanism.initial_response().map_err(SendError::Mechanism)?;
        // R5034-2: without SASL in CAPA, no initial response on the command line.
        let sasl_listed = self.has_capability(b"SASL");
        let mut deferred = None;
        let mut inline = None;
        if let Some(ir) = initial {
            if ir.expose_secret().is_empty() {
                if sasl_listed && !mechanism.separate_initial_response() {
                    inline = Some(InitialResponse::Empty);
                } else {
                    deferred = Some(ir);
                }
            } else {
                let b64 = sasl::encode_base64(ir.expose_secret());
                // E-15: "AUTH " + mech + " " + b64 + CRLF.
                let len = 5 + mech.as_bytes().len() + 1 + b64.len() + 2;
                if sasl_listed && len <= MAX_COMMAND && !mechanism.separate_initial_response() {
                    inline = Some(InitialResponse::Base64(Base64Text::new(b64)?));
                } else {
                    deferred = Some(ir);
                }
            }
        }
        let command = Command::Auth {
            mechanism: mech,
            initial_response: inline,
        };
        let id = self.push(&command, kind);
        self.auth = Some(AuthFlow {
            id,
            mechanism,
            deferred,
            cancelled: false,
        });
        Ok(id)
    }

    fn push(&mut self, command: &Command, kind: Kind) -> CommandId {
        let id = CommandId(self.next_id);
        self.next_id += 1;
        command.encode(&mut self.output);
        self.pending.push_back(Pending {
            id,
            kind,
            received_at_send: self.received,
        });
        id
    }

    fn login_pending(&self) -> bool {
        self.pending
            .iter()
            .any(|p| matches!(p.kind, Kind::Login | Kind::Auth))
    }

    /// Checks a command against the state and policy; gives its reply shape.
    fn check(&self, command: &Command) -> Result<Kind, SendError> {
        if self.fatal.is_some() || self.phase == Phase::Closed {
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
        let may_pipeline =
            self.config.pipeline_without_capability || self.has_capability(b"PIPELINING");
        if !self.pending.is_empty() && !may_pipeline {
            return Err(SendError::MustWait);
        }
        if self.pending.iter().any(|p| p.kind == Kind::Quit) {
            return Err(SendError::Closed);
        }

        let keyword = keyword_name(command);
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
            Command::User(_) => {
                if !authorization {
                    return Err(wrong("after login"));
                }
                if self.pending.back().is_some_and(|p| p.kind == Kind::User) {
                    return Err(wrong("right after USER (IMPL-4)"));
                }
                Kind::User
            }
            Command::Pass(_) => {
                let after_user = self.pending.back().is_some_and(|p| p.kind == Kind::User)
                    || (self.pending.is_empty() && self.user_accepted);
                if !authorization || !after_user {
                    return Err(wrong("except right after USER (R1939-26)"));
                }
                Kind::Login
            }
            Command::Apop { .. } => {
                if !authorization {
                    return Err(wrong("after login"));
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
            Command::Capa => Kind::Listing(ListingKind::Capa),
            Command::Lang(None) => Kind::Listing(ListingKind::Lang),
            Command::Lang(Some(_)) => Kind::Single,
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
        if self.config.require_tls
            && !self.tls
            && matches!(
                command,
                Command::User(_) | Command::Pass(_) | Command::Apop { .. }
            )
        {
            return Err(SendError::TlsRequired);
        }
        Ok(kind)
    }

    // ----- events -----

    /// The next thing that happened, `Ok(None)` when more input is needed, or an
    /// error. After a fatal error ([`ClientError::is_fatal`]) the same error comes
    /// back on every call and no event follows.
    pub fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        if let Some(fatal) = &self.fatal {
            return Err(fatal.clone());
        }
        if let Some(error) = self.queued_error.take() {
            return Err(error);
        }
        let result = self.step();
        if let Err(error) = &result {
            if error.is_fatal() {
                self.fail(error.clone());
            }
        }
        result
    }

    fn step(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            match &mut self.reading {
                Reading::Body { id, decoder } => {
                    let id = *id;
                    match decoder.decode(&mut self.input) {
                        Ok(BodyPiece::Data(data)) => {
                            return Ok(Some(Event::BodyChunk { id, data }))
                        }
                        Ok(BodyPiece::End) => {
                            let size = decoder.body_len();
                            self.pending.pop_front();
                            self.reading = Reading::Lines;
                            self.framer.reset();
                            return Ok(Some(Event::BodyEnd { id, size }));
                        }
                        Ok(BodyPiece::NeedMore) => return Ok(None),
                        Err(_) => {
                            let limit = self.config.max_body.unwrap_or(u64::MAX);
                            return Err(ClientError::BodyTooLarge { id, limit });
                        }
                    }
                }
                Reading::Listing { .. } => {
                    if let Some(event) = self.listing_line()? {
                        return Ok(Some(event));
                    }
                    if matches!(self.reading, Reading::Listing { .. }) {
                        return Ok(None);
                    }
                    // The listing ended with an error reported or an event; loop.
                }
                Reading::Lines => {
                    let sasl = self.pending.front().is_some_and(|p| p.kind == Kind::Auth);
                    let limit = if sasl {
                        self.config.max_sasl_line
                    } else {
                        self.config.max_line
                    };
                    if self.framer.config().max_line != limit {
                        let cfg = self.framer.config();
                        self.framer.set_config(FramingConfig {
                            max_line: limit,
                            ..cfg
                        });
                    }
                    let start = self.received - self.input.len() as u64;
                    let line = match self.framer.next_line(&mut self.input) {
                        Ok(Some(line)) => line,
                        Ok(None) => return Ok(None),
                        Err(error) => {
                            return Err(ClientError::Framing {
                                id: self.pending.front().map(|p| p.id),
                                error,
                            })
                        }
                    };
                    if let Some(event) = self.on_line(&line.bytes, start)? {
                        return Ok(Some(event));
                    }
                }
            }
        }
    }

    /// Reads listing lines until the terminator or the end of the input.
    fn listing_line(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            let next = self.framer.next_line(&mut self.input);
            let Reading::Listing {
                id,
                listing,
                lines,
                bytes,
                overflowed,
                malformed,
            } = &mut self.reading
            else {
                return Ok(None);
            };
            let id = *id;
            let line = match next {
                Ok(Some(line)) => line,
                Ok(None) => return Ok(None),
                Err(_) => {
                    // A line too long or badly ended: skipped; the listing goes on.
                    *malformed = true;
                    continue;
                }
            };
            let content: &[u8] = &line.bytes;
            if content == b"." {
                let overflowed = *overflowed;
                let malformed = *malformed;
                let done = core::mem::replace(&mut self.reading, Reading::Lines);
                self.pending.pop_front();
                let Reading::Listing { listing, .. } = done else {
                    return Ok(None);
                };
                if overflowed {
                    return Err(ClientError::ListingTooLarge {
                        id,
                        limit: self.config.max_listing_lines,
                    });
                }
                let event = listing.into_event(id);
                if let Event::Capabilities { capabilities, .. } = &event {
                    self.capabilities = Some(capabilities.clone());
                    if self.config.require_tls && !self.tls && !self.has_capability(b"STLS") {
                        self.queued_error = Some(ClientError::StlsNotOffered);
                    }
                }
                if malformed {
                    self.queued_error = Some(ClientError::BadListingLine { id });
                }
                return Ok(Some(event));
            }
            if *overflowed {
                continue;
            }
            // R1939-13: a line starting with "." loses that dot.
            let content = content.strip_prefix(b".").unwrap_or(content);
            *lines += 1;
            *bytes = bytes.saturating_add(content.len());
            if *lines > self.config.max_listing_lines || *bytes > self.config.max_listing_bytes {
                *overflowed = true;
                // Drop what was gathered: the listing is reported as an error.
                *listing = Listing::new(ListingKind::Capa);
            } else if !listing.push(content) {
                *malformed = true;
            }
        }
    }

    /// A status line or an AUTH continuation.
    fn on_line(&mut self, line: &[u8], start: u64) -> Result<Option<Event>, ClientError> {
        if self.phase == Phase::Greeting {
            return self.on_greeting(line).map(Some);
        }
        let Some(head) = self.pending.front() else {
            return Err(ClientError::Unsolicited { len: line.len() });
        };
        // The reply must have arrived after its command went out.
        if start < head.received_at_send {
            return Err(ClientError::Unsolicited { len: line.len() });
        }
        let id = head.id;
        let kind = head.kind;
        if line.first() == Some(&b'+') && !line.starts_with(b"+OK") {
            if kind == Kind::Auth {
                return self.on_continuation(line);
            }
            return Err(ClientError::UnexpectedContinuation);
        }
        let status =
            StatusLine::parse(line).map_err(|_| ClientError::BadStatusLine { id: Some(id) })?;
        // Multi-line replies keep their command at the head until the terminator.
        if status.is_err() || !matches!(kind, Kind::Listing(_) | Kind::Body) {
            self.pending.pop_front();
        }
        self.user_accepted = kind == Kind::User && status.is_ok();
        if status.is_err() {
            return self.on_negative(id, kind, status);
        }
        Ok(Some(match kind {
            Kind::Single | Kind::User => Event::Status { id, line: status },
            Kind::Login => {
                self.phase = Phase::Transaction;
                Event::Status { id, line: status }
            }
            Kind::Auth => {
                let flow = self.auth.take();
                if let Some(mut flow) = flow {
                    if flow.cancelled {
                        // `+OK` after `*` breaks R5034-6.
                        return Err(ClientError::BadStatusLine { id: Some(id) });
                    }
                    if let Err(reason) = flow.mechanism.finish() {
                        self.phase = Phase::Transaction;
                        return Err(ClientError::ServerUnverified { id, reason });
                    }
                }
                self.phase = Phase::Transaction;
                Event::Status { id, line: status }
            }
            Kind::Utf8 => {
                self.utf8 = true;
                Event::Status { id, line: status }
            }
            Kind::Quit => {
                self.phase = Phase::Closed;
                Event::Closed { id, line: status }
            }
            Kind::Stls => {
                self.phase = Phase::TlsHandshake;
                if !self.input.is_empty() {
                    // IMPL-13, TV-8: plaintext after the +OK is never POP3.
                    return Err(ClientError::DataAfterStls {
                        len: self.input.len(),
                    });
                }
                Event::StartTls { id }
            }
            Kind::Stat => match DropListing::parse(status.text().as_bytes()) {
                Ok(drop) => Event::Stat {
                    id,
                    line: status,
                    drop,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::ScanOne => match ScanListing::parse(status.text().as_bytes()) {
                Ok(scan) => Event::ScanOne {
                    id,
                    line: status,
                    scan,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::UidOne => match UidListing::parse(status.text().as_bytes()) {
                Ok(uid) => Event::UidOne {
                    id,
                    line: status,
                    uid,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::Listing(listing) => {
                self.reading = Reading::Listing {
                    id,
                    listing: Listing::new(listing),
                    lines: 0,
                    bytes: 0,
                    overflowed: false,
                    malformed: false,
                };
                return Ok(None);
            }
            Kind::Body => {
                self.reading = Reading::Body {
                    id,
                    decoder: BodyDecoder::new(self.config.decoder()),
                };
                Event::BodyStart { id, line: status }
            }
        }))
    }

    fn on_negative(
        &mut self,
        id: CommandId,
        kind: Kind,
        line: StatusLine,
    ) -> Result<Option<Event>, ClientError> {
        match kind {
            Kind::Auth => self.auth = None,
            Kind::Quit => {
                self.phase = Phase::Closed;
                return Ok(Some(Event::Closed { id, line }));
            }
            Kind::Stls if self.config.require_tls => {
                return Err(ClientError::StlsRefused { line });
            }
            _ => {}
        }
        Ok(Some(Event::Status { id, line }))
    }

    fn on_greeting(&mut self, line: &[u8]) -> Result<Event, ClientError> {
        match Greeting::parse(line) {
            Ok(greeting) => {
                self.timestamp = greeting
                    .timestamp()
                    .and_then(|ts| Timestamp::parse(ts).ok());
                self.phase = Phase::Authorization;
                Ok(Event::Greeting {
                    apop: self.timestamp.is_some(),
                    greeting,
                })
            }
            Err(_) => Err(ClientError::GreetingRefused {
                line: StatusLine::parse(line).ok(),
            }),
        }
    }

    fn on_continuation(&mut self, line: &[u8]) -> Result<Option<Event>, ClientError> {
        let Some(flow) = self.auth.as_mut() else {
            return Err(ClientError::UnexpectedContinuation);
        };
        if flow.cancelled {
            return Err(ClientError::UnexpectedContinuation);
        }
        let id = flow.id;
        let payload = match line.strip_prefix(b"+ ") {
            Some(rest) => rest,
            // IMPL-12: "+" alone is an empty challenge too.
            None if line == b"+" => &[][..],
            None => return Err(ClientError::BadStatusLine { id: Some(id) }),
        };
        let answer = match sasl::decode_base64(payload) {
            Ok(challenge) => match flow.deferred.take() {
                Some(ir) => Ok(ir),
                None => flow.mechanism.respond(&challenge),
            },
            Err(e) => Err(e),
        };
        match answer {
            Ok(response) => {
                self.output
                    .extend_from_slice(&sasl::encode_base64(response.expose_secret()));
                self.output.extend_from_slice(b"\r\n");
                Ok(None)
            }
            Err(reason) => {
                flow.cancelled = true;
                self.output.extend_from_slice(b"*\r\n");
                Err(ClientError::Sasl { id, reason })
            }
        }
    }
}

fn keyword_name(command: &Command) -> &'static str {
    match command {
        Command::User(_) => "USER",
        Command::Pass(_) => "PASS",
        Command::Apop { .. } => "APOP",
        Command::Auth { .. } => "AUTH",
        Command::Stls => "STLS",
        Command::Capa => "CAPA",
        Command::Utf8 => "UTF8",
        Command::Lang(_) => "LANG",
        Command::Quit => "QUIT",
        Command::Stat => "STAT",
        Command::List(_) => "LIST",
        Command::Retr(_) => "RETR",
        Command::Dele(_) => "DELE",
        Command::Noop => "NOOP",
        Command::Rset => "RSET",
        Command::Top { .. } => "TOP",
        Command::Uidl(_) => "UIDL",
        Command::Xtnd(_) => "XTND",
        Command::Other(_) => "extension command",
    }
}

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
//! it returns `Ok(None)`. When the socket reports end of file, call
//! [`Client::connection_closed`] and drain the events once more. The reply to each
//! command is decided by the command at the head of the queue of commands in flight
//! (SPEC.md §7): a reply does not say whether it is multi-line.
//!
//! # What the machine guarantees
//!
//! * Commands go in through [`Client::send`], [`Client::apop`],
//!   [`Client::authenticate`] and [`Client::send_extension`], which check the state,
//!   the advertised capabilities, pipelining, the AUTH and STLS barriers and the TLS
//!   policy, and refuse with a [`SendError`] (nothing written) instead of producing a
//!   wrong stream.
//! * Every command sent ends with exactly one final event (see [`Event`]), or with a
//!   non-fatal error standing in for it ([`ClientError::ListingTooLarge`],
//!   [`ClientError::BodyTooLarge`], [`ClientError::MalformedReply`],
//!   [`ClientError::StlsRefused`]), in the order the commands were sent.
//! * The events do not depend on how the input is split: one byte at a time or all
//!   at once gives the same events once consecutive [`Event::BodyChunk`]s are joined.
//! * Memory stays bounded by the configured limits: bodies are streamed as slices of
//!   the input, listings and lines are capped.
//! * After a fatal error ([`ClientError::is_fatal`]) the same error comes back from
//!   every [`Client::next_event`] call, no event follows, and [`Client::phase`] is
//!   [`Phase::Closed`].

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
use crate::options::ReplyOptions;
use crate::sasl::{self, ClientMechanism, SaslError};
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
    /// CAPA: a capability listing (kept as the cache).
    Capa,
    /// `LANG range`: `+OK tag text` names the language now in use.
    LangSelect,
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
    /// A multi-line listing of this kind (not CAPA).
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

/// A command in flight.
#[derive(Debug)]
struct Pending {
    id: CommandId,
    kind: Kind,
    /// An XTND command: the RFC 1082 `+ OK` typo may be accepted for its reply
    /// (IMPL-15), and `XTND BBOARDS name` / `XTND ARCHIVE name` open a group.
    xtnd: Option<XtndKind>,
    /// Octets received when this command (or, for AUTH, the client's last line)
    /// went out: its reply must start at or after this offset of the input stream.
    received_at_send: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XtndKind {
    /// Opens a group: LIST then gives `msg size maxima` (R1082-4).
    OpensGroup,
    Other,
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
    fn push(&mut self, line: &[u8], options: &ReplyOptions) -> bool {
        match self {
            Listing::Capa(v) => Capability::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Scan(v) => ScanListing::parse_with(line, options)
                .map(|c| v.push(c))
                .is_ok(),
            Listing::Uid(v) => UidListing::parse_with(line, options)
                .map(|c| v.push(c))
                .is_ok(),
            Listing::Lang(v) => LanguageListing::parse(line).map(|c| v.push(c)).is_ok(),
            Listing::Groups(v) => GroupListing::parse_with(line, options)
                .map(|c| v.push(c))
                .is_ok(),
        }
    }

    fn clear(&mut self) {
        match self {
            Listing::Capa(v) => *v = Vec::new(),
            Listing::Scan(v) => *v = Vec::new(),
            Listing::Uid(v) => *v = Vec::new(),
            Listing::Lang(v) => *v = Vec::new(),
            Listing::Groups(v) => *v = Vec::new(),
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
    Body {
        id: CommandId,
        decoder: BodyDecoder,
        /// The body reached `max_body`: the error is reported next.
        over_limit: bool,
        /// The error was reported: the rest of the body is dropped up to its
        /// terminator, and no `BodyEnd` follows.
        skipping: bool,
    },
}

struct AuthFlow {
    id: CommandId,
    mechanism: Box<dyn ClientMechanism>,
    /// An initial response too long for the command line (R5034-8), one the
    /// mechanism wants on its own line (XO-2), or one that may not go inline because
    /// the server did not list SASL (R5034-2): sent after the first empty challenge.
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
    /// The capability cache was filled in TRANSACTION.
    capabilities_after_login: bool,
    timestamp: Option<Timestamp>,
    tls: bool,
    utf8: bool,
    /// A discussion group is open: LIST gives `msg size maxima` (R1082-4).
    bboard: bool,
    /// The last reply was `+OK` to USER, so PASS may follow.
    user_accepted: bool,
    auth: Option<AuthFlow>,
    /// Non-fatal errors to report before anything else, found while finishing an
    /// event.
    queued_errors: VecDeque<ClientError>,
    /// The connection reached end of file.
    eof: bool,
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
            capabilities_after_login: false,
            timestamp: None,
            tls: config.implicit_tls,
            utf8: false,
            bboard: false,
            user_accepted: false,
            auth: None,
            queued_errors: VecDeque::new(),
            eof: false,
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

    /// Whether UTF-8 mode is on (`+OK` to UTF8, R6856-4).
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// The capabilities of the last CAPA reply, or `None` if there was none since
    /// the connection or the last TLS handshake (R2595-7).
    pub fn capabilities(&self) -> Option<&[Capability]> {
        self.capabilities.as_deref()
    }

    /// Whether the server listed a capability with this tag (case-insensitive).
    pub fn has_capability(&self, tag: &[u8]) -> bool {
        self.capabilities
            .as_deref()
            .is_some_and(|caps| caps.iter().any(|c| c.tag().eq_ignore_ascii_case(tag)))
    }

    /// Whether CAPA should be asked again now: the session is in TRANSACTION and the
    /// capabilities known were listed before login with `LOGIN-DELAY ... USER` or
    /// `EXPIRE ... USER`, whose exact per-user values the server gives after login
    /// (R2449-15, R2449-16, E-20).
    pub fn should_refresh_capabilities(&self) -> bool {
        self.phase == Phase::Transaction
            && !self.capabilities_after_login
            && self.capabilities.as_deref().is_some_and(|caps| {
                caps.iter().any(|c| {
                    matches!(
                        c,
                        Capability::LoginDelay { per_user: true, .. }
                            | Capability::Expire { per_user: true, .. }
                    )
                })
            })
    }

    /// The greeting's APOP timestamp, if it held a well-formed one (an RFC 822
    /// msg-id, see [`Timestamp`]). A malformed one is never kept.
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
    /// Enqueue bytes as soon as they are read, before sending more commands: a
    /// reply must start after its command went out, and a line that was enqueued
    /// before then is reported as [`ClientError::Unsolicited`] (a pre-sent or
    /// injected reply), never taken as the answer.
    ///
    /// While a TLS handshake is pending (after [`Event::StartTls`]) no POP3 bytes
    /// may arrive: any are discarded and reported as the fatal
    /// [`ClientError::DataAfterStls`] (IMPL-13). Bytes after the session ended are
    /// the fatal [`ClientError::InputAfterClose`].
    pub fn enqueue_input(&mut self, data: &[u8]) {
        if data.is_empty() || self.fatal.is_some() || self.eof {
            return;
        }
        match self.phase {
            Phase::TlsHandshake => self.fail(ClientError::DataAfterStls),
            Phase::Closed => self.fail(ClientError::InputAfterClose),
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
            && !self.eof
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

    /// Tells the machine the server closed the connection (the socket read gave
    /// end of file). Events for the bytes already buffered still come out; then,
    /// unless the session ended normally (QUIT answered, nothing left), the fatal
    /// [`ClientError::ConnectionClosed`] says which reply was cut short.
    pub fn connection_closed(&mut self) {
        self.eof = true;
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
    /// cache is emptied (R2595-7); send CAPA again to learn the new one. Does
    /// nothing unless [`Event::StartTls`] was the last event.
    pub fn tls_established(&mut self) {
        if self.phase == Phase::TlsHandshake {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.capabilities = None;
            self.capabilities_after_login = false;
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
        self.queued_errors.clear();
        self.reading = Reading::Lines;
    }

    // ----- commands -----

    /// Sends a command, after checking it is valid now: the state, the advertised
    /// capabilities, pipelining, the AUTH and STLS barriers, and the TLS policy.
    /// The reply comes as events carrying the returned id.
    ///
    /// Use [`Client::authenticate`] for AUTH, [`Client::apop`] to have the digest
    /// computed, and [`Client::send_extension`] for an extension whose reply is
    /// multi-line.
    pub fn send(&mut self, command: Command) -> Result<CommandId, SendError> {
        if matches!(command, Command::Auth { .. }) {
            return Err(SendError::WrongState {
                command: "AUTH",
                state: "through send(); use authenticate()",
            });
        }
        let kind = self.check(&command)?;
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
        self.check(&command)?;
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

    /// Checks a command against the state and policy; gives its reply shape.
    fn check(&self, command: &Command) -> Result<Kind, SendError> {
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
        self.needs(command)?;
        Ok(kind)
    }

    // ----- events -----

    /// The next thing that happened, `Ok(None)` when more input is needed, or an
    /// error. After a fatal error ([`ClientError::is_fatal`]) the same error comes
    /// back on every call and no event follows. A non-fatal error leaves the
    /// session going: call again for the next event.
    pub fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        if let Some(fatal) = &self.fatal {
            return Err(fatal.clone());
        }
        if let Some(error) = self.queued_errors.pop_front() {
            return Err(error);
        }
        let result = match self.step() {
            Ok(None) if self.eof => self.at_eof(),
            other => other,
        };
        match result {
            Err(error) if error.is_fatal() => {
                self.fail(error.clone());
                Err(error)
            }
            other => other,
        }
    }

    /// The input is exhausted and the connection closed.
    fn at_eof(&self) -> Result<Option<Event>, ClientError> {
        let clean = self.phase == Phase::Closed
            && self.pending.is_empty()
            && self.input.is_empty()
            && !self.framer.is_discarding();
        if clean {
            Ok(None)
        } else {
            Err(ClientError::ConnectionClosed {
                id: self.pending.front().map(|p| p.id),
            })
        }
    }

    fn step(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            match &mut self.reading {
                Reading::Body {
                    id,
                    decoder,
                    over_limit,
                    skipping,
                } => {
                    let id = *id;
                    if *over_limit {
                        *over_limit = false;
                        *skipping = true;
                        return Err(self.body_too_large(id));
                    }
                    match decoder.decode(&mut self.input) {
                        Ok(BodyPiece::Data(mut data)) => {
                            if *skipping {
                                continue;
                            }
                            if let Some(limit) = self.config.max_body {
                                let total = decoder.body_len();
                                if total > limit {
                                    // Hand out exactly `limit` octets, whatever the
                                    // split, then the error.
                                    let before = total.saturating_sub(data.len() as u64);
                                    let keep = usize::try_from(limit.saturating_sub(before))
                                        .unwrap_or(0)
                                        .min(data.len());
                                    if keep == 0 {
                                        *skipping = true;
                                        return Err(self.body_too_large(id));
                                    }
                                    data.truncate(keep);
                                    *over_limit = true;
                                }
                            }
                            return Ok(Some(Event::BodyChunk { id, data }));
                        }
                        Ok(BodyPiece::End) => {
                            let size = decoder.body_len();
                            let skipped = *skipping;
                            self.pending.pop_front();
                            self.reading = Reading::Lines;
                            self.framer.reset();
                            if skipped {
                                continue;
                            }
                            return Ok(Some(Event::BodyEnd { id, size }));
                        }
                        Ok(BodyPiece::NeedMore) => return Ok(None),
                        // The decoder has no limit of its own; should it report
                        // one, it is the same condition.
                        Err(_) => {
                            *skipping = true;
                            return Err(self.body_too_large(id));
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
                    // The listing ended with nothing to report; go on.
                }
                Reading::Lines => {
                    match self.phase {
                        // QUIT was answered: nothing more may come (the same error
                        // whether the bytes came with the reply or after it).
                        Phase::Closed if !self.input.is_empty() => {
                            return Err(ClientError::InputAfterClose)
                        }
                        Phase::Closed | Phase::TlsHandshake => return Ok(None),
                        _ => {}
                    }
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
                    let start = self.received.saturating_sub(self.input.len() as u64);
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

    fn body_too_large(&self, id: CommandId) -> ClientError {
        ClientError::BodyTooLarge {
            id,
            limit: self.config.max_body.unwrap_or(u64::MAX),
        }
    }

    /// The options the reply parsers use for the reply at the head of the queue.
    fn reply_options(&self, xtnd: bool) -> ReplyOptions {
        let mut options = self.config.reply_options;
        // IMPL-15: `+ OK` only for XTND.
        options.spaced_status &= xtnd;
        options.bboard_scan = self.bboard;
        options
    }

    /// Reads listing lines until the terminator or the end of the input.
    fn listing_line(&mut self) -> Result<Option<Event>, ClientError> {
        let options = self.reply_options(false);
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
                        max_lines: self.config.max_listing_lines,
                        max_bytes: self.config.max_listing_bytes,
                    });
                }
                let event = listing.into_event(id);
                if let Event::Capabilities { capabilities, .. } = &event {
                    self.capabilities = Some(capabilities.clone());
                    self.capabilities_after_login = self.phase == Phase::Transaction;
                    if self.config.require_tls && !self.tls && !self.has_capability(b"STLS") {
                        self.queued_errors.push_back(ClientError::StlsNotOffered);
                    }
                }
                if malformed {
                    self.queued_errors
                        .push_front(ClientError::BadListingLine { id });
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
                listing.clear();
            } else if !listing.push(content, &options) {
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
        // The reply must have arrived after its command (or, in AUTH, the client's
        // last line) went out: anything earlier was sent before the server could
        // have seen it.
        if start < head.received_at_send {
            return Err(ClientError::Unsolicited { len: line.len() });
        }
        let id = head.id;
        let kind = head.kind;
        let xtnd = head.xtnd;
        let options = self.reply_options(xtnd.is_some());
        let status = match StatusLine::parse_with(line, &options) {
            Ok(status) => status,
            Err(_) if kind == Kind::Auth && line.first() == Some(&b'+') => {
                return self.on_continuation(id, line);
            }
            Err(_) if line.starts_with(b"+ ") || line == b"+" => {
                return Err(ClientError::UnexpectedContinuation { id })
            }
            Err(_) => return Err(ClientError::BadStatusLine { id: Some(id) }),
        };
        // Multi-line replies keep their command at the head until the terminator.
        let multi_line = matches!(kind, Kind::Capa | Kind::Listing(_) | Kind::Body);
        if status.is_err() || !multi_line {
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
                self.phase = Phase::Transaction;
                if let Some(mut flow) = self.auth.take() {
                    if flow.cancelled {
                        // `+OK` after `*` breaks R5034-6: logged in by an exchange the
                        // client gave up on.
                        return Err(ClientError::ServerUnverified {
                            id,
                            reason: SaslError::Incomplete,
                        });
                    }
                    if flow.deferred.is_some() {
                        // `+OK` before the initial response was even sent.
                        return Err(ClientError::ServerUnverified {
                            id,
                            reason: SaslError::Incomplete,
                        });
                    }
                    if let Err(reason) = flow.mechanism.finish() {
                        return Err(ClientError::ServerUnverified { id, reason });
                    }
                }
                Event::Status { id, line: status }
            }
            Kind::Utf8 => {
                self.utf8 = true;
                Event::Status { id, line: status }
            }
            Kind::LangSelect => match LanguageListing::parse(status.text().as_bytes()) {
                Ok(language) => Event::Language {
                    id,
                    line: status,
                    language,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::Quit => {
                self.phase = Phase::Closed;
                Event::Closed { id, line: status }
            }
            Kind::Stls => {
                self.phase = Phase::TlsHandshake;
                if !self.input.is_empty() {
                    // IMPL-13, TV-8: plaintext after the +OK is never POP3. The
                    // bytes are dropped unparsed and the machine stops; the error
                    // follows this event whatever the split of the input.
                    self.fail(ClientError::DataAfterStls);
                }
                Event::StartTls { id }
            }
            Kind::Stat => match DropListing::parse_with(status.text().as_bytes(), &options) {
                Ok(drop) => Event::Stat {
                    id,
                    line: status,
                    drop,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::ScanOne => match ScanListing::parse_with(status.text().as_bytes(), &options) {
                Ok(scan) => Event::ScanOne {
                    id,
                    line: status,
                    scan,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::UidOne => match UidListing::parse_with(status.text().as_bytes(), &options) {
                Ok(uid) => Event::UidOne {
                    id,
                    line: status,
                    uid,
                },
                Err(_) => return Err(ClientError::MalformedReply { id, line: status }),
            },
            Kind::Capa | Kind::Listing(_) => {
                let listing = match kind {
                    Kind::Listing(listing) => listing,
                    _ => ListingKind::Capa,
                };
                if listing == ListingKind::Groups && xtnd == Some(XtndKind::OpensGroup) {
                    self.bboard = true;
                }
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
                    // The machine applies `max_body` itself, so that exactly the
                    // limit is handed out whatever the split.
                    decoder: BodyDecoder::new(self.config.decoder()),
                    over_limit: false,
                    skipping: false,
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
                return Err(ClientError::StlsRefused { id, line });
            }
            // R2449-7: a server without CAPA has no STLS either (R2595-2).
            Kind::Capa if self.config.require_tls && !self.tls => {
                self.queued_errors.push_back(ClientError::StlsNotOffered);
            }
            _ => {}
        }
        Ok(Some(Event::Status { id, line }))
    }

    fn on_greeting(&mut self, line: &[u8]) -> Result<Event, ClientError> {
        let options = self.reply_options(false);
        match Greeting::parse_with(line, &options) {
            Ok(greeting) => {
                // R1939-28: the timestamp must be an RFC 822 msg-id; a malformed
                // one is dropped, so APOP is refused (E-7).
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
                line: StatusLine::parse_with(line, &options).ok(),
            }),
        }
    }

    fn on_continuation(
        &mut self,
        id: CommandId,
        line: &[u8],
    ) -> Result<Option<Event>, ClientError> {
        let Some(flow) = self.auth.as_mut().filter(|flow| flow.id == id) else {
            return Err(ClientError::UnexpectedContinuation { id });
        };
        if flow.cancelled {
            return Err(ClientError::UnexpectedContinuation { id });
        }
        let payload = match line.strip_prefix(b"+ ") {
            Some(rest) => rest,
            // IMPL-12: "+" alone is an empty challenge too.
            None if line == b"+" => &[][..],
            None => return Err(ClientError::BadStatusLine { id: Some(id) }),
        };
        let answer = match sasl::decode_base64(payload) {
            Ok(challenge) => match flow.deferred.take() {
                // R5034-8: the initial response follows the empty challenge.
                Some(ir) if challenge.is_empty() => Ok(ir),
                Some(_) => Err(SaslError::MalformedChallenge(
                    "a non-empty challenge where the initial response was due",
                )),
                None => flow.mechanism.respond(&challenge),
            },
            Err(e) => Err(e),
        };
        let result = match answer {
            Ok(response) => {
                self.output
                    .extend_from_slice(&sasl::encode_base64(response.expose_secret()));
                self.output.extend_from_slice(b"\r\n");
                Ok(None)
            }
            Err(reason) => {
                // R5034-6, R5034-10: cancel; the server answers `-ERR`.
                flow.cancelled = true;
                self.output.extend_from_slice(b"*\r\n");
                if reason == SaslError::ServerSignatureMismatch {
                    // RFC 5802: a server that cannot prove itself is not the
                    // server; the session must not go on.
                    Err(ClientError::ServerUnverified { id, reason })
                } else {
                    Err(ClientError::Sasl { id, reason })
                }
            }
        };
        // The server's next line answers the line just written.
        if let Some(head) = self.pending.front_mut() {
            head.received_at_send = self.received;
        }
        result
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

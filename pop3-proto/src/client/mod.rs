//! The client half of the codec: a pure state machine that a program drives with
//! the bytes it reads, and that tells it which bytes to write and what happened.
//! It keeps the crate's IO contract, [`Machine`](crate::Machine) (and
//! [`StartTls`](crate::StartTls)); the module documentation of
//! [`machine`](crate::machine) gives the call order.
//!
//! ```
//! use pop3_proto::Machine;
//! use pop3_proto::client::{Client, ClientConfig, Event};
//! use pop3_proto::types::{Command, MessageNumber, Username, Password};
//!
//! let mut client = Client::new(ClientConfig::default());
//! let taken = client.enqueue_input(b"+OK POP3 server ready\r\n");
//! assert_eq!(taken, 23);
//! assert!(matches!(client.next_event(), Ok(Some(Event::Greeting { .. }))));
//!
//! let user = client.send(Command::User(Username::new("alice").unwrap())).unwrap();
//! assert_eq!(&client.take_output().unwrap()[..], b"USER alice\r\n");
//! let _ = client.enqueue_input(b"+OK\r\n");
//! assert!(matches!(client.next_event(), Ok(Some(Event::Status { id, .. })) if id == user));
//! ```
//!
//! The program's loop: write whatever [`Machine::take_output`](crate::Machine::take_output)
//! gives, feed what the socket reads (at most
//! [`Machine::input_room`](crate::Machine::input_room) octets) to
//! [`Machine::enqueue_input`](crate::Machine::enqueue_input), and call
//! [`Machine::next_event`](crate::Machine::next_event) until it returns
//! `Ok(None)`. When the socket reports end of file, call
//! [`Machine::enqueue_eof`](crate::Machine::enqueue_eof) and drain the events once
//! more. The reply to each command is decided by the command at the head of the
//! queue of commands in flight: a reply does not say whether it is multi-line
//! (RFC 1939 §3).
//!
//! # What the machine guarantees
//!
//! * Commands go in through [`Client::send`], [`Client::apop`],
//!   [`Client::authenticate`] and [`Client::send_extension`], which check the state,
//!   the advertised capabilities, pipelining, the AUTH and STLS barriers and the TLS
//!   policy, and refuse with a [`SendError`] (nothing written) instead of producing a
//!   wrong stream. [`Client::send_unchecked`] skips only the capability check.
//! * Every command sent ends with exactly one final event (see [`Event`]), or with an
//!   [`Event::Failed`] standing in for it ([`CommandError::ends_command`]), in the
//!   order the commands were sent.
//! * Every failure the session survives is an [`Event::Failed`] naming its command,
//!   so `next_event()?` never ends a healthy session.
//! * The events do not depend on how the input is split: one byte at a time or all
//!   at once gives the same events once consecutive [`Event::BodyChunk`]s are joined.
//! * Memory stays bounded by the configured limits: the input buffer by
//!   [`ClientConfig::max_buffered_input`], bodies are streamed as slices of the
//!   input, listings and lines are capped.
//! * After an error ([`ClientError`]) the same error comes back from every
//!   [`Machine::next_event`](crate::Machine::next_event) call, no event follows, and
//!   [`Client::phase`] is [`Phase::Closed`].

mod config;
mod error;
mod event;
mod io;
mod receive;
mod send;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

pub use config::ClientConfig;
pub use error::{ClientError, CommandError, SendError};
pub use event::{CommandId, Event};

use crate::apop::Timestamp;
use crate::dot::{BodyDecoder, BodyPiece};
use crate::encode::Encode;
use crate::error::ParseError;
use crate::framing::{FramingConfig, LineFramer};
use crate::options::ReplyOptions;
use crate::sasl::{self, ClientMechanism, SaslError};
use crate::secret::Secret;
use crate::types::{
    ApopDigest, AuthResponse, Base64Text, Capability, Command, Continuation, DropListing,
    Extension, Greeting, GroupListing, InitialResponse, LanguageListing, ScanListing, StatusLine,
    UidListing, Username, Xtnd,
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
    /// [`StartTls::tls_established`](crate::StartTls::tls_established).
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
    mechanism: Box<dyn ClientMechanism + Send>,
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
    /// Events found while finishing another one (the recoverable failures that
    /// follow a listing), reported before anything else.
    queued: VecDeque<Event>,
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
            queued: VecDeque::new(),
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

    fn fail(&mut self, error: ClientError) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
        self.phase = Phase::Closed;
        self.pending.clear();
        self.auth = None;
        self.input.clear();
        self.queued.clear();
        self.reading = Reading::Lines;
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

#[cfg(test)]
mod tests;

//! A scripted-server harness for the client machine.
//!
//! A script is a list of [`Step`]s. Each step does one thing through the client's
//! API (send a command, start AUTH, finish a TLS handshake, report end of file),
//! then feeds the server's bytes for that step. The harness checks, per step, the
//! exact bytes the client wrote and the events (and errors) it gave, rendered as
//! short strings so a script reads like a trace:
//!
//! ```text
//! greeting apop=true +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>
//! #1 stat 2 320
//! #3 body-start +OK 120 octets
//! #3 body "From: a@example.com\r\n..."
//! #3 body-end 120
//! error DataAfterStls
//! refused MustWait
//! ```
//!
//! [`check`] replays a script twice, the server bytes once all at once and once
//! one byte at a time, and requires the same bytes and events both times (body
//! chunks of one command are joined before comparing). [`run`] replays it with any
//! [`Feed`] and returns what happened, for tests that compare splits themselves.

use std::collections::VecDeque;

use bytes::Bytes;
use pop3_proto::client::{
    Client, ClientConfig, ClientError, CommandError, CommandId, Event, SendError,
};
use pop3_proto::sasl::{ClientMechanism, SaslError};
use pop3_proto::secret::Secret;
use pop3_proto::types::{Command, Extension, StatusLine, Username};
use pop3_proto::{Machine, StartTls};

/// What a step does through the client's API before the server speaks.
pub enum Act {
    /// Nothing: the server speaks first (the greeting, or unsolicited bytes).
    Nothing,
    /// [`Client::send`].
    Send(Command),
    /// [`Client::send_extension`], with its reply shape.
    Extension(Extension, bool),
    /// [`Client::apop`] with a user name and a shared secret.
    Apop(&'static str, &'static [u8]),
    /// [`Client::authenticate`].
    Auth(Box<dyn ClientMechanism + Send>),
    /// [`StartTls::tls_established`].
    TlsEstablished,
    /// [`Machine::enqueue_eof`].
    ConnectionClosed,
}

impl std::fmt::Debug for Act {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Act::Nothing => f.write_str("Nothing"),
            Act::Send(c) => write!(f, "Send({c:?})"),
            Act::Extension(e, ml) => write!(f, "Extension({e:?}, {ml})"),
            Act::Apop(user, _) => write!(f, "Apop({user:?}, <secret>)"),
            Act::Auth(m) => write!(f, "Auth({})", m.name()),
            Act::TlsEstablished => f.write_str("TlsEstablished"),
            Act::ConnectionClosed => f.write_str("ConnectionClosed"),
        }
    }
}

/// One step of a script: an act, the bytes the client must write during the
/// step, the server's bytes, and the events expected.
#[derive(Debug)]
pub struct Step {
    /// What the step does.
    pub act: Act,
    /// Every byte the client must write during the step (the command, and any
    /// SASL lines written while the server's bytes are read).
    pub client: Vec<u8>,
    /// The server's bytes for this step, fed after the act.
    pub server: Vec<u8>,
    /// The events and errors expected, rendered (see [`render_event`]).
    pub events: Vec<String>,
}

impl Step {
    /// A step doing `act`, writing nothing, receiving nothing, expecting nothing.
    pub fn new(act: Act) -> Self {
        Step {
            act,
            client: Vec::new(),
            server: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The server speaks first (the greeting).
    pub fn server_first(server: impl AsRef<[u8]>) -> Self {
        Step::new(Act::Nothing).server(server)
    }

    /// A step sending `command`.
    pub fn send(command: Command) -> Self {
        Step::new(Act::Send(command))
    }

    /// Sets the bytes the client must write.
    pub fn client(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.client = bytes.as_ref().to_vec();
        self
    }

    /// Sets the server's bytes.
    pub fn server(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.server = bytes.as_ref().to_vec();
        self
    }

    /// Sets the expected events.
    pub fn expect<S: AsRef<str>>(mut self, events: impl IntoIterator<Item = S>) -> Self {
        self.events = events.into_iter().map(|s| s.as_ref().to_string()).collect();
        self
    }
}

/// How the server's bytes of each step are handed to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// All of a step's bytes in one call.
    Whole,
    /// One byte per call.
    ByteAtATime,
    /// Pieces of this many bytes.
    Chunks(usize),
    /// Cut at these offsets of each step's bytes (sorted, out-of-range ignored).
    Splits(Vec<usize>),
}

impl Feed {
    /// The pieces `bytes` is cut into.
    pub fn pieces_of<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        self.pieces(bytes)
    }

    fn pieces<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        if bytes.is_empty() {
            return Vec::new();
        }
        match self {
            Feed::Whole => vec![bytes],
            Feed::ByteAtATime => bytes.chunks(1).collect(),
            Feed::Chunks(n) => bytes.chunks((*n).max(1)).collect(),
            Feed::Splits(cuts) => {
                let mut out = Vec::new();
                let mut prev = 0;
                for &cut in cuts {
                    if cut > prev && cut < bytes.len() {
                        out.push(&bytes[prev..cut]);
                        prev = cut;
                    }
                }
                out.push(&bytes[prev..]);
                out
            }
        }
    }
}

/// One thing the client reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An event.
    Event(Event),
    /// The error from [`Machine::next_event`] that ended the session.
    Error(ClientError),
    /// A command the API refused.
    Refused(SendError),
}

/// What one step gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The bytes the client wrote during the step.
    pub client: Vec<u8>,
    /// What the client reported, body chunks of one command joined.
    pub items: Vec<Item>,
}

impl StepOutcome {
    /// The items rendered as strings.
    pub fn rendered(&self) -> Vec<String> {
        self.items.iter().map(render_item).collect()
    }
}

/// What a whole run gave.
#[derive(Debug)]
pub struct Outcome {
    /// Per step.
    pub steps: Vec<StepOutcome>,
    /// The ids the acts got, per step (`None` for refusals and other acts).
    pub ids: Vec<Option<CommandId>>,
    /// The client machine at the end.
    pub client: Client,
}

impl Outcome {
    /// Every byte the client wrote.
    pub fn client_wrote(&self) -> Vec<u8> {
        self.steps.iter().flat_map(|s| s.client.clone()).collect()
    }

    /// Every item of every step, joined.
    pub fn items(&self) -> Vec<Item> {
        coalesce_items(self.steps.iter().flat_map(|s| s.items.clone()).collect())
    }

    /// The body bytes handed out for a command.
    pub fn body(&self, id: CommandId) -> Vec<u8> {
        let mut out = Vec::new();
        for s in &self.steps {
            for item in &s.items {
                if let Item::Event(Event::BodyChunk { id: i, data }) = item {
                    if *i == id {
                        out.extend_from_slice(data);
                    }
                }
            }
        }
        out
    }
}

/// Runs a script against a new client with `config`, feeding each step's server
/// bytes as `feed` says. Nothing is checked.
pub fn run(config: ClientConfig, steps: Vec<Step>, feed: &Feed) -> Outcome {
    let mut client = Client::new(config);
    let mut outcomes = Vec::new();
    let mut ids = Vec::new();
    let mut fatal_seen = false;
    for step in steps {
        let mut items = Vec::new();
        let mut wrote = Vec::new();
        let mut id = None;
        let refused = match step.act {
            Act::Nothing => None,
            Act::Send(command) => client.send(command).map(|i| id = Some(i)).err(),
            Act::Extension(ext, ml) => client.send_extension(ext, ml).map(|i| id = Some(i)).err(),
            Act::Apop(user, secret) => client
                .apop(
                    Username::new(user).expect("user name"),
                    &Secret::new(secret.to_vec()),
                )
                .map(|i| id = Some(i))
                .err(),
            Act::Auth(mechanism) => client.authenticate(mechanism).map(|i| id = Some(i)).err(),
            Act::TlsEstablished => {
                client.tls_established();
                None
            }
            Act::ConnectionClosed => {
                client.enqueue_eof();
                None
            }
        };
        if let Some(error) = refused {
            items.push(Item::Refused(error));
        }
        ids.push(id);
        drain(&mut client, &mut items, &mut fatal_seen);
        take(&mut client, &mut wrote);
        for piece in feed.pieces(&step.server) {
            let mut piece = piece;
            loop {
                let taken = client.enqueue_input(piece);
                piece = &piece[taken..];
                drain(&mut client, &mut items, &mut fatal_seen);
                take(&mut client, &mut wrote);
                if piece.is_empty() {
                    break;
                }
                assert!(
                    taken > 0 || client.input_room() > 0,
                    "the client takes no input"
                );
            }
        }
        outcomes.push(StepOutcome {
            client: wrote,
            items: coalesce_items(items),
        });
    }
    Outcome {
        steps: outcomes,
        ids,
        client,
    }
}

/// Replays a script built by `make` all at once and one byte at a time, and
/// checks every step's client bytes and events against the script. Returns the
/// outcome of the all-at-once run.
pub fn check(config: ClientConfig, make: impl Fn() -> Vec<Step>) -> Outcome {
    let mut first = None;
    for feed in [Feed::Whole, Feed::ByteAtATime] {
        let steps = make();
        let expected: Vec<(String, Vec<u8>, Vec<String>)> = steps
            .iter()
            .map(|s| (format!("{:?}", s.act), s.client.clone(), s.events.clone()))
            .collect();
        let outcome = run(config, steps, &feed);
        for (i, ((act, client, events), got)) in expected.iter().zip(&outcome.steps).enumerate() {
            assert_eq!(
                String::from_utf8_lossy(&got.client),
                String::from_utf8_lossy(client),
                "step {i} ({act}), {feed:?}: client bytes"
            );
            assert_eq!(
                got.client, *client,
                "step {i} ({act}), {feed:?}: client bytes"
            );
            assert_eq!(
                got.rendered(),
                *events,
                "step {i} ({act}), {feed:?}: events"
            );
        }
        if first.is_none() {
            first = Some(outcome);
        }
    }
    first.expect("two runs")
}

fn take(client: &mut Client, wrote: &mut Vec<u8>) {
    while let Some(out) = client.take_output() {
        wrote.extend_from_slice(&out);
    }
}

/// Drains every event; the error that ends the session is recorded once per run.
fn drain(client: &mut Client, items: &mut Vec<Item>, fatal_seen: &mut bool) {
    loop {
        match client.next_event() {
            Ok(Some(event)) => items.push(Item::Event(event)),
            Ok(None) => return,
            Err(error) => {
                if !*fatal_seen {
                    items.push(Item::Error(error));
                }
                *fatal_seen = true;
                return;
            }
        }
    }
}

/// Joins consecutive body chunks of one command.
pub fn coalesce_items(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for item in items {
        if let (
            Some(Item::Event(Event::BodyChunk { id: a, data: prev })),
            Item::Event(Event::BodyChunk { id: b, data }),
        ) = (out.last_mut(), &item)
        {
            if a == b {
                let mut joined = prev.to_vec();
                joined.extend_from_slice(data);
                *prev = Bytes::from(joined);
                continue;
            }
        }
        out.push(item);
    }
    out
}

/// Renders an item: an event (see [`render_event`]), `error <Debug>` or
/// `refused <Debug>`.
pub fn render_item(item: &Item) -> String {
    match item {
        Item::Event(e) => render_event(e),
        Item::Error(e) => render_error(e),
        Item::Refused(e) => format!("refused {e:?}"),
    }
}

/// Renders a recoverable failure ([`Event::Failed`]) like an error, naming its
/// command: `error BodyTooLarge { id: CommandId(2), limit: 10 }`, with status
/// lines rendered as [`render_line`] does (`error StlsRefused #0 -ERR ...`).
/// `StlsNotOffered` renders without its id (the CAPA command's).
pub fn render_failure(id: CommandId, error: &CommandError) -> String {
    match error {
        CommandError::StlsRefused { line } => {
            format!("error StlsRefused #{} {}", id.sequence(), render_line(line))
        }
        CommandError::MalformedReply { line } => {
            format!(
                "error MalformedReply #{} {}",
                id.sequence(),
                render_line(line)
            )
        }
        CommandError::BadListingLine => format!("error BadListingLine {{ id: {id:?} }}"),
        CommandError::ListingTooLarge {
            max_lines,
            max_bytes,
        } => format!(
            "error ListingTooLarge {{ id: {id:?}, max_lines: {max_lines}, max_bytes: {max_bytes} }}"
        ),
        CommandError::BodyTooLarge { limit } => {
            format!("error BodyTooLarge {{ id: {id:?}, limit: {limit} }}")
        }
        CommandError::Sasl { reason } => format!("error Sasl {{ id: {id:?}, reason: {reason:?} }}"),
        CommandError::StlsNotOffered => "error StlsNotOffered".to_string(),
        other => format!("error {other:?} {{ id: {id:?} }}"),
    }
}

/// Renders the error that ended the session: `error <Debug>`, with status lines
/// rendered as [`render_line`] does.
pub fn render_error(error: &ClientError) -> String {
    match error {
        ClientError::GreetingRefused { line } => match line {
            Some(line) => format!("error GreetingRefused {}", render_line(line)),
            None => "error GreetingRefused (not a status line)".to_string(),
        },
        other => format!("error {other:?}"),
    }
}

/// Renders a status line as it came, with its response code's kind:
/// `-ERR [SYS/TEMP]{SysTemp} try later`.
pub fn render_line(line: &StatusLine) -> String {
    let mut s = String::from(if line.is_ok() { "+OK" } else { "-ERR" });
    if let Some(code) = line.code() {
        s.push_str(&format!(" {code}{{{:?}}}", code.kind()));
    }
    if !line.text().is_empty() {
        s.push(' ');
        s.push_str(&String::from_utf8_lossy(line.text().as_bytes()));
    }
    s
}

/// `"..."` with bytes escaped as Rust does.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// The rendering of a body chunk (joined) for command `seq`.
pub fn body(seq: u64, bytes: &[u8]) -> String {
    format!("#{seq} body {}", quoted(bytes))
}

/// Renders an event in one line.
pub fn render_event(event: &Event) -> String {
    match event {
        Event::Greeting { greeting, apop } => {
            format!("greeting apop={apop} {}", render_line(greeting.line()))
        }
        Event::Status { id, line } => format!("#{} {}", id.sequence(), render_line(line)),
        Event::Stat { id, drop, .. } => {
            format!("#{} stat {} {}", id.sequence(), drop.count, drop.size)
        }
        Event::ScanOne { id, scan, .. } => format!(
            "#{} scan {} {}{}",
            id.sequence(),
            scan.msg,
            scan.size,
            scan.maxima.map(|m| format!(" {m}")).unwrap_or_default()
        ),
        Event::UidOne { id, uid, .. } => format!(
            "#{} uid {} {}",
            id.sequence(),
            uid.msg,
            String::from_utf8_lossy(uid.uid.as_bytes())
        ),
        Event::Capabilities { id, capabilities } => format!(
            "#{} capa {}",
            id.sequence(),
            capabilities
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::ScanListing { id, listing } => format!(
            "#{} list [{}]",
            id.sequence(),
            listing
                .iter()
                .map(|s| format!(
                    "{} {}{}",
                    s.msg,
                    s.size,
                    s.maxima.map(|m| format!(" {m}")).unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::UidListing { id, listing } => format!(
            "#{} uidl [{}]",
            id.sequence(),
            listing
                .iter()
                .map(|u| format!("{} {}", u.msg, String::from_utf8_lossy(u.uid.as_bytes())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::Languages { id, languages } => format!(
            "#{} lang [{}]",
            id.sequence(),
            languages
                .iter()
                .map(|l| match &l.description {
                    Some(d) => format!(
                        "{} {}",
                        String::from_utf8_lossy(l.tag.as_bytes()),
                        String::from_utf8_lossy(d.as_bytes())
                    ),
                    None => String::from_utf8_lossy(l.tag.as_bytes()).into_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::Language { id, language, .. } => format!(
            "#{} language {}",
            id.sequence(),
            String::from_utf8_lossy(language.tag.as_bytes())
        ),
        Event::Groups { id, groups } => format!(
            "#{} groups [{}]",
            id.sequence(),
            groups
                .iter()
                .map(|g| format!(
                    "{} {}",
                    String::from_utf8_lossy(g.name.as_bytes()),
                    g.maxima
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::BodyStart { id, line } => {
            format!("#{} body-start {}", id.sequence(), render_line(line))
        }
        Event::BodyChunk { id, data } => body(id.sequence(), data),
        Event::BodyEnd { id, size } => format!("#{} body-end {size}", id.sequence()),
        Event::StartTls { id } => format!("#{} start-tls", id.sequence()),
        Event::Closed { id, line } => format!("#{} closed {}", id.sequence(), render_line(line)),
        Event::Failed { id, error } => render_failure(*id, error),
        other => format!("{other:?}"),
    }
}

/// A SASL mechanism driven by a script, to exercise every shape of AUTH exchange:
/// an initial response or none, challenges checked byte for byte and answered
/// with canned responses, a result for [`ClientMechanism::finish`].
#[derive(Debug)]
pub struct TestMechanism {
    /// The mechanism name.
    pub name: String,
    /// Whether it counts as cleartext (R2595-8).
    pub cleartext: bool,
    /// The initial response, raw.
    pub initial: Option<Vec<u8>>,
    /// Whether the initial response must go on its own line (XO-2).
    pub separate: bool,
    /// Expected challenges (raw) and the responses (raw) to give, in order.
    pub exchanges: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// What [`ClientMechanism::finish`] says.
    pub finish: Result<(), SaslError>,
}

impl TestMechanism {
    /// A mechanism called `name` with no initial response and no exchanges.
    pub fn new(name: &str) -> Self {
        TestMechanism {
            name: name.to_string(),
            cleartext: false,
            initial: None,
            separate: false,
            exchanges: VecDeque::new(),
            finish: Ok(()),
        }
    }

    /// With an initial response.
    pub fn initial(mut self, ir: impl AsRef<[u8]>) -> Self {
        self.initial = Some(ir.as_ref().to_vec());
        self
    }

    /// Expects `challenge` and answers `response`.
    pub fn exchange(mut self, challenge: impl AsRef<[u8]>, response: impl AsRef<[u8]>) -> Self {
        self.exchanges
            .push_back((challenge.as_ref().to_vec(), response.as_ref().to_vec()));
        self
    }

    /// Marks it cleartext.
    pub fn cleartext(mut self) -> Self {
        self.cleartext = true;
        self
    }

    /// Boxed, for [`Act::Auth`].
    pub fn boxed(self) -> Box<dyn ClientMechanism + Send> {
        Box::new(self)
    }
}

impl ClientMechanism for TestMechanism {
    fn name(&self) -> &str {
        &self.name
    }

    fn is_cleartext(&self) -> bool {
        self.cleartext
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(self.initial.clone().map(Secret::new))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        match self.exchanges.pop_front() {
            Some((expected, response)) if expected == challenge => Ok(Secret::new(response)),
            Some(_) => Err(SaslError::MalformedChallenge("not the scripted challenge")),
            None => Err(SaslError::UnexpectedChallenge),
        }
    }

    fn finish(&mut self) -> Result<(), SaslError> {
        self.finish.clone()
    }

    fn separate_initial_response(&self) -> bool {
        self.separate
    }
}

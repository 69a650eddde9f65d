//! Shared harness for the integration tests: a maildrop host for the server
//! machine, a client/server [`Pair`] stepped in memory (after quinn-proto's), and
//! helpers that drive one machine against scripted peer bytes.

pub mod blocking;
pub mod script;

use std::collections::HashMap;

use bytes::Bytes;
use pop3_proto::apop::{self, Timestamp};
use pop3_proto::client::{Client, ClientConfig, ClientError, CommandError, CommandId, Event};
use pop3_proto::dot::{wire_len, StuffConfig};
use pop3_proto::machine::{Machine, StartTls};
use pop3_proto::sasl::{self, CredentialStore, MemoryStore, ServerMechanism};
use pop3_proto::secret::Secret;
use pop3_proto::server::{
    AuthStep, MessageInfo, Refusal, Server, ServerConfig, ServerError, ServerEvent,
};
use pop3_proto::types::{Text, UniqueId};

/// Message 1 of TV-1 (120 octets).
pub const TV1_MSG1: &[u8] = b"From: a@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: one\r\n\r\nHello.\r\nThis is message one, padded to 120 octets!!!!\r\n";
/// Message 2 of TV-1 (200 octets; it exercises stuffing).
pub const TV1_MSG2: &[u8] = b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n.leading dot line\r\n.\r\n..two dots\r\nDone.\r\n";
/// The APOP timestamp of RFC 1939 §10.
pub const TV1_TIMESTAMP: &str = "<1896.697170952@dbc.mtview.ca.us>";

/// A host for the server machine: users, their maildrops in memory, a lock per
/// maildrop, and the SASL mechanism of the exchange in progress.
pub struct MemoryHost {
    /// user -> password.
    pub store: MemoryStore,
    passwords: HashMap<String, Vec<u8>>,
    /// user -> messages (bytes as stored) and their unique-ids.
    pub maildrops: HashMap<String, Vec<(Bytes, String)>>,
    /// Maildrops locked by a session.
    pub locked: Vec<String>,
    /// The user of this session once logged in.
    pub session_user: Option<String>,
    mechanism: Option<Box<dyn ServerMechanism>>,
    /// Messages removed by UPDATE: (user, index).
    pub removed: Vec<(String, usize)>,
    /// Refuse every UPDATE (to test `-ERR [SYS/TEMP]` on QUIT).
    pub fail_update: bool,
    /// Stuffing settings for sizes.
    pub stuff: StuffConfig,
    /// Nonce for SCRAM and CRAM-MD5 challenges.
    pub nonce: String,
    /// Answers to USER (with `check_user`): name -> Ok(text) or Err(text).
    pub user_replies: HashMap<String, Result<String, String>>,
    /// Refuse a locked maildrop with this text and no response code, as the
    /// RFC 1939 examples do, instead of `[IN-USE]`.
    pub locked_text: Option<String>,
}

impl MemoryHost {
    /// A host with one user and maildrop.
    pub fn new(user: &str, password: &str, messages: Vec<(Bytes, String)>) -> Self {
        let mut host = MemoryHost {
            store: MemoryStore::new(),
            passwords: HashMap::new(),
            maildrops: HashMap::new(),
            locked: Vec::new(),
            session_user: None,
            mechanism: None,
            removed: Vec::new(),
            fail_update: false,
            stuff: StuffConfig::default(),
            nonce: "3rfcNHYJY1ZVvWVs7j".to_string(),
            user_replies: HashMap::new(),
            locked_text: None,
        };
        host.add_user(user, password, messages);
        host
    }

    /// Adds a user and maildrop.
    pub fn add_user(&mut self, user: &str, password: &str, messages: Vec<(Bytes, String)>) {
        self.store
            .insert_user(user, Secret::new(password.as_bytes().to_vec()));
        self.passwords
            .insert(user.to_string(), password.as_bytes().to_vec());
        self.maildrops.insert(user.to_string(), messages);
    }

    /// The TV-1 host: mrose, secret `tanstaaf`, messages 1 and 2 of TV-1.
    pub fn tv1() -> Self {
        MemoryHost::new(
            "mrose",
            "tanstaaf",
            vec![
                (
                    Bytes::from_static(TV1_MSG1),
                    "whqtswO00WBw418f9t5JxYwZ".into(),
                ),
                (Bytes::from_static(TV1_MSG2), "QhdPYR:00WBw1Ph7x7".into()),
            ],
        )
    }

    fn listing(&self, user: &str) -> Vec<MessageInfo> {
        self.maildrops
            .get(user)
            .map(|msgs| {
                msgs.iter()
                    .map(|(body, uid)| MessageInfo {
                        size: wire_len(body, self.stuff),
                        uid: UniqueId::new(uid.as_bytes()).expect("valid uid"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn login(&mut self, server: &mut Server, user: &str) {
        if self.locked.iter().any(|u| u == user) {
            let refusal = match &self.locked_text {
                Some(text) => Refusal::with_text(Text::new(text.as_str()).expect("text")),
                None => Refusal::in_use(),
            };
            server.refuse_login(refusal).expect("answer");
            return;
        }
        self.locked.push(user.to_string());
        self.session_user = Some(user.to_string());
        let listing = self.listing(user);
        let count = listing.len();
        let size: u64 = listing.iter().map(|m| m.size).sum();
        let plural = if count == 1 { "" } else { "s" };
        // The RFC 1939 examples' wording.
        let text = format!("{user}'s maildrop has {count} message{plural} ({size} octets)");
        server
            .accept_login(listing, Some(Text::new(text).expect("text")))
            .expect("answer");
    }

    fn mechanism(&self, name: &str) -> Option<Box<dyn ServerMechanism>> {
        let ts = Timestamp::new(1896, 697170952, "dbc.mtview.ca.us").ok()?;
        Some(match name {
            "PLAIN" => Box::new(sasl::PlainServer::new()),
            "LOGIN" => Box::new(sasl::LoginServer::new()),
            "CRAM-MD5" => Box::new(sasl::CramMd5Server::new(ts)),
            "SCRAM-SHA-1" => {
                Box::new(sasl::ScramServer::new(sasl::ScramHash::Sha1, &self.nonce).ok()?)
            }
            "SCRAM-SHA-256" => {
                Box::new(sasl::ScramServer::new(sasl::ScramHash::Sha256, &self.nonce).ok()?)
            }
            "XOAUTH2" => Box::new(sasl::XOAuth2Server::new()),
            "OAUTHBEARER" => Box::new(sasl::OAuthBearerServer::new()),
            "EXTERNAL" => Box::new(sasl::ExternalServer::new()),
            _ => return None,
        })
    }

    /// Answers one server event the way a real host would.
    pub fn handle(&mut self, server: &mut Server, event: &ServerEvent) {
        match event {
            ServerEvent::User { name } => {
                let user = name.as_str().unwrap_or_default();
                match self.user_replies.get(user) {
                    Some(Ok(text)) => server
                        .accept_user(Some(Text::new(text.as_str()).expect("text")))
                        .expect("answer"),
                    Some(Err(text)) => server
                        .refuse_user(Refusal::with_text(Text::new(text.as_str()).expect("text")))
                        .expect("answer"),
                    None => server.accept_user(None).expect("answer"),
                }
            }
            ServerEvent::Login { name, password } => {
                let user = name.as_str().unwrap_or_default().to_string();
                let good = self
                    .passwords
                    .get(&user)
                    .is_some_and(|p| p.as_slice() == password.expose_secret());
                if good {
                    self.login(server, &user);
                } else {
                    server
                        .refuse_login(Refusal::bad_credentials())
                        .expect("answer");
                }
            }
            ServerEvent::Apop {
                name,
                digest,
                timestamp,
            } => {
                let user = name.as_str().unwrap_or_default().to_string();
                let good = self.passwords.get(&user).is_some_and(|p| {
                    apop::verify(timestamp, &Secret::new(p.clone()), digest.as_bytes())
                });
                if good {
                    self.login(server, &user);
                } else {
                    server
                        .refuse_login(Refusal::bad_credentials())
                        .expect("answer");
                }
            }
            ServerEvent::AuthStart {
                mechanism,
                initial_response,
            } => {
                let name = mechanism.as_str().unwrap_or_default();
                let Some(mut mech) = self.mechanism(name) else {
                    server.refuse_login(Refusal::sys_perm()).expect("answer");
                    return;
                };
                let ir = initial_response
                    .as_ref()
                    .map(|s| s.expose_secret().as_slice());
                let store: &dyn CredentialStore = &self.store;
                match server.auth_step(mech.as_mut(), ir, store).expect("answer") {
                    AuthStep::Authenticated(identity) => self.login(server, identity.user()),
                    AuthStep::Challenged => self.mechanism = Some(mech),
                    _ => {}
                }
            }
            ServerEvent::AuthResponse { response } => {
                let Some(mut mech) = self.mechanism.take() else {
                    server.refuse_login(Refusal::sys_temp()).expect("answer");
                    return;
                };
                let store: &dyn CredentialStore = &self.store;
                match server
                    .auth_step(mech.as_mut(), Some(response.expose_secret()), store)
                    .expect("answer")
                {
                    AuthStep::Authenticated(identity) => self.login(server, identity.user()),
                    AuthStep::Challenged => self.mechanism = Some(mech),
                    _ => {}
                }
            }
            ServerEvent::AuthCancelled => self.mechanism = None,
            ServerEvent::Retrieve { msg, .. } => {
                let user = self.session_user.clone().unwrap_or_default();
                let body = self
                    .maildrops
                    .get(&user)
                    .and_then(|m| m.get(msg.index()))
                    .map(|(b, _)| b.clone());
                match body {
                    Some(body) => server.send_message(body).expect("answer"),
                    None => server.refuse(Refusal::sys_temp()).expect("answer"),
                }
            }
            ServerEvent::Update { deleted } => {
                let user = self.session_user.clone().unwrap_or_default();
                if self.fail_update {
                    server
                        .update_done(Err(Refusal::with_text(
                            Text::new("some deleted messages not removed").expect("text"),
                        )))
                        .expect("answer");
                } else {
                    for msg in deleted {
                        self.removed.push((user.clone(), msg.index()));
                    }
                    server.update_done(Ok(())).expect("answer");
                }
                self.locked.retain(|u| *u != user);
            }
            ServerEvent::Extension { .. } => {
                server
                    .refuse(Refusal::with_text(
                        Text::new("not supported").expect("text"),
                    ))
                    .expect("answer");
            }
            ServerEvent::StartTls { .. } => server.tls_established(),
            ServerEvent::Closed => self.session_over(),
            _ => {}
        }
    }

    /// The session ended (QUIT, or a [`ServerError`]): the lock is released.
    pub fn session_over(&mut self) {
        if let Some(user) = self.session_user.take() {
            self.locked.retain(|u| *u != user);
        }
    }
}

/// Something that went wrong on the client of a [`Pair`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientProblem {
    /// The error that ended the client's session.
    Ended(ClientError),
    /// A command failed and the session went on ([`Event::Failed`], also kept
    /// in [`Pair::client_events`]).
    Failed(CommandId, CommandError),
}

/// A client machine and a server machine connected in memory, stepped until
/// neither has anything to do; every byte each side wrote is kept.
pub struct Pair {
    /// The client machine.
    pub client: Client,
    /// The server machine.
    pub server: Server,
    /// The server's host.
    pub host: MemoryHost,
    /// Events the client gave, in order (recoverable failures included, as
    /// [`Event::Failed`]).
    pub client_events: Vec<Event>,
    /// What went wrong on the client, in order: every [`Event::Failed`], and
    /// the error that ended its session (recorded once).
    pub client_errors: Vec<ClientProblem>,
    /// Events the server gave, in order.
    pub server_events: Vec<ServerEvent>,
    /// How the server's session ended, when not by QUIT.
    pub server_error: Option<ServerError>,
    /// Every byte the client wrote.
    pub client_wrote: Vec<u8>,
    /// Every byte the server wrote.
    pub server_wrote: Vec<u8>,
    /// When STLS is accepted, pretend the handshake happened on both sides.
    pub fake_tls: bool,
    /// Feed bytes across one at a time.
    pub byte_at_a_time: bool,
}

impl Pair {
    /// A pair whose server greets with `greeting` and, when APOP is configured,
    /// the TV-1 timestamp.
    pub fn new(
        client: ClientConfig,
        server: ServerConfig,
        greeting: &str,
        host: MemoryHost,
    ) -> Self {
        let ts = Timestamp::parse(TV1_TIMESTAMP.as_bytes()).ok();
        Pair {
            client: Client::new(client),
            server: Server::new(server, Text::new(greeting).expect("text"), ts),
            host,
            client_events: Vec::new(),
            client_errors: Vec::new(),
            server_events: Vec::new(),
            server_error: None,
            client_wrote: Vec::new(),
            server_wrote: Vec::new(),
            fake_tls: true,
            byte_at_a_time: false,
        }
    }

    /// Moves bytes and events until nothing changes.
    pub fn run(&mut self) {
        while self.step() {}
    }

    /// One round: server output to the client, client events, client output to
    /// the server, server events. Returns whether anything happened.
    pub fn step(&mut self) -> bool {
        let mut progress = false;
        while let Some(chunk) = self.server.take_output() {
            progress = true;
            self.server_wrote.extend_from_slice(&chunk);
            let piece = if self.byte_at_a_time { 1 } else { chunk.len() };
            for part in chunk.chunks(piece.max(1)) {
                let mut part = part;
                while !part.is_empty() {
                    let taken = self.client.enqueue_input(part);
                    part = &part[taken..];
                    let drained = self.drain_client();
                    progress |= drained;
                    assert!(taken > 0 || drained, "the client takes no input");
                }
            }
        }
        progress |= self.drain_client();
        if let Some(out) = self.client.take_output() {
            progress = true;
            self.client_wrote.extend_from_slice(&out);
            if self.byte_at_a_time {
                for b in out.iter() {
                    let taken = self.server.enqueue_input(std::slice::from_ref(b));
                    assert_eq!(taken, 1, "room");
                    progress |= self.drain_server();
                }
            } else {
                let taken = self.server.enqueue_input(&out);
                assert_eq!(taken, out.len(), "room");
            }
        }
        progress |= self.drain_server();
        progress
    }

    fn drain_client(&mut self) -> bool {
        let mut progress = false;
        loop {
            match self.client.next_event() {
                Ok(Some(event)) => {
                    progress = true;
                    let tls = matches!(event, Event::StartTls { .. });
                    if let Event::Failed { id, error } = &event {
                        self.client_errors
                            .push(ClientProblem::Failed(*id, error.clone()));
                    }
                    self.client_events.push(event);
                    if tls && self.fake_tls {
                        self.client.tls_established();
                    }
                }
                Ok(None) => return progress,
                Err(error) => {
                    let error = ClientProblem::Ended(error);
                    if self.client_errors.last() != Some(&error) {
                        self.client_errors.push(error);
                        progress = true;
                    }
                    return progress;
                }
            }
        }
    }

    fn drain_server(&mut self) -> bool {
        let mut progress = false;
        loop {
            let event = match self.server.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => return progress,
                Err(error) => {
                    if self.server_error.is_none() {
                        self.server_error = Some(error);
                        self.host.session_over();
                        progress = true;
                    }
                    return progress;
                }
            };
            progress = true;
            if let ServerEvent::StartTls { .. } = event {
                if self.fake_tls {
                    self.server.tls_established();
                }
            } else {
                self.host.handle(&mut self.server, &event);
            }
            self.server_events.push(event);
        }
    }

    /// The body bytes the client received for a command, joined.
    pub fn body(&self, id: pop3_proto::client::CommandId) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.client_events {
            if let Event::BodyChunk { id: i, data } = e {
                if *i == id {
                    out.extend_from_slice(data);
                }
            }
        }
        out
    }
}

/// Feeds `bytes` to a client one chunk at a time (`chunk` octets each, 0 = all at
/// once, never more than [`Machine::input_room`]), collecting every event and the
/// error that ended the session, if any (once).
pub fn feed_client(
    client: &mut Client,
    bytes: &[u8],
    chunk: usize,
) -> (Vec<Event>, Vec<ClientError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let size = if chunk == 0 {
        bytes.len().max(1)
    } else {
        chunk
    };
    for piece in bytes.chunks(size) {
        let mut piece = piece;
        while !piece.is_empty() {
            let taken = client.enqueue_input(piece);
            piece = &piece[taken..];
            let before = events.len();
            drain(client, &mut events, &mut errors);
            assert!(
                taken > 0 || events.len() > before,
                "the client takes no input"
            );
        }
    }
    if bytes.is_empty() {
        drain(client, &mut events, &mut errors);
    }
    (events, errors)
}

fn drain(client: &mut Client, events: &mut Vec<Event>, errors: &mut Vec<ClientError>) {
    loop {
        match client.next_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return,
            Err(e) => {
                if errors.last() != Some(&e) {
                    errors.push(e);
                }
                return;
            }
        }
    }
}

/// Joins consecutive body chunks of each command into one, so event lists from
/// different input splits compare equal.
pub fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        if let (Some(Event::BodyChunk { id: a, data: prev }), Event::BodyChunk { id: b, data }) =
            (out.last_mut(), &e)
        {
            if a == b {
                let mut joined = prev.to_vec();
                joined.extend_from_slice(data);
                *prev = Bytes::from(joined);
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// What [`MemoryHost::drive`] saw: every octet the server wrote and every event
/// it gave, in order, and the error that ended the session, if one did.
#[derive(Debug, Default)]
pub struct Driven {
    /// The server's output.
    pub output: Vec<u8>,
    /// The server's events.
    pub events: Vec<ServerEvent>,
    /// The session's end when not by QUIT: the `Err` of
    /// [`Machine::next_event`], which repeats on every later call.
    pub end: Option<ServerError>,
}

impl Driven {
    /// The output as text, for assertion messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

impl MemoryHost {
    /// Drives a server machine alone: feeds `input` in pieces of `chunk` octets
    /// (0: as much as the machine takes at once), never more than
    /// [`Server::input_room`], answers every event as [`MemoryHost::handle`]
    /// does, and collects the output, taking it whenever the machine stops
    /// for it.
    pub fn drive_chunked(&mut self, server: &mut Server, input: &[u8], chunk: usize) -> Driven {
        let mut driven = Driven::default();
        let mut rest = input;
        loop {
            self.pump(server, &mut driven);
            if rest.is_empty() {
                break;
            }
            let mut take = server.input_room().min(rest.len());
            if chunk != 0 {
                take = take.min(chunk);
            }
            if take == 0 {
                // Nothing fits and nothing moves: the machine is closed or stuck.
                if server.is_closed() {
                    let taken = server.enqueue_input(rest);
                    assert_eq!(taken, rest.len(), "closed machines drop input");
                    break;
                }
                panic!("the server takes no input and makes no progress");
            }
            let (now, later) = rest.split_at(take);
            let taken = server.enqueue_input(now);
            assert_eq!(taken, now.len(), "room");
            rest = later;
        }
        self.pump(server, &mut driven);
        driven
    }

    /// [`MemoryHost::drive_chunked`] with pieces as large as the machine takes.
    pub fn drive(&mut self, server: &mut Server, input: &[u8]) -> Driven {
        self.drive_chunked(server, input, 0)
    }

    fn pump(&mut self, server: &mut Server, driven: &mut Driven) {
        loop {
            let mut progress = false;
            loop {
                match server.next_event() {
                    Ok(Some(event)) => {
                        progress = true;
                        self.handle(server, &event);
                        driven.events.push(event);
                    }
                    Ok(None) => break,
                    Err(error) => {
                        // The same error on every call once the session is over.
                        assert_eq!(server.next_event(), Err(error), "the end repeats");
                        if driven.end.is_none() {
                            driven.end = Some(error);
                            self.session_over();
                        }
                        break;
                    }
                }
            }
            while let Some(chunk) = server.take_output() {
                progress = true;
                driven.output.extend_from_slice(&chunk);
            }
            if !progress {
                return;
            }
        }
    }
}

/// Test shorthands over [`Machine`]: feed input the machine must take whole, and
/// take all of its output at once.
pub trait MachineExt: Machine {
    /// Hands `data` to the machine, which must take all of it.
    fn enqueue_all(&mut self, data: &[u8]) {
        let taken = self.enqueue_input(data);
        assert_eq!(taken, data.len(), "the machine took only part of the input");
    }

    /// Every octet waiting to be written, joined.
    fn take_all(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(bytes) = self.take_output() {
            out.extend_from_slice(&bytes);
        }
        out
    }
}

impl<M: Machine> MachineExt for M {}

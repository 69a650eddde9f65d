//! The example client: fetches a whole maildrop with the pop3-proto client
//! machine over tokio, with STLS or implicit TLS, pipelined RETR when the server
//! allows it, and bodies streamed to disk.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pop3_proto::client::{Client, ClientConfig, ClientError, CommandId, Event};
use pop3_proto::encode::Encode;
use pop3_proto::sasl::{self, ChoicePolicy, ClientMechanism, CredentialKind, MechanismName};
use pop3_proto::secret::Secret;
use pop3_proto::types::{Capability, Command, MessageNumber, Password, Username};
use pop3_proto::url::{Auth, PopUrl};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::conn::Conn;
use super::trace::Trace;

/// What to fetch and how.
pub struct FetchOptions {
    /// The server, user and mechanism (RFC 2384).
    pub url: PopUrl,
    /// The password (or bearer token for the OAuth mechanisms).
    pub password: Option<Secret<Vec<u8>>>,
    /// Save each message as `DIR/<uidl>.eml`; without it messages are read and
    /// counted only.
    pub out: Option<PathBuf>,
    /// DELE every message saved, then QUIT to commit.
    pub delete: bool,
    /// Upgrade with STLS before any credential; fail if the server cannot.
    pub stls: bool,
    /// Trust this PEM certificate or CA instead of the public roots.
    pub ca: Option<PathBuf>,
    /// Allow a cleartext login (USER/PASS, PLAIN, LOGIN) without TLS.
    pub allow_cleartext: bool,
    /// Print the exchange, credentials redacted.
    pub trace: bool,
    /// Print the trace on stdout instead of stderr.
    pub trace_to_stdout: bool,
    /// Show progress on a terminal.
    pub progress: bool,
    /// Most RETR commands in flight when the server lists PIPELINING.
    pub window: usize,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Summary {
    /// Messages in the maildrop.
    pub listed: usize,
    /// Messages that arrived whole (size as listed).
    pub fetched: usize,
    /// Their octets.
    pub octets: u64,
    /// Messages deleted (committed by QUIT).
    pub deleted: usize,
    /// What went wrong, one line each.
    pub problems: Vec<String>,
    /// Files written.
    pub saved: Vec<PathBuf>,
}

impl Summary {
    /// Whether every message arrived whole.
    pub fn complete(&self) -> bool {
        self.problems.is_empty() && self.fetched == self.listed
    }
}

fn protocol(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A connection driven by the client machine.
struct Session {
    conn: Conn,
    client: Client,
    buf: Vec<u8>,
    trace: Trace,
}

impl Session {
    async fn flush(&mut self) -> io::Result<()> {
        while let Some(out) = self.client.take_output() {
            self.trace.client_lines(&out);
            self.conn.write_all(&out).await?;
        }
        self.conn.flush().await
    }

    /// The next event, reading as needed. Non-fatal protocol errors are returned
    /// as `Ok(Err(..))`.
    async fn event(&mut self) -> io::Result<Result<Event, ClientError>> {
        loop {
            match self.client.next_event() {
                Ok(Some(event)) => {
                    self.trace_event(&event);
                    return Ok(Ok(event));
                }
                Ok(None) => {}
                Err(e) if e.is_fatal() => return Err(protocol(e)),
                Err(e) => return Ok(Err(e)),
            }
            self.flush().await?;
            let n = self.conn.read(&mut self.buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.client.enqueue_input(&self.buf[..n]);
        }
    }

    fn trace_event(&mut self, event: &Event) {
        let line = match event {
            Event::Greeting { greeting, .. } => Some(greeting.line().to_vec()),
            Event::Status { line, .. }
            | Event::Stat { line, .. }
            | Event::ScanOne { line, .. }
            | Event::UidOne { line, .. }
            | Event::BodyStart { line, .. }
            | Event::Closed { line, .. } => Some(line.to_vec()),
            Event::StartTls { .. } => Some(b"+OK (begin TLS)\r\n".to_vec()),
            Event::Capabilities { capabilities, .. } => {
                let tags: Vec<String> = capabilities
                    .iter()
                    .map(|c| String::from_utf8_lossy(c.tag()).into_owned())
                    .collect();
                Some(format!("+OK capabilities: {}\r\n", tags.join(", ")).into_bytes())
            }
            Event::ScanListing { listing, .. } => {
                Some(format!("+OK scan listing of {} messages\r\n", listing.len()).into_bytes())
            }
            Event::UidListing { listing, .. } => Some(
                format!("+OK unique-id listing of {} messages\r\n", listing.len()).into_bytes(),
            ),
            Event::BodyEnd { size, .. } => {
                self.trace.body(&format!("message body, {size} octets"));
                None
            }
            _ => None,
        };
        if let Some(line) = line {
            self.trace.server_lines(&line);
        }
    }

    /// Sends one command and waits for its final event.
    async fn command(&mut self, command: Command) -> io::Result<Event> {
        let id = self.client.send(command).map_err(protocol)?;
        self.wait(id).await
    }

    async fn wait(&mut self, id: CommandId) -> io::Result<Event> {
        loop {
            match self.event().await? {
                Ok(event) if event.id() == Some(id) && event.is_final() => return Ok(event),
                Ok(_) => {}
                Err(e) => return Err(protocol(e)),
            }
        }
    }
}

fn ok(event: &Event) -> bool {
    match event {
        Event::Status { line, .. } | Event::Closed { line, .. } => line.is_ok(),
        _ => true,
    }
}

fn nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 18];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mechanism(
    name: MechanismName,
    user: &str,
    password: &Secret<Vec<u8>>,
) -> io::Result<Box<dyn ClientMechanism + Send>> {
    let pw = password.clone();
    let m: Box<dyn ClientMechanism + Send> = match name {
        MechanismName::ScramSha256 => Box::new(
            sasl::ScramClient::new(sasl::ScramHash::Sha256, user, pw, &nonce())
                .map_err(protocol)?,
        ),
        MechanismName::ScramSha1 => Box::new(
            sasl::ScramClient::new(sasl::ScramHash::Sha1, user, pw, &nonce()).map_err(protocol)?,
        ),
        MechanismName::CramMd5 => Box::new(sasl::CramMd5Client::new(user, pw).map_err(protocol)?),
        MechanismName::Plain => Box::new(sasl::PlainClient::new(user, pw).map_err(protocol)?),
        MechanismName::Login => Box::new(sasl::LoginClient::new(user, pw).map_err(protocol)?),
        MechanismName::XOAuth2 => Box::new(sasl::XOAuth2Client::new(user, pw).map_err(protocol)?),
        MechanismName::OAuthBearer => {
            Box::new(sasl::OAuthBearerClient::new(user, pw).map_err(protocol)?)
        }
        MechanismName::External => Box::new(sasl::ExternalClient::new()),
    };
    Ok(m)
}

/// Connects, logs in, fetches every message and (with `delete`) removes them.
pub async fn fetch(options: &FetchOptions) -> io::Result<Summary> {
    let url = &options.url;
    let host = url.host().to_connect_string();
    let tcp = TcpStream::connect((host.as_str(), url.port())).await?;
    let _ = tcp.set_nodelay(true);
    let trace = Trace::new(options.trace, "", options.trace_to_stdout);
    trace.note(&format!("connected to {host}:{}", url.port()));
    let server_name = ServerName::try_from(host.clone()).map_err(protocol)?;
    let tls = if url.is_tls() || options.stls {
        Some(TlsConnector::from(super::tls::client_config(
            options.ca.as_deref(),
        )?))
    } else {
        None
    };
    let mut conn = Conn::Plain(tcp);
    if url.is_tls() {
        let connector = tls
            .clone()
            .ok_or_else(|| protocol("no TLS configuration"))?;
        let tcp = conn.take_plain()?;
        conn = Conn::ClientTls(Box::new(connector.connect(server_name.clone(), tcp).await?));
        trace.note("TLS established (implicit)");
    }
    let config = ClientConfig {
        implicit_tls: url.is_tls(),
        require_tls: options.stls,
        ..ClientConfig::default()
    };
    let mut s = Session {
        conn,
        client: Client::new(config),
        buf: vec![0u8; 64 * 1024],
        trace,
    };
    // The greeting.
    match s.event().await? {
        Ok(Event::Greeting { .. }) => {}
        other => return Err(protocol(format!("no greeting: {other:?}"))),
    }
    capa(&mut s).await?;
    if options.stls {
        if !s.client.has_capability(b"STLS") {
            return Err(protocol(
                "--stls: the server does not offer STLS; no credentials were sent",
            ));
        }
        match s.command(Command::Stls).await? {
            Event::StartTls { .. } => {}
            other => {
                return Err(protocol(format!(
                    "--stls: the server refused STLS ({other:?}); no credentials were sent"
                )))
            }
        }
        let connector = tls.ok_or_else(|| protocol("no TLS configuration"))?;
        let tcp = s.conn.take_plain()?;
        s.conn = Conn::ClientTls(Box::new(connector.connect(server_name, tcp).await?));
        s.client.tls_established();
        s.trace.note("TLS established (STLS)");
        capa(&mut s).await?;
    }
    login(&mut s, options).await?;
    if s.client.should_refresh_capabilities() {
        capa(&mut s).await?;
    }
    let summary = fetch_all(&mut s, options).await?;
    match s.command(Command::Quit).await? {
        Event::Closed { line, .. } if line.is_ok() => {}
        other if options.delete => {
            return Err(protocol(format!(
                "QUIT did not commit the deletions: {other:?}"
            )))
        }
        _ => {}
    }
    Ok(summary)
}

async fn capa(s: &mut Session) -> io::Result<()> {
    // -ERR to CAPA means "probe instead" (E-21): not fatal.
    let _ = s.command(Command::Capa).await?;
    Ok(())
}

async fn login(s: &mut Session, options: &FetchOptions) -> io::Result<()> {
    let url = &options.url;
    let Some(user) = url.user() else {
        return Err(protocol("the URL names no user (pop://USER@host)"));
    };
    let password = options
        .password
        .clone()
        .ok_or_else(|| protocol("no password: set POP3_PASSWORD"))?;
    let tls = s.client.is_tls();
    let allow_cleartext = tls || options.allow_cleartext;
    let offered: Vec<String> = s
        .client
        .capabilities()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| match c {
            Capability::Sasl(m) => Some(
                m.iter()
                    .filter_map(|m| m.as_str().map(String::from))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
    let username = Username::new(user.as_bytes()).map_err(protocol)?;
    let reply = match url.effective_auth() {
        Auth::Apop => {
            let id = s.client.apop(username, &password).map_err(protocol)?;
            s.wait(id).await?
        }
        Auth::Extension(name) if name.as_str().eq_ignore_ascii_case("USER") => {
            user_pass(s, username, &password, allow_cleartext).await?
        }
        Auth::Extension(name) => {
            return Err(protocol(format!(
                "unknown extension mechanism +{}",
                name.as_str()
            )))
        }
        Auth::Sasl(m) => {
            let name = m.as_str().unwrap_or_default();
            let policy = ChoicePolicy {
                tls_active: tls,
                allow_cleartext,
                explicit: Some(name),
                credentials: CredentialKind::Password,
            };
            let chosen = sasl::choose_mechanism(&offered, &policy)
                .or_else(|| {
                    MechanismName::from_name(name).filter(|m| !m.is_cleartext() || allow_cleartext)
                })
                .ok_or_else(|| {
                    protocol(format!(
                        "mechanism {name} unavailable or refused before TLS"
                    ))
                })?;
            let id = s
                .client
                .authenticate(mechanism(chosen, user, &password)?)
                .map_err(protocol)?;
            s.wait(id).await?
        }
        Auth::Any => {
            let policy = ChoicePolicy {
                tls_active: tls,
                allow_cleartext,
                explicit: None,
                credentials: CredentialKind::Password,
            };
            if let Some(chosen) = sasl::choose_mechanism(&offered, &policy) {
                let id = s
                    .client
                    .authenticate(mechanism(chosen, user, &password)?)
                    .map_err(protocol)?;
                s.wait(id).await?
            } else if s.client.apop_timestamp().is_some() {
                let id = s.client.apop(username, &password).map_err(protocol)?;
                s.wait(id).await?
            } else {
                // R2384-6: a cleartext password only under TLS, or when allowed.
                user_pass(s, username, &password, allow_cleartext).await?
            }
        }
    };
    if ok(&reply) {
        Ok(())
    } else {
        Err(protocol(format!("login refused: {reply:?}")))
    }
}

async fn user_pass(
    s: &mut Session,
    user: Username,
    password: &Secret<Vec<u8>>,
    allow_cleartext: bool,
) -> io::Result<Event> {
    if !allow_cleartext {
        return Err(protocol(
            "USER/PASS would send the password in the clear: use --stls, pops://, or --allow-cleartext",
        ));
    }
    let reply = s.command(Command::User(user)).await?;
    if !ok(&reply) {
        return Ok(reply);
    }
    let pass = Password::new(password.expose_secret().clone()).map_err(protocol)?;
    s.command(Command::Pass(pass)).await
}

/// A file name for a message: its unique-id with bytes outside `[A-Za-z0-9._-]`
/// percent-encoded, or its number.
fn file_name(uid: Option<&[u8]>, msg: u32) -> String {
    match uid {
        Some(uid) => {
            let mut name = String::new();
            for &b in uid {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                    name.push(b as char);
                } else {
                    name.push_str(&format!("%{b:02X}"));
                }
            }
            format!("{name}.eml")
        }
        None => format!("{msg}.eml"),
    }
}

/// The message being received: its command, its file (temporary path, final
/// path) when saving, and the octets so far.
type Receiving = (CommandId, Option<(tokio::fs::File, PathBuf, PathBuf)>, u64);

struct Progress {
    enabled: bool,
    last: Instant,
    total: usize,
}

impl Progress {
    fn show(&mut self, done: usize, octets: u64, force: bool) {
        if !self.enabled || (!force && self.last.elapsed() < Duration::from_millis(100)) {
            return;
        }
        self.last = Instant::now();
        let mib = octets as f64 / (1024.0 * 1024.0);
        eprint!("\r{done}/{} messages, {mib:.1} MiB", self.total);
        if force {
            eprintln!();
        }
        let _ = io::stderr().flush();
    }
}

async fn fetch_all(s: &mut Session, options: &FetchOptions) -> io::Result<Summary> {
    let mut summary = Summary::default();
    // Sizes from LIST; unique-ids from UIDL when offered.
    let sizes: Vec<(MessageNumber, u64)> = match s.command(Command::List(None)).await? {
        Event::ScanListing { listing, .. } => listing.iter().map(|l| (l.msg, l.size)).collect(),
        other => return Err(protocol(format!("LIST failed: {other:?}"))),
    };
    let mut uids: HashMap<MessageNumber, Vec<u8>> = HashMap::new();
    if s.client.has_capability(b"UIDL") || s.client.capabilities().is_none() {
        if let Event::UidListing { listing, .. } = s.command(Command::Uidl(None)).await? {
            for l in listing {
                uids.insert(l.msg, l.uid.as_bytes().to_vec());
            }
        }
    }
    summary.listed = sizes.len();
    if let Some(dir) = &options.out {
        tokio::fs::create_dir_all(dir).await?;
    }
    let pipelining = s.client.has_capability(b"PIPELINING");
    let window = if pipelining { options.window.max(1) } else { 1 };
    let mut progress = Progress {
        enabled: options.progress && io::stderr().is_terminal() && !options.trace,
        last: Instant::now(),
        total: sizes.len(),
    };
    let mut next = 0usize;
    let mut in_flight: HashMap<CommandId, (MessageNumber, u64)> = HashMap::new();
    let mut current: Option<Receiving> = None;
    let mut to_delete: Vec<MessageNumber> = Vec::new();
    while next < sizes.len() || !in_flight.is_empty() {
        while next < sizes.len() && in_flight.len() < window {
            let (msg, size) = sizes[next];
            let id = s.client.send(Command::Retr(msg)).map_err(protocol)?;
            in_flight.insert(id, (msg, size));
            next += 1;
        }
        s.flush().await?;
        let event = match s.event().await? {
            Ok(event) => event,
            Err(e) => {
                summary.problems.push(e.to_string());
                continue;
            }
        };
        match event {
            Event::BodyStart { id, .. } => {
                let Some(&(msg, _)) = in_flight.get(&id) else {
                    continue;
                };
                let file = match &options.out {
                    Some(dir) => {
                        let name = file_name(uids.get(&msg).map(Vec::as_slice), msg.get());
                        let path = dir.join(&name);
                        let part = dir.join(format!("{name}.part"));
                        Some((tokio::fs::File::create(&part).await?, part, path))
                    }
                    None => None,
                };
                current = Some((id, file, 0));
            }
            Event::BodyChunk { id, data } => {
                if let Some((cid, file, n)) = current.as_mut() {
                    if *cid == id {
                        *n += data.len() as u64;
                        if let Some((f, _, _)) = file {
                            f.write_all(&data).await?;
                        }
                    }
                }
                progress.show(
                    summary.fetched,
                    summary.octets + current.as_ref().map_or(0, |c| c.2),
                    false,
                );
            }
            Event::BodyEnd { id, size } => {
                let Some((msg, listed)) = in_flight.remove(&id) else {
                    continue;
                };
                let file = current.take().and_then(|(_, f, _)| f);
                let whole = arrived_whole(size, listed);
                if whole && size != listed {
                    s.trace.note(&format!(
                        "message {msg}: {size} octets, LIST said {listed}: the server did not count the line end it added (E-22)"
                    ));
                }
                if whole {
                    if let Some((mut f, part, path)) = file {
                        f.flush().await?;
                        drop(f);
                        tokio::fs::rename(&part, &path).await?;
                        summary.saved.push(path);
                    }
                    summary.fetched += 1;
                    summary.octets += size;
                    to_delete.push(msg);
                } else {
                    summary.problems.push(format!(
                        "message {msg}: received {size} octets, LIST said {listed}"
                    ));
                    if let Some((_, part, _)) = file {
                        let _ = tokio::fs::remove_file(part).await;
                    }
                }
                progress.show(summary.fetched, summary.octets, false);
            }
            Event::Status { id, line } => {
                if let Some((msg, _)) = in_flight.remove(&id) {
                    summary.problems.push(format!(
                        "RETR {msg}: {}",
                        String::from_utf8_lossy(&line.to_vec()).trim_end()
                    ));
                }
            }
            _ => {}
        }
    }
    progress.show(summary.fetched, summary.octets, true);
    if options.delete {
        for msg in to_delete {
            if ok(&s.command(Command::Dele(msg)).await?) {
                summary.deleted += 1;
            } else {
                summary.problems.push(format!("DELE {msg} refused"));
            }
        }
    }
    Ok(summary)
}

/// Whether a body of `size` octets, ended by its terminator line, is the whole
/// message LIST announced as `listed` octets.
///
/// The terminator is what frames a body (IMPL-1); the size is a cross-check, and
/// R6856-1 only says it SHOULD be exact. A message stored without a final line end
/// goes out with one added (E-22, IMPL-22), and some servers list the size of the
/// stored bytes without it: Dovecot 2.3 lists `no end` (no final LF) as 6 octets
/// and sends `no end\r\n`, and an empty file as 0 octets sent as one empty line.
/// So two more octets than listed are accepted too; anything else is a problem.
pub fn arrived_whole(size: u64, listed: u64) -> bool {
    size == listed || size == listed.saturating_add(2)
}

/// Whether `path` holds exactly `expected` after CRLF normalisation of line ends.
pub fn same_message(path: &Path, expected: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|got| got == crlf(expected))
}

/// A stored message as it goes on the wire: LF line ends as CRLF, and a CRLF
/// after a last line that has none.
pub fn crlf(stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + stored.len() / 40);
    let mut prev = 0u8;
    for &b in stored {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

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
use pop3_proto::sync::{self, SeenSet};
use pop3_proto::types::{
    Capability, CodeKind, Command, MessageNumber, Password, UidListing, UniqueId, Username,
};
use pop3_proto::url::{Auth, PopUrl};
use pop3_proto::{Machine, StartTls};
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
    /// Save each message as `DIR/<uidl>.eml` (written as `.NAME.part`, renamed
    /// when whole); without it messages are read and counted only.
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
    /// Leave mail on the server and save only what is new: the unique-ids
    /// already saved, one per line, rewritten atomically after each message.
    pub uidl_file: Option<PathBuf>,
    /// A message whose size differs from LIST is not saved (and fails the run).
    pub strict_size: bool,
    /// Trust only the server certificate of this SHA-256.
    pub fingerprint: Option<super::tls::Fingerprint>,
}

impl FetchOptions {
    /// Options with everything off, for `url`.
    pub fn new(url: PopUrl) -> Self {
        FetchOptions {
            url,
            password: None,
            out: None,
            delete: false,
            stls: false,
            ca: None,
            allow_cleartext: false,
            trace: false,
            trace_to_stdout: false,
            progress: false,
            window: 32,
            uidl_file: None,
            strict_size: false,
            fingerprint: None,
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct Summary {
    /// Messages in the maildrop.
    pub listed: usize,
    /// Messages this run set out to fetch: all of them, or with a UIDL file the
    /// new ones.
    pub wanted: usize,
    /// Messages that arrived whole (and were saved, with `out`).
    pub fetched: usize,
    /// Their octets.
    pub octets: u64,
    /// With a UIDL file: messages saved by an earlier run, not fetched again.
    pub already: usize,
    /// With a UIDL file: unique-ids dropped from it (gone from the server).
    pub forgotten: usize,
    /// Messages deleted (committed by QUIT).
    pub deleted: usize,
    /// What went wrong, one line each: the run did not save everything.
    pub problems: Vec<String>,
    /// What was odd but lost nothing (a size that differs from LIST, a
    /// duplicate unique-id, no UIDL), one line each.
    pub warnings: Vec<String>,
    /// Files written.
    pub saved: Vec<PathBuf>,
}

impl Summary {
    /// Whether every message wanted arrived whole.
    pub fn complete(&self) -> bool {
        self.problems.is_empty() && self.fetched == self.wanted
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
    /// The server closed the connection.
    eof: bool,
}

impl Session {
    async fn flush(&mut self) -> io::Result<()> {
        while let Some(out) = self.client.take_output() {
            self.trace.client_lines(&out);
            self.conn.write_all(&out).await?;
        }
        self.conn.flush().await
    }

    /// The next event, reading as needed. A command that failed in a way the
    /// session survives comes as [`Event::Failed`]; an error ends the session.
    async fn event(&mut self) -> io::Result<Event> {
        loop {
            match self.client.next_event() {
                Ok(Some(event)) => {
                    self.trace_event(&event);
                    return Ok(event);
                }
                Ok(None) => {}
                // The server closed the connection with a reply outstanding: an
                // EOF, which `closed` recognises.
                Err(ClientError::ConnectionClosed { .. }) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ))
                }
                Err(e) => return Err(protocol(e)),
            }
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.flush().await?;
            // Never read more than the machine takes now.
            let room = self.client.input_room().min(self.buf.len());
            let n = self.conn.read(&mut self.buf[..room]).await?;
            if n == 0 {
                self.client.enqueue_eof();
                self.eof = true;
            } else {
                let taken = self.client.enqueue_input(&self.buf[..n]);
                debug_assert_eq!(taken, n);
            }
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
                // Each capability line as the library encodes it, parameters
                // and their spaces included (`EXPIRE NEVER`, `SASL PLAIN LOGIN`).
                self.trace.body("capability list");
                let mut lines = Vec::new();
                for c in capabilities {
                    lines.extend_from_slice(&c.to_vec());
                }
                lines.extend_from_slice(b".\r\n");
                Some(lines)
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

    /// Waits for the final event of a command; a failure of any command on the
    /// way ends the wait with an error.
    async fn wait(&mut self, id: CommandId) -> io::Result<Event> {
        loop {
            match self.event().await? {
                Event::Failed { error, .. } => return Err(protocol(error)),
                event if event.id() == Some(id) && event.is_final() => return Ok(event),
                _ => {}
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

/// Connects, reads the greeting and the capabilities, and upgrades with STLS when
/// asked: a session ready for a login.
async fn open(options: &FetchOptions) -> io::Result<Session> {
    let url = &options.url;
    let host = url.host().to_connect_string();
    let tcp = TcpStream::connect((host.as_str(), url.port())).await?;
    let _ = tcp.set_nodelay(true);
    let trace = Trace::new(options.trace, "", options.trace_to_stdout);
    trace.note(&format!("connected to {host}:{}", url.port()));
    let server_name = ServerName::try_from(host.clone()).map_err(protocol)?;
    let tls = if url.is_tls() || options.stls {
        Some(TlsConnector::from(super::tls::client_config_pinned(
            options.ca.as_deref(),
            options.fingerprint,
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
    let config = ClientConfig::default()
        .with_implicit_tls(url.is_tls())
        .with_require_tls(options.stls);
    let mut s = Session {
        conn,
        client: Client::new(config),
        buf: vec![0u8; 64 * 1024],
        trace,
        eof: false,
    };
    // The greeting.
    match s.event().await? {
        Event::Greeting { .. } => {}
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
    Ok(s)
}

/// Whether `e` says the server closed the connection (an EOF, or a reset when a
/// write raced the close).
fn closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Connects, logs in, fetches every message and (with `delete`) removes them.
pub async fn fetch(options: &FetchOptions) -> io::Result<Summary> {
    // A UIDL file that cannot be read stops the run before it connects.
    let seen = match &options.uidl_file {
        Some(path) => {
            if options.out.is_none() {
                return Err(protocol(
                    "--uidl-file needs --out: a message marked seen must be saved somewhere",
                ));
            }
            Some(read_seen(path)?)
        }
        None => None,
    };
    let mut tried = Vec::new();
    let mut s = open(options).await?;
    match login(&mut s, options, &mut tried).await {
        Ok(()) => {}
        // A server that closes the connection after a refused login (Solid POP3
        // does, after APOP): the login the close cut off gets a new connection.
        Err(e) if closed(&e) && tried.len() > 1 => {
            tried.pop();
            s.trace
                .note("the server closed the connection after a refused login; connecting again");
            s = open(options).await?;
            login(&mut s, options, &mut tried).await?;
        }
        Err(e) => return Err(e),
    }
    if s.client.should_refresh_capabilities() {
        capa(&mut s).await?;
    }
    let summary = fetch_all(&mut s, options, seen).await?;
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

/// The ways of logging in that `;AUTH=*` tries, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    Sasl,
    Apop,
    UserPass,
}

/// Logs in as the URL says; `tried` collects the ways `;AUTH=*` tried, and skips
/// those already in it (a second connection after a server closed the first).
async fn login(s: &mut Session, options: &FetchOptions, tried: &mut Vec<Way>) -> io::Result<()> {
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
            let policy = ChoicePolicy::default()
                .with_tls_active(tls)
                .with_allow_cleartext(allow_cleartext)
                .with_explicit(Some(name))
                .with_credentials(CredentialKind::Password);
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
            let ways = Ways {
                offered: &offered,
                tls,
                allow_cleartext,
            };
            any_login(s, username, user, &password, ways, tried).await?
        }
    };
    if ok(&reply) {
        Ok(())
    } else {
        Err(protocol(format!("login refused: {reply:?}")))
    }
}

/// `;AUTH=*` (or no `;AUTH=`, R2384-3): the strongest way the server offers first,
/// then the next one when a login is refused for the credentials (`-ERR` with no
/// code or `[AUTH]`). Servers list APOP in their greeting without holding APOP
/// secrets for every user (GNU Mailutils, Solid POP3), so an APOP refusal is no
/// proof that USER/PASS would fail. A refusal that names another cause (`[IN-USE]`,
/// `[LOGIN-DELAY]`, `[SYS/...]`) ends the attempts.
async fn any_login(
    s: &mut Session,
    username: Username,
    user: &str,
    password: &Secret<Vec<u8>>,
    ways: Ways<'_>,
    tried: &mut Vec<Way>,
) -> io::Result<Event> {
    let policy = ChoicePolicy::default()
        .with_tls_active(ways.tls)
        .with_allow_cleartext(ways.allow_cleartext)
        .with_credentials(CredentialKind::Password);
    let mut reply = None;
    let chosen = sasl::choose_mechanism(ways.offered, &policy);
    if let Some(chosen) = chosen.filter(|_| !tried.contains(&Way::Sasl)) {
        tried.push(Way::Sasl);
        let id = s
            .client
            .authenticate(mechanism(chosen, user, password)?)
            .map_err(protocol)?;
        let event = s.wait(id).await?;
        if ok(&event) || !another_may_work(&event) {
            return Ok(event);
        }
        eprintln!(
            "fetch: AUTH {} refused; trying the next login",
            chosen.as_str()
        );
        reply = Some(event);
    }
    if s.client.apop_timestamp().is_some() && !tried.contains(&Way::Apop) {
        tried.push(Way::Apop);
        let id = s
            .client
            .apop(username.clone(), password)
            .map_err(protocol)?;
        let event = s.wait(id).await?;
        if ok(&event) || !another_may_work(&event) {
            return Ok(event);
        }
        eprintln!("fetch: APOP refused; trying the next login");
        reply = Some(event);
    }
    match reply {
        // R2384-6: a cleartext password only under TLS, or when allowed.
        Some(event) if !ways.allow_cleartext => Ok(event),
        _ => {
            tried.push(Way::UserPass);
            user_pass(s, username, password, ways.allow_cleartext).await
        }
    }
}

/// What the server offers and what the user allows, for [`any_login`].
#[derive(Clone, Copy)]
struct Ways<'a> {
    offered: &'a [&'a str],
    tls: bool,
    allow_cleartext: bool,
}

/// A refused login that says nothing against trying another way: no response code,
/// or `[AUTH]` (RFC 3206 §5), and the session still open.
fn another_may_work(event: &Event) -> bool {
    match event {
        Event::Status { line, .. } => line
            .code()
            .map_or(true, |code| code.kind() == CodeKind::Auth),
        _ => false,
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

/// Where a message is written while it arrives: a hidden name in the same
/// directory, renamed to its final name only once whole.
fn part_name(name: &str) -> String {
    format!(".{name}.part")
}

/// Removes the partly written messages an earlier run left (killed, or cut
/// off): `.NAME.eml.part`, and `NAME.eml.part` from before the names were hidden.
fn remove_stale_parts(dir: &Path, trace: &Trace) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".eml.part") && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            trace.note(&format!("removed {name}, left by an earlier run"));
        }
    }
    Ok(())
}

/// Reads a UIDL file: a missing file is an empty set (a first run).
pub fn read_seen(path: &Path) -> io::Result<SeenSet> {
    match std::fs::read(path) {
        Ok(bytes) => SeenSet::parse(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(SeenSet::new()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes a UIDL file atomically: a temporary file in the same directory,
/// written and fsynced, renamed over the old one, and the directory fsynced.
/// A run killed at any point leaves the old file or the new one, never a mix.
pub fn write_seen(path: &Path, seen: &SeenSet) -> io::Result<()> {
    use std::io::Write as _;
    let dir = parent_dir(path);
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "uidl".into());
    let tmp = dir.join(format!(".{base}.tmp{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&seen.to_text())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// One message to fetch: its number, its LIST size (when LIST gave one) and
/// its unique-id (when UIDL gave one).
struct Wanted {
    msg: MessageNumber,
    listed: Option<u64>,
    uid: Option<UniqueId>,
}

/// The write buffer of a message being saved.
const WRITE_BUFFER: usize = 256 * 1024;

/// The message being received.
struct Receiving {
    id: CommandId,
    msg: MessageNumber,
    /// The file while it is written: `None` when not saving, or after a write
    /// error (the body is still read to its end). Buffered: the body comes in
    /// slices of a line or so, and each write to a tokio file is a trip to
    /// the blocking pool.
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    /// The temporary and final paths, when saving.
    paths: Option<(PathBuf, PathBuf)>,
    /// A write error: the message is not saved whole.
    failed: Option<String>,
    octets: u64,
}

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

/// UIDL: `Ok(Some(listing))` when the server answered with one, `Ok(None)` when
/// it has no UIDL (-ERR).
async fn uid_listing(s: &mut Session) -> io::Result<Option<Vec<UidListing>>> {
    match s.command(Command::Uidl(None)).await? {
        Event::UidListing { listing, .. } => Ok(Some(listing)),
        Event::Status { line, .. } if line.is_err() => Ok(None),
        other => Err(protocol(format!("UIDL: unexpected reply {other:?}"))),
    }
}

/// What to fetch: every message, or with a UIDL file only the new ones (the
/// library's sync plan). The seen set comes back when the run keeps one.
async fn choose(
    s: &mut Session,
    summary: &mut Summary,
    seen: Option<SeenSet>,
) -> io::Result<(Vec<Wanted>, Option<SeenSet>)> {
    // Sizes from LIST.
    let sizes: Vec<(MessageNumber, u64)> = match s.command(Command::List(None)).await? {
        Event::ScanListing { listing, .. } => listing.iter().map(|l| (l.msg, l.size)).collect(),
        other => return Err(protocol(format!("LIST failed: {other:?}"))),
    };
    summary.listed = sizes.len();
    let size_of: HashMap<MessageNumber, u64> = sizes.iter().copied().collect();
    let Some(mut seen) = seen else {
        // Everything; unique-ids name the files when the server has UIDL.
        let mut uids: HashMap<MessageNumber, UniqueId> = HashMap::new();
        if s.client.has_capability(b"UIDL") || s.client.capabilities().is_none() {
            if let Some(listing) = uid_listing(s).await? {
                uids.extend(listing.into_iter().map(|l| (l.msg, l.uid)));
            }
        }
        let wanted = sizes
            .iter()
            .map(|&(msg, size)| Wanted {
                msg,
                listed: Some(size),
                uid: uids.remove(&msg),
            })
            .collect();
        return Ok((wanted, None));
    };
    // No UIDL: a CAPA reply without it (RFC 2449 §6.8; the client machine
    // then refuses to send UIDL), or, from a server without CAPA, -ERR to UIDL.
    let listing = if s.client.capabilities().is_some() && !s.client.has_capability(b"UIDL") {
        Err("its CAPA reply does not list UIDL")
    } else {
        uid_listing(s).await?.ok_or("it answered -ERR to UIDL")
    };
    let listing = match listing {
        Ok(listing) => listing,
        Err(why) => {
            summary.warnings.push(format!(
                "the server has no UIDL ({why}): fetching every message, \
                 the UIDL file is left as it was"
            ));
            let wanted = sizes
                .iter()
                .map(|&(msg, size)| Wanted {
                    msg,
                    listed: Some(size),
                    uid: None,
                })
                .collect();
            return Ok((wanted, None));
        }
    };
    let plan = sync::plan(&listing, &seen);
    for d in &plan.duplicates {
        let skipped: Vec<String> = d.skipped.iter().map(|m| m.to_string()).collect();
        summary.warnings.push(format!(
            "the server gave unique-id {} to messages {} and {}: fetched once, as message {}",
            String::from_utf8_lossy(d.uid.as_bytes()),
            d.kept,
            skipped.join(", "),
            d.kept
        ));
    }
    for m in &plan.repeated {
        summary.warnings.push(format!(
            "UIDL listed message {m} more than once: its first line counts"
        ));
    }
    summary.already = plan.already;
    // The listing event comes only once the whole listing is read (its
    // terminator seen), so the unique-ids gone from it are really gone.
    summary.forgotten = seen.forget(&plan.gone);
    let wanted = plan
        .fetch
        .into_iter()
        .map(|l| Wanted {
            msg: l.msg,
            listed: size_of.get(&l.msg).copied(),
            uid: Some(l.uid),
        })
        .collect();
    Ok((wanted, Some(seen)))
}

async fn fetch_all(
    s: &mut Session,
    options: &FetchOptions,
    seen: Option<SeenSet>,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    if let Some(dir) = &options.out {
        tokio::fs::create_dir_all(dir).await?;
        remove_stale_parts(dir, &s.trace)?;
    }
    let (wanted, mut seen) = choose(s, &mut summary, seen).await?;
    summary.wanted = wanted.len();
    // Unique-ids dropped as gone are written now, whatever comes next.
    if let (Some(path), Some(seen)) = (&options.uidl_file, &seen) {
        if summary.forgotten > 0 {
            write_seen(path, seen)?;
        }
    }
    let pipelining = s.client.has_capability(b"PIPELINING");
    let window = if pipelining { options.window.max(1) } else { 1 };
    let mut progress = Progress {
        enabled: options.progress && io::stderr().is_terminal() && !options.trace,
        last: Instant::now(),
        total: wanted.len(),
    };
    let mut next = 0usize;
    let mut in_flight: HashMap<CommandId, usize> = HashMap::new();
    let mut current: Option<Receiving> = None;
    let mut to_delete: Vec<MessageNumber> = Vec::new();
    while next < wanted.len() || !in_flight.is_empty() {
        while next < wanted.len() && in_flight.len() < window {
            let Some(w) = wanted.get(next) else { break };
            let id = s.client.send(Command::Retr(w.msg)).map_err(protocol)?;
            in_flight.insert(id, next);
            next += 1;
        }
        s.flush().await?;
        match s.event().await? {
            Event::Failed { id, error } => {
                // A failure standing in for the RETR's last event (a body over
                // a limit) ends that message: it is not saved.
                if error.ends_command() && in_flight.remove(&id).is_some() {
                    if let Some(r) = current.take_if(|r| r.id == id) {
                        discard(r).await;
                    }
                }
                summary.problems.push(error.to_string());
            }
            Event::BodyStart { id, .. } => {
                let Some(w) = in_flight.get(&id).and_then(|&i| wanted.get(i)) else {
                    continue;
                };
                let mut receiving = Receiving {
                    id,
                    msg: w.msg,
                    file: None,
                    paths: None,
                    failed: None,
                    octets: 0,
                };
                if let Some(dir) = &options.out {
                    let name = file_name(w.uid.as_ref().map(UniqueId::as_bytes), w.msg.get());
                    let part = dir.join(part_name(&name));
                    match tokio::fs::File::create(&part).await {
                        Ok(f) => {
                            receiving.file =
                                Some(tokio::io::BufWriter::with_capacity(WRITE_BUFFER, f))
                        }
                        Err(e) => receiving.failed = Some(format!("{}: {e}", part.display())),
                    }
                    receiving.paths = Some((part, dir.join(name)));
                }
                current = Some(receiving);
            }
            Event::BodyChunk { id, data } => {
                if let Some(r) = current.as_mut().filter(|r| r.id == id) {
                    r.octets += data.len() as u64;
                    if let Some(f) = r.file.as_mut() {
                        if let Err(e) = f.write_all(&data).await {
                            // Keep reading the body to its end; the message
                            // is not saved.
                            r.failed = Some(e.to_string());
                            r.file = None;
                        }
                    }
                }
                progress.show(
                    summary.fetched,
                    summary.octets + current.as_ref().map_or(0, |c| c.octets),
                    false,
                );
            }
            Event::BodyEnd { id, size } => {
                let Some(w) = in_flight.remove(&id).and_then(|i| wanted.get(i)) else {
                    continue;
                };
                let r = current.take().filter(|r| r.id == id);
                let msg = w.msg;
                let mut whole = true;
                if let Some(listed) = w.listed {
                    if size == listed {
                        // As listed.
                    } else if arrived_whole(size, listed) {
                        s.trace.note(&format!(
                            "message {msg}: {size} octets, LIST said {listed}: the server did not count the line end it added (E-22)"
                        ));
                    } else if options.strict_size {
                        summary.problems.push(format!(
                            "message {msg}: received {size} octets, LIST said {listed} (--strict-size: not saved)"
                        ));
                        whole = false;
                    } else {
                        summary.warnings.push(format!(
                            "message {msg}: received {size} octets, LIST said {listed}; kept (the terminator ended it; use --strict-size to refuse it)"
                        ));
                    }
                }
                let saved = match r {
                    Some(r) if whole => save(r, &mut summary).await,
                    Some(r) => {
                        discard(r).await;
                        false
                    }
                    None => options.out.is_none(),
                };
                if saved {
                    summary.fetched += 1;
                    summary.octets += size;
                    to_delete.push(msg);
                    if let (Some(path), Some(seen), Some(uid)) =
                        (&options.uidl_file, seen.as_mut(), w.uid.as_ref())
                    {
                        seen.insert(uid.clone());
                        if let Err(e) = write_seen(path, seen) {
                            // The message is saved; a later run saves it again
                            // under the same name, and does not lose it.
                            summary.problems.push(format!("{e}"));
                        }
                    }
                }
                progress.show(summary.fetched, summary.octets, false);
            }
            Event::Status { id, line } => {
                if let Some(w) = in_flight.remove(&id).and_then(|i| wanted.get(i)) {
                    summary.problems.push(format!(
                        "RETR {}: {}",
                        w.msg,
                        String::from_utf8_lossy(&line.to_vec()).trim_end()
                    ));
                }
            }
            _ => {}
        }
    }
    progress.show(summary.fetched, summary.octets, true);
    if options.delete {
        // Only messages saved whole in this run (to_delete): never one cut
        // short, one that could not be written, or one refused by --strict-size.
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

/// Finishes a message that arrived whole: flushed, fsynced, renamed to its
/// final name. Returns whether it is saved (always, when not saving to files).
async fn save(r: Receiving, summary: &mut Summary) -> bool {
    let Some((part, path)) = r.paths else {
        return r.failed.is_none();
    };
    let result: io::Result<()> = async {
        if let Some(why) = r.failed {
            return Err(io::Error::other(why));
        }
        let mut f = r.file.ok_or_else(|| io::Error::other("no file"))?;
        f.flush().await?;
        let f = f.into_inner();
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&part, &path).await?;
        sync_dir(parent_dir(&path))
    }
    .await;
    match result {
        Ok(()) => {
            summary.saved.push(path);
            true
        }
        Err(e) => {
            summary
                .problems
                .push(format!("message {}: not saved: {e}", r.msg));
            let _ = tokio::fs::remove_file(&part).await;
            false
        }
    }
}

/// Drops a message that is not kept.
async fn discard(r: Receiving) {
    drop(r.file);
    if let Some((part, _)) = r.paths {
        let _ = tokio::fs::remove_file(part).await;
    }
}

/// Whether a body of `size` octets, ended by its terminator line, is the whole
/// message LIST announced as `listed` octets.
///
/// The terminator is what frames a body (IMPL-1); the size is a cross-check, and
/// R6856-1 only says it SHOULD be exact. A message stored without a final line end
/// goes out with one added (E-22, IMPL-22), and some servers list the size of the
/// stored bytes without it: Dovecot 2.3 lists `no end` (no final LF) as 6 octets
/// and sends `no end\r\n`, and an empty file as 0 octets sent as one empty line.
/// So two more octets than listed are accepted too, silently. Any other
/// difference is a warning (the message is kept: GNU Mailutils lists 255 octets
/// and sends 310), or with `--strict-size` a message not saved.
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

//! The example server: one pop3-proto server machine per connection, over tokio,
//! with Maildir storage, APOP, SASL, STLS and implicit TLS.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use pop3_proto::apop::{self, Timestamp};
use pop3_proto::machine::{Machine, StartTls};
use pop3_proto::sasl::{self, CredentialStore, MemoryStore, ServerMechanism};
use pop3_proto::secret::Secret;
use pop3_proto::server::{AuthStep, MessageInfo, Refusal, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Expire, Mechanism, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::conn::{write_all_vectored, Conn};
use super::maildir::{LockGuard, Locks, Maildir, Stored};
use super::trace::Trace;

/// R1939-16: an inactivity timer of at least 10 minutes.
const IDLE: Duration = Duration::from_secs(600);

/// What the server serves.
pub struct ServeOptions {
    /// The Maildir: `DIR/<user>/` when it is a Maildir, else `DIR` for everyone.
    pub maildir: PathBuf,
    /// user -> password.
    pub users: HashMap<String, String>,
    /// Certificate and key, for STLS (or implicit TLS).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// TLS from the first byte (pop3s).
    pub implicit_tls: bool,
    /// Refuse cleartext logins before STLS (R2595-8).
    pub require_tls: bool,
    /// Print the exchange (credentials redacted) on stderr.
    pub trace: bool,
    /// Print the trace on stdout instead.
    pub trace_to_stdout: bool,
}

struct Shared {
    options: ServeOptions,
    store: MemoryStore,
    locks: Locks,
    connections: AtomicU64,
    acceptor: Option<TlsAcceptor>,
}

/// Serves connections from `listener` until the process ends.
pub async fn serve(listener: TcpListener, options: ServeOptions) -> io::Result<()> {
    let mut store = MemoryStore::new();
    for (user, password) in &options.users {
        store.insert_user(user, Secret::new(password.as_bytes().to_vec()));
    }
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let shared = Arc::new(Shared {
        options,
        store,
        locks: Locks::default(),
        connections: AtomicU64::new(0),
        acceptor,
    });
    loop {
        let (tcp, peer) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let id = shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
            if let Err(e) = session(tcp, peer, id, &shared).await {
                if shared.options.trace {
                    eprintln!("[{id}] -- connection ended: {e}");
                }
            }
        });
    }
}

fn machine_config(shared: &Shared, tls_now: bool) -> ServerConfig {
    let mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"];
    ServerConfig::default()
        .with_apop(true)
        .with_sasl(
            mechanisms
                .iter()
                .filter_map(|m| Mechanism::new(*m).ok())
                .collect(),
        )
        .with_stls(shared.options.tls.is_some() && !shared.options.implicit_tls)
        .with_implicit_tls(tls_now)
        .with_cleartext_requires_tls(shared.options.require_tls)
        .with_lf_to_crlf(true)
        .with_expire(Some((Expire::Never, false)))
        .with_implementation(Text::new("pop3-proto-example").ok())
        .with_signoff(Text::new("pop3-proto example server signing off").unwrap_or_default())
}

fn nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 18];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The state of one session, as the host sees it.
struct Host<'a> {
    shared: &'a Shared,
    timestamp: Timestamp,
    mechanism: Option<Box<dyn ServerMechanism + Send>>,
    user: Option<String>,
    lock: Option<LockGuard>,
    messages: Vec<Stored>,
    trace: Trace,
}

async fn session(tcp: TcpStream, peer: SocketAddr, id: u64, shared: &Shared) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::Plain(tcp);
    if shared.options.implicit_tls {
        let acceptor = shared
            .acceptor
            .clone()
            .ok_or_else(|| io::Error::other("implicit TLS without a certificate"))?;
        let tcp = conn.take_plain()?;
        conn = Conn::ServerTls(Box::new(acceptor.accept(tcp).await?));
    }
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // R1939-28: a timestamp that differs every time.
    let timestamp = Timestamp::new(u64::from(std::process::id()) << 32 | id, clock, "localhost")
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut server = Server::new(
        machine_config(shared, conn.is_tls()),
        Text::new("POP3 pop3-proto example server ready").unwrap_or_default(),
        Some(timestamp.clone()),
    );
    let mut host = Host {
        shared,
        timestamp,
        mechanism: None,
        user: None,
        lock: None,
        messages: Vec::new(),
        trace: Trace::new(
            shared.options.trace,
            format!("[{id}] "),
            shared.options.trace_to_stdout,
        ),
    };
    host.trace.note(&format!("connection from {peer}"));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        flush(&mut conn, &mut server, &mut host.trace).await?;
        // Process what is buffered, answering events.
        loop {
            let event = match server.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(error) => {
                    // Too many failed logins: the last -ERR is in the output.
                    // Nothing is removed (R1939-21); the lock is released.
                    flush(&mut conn, &mut server, &mut host.trace).await?;
                    host.trace.note(&format!("session over: {error}"));
                    let _ = conn.shutdown().await;
                    return Ok(());
                }
            };
            match event {
                ServerEvent::StartTls { discarded } => {
                    flush(&mut conn, &mut server, &mut host.trace).await?;
                    if discarded > 0 {
                        host.trace.note(&format!(
                            "discarded {discarded} octets pipelined after STLS"
                        ));
                    }
                    let acceptor = shared
                        .acceptor
                        .clone()
                        .ok_or_else(|| io::Error::other("STLS without a certificate"))?;
                    let tcp = conn.take_plain()?;
                    conn = Conn::ServerTls(Box::new(acceptor.accept(tcp).await?));
                    server.tls_established();
                    host.trace.note("TLS established");
                }
                ServerEvent::Closed => {
                    flush(&mut conn, &mut server, &mut host.trace).await?;
                    let _ = conn.shutdown().await;
                    return Ok(());
                }
                ServerEvent::Retrieve { msg, top } => {
                    host.retrieve(&mut server, &mut conn, msg.index(), top.is_some())
                        .await?;
                }
                event => host.handle(&mut server, event).await,
            }
            flush(&mut conn, &mut server, &mut host.trace).await?;
        }
        // Replies the machine gave by itself (STAT, LIST, ...).
        flush(&mut conn, &mut server, &mut host.trace).await?;
        // Read no more than the machine takes: it never refuses input then, and
        // this host keeps no buffer of its own.
        let room = server.input_room().min(buf.len());
        if room == 0 {
            continue;
        }
        let n = match tokio::time::timeout(IDLE, conn.read(&mut buf[..room])).await {
            Ok(read) => read?,
            Err(_) => {
                // R1939-16: close without a reply and without UPDATE.
                server.timeout();
                host.trace.note("idle timeout: closing, nothing removed");
                return Ok(());
            }
        };
        if n == 0 {
            // R1939-21: a dropped connection removes nothing (the lock is released).
            server.enqueue_eof();
            host.trace
                .note("client closed the connection: nothing removed");
            return Ok(());
        }
        host.trace.client_lines(&buf[..n]);
        let taken = server.enqueue_input(&buf[..n]);
        debug_assert_eq!(taken, n, "read no more than the room");
    }
}

/// Everything the machine has to write, as pieces for one vectored write.
fn pieces(server: &mut Server) -> Vec<Bytes> {
    std::iter::from_fn(|| server.take_output()).collect()
}

async fn flush(conn: &mut Conn, server: &mut Server, trace: &mut Trace) -> io::Result<()> {
    let chunks = pieces(server);
    if chunks.is_empty() {
        return Ok(());
    }
    for chunk in &chunks {
        trace.server_lines(chunk);
    }
    write_all_vectored(conn, &chunks).await
}

impl Host<'_> {
    fn maildir_for(&self, user: &str) -> io::Result<Maildir> {
        let root = &self.shared.options.maildir;
        let own = root.join(user);
        Maildir::open(&own).or_else(|_| Maildir::open(root))
    }

    async fn login(&mut self, server: &mut Server, user: &str) {
        let maildir = match self.maildir_for(user) {
            Ok(m) => m,
            Err(_) => {
                let _ = server.refuse_login(Refusal::sys_perm());
                return;
            }
        };
        let Some(lock) = self.shared.locks.lock(maildir.root()) else {
            // R1939-19, RFC 2449 §8.1.2.
            let _ = server.refuse_login(Refusal::in_use());
            return;
        };
        match maildir.list().await {
            Ok(messages) => {
                let listing: Vec<MessageInfo> = messages.iter().map(|m| m.info.clone()).collect();
                self.messages = messages;
                self.lock = Some(lock);
                self.user = Some(user.to_string());
                let _ = server.accept_login(listing, None);
            }
            Err(_) => {
                let _ = server.refuse_login(Refusal::sys_temp());
            }
        }
    }

    fn password(&self, user: &str) -> Option<Secret<Vec<u8>>> {
        self.shared
            .options
            .users
            .get(user)
            .map(|p| Secret::new(p.as_bytes().to_vec()))
    }

    fn new_mechanism(&self, name: &str) -> Option<Box<dyn ServerMechanism + Send>> {
        let nonce = nonce();
        Some(match name {
            "PLAIN" => Box::new(sasl::PlainServer::new()),
            "LOGIN" => Box::new(sasl::LoginServer::new()),
            "CRAM-MD5" => Box::new(sasl::CramMd5Server::new(self.timestamp.clone())),
            "SCRAM-SHA-1" => Box::new(sasl::ScramServer::new(sasl::ScramHash::Sha1, &nonce).ok()?),
            "SCRAM-SHA-256" => {
                Box::new(sasl::ScramServer::new(sasl::ScramHash::Sha256, &nonce).ok()?)
            }
            _ => return None,
        })
    }

    async fn auth_step(&mut self, server: &mut Server, response: Option<Vec<u8>>) {
        let Some(mut mechanism) = self.mechanism.take() else {
            let _ = server.refuse_login(Refusal::sys_temp());
            return;
        };
        let store: &dyn CredentialStore = &self.shared.store;
        match server.auth_step(mechanism.as_mut(), response.as_deref(), store) {
            Ok(AuthStep::Authenticated(identity)) => {
                let user = identity.user().to_string();
                self.login(server, &user).await;
            }
            Ok(AuthStep::Challenged) => self.mechanism = Some(mechanism),
            Ok(_) | Err(_) => {}
        }
    }

    async fn handle(&mut self, server: &mut Server, event: ServerEvent) {
        match event {
            ServerEvent::User { .. } => {
                let _ = server.accept_user(None);
            }
            ServerEvent::Login { name, password } => {
                let user = name.as_str().unwrap_or_default().to_string();
                let good = self
                    .shared
                    .store
                    .check_password(&user, password.expose_secret())
                    .unwrap_or(false);
                if good {
                    self.login(server, &user).await;
                } else {
                    let _ = server.refuse_login(Refusal::bad_credentials());
                }
            }
            ServerEvent::Apop {
                name,
                digest,
                timestamp,
            } => {
                let user = name.as_str().unwrap_or_default().to_string();
                let good = self
                    .password(&user)
                    .is_some_and(|secret| apop::verify(&timestamp, &secret, digest.as_bytes()));
                if good {
                    self.login(server, &user).await;
                } else {
                    let _ = server.refuse_login(Refusal::bad_credentials());
                }
            }
            ServerEvent::AuthStart {
                mechanism,
                initial_response,
            } => {
                let name = mechanism.as_str().unwrap_or_default();
                match self.new_mechanism(name) {
                    Some(m) => {
                        self.mechanism = Some(m);
                        let ir = initial_response.map(|s| s.expose_secret().clone());
                        self.auth_step(server, ir).await;
                    }
                    None => {
                        let _ = server.refuse_login(Refusal::sys_perm());
                    }
                }
            }
            ServerEvent::AuthResponse { response } => {
                let response = response.expose_secret().clone();
                self.auth_step(server, Some(response)).await;
            }
            ServerEvent::AuthCancelled => self.mechanism = None,
            ServerEvent::Update { deleted } => {
                // R1939-21: the only place anything is removed.
                let mut failed = false;
                for msg in deleted {
                    if let Some(stored) = self.messages.get(msg.index()) {
                        if tokio::fs::remove_file(&stored.path).await.is_err() {
                            failed = true;
                        }
                    }
                }
                let result = if failed {
                    Err(Refusal::with_text(
                        Text::new("some deleted messages not removed").unwrap_or_default(),
                    ))
                } else {
                    Ok(())
                };
                let _ = server.update_done(result);
                self.lock = None;
            }
            ServerEvent::Extension { .. } => {
                let _ = server.refuse(Refusal::with_text(
                    Text::new("not supported").unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }

    /// Streams a message file through the machine in 64 KiB pieces, writing as it
    /// goes so memory stays flat whatever the message size.
    async fn retrieve(
        &mut self,
        server: &mut Server,
        conn: &mut Conn,
        index: usize,
        top: bool,
    ) -> io::Result<()> {
        let Some(stored) = self.messages.get(index) else {
            let _ = server.refuse(Refusal::sys_temp());
            return Ok(());
        };
        let mut file = match tokio::fs::File::open(&stored.path).await {
            Ok(f) => f,
            Err(_) => {
                let _ = server.refuse(Refusal::sys_temp());
                return Ok(());
            }
        };
        let size = stored.info.size;
        let mut sent_header = false;
        loop {
            let mut chunk = vec![0u8; 64 * 1024];
            let n = file.read(&mut chunk).await?;
            if n == 0 || !server.wants_message_data() {
                break;
            }
            chunk.truncate(n);
            let _ = server.send_message_chunk(Bytes::from(chunk));
            let out = pieces(server);
            if !sent_header {
                if let Some(first) = out.first() {
                    self.trace.server_lines(first);
                }
                sent_header = true;
            }
            write_all_vectored(conn, &out).await?;
        }
        let _ = server.finish_message();
        let out = pieces(server);
        if !sent_header {
            if let Some(first) = out.first() {
                self.trace.server_lines(first);
            }
        }
        self.trace.body(&if top {
            "top of message".to_string()
        } else {
            format!("message, {size} octets")
        });
        write_all_vectored(conn, &out).await
    }
}

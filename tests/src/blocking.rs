//! Driving the client machine over a blocking `std::net::TcpStream`, and
//! starting the example programs, for the tests that talk over real sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use pop3_proto::client::{Client, ClientConfig, ClientError, CommandId, Event};
use pop3_proto::types::Command;
use pop3_proto::Machine;

/// A client machine on a blocking socket.
pub struct Blocking {
    /// The machine.
    pub client: Client,
    /// The socket.
    pub tcp: TcpStream,
    buf: Vec<u8>,
    /// The socket reached end of file.
    eof: bool,
    /// Every event, in order.
    pub events: Vec<Event>,
}

/// What can go wrong.
#[derive(Debug)]
pub enum BlockingError {
    /// The socket failed.
    Io(std::io::Error),
    /// The machine reported an error.
    Protocol(ClientError),
    /// The command could not be sent.
    Send(pop3_proto::client::SendError),
}

impl Blocking {
    /// Connects and waits for the greeting.
    pub fn connect(addr: &str, config: ClientConfig) -> Result<Self, BlockingError> {
        let tcp = TcpStream::connect(addr).map_err(BlockingError::Io)?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(BlockingError::Io)?;
        let mut b = Blocking {
            client: Client::new(config),
            tcp,
            buf: vec![0; 64 * 1024],
            eof: false,
            events: Vec::new(),
        };
        b.until(|e| matches!(e, Event::Greeting { .. }))?;
        Ok(b)
    }

    /// Runs the machine until an event matches, writing and reading as needed.
    pub fn until(&mut self, mut done: impl FnMut(&Event) -> bool) -> Result<Event, BlockingError> {
        loop {
            while let Some(out) = self.client.take_output() {
                self.tcp.write_all(&out).map_err(BlockingError::Io)?;
            }
            match self.client.next_event() {
                Ok(Some(event)) => {
                    self.events.push(event.clone());
                    if done(&event) {
                        return Ok(event);
                    }
                }
                // Reading the input may have queued output (a SASL response to a
                // challenge): send it before waiting for more, or both sides wait.
                Ok(None) if self.client.has_output() => {}
                Ok(None) if self.eof => {
                    return Err(BlockingError::Io(std::io::ErrorKind::UnexpectedEof.into()));
                }
                Ok(None) => {
                    // Never more than the machine takes, so nothing is left over.
                    let room = self.client.input_room().min(self.buf.len());
                    let n = self
                        .tcp
                        .read(&mut self.buf[..room])
                        .map_err(BlockingError::Io)?;
                    if n == 0 {
                        self.client.enqueue_eof();
                        self.eof = true;
                    } else {
                        let taken = self.client.enqueue_input(&self.buf[..n]);
                        debug_assert_eq!(taken, n);
                    }
                }
                Err(e) => return Err(BlockingError::Protocol(e)),
            }
        }
    }

    /// Sends a command and waits for its final event.
    pub fn command(&mut self, command: Command) -> Result<Event, BlockingError> {
        let id = self.client.send(command).map_err(BlockingError::Send)?;
        self.wait(id)
    }

    /// Waits for the final event of a command sent earlier.
    pub fn wait(&mut self, id: CommandId) -> Result<Event, BlockingError> {
        self.until(|e| e.id() == Some(id) && e.is_final())
    }

    /// The body bytes received for a command.
    pub fn body(&self, id: CommandId) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.events {
            if let Event::BodyChunk { id: i, data } = e {
                if *i == id {
                    out.extend_from_slice(data);
                }
            }
        }
        out
    }
}

/// The directory the example binaries are built in (the profile of this test).
pub fn examples_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            // target/<profile>/deps/<test> -> target/<profile>
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>")
                .to_path_buf();
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Process::new(cargo);
            build.args(["build", "-q", "-p", "pop3-proto", "--examples"]);
            if release {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build for the examples");
            assert!(status.success(), "building the examples failed");
            profile_dir.join("examples")
        })
        .clone()
}

/// A running example server, stopped when dropped.
pub struct ServeProcess {
    /// The child process.
    pub child: Child,
    /// Where it listens, `127.0.0.1:PORT`.
    pub addr: String,
}

impl ServeProcess {
    /// Starts `serve` with these arguments (plus `--listen 127.0.0.1:0`) and waits
    /// for its "listening on" line.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Process::new(examples_dir().join("serve"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the serve example");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("serve prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"))
            .to_string();
        ServeProcess { child, addr }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stored message as served: LF line ends as CRLF, and a final CRLF added.
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

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Makes one named after `tag`.
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "pop3-proto-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bundled sample Maildir.
pub fn sample_maildir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../pop3-proto/examples/data/maildir")
}

/// Copies a Maildir's `new/` and `cur/` files into `to` (with `tmp/`).
pub fn copy_maildir(from: &Path, to: &Path) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(to.join(sub)).expect("mkdir");
        if let Ok(entries) = std::fs::read_dir(from.join(sub)) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_file()) {
                    std::fs::copy(entry.path(), to.join(sub).join(entry.file_name()))
                        .expect("copy");
                }
            }
        }
    }
}

/// The messages of a Maildir in the order the example server lists them.
pub fn maildir_messages(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = ["cur", "new"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(root.join(sub))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

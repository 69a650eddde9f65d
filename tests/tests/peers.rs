//! Real POP3 software against the crate (issue 8): Dovecot as the server of the
//! fetch example and of the client machine, curl and Python's poplib as clients
//! of the serve example. Every message must arrive byte for byte as it was
//! stored (after CRLF normalisation of the store's line ends).
//!
//! Behind the `peers` feature: `.ci/peers` installs the programs and runs
//! `cargo test -p pop3-proto-tests --features peers --test peers`. With the
//! feature on, a missing program is a failure, not a skip (Dovecot is installed
//! with apt-get when it is missing and the suite runs as root).
//!
//! Everything listens on 127.0.0.1 only, on ports picked free here; every
//! process started is stopped by its PID when its test ends. A failing exchange
//! is reported with its protocol transcript: fetch's `--trace`, `curl -v`,
//! poplib's debug output, the client machine's events, the serve example's
//! `--trace` and Dovecot's log.
#![cfg(feature = "peers")]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::types::{Command, MessageNumber, Password, Username};
use pop3_proto_tests::blocking::{crlf, examples_dir, Blocking, TempDir};

const USER: &str = "alice";
const PASSWORD: &str = "wonderland";

// ---------------------------------------------------------------------------
// The corpus: what is delivered to every maildrop.
// ---------------------------------------------------------------------------

/// A message as stored (file name in `new/`, bytes in the file).
#[derive(Clone)]
struct Stored {
    name: String,
    bytes: Vec<u8>,
}

impl Stored {
    /// The message as it must arrive: CRLF line ends, a final CRLF.
    fn wire(&self) -> Vec<u8> {
        crlf(&self.bytes)
    }
}

/// The test messages, in the order both servers list them (by file name): lines
/// starting with ".", lines that are only ".", 8-bit bytes, an empty body, no
/// final line end (twice: once after a "." line), CRLF line ends in the store, a
/// 4000-octet line, a 10 MiB message, and content that would inject a reply into a
/// reader that ends lines at LF if a server sent it raw. Made once per run.
fn corpus() -> &'static [Stored] {
    static CORPUS: OnceLock<Vec<Stored>> = OnceLock::new();
    CORPUS.get_or_init(make_corpus)
}

fn make_corpus() -> Vec<Stored> {
    let messages: Vec<(&str, Vec<u8>)> = vec![
        (
            "plain",
            b"From: Bob <bob@example.com>\nTo: Alice <alice@example.com>\nSubject: peers-01 plain\n\
              Message-ID: <peers-01@example.com>\n\nHello Alice.\nTwo lines of body.\n"
                .to_vec(),
        ),
        (
            "dots",
            b"Subject: peers-02 dots\nFrom: bob@example.com\n\n.leading dot\n.\n..\n...x\n. space\n\
              a.b.\n.\n\nafter an empty line\n..\n.\n"
                .to_vec(),
        ),
        ("8bit", {
            let mut m = b"Subject: peers-03 8bit\nContent-Type: text/plain; charset=utf-8\n\
                Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9 na\xc3\xafve \xe2\x82\xac\n"
                .to_vec();
            m.extend((0x80u8..=0xff).collect::<Vec<u8>>());
            m.extend_from_slice(b"\nlatin-1: caf\xe9 \xff\xfe\x80\n.\xc3\xa9 dot then 8bit\n");
            m
        }),
        (
            "empty-body",
            b"Subject: peers-04 empty body\nFrom: bob@example.com\n\n".to_vec(),
        ),
        (
            "no-final-eol",
            b"Subject: peers-05 no final line end\n\nfirst line\nthe last line has no end".to_vec(),
        ),
        (
            "crlf-stored",
            b"Subject: peers-06 stored with CRLF\r\nFrom: bob@example.com\r\n\r\nline one\r\n.\r\n\
              .dot\r\nlast\r\n"
                .to_vec(),
        ),
        (
            "dot-last-no-eol",
            b"Subject: peers-07 a dot line with no line end\n\nthe next line is a dot\n.".to_vec(),
        ),
        ("long-line", {
            let mut m = b"Subject: peers-08 a 4000-octet line\n\n".to_vec();
            m.extend(std::iter::repeat(b'L').take(4000));
            m.extend_from_slice(b"\n.");
            m.extend(std::iter::repeat(b'M').take(3000));
            m.extend_from_slice(b"\nend\n");
            m
        }),
        ("big", big_message()),
        (
            // Content that ends the reply early for a reader that ends lines at
            // LF (poplib) unless the server stuffs the dot after the bare LF
            // (RFC 1939 §3): the fake reply must arrive as content.
            "hostile",
            b"Subject: peers-10 hostile content\r\n\r\nline one\n.\r\n+OK injected\r\nlast\n.\n.\n"
                .to_vec(),
        ),
    ];
    messages
        .into_iter()
        .enumerate()
        .map(|(i, (tag, bytes))| Stored {
            name: format!("17000000{:02}.M{}P1.peers-{tag}", i + 1, i + 1),
            bytes,
        })
        .collect()
}

/// A 10 MiB message: lines of varying length, every seventh starting with ".",
/// every 101st only ".", and 8-bit bytes.
fn big_message() -> Vec<u8> {
    let mut m = b"Subject: peers-09 ten MiB\nFrom: bob@example.com\n\n".to_vec();
    let mut i = 0u32;
    while m.len() < 10 * 1024 * 1024 {
        if i % 101 == 0 {
            m.extend_from_slice(b".\n");
        } else {
            if i % 7 == 0 {
                m.push(b'.');
            }
            let len = 40 + (i as usize * 37) % 960;
            m.extend((0..len).map(|k| {
                let b = b'!' + ((i as usize + k) % 94) as u8;
                if k % 97 == 96 {
                    0xe9
                } else {
                    b
                }
            }));
            m.push(b'\n');
        }
        i += 1;
    }
    m
}

/// The first line of a message, which names it (every message's is different).
fn first_line(message: &[u8]) -> &[u8] {
    let end = message
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(message.len());
    &message[..end]
}

/// What `TOP n lines` must return (R1939-37, E-6): the headers, the blank line,
/// then `lines` body lines (the whole message when it has fewer).
fn top_of(wire: &[u8], lines: usize) -> Vec<u8> {
    let Some(end) = wire.windows(4).position(|w| w == b"\r\n\r\n") else {
        return wire.to_vec();
    };
    let head = end + 4;
    let mut out = wire[..head].to_vec();
    let mut rest = &wire[head..];
    for _ in 0..lines {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        out.extend_from_slice(&rest[..eol + 2]);
        rest = &rest[eol + 2..];
    }
    out
}

/// A short account of where two byte strings differ.
fn difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let around = |b: &[u8]| {
        let from = at.saturating_sub(40);
        let to = (at + 40).min(b.len());
        format!("{:?}", String::from_utf8_lossy(&b[from.min(to)..to]))
    };
    format!(
        "got {} octets, expected {}; first difference at octet {at}: got {}, expected {}",
        got.len(),
        want.len(),
        around(got),
        around(want)
    )
}

/// Text for an assertion message: long lines cut, only the head and the tail of
/// long transcripts kept.
fn clip(text: &str) -> String {
    const HEAD: usize = 60;
    const TAIL: usize = 200;
    const WIDTH: usize = 240;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.len() > WIDTH {
                let cut = (0..=WIDTH)
                    .rev()
                    .find(|&i| l.is_char_boundary(i))
                    .unwrap_or(0);
                format!("{}...({} chars)", &l[..cut], l.len())
            } else {
                l.to_string()
            }
        })
        .collect();
    if lines.len() <= HEAD + TAIL {
        return lines.join("\n");
    }
    let mut out = lines[..HEAD].to_vec();
    out.push(format!(
        "... {} lines left out ...",
        lines.len() - HEAD - TAIL
    ));
    out.extend_from_slice(&lines[lines.len() - TAIL..]);
    out.join("\n")
}

fn output_text(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        clip(&String::from_utf8_lossy(&out.stdout)),
        clip(&String::from_utf8_lossy(&out.stderr))
    )
}

// ---------------------------------------------------------------------------
// Programs, ports, certificates.
// ---------------------------------------------------------------------------

/// Where a program is, searching PATH and the sbin directories (Dovecot lives
/// in /usr/sbin).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A program the suite needs: with the `peers` feature, its absence is a failure.
fn require(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| {
        panic!("{name} not found: the peers suite needs it (run .ci/peers, which installs it)")
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

/// The dovecot binary, installed with apt-get when it is missing (nothing is
/// started by the packages: a policy-rc.d that denies every start is put in
/// place for the install when there is none).
fn dovecot_binary() -> PathBuf {
    static DOVECOT: OnceLock<PathBuf> = OnceLock::new();
    DOVECOT
        .get_or_init(|| {
            // dovecot-pop3d provides the pop3 service binary.
            let pop3d = Path::new("/usr/lib/dovecot/pop3");
            if let (Some(found), true) = (find_program("dovecot"), pop3d.exists()) {
                return found;
            }
            assert!(
                is_root(),
                "dovecot is not installed and this suite is not root: run .ci/peers"
            );
            let policy = Path::new("/usr/sbin/policy-rc.d");
            let placed = !policy.exists();
            if placed {
                std::fs::write(policy, "#!/bin/sh\nexit 101\n").expect("write policy-rc.d");
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(policy, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod policy-rc.d");
            }
            let update = Process::new("apt-get").args(["update", "-qq"]).output();
            let install = Process::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(["dovecot-core", "dovecot-pop3d", "openssl"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output();
            if placed {
                let _ = std::fs::remove_file(policy);
            }
            find_program("dovecot")
                .filter(|_| pop3d.exists())
                .unwrap_or_else(|| {
                    panic!(
                        "dovecot is missing and installing it failed:\nupdate: {:?}\ninstall: {}",
                        update.map(|o| o.status),
                        install.map_or_else(|e| e.to_string(), |o| output_text(&o))
                    )
                })
        })
        .clone()
}

/// A free port on 127.0.0.1: bound, then released. A port is never handed out
/// twice in one run, so parallel tests cannot pick the same one.
fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
        let mut given = GIVEN.lock().unwrap();
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// A self-signed certificate (not a CA) for `localhost` and `127.0.0.1`, with
/// its key: `(cert.pem, key.pem)` in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Writes the corpus into `maildir/new/` (with `cur/` and `tmp/`).
fn deliver(maildir: &Path, messages: &[Stored]) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for m in messages {
        std::fs::write(maildir.join("new").join(&m.name), &m.bytes).unwrap();
    }
}

/// The files of a Maildir's `new/` and `cur/`.
fn maildir_files(maildir: &Path) -> Vec<PathBuf> {
    ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(maildir.join(sub)).into_iter().flatten())
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect()
}

// ---------------------------------------------------------------------------
// Dovecot.
// ---------------------------------------------------------------------------

/// A running process stopped by its PID when dropped: SIGTERM (Dovecot's master
/// then stops its children), SIGKILL if it has not ended within 10 s.
struct Stopper(Option<Child>);

impl Stopper {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        let Some(mut child) = self.0.take() else {
            return;
        };
        let _ = Process::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A private Dovecot instance (pop3 only) over a Maildir holding the corpus.
struct Dovecot {
    // Dropped first: the process stops before its directory is removed.
    _process: Stopper,
    pop3: u16,
    pop3s: u16,
    log: PathBuf,
    maildir: PathBuf,
    cert: PathBuf,
    _dir: TempDir,
}

/// The uid and gid mail is accessed as: `nobody:nogroup` (Dovecot refuses uid 0).
fn mail_owner() -> (u32, u32) {
    let field = |file: &str, name: &str, index: usize| -> Option<u32> {
        std::fs::read_to_string(file).ok()?.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.first() == Some(&name) {
                f.get(index)?.parse().ok()
            } else {
                None
            }
        })
    };
    let uid = field("/etc/passwd", "nobody", 2).unwrap_or(65534);
    let gid = field("/etc/group", "nogroup", 2)
        .or_else(|| field("/etc/passwd", "nobody", 3))
        .unwrap_or(65534);
    (uid, gid)
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

/// Dovecot's log, clipped, for assertion messages.
fn read_log(path: &Path) -> String {
    format!(
        "--- dovecot log ---\n{}",
        clip(&std::fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})")))
    )
}

/// Whether Dovecot answers on this port of 127.0.0.1: its greeting for pop3, a
/// connection for pop3s (which waits for a TLS handshake).
fn answers(port: u16, greets: bool) -> bool {
    let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if !greets {
        return true;
    }
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    BufReader::new(tcp).read_line(&mut line).is_ok()
        && line.starts_with("+OK")
        && line.contains("Dovecot")
}

/// The configuration of an instance: its own base and state directories and
/// log, pop3 only on 127.0.0.1, a passwd-file user, cleartext logins allowed,
/// APOP, CRAM-MD5 and SCRAM, STLS and pop3s with the test certificate, and no
/// fixed delay after a failed login (Dovecot's per-IP penalty still applies).
fn dovecot_config(root: &Path, instance: &str, pop3: u16, pop3s: u16) -> String {
    let r = s(root);
    format!(
        r#"# A private instance for the pop3-proto peers suite.
base_dir = {r}/run
state_dir = {r}/state
instance_name = {instance}
protocols = pop3
listen = 127.0.0.1
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login apop cram-md5 scram-sha-1 scram-sha-256
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {r}/passwd
}}
userdb {{
  driver = passwd-file
  args = {r}/passwd
}}
mail_location = maildir:{r}/mail/%u/Maildir
first_valid_uid = 1
pop3_uidl_format = %08Xu%08Xv
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
  }}
}}
"#
    )
}

/// The certificate a Dovecot instance serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cert {
    /// Made with rcgen: an end entity for `localhost` and `127.0.0.1`.
    Rcgen,
    /// Made the way users make one: `openssl req -x509 -newkey rsa:2048 -nodes
    /// -subj /CN=localhost -days 2`, which is marked `CA:TRUE` and has no
    /// subjectAltName.
    OpensslX509,
}

/// `openssl req -x509` as users run it: `(cert.pem, key.pem)` in `dir`.
fn openssl_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let out = Process::new(require("openssl"))
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
        .args(["-subj", "/CN=localhost", "-days", "2"])
        .args(["-keyout", s(&key), "-out", s(&cert)])
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req -x509: {}",
        output_text(&out)
    );
    // Dovecot reads the key as root; the passwd-file style permissions are enough.
    (cert, key)
}

/// The certificate's SHA-256 fingerprint as users get it:
/// `openssl x509 -noout -fingerprint -sha256` prints `sha256 Fingerprint=AB:CD:...`,
/// given to fetch as `sha256:AB:CD:...`.
fn openssl_fingerprint(pem: &Path) -> String {
    let out = Process::new(require("openssl"))
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in", s(pem)])
        .output()
        .expect("run openssl x509");
    assert!(out.status.success(), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .trim()
        .split_once('=')
        .map(|(_, hex)| hex.to_string())
        .unwrap_or_else(|| panic!("openssl x509 -fingerprint printed {text:?}"));
    format!("sha256:{hex}")
}

impl Dovecot {
    /// Starts an instance named after `tag` with `messages` delivered.
    fn start(tag: &str, messages: &[Stored]) -> Dovecot {
        Dovecot::start_with(tag, messages, Cert::Rcgen)
    }

    /// Starts an instance serving a certificate of `kind`.
    fn start_with(tag: &str, messages: &[Stored], kind: Cert) -> Dovecot {
        let binary = dovecot_binary();
        assert!(
            is_root(),
            "the Dovecot tests start dovecot, which needs root"
        );
        let dir = TempDir::new(&format!("dovecot-{tag}"));
        let root = dir.0.clone();
        let (cert, _key) = match kind {
            Cert::Rcgen => certificate(&root),
            Cert::OpensslX509 => openssl_certificate(&root),
        };
        let (uid, gid) = mail_owner();
        let home = root.join("home").join(USER);
        let maildir = root.join("mail").join(USER).join("Maildir");
        std::fs::create_dir_all(&home).unwrap();
        deliver(&maildir, messages);
        chown_tree(&root.join("home"), uid, gid);
        chown_tree(&root.join("mail"), uid, gid);
        // Readable by the dovecot group (by everyone: it is a test password).
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{}::\n", s(&home)),
        )
        .unwrap();
        let log = root.join("dovecot.log");
        let mut failures = String::new();
        // A port found free can be taken by someone else before Dovecot binds it:
        // then try other ports.
        for attempt in 0..3 {
            let (pop3, pop3s) = (free_port(), free_port());
            let instance = format!("pop3peers-{tag}-{}-{attempt}", std::process::id());
            let config = root.join("dovecot.conf");
            std::fs::write(&config, dovecot_config(&root, &instance, pop3, pop3s)).unwrap();
            let _ = std::fs::remove_file(&log);
            let stderr = root.join("dovecot.stderr");
            let child = Process::new(&binary)
                .args(["-F", "-c", s(&config)])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&stderr).expect("dovecot.stderr"))
                .spawn()
                .expect("start dovecot");
            let mut process = Stopper(Some(child));
            let started = Instant::now();
            let ready = loop {
                let child = process.0.as_mut().expect("child");
                if let Ok(Some(status)) = child.try_wait() {
                    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
                    break Err(format!("dovecot exited ({status}): {err}"));
                }
                if answers(pop3, true) && answers(pop3s, false) {
                    break Ok(());
                }
                if started.elapsed() > Duration::from_secs(20) {
                    break Err("dovecot did not listen within 20 s".to_string());
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            match ready {
                Ok(()) => {
                    return Dovecot {
                        _process: process,
                        pop3,
                        pop3s,
                        log,
                        maildir,
                        cert,
                        _dir: dir,
                    }
                }
                Err(why) => {
                    drop(process);
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    failures.push_str(&format!(
                        "attempt {attempt}: {why}\n--- dovecot log ---\n{}\n",
                        clip(&text)
                    ));
                    if !text.contains("in use") && !why.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("dovecot did not start:\n{failures}");
    }

    fn log_text(&self) -> String {
        read_log(&self.log)
    }

    /// Delivers one more message into `new/`, owned by the mail user.
    fn deliver(&self, message: &Stored) {
        let path = self.maildir.join("new").join(&message.name);
        std::fs::write(&path, &message.bytes).unwrap();
        let (uid, gid) = mail_owner();
        chown_tree(&path, uid, gid);
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.pop3)
    }
}

// ---------------------------------------------------------------------------
// The client machine, with a transcript.
// ---------------------------------------------------------------------------

/// The library's client machine on a blocking socket, keeping a transcript of
/// commands and replies (bodies summarised) for assertion messages.
struct Traced {
    b: Blocking,
    log: Vec<String>,
    seen: usize,
    /// The server's log (Dovecot's), read when something fails.
    server_log: PathBuf,
}

impl Traced {
    fn connect(addr: &str, server_log: &Path) -> Traced {
        let b = Blocking::connect(addr, ClientConfig::default())
            .unwrap_or_else(|e| panic!("connect to {addr}: {e:?}\n{}", read_log(server_log)));
        let mut t = Traced {
            b,
            log: Vec::new(),
            seen: 0,
            server_log: server_log.to_path_buf(),
        };
        t.record();
        t
    }

    /// Adds the events not yet in the transcript.
    fn record(&mut self) {
        let mut body = 0usize;
        for event in &self.b.events[self.seen..] {
            match event {
                Event::BodyChunk { data, .. } => body += data.len(),
                Event::BodyEnd { size, .. } => {
                    self.log
                        .push(format!("S: <body: {body} octets, size {size}>"));
                    body = 0;
                }
                other => self.log.push(format!("S: {other:?}")),
            }
        }
        self.seen = self.b.events.len();
    }

    fn transcript(&self) -> String {
        format!(
            "--- transcript (client machine) ---\n{}\n{}",
            clip(&self.log.join("\n")),
            read_log(&self.server_log)
        )
    }

    /// Sends a command and waits for its final event.
    fn cmd(&mut self, command: Command) -> Event {
        let id = self.send(command);
        self.wait(id)
    }

    fn send(&mut self, command: Command) -> pop3_proto::client::CommandId {
        self.log.push(format!("C: {command:?}"));
        match self.b.client.send(command) {
            Ok(id) => id,
            Err(e) => panic!("send: {e:?}\n{}", self.transcript()),
        }
    }

    fn wait(&mut self, id: pop3_proto::client::CommandId) -> Event {
        let r = self.b.wait(id);
        self.record();
        r.unwrap_or_else(|e| panic!("{e:?}\n{}", self.transcript()))
    }

    /// Sends a command and expects `+OK`.
    fn ok(&mut self, command: Command) -> Event {
        let what = format!("{command:?}");
        let r = self.cmd(command);
        if !is_ok(&r) {
            panic!("{what}: {r:?}\n{}", self.transcript());
        }
        r
    }

    /// Sends a command and expects `-ERR`.
    fn err(&mut self, command: Command) {
        let what = format!("{command:?}");
        let r = self.cmd(command);
        if is_ok(&r) {
            panic!("{what} should fail: {r:?}\n{}", self.transcript());
        }
    }

    /// CAPA (the machine pipelines only when the server lists PIPELINING), then
    /// USER and PASS.
    fn login(&mut self) {
        match self.cmd(Command::Capa) {
            Event::Capabilities { .. } => {}
            other => panic!("CAPA: {other:?}\n{}", self.transcript()),
        }
        self.ok(Command::User(Username::new(USER).unwrap()));
        self.ok(Command::Pass(Password::new(PASSWORD).unwrap()));
    }

    fn stat(&mut self) -> (u32, u64) {
        match self.cmd(Command::Stat) {
            Event::Stat { drop, .. } => (drop.count, drop.size),
            other => panic!("STAT: {other:?}\n{}", self.transcript()),
        }
    }

    fn uids(&mut self) -> Vec<(u32, Vec<u8>)> {
        match self.cmd(Command::Uidl(None)) {
            Event::UidListing { listing, .. } => listing
                .iter()
                .map(|l| (l.msg.get(), l.uid.as_bytes().to_vec()))
                .collect(),
            other => panic!("UIDL: {other:?}\n{}", self.transcript()),
        }
    }

    fn sizes(&mut self) -> Vec<(u32, u64)> {
        match self.cmd(Command::List(None)) {
            Event::ScanListing { listing, .. } => {
                listing.iter().map(|l| (l.msg.get(), l.size)).collect()
            }
            other => panic!("LIST: {other:?}\n{}", self.transcript()),
        }
    }

    /// Sends every command at once (the machine pipelines them when the server
    /// lists PIPELINING), then collects each body.
    fn bodies(&mut self, commands: Vec<Command>) -> Vec<Vec<u8>> {
        let ids: Vec<_> = commands.into_iter().map(|c| self.send(c)).collect();
        ids.into_iter()
            .map(|id| {
                let end = self.wait(id);
                if !matches!(end, Event::BodyEnd { .. }) {
                    panic!("no body: {end:?}\n{}", self.transcript());
                }
                self.b.body(id)
            })
            .collect()
    }

    fn quit(&mut self) {
        match self.cmd(Command::Quit) {
            Event::Closed { line, .. } if line.is_ok() => {}
            other => panic!("QUIT: {other:?}\n{}", self.transcript()),
        }
    }
}

fn is_ok(event: &Event) -> bool {
    match event {
        Event::Status { line, .. } | Event::Closed { line, .. } => line.is_ok(),
        _ => true,
    }
}

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

/// The corpus message whose first line `body` starts with.
fn identify<'a>(body: &[u8], corpus: &'a [Stored]) -> Option<&'a Stored> {
    corpus
        .iter()
        .find(|m| first_line(&m.bytes) == first_line(body))
}

// ---------------------------------------------------------------------------
// The fetch example.
// ---------------------------------------------------------------------------

fn run_fetch(args: &[&str]) -> Output {
    Process::new(examples_dir().join("fetch"))
        .args(args)
        .env("POP3_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run the fetch example")
}

/// Checks the files fetch saved: one `<uidl>.eml` per message, each byte for
/// byte the stored message.
fn check_saved(out: &Path, corpus: &[Stored], uids: &[Vec<u8>]) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    for entry in std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        match identify(&bytes, corpus) {
            Some(m) if bytes == m.wire() => {}
            Some(m) => problems.push(format!(
                "{name} ({}): {}",
                m.name,
                difference(&bytes, &m.wire())
            )),
            None => problems.push(format!(
                "{name}: not a delivered message: {:?}",
                String::from_utf8_lossy(first_line(&bytes))
            )),
        }
        names.insert(name);
    }
    let want: HashSet<String> = uids
        .iter()
        .map(|u| format!("{}.eml", String::from_utf8_lossy(u)))
        .collect();
    if names != want {
        problems.push(format!(
            "saved files {names:?}, expected one per unique-id: {want:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The unique-ids of the maildrop, read with the client machine.
fn unique_ids(addr: &str, server_log: &Path) -> Vec<Vec<u8>> {
    let mut t = Traced::connect(addr, server_log);
    t.login();
    let uids = t.uids().into_iter().map(|(_, u)| u).collect();
    t.quit();
    uids
}

/// Runs fetch against a fresh Dovecot with `url` (`{pop3}` and `{pop3s}` are
/// replaced by the ports) and `args`; every message must arrive byte for byte,
/// and the trace must hold every line of `expect`.
fn dovecot_fetch(tag: &str, url: &str, args: &[&str], expect: &[&str]) {
    let corpus = corpus();
    let dovecot = Dovecot::start(tag, corpus);
    let uids = unique_ids(&dovecot.addr(), &dovecot.log);
    assert_eq!(uids.len(), corpus.len());
    let out = TempDir::new(&format!("fetch-{tag}"));
    let url = url
        .replace("{pop3}", &dovecot.pop3.to_string())
        .replace("{pop3s}", &dovecot.pop3s.to_string());
    let ca = s(&dovecot.cert).to_string();
    let mut all: Vec<&str> = vec!["--trace", "--out", s(&out.0), "--ca", &ca];
    all.extend_from_slice(args);
    all.push(&url);
    let result = run_fetch(&all);
    let context = || {
        format!(
            "fetch {}\n{}\n{}",
            all.join(" "),
            output_text(&result),
            dovecot.log_text()
        )
    };
    assert!(result.status.success(), "fetch failed\n{}", context());
    if let Err(problems) = check_saved(&out.0, corpus, &uids) {
        panic!(
            "fetched messages differ from the store:\n{problems}\n{}",
            context()
        );
    }
    let trace = String::from_utf8_lossy(&result.stderr);
    for line in expect {
        assert!(
            trace.contains(line),
            "the trace lacks {line:?}\n{}",
            context()
        );
    }
    // Pipelined RETR (Dovecot lists PIPELINING): every RETR goes out before the
    // first reply to one comes back.
    let lines: Vec<&str> = trace.lines().collect();
    let last_retr = lines.iter().rposition(|l| l.starts_with("C: RETR"));
    let first_body = lines.iter().position(|l| l.starts_with("S: <message body"));
    assert!(
        matches!((last_retr, first_body), (Some(r), Some(b)) if r < b),
        "RETR was not pipelined\n{}",
        context()
    );
}

// ---------------------------------------------------------------------------
// Dovecot as the server.
// ---------------------------------------------------------------------------

#[test]
fn dovecot_fetch_user_pass_pipelined() {
    dovecot_fetch(
        "user",
        "pop://alice;AUTH=+USER@127.0.0.1:{pop3}",
        &["--allow-cleartext"],
        &["C: USER alice", "C: PASS [redacted]", "C: RETR 9"],
    );
}

#[test]
fn dovecot_fetch_apop() {
    dovecot_fetch(
        "apop",
        "pop://alice;AUTH=+APOP@127.0.0.1:{pop3}",
        &[],
        &["C: APOP alice [redacted]"],
    );
}

#[test]
fn dovecot_fetch_auth_plain() {
    dovecot_fetch(
        "plain",
        "pop://alice;AUTH=PLAIN@127.0.0.1:{pop3}",
        &["--allow-cleartext"],
        &["C: AUTH PLAIN"],
    );
}

#[test]
fn dovecot_fetch_auth_login() {
    dovecot_fetch(
        "login",
        "pop://alice;AUTH=LOGIN@127.0.0.1:{pop3}",
        &["--allow-cleartext"],
        &["C: AUTH LOGIN"],
    );
}

#[test]
fn dovecot_fetch_cram_md5() {
    dovecot_fetch(
        "cram",
        "pop://alice;AUTH=CRAM-MD5@127.0.0.1:{pop3}",
        &[],
        &["C: AUTH CRAM-MD5"],
    );
}

#[test]
fn dovecot_fetch_scram_sha256() {
    dovecot_fetch(
        "scram256",
        "pop://alice;AUTH=SCRAM-SHA-256@127.0.0.1:{pop3}",
        &[],
        &["C: AUTH SCRAM-SHA-256"],
    );
}

#[test]
fn dovecot_fetch_scram_sha1() {
    dovecot_fetch(
        "scram1",
        "pop://alice;AUTH=SCRAM-SHA-1@127.0.0.1:{pop3}",
        &[],
        &["C: AUTH SCRAM-SHA-1"],
    );
}

#[test]
fn dovecot_fetch_stls() {
    // No --allow-cleartext: PLAIN is only sent because TLS is up.
    dovecot_fetch(
        "stls",
        "pop://alice;AUTH=PLAIN@127.0.0.1:{pop3}",
        &["--stls"],
        &["C: STLS", "-- TLS established (STLS)", "C: AUTH PLAIN"],
    );
}

#[test]
fn dovecot_fetch_implicit_tls() {
    dovecot_fetch(
        "pops",
        "pops://alice@127.0.0.1:{pop3s}",
        &[],
        &["-- TLS established (implicit)", "C: AUTH "],
    );
}

/// LIST, UIDL, RETR and TOP with the library's client machine (TOP and RETR
/// pipelined), against every message of the corpus.
#[test]
fn dovecot_list_uidl_retr_top_with_the_client_machine() {
    let corpus = corpus();
    let dovecot = Dovecot::start("machine", corpus);
    let mut t = Traced::connect(&dovecot.addr(), &dovecot.log);
    match t.cmd(Command::Capa) {
        Event::Capabilities { .. } => {}
        other => panic!("CAPA: {other:?}\n{}", t.transcript()),
    }
    for tag in [
        &b"TOP"[..],
        b"UIDL",
        b"PIPELINING",
        b"STLS",
        b"USER",
        b"SASL",
    ] {
        assert!(
            t.b.client.has_capability(tag),
            "CAPA lacks {}\n{}",
            String::from_utf8_lossy(tag),
            t.transcript()
        );
    }
    t.login();
    let count = corpus.len() as u32;
    let (listed, _) = t.stat();
    assert_eq!(listed, count, "STAT\n{}", t.transcript());

    // RETR: which stored message each number is, and its bytes.
    let bodies = t.bodies((1..=count).map(|k| Command::Retr(n(k))).collect());
    let mut by_number: HashMap<u32, &Stored> = HashMap::new();
    for (k, body) in (1..=count).zip(&bodies) {
        let m = identify(body, corpus)
            .unwrap_or_else(|| panic!("RETR {k}: unknown message\n{}", t.transcript()));
        assert!(
            *body == m.wire(),
            "RETR {k} ({}): {}\n{}",
            m.name,
            difference(body, &m.wire()),
            t.transcript()
        );
        by_number.insert(k, m);
    }
    assert_eq!(by_number.len(), corpus.len());

    // LIST: the sizes. Dovecot does not count the line end it adds to a message
    // stored without one (R6856-1 is a SHOULD): that is the only difference allowed.
    for (k, size) in t.sizes() {
        let m = by_number[&k];
        let wire = m.wire().len() as u64;
        let no_final_eol = !m.bytes.ends_with(b"\n");
        assert!(
            size == wire || (no_final_eol && size + 2 == wire),
            "LIST: message {k} ({}) listed as {size} octets, sent as {wire}\n{}",
            m.name,
            t.transcript()
        );
    }
    match t.cmd(Command::List(Some(n(2)))) {
        Event::ScanOne { scan, .. } => assert_eq!(scan.msg.get(), 2),
        other => panic!("LIST 2: {other:?}\n{}", t.transcript()),
    }

    // UIDL: one valid, distinct unique-id per message; UIDL n agrees.
    let uids = t.uids();
    assert_eq!(uids.len(), corpus.len(), "UIDL\n{}", t.transcript());
    let distinct: HashSet<&Vec<u8>> = uids.iter().map(|(_, u)| u).collect();
    assert_eq!(
        distinct.len(),
        uids.len(),
        "UIDL repeats an id\n{}",
        t.transcript()
    );
    for (k, uid) in &uids {
        match t.cmd(Command::Uidl(Some(n(*k)))) {
            Event::UidOne { uid: one, .. } => {
                assert_eq!(one.uid.as_bytes(), &uid[..], "UIDL {k}\n{}", t.transcript())
            }
            other => panic!("UIDL {k}: {other:?}\n{}", t.transcript()),
        }
    }

    // TOP n 0, TOP n 2 and TOP n 100000 (more lines than the body: all of it).
    for lines in [0u32, 2, 100_000] {
        let tops = t.bodies(
            (1..=count)
                .map(|k| Command::Top { msg: n(k), lines })
                .collect(),
        );
        for (k, top) in (1..=count).zip(&tops) {
            let want = top_of(&by_number[&k].wire(), lines as usize);
            assert!(
                *top == want,
                "TOP {k} {lines} ({}): {}\n{}",
                by_number[&k].name,
                difference(top, &want),
                t.transcript()
            );
        }
    }
    t.ok(Command::Noop);
    t.quit();
}

/// DELE marks, RSET unmarks, and DELE then QUIT removes: a new login shows the
/// messages gone. Then fetch --delete empties the maildrop.
#[test]
fn dovecot_dele_quit_then_a_new_login_shows_them_gone() {
    let corpus = corpus();
    let dovecot = Dovecot::start("dele", corpus);
    let count = corpus.len() as u32;
    let mut t = Traced::connect(&dovecot.addr(), &dovecot.log);
    t.login();
    let uids = t.uids();
    t.ok(Command::Dele(n(1)));
    t.ok(Command::Dele(n(3)));
    // E-10: a deleted message cannot be named; numbers do not shift.
    t.err(Command::Retr(n(1)));
    t.err(Command::List(Some(n(3))));
    t.err(Command::Dele(n(1)));
    assert_eq!(t.stat().0, count - 2, "STAT after DELE\n{}", t.transcript());
    let listed: Vec<u32> = t.sizes().into_iter().map(|(k, _)| k).collect();
    let want: Vec<u32> = (1..=count).filter(|k| *k != 1 && *k != 3).collect();
    assert_eq!(listed, want, "LIST after DELE\n{}", t.transcript());
    t.ok(Command::Rset);
    assert_eq!(t.stat().0, count, "STAT after RSET\n{}", t.transcript());
    t.ok(Command::Dele(n(1)));
    t.ok(Command::Dele(n(3)));
    t.quit();

    let mut again = Traced::connect(&dovecot.addr(), &dovecot.log);
    again.login();
    assert_eq!(
        again.stat().0,
        count - 2,
        "STAT in a new session\n{}",
        again.transcript()
    );
    let left: Vec<Vec<u8>> = again.uids().into_iter().map(|(_, u)| u).collect();
    let want: Vec<Vec<u8>> = uids
        .iter()
        .filter(|(k, _)| *k != 1 && *k != 3)
        .map(|(_, u)| u.clone())
        .collect();
    assert_eq!(left, want, "UIDL in a new session\n{}", again.transcript());
    let bodies = again.bodies((1..=count - 2).map(|k| Command::Retr(n(k))).collect());
    for body in &bodies {
        let m = identify(body, corpus).expect("a delivered message");
        assert!(
            *body == m.wire(),
            "{}: {}",
            m.name,
            difference(body, &m.wire())
        );
    }
    again.quit();
    assert_eq!(maildir_files(&dovecot.maildir).len(), corpus.len() - 2);

    // fetch --delete: DELE every message saved, QUIT; then nothing is left.
    let out = TempDir::new("fetch-delete");
    let url = format!("pop://alice;AUTH=CRAM-MD5@127.0.0.1:{}", dovecot.pop3);
    let result = run_fetch(&["--trace", "--delete", "--out", s(&out.0), &url]);
    let context = || format!("{}\n{}", output_text(&result), dovecot.log_text());
    assert!(
        result.status.success(),
        "fetch --delete failed\n{}",
        context()
    );
    assert_eq!(
        std::fs::read_dir(&out.0).unwrap().count(),
        corpus.len() - 2,
        "{}",
        context()
    );
    let mut last = Traced::connect(&dovecot.addr(), &dovecot.log);
    last.login();
    assert_eq!(
        last.stat(),
        (0, 0),
        "STAT after fetch --delete\n{}",
        last.transcript()
    );
    assert!(last.uids().is_empty(), "{}", last.transcript());
    last.quit();
    assert!(maildir_files(&dovecot.maildir).is_empty(), "{}", context());
}

/// A wrong password: `-ERR [AUTH]` (RFC 3206 §5), read by the machine as a typed
/// response code; the session stays in AUTHORIZATION (R5034-13), and the right
/// password then works on the same connection. One instance per login kind:
/// Dovecot delays every login from an IP after a failure, more after each one.
fn wrong_credentials(tag: &str, attempt: impl FnOnce(&mut Traced) -> Event) {
    use pop3_proto::types::CodeKind;
    let corpus = &corpus()[..2];
    let dovecot = Dovecot::start(tag, corpus);
    let mut t = Traced::connect(&dovecot.addr(), &dovecot.log);
    t.cmd(Command::Capa);
    match attempt(&mut t) {
        Event::Status { line, .. } if line.is_err() => assert_eq!(
            line.code().map(|c| c.kind()),
            Some(CodeKind::Auth),
            "{line:?}\n{}",
            t.transcript()
        ),
        other => panic!(
            "a wrong password was accepted: {other:?}\n{}",
            t.transcript()
        ),
    }
    t.login();
    assert_eq!(t.stat().0, 2, "{}", t.transcript());
    t.quit();
}

fn wrong_secret() -> pop3_proto::secret::Secret<Vec<u8>> {
    pop3_proto::secret::Secret::new(b"not-the-password".to_vec())
}

#[test]
fn dovecot_wrong_pass_gets_auth_code_and_the_session_goes_on() {
    wrong_credentials("badpass", |t| {
        t.ok(Command::User(Username::new(USER).unwrap()));
        t.cmd(Command::Pass(Password::new("not-the-password").unwrap()))
    });
}

#[test]
fn dovecot_wrong_apop_gets_auth_code_and_the_session_goes_on() {
    wrong_credentials("badapop", |t| {
        let id =
            t.b.client
                .apop(Username::new(USER).unwrap(), &wrong_secret());
        let id = id.unwrap_or_else(|e| panic!("APOP: {e:?}\n{}", t.transcript()));
        t.log.push("C: APOP alice (a wrong secret)".into());
        t.wait(id)
    });
}

#[test]
fn dovecot_wrong_auth_plain_gets_auth_code_and_the_session_goes_on() {
    wrong_credentials("badplain", |t| {
        let plain = pop3_proto::sasl::PlainClient::new(USER, wrong_secret()).unwrap();
        let id = t.b.client.authenticate(Box::new(plain)).unwrap();
        t.log.push("C: AUTH PLAIN (a wrong password)".into());
        t.wait(id)
    });
}

/// SCRAM fails only after the client's proof: the machine answers the
/// server-first challenge, then takes the `-ERR` as the end of the exchange.
#[test]
fn dovecot_wrong_scram_sha256_gets_auth_code_and_the_session_goes_on() {
    use pop3_proto::sasl::{ScramClient, ScramHash};
    wrong_credentials("badscram", |t| {
        let scram = ScramClient::new(
            ScramHash::Sha256,
            USER,
            wrong_secret(),
            "rOprNGfwEbeRWgbNEkqO",
        );
        let id = t.b.client.authenticate(Box::new(scram.unwrap())).unwrap();
        t.log
            .push("C: AUTH SCRAM-SHA-256 (a wrong password)".into());
        t.wait(id)
    });
}

// ---------------------------------------------------------------------------
// The serve example, for curl and poplib.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tls {
    None,
    Stls,
    Implicit,
}

/// The serve example over a Maildir holding the corpus, with `--trace` to a file.
struct Serve {
    _process: Stopper,
    port: u16,
    trace: PathBuf,
    maildir: PathBuf,
    cert: PathBuf,
    corpus: &'static [Stored],
    dir: TempDir,
}

impl Serve {
    fn start(tag: &str, tls: Tls) -> Serve {
        let dir = TempDir::new(&format!("serve-{tag}"));
        let corpus = corpus();
        let maildir = dir.0.join("Maildir");
        deliver(&maildir, corpus);
        let (cert, key) = certificate(&dir.0);
        let trace = dir.0.join("serve-trace.log");
        let mut args = vec![
            "--listen".to_string(),
            "127.0.0.1:0".into(),
            "--maildir".into(),
            s(&maildir).into(),
            "--user".into(),
            format!("{USER}:{PASSWORD}"),
            "--trace".into(),
        ];
        if tls != Tls::None {
            args.extend([
                "--tls-cert".into(),
                s(&cert).into(),
                "--tls-key".into(),
                s(&key).into(),
            ]);
        }
        match tls {
            Tls::None => {}
            // Cleartext logins only after STLS: the clients must really upgrade.
            Tls::Stls => args.push("--require-tls".into()),
            Tls::Implicit => args.push("--implicit-tls".into()),
        }
        let mut child = Process::new(examples_dir().join("serve"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&trace).unwrap())
            .spawn()
            .expect("start the serve example");
        let stdout = child.stdout.take().expect("stdout");
        let process = Stopper(Some(child));
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("serve prints its address");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"));
        Serve {
            _process: process,
            port,
            trace,
            maildir,
            cert,
            corpus,
            dir,
        }
    }

    fn trace_text(&self) -> String {
        format!(
            "--- serve --trace (pid {}) ---\n{}",
            self._process.id(),
            clip(&std::fs::read_to_string(&self.trace).unwrap_or_default())
        )
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{USER}:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    /// The file of stored message `k` (1-based), if it is still there.
    fn stored_path(&self, k: usize) -> PathBuf {
        self.maildir.join("new").join(&self.corpus[k - 1].name)
    }
}

// ---------------------------------------------------------------------------
// curl as the client.
// ---------------------------------------------------------------------------

/// Runs curl with `-sS -v` (the exchange on stderr).
fn curl(args: &[String]) -> Output {
    Process::new(require("curl"))
        .args(["-sS", "-v", "--max-time", "120"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

fn curl_context(serve: &Serve, args: &[String], out: &Output) -> String {
    format!(
        "curl {}\n{}\n{}",
        args.join(" "),
        output_text(out),
        serve.trace_text()
    )
}

/// The lines of a listing curl printed, without line ends.
fn listing_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Retrieves every message with curl over one connection (curl reuses it for
/// every URL of one run) and checks each byte for byte.
fn curl_retrieve_all(serve: &Serve, scheme: &str, extra: &[&str]) -> Output {
    let out = TempDir::new("curl-out");
    let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    for k in 1..=serve.corpus.len() {
        args.push(format!("{}/{k}", serve.url(scheme)));
        args.push("-o".into());
        args.push(s(&out.0.join(format!("{k}.eml"))).into());
    }
    let result = curl(&args);
    let context = || curl_context(serve, &args, &result);
    assert!(result.status.success(), "curl failed\n{}", context());
    for (k, m) in serve.corpus.iter().enumerate() {
        let got = std::fs::read(out.0.join(format!("{}.eml", k + 1))).unwrap_or_default();
        assert!(
            got == m.wire(),
            "curl RETR {} ({}): {}\n{}",
            k + 1,
            m.name,
            difference(&got, &m.wire()),
            context()
        );
    }
    result
}

#[test]
fn curl_list_uidl_retr_top_against_serve() {
    let serve = Serve::start("curl", Tls::None);
    let base = serve.url("pop3");
    // LIST (curl's default for a URL without a message number).
    let args = vec![format!("{base}/")];
    let list = curl(&args);
    assert!(
        list.status.success(),
        "{}",
        curl_context(&serve, &args, &list)
    );
    let want: Vec<String> = serve
        .corpus
        .iter()
        .enumerate()
        .map(|(k, m)| format!("{} {}", k + 1, m.wire().len()))
        .collect();
    assert_eq!(
        listing_lines(&list.stdout),
        want,
        "LIST\n{}",
        curl_context(&serve, &args, &list)
    );
    // UIDL: the file names.
    let args = vec!["-X".into(), "UIDL".into(), format!("{base}/")];
    let uidl = curl(&args);
    let want: Vec<String> = serve
        .corpus
        .iter()
        .enumerate()
        .map(|(k, m)| format!("{} {}", k + 1, m.name))
        .collect();
    assert_eq!(
        listing_lines(&uidl.stdout),
        want,
        "UIDL\n{}",
        curl_context(&serve, &args, &uidl)
    );
    // RETR every message (curl's default login here: SASL, CRAM-MD5).
    let result = curl_retrieve_all(&serve, "pop3", &[]);
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(exchange.contains("> AUTH "), "{exchange}");
    // TOP n 0 for every message, one connection.
    let out = TempDir::new("curl-top");
    let mut args: Vec<String> = Vec::new();
    for k in 1..=serve.corpus.len() {
        if k > 1 {
            args.push("--next".into());
        }
        args.extend([
            "-sS".into(),
            "-v".into(),
            "-X".into(),
            format!("TOP {k} 0"),
            format!("{base}/"),
            "-o".into(),
            s(&out.0.join(format!("{k}.top"))).into(),
        ]);
    }
    let top = curl(&args);
    let context = curl_context(&serve, &args, &top);
    assert!(top.status.success(), "{context}");
    for (k, m) in serve.corpus.iter().enumerate() {
        let got = std::fs::read(out.0.join(format!("{}.top", k + 1))).unwrap_or_default();
        let want = top_of(&m.wire(), 0);
        assert!(
            got == want,
            "TOP {} 0 ({}): {}\n{context}",
            k + 1,
            m.name,
            difference(&got, &want)
        );
    }
}

#[test]
fn curl_dele_rset_and_quit_against_serve() {
    let serve = Serve::start("curl-dele", Tls::None);
    let base = serve.url("pop3");
    let count = serve.corpus.len();
    let all: Vec<String> = serve
        .corpus
        .iter()
        .enumerate()
        .map(|(k, m)| format!("{} {}", k + 1, m.wire().len()))
        .collect();
    // One session (curl reuses the connection): DELE 1, LIST, RSET, LIST, QUIT.
    // DELE and RSET have single-line replies: curl needs -I (no body) for them.
    let out = TempDir::new("curl-dele");
    let (l1, l2) = (out.0.join("list1"), out.0.join("list2"));
    let args: Vec<String> = vec![
        "-I".into(),
        "-X".into(),
        "DELE 1".into(),
        format!("{base}/"),
        "--next".into(),
        "-sS".into(),
        "-v".into(),
        format!("{base}/"),
        "-o".into(),
        s(&l1).into(),
        "--next".into(),
        "-sS".into(),
        "-v".into(),
        "-I".into(),
        "-X".into(),
        "RSET".into(),
        format!("{base}/"),
        "--next".into(),
        "-sS".into(),
        "-v".into(),
        format!("{base}/"),
        "-o".into(),
        s(&l2).into(),
    ];
    let result = curl(&args);
    let context = curl_context(&serve, &args, &result);
    assert!(result.status.success(), "{context}");
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        exchange.matches("> CAPA").count(),
        1,
        "one connection\n{context}"
    );
    assert_eq!(
        listing_lines(&std::fs::read(&l1).unwrap()),
        all[1..].to_vec(),
        "LIST after DELE 1\n{context}"
    );
    assert_eq!(
        listing_lines(&std::fs::read(&l2).unwrap()),
        all,
        "LIST after RSET\n{context}"
    );
    assert!(
        serve.stored_path(1).exists(),
        "RSET undid the deletion\n{context}"
    );
    assert_eq!(maildir_files(&serve.maildir).len(), count);

    // DELE 2, then QUIT commits it; a new session lists it no more.
    let args: Vec<String> = vec![
        "-I".into(),
        "-X".into(),
        "DELE 2".into(),
        format!("{base}/"),
    ];
    let dele = curl(&args);
    let context = curl_context(&serve, &args, &dele);
    assert!(dele.status.success(), "{context}");
    // curl -v does not show the QUIT it sends when it closes: the server's trace does.
    assert!(serve.trace_text().contains("C: QUIT"), "{context}");
    assert!(
        !serve.stored_path(2).exists(),
        "QUIT removed message 2\n{context}"
    );
    let args = vec![format!("{base}/")];
    let list = curl(&args);
    let want: Vec<String> = serve
        .corpus
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != 1)
        .enumerate()
        .map(|(i, (_, m))| format!("{} {}", i + 1, m.wire().len()))
        .collect();
    assert_eq!(
        listing_lines(&list.stdout),
        want,
        "LIST in a new session\n{}",
        curl_context(&serve, &args, &list)
    );
}

#[test]
fn curl_apop_against_serve() {
    let serve = Serve::start("curl-apop", Tls::None);
    let result = curl_retrieve_all(&serve, "pop3", &["--login-options", "AUTH=+APOP"]);
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(exchange.contains("> APOP alice "), "{}", clip(&exchange));
}

#[test]
fn curl_auth_plain_against_serve() {
    let serve = Serve::start("curl-plain", Tls::None);
    let result = curl_retrieve_all(&serve, "pop3", &["--login-options", "AUTH=PLAIN"]);
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(exchange.contains("> AUTH PLAIN"), "{}", clip(&exchange));
}

/// `--sasl-ir`: the PLAIN response goes on the AUTH line (R5034-7).
#[test]
fn curl_auth_plain_initial_response_against_serve() {
    let serve = Serve::start("curl-plain-ir", Tls::None);
    let result = curl_retrieve_all(
        &serve,
        "pop3",
        &["--login-options", "AUTH=PLAIN", "--sasl-ir"],
    );
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(
        exchange.contains("> AUTH PLAIN AGFsaWNl"),
        "{}",
        clip(&exchange)
    );
}

/// LOGIN: two challenges, user name then password.
#[test]
fn curl_auth_login_against_serve() {
    let serve = Serve::start("curl-login", Tls::None);
    let result = curl_retrieve_all(&serve, "pop3", &["--login-options", "AUTH=LOGIN"]);
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(exchange.contains("> AUTH LOGIN"), "{}", clip(&exchange));
}

#[test]
fn curl_stls_against_serve() {
    let serve = Serve::start("curl-stls", Tls::Stls);
    let ca = s(&serve.cert).to_string();
    let result = curl_retrieve_all(
        &serve,
        "pop3",
        &[
            "--ssl-reqd",
            "--cacert",
            &ca,
            "--login-options",
            "AUTH=PLAIN",
        ],
    );
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(exchange.contains("> STLS"), "{}", clip(&exchange));
    assert!(exchange.contains("> AUTH PLAIN"), "{}", clip(&exchange));
}

#[test]
fn curl_pop3s_against_serve() {
    let serve = Serve::start("curl-pop3s", Tls::Implicit);
    let ca = s(&serve.cert).to_string();
    let result = curl_retrieve_all(&serve, "pop3s", &["--cacert", &ca]);
    let exchange = String::from_utf8_lossy(&result.stderr);
    assert!(
        exchange.contains("SSL connection using"),
        "{}",
        clip(&exchange)
    );
}

// ---------------------------------------------------------------------------
// Python's poplib as the client.
// ---------------------------------------------------------------------------

/// Runs tests/peers/poplib_session.py against serve in `mode`.
fn poplib(tag: &str, tls: Tls, mode: &str, extra: &[&str]) -> Serve {
    let serve = Serve::start(tag, tls);
    let expected = serve.dir.0.join("expected");
    std::fs::create_dir_all(&expected).unwrap();
    let mut uids = String::new();
    for (k, m) in serve.corpus.iter().enumerate() {
        std::fs::write(expected.join(format!("{}.eml", k + 1)), m.wire()).unwrap();
        uids.push_str(&m.name);
        uids.push('\n');
    }
    std::fs::write(expected.join("uids"), uids).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/poplib_session.py");
    let port = serve.port.to_string();
    let mut args = vec![
        s(&script),
        "--port",
        &port,
        "--mode",
        mode,
        "--expected",
        s(&expected),
        "--cafile",
        s(&serve.cert),
    ];
    args.extend_from_slice(extra);
    let result = Process::new(require("python3"))
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    assert!(
        result.status.success(),
        "poplib session failed\npython3 {}\n{}\n{}",
        args.join(" "),
        output_text(&result),
        serve.trace_text()
    );
    serve
}

#[test]
fn poplib_user_pass_list_uidl_retr_top_dele_rset_against_serve() {
    let serve = poplib("poplib-user", Tls::None, "user", &["--commit-delete", "3"]);
    assert!(
        !serve.stored_path(3).exists(),
        "QUIT removed message 3\n{}",
        serve.trace_text()
    );
    assert_eq!(maildir_files(&serve.maildir).len(), serve.corpus.len() - 1);
}

#[test]
fn poplib_apop_against_serve() {
    poplib("poplib-apop", Tls::None, "apop", &[]);
}

#[test]
fn poplib_auth_plain_against_serve() {
    poplib("poplib-plain", Tls::None, "plain", &[]);
}

#[test]
fn poplib_stls_against_serve() {
    poplib("poplib-stls", Tls::Stls, "stls", &[]);
}

#[test]
fn poplib_pop3s_against_serve() {
    poplib("poplib-pop3s", Tls::Implicit, "pops", &[]);
}

/// The transcripts this suite prints come from fetch --trace: the password must
/// never appear in them, whatever the login.
#[test]
fn fetch_trace_against_dovecot_redacts_the_password() {
    let corpus = &corpus()[..2];
    let dovecot = Dovecot::start("redact", corpus);
    for auth in ["+USER", "PLAIN", "LOGIN"] {
        let url = format!("pop://alice;AUTH={auth}@127.0.0.1:{}", dovecot.pop3);
        let result = run_fetch(&["--trace", "--allow-cleartext", &url]);
        let text = output_text(&result);
        assert!(result.status.success(), "{text}\n{}", dovecot.log_text());
        assert!(!text.contains(PASSWORD), "the password leaked:\n{text}");
    }
}

// ---------------------------------------------------------------------------
// fetch: self-signed certificates, pinning, UIDL sync (issue 14).
// ---------------------------------------------------------------------------

/// Dovecot serving a certificate made with `openssl req -x509` (CA:TRUE, no
/// subjectAltName): `fetch --stls --ca cert.pem` and `--fingerprint` with the
/// fingerprint openssl prints (upper case, colons) and in lower-case hex both
/// save every message.
#[test]
fn dovecot_fetch_stls_with_an_openssl_x509_certificate_and_a_pin() {
    let corpus = &corpus()[..5];
    let dovecot = Dovecot::start_with("x509", corpus, Cert::OpensslX509);
    let uids = unique_ids(&dovecot.addr(), &dovecot.log);
    let pin = openssl_fingerprint(&dovecot.cert);
    let lower = format!("sha256:{}", pin[7..].replace(':', "").to_ascii_lowercase());
    let url = format!("pop://alice;AUTH=PLAIN@localhost:{}", dovecot.pop3);
    for trust in [
        ["--ca", s(&dovecot.cert)],
        ["--fingerprint", pin.as_str()],
        ["--fingerprint", lower.as_str()],
    ] {
        let out = TempDir::new("fetch-x509");
        let args = [
            "--stls",
            "--trace",
            trust[0],
            trust[1],
            "--out",
            s(&out.0),
            &url,
        ];
        let result = run_fetch(&args);
        let context = || {
            format!(
                "fetch {}\n{}\n{}",
                args.join(" "),
                output_text(&result),
                dovecot.log_text()
            )
        };
        assert!(result.status.success(), "fetch failed\n{}", context());
        let trace = String::from_utf8_lossy(&result.stderr);
        assert!(trace.contains("-- TLS established (STLS)"), "{}", context());
        if let Err(problems) = check_saved(&out.0, corpus, &uids) {
            panic!(
                "fetched messages differ from the store:\n{problems}\n{}",
                context()
            );
        }
    }
}

/// A wrong pin, or a --ca certificate that is not the server's, fails the TLS
/// handshake: the trace ends at STLS, and Dovecot logs the connection as one
/// with no authentication attempt.
#[test]
fn dovecot_fetch_wrong_pin_is_refused_before_any_credential() {
    let corpus = &corpus()[..2];
    let dovecot = Dovecot::start_with("pin", corpus, Cert::OpensslX509);
    let other = TempDir::new("pin-other");
    let (other_cert, _) = openssl_certificate(&other.0);
    let wrong = openssl_fingerprint(&other_cert);
    let url = format!("pop://alice@localhost:{}", dovecot.pop3);
    for trust in [["--fingerprint", wrong.as_str()], ["--ca", s(&other_cert)]] {
        let out = TempDir::new("fetch-pin");
        let args = [
            "--stls",
            "--trace",
            trust[0],
            trust[1],
            "--out",
            s(&out.0),
            &url,
        ];
        let result = run_fetch(&args);
        let text = output_text(&result);
        let context = || format!("fetch {}\n{text}\n{}", args.join(" "), dovecot.log_text());
        assert_eq!(result.status.code(), Some(1), "{}", context());
        assert!(text.contains("C: STLS"), "{}", context());
        for sent in ["C: USER", "C: PASS", "C: AUTH", "C: APOP"] {
            assert!(!text.contains(sent), "{sent:?} went out\n{}", context());
        }
        assert!(!text.contains("TLS established"), "{}", context());
        assert_eq!(std::fs::read_dir(&out.0).unwrap().count(), 0);
    }
    // Dovecot's side: no login was attempted on any connection. Its log says
    // "no auth attempts" for each, and never names the user.
    let deadline = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = std::fs::read_to_string(&dovecot.log).unwrap_or_default();
        // The two refused handshakes (the start-up probes end without one).
        let refused = log.matches("SSL_accept() failed").count();
        if refused >= 2 || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let logins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("pop3-login") && l.contains("Disconnected"))
        .collect();
    let refused = logins
        .iter()
        .filter(|l| l.contains("SSL_accept() failed"))
        .count();
    assert!(refused >= 2, "{}", dovecot.log_text());
    for line in &logins {
        eprintln!("dovecot: {line}");
        assert!(
            line.contains("no auth attempts"),
            "{line}\n{}",
            dovecot.log_text()
        );
    }
    assert!(!log.contains("user=<alice>"), "{}", dovecot.log_text());
    assert!(!log.contains("passwd-file(alice"), "{}", dovecot.log_text());
}

/// The files of `out` that are not saved messages (temporary names).
fn part_files(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part") || n.starts_with('.'))
        .collect()
}

/// A message made for the sync tests: its first line names it.
fn sync_message(i: usize, body: &[u8]) -> Stored {
    let mut bytes = format!("Subject: peers-sync-{i:02}\nFrom: bob@example.com\n\n").into_bytes();
    bytes.extend_from_slice(body);
    Stored {
        name: format!("17100000{i:02}.M{i}P1.peers-sync-{i}"),
        bytes,
    }
}

/// `fetch --uidl-file` against Dovecot: the first run saves the five messages,
/// the second none, and after one new delivery exactly that one, each file byte
/// for byte the stored message.
#[test]
fn dovecot_fetch_uidl_sync_saves_5_then_0_then_1() {
    let corpus = &corpus()[..5];
    let dovecot = Dovecot::start("uidl-sync", corpus);
    let out = TempDir::new("fetch-uidl-sync");
    let state = out.0.join("state.uidl");
    let saved = out.0.join("mail");
    let url = format!("pop://alice@127.0.0.1:{}", dovecot.pop3);
    let args = [
        "--allow-cleartext",
        "--out",
        s(&saved),
        "--uidl-file",
        s(&state),
        &url,
    ];
    let run = |want: &str| {
        let result = run_fetch(&args);
        let context = format!(
            "fetch {}\n{}\n{}",
            args.join(" "),
            output_text(&result),
            dovecot.log_text()
        );
        assert!(result.status.success(), "{context}");
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(stdout.starts_with(want), "want {want:?}\n{context}");
    };
    run("fetched 5/5 new messages");
    let uids = unique_ids(&dovecot.addr(), &dovecot.log);
    check_saved(&saved, corpus, &uids).unwrap_or_else(|p| panic!("{p}"));
    run("fetched 0/0 new messages (0 octets), 5 already saved");
    let new = sync_message(6, b"one new delivery\n");
    dovecot.deliver(&new);
    run("fetched 1/1 new messages");
    let mut all = corpus.to_vec();
    all.push(new);
    let uids = unique_ids(&dovecot.addr(), &dovecot.log);
    assert_eq!(uids.len(), 6);
    check_saved(&saved, &all, &uids).unwrap_or_else(|p| panic!("{p}"));
    let mut want: Vec<String> = uids
        .iter()
        .map(|u| String::from_utf8_lossy(u).into_owned())
        .collect();
    want.sort();
    let state_text = std::fs::read_to_string(&state).unwrap();
    assert_eq!(state_text.lines().collect::<Vec<_>>(), want);
    assert!(part_files(&saved).is_empty(), "{:?}", part_files(&saved));
}

/// A run killed with SIGKILL while it writes a 30 MB message, then run again:
/// every message is saved exactly once, byte for byte, under its final name,
/// and no temporary file is left.
#[test]
fn dovecot_fetch_uidl_sync_killed_in_a_30_mb_message_loses_nothing() {
    let mut big = Vec::with_capacity(31 << 20);
    let mut i = 0u32;
    while big.len() < 30 << 20 {
        if i % 13 == 0 {
            big.push(b'.');
        }
        big.extend(std::iter::repeat(b'a' + (i % 26) as u8).take(60 + (i % 900) as usize));
        big.push(b'\n');
        i += 1;
    }
    let messages: Vec<Stored> = vec![
        sync_message(1, b"first\n"),
        sync_message(2, b"second\n.\n..\n"),
        sync_message(3, &big),
        sync_message(4, b"after the big one\n"),
        sync_message(5, b"last, no final line end"),
    ];
    let dovecot = Dovecot::start("uidl-kill", &messages);
    let out = TempDir::new("fetch-uidl-kill");
    let state = out.0.join("state.uidl");
    let saved = out.0.join("mail");
    let url = format!("pop://alice@127.0.0.1:{}", dovecot.pop3);
    let args = [
        "--allow-cleartext",
        "--window",
        "1",
        "--out",
        s(&saved),
        "--uidl-file",
        s(&state),
        &url,
    ];
    let uids = unique_ids(&dovecot.addr(), &dovecot.log);
    let big_name = format!(".{}.eml.part", String::from_utf8_lossy(&uids[2]));
    let big_wire = messages[2].wire().len() as u64;
    let mut child = Process::new(examples_dir().join("fetch"))
        .args(args)
        .env("POP3_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fetch");
    let started = Instant::now();
    let killed_at = loop {
        let size = std::fs::metadata(saved.join(&big_name)).map_or(0, |m| m.len());
        if size > 1 << 20 && size < big_wire - (1 << 20) {
            child.kill().expect("SIGKILL fetch");
            let _ = child.wait();
            break size;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("fetch ended ({status}) before it could be killed in the big message");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "fetch is stuck"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    eprintln!("killed fetch with {killed_at} of {big_wire} octets of message 3 written");
    // What the kill left: the first two saved and recorded, the big one only
    // under its temporary name.
    let state_text = std::fs::read_to_string(&state).unwrap_or_default();
    assert_eq!(state_text.lines().count(), 2, "{state_text}");
    let big_final = saved.join(format!("{}.eml", String::from_utf8_lossy(&uids[2])));
    assert!(
        !big_final.exists(),
        "a partial message under its final name"
    );
    // Run again.
    let result = run_fetch(&args);
    let context = format!(
        "fetch {}\n{}\n{}",
        args.join(" "),
        output_text(&result),
        dovecot.log_text()
    );
    assert!(result.status.success(), "{context}");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.starts_with("fetched 3/3 new messages"), "{context}");
    check_saved(&saved, &messages, &uids).unwrap_or_else(|p| panic!("{p}\n{context}"));
    assert!(part_files(&saved).is_empty(), "{:?}", part_files(&saved));
    let mut want: Vec<String> = uids
        .iter()
        .map(|u| String::from_utf8_lossy(u).into_owned())
        .collect();
    want.sort();
    assert_eq!(
        std::fs::read_to_string(&state)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        want
    );
    // And nothing more to do.
    let result = run_fetch(&args);
    assert!(String::from_utf8_lossy(&result.stdout).starts_with("fetched 0/0 new messages"));
}

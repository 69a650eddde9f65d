//! A Maildir as a maildrop: the files of `new/` and `cur/` are the messages, in a
//! stable order (by file name). Stored LF line ends go out as CRLF, so sizes are
//! counted with CRLF (R1939-14). UIDL is the file's base name before `:`, made
//! valid (0x21-0x7E, at most 70 octets) or replaced by a digest when it cannot be.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pop3_proto::dot::{StuffConfig, WireLen};
use pop3_proto::server::MessageInfo;
use pop3_proto::types::UniqueId;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// How stored messages are sent: LF line ends become CRLF.
pub const STUFF: StuffConfig = StuffConfig::SAFE;

/// One stored message.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its file.
    pub path: PathBuf,
    /// Its listing: size on the wire and unique-id.
    pub info: MessageInfo,
}

/// A maildrop directory.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// The Maildir at `root` (it must have `new/` or `cur/`).
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        if !root.join("new").is_dir() && !root.join("cur").is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a Maildir (no new/ or cur/)", root.display()),
            ));
        }
        Ok(Maildir { root })
    }

    /// Where it is.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The messages, in a stable order, with their exact sizes and unique-ids.
    pub async fn list(&self) -> io::Result<Vec<Stored>> {
        let mut paths = Vec::new();
        for sub in ["cur", "new"] {
            let dir = self.root.join(sub);
            let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
                continue;
            };
            while let Some(entry) = entries.next_entry().await? {
                if entry.file_type().await?.is_file() {
                    paths.push(entry.path());
                }
            }
        }
        paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let size = wire_size(&path).await?;
            let mut uid = unique_id(&path);
            if !seen.insert(uid.clone()) {
                uid = digest_uid(path.to_string_lossy().as_bytes());
                seen.insert(uid.clone());
            }
            out.push(Stored {
                path,
                info: MessageInfo { size, uid },
            });
        }
        Ok(out)
    }
}

/// The octets a message takes on the wire, CRLF line ends, stuffing not counted.
async fn wire_size(path: &Path) -> io::Result<u64> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut counter = WireLen::new(STUFF);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        counter.push(&buf[..n]);
    }
    Ok(counter.finish())
}

/// The base name before `:`, if it is a valid unique-id; a digest otherwise.
fn unique_id(path: &Path) -> UniqueId {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.split(':').next().unwrap_or_default();
    UniqueId::new(base.as_bytes()).unwrap_or_else(|_| digest_uid(base.as_bytes()))
}

fn digest_uid(bytes: &[u8]) -> UniqueId {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect();
    UniqueId::new(hex).expect("40 hex digits are a valid unique-id")
}

/// Maildrops locked by a session of this server (R1939-19): a second login gets
/// `-ERR [IN-USE]`.
#[derive(Debug, Clone, Default)]
pub struct Locks(Arc<Mutex<HashSet<PathBuf>>>);

impl Locks {
    /// Takes the lock of `root`, or says it is held.
    pub fn lock(&self, root: &Path) -> Option<LockGuard> {
        let mut held = self.0.lock().expect("lock poisoned");
        if held.insert(root.to_path_buf()) {
            Some(LockGuard {
                locks: self.clone(),
                root: root.to_path_buf(),
            })
        } else {
            None
        }
    }
}

/// A held maildrop lock, released when dropped (QUIT, a dropped connection, a
/// timeout: every way a session ends).
#[derive(Debug)]
pub struct LockGuard {
    locks: Locks,
    root: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Ok(mut held) = self.locks.0.lock() {
            held.remove(&self.root);
        }
    }
}

/// Copies a Maildir (files of `new/` and `cur/`) to `to`.
pub fn copy_maildir(from: &Path, to: &Path) -> io::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(to.join(sub))?;
        let Ok(entries) = std::fs::read_dir(from.join(sub)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), to.join(sub).join(entry.file_name()))?;
            }
        }
    }
    Ok(())
}

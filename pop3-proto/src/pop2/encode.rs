//! POP2 values to wire bytes, through the crate's [`Encode`] trait: command words
//! in upper case, one space between words, arguments quoted (R937-7), CRLF.

use bytes::BufMut;

use super::types::{quoted_len, Command, Greeting, Reply, ReplyKind};
use crate::encode::{decimal_len as number_len, put_decimal as put_number, Encode};

/// Writes `bytes` with `\` before every space and backslash (R937-7).
fn put_quoted<B: BufMut + ?Sized>(out: &mut B, bytes: &[u8]) {
    let mut rest = bytes;
    while let Some(k) = rest.iter().position(|&b| b == b' ' || b == b'\\') {
        let (run, special) = rest.split_at_checked(k).unwrap_or((rest, &[]));
        out.put_slice(run);
        if let Some((&b, after)) = special.split_first() {
            out.put_u8(b'\\');
            out.put_u8(b);
            rest = after;
        } else {
            rest = special;
        }
    }
    out.put_slice(rest);
}

impl Encode for Command {
    fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        out.put_slice(self.keyword().as_bytes());
        match self {
            Command::Helo { user, password } => {
                out.put_u8(b' ');
                put_quoted(out, user.as_bytes());
                out.put_u8(b' ');
                put_quoted(out, password.expose_secret());
            }
            Command::Fold(mailbox) => {
                out.put_u8(b' ');
                put_quoted(out, mailbox.as_bytes());
            }
            Command::Read(Some(n)) => {
                out.put_u8(b' ');
                put_number(out, u64::from(*n));
            }
            Command::Read(None)
            | Command::Retr
            | Command::Acks
            | Command::Ackd
            | Command::Nack
            | Command::Quit => {}
        }
        out.put_slice(b"\r\n");
    }

    fn encoded_len(&self) -> usize {
        let args = match self {
            Command::Helo { user, password } => {
                2 + user.quoted_len() + quoted_len(password.expose_secret())
            }
            Command::Fold(mailbox) => 1 + mailbox.quoted_len(),
            Command::Read(Some(n)) => 1 + number_len(u64::from(*n)),
            _ => 0,
        };
        4 + args + 2
    }
}

impl Encode for Reply {
    fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        match self.kind() {
            ReplyKind::Ok => out.put_u8(b'+'),
            ReplyKind::Err => out.put_u8(b'-'),
            ReplyKind::Count(n) => {
                out.put_u8(b'#');
                put_number(out, u64::from(n));
            }
            ReplyKind::Length(n) => {
                out.put_u8(b'=');
                put_number(out, n);
            }
        }
        if !self.text().is_empty() {
            out.put_u8(b' ');
            out.put_slice(self.text().as_bytes());
        }
        out.put_slice(b"\r\n");
    }

    fn encoded_len(&self) -> usize {
        let head = match self.kind() {
            ReplyKind::Ok | ReplyKind::Err => 1,
            ReplyKind::Count(n) => 1 + number_len(u64::from(n)),
            ReplyKind::Length(n) => 1 + number_len(n),
        };
        let text = if self.text().is_empty() {
            0
        } else {
            1 + self.text().as_bytes().len()
        };
        head + text + 2
    }
}

impl Encode for Greeting {
    fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        out.put_slice(b"+ POP2 ");
        out.put_slice(self.host().as_bytes());
        if !self.text().is_empty() {
            out.put_u8(b' ');
            out.put_slice(self.text().as_bytes());
        }
        out.put_slice(b"\r\n");
    }

    fn encoded_len(&self) -> usize {
        let text = if self.text().is_empty() {
            0
        } else {
            1 + self.text().as_bytes().len()
        };
        7 + self.host().as_bytes().len() + text + 2
    }
}

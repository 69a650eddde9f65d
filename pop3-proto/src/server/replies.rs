//! Writing: the reply bytes of everything the machine answers by itself, all of
//! them through [`crate::encode`] (status lines with the 512-octet rule, listings,
//! continuations, numbers).

use alloc::vec::Vec;
use core::fmt;

use super::*;
use crate::encode::{put_status, Encode, Piece};
use crate::types::{Capability, LanguageRange, Mechanism, ResponseCode};

fn plural(n: u64) -> &'static [u8] {
    if n == 1 {
        b""
    } else {
        b"s"
    }
}

/// Writes a [`fmt::Display`] into a fixed buffer, up to its end.
struct Cut {
    buf: [u8; StatusLine::MAX_LEN],
    len: usize,
}

impl fmt::Write for Cut {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let free = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = free.len().min(s.len());
        if let (Some(to), Some(from)) = (free.get_mut(..n), s.as_bytes().get(..n)) {
            to.copy_from_slice(from);
        }
        self.len += n;
        Ok(())
    }
}

impl Server {
    /// A status line with a fixed text.
    pub(super) fn line(&mut self, status: Status, code: Option<&ResponseCode>, text: &[u8]) {
        put_status(&mut self.staging, status, code, &[Piece::Text(text)]);
    }

    pub(super) fn ok(&mut self, text: &[u8]) {
        self.line(Status::Ok, None, text);
    }

    pub(super) fn err(&mut self, text: &[u8]) {
        self.line(Status::Err, None, text);
    }

    /// `-ERR [AUTH] text` (RFC 3206 §4).
    pub(super) fn auth_err(&mut self, text: &[u8]) {
        self.line(Status::Err, Some(&ResponseCode::auth()), text);
    }

    /// A status line whose text is an error's message (a parse error, a SASL
    /// failure): no allocation, and no text at all if the message holds an octet
    /// a line cannot carry.
    pub(super) fn line_display(
        &mut self,
        status: Status,
        code: Option<&ResponseCode>,
        text: &dyn fmt::Display,
    ) {
        let mut cut = Cut {
            buf: [0; StatusLine::MAX_LEN],
            len: 0,
        };
        // `Cut` never fails; a failing `Display` leaves what it wrote.
        let _ = fmt::write(&mut cut, format_args!("{text}"));
        let text = cut.buf.get(..cut.len).unwrap_or_default();
        let text = if text.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            &[]
        } else {
            text
        };
        self.line(status, code, text);
    }

    pub(super) fn err_display(&mut self, text: &dyn fmt::Display) {
        self.line_display(Status::Err, None, text);
    }

    /// A status line the host supplied.
    pub(super) fn put_line(&mut self, line: &StatusLine) {
        line.encode(&mut self.staging);
    }

    /// `+OK maildrop has N messages (S octets)`
    pub(super) fn put_summary(&mut self) {
        let (count, size) = (self.live_count, self.live_size);
        put_status(
            &mut self.staging,
            Status::Ok,
            None,
            &[
                Piece::Text(b"maildrop has "),
                Piece::Num(count),
                Piece::Text(b" message"),
                Piece::Text(plural(count)),
                Piece::Text(b" ("),
                Piece::Num(size),
                Piece::Text(b" octets)"),
            ],
        );
    }

    /// The reply to QUIT in AUTHORIZATION: `+OK` and the signoff.
    pub(super) fn put_signoff(&mut self) {
        let Server {
            staging, config, ..
        } = self;
        put_status(
            staging,
            Status::Ok,
            None,
            &[Piece::Text(config.signoff.as_bytes())],
        );
    }

    /// The reply to a successful UPDATE: `+OK signoff (N messages left)`.
    pub(super) fn put_update_done(&mut self) {
        let count = self.live_count;
        let Server {
            staging, config, ..
        } = self;
        let signoff = Piece::Text(config.signoff.as_bytes());
        if count == 0 {
            put_status(
                staging,
                Status::Ok,
                None,
                &[signoff, Piece::Text(b" (maildrop empty)")],
            );
        } else {
            put_status(
                staging,
                Status::Ok,
                None,
                &[
                    signoff,
                    Piece::Text(b" ("),
                    Piece::Num(count),
                    Piece::Text(b" message"),
                    Piece::Text(plural(count)),
                    Piece::Text(b" left)"),
                ],
            );
        }
    }

    /// `+OK count size` (R1939-31).
    pub(super) fn stat(&mut self) {
        put_status(
            &mut self.staging,
            Status::Ok,
            None,
            &[
                Piece::Num(self.live_count),
                Piece::Text(b" "),
                Piece::Num(self.live_size),
            ],
        );
    }

    /// The first line of RETR (`+OK 120 octets`, TV-1) or TOP (a bare `+OK`,
    /// TV-3).
    pub(super) fn put_retrieve_start(&mut self, msg: MessageNumber, top: bool) {
        if top {
            self.ok(b"");
            return;
        }
        let size = self.maildrop.get(msg.index()).map_or(0, |m| m.size);
        put_status(
            &mut self.staging,
            Status::Ok,
            None,
            &[Piece::Num(size), Piece::Text(b" octets")],
        );
    }

    /// The index of message `msg` if it exists and is not deleted; otherwise
    /// answers `-ERR` (E-10, E-12): `message n already deleted` for a deleted
    /// message, and for a number past the end `no such message`, with the
    /// maildrop's size when `count` (the RFC's LIST and UIDL examples).
    pub(super) fn message_or_err(&mut self, msg: MessageNumber, count: bool) -> Option<usize> {
        let i = msg.index();
        let total = self.maildrop.len() as u64;
        let text: &[Piece<'_>] = match self.deleted.get(i) {
            Some(false) => return Some(i),
            Some(true) => &[
                Piece::Text(b"message "),
                Piece::Num(u64::from(msg.get())),
                Piece::Text(b" already deleted"),
            ],
            None if count => &[
                Piece::Text(b"no such message, only "),
                Piece::Num(total),
                Piece::Text(b" message"),
                Piece::Text(plural(total)),
                Piece::Text(b" in maildrop"),
            ],
            None => &[Piece::Text(b"no such message")],
        };
        put_status(&mut self.staging, Status::Err, None, text);
        None
    }

    /// `+OK message n deleted`, or the bulletin board's refusal to delete.
    pub(super) fn put_dele(&mut self, msg: MessageNumber, read_only: bool) {
        if read_only {
            self.ok(b"bulletin board is read-only, nothing deleted");
            return;
        }
        put_status(
            &mut self.staging,
            Status::Ok,
            None,
            &[
                Piece::Text(b"message "),
                Piece::Num(u64::from(msg.get())),
                Piece::Text(b" deleted"),
            ],
        );
    }

    /// CAPA (R2449-7), right for the state and the TLS status. The order is the
    /// RFC 2449 §5 example's (TV-5), then the later extensions.
    pub(super) fn capa(&mut self) {
        let mut caps: Vec<Capability> = Vec::new();
        let before_tls = !self.tls;
        let authorization = self.phase == Phase::Authorization;
        let cleartext_hidden = before_tls && self.config.cleartext_requires_tls;
        if self.config.top {
            caps.push(Capability::Top);
        }
        // R2595-8, R5034-16: no cleartext login offered before TLS when refused.
        if self.config.user_pass && !cleartext_hidden {
            caps.push(Capability::User);
        }
        let mechanisms: Vec<Mechanism> = self
            .config
            .sasl
            .iter()
            .filter(|m| !(cleartext_hidden && self.config.cleartext_sasl.contains(m)))
            .cloned()
            .collect();
        if !mechanisms.is_empty() {
            // R5034-2: listed in TRANSACTION too, though AUTH is no longer valid.
            caps.push(Capability::Sasl(mechanisms));
        }
        if self.config.resp_codes {
            caps.push(Capability::RespCodes);
        }
        if let Some((seconds, per_user)) = self.config.login_delay {
            // R2449-15: with USER, the largest value before login, and the user's
            // exact value after it.
            let seconds = match (authorization, self.user_login_delay) {
                (false, Some(exact)) => exact,
                _ => seconds,
            };
            caps.push(Capability::LoginDelay {
                seconds,
                per_user: per_user && authorization,
            });
        }
        if self.config.pipelining {
            caps.push(Capability::Pipelining);
        }
        if let Some((expire, per_user)) = self.config.expire {
            // R2449-16: likewise, with the smallest value before login.
            let expire = match (authorization, self.user_expire) {
                (false, Some(exact)) => exact,
                _ => expire,
            };
            caps.push(Capability::Expire {
                expire,
                per_user: per_user && authorization,
            });
        }
        if self.config.uidl {
            caps.push(Capability::Uidl);
        }
        if let Some(text) = &self.config.implementation {
            // R2449-4: a capability line is 512 octets at most, CRLF included.
            let room = StatusLine::MAX_LEN - "IMPLEMENTATION ".len() - 2;
            let cut = text.as_bytes().get(..room).map(Text::new);
            caps.push(Capability::Implementation(match cut {
                Some(Ok(cut)) => cut,
                _ => text.clone(),
            }));
        }
        if self.config.auth_resp_code {
            caps.push(Capability::AuthRespCode);
        }
        // R2595-2: STLS only where it is allowed: AUTHORIZATION, before TLS, and
        // not after UTF8 (R6856-3).
        if self.config.stls && before_tls && authorization && !self.utf8 {
            caps.push(Capability::Stls);
        }
        if let Some(user) = self.config.utf8 {
            caps.push(Capability::Utf8 { user });
        }
        if !self.config.languages.is_empty() {
            caps.push(Capability::Lang);
        }
        self.ok(b"Capability list follows");
        for cap in &caps {
            cap.encode(&mut self.staging);
        }
        encode::put_end(&mut self.staging);
    }

    pub(super) fn lang(&mut self, range: Option<LanguageRange>) {
        let Some(range) = range else {
            self.ok(b"Language listing follows");
            let Server {
                staging, config, ..
            } = self;
            for (tag, name) in &config.languages {
                let name = (!name.is_empty()).then(|| name.as_bytes());
                encode::put_language(staging, tag.as_bytes(), name);
            }
            encode::put_end(staging);
            return;
        };
        let wanted = range.as_bytes();
        let found = if wanted == b"*" {
            (!self.config.languages.is_empty()).then_some(0)
        } else {
            self.config.languages.iter().position(|(tag, _)| {
                let tag = tag.as_bytes();
                tag.eq_ignore_ascii_case(wanted)
                    || (tag.len() > wanted.len()
                        && tag
                            .get(..wanted.len())
                            .is_some_and(|p| p.eq_ignore_ascii_case(wanted))
                        && tag.get(wanted.len()) == Some(&b'-'))
            })
        };
        let Server {
            staging,
            config,
            language,
            ..
        } = self;
        match found.and_then(|i| config.languages.get(i).map(|l| (i, l))) {
            Some((i, (tag, name))) => {
                *language = Some(i);
                let space: &[u8] = if name.is_empty() { b"" } else { b" " };
                put_status(
                    staging,
                    Status::Ok,
                    None,
                    &[
                        Piece::Text(tag.as_bytes()),
                        Piece::Text(space),
                        Piece::Text(name.as_bytes()),
                    ],
                );
            }
            None => put_status(
                staging,
                Status::Err,
                None,
                &[Piece::Text(b"invalid language "), Piece::Text(wanted)],
            ),
        }
    }

    /// `LIST [msg]` (R1939-32): deleted messages are left out, and refused.
    pub(super) fn list(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => {
                if let Some(i) = self.message_or_err(msg, true) {
                    let size = self.maildrop.get(i).map_or(0, |m| m.size);
                    // R1082-4: a bulletin board's scan listings carry MAXIMA.
                    let maxima = self.group_maxima.as_ref().and_then(|g| g.get(i).copied());
                    let (space, maxima) = match maxima {
                        Some(m) => (Piece::Text(b" "), Piece::Num(m)),
                        None => (Piece::Text(b""), Piece::Text(b"")),
                    };
                    put_status(
                        &mut self.staging,
                        Status::Ok,
                        None,
                        &[
                            Piece::Num(u64::from(msg.get())),
                            Piece::Text(b" "),
                            Piece::Num(size),
                            space,
                            maxima,
                        ],
                    );
                }
            }
            None => {
                let (count, size) = (self.live_count, self.live_size);
                // TV-1: `2 messages (320 octets)`; TV-3: `0 messages`.
                let (open, size, close) = if count == 0 {
                    (Piece::Text(b""), Piece::Text(b""), Piece::Text(b""))
                } else {
                    (
                        Piece::Text(b" ("),
                        Piece::Num(size),
                        Piece::Text(b" octets)"),
                    )
                };
                put_status(
                    &mut self.staging,
                    Status::Ok,
                    None,
                    &[
                        Piece::Num(count),
                        Piece::Text(b" message"),
                        Piece::Text(plural(count)),
                        open,
                        size,
                        close,
                    ],
                );
                let Server {
                    maildrop,
                    deleted,
                    staging,
                    group_maxima,
                    ..
                } = self;
                for ((info, _), n) in maildrop
                    .iter()
                    .zip(deleted.iter())
                    .zip(1u64..)
                    .filter(|((_, d), _)| !**d)
                {
                    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
                    let maxima = group_maxima.as_ref().and_then(|g| g.get(index).copied());
                    encode::put_scan(staging, n, info.size, maxima);
                }
                encode::put_end(staging);
            }
        }
    }

    /// `UIDL [msg]` (R1939-39): deleted messages are left out, and refused.
    pub(super) fn uidl(&mut self, arg: Option<MessageNumber>) {
        match arg {
            Some(msg) => {
                if let Some(info) = self
                    .message_or_err(msg, true)
                    .and_then(|i| self.maildrop.get(i))
                {
                    put_status(
                        &mut self.staging,
                        Status::Ok,
                        None,
                        &[
                            Piece::Num(u64::from(msg.get())),
                            Piece::Text(b" "),
                            Piece::Text(info.uid.as_bytes()),
                        ],
                    );
                }
            }
            None => {
                // The RFC's example is a bare `+OK` (TV-3).
                self.ok(b"");
                let Server {
                    maildrop,
                    deleted,
                    staging,
                    ..
                } = self;
                for ((info, _), n) in maildrop
                    .iter()
                    .zip(deleted.iter())
                    .zip(1u64..)
                    .filter(|((_, d), _)| !**d)
                {
                    encode::put_uid(staging, n, info.uid.as_bytes());
                }
                encode::put_end(staging);
            }
        }
    }
}

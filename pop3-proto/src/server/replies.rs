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

/// A per-user CAPA value (R2449-15, R2449-16): the configured one in
/// AUTHORIZATION, the user's exact one after login when the host gave it.
fn user_value<T: Copy>(authorization: bool, configured: T, exact: Option<T>) -> T {
    match (authorization, exact) {
        (false, Some(exact)) => exact,
        _ => configured,
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

    /// `+OK` and a text made of pieces.
    fn ok_with(&mut self, text: &[Piece<'_>]) {
        put_status(&mut self.staging, Status::Ok, None, text);
    }

    /// `-ERR` and a text made of pieces.
    fn err_with(&mut self, text: &[Piece<'_>]) {
        put_status(&mut self.staging, Status::Err, None, text);
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
        self.ok_with(&[
            Piece::Text(b"maildrop has "),
            Piece::Num(count),
            Piece::Text(b" message"),
            Piece::Text(plural(count)),
            Piece::Text(b" ("),
            Piece::Num(size),
            Piece::Text(b" octets)"),
        ]);
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
        self.ok_with(&[
            Piece::Num(self.live_count),
            Piece::Text(b" "),
            Piece::Num(self.live_size),
        ]);
    }

    /// The first line of RETR (`+OK 120 octets`, TV-1) or TOP (a bare `+OK`,
    /// TV-3).
    pub(super) fn put_retrieve_start(&mut self, msg: MessageNumber, top: bool) {
        if top {
            self.ok(b"");
            return;
        }
        let size = self.maildrop.get(msg.index()).map_or(0, |m| m.size);
        self.ok_with(&[Piece::Num(size), Piece::Text(b" octets")]);
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
        self.err_with(text);
        None
    }

    /// `+OK message n deleted`, or the bulletin board's refusal to delete.
    pub(super) fn put_dele(&mut self, msg: MessageNumber, read_only: bool) {
        if read_only {
            self.ok(b"bulletin board is read-only, nothing deleted");
            return;
        }
        self.ok_with(&[
            Piece::Text(b"message "),
            Piece::Num(u64::from(msg.get())),
            Piece::Text(b" deleted"),
        ]);
    }

    /// CAPA (R2449-7), right for the state and the TLS status. The order is the
    /// RFC 2449 §5 example's (TV-5), then the later extensions.
    pub(super) fn capa(&mut self) {
        let config = &self.config;
        let before_tls = !self.tls;
        let authorization = self.phase == Phase::Authorization;
        let cleartext_hidden = before_tls && config.cleartext_requires_tls;
        let mechanisms: Vec<Mechanism> = config
            .sasl
            .iter()
            .filter(|m| !(cleartext_hidden && config.cleartext_sasl.contains(m)))
            .cloned()
            .collect();
        // R2449-4: a capability line is 512 octets at most, CRLF included.
        let implementation = config.implementation.as_ref().map(|text| {
            let room = StatusLine::MAX_LEN - "IMPLEMENTATION ".len() - 2;
            match text.as_bytes().get(..room).map(Text::new) {
                Some(Ok(cut)) => cut,
                _ => text.clone(),
            }
        });
        let mut caps: Vec<Capability> = Vec::new();
        let mut add = |on: bool, cap: Capability| {
            if on {
                caps.push(cap);
            }
        };
        add(config.top, Capability::Top);
        // R2595-8, R5034-16: no cleartext login offered before TLS when refused.
        add(config.user_pass && !cleartext_hidden, Capability::User);
        // R5034-2: listed in TRANSACTION too, though AUTH is no longer valid.
        add(!mechanisms.is_empty(), Capability::Sasl(mechanisms));
        add(config.resp_codes, Capability::RespCodes);
        // R2449-15, R2449-16: with USER, the largest delay and the smallest
        // retention before login, the user's own after it.
        if let Some((seconds, per_user)) = config.login_delay {
            let seconds = user_value(authorization, seconds, self.user_login_delay);
            let per_user = per_user && authorization;
            add(true, Capability::LoginDelay { seconds, per_user });
        }
        add(config.pipelining, Capability::Pipelining);
        if let Some((expire, per_user)) = config.expire {
            let expire = user_value(authorization, expire, self.user_expire);
            let per_user = per_user && authorization;
            add(true, Capability::Expire { expire, per_user });
        }
        add(config.uidl, Capability::Uidl);
        if let Some(text) = implementation {
            add(true, Capability::Implementation(text));
        }
        add(config.auth_resp_code, Capability::AuthRespCode);
        // R2595-2: STLS only where it is allowed: AUTHORIZATION, before TLS, and
        // not after UTF8 (R6856-3).
        let stls = config.stls && before_tls && authorization && !self.utf8;
        add(stls, Capability::Stls);
        if let Some(user) = config.utf8 {
            add(true, Capability::Utf8 { user });
        }
        add(!config.languages.is_empty(), Capability::Lang);
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
                    self.ok_with(&[
                        Piece::Num(u64::from(msg.get())),
                        Piece::Text(b" "),
                        Piece::Num(size),
                        space,
                        maxima,
                    ]);
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
                self.ok_with(&[
                    Piece::Num(count),
                    Piece::Text(b" message"),
                    Piece::Text(plural(count)),
                    open,
                    size,
                    close,
                ]);
                // R1082-4: a bulletin board's scan listings carry MAXIMA.
                self.put_listing(|out, n, info, maxima| {
                    encode::put_scan(out, n, info.size, maxima);
                });
            }
        }
    }

    /// The body of a LIST or UIDL listing: a line per message not marked as
    /// deleted, written by `line` from its number, its listing and its MAXIMA
    /// (with a bulletin board open), then the `.` line.
    fn put_listing(&mut self, line: impl Fn(&mut BytesMut, u64, &MessageInfo, Option<u64>)) {
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
            line(staging, n, info, maxima);
        }
        encode::put_end(staging);
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
                self.put_listing(|out, n, info, _| {
                    encode::put_uid(out, n, info.uid.as_bytes());
                });
            }
        }
    }
}

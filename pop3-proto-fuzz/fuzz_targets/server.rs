//! The server machine fed arbitrary client bytes, with a host that answers every
//! event from the fuzz input (accepting or refusing logins with arbitrary texts and
//! codes, sending arbitrary messages whole or in chunks, SASL challenges, extension
//! replies, UPDATE results, TLS handshakes).
//!
//! The client bytes come in segments. Each script runs twice: the segments cut at
//! random places (run A), and fed one line at a time (run B). Input after an
//! accepted STLS is dropped up to the end of its segment in both runs (the machine
//! discards what came with the STLS line: IMPL-13).
//!
//! Invariants:
//! * chunk independence: both runs give the same events and the same output bytes;
//! * every line the server writes parses as what it should be: in run B the reply to
//!   each command line is read with the command's reply shape (RFC 1939 §3, §5-§7;
//!   RFC 2449 §5): status
//!   lines with `StatusLine::parse` and within 512 octets (R1939-9), the greeting
//!   with `Greeting::parse`, continuations with `Continuation::parse`, CAPA / LIST /
//!   UIDL / LANG bodies line by line with their parsers, RETR / TOP / extension
//!   bodies un-stuffed to exactly the message the host sent (cut for TOP, LF to CRLF
//!   when configured); a multi-line reply only follows `+OK` to a multi-line command;
//! * bounds: the input buffer never passes its limit; the machine takes what fits
//!   in its room, and always has room again once it has processed its input (no
//!   deadlock);
//! * no event after the end (`Closed` after QUIT, or an `Err` that then repeats on
//!   every call), and no output after the close reply;
//! * UPDATE only after QUIT in TRANSACTION (R1939-21, RFC 1939 §6).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use pop3_proto::apop::Timestamp;
use pop3_proto::dot::{wire_len, BodyDecoder, BodyPiece, DecoderConfig, StuffConfig};
use pop3_proto::options::CommandOptions;
use pop3_proto::sasl::{CramMd5Server, LoginServer, MemoryStore, PlainServer, ServerMechanism};
use pop3_proto::secret::Secret;
use pop3_proto::server::{
    AuthStep, MessageInfo, Phase, Refusal, Server, ServerConfig, ServerEvent,
};
use pop3_proto::types::{
    Capability, Command, Continuation, Greeting, LanguageListing, LanguageTag, Mechanism,
    ResponseCode, ScanListing, Status, StatusLine, Text, UidListing, UniqueId,
};
use pop3_proto::Machine;
use pop3_proto::StartTls;
use pop3_proto_fuzz::{crlf_lines, cuts, lines_with_ends, pieces, reference_sent};

struct Script {
    config: ServerConfig,
    greeting: Text,
    timestamp: bool,
    answers: Vec<u8>,
    segments: Vec<Vec<u8>>,
    split: Vec<u8>,
}

/// A text: usually short, sometimes around the 512-octet line limit.
fn text(u: &mut Unstructured<'_>) -> arbitrary::Result<Text> {
    let len = match u.int_in_range(0u8..=15)? {
        0 => u.int_in_range(400usize..=600)?,
        _ => u.int_in_range(0usize..=24)?,
    };
    let mut bytes = Vec::with_capacity(len);
    for _ in 0..len {
        let b: u8 = u.arbitrary()?;
        bytes.push(if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        });
    }
    Ok(Text::new(bytes).unwrap_or_default())
}

fn script(data: &[u8]) -> arbitrary::Result<Script> {
    let mut u = Unstructured::new(data);
    let d = ServerConfig::default();
    let pick =
        |u: &mut Unstructured<'_>, big: usize, lo: usize, hi: usize| -> arbitrary::Result<usize> {
            Ok(if u.ratio(3u8, 4)? {
                big
            } else {
                u.int_in_range(lo..=hi)?
            })
        };
    let mech = |s: &str| Mechanism::new(s).expect("valid");
    let mut config = d
        .clone()
        .with_max_command_line(pick(&mut u, d.max_command_line, 1, 300)?)
        .with_max_sasl_line(pick(&mut u, d.max_sasl_line, 1, 300)?)
        .with_max_buffered_input(pick(&mut u, d.max_buffered_input, 1, 600)?)
        .with_max_failed_logins(if u.ratio(3u8, 4)? {
            d.max_failed_logins
        } else {
            u.int_in_range(0..=5)?
        })
        .with_allow_bare_lf(u.arbitrary()?)
        .with_lenient_spaces(u.arbitrary()?)
        .with_lf_to_crlf(u.arbitrary()?)
        .with_user_pass(!u.ratio(1u8, 8)?)
        .with_check_user(u.arbitrary()?)
        .with_apop(u.arbitrary()?)
        .with_sasl(if u.arbitrary()? {
            vec![mech("PLAIN"), mech("LOGIN"), mech("CRAM-MD5")]
        } else {
            vec![]
        })
        .with_stls(u.arbitrary()?)
        .with_implicit_tls(u.ratio(1u8, 8)?)
        .with_cleartext_requires_tls(u.ratio(1u8, 4)?)
        .with_top(!u.ratio(1u8, 8)?)
        .with_uidl(!u.ratio(1u8, 8)?)
        .with_pipelining(u.arbitrary()?)
        .with_resp_codes(u.arbitrary()?)
        .with_auth_resp_code(u.arbitrary()?)
        .with_login_delay(if u.arbitrary()? {
            Some((u.arbitrary()?, u.arbitrary()?))
        } else {
            None
        })
        .with_expire(if u.arbitrary()? {
            Some((u.arbitrary()?, u.arbitrary()?))
        } else {
            None
        })
        .with_implementation(if u.arbitrary()? {
            Some(text(&mut u)?)
        } else {
            None
        })
        .with_utf8(if u.arbitrary()? {
            Some(u.arbitrary()?)
        } else {
            None
        })
        .with_languages(vec![])
        .with_extensions(u.arbitrary()?)
        .with_signoff(text(&mut u)?);
    if u.arbitrary()? {
        config.languages = vec![
            (
                LanguageTag::new("en").expect("valid"),
                Text::new("English").expect("valid"),
            ),
            (LanguageTag::new("de-CH").expect("valid"), text(&mut u)?),
        ];
    }
    let greeting = text(&mut u)?;
    let timestamp = u.arbitrary()?;
    let answers_len = u.int_in_range(0usize..=512)?;
    let answers = u.bytes(answers_len.min(u.len()))?.to_vec();
    let split_len = u.int_in_range(0usize..=32)?;
    let split = u.bytes(split_len.min(u.len()))?.to_vec();
    let mut segments = Vec::new();
    while !u.is_empty() && segments.len() < 16 {
        let len = u.int_in_range(0usize..=1024)?;
        segments.push(u.bytes(len.min(u.len()))?.to_vec());
    }
    Ok(Script {
        config,
        greeting,
        timestamp,
        answers,
        segments,
        split,
    })
}

fn refusal(a: &mut Unstructured<'_>) -> Refusal {
    let code = match a.int_in_range(0u8..=7).unwrap_or(0) {
        0 => None,
        1 => Some(ResponseCode::auth()),
        2 => Some(ResponseCode::in_use()),
        3 => Some(ResponseCode::sys_temp()),
        4 => Some(ResponseCode::login_delay()),
        _ => ResponseCode::arbitrary(a).ok(),
    };
    Refusal {
        code,
        text: text(a).unwrap_or_default(),
    }
}

/// Normalised event for comparing runs.
fn norm(e: &ServerEvent) -> String {
    match e {
        ServerEvent::StartTls { .. } => "StartTls".into(),
        other => format!("{other:?}"),
    }
}

#[derive(Default)]
struct Host {
    /// The maildrop of the session: message bytes.
    messages: Vec<Vec<u8>>,
    /// What the last Retrieve / extension reply sent as a body (before stuffing).
    sent_body: Option<Vec<u8>>,
    top: Option<u64>,
    started_tls: bool,
    closed: bool,
    mechanism: Option<Box<dyn ServerMechanism>>,
    update: bool,
}

struct Run<'a> {
    server: Server,
    script: &'a Script,
    answers: Unstructured<'a>,
    host: Host,
    events: Vec<String>,
    output: Vec<u8>,
}

impl<'a> Run<'a> {
    fn new(script: &'a Script) -> Self {
        let ts = script
            .timestamp
            .then(|| Timestamp::new(1896, 697_170_952, "dbc.mtview.ca.us").expect("valid"));
        let server = Server::new(script.config.clone(), script.greeting.clone(), ts);
        Run {
            server,
            script,
            answers: Unstructured::new(&script.answers),
            host: Host::default(),
            events: Vec::new(),
            output: Vec::new(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        while let Some(bytes) = self.server.take_output() {
            out.extend_from_slice(&bytes);
        }
        if self.host.closed {
            assert!(
                out.is_empty() || self.events.last().is_some_and(|e| e.starts_with("Closed")),
                "output after the session ended"
            );
        }
        self.output.extend_from_slice(&out);
        out
    }

    fn answer(&mut self, event: &ServerEvent) {
        let a = &mut self.answers;
        let choice = a.int_in_range(0u8..=3).unwrap_or(0);
        match event {
            ServerEvent::User { .. } => {
                let r = if choice == 0 {
                    self.server.refuse_user(refusal(a))
                } else {
                    let t = if a.arbitrary().unwrap_or(false) {
                        text(a).ok()
                    } else {
                        None
                    };
                    self.server.accept_user(t)
                };
                if r.is_err() {
                    self.server
                        .refuse_user(Refusal::with_text(Text::empty()))
                        .expect("waiting for USER");
                }
            }
            ServerEvent::AuthStart {
                mechanism,
                initial_response,
            } if choice == 3 => {
                self.host.mechanism = None;
                // A real mechanism reads the client's responses.
                let ts = Timestamp::new(1, 2, "fuzz.example").expect("valid");
                let mut m: Box<dyn ServerMechanism> = match mechanism.as_bytes() {
                    b"PLAIN" => Box::new(PlainServer::new()),
                    b"LOGIN" => Box::new(LoginServer::new()),
                    _ => Box::new(CramMd5Server::new(ts)),
                };
                let ir = initial_response.as_ref().map(|s| s.expose_secret().clone());
                if self.sasl_step(&mut m, ir.as_deref()) {
                    self.host.mechanism = Some(m);
                }
            }
            ServerEvent::AuthResponse { response } if self.host.mechanism.is_some() => {
                let mut m = self.host.mechanism.take().expect("checked");
                let r = response.expose_secret().clone();
                if self.sasl_step(&mut m, Some(&r)) {
                    self.host.mechanism = Some(m);
                }
            }
            ServerEvent::Login { .. }
            | ServerEvent::Apop { .. }
            | ServerEvent::AuthStart { .. }
            | ServerEvent::AuthResponse { .. } => {
                let sasl = matches!(
                    event,
                    ServerEvent::AuthStart { .. } | ServerEvent::AuthResponse { .. }
                );
                let r = match choice {
                    0 => self.server.refuse_login(refusal(a)),
                    1 if sasl => {
                        let len = a.int_in_range(0usize..=40).unwrap_or(0);
                        let challenge = a.bytes(len.min(a.len())).unwrap_or_default().to_vec();
                        self.server.auth_challenge(&challenge)
                    }
                    _ => {
                        let n = a.int_in_range(0usize..=3).unwrap_or(0);
                        let mut drop = Vec::new();
                        self.host.messages.clear();
                        for i in 0..n {
                            let len = a.int_in_range(0usize..=120).unwrap_or(0);
                            let mut msg = a.bytes(len.min(a.len())).unwrap_or_default().to_vec();
                            if msg.is_empty() && i == 0 {
                                msg = b"Subject: x\r\n\r\n.line\r\nlast".to_vec();
                            }
                            let size = wire_len(
                                &msg,
                                StuffConfig::default().with_lf_to_crlf(self.script.config.lf_to_crlf).with_top_lines(None),
                            );
                            let uid = UniqueId::arbitrary(a)
                                .unwrap_or_else(|_| UniqueId::new("u").expect("valid"));
                            drop.push(MessageInfo { size, uid });
                            self.host.messages.push(msg);
                        }
                        let t = if a.arbitrary().unwrap_or(false) {
                            text(a).ok()
                        } else {
                            None
                        };
                        self.server.accept_login(drop, t)
                    }
                };
                if r.is_err() {
                    self.server
                        .refuse_login(Refusal::with_text(Text::empty()))
                        .expect("waiting for a login");
                }
            }
            ServerEvent::Retrieve { msg, top } => {
                let body = self
                    .host
                    .messages
                    .get(msg.index())
                    .cloned()
                    .expect("Retrieve of a message listed");
                self.host.top = top.map(u64::from);
                if choice == 0 {
                    self.server
                        .refuse(refusal(a))
                        .or_else(|_| self.server.refuse(Refusal::with_text(Text::empty())))
                        .expect("refuse");
                    self.host.sent_body = None;
                    return;
                }
                let k = a.int_in_range(0usize..=body.len()).unwrap_or(0);
                if choice == 1 {
                    self.server
                        .send_message(Bytes::from(body.clone()))
                        .expect("send_message");
                } else {
                    self.server
                        .send_message_chunk(Bytes::copy_from_slice(&body[..k]))
                        .expect("chunk");
                    self.server
                        .send_message_chunk(Bytes::copy_from_slice(&body[k..]))
                        .expect("chunk");
                    self.server.finish_message().expect("finish");
                }
                self.host.sent_body = Some(body);
            }
            ServerEvent::Update { .. } => {
                assert!(!self.host.update, "two UPDATEs");
                self.host.update = true;
                let r = if choice == 0 { Err(refusal(a)) } else { Ok(()) };
                if self.server.update_done(r).is_err() {
                    self.server.update_done(Ok(())).expect("update_done");
                }
            }
            ServerEvent::Extension { .. } => {
                let status = if a.arbitrary().unwrap_or(false) {
                    Status::Ok
                } else {
                    Status::Err
                };
                let t = text(a).unwrap_or_default();
                let line = StatusLine::new(status, None, t).unwrap_or_else(|_| {
                    StatusLine::new(status, None, Text::empty()).expect("valid")
                });
                let body = if choice > 0 {
                    let len = a.int_in_range(0usize..=80).unwrap_or(0);
                    Some(a.bytes(len.min(a.len())).unwrap_or_default().to_vec())
                } else {
                    None
                };
                self.host.top = None;
                self.host.sent_body = body.clone().filter(|_| line.is_ok());
                self.server
                    .reply(line, body.map(Bytes::from))
                    .expect("reply");
            }
            ServerEvent::StartTls { .. } => {
                self.host.started_tls = true;
                if choice > 0 {
                    self.server.tls_established();
                }
            }
            ServerEvent::Closed => {
                assert!(!self.host.closed, "Closed twice");
                self.host.closed = true;
            }
            ServerEvent::AuthCancelled => self.host.mechanism = None,
            _ => {}
        }
    }

    /// One step of a real mechanism; `true` while the exchange goes on.
    fn sasl_step(&mut self, m: &mut Box<dyn ServerMechanism>, response: Option<&[u8]>) -> bool {
        let store = MemoryStore::new().with_user("mrose", Secret::new(b"tanstaaf".to_vec()));
        match self
            .server
            .auth_step(m.as_mut(), response, &store)
            .expect("waiting for AUTH")
        {
            AuthStep::Authenticated(_) => {
                self.host.messages = vec![b"Subject: sasl\r\n\r\nhi\r\n".to_vec()];
                let size = wire_len(
                    &self.host.messages[0],
                    StuffConfig::default().with_lf_to_crlf(self.script.config.lf_to_crlf).with_top_lines(None),
                );
                let info = MessageInfo {
                    size,
                    uid: UniqueId::new("sasl").expect("valid"),
                };
                self.server.accept_login(vec![info], None).expect("accept");
                false
            }
            AuthStep::Challenged => true,
            _ => false,
        }
    }

    /// Processes everything buffered, answering each event.
    fn drain(&mut self) {
        for _ in 0..100_000 {
            let event = match self.server.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => {
                    self.take();
                    return;
                }
                Err(error) => {
                    // The end other than by QUIT: it repeats on every call.
                    assert_eq!(self.server.next_event(), Err(error), "the end repeats");
                    assert!(self.server.is_closed());
                    if !self.host.closed {
                        self.host.closed = true;
                        self.events.push(format!("Closed by {error:?}"));
                    }
                    self.take();
                    return;
                }
            };
            assert!(!self.host.closed, "event after Closed: {event:?}");
            self.events.push(norm(&event));
            self.answer(&event);
            self.take();
        }
        panic!("next_event never stops");
    }

    /// Feeds one read as the machine takes it: what does not fit in its room
    /// waits until it has processed its input.
    fn feed(&mut self, mut chunk: &[u8]) {
        let c = &self.script.config;
        let limit = c
            .max_buffered_input
            .max(c.max_sasl_line)
            .max(c.max_command_line);
        let tls_before = self.host.started_tls;
        let mut stalled = 0;
        loop {
            let room = self.server.input_room();
            let taken = self.server.enqueue_input(chunk);
            assert!(
                taken <= chunk.len() && taken >= chunk.len().min(room),
                "took {taken} of {} octets with room {room}",
                chunk.len()
            );
            assert!(self.server.buffered_input() <= limit);
            chunk = &chunk[taken..];
            self.drain();
            // What came with an accepted STLS is never fed (see the module docs).
            if chunk.is_empty() || (!tls_before && self.host.started_tls) {
                return;
            }
            stalled = if taken == 0 { stalled + 1 } else { 0 };
            assert!(
                stalled < 3,
                "no room once the input was processed ({} octets buffered, limit {limit}): deadlock",
                self.server.buffered_input()
            );
        }
    }
}

/// Reads one status line from the front of `out`; checks it.
fn status_line(out: &mut &[u8], what: &str) -> StatusLine {
    let (lines, _) = crlf_lines(out);
    let line = *lines
        .first()
        .unwrap_or_else(|| panic!("{what}: no complete line in {out:?}"));
    assert!(
        line.len() + 2 <= StatusLine::MAX_LEN,
        "{what}: status line of {} octets: {line:?}",
        line.len() + 2
    );
    let s = StatusLine::parse(line)
        .unwrap_or_else(|e| panic!("{what}: bad status line {line:?}: {e:?}"));
    *out = &out[line.len() + 2..];
    s
}

/// Reads a multi-line body through its terminator; returns its lines (un-stuffed)
/// and the decoded body.
fn body(out: &mut &[u8]) -> Vec<u8> {
    let mut decoder = BodyDecoder::new(DecoderConfig::STRICT);
    let mut buf = BytesMut::from(*out);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(BodyPiece::Data(d)) => body.extend_from_slice(&d),
            Ok(BodyPiece::End) => break,
            Ok(BodyPiece::NeedMore) => panic!("multi-line reply without its terminator: {out:?}"),
            Err(e) => panic!("{e}"),
        }
    }
    let used = out.len() - buf.len();
    *out = &out[used..];
    body
}

fn listing_lines(body: &[u8]) -> Vec<&[u8]> {
    let (lines, rest) = crlf_lines(body);
    assert!(rest.is_empty(), "listing line without CRLF");
    lines
}

fuzz_target!(|data: &[u8]| {
    let Ok(script) = script(data) else {
        return;
    };

    // Run A: random cuts.
    let mut a = Run::new(&script);
    let greeting = a.take();
    {
        let mut g: &[u8] = &greeting;
        let (lines, _) = crlf_lines(g);
        let first = lines.first().expect("a greeting");
        assert!(
            first.len() + 2 <= StatusLine::MAX_LEN,
            "greeting of {} octets",
            first.len() + 2
        );
        assert!(Greeting::parse(first).is_ok(), "bad greeting {first:?}");
        let _ = status_line(&mut g, "greeting");
        assert!(g.is_empty());
    }
    let mut su = Unstructured::new(&script.split);
    for segment in &script.segments {
        let c = cuts(&mut su, segment.len(), 8);
        for chunk in pieces(segment, &c) {
            if a.host.started_tls {
                break;
            }
            a.feed(chunk);
        }
        a.host.started_tls = false;
    }

    // Run B: one line at a time, each reply checked against its command.
    let mut b = Run::new(&script);
    b.take();
    let options = CommandOptions::default().with_collapse_spaces(script.config.lenient_spaces);
    let mut in_sasl = false;
    let debug = std::env::var_os("POP3_FUZZ_DEBUG").is_some();
    // A line may straddle two segments: its first part waits here.
    let mut partial: Vec<u8> = Vec::new();
    for segment in &script.segments {
        for piece in lines_with_ends(segment) {
            if b.host.started_tls {
                break;
            }
            partial.extend_from_slice(piece);
            let whole_line = core::mem::take(&mut partial);
            let line: &[u8] = &whole_line;
            if !line.ends_with(b"\n") {
                partial = whole_line.clone();
            }
            let phase = b.server.phase();
            let events_before = b.events.len();
            let out_before = b.output.len();
            b.feed(piece);
            let out = b.output[out_before..].to_vec();
            let new_events: Vec<String> = b.events[events_before..].to_vec();
            if debug {
                eprintln!(
                    "{phase:?} {:?} -> {new_events:?} {:?}",
                    line.escape_ascii().to_string(),
                    out.escape_ascii().to_string()
                );
            }
            if !matches!(phase, Phase::Authorization | Phase::Transaction) {
                assert!(out.is_empty(), "output for input in phase {phase:?}");
                continue;
            }
            if !line.ends_with(b"\n") {
                // An unfinished line: no reply yet (unless it was already too long).
                continue;
            }
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            let crlf = content.ends_with(b"\r");
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            let mut o: &[u8] = &out;
            let limit = if in_sasl {
                script.config.max_sasl_line
            } else {
                script.config.max_command_line
            };
            let framed_ok = line.len() <= limit && (crlf || script.config.allow_bare_lf);
            let command = if in_sasl || !framed_ok {
                None
            } else {
                Command::parse_with(content, &options).ok()
            };
            if o.first() == Some(&b'+') && o.get(1) == Some(&b' ') {
                // A SASL challenge: only to AUTH or to a SASL response.
                let (lines, _) = crlf_lines(o);
                let l = lines.first().expect("a complete continuation line");
                assert!(Continuation::parse(l).is_ok(), "bad continuation {l:?}");
                assert!(
                    in_sasl || matches!(command, Some(Command::Auth { .. })),
                    "a challenge to {content:?}"
                );
                o = &o[l.len() + 2..];
                in_sasl = true;
            } else if !o.is_empty() {
                let status = status_line(&mut o, "reply");
                let multi = status.is_ok()
                    && !in_sasl
                    && match &command {
                        Some(
                            Command::Capa
                            | Command::List(None)
                            | Command::Uidl(None)
                            | Command::Lang(None),
                        ) => true,
                        Some(Command::Retr(_) | Command::Top { .. }) => b.host.sent_body.is_some(),
                        Some(Command::Xtnd(_) | Command::Other(_)) => {
                            new_events.iter().any(|e| e.starts_with("Extension"))
                                && b.host.sent_body.is_some()
                        }
                        _ => false,
                    };
                if multi {
                    let body_bytes = body(&mut o);
                    match &command {
                        Some(Command::Capa) => listing_lines(&body_bytes).iter().for_each(|l| {
                            assert!(Capability::parse(l).is_ok(), "bad CAPA line {l:?}")
                        }),
                        Some(Command::List(None)) => {
                            listing_lines(&body_bytes).iter().for_each(|l| {
                                assert!(ScanListing::parse(l).is_ok(), "bad LIST line {l:?}")
                            })
                        }
                        Some(Command::Uidl(None)) => {
                            listing_lines(&body_bytes).iter().for_each(|l| {
                                assert!(UidListing::parse(l).is_ok(), "bad UIDL line {l:?}")
                            })
                        }
                        Some(Command::Lang(None)) => {
                            listing_lines(&body_bytes).iter().for_each(|l| {
                                assert!(LanguageListing::parse(l).is_ok(), "bad LANG line {l:?}")
                            })
                        }
                        _ => {
                            let sent = b.host.sent_body.take().expect("a body");
                            let want =
                                reference_sent(&sent, script.config.lf_to_crlf, b.host.top.take());
                            assert_eq!(body_bytes, want, "the message as received");
                        }
                    }
                } else if status.is_ok() && matches!(command, Some(Command::Stat)) {
                    assert!(
                        pop3_proto::types::DropListing::parse(status.text().as_bytes()).is_ok()
                    );
                }
                in_sasl = false;
                if new_events.iter().any(|e| e.starts_with("Update")) {
                    assert!(
                        matches!(command, Some(Command::Quit)) && phase == Phase::Transaction,
                        "UPDATE without QUIT in TRANSACTION"
                    );
                }
                // After a failed login that ends the session, one more -ERR may follow.
                if !o.is_empty() && new_events.iter().any(|e| e.starts_with("Closed")) {
                    let bye = status_line(&mut o, "goodbye");
                    assert!(bye.is_err());
                }
            }
            if new_events.iter().any(|e| e.starts_with("AuthCancelled")) {
                in_sasl = false;
            }
            assert!(
                o.is_empty(),
                "more than one reply to {line:?}: rest {o:?} of {out:?}"
            );
        }
        if b.host.started_tls {
            // The machine dropped what it held with the STLS line.
            partial.clear();
        }
        b.host.started_tls = false;
    }

    assert_eq!(b.events, a.events, "same events for both splits");
    if b.output != a.output {
        let at = a
            .output
            .iter()
            .zip(&b.output)
            .position(|(x, y)| x != y)
            .unwrap_or(a.output.len().min(b.output.len()));
        let from = at.saturating_sub(120);
        panic!(
            "same output for both splits: first difference at {at}\ncut: {}\nlines: {}",
            a.output[from..(at + 120).min(a.output.len())].escape_ascii(),
            b.output[from..(at + 120).min(b.output.len())].escape_ascii()
        );
    }
});

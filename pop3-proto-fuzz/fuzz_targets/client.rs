//! The client machine fed arbitrary server bytes after scripted commands.
//!
//! The input is a script: a configuration (small limits included), then commands
//! (a menu of the RFC commands, arbitrary typed commands, extensions, APOP, AUTH
//! with every mechanism) interleaved with chunks of server bytes and TLS handshakes.
//! The script runs three times, the server bytes fed whole, cut at random places,
//! and one byte at a time (through `enqueue_input` and `enqueue_buf`, each chunk
//! handed over in as many calls as the machine's input room takes).
//!
//! Invariants:
//! * chunk independence: the three runs give the same events (body chunks joined,
//!   recoverable failures included as `Event::Failed`), the same error, the same
//!   send results and the same output bytes;
//! * no event after an error: the same error comes back on every later call and
//!   `send` refuses;
//! * bounds: `enqueue_input` takes exactly `min(input_room, len)` octets and the
//!   machine never holds more than its input bound; after the machine says it
//!   needs input it holds less than its line limit; a listing event has at most
//!   `max_listing_lines` entries; no body hands out more than `max_body`; never
//!   more than `max_in_flight` commands in flight;
//! * output: every command written parses back with `Command::parse` to the command
//!   sent, within 255 octets (R2449-1); every line written while reading replies is a
//!   SASL response `AuthResponse::parse` accepts;
//! * replies: every final event answers the oldest command in flight (FIFO).
#![no_main]

use std::collections::VecDeque;

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pop3_proto::client::{Client, ClientConfig, CommandError, CommandId, Event};
use pop3_proto::sasl::{
    ClientMechanism, CramMd5Client, ExternalClient, LoginClient, OAuthBearerClient, PlainClient,
    ScramClient, ScramHash, XOAuth2Client,
};
use pop3_proto::secret::Secret;
use pop3_proto::types::{
    AuthResponse, Command, Extension, Keyword, LanguageRange, MessageNumber, Param, Password,
    Username, Xtnd,
};
use pop3_proto::{Machine, StartTls};
use pop3_proto_fuzz::{cuts, pieces};

#[derive(Debug, Clone)]
enum Op {
    Send(Command),
    Extension(Extension, bool),
    Apop(Username, Vec<u8>),
    Auth(u8),
    Feed(Vec<u8>),
    Tls,
}

fn n(k: u32) -> MessageNumber {
    MessageNumber::new(k.max(1)).expect("not zero")
}

fn menu(u: &mut Unstructured<'_>) -> arbitrary::Result<Command> {
    let k = u.int_in_range(1u32..=3)?;
    Ok(match u.int_in_range(0u8..=22)? {
        0 => Command::User(Username::new("mrose").expect("valid")),
        1 => Command::Pass(Password::new("tanstaaf").expect("valid")),
        2 => Command::Stat,
        3 => Command::List(None),
        4 => Command::List(Some(n(k))),
        5 => Command::Uidl(None),
        6 => Command::Uidl(Some(n(k))),
        7 => Command::Retr(n(k)),
        8 => Command::Top {
            msg: n(k),
            lines: u.int_in_range(0..=3)?,
        },
        9 => Command::Dele(n(k)),
        10 => Command::Noop,
        11 => Command::Rset,
        12 => Command::Quit,
        13 => Command::Capa,
        14 => Command::Stls,
        15 => Command::Utf8,
        16 => Command::Lang(None),
        17 => Command::Lang(Some(LanguageRange::new("de").expect("valid"))),
        18 => Command::Xtnd(Xtnd::Bboards(None)),
        19 => Command::Xtnd(Xtnd::Archive(Param::new("general").expect("valid"))),
        20 => Command::Xtnd(Xtnd::Other(
            Extension::xtnd(Keyword::new("XMIT").expect("valid"), vec![]).expect("valid"),
        )),
        21 => Command::arbitrary(u)?,
        _ => Command::Xtnd(Xtnd::XBboards(Param::new("x").expect("valid"))),
    })
}

struct Script {
    config: ClientConfig,
    ops: Vec<Op>,
    split: Vec<u8>,
}

fn script(data: &[u8]) -> arbitrary::Result<Script> {
    let mut u = Unstructured::new(data);
    let small =
        |u: &mut Unstructured<'_>, big: usize, lo: usize, hi: usize| -> arbitrary::Result<usize> {
            Ok(if u.ratio(3u8, 4)? {
                big
            } else {
                u.int_in_range(lo..=hi)?
            })
        };
    let defaults = ClientConfig::default();
    let config = defaults
        .with_max_line(small(&mut u, defaults.max_line, 1, 300)?)
        .with_max_sasl_line(small(&mut u, defaults.max_sasl_line, 1, 300)?)
        .with_max_listing_lines(small(&mut u, defaults.max_listing_lines, 0, 6)?)
        .with_max_listing_bytes(small(&mut u, defaults.max_listing_bytes, 0, 200)?)
        .with_max_body(if u.ratio(3u8, 4)? {
            None
        } else {
            Some(u.int_in_range(0u64..=300)?)
        })
        .with_allow_bare_lf(u.arbitrary()?)
        .with_lf_to_crlf(u.arbitrary()?)
        .with_require_tls(u.ratio(1u8, 8)?)
        .with_implicit_tls(u.ratio(1u8, 8)?)
        .with_pipeline_without_capability(u.arbitrary()?)
        .with_max_in_flight(small(&mut u, defaults.max_in_flight, 0, 4)?)
        .with_max_buffered_input(small(&mut u, defaults.max_buffered_input, 0, 300)?);
    let split_len = u.int_in_range(0usize..=32)?;
    let split = u.bytes(split_len)?.to_vec();
    let mut ops = Vec::new();
    // Whether the server line being read started with `+` (None: at a line start).
    let mut plus_line: Option<bool> = None;
    while !u.is_empty() && ops.len() < 64 {
        let op = match u.int_in_range(0u8..=9)? {
            0..=3 => {
                let len = u.int_in_range(0usize..=600)?;
                let len = len.min(u.len());
                // A SASL response is written when its challenge is read, and a line
                // that had already arrived then cannot answer it (the client reports
                // it as unsolicited, by design, like data after STLS). So in every
                // run a read ends after each line that starts with `+`: all runs
                // then write their responses at the same point of the stream.
                let bytes = u.bytes(len)?;
                let mut start = 0;
                for (i, &b) in bytes.iter().enumerate() {
                    if plus_line.is_none() {
                        plus_line = Some(b == b'+');
                    }
                    if b == b'\n' {
                        if plus_line == Some(true) {
                            ops.push(Op::Feed(bytes[start..=i].to_vec()));
                            start = i + 1;
                        }
                        plus_line = None;
                    }
                }
                Op::Feed(bytes[start..].to_vec())
            }
            4..=6 => Op::Send(menu(&mut u)?),
            7 => Op::Extension(Extension::arbitrary(&mut u)?, u.arbitrary()?),
            8 => {
                if u.arbitrary()? {
                    Op::Auth(u.int_in_range(0u8..=7)?)
                } else {
                    Op::Apop(Username::arbitrary(&mut u)?, u.arbitrary()?)
                }
            }
            _ => Op::Tls,
        };
        ops.push(op);
    }
    Ok(Script { config, ops, split })
}

fn mechanism(k: u8) -> Box<dyn ClientMechanism + Send> {
    let pw = || Secret::new(b"tanstaaf".to_vec());
    match k {
        0 => Box::new(PlainClient::new("mrose", pw()).expect("valid")),
        1 => Box::new(LoginClient::new("mrose", pw()).expect("valid")),
        2 => Box::new(CramMd5Client::new("mrose", pw()).expect("valid")),
        3 => Box::new(
            ScramClient::new(ScramHash::Sha256, "mrose", pw(), "fyko+d2lbbFgONRv9qkxdawL")
                .expect("valid")
                .with_iteration_bounds(1, 64),
        ),
        4 => Box::new(
            ScramClient::new(ScramHash::Sha1, "mrose", pw(), "fyko+d2lbbFgONRv9qkxdawL")
                .expect("valid")
                .with_iteration_bounds(1, 64),
        ),
        5 => Box::new(
            XOAuth2Client::new("mrose@example.com", Secret::new(b"ya29.token".to_vec()))
                .expect("valid"),
        ),
        6 => Box::new(
            OAuthBearerClient::new("mrose@example.com", Secret::new(b"ya29.token".to_vec()))
                .expect("valid"),
        ),
        _ => Box::new(ExternalClient::new()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Record {
    Sent(Result<CommandId, String>),
    Event(Event),
    /// Body bytes for a command, joined across chunks.
    Body(CommandId, Vec<u8>),
    /// The error that ended the session (recorded once).
    Error(String),
    Output(Vec<u8>),
}

/// Error text without split-dependent counts.
fn fingerprint(e: &impl core::fmt::Debug) -> String {
    let s = format!("{e:?}");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("len: ") {
        out.push_str(&rest[..i + 5]);
        rest = rest[i + 5..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('_');
    }
    out.push_str(rest);
    out
}

struct Run<'a> {
    client: Client,
    config: ClientConfig,
    records: Vec<Record>,
    /// Commands sent and not yet finally answered, in order.
    fifo: VecDeque<CommandId>,
    body_len: u64,
    fatal: Option<String>,
    feed_output: Vec<u8>,
    script: &'a Script,
}

impl Run<'_> {
    /// Takes what the machine wrote while reading replies: SASL responses only.
    fn push_output(&mut self) {
        if let Some(out) = self.client.take_output() {
            self.feed_output.extend_from_slice(&out);
        }
    }

    /// The SASL responses written during one feed, as one record (when they are
    /// written inside the feed depends on the split).
    fn end_feed(&mut self) {
        self.push_output();
        if self.feed_output.is_empty() {
            return;
        }
        let out = core::mem::take(&mut self.feed_output);
        let (lines, rest) = pop3_proto_fuzz::crlf_lines(&out);
        assert!(rest.is_empty(), "a partial line written: {out:?}");
        for line in lines {
            assert!(
                AuthResponse::parse(line).is_ok(),
                "bad SASL response {line:?}"
            );
        }
        self.records.push(Record::Output(out));
    }

    fn event(&mut self, e: Event) {
        // A skipped listing line and a missing STLS are reported after their
        // command's final event: that command is no longer in flight.
        let after_final = matches!(
            &e,
            Event::Failed {
                error: CommandError::BadListingLine | CommandError::StlsNotOffered,
                ..
            }
        );
        if let Some(id) = e.id().filter(|_| !after_final) {
            assert!(
                self.fifo.contains(&id),
                "event for a command not in flight: {e:?}"
            );
            if e.is_final() {
                // Replies come in order: everything before `id` was answered by an
                // error standing in for its event.
                while let Some(front) = self.fifo.pop_front() {
                    if front == id {
                        break;
                    }
                }
            }
        }
        let max_lines = self.config.max_listing_lines;
        match &e {
            Event::Capabilities { capabilities, .. } => assert!(capabilities.len() <= max_lines),
            Event::ScanListing { listing, .. } => assert!(listing.len() <= max_lines),
            Event::UidListing { listing, .. } => assert!(listing.len() <= max_lines),
            Event::Languages { languages, .. } => assert!(languages.len() <= max_lines),
            Event::Groups { groups, .. } => assert!(groups.len() <= max_lines),
            Event::BodyStart { .. } => self.body_len = 0,
            _ => {}
        }
        if let Event::BodyChunk { id, data } = e {
            assert!(!data.is_empty());
            self.body_len += data.len() as u64;
            if let Some(max) = self.config.max_body {
                assert!(self.body_len <= max, "body past max_body");
            }
            if let Some(Record::Body(last, bytes)) = self.records.last_mut() {
                if *last == id {
                    bytes.extend_from_slice(&data);
                    return;
                }
            }
            self.records.push(Record::Body(id, data.to_vec()));
            return;
        }
        self.records.push(Record::Event(e));
    }

    fn drain(&mut self) {
        for _ in 0..100_000 {
            match self.client.next_event() {
                Ok(Some(e)) => {
                    assert!(self.fatal.is_none(), "event after a fatal error: {e:?}");
                    self.event(e);
                }
                Ok(None) => {
                    assert!(self.fatal.is_none(), "Ok(None) after a fatal error");
                    let limit = self.config.max_line.max(self.config.max_sasl_line).max(1);
                    assert!(
                        self.client.buffered_input() < limit,
                        "holds {} octets, limit {limit}",
                        self.client.buffered_input()
                    );
                    self.push_output();
                    return;
                }
                Err(e) => {
                    let fp = fingerprint(&e);
                    if let Some(f) = &self.fatal {
                        assert_eq!(&fp, f, "a different error after the first");
                        self.push_output();
                        return;
                    }
                    self.fatal = Some(fp.clone());
                    assert!(self.client.fatal_error().is_some());
                    assert!(self.client.is_closed());
                    self.records.push(Record::Error(fp));
                }
            }
            assert!(self.client.in_flight() <= self.config.max_in_flight);
        }
        panic!("next_event never says it needs input");
    }

    /// After input: the buffer stays within the bound, and a machine that had
    /// no room makes some after its events are taken.
    fn after_input(&mut self, room: usize) {
        let bound = self
            .config
            .max_buffered_input
            .max(self.config.max_line)
            .max(self.config.max_sasl_line);
        assert!(
            self.client.buffered_input() <= bound,
            "past the input bound"
        );
        self.drain();
        if room == 0 {
            assert!(self.client.input_room() > 0, "no room and no progress");
        }
    }

    fn sent(
        &mut self,
        result: Result<CommandId, pop3_proto::client::SendError>,
        expect: Option<&Command>,
    ) {
        if self.fatal.is_some() {
            assert!(result.is_err(), "send accepted after a fatal error");
        }
        match result {
            Ok(id) => {
                self.fifo.push_back(id);
                let out = self.client.take_output().expect("a command was written");
                let (lines, rest) = pop3_proto_fuzz::crlf_lines(&out);
                assert!(
                    rest.is_empty() && lines.len() == 1,
                    "one command line: {out:?}"
                );
                let parsed = Command::parse(lines[0])
                    .unwrap_or_else(|e| panic!("the client wrote {out:?}, which fails: {e:?}"));
                match expect {
                    Some(c) => assert_eq!(&parsed, c),
                    None => assert!(matches!(
                        parsed,
                        Command::Auth { .. } | Command::Apop { .. }
                    )),
                }
                if !matches!(parsed, Command::Auth { .. }) {
                    assert!(out.len() <= 255, "command over 255 octets: {out:?}");
                }
                self.records.push(Record::Sent(Ok(id)));
                self.records.push(Record::Output(out.to_vec()));
            }
            Err(e) => {
                self.records.push(Record::Sent(Err(fingerprint(&e))));
            }
        }
        assert!(self.client.in_flight() <= self.config.max_in_flight);
    }

    fn go(mut self, mode: u8) -> Vec<Record> {
        let mut su = Unstructured::new(&self.script.split);
        for op in &self.script.ops {
            match op {
                Op::Send(c) => {
                    let r = self.client.send(c.clone());
                    self.sent(r, Some(c));
                }
                Op::Extension(x, multi) => {
                    let r = self.client.send_extension(x.clone(), *multi);
                    self.sent(r, Some(&Command::Other(x.clone())));
                }
                Op::Apop(name, secret) => {
                    let r = self.client.apop(name.clone(), &Secret::new(secret.clone()));
                    self.sent(r, None);
                }
                Op::Auth(k) => {
                    let r = self.client.authenticate(mechanism(*k));
                    self.sent(r, None);
                }
                Op::Tls => self.client.tls_established(),
                Op::Feed(bytes) => {
                    let chunks: Vec<&[u8]> = match mode {
                        0 => vec![bytes],
                        1 => {
                            let c = cuts(&mut su, bytes.len(), 8);
                            pieces(bytes, &c)
                        }
                        _ => bytes.chunks(1).collect(),
                    };
                    for (i, chunk) in chunks.iter().enumerate() {
                        if mode == 1 && i % 2 == 1 {
                            let mut buf = BytesMut::from(*chunk);
                            while !buf.is_empty() {
                                let (len, room) = (buf.len(), self.client.input_room());
                                self.client.enqueue_buf(&mut buf);
                                assert_eq!(len - buf.len(), room.min(len), "enqueue_buf");
                                self.after_input(room);
                            }
                        } else {
                            let mut rest: &[u8] = chunk;
                            while !rest.is_empty() {
                                let room = self.client.input_room();
                                let taken = self.client.enqueue_input(rest);
                                assert_eq!(taken, room.min(rest.len()), "enqueue_input");
                                rest = &rest[taken..];
                                self.after_input(room);
                            }
                        }
                    }
                    // Every split runs the machine after the feed, an empty one too.
                    self.drain();
                    self.end_feed();
                }
            }
        }
        self.drain();
        self.end_feed();
        self.records
    }
}

fn run(script: &Script, mode: u8) -> Vec<Record> {
    Run {
        client: Client::new(script.config),
        config: script.config,
        records: Vec::new(),
        fifo: VecDeque::new(),
        body_len: 0,
        fatal: None,
        feed_output: Vec::new(),
        script,
    }
    .go(mode)
}

fuzz_target!(|data: &[u8]| {
    let Ok(script) = script(data) else {
        return;
    };
    let whole = run(&script, 0);
    let cut = run(&script, 1);
    assert_eq!(cut, whole, "random cuts");
    let total: usize = script
        .ops
        .iter()
        .map(|o| if let Op::Feed(b) = o { b.len() } else { 0 })
        .sum();
    if total <= 2048 {
        assert_eq!(run(&script, 2), whole, "one byte at a time");
    }
});

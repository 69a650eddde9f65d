//! TRANSACTION as the server machine answers it (RFC 1939 §5, §7): deletion
//! marks (E-10), RSET, message numbers (E-12), TOP cutting (E-6), stuffing and
//! LF to CRLF (R1939-12, R1939-14, IMPL-22), messages handed over in chunks, and
//! the host's refusals.

use bytes::Bytes;
use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::dot::{stuff, wire_len, StuffConfig};
use pop3_proto::server::{MessageInfo, Phase, Refusal, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{
    Command, LanguageTag, MessageNumber, StatusLine, Text, UniqueId, Username,
};
use pop3_proto::Machine;
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::{MemoryHost, Pair, TV1_MSG1, TV1_MSG2};

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn config() -> ServerConfig {
    ServerConfig::default().with_signoff(text("dewey POP3 server signing off"))
}

/// A server logged in as mrose over `host`'s maildrop, output cleared.
fn logged_in(config: ServerConfig, host: &mut MemoryHost) -> Server {
    let mut server = Server::new(config, text("ready"), None);
    server.take_all();
    let out = host.drive(&mut server, b"USER mrose\r\nPASS tanstaaf\r\n");
    assert_eq!(server.phase(), Phase::Transaction, "{}", out.text());
    server
}

fn tv1() -> (Server, MemoryHost) {
    let mut host = MemoryHost::tv1();
    let server = logged_in(config(), &mut host);
    (server, host)
}

fn run(server: &mut Server, host: &mut MemoryHost, input: &[u8]) -> String {
    host.drive(server, input).text()
}

fn stuffed(message: &'static [u8], top: Option<u64>) -> Vec<u8> {
    stuff(
        &Bytes::from_static(message),
        StuffConfig::default()
            .with_lf_to_crlf(false)
            .with_top_lines(top),
    )
    .concat()
}

#[test]
fn e10_deleted_messages_hidden_from_stat_list_uidl() {
    let (mut server, mut host) = tv1();
    let out = run(
        &mut server,
        &mut host,
        b"DELE 1\r\nSTAT\r\nLIST\r\nUIDL\r\nLIST 2\r\nUIDL 2\r\n",
    );
    assert_eq!(
        out,
        "+OK message 1 deleted\r\n\
+OK 1 200\r\n\
+OK 1 message (200 octets)\r\n2 200\r\n.\r\n\
+OK\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n\
+OK 2 200\r\n\
+OK 2 QhdPYR:00WBw1Ph7x7\r\n"
    );
}

#[test]
fn e10_deleted_messages_refused_by_retr_top_dele_list_uidl() {
    let (mut server, mut host) = tv1();
    let driven = host.drive(
        &mut server,
        b"DELE 1\r\nRETR 1\r\nTOP 1 0\r\nDELE 1\r\nLIST 1\r\nUIDL 1\r\n",
    );
    assert_eq!(
        driven.text(),
        "+OK message 1 deleted\r\n\
-ERR message 1 already deleted\r\n\
-ERR message 1 already deleted\r\n\
-ERR message 1 already deleted\r\n\
-ERR message 1 already deleted\r\n\
-ERR message 1 already deleted\r\n"
    );
    // The host is never asked for a deleted message.
    assert!(driven.events.is_empty(), "{:?}", driven.events);
    // Numbers are not reassigned (R1939-34).
    assert_eq!(run(&mut server, &mut host, b"RETR 2\r\n").len(), 16 + 206);
}

#[test]
fn r1939_36_rset_unmarks_everything() {
    let (mut server, mut host) = tv1();
    let out = run(
        &mut server,
        &mut host,
        b"DELE 1\r\nDELE 2\r\nSTAT\r\nLIST\r\nRSET\r\nSTAT\r\nLIST 1\r\n",
    );
    assert_eq!(
        out,
        "+OK message 1 deleted\r\n+OK message 2 deleted\r\n+OK 0 0\r\n+OK 0 messages\r\n.\r\n\
+OK maildrop has 2 messages (320 octets)\r\n+OK 2 320\r\n+OK 1 120\r\n"
    );
    let driven = host.drive(&mut server, b"QUIT\r\n");
    assert_eq!(
        driven.text(),
        "+OK dewey POP3 server signing off (2 messages left)\r\n"
    );
    assert!(driven
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::Update { deleted } if deleted.is_empty())));
    assert!(host.removed.is_empty());
}

#[test]
fn r1939_35_noop_and_stat_after_rset_without_marks() {
    let (mut server, mut host) = tv1();
    assert_eq!(
        run(&mut server, &mut host, b"RSET\r\nNOOP\r\nSTAT\r\n"),
        "+OK maildrop has 2 messages (320 octets)\r\n+OK\r\n+OK 2 320\r\n"
    );
}

#[test]
fn e12_message_numbers_zero_huge_signs_leading_zeros() {
    // (line, expected reply prefix)
    let table: &[(&[u8], &str)] = &[
        (b"RETR 0\r\n", "-ERR"),
        (b"LIST 0\r\n", "-ERR"),
        (b"DELE 0\r\n", "-ERR"),
        (b"UIDL 0\r\n", "-ERR"),
        (b"TOP 0 1\r\n", "-ERR"),
        (b"DELE 000\r\n", "-ERR"),
        (b"RETR 3\r\n", "-ERR no such message\r\n"),
        (b"DELE 3\r\n", "-ERR no such message\r\n"),
        (
            b"LIST 4294967295\r\n",
            "-ERR no such message, only 2 messages in maildrop\r\n",
        ),
        (b"RETR 4294967295\r\n", "-ERR no such message\r\n"),
        (b"RETR 4294967296\r\n", "-ERR"),
        (b"LIST 18446744073709551616\r\n", "-ERR"),
        (b"RETR 99999999999999999999999999999999999999\r\n", "-ERR"),
        (b"RETR +1\r\n", "-ERR"),
        (b"RETR -1\r\n", "-ERR"),
        (b"LIST +2\r\n", "-ERR"),
        (b"DELE -0\r\n", "-ERR"),
        (b"RETR 1.0\r\n", "-ERR"),
        (b"RETR 0x1\r\n", "-ERR"),
        (b"RETR 1a\r\n", "-ERR"),
        (b"RETR \r\n", "-ERR"),
        // A trailing space is ignored by default (E-27, as most servers do); the
        // strict reading is checked below.
        (b"RETR 1 \r\n", "+OK 120 octets\r\n"),
        (b"TOP 1 -1\r\n", "-ERR"),
        (b"TOP 1 +0\r\n", "-ERR"),
        (b"TOP 1 4294967296\r\n", "-ERR"),
        (b"TOP 1\r\n", "-ERR"),
        (b"TOP 1 2 3\r\n", "-ERR"),
        // Leading zeros are accepted (IMPL-20).
        (b"LIST 0002\r\n", "+OK 2 200\r\n"),
        (b"UIDL 02\r\n", "+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
        (b"RETR 001\r\n", "+OK 120 octets\r\n"),
        (b"TOP 01 000\r\n", "+OK\r\nFrom: a@example.com\r\n"),
    ];
    let mut failures = Vec::new();
    for &(line, expected) in table {
        let (mut server, mut host) = tv1();
        let out = run(&mut server, &mut host, line);
        if !out.starts_with(expected) {
            failures.push(format!("{:?} -> {out:?}", String::from_utf8_lossy(line)));
        }
        if expected.starts_with("-ERR") && out.matches("\r\n").count() != 1 {
            failures.push(format!("{:?}: not one line", String::from_utf8_lossy(line)));
        }
        // Nothing marked, still usable.
        let after = run(&mut server, &mut host, b"STAT\r\n");
        if after != "+OK 2 320\r\n" {
            failures.push(format!(
                "{:?} then STAT: {after:?}",
                String::from_utf8_lossy(line)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Strictly (R1939-2), a trailing space is an extra empty argument.
    let mut host = MemoryHost::tv1();
    let strict = config().with_lenient_spaces(false);
    let mut server = logged_in(strict, &mut host);
    let out = run(&mut server, &mut host, b"RETR 1 \r\nSTAT\r\n");
    assert!(out.starts_with("-ERR"), "{out}");
    assert!(out.ends_with("\r\n+OK 2 320\r\n"), "{out}");
}

#[test]
fn e6_top_n_0_is_headers_and_blank_line() {
    let (mut server, mut host) = tv1();
    let out = run(&mut server, &mut host, b"TOP 1 0\r\n");
    assert_eq!(
        out,
        "+OK\r\nFrom: a@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: one\r\n\r\n.\r\n"
    );
}

#[test]
fn e6_top_with_n_past_the_body_sends_the_whole_message() {
    let (mut server, mut host) = tv1();
    let whole = {
        let mut w = b"+OK\r\n".to_vec();
        w.extend_from_slice(&stuffed(TV1_MSG1, None));
        String::from_utf8(w).unwrap()
    };
    for n in ["2", "3", "99", "4294967295"] {
        let line = format!("TOP 1 {n}\r\n");
        assert_eq!(
            run(&mut server, &mut host, line.as_bytes()),
            whole,
            "TOP 1 {n}"
        );
    }
    // One line short of the body: the last body line is cut.
    let out = run(&mut server, &mut host, b"TOP 1 1\r\n");
    assert!(out.ends_with("\r\n\r\nHello.\r\n.\r\n"), "{out}");
}

#[test]
fn e6_top_stuffs_the_lines_it_sends_and_counts_lines_not_dots() {
    let (mut server, mut host) = tv1();
    // Message 2's body lines 5-7 start with dots.
    let out = run(&mut server, &mut host, b"TOP 2 6\r\n");
    assert!(
        out.ends_with(
            "Body line four is a bit longer than others\r\n..leading dot line\r\n..\r\n.\r\n"
        ),
        "{out}"
    );
    let expected = {
        let mut w = b"+OK\r\n".to_vec();
        w.extend_from_slice(&stuffed(TV1_MSG2, Some(6)));
        String::from_utf8(w).unwrap()
    };
    assert_eq!(out, expected);
}

#[test]
fn e6_top_of_a_message_without_blank_line_sends_it_all() {
    let mut host = MemoryHost::new(
        "mrose",
        "tanstaaf",
        vec![(
            Bytes::from_static(b"Subject: only headers\r\nX: y\r\n"),
            "u1".into(),
        )],
    );
    let mut server = logged_in(config(), &mut host);
    assert_eq!(
        run(&mut server, &mut host, b"TOP 1 0\r\n"),
        "+OK\r\nSubject: only headers\r\nX: y\r\n.\r\n"
    );
}

#[test]
fn impl22_message_without_final_crlf_gets_one_and_size_counts_it() {
    let body: &'static [u8] = b"Subject: x\r\n\r\n.no newline";
    let mut host = MemoryHost::new(
        "mrose",
        "tanstaaf",
        vec![(Bytes::from_static(body), "u1".into())],
    );
    let mut server = logged_in(config(), &mut host);
    let size = wire_len(body, StuffConfig::default());
    assert_eq!(size, body.len() as u64 + 2);
    let out = run(&mut server, &mut host, b"LIST 1\r\nRETR 1\r\n");
    assert_eq!(
        out,
        format!("+OK 1 {size}\r\n+OK {size} octets\r\nSubject: x\r\n\r\n..no newline\r\n.\r\n")
    );
}

#[test]
fn empty_message_is_status_and_terminator() {
    let mut host = MemoryHost::new("mrose", "tanstaaf", vec![(Bytes::new(), "u1".into())]);
    let mut server = logged_in(config(), &mut host);
    assert_eq!(
        run(&mut server, &mut host, b"RETR 1\r\nTOP 1 0\r\n"),
        "+OK 0 octets\r\n.\r\n+OK\r\n.\r\n"
    );
}

const LF_MESSAGE: &[u8] = b"From: lf@example.com\nSubject: lf\n\n.dot line\nbody\n..\nlast";

fn lf_host() -> MemoryHost {
    let mut host = MemoryHost::new(
        "mrose",
        "tanstaaf",
        vec![(Bytes::from_static(LF_MESSAGE), "lf1".into())],
    );
    host.stuff = StuffConfig::default()
        .with_lf_to_crlf(true)
        .with_top_lines(None);
    host
}

#[test]
fn lf_to_crlf_store_sizes_via_wire_len_and_crlf_on_the_wire() {
    let mut host = lf_host();
    let config = config().with_lf_to_crlf(true);
    let mut server = logged_in(config, &mut host);
    let crlf: &[u8] =
        b"From: lf@example.com\r\nSubject: lf\r\n\r\n.dot line\r\nbody\r\n..\r\nlast\r\n";
    let size = wire_len(
        LF_MESSAGE,
        StuffConfig::default()
            .with_lf_to_crlf(true)
            .with_top_lines(None),
    );
    assert_eq!(size, crlf.len() as u64);
    let out = run(&mut server, &mut host, b"LIST 1\r\nRETR 1\r\nTOP 1 1\r\n");
    assert_eq!(
        out,
        format!(
            "+OK 1 {size}\r\n+OK {size} octets\r\nFrom: lf@example.com\r\nSubject: lf\r\n\r\n..dot line\r\nbody\r\n...\r\nlast\r\n.\r\n\
+OK\r\nFrom: lf@example.com\r\nSubject: lf\r\n\r\n..dot line\r\n.\r\n"
        )
    );
}

#[test]
fn r6856_1_lf_store_through_the_client_size_matches_octets_received() {
    let config = config().with_lf_to_crlf(true);
    let mut pair = Pair::new(ClientConfig::default(), config, "ready", lf_host());
    pair.run();
    for c in [
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(pop3_proto::types::Password::new("tanstaaf").unwrap()),
        Command::List(Some(n(1))),
    ] {
        pair.client.send(c).unwrap();
        pair.run();
    }
    let id = pair.client.send(Command::Retr(n(1))).unwrap();
    pair.run();
    let size = pair
        .client_events
        .iter()
        .find_map(|e| match e {
            Event::ScanOne { scan, .. } => Some(scan.size),
            _ => None,
        })
        .unwrap();
    let body = pair.body(id);
    assert_eq!(body.len() as u64, size);
    assert!(!body.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
}

/// Answers the next Retrieve of `server` with `message` cut in `piece`-octet
/// chunks, stopping when the machine wants no more.
fn send_in_chunks(server: &mut Server, message: &[u8], piece: usize) -> Vec<u8> {
    let event = server.next_event();
    assert!(
        matches!(event, Ok(Some(ServerEvent::Retrieve { .. }))),
        "{event:?}"
    );
    let mut sent = 0;
    for chunk in message.chunks(piece) {
        if !server.wants_message_data() {
            break;
        }
        server
            .send_message_chunk(Bytes::copy_from_slice(chunk))
            .unwrap();
        sent += chunk.len();
    }
    assert!(sent > 0 || message.is_empty());
    server.finish_message().unwrap();
    server.take_all()
}

#[test]
fn chunked_message_gives_the_same_bytes_as_whole_retr_and_top() {
    for command in [
        &b"RETR 2\r\n"[..],
        b"TOP 2 0\r\n",
        b"TOP 2 5\r\n",
        b"TOP 2 99\r\n",
    ] {
        let mut reference = None;
        for piece in [1usize, 2, 3, 7, 64, 1000] {
            let (mut server, _host) = tv1();
            server.enqueue_all(command);
            let out = send_in_chunks(&mut server, TV1_MSG2, piece);
            match &reference {
                None => reference = Some(out),
                Some(r) => assert_eq!(
                    &out,
                    r,
                    "{:?} piece {piece}",
                    String::from_utf8_lossy(command)
                ),
            }
        }
    }
}

#[test]
fn top_stops_wanting_data_once_cut() {
    let (mut server, _host) = tv1();
    server.enqueue_all(b"TOP 2 1\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { top: Some(1), .. }))
    ));
    assert!(server.wants_message_data());
    server
        .send_message_chunk(Bytes::from_static(&TV1_MSG2[..100]))
        .unwrap();
    assert!(!server.wants_message_data());
    // More data is ignored.
    server
        .send_message_chunk(Bytes::from_static(&TV1_MSG2[100..]))
        .unwrap();
    server.finish_message().unwrap();
    assert!(server
        .take_all()
        .ends_with(b"\r\n\r\nBody line one.\r\n.\r\n"));
}

#[test]
fn retr_body_is_zero_copy_slices_of_the_host_bytes() {
    let (mut server, _host) = tv1();
    server.enqueue_all(b"RETR 1\r\n");
    server.take_all();
    assert!(server.next_event().unwrap().is_some());
    let message = Bytes::from_static(TV1_MSG1);
    server.send_message(message.clone()).unwrap();
    let out: Vec<Bytes> = std::iter::from_fn(|| server.take_output()).collect();
    // Status line, the message (one slice: no dot to stuff), the terminator.
    assert!(out
        .iter()
        .any(|b| b.as_ptr() == message.as_ptr() && b.len() == message.len()));
}

#[test]
fn host_refuses_retr_then_pipelined_commands_go_on() {
    let (mut server, _host) = tv1();
    server.enqueue_all(b"RETR 1\r\nSTAT\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    server.refuse(Refusal::sys_temp()).unwrap();
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(
        String::from_utf8(server.take_all()).unwrap(),
        "-ERR [SYS/TEMP] temporary failure, try again later\r\n+OK 2 320\r\n"
    );
}

#[test]
fn answers_out_of_turn_are_refused_and_change_nothing() {
    let (mut server, _host) = tv1();
    assert!(server.send_message(Bytes::new()).is_err());
    assert!(server.finish_message().is_err());
    assert!(server.accept_login(Vec::new(), None).is_err());
    assert!(server.refuse_login(Refusal::sys_temp()).is_err());
    assert!(server.accept_user(None).is_err());
    assert!(server.auth_challenge(b"").is_err());
    assert!(server.update_done(Ok(())).is_err());
    assert!(server.refuse(Refusal::sys_temp()).is_err());
    assert!(server
        .reply(StatusLine::ok(Text::default()).unwrap(), None)
        .is_err());
    assert!(server.take_output().is_none());
    assert_eq!(server.phase(), Phase::Transaction);
}

#[test]
fn r1082_xtnd_goes_to_the_host_with_extensions_on() {
    let config = config().with_extensions(true);
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(config, &mut host);
    server.enqueue_all(b"XTND BBOARDS\r\nNOOP\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Extension { .. }))
    ));
    server
        .reply(
            StatusLine::ok(text("XTND")).unwrap(),
            Some(Bytes::from_static(b"system 10\r\nmh-users 100\r\n")),
        )
        .unwrap();
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(
        server.take_all(),
        b"+OK XTND\r\nsystem 10\r\nmh-users 100\r\n.\r\n+OK\r\n"
    );
}

#[test]
fn r6856_6_lang_listing_and_selection() {
    let languages = [
        ("en", "English"),
        ("en-boont", "English Boontling dialect"),
        ("de", "Deutsch"),
        ("it", "Italiano"),
        ("es", "Espanol"),
        ("sv", "Svenska"),
    ];
    let config = config().with_languages(
        languages
            .iter()
            .map(|(t, n)| (LanguageTag::new(*t).unwrap(), text(n)))
            .collect(),
    );
    let mut host = MemoryHost::tv1();
    let mut server = logged_in(config, &mut host);
    let out = run(
        &mut server,
        &mut host,
        b"LANG MUL\r\nLANG\r\nLANG es\r\nLANG *\r\n",
    );
    assert_eq!(
        out,
        "-ERR invalid language MUL\r\n\
+OK Language listing follows\r\nen English\r\nen-boont English Boontling dialect\r\nde Deutsch\r\nit Italiano\r\nes Espanol\r\nsv Svenska\r\n.\r\n\
+OK es Espanol\r\n+OK en English\r\n"
    );
}

#[test]
fn login_listing_can_be_given_by_the_host_directly() {
    // accept_login with the machine's own text (R1939-26 example wording).
    let mut server = Server::new(config(), text("ready"), None);
    server.take_all();
    server.enqueue_all(b"USER a\r\nPASS b\r\nLIST\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    let listing: Vec<MessageInfo> = (1..=3)
        .map(|i| MessageInfo {
            size: 100 * i,
            uid: UniqueId::new(format!("uid-{i}")).unwrap(),
        })
        .collect();
    server.accept_login(listing, None).unwrap();
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(
        String::from_utf8(server.take_all()).unwrap(),
        "+OK send PASS\r\n+OK maildrop has 3 messages (600 octets)\r\n+OK 3 messages (600 octets)\r\n1 100\r\n2 200\r\n3 300\r\n.\r\n"
    );
}

/// R1939-12 with hostile content: a message holding `LF . CRLF` and a fake reply,
/// served with the default configuration and the sizes counted with
/// `ServerConfig::stuff_config`, can end neither a CRLF reader's nor an LF reader's
/// view of the reply early, and LIST matches what RETR sends (R1939-14).
#[test]
fn r1939_12_default_server_stuffs_dots_after_bare_lf() {
    let hostile: &'static [u8] = b"Subject: x\r\n\r\nline one\n.\r\n+OK injected\r\nlast\r\n";
    let mut host = MemoryHost::new(
        "mrose",
        "tanstaaf",
        vec![(Bytes::from_static(hostile), "h1".into())],
    );
    let defaults = ServerConfig::default();
    assert_eq!(host.stuff, defaults.stuff_config());
    let mut server = logged_in(config(), &mut host);
    let out = run(&mut server, &mut host, b"LIST 1\r\nRETR 1\r\nNOOP\r\n");
    let body = "Subject: x\r\n\r\nline one\r\n..\r\n+OK injected\r\nlast\r\n";
    let size = body.len() - 1;
    assert_eq!(
        out,
        format!("+OK 1 {size}\r\n+OK {size} octets\r\n{body}.\r\n+OK\r\n")
    );
}

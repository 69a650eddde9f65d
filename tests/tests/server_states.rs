//! The server machine's states (RFC 1939 §3-§6): the validity matrix of commands run
//! command by command in every state (IMPL-3), QUIT in each state and the ends
//! that remove nothing (R1939-21), the failed-login limit, the cleartext policy
//! (R2595-8, R8314-5), APOP and AUTH.

use pop3_proto::apop::{self, Timestamp};
use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::sasl;
use pop3_proto::secret::Secret;
use pop3_proto::server::{
    MessageInfo, Phase, Refusal, Server, ServerConfig, ServerError, ServerEvent,
};
use pop3_proto::types::{
    Command, Expire, LanguageTag, Mechanism, MessageNumber, Password, Text, UniqueId, Username,
};
use pop3_proto::{Machine, StartTls};
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::{Driven, MemoryHost, Pair, TV1_TIMESTAMP};

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn mechs(names: &[&str]) -> Vec<Mechanism> {
    names.iter().map(|m| Mechanism::new(*m).unwrap()).collect()
}

/// Everything on, so that every command of the matrix is implemented and only the
/// state decides; no failed-login limit, so failures do not end the session.
fn full_config() -> ServerConfig {
    ServerConfig::default()
        .with_apop(true)
        .with_stls(true)
        .with_utf8(Some(false))
        .with_languages(vec![(LanguageTag::new("en").unwrap(), text("English"))])
        .with_sasl(mechs(&["PLAIN", "CRAM-MD5"]))
        .with_max_failed_logins(0)
        .with_signoff(text("dewey POP3 server signing off"))
        // The state tables below read commands strictly (R1939-2: one space
        // between tokens); the lenient default has tests of its own.
        .with_lenient_spaces(false)
}

fn server(config: ServerConfig) -> Server {
    let ts = Timestamp::parse(TV1_TIMESTAMP.as_bytes()).ok();
    let mut server = Server::new(config, text("POP3 server ready"), ts);
    server.take_all();
    server
}

const APOP_GOOD: &[u8] = b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// AUTHORIZATION, right after the greeting.
    Fresh,
    /// AUTHORIZATION, USER accepted: PASS may follow.
    UserOk,
    /// AUTHORIZATION, after a failed PASS.
    Failed,
    /// TRANSACTION, message 1 marked as deleted.
    Transaction,
}

const STATES: [State; 4] = [
    State::Fresh,
    State::UserOk,
    State::Failed,
    State::Transaction,
];

fn in_state(state: State) -> (Server, MemoryHost) {
    let mut server = server(full_config());
    let mut host = MemoryHost::tv1();
    let setup: &[u8] = match state {
        State::Fresh => b"",
        State::UserOk => b"USER mrose\r\n",
        State::Failed => b"USER mrose\r\nPASS wrong\r\n",
        State::Transaction => b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\n",
    };
    host.drive(&mut server, setup);
    (server, host)
}

/// What IMPL-3 requires to stay the same.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    phase: Phase,
    user: Option<Vec<u8>>,
    deleted: Vec<MessageNumber>,
    failed: u32,
    tls: bool,
    utf8: bool,
}

fn snapshot(s: &Server) -> Snapshot {
    Snapshot {
        phase: s.phase(),
        user: s.pending_user().map(|u| u.as_bytes().to_vec()),
        deleted: s.deleted_messages(),
        failed: s.failed_logins(),
        tls: s.is_tls(),
        utf8: s.is_utf8(),
    }
}

/// Commands of the matrix not valid in `state` (R1939-22, IMPL-4, R5034-4,
/// R1082-2), and malformed or unknown lines (E-13), which are refused in every
/// state.
fn refused_in(state: State) -> Vec<&'static [u8]> {
    let transaction_only: [&[u8]; 12] = [
        b"STAT\r\n",
        b"LIST\r\n",
        b"LIST 2\r\n",
        b"RETR 2\r\n",
        b"DELE 2\r\n",
        b"NOOP\r\n",
        b"RSET\r\n",
        b"TOP 2 0\r\n",
        b"UIDL\r\n",
        b"UIDL 2\r\n",
        b"XTND BBOARDS\r\n",
        b"XTND BBOARDS system\r\n",
    ];
    let authorization_only: [&[u8]; 9] = [
        b"USER mrose\r\n",
        b"PASS tanstaaf\r\n",
        APOP_GOOD,
        b"AUTH PLAIN\r\n",
        b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
        b"AUTH CRAM-MD5\r\n",
        b"STLS\r\n",
        b"UTF8\r\n",
        b"AUTH FOOBAR\r\n",
    ];
    let malformed: [&[u8]; 16] = [
        b"\r\n",
        b" \r\n",
        b"FOO\r\n",
        b"XLST 1\r\n",
        b"STAT 1\r\n",
        b"NOOP x\r\n",
        b"QUIT now\r\n",
        b"CAPA CAPA\r\n",
        b"RETR\r\n",
        b"LIST 1 2\r\n",
        b"USER\r\n",
        b"APOP mrose\r\n",
        b"AUTH\r\n",
        b"TOP 2\r\n",
        b"RETR  2\r\n",
        b"NOOP\0\r\n",
    ];
    let mut out: Vec<&[u8]> = malformed.to_vec();
    match state {
        State::Fresh | State::Failed => {
            out.push(b"PASS tanstaaf\r\n");
            out.extend(transaction_only);
        }
        State::UserOk => {
            // IMPL-4: no second USER, no APOP right after a successful USER.
            out.push(b"USER frated\r\n");
            out.push(APOP_GOOD);
            out.extend(transaction_only);
        }
        State::Transaction => out.extend(authorization_only),
    }
    out
}

/// A command valid in `state` whose answer shows the state was kept.
fn probe(state: State, server: &mut Server, host: &mut MemoryHost) -> Result<(), String> {
    let (input, expected): (&[u8], &[u8]) = match state {
        State::Fresh | State::Failed => (b"NOOP\r\nUSER mrose\r\n", b"send PASS"),
        // PASS still goes with the USER given before the refused command.
        State::UserOk => (b"PASS tanstaaf\r\n", b"+OK mrose's maildrop has 2 messages"),
        State::Transaction => (b"STAT\r\n", b"+OK 1 200\r\n"),
    };
    let out = host.drive(server, input);
    if memchr_find(&out.output, expected) {
        Ok(())
    } else {
        Err(format!("probe {:?} gave {:?}", state, out.text()))
    }
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn impl3_every_wrong_state_command_gets_err_and_keeps_the_state() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for state in STATES {
        for &line in &refused_in(state) {
            let (mut server, mut host) = in_state(state);
            let before = snapshot(&server);
            let out = host.drive(&mut server, line);
            checked += 1;
            let shown = String::from_utf8_lossy(line).into_owned();
            let one_err_line = out.output.starts_with(b"-ERR")
                && out.output.ends_with(b"\r\n")
                && out.output.iter().filter(|&&b| b == b'\n').count() == 1;
            if !one_err_line {
                failures.push(format!("{state:?} {shown:?}: reply {:?}", out.text()));
                continue;
            }
            if !out.events.is_empty() {
                failures.push(format!("{state:?} {shown:?}: events {:?}", out.events));
            }
            let after = snapshot(&server);
            if after != before {
                failures.push(format!("{state:?} {shown:?}: {before:?} -> {after:?}"));
            }
            // The machine stays usable, in the same state (IMPL-3).
            if let Err(e) = probe(state, &mut server, &mut host) {
                failures.push(format!("{state:?} {shown:?}: {e}"));
            }
        }
    }
    assert!(checked > 100);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn r1939_22_every_valid_command_is_accepted_in_its_state() {
    // (state, command, what the reply starts with, or the event it gives)
    let table: &[(State, &[u8], &str)] = &[
        (State::Fresh, b"USER mrose\r\n", "+OK send PASS"),
        (State::Fresh, APOP_GOOD, "+OK mrose's maildrop"),
        (State::Fresh, b"AUTH CRAM-MD5\r\n", "+ "),
        (State::Fresh, b"STLS\r\n", "+OK Begin TLS negotiation"),
        (State::Fresh, b"CAPA\r\n", "+OK Capability list follows"),
        (State::Fresh, b"UTF8\r\n", "+OK"),
        (State::Fresh, b"LANG en\r\n", "+OK en"),
        (State::Fresh, b"LANG\r\n", "+OK Language listing follows"),
        (State::Fresh, b"QUIT\r\n", "+OK dewey"),
        (State::Failed, b"USER mrose\r\n", "+OK send PASS"),
        (State::Failed, APOP_GOOD, "+OK mrose's maildrop"),
        (State::UserOk, b"PASS tanstaaf\r\n", "+OK mrose's maildrop"),
        (State::UserOk, b"AUTH CRAM-MD5\r\n", "+ "),
        (State::UserOk, b"CAPA\r\n", "+OK Capability"),
        (State::UserOk, b"QUIT\r\n", "+OK dewey"),
        (State::Transaction, b"STAT\r\n", "+OK 1 200"),
        (
            State::Transaction,
            b"LIST\r\n",
            "+OK 1 message (200 octets)",
        ),
        (State::Transaction, b"LIST 2\r\n", "+OK 2 200"),
        (State::Transaction, b"RETR 2\r\n", "+OK 200 octets"),
        (State::Transaction, b"DELE 2\r\n", "+OK message 2 deleted"),
        (State::Transaction, b"NOOP\r\n", "+OK\r\n"),
        (
            State::Transaction,
            b"RSET\r\n",
            "+OK maildrop has 2 messages",
        ),
        (State::Transaction, b"TOP 2 0\r\n", "+OK\r\n"),
        (State::Transaction, b"UIDL\r\n", "+OK\r\n2 QhdPYR"),
        (
            State::Transaction,
            b"UIDL 2\r\n",
            "+OK 2 QhdPYR:00WBw1Ph7x7",
        ),
        (State::Transaction, b"CAPA\r\n", "+OK Capability"),
        (State::Transaction, b"LANG en\r\n", "+OK en"),
        (State::Transaction, b"QUIT\r\n", "+OK dewey"),
    ];
    let mut failures = Vec::new();
    for &(state, line, expected) in table {
        let (mut server, mut host) = in_state(state);
        let out = host.drive(&mut server, line);
        if !out.output.starts_with(expected.as_bytes()) {
            failures.push(format!(
                "{state:?} {:?}: {:?}",
                String::from_utf8_lossy(line),
                out.text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn impl3_wrong_state_noop_before_login_then_session_continues() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(
        &mut server,
        b"NOOP\r\nSTAT\r\nUSER mrose\r\nPASS tanstaaf\r\nNOOP\r\n",
    );
    assert_eq!(
        out.text(),
        "-ERR command not valid in this state\r\n-ERR command not valid in this state\r\n+OK send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n+OK\r\n"
    );
}

#[test]
fn e18_pass_without_user_and_after_failed_pass() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(
        &mut server,
        b"PASS tanstaaf\r\nUSER mrose\r\nPASS wrong\r\nPASS tanstaaf\r\n",
    );
    assert_eq!(
        out.text(),
        "-ERR PASS must follow a successful USER\r\n+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n-ERR PASS must follow a successful USER\r\n"
    );
    assert_eq!(server.phase(), Phase::Authorization);
    assert_eq!(server.failed_logins(), 1);
}

// ----- QUIT in each state, and the ends that remove nothing -----

/// How the session ended: `Ok` for QUIT (the `Closed` event), or the error
/// `next_event` gave.
fn ended(out: &Driven) -> Option<Result<(), ServerError>> {
    if let Some(error) = out.end {
        return Some(Err(error));
    }
    out.events
        .iter()
        .any(|e| matches!(e, ServerEvent::Closed))
        .then_some(Ok(()))
}

fn has_update(events: &[ServerEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, ServerEvent::Update { .. }))
}

#[test]
fn r1939_21_quit_in_authorization_removes_nothing() {
    for state in [State::Fresh, State::UserOk, State::Failed] {
        let (mut server, mut host) = in_state(state);
        let out = host.drive(&mut server, b"QUIT\r\nDELE 1\r\n");
        assert_eq!(out.text(), "+OK dewey POP3 server signing off\r\n");
        assert!(!has_update(&out.events), "{state:?}");
        assert_eq!(ended(&out), Some(Ok(())));
        assert_eq!(server.phase(), Phase::Closed);
        assert!(host.removed.is_empty());
    }
}

#[test]
fn r1939_23_quit_in_transaction_updates_the_marked_messages_only() {
    let (mut server, mut host) = in_state(State::Transaction);
    let out = host.drive(&mut server, b"QUIT\r\nNOOP\r\n");
    assert_eq!(
        out.text(),
        "+OK dewey POP3 server signing off (1 message left)\r\n"
    );
    let updates: Vec<_> = out
        .events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Update { deleted } => Some(deleted.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(updates, vec![vec![MessageNumber::new(1).unwrap()]]);
    assert_eq!(host.removed, vec![("mrose".to_string(), 0)]);
    assert_eq!(ended(&out), Some(Ok(())));
    // The NOOP after QUIT was never run.
    assert!(server.discarded_input() >= 6);
}

#[test]
fn r1939_23_update_failure_gives_err_sys_temp() {
    let (mut server, mut host) = in_state(State::Transaction);
    host.fail_update = true;
    let out = host.drive(&mut server, b"QUIT\r\n");
    assert_eq!(
        out.text(),
        "-ERR [SYS/TEMP] some deleted messages not removed\r\n"
    );
    assert_eq!(ended(&out), Some(Ok(())));
    assert!(host.removed.is_empty());
    assert!(host.locked.is_empty());
}

#[test]
fn r1939_21_connection_lost_in_transaction_removes_nothing() {
    let (mut server, mut host) = in_state(State::Transaction);
    assert_eq!(server.deleted_messages().len(), 1);
    server.enqueue_eof();
    let out = host.drive(&mut server, b"QUIT\r\n");
    assert!(out.output.is_empty(), "{:?}", out.text());
    assert!(!has_update(&out.events));
    assert_eq!(ended(&out), Some(Err(ServerError::ConnectionLost)));
    assert!(host.removed.is_empty());
    // The lock is released when the session ends.
    assert!(host.locked.is_empty());
}

#[test]
fn r1939_16_timeout_closes_without_reply_or_update() {
    for state in STATES {
        let (mut server, mut host) = in_state(state);
        server.timeout();
        let out = host.drive(&mut server, b"");
        assert!(out.output.is_empty(), "{state:?}: {:?}", out.text());
        assert!(!has_update(&out.events));
        assert_eq!(ended(&out), Some(Err(ServerError::Timeout)));
        // The same error on every later call, and later calls change nothing.
        server.timeout();
        server.enqueue_eof();
        server.abort();
        assert_eq!(server.next_event(), Err(ServerError::Timeout));
        assert!(host.removed.is_empty());
    }
}

#[test]
fn r1939_21_drop_while_retr_pending_with_quit_pipelined_removes_nothing() {
    let (mut server, _host) = in_state(State::Transaction);
    server.enqueue_all(b"RETR 2\r\nQUIT\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    // The host is reading the message when the client goes away.
    server.enqueue_eof();
    assert_eq!(server.next_event(), Err(ServerError::ConnectionLost));
    assert_eq!(server.next_event(), Err(ServerError::ConnectionLost));
    assert!(server.send_message(bytes::Bytes::new()).is_err());
    assert!(server.update_done(Ok(())).is_err());
}

#[test]
fn abort_after_a_partial_message_closes_without_terminator_or_update() {
    let (mut server, _host) = in_state(State::Transaction);
    server.enqueue_all(b"RETR 2\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    server
        .send_message_chunk(bytes::Bytes::from_static(b"From: b@example.com\r\n"))
        .unwrap();
    // A refusal after +OK is impossible; the host can only end the session.
    assert!(server.refuse(Refusal::sys_temp()).is_err());
    server.abort();
    assert_eq!(server.next_event(), Err(ServerError::Aborted));
    assert_eq!(server.next_event(), Err(ServerError::Aborted));
    let out = server.take_all();
    assert!(!out.ends_with(b".\r\n"));
}

/// Every end other than QUIT is an `Err` from `next_event`, the same on every
/// later call, with the machine closed; nothing is removed (R1939-21).
#[test]
fn every_end_other_than_quit_is_an_err_that_repeats() {
    type End = fn(&mut Server);
    let ends: [(End, ServerError); 3] = [
        (|s| s.timeout(), ServerError::Timeout),
        (|s| s.abort(), ServerError::Aborted),
        (|s| s.enqueue_eof(), ServerError::ConnectionLost),
    ];
    for state in STATES {
        for (end, error) in ends {
            let (mut server, _host) = in_state(state);
            server.take_all();
            end(&mut server);
            assert!(server.is_closed(), "{state:?} {error:?}");
            for _ in 0..3 {
                assert_eq!(server.next_event(), Err(error), "{state:?}");
            }
            // Input is taken and thrown away; nothing is written.
            assert_eq!(server.enqueue_input(b"QUIT\r\n"), 6);
            assert_eq!(server.next_event(), Err(error));
            assert!(server.take_output().is_none());
            // A later end changes nothing.
            server.timeout();
            server.enqueue_eof();
            assert_eq!(server.next_event(), Err(error));
        }
    }
}

/// Too many failed logins: the `-ERR` of the last one is in the output when
/// `next_event` returns the error, which then repeats.
#[test]
fn too_many_failures_is_an_err_after_the_last_reply() {
    let mut server = server(full_config().with_max_failed_logins(1));
    server.enqueue_all(b"USER mrose\r\nPASS wrong\r\nNOOP\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    server.refuse_login(Refusal::bad_credentials()).unwrap();
    assert_eq!(server.next_event(), Err(ServerError::TooManyFailures));
    assert_eq!(
        server.take_all(),
        b"+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n"
    );
    assert_eq!(server.next_event(), Err(ServerError::TooManyFailures));
    assert!(server.is_closed());
}

/// QUIT ends the session the normal way: `Closed`, once, then `Ok(None)`, in
/// AUTHORIZATION at once and in TRANSACTION after the UPDATE; an EOF after it is
/// no error.
#[test]
fn quit_gives_closed_once_and_no_error() {
    let (mut server, _host) = in_state(State::Fresh);
    server.enqueue_all(b"QUIT\r\n");
    assert_eq!(server.next_event(), Ok(Some(ServerEvent::Closed)));
    assert!(server.is_closed());
    server.enqueue_eof();
    assert_eq!(server.next_event(), Ok(None));
    assert_eq!(server.next_event(), Ok(None));

    let (mut server, _host) = in_state(State::Transaction);
    server.enqueue_all(b"QUIT\r\n");
    assert!(matches!(
        server.next_event(),
        Ok(Some(ServerEvent::Update { .. }))
    ));
    assert!(!server.is_closed());
    server.update_done(Ok(())).unwrap();
    assert_eq!(server.next_event(), Ok(Some(ServerEvent::Closed)));
    server.timeout();
    assert_eq!(server.next_event(), Ok(None));
    assert!(server
        .take_all()
        .ends_with(b"+OK dewey POP3 server signing off (1 message left)\r\n"));
}

// ----- failed logins -----

#[test]
fn failed_login_limit_closes_the_session_after_the_last_reply() {
    let config = full_config().with_max_failed_logins(3);
    let mut server = server(config);
    let mut host = MemoryHost::tv1();
    // PASS, APOP and AUTH failures all count.
    let out = host.drive(
        &mut server,
        b"USER mrose\r\nPASS a\r\nAPOP mrose 00000000000000000000000000000000\r\nAUTH PLAIN AG1yb3NlAGI=\r\nUSER mrose\r\nPASS tanstaaf\r\n",
    );
    assert_eq!(
        out.text(),
        "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n-ERR [AUTH] invalid user name or password\r\n-ERR [AUTH] authentication failed\r\n"
    );
    assert_eq!(ended(&out), Some(Err(ServerError::TooManyFailures)));
    assert_eq!(server.phase(), Phase::Closed);
    assert_eq!(server.failed_logins(), 3);
}

#[test]
fn failed_login_limit_below_the_limit_the_session_goes_on() {
    let config = full_config().with_max_failed_logins(3);
    let mut server = server(config);
    let mut host = MemoryHost::tv1();
    let out = host.drive(
        &mut server,
        b"USER mrose\r\nPASS a\r\nUSER mrose\r\nPASS b\r\nUSER mrose\r\nPASS tanstaaf\r\n",
    );
    assert!(out
        .text()
        .ends_with("+OK mrose's maildrop has 2 messages (320 octets)\r\n"));
    assert_eq!(server.phase(), Phase::Transaction);
}

// ----- cleartext logins before TLS (R2595-8, R8314-5, R5034-16) -----

fn cleartext_config() -> ServerConfig {
    full_config()
        .with_stls(true)
        .with_cleartext_requires_tls(true)
        .with_check_user(true)
}

#[test]
fn r8314_5_cleartext_requires_tls_same_reply_for_good_and_bad_password() {
    let run = |input: &[u8]| -> Driven {
        let mut server = server(cleartext_config());
        let mut host = MemoryHost::tv1();
        host.drive(&mut server, input)
    };
    let good = run(b"USER mrose\r\nPASS tanstaaf\r\n");
    let bad = run(b"USER mrose\r\nPASS wrong\r\n");
    let unknown = run(b"USER nobody\r\nPASS wrong\r\n");
    assert_eq!(good.output, bad.output);
    assert_eq!(good.output, unknown.output);
    assert_eq!(
        good.text(),
        "+OK send PASS\r\n-ERR [AUTH] cleartext logins are not allowed before STLS\r\n"
    );
    // The host never sees the name (no User event) nor the password.
    assert!(good.events.is_empty(), "{:?}", good.events);
    let plain_good = run(b"AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n");
    let plain_bad = run(b"AUTH PLAIN AG1yb3NlAGI=\r\n");
    assert_eq!(plain_good.output, plain_bad.output);
    assert!(plain_good.events.is_empty());
}

#[test]
fn r2595_8_user_and_plain_not_in_capa_before_tls_then_offered_after() {
    let mut server = server(cleartext_config());
    let mut host = MemoryHost::tv1();
    let before = host.drive(&mut server, b"CAPA\r\n").text();
    assert!(!before.contains("\r\nUSER\r\n"), "{before}");
    assert!(before.contains("\r\nSASL CRAM-MD5\r\n"), "{before}");
    assert!(before.contains("\r\nSTLS\r\n"), "{before}");
    // Commands pipelined after STLS are discarded (IMPL-13): CAPA goes after.
    let stls = host.drive(&mut server, b"STLS\r\nCAPA\r\n").text();
    assert_eq!(stls, "+OK Begin TLS negotiation\r\n");
    let after = host.drive(&mut server, b"CAPA\r\n").text();
    assert!(after.contains("\r\nUSER\r\n"), "{after}");
    assert!(after.contains("\r\nSASL PLAIN CRAM-MD5\r\n"), "{after}");
    assert!(!after.contains("STLS\r\n."), "{after}");
    let login = host
        .drive(&mut server, b"USER mrose\r\nPASS tanstaaf\r\n")
        .text();
    assert!(login.ends_with("+OK mrose's maildrop has 2 messages (320 octets)\r\n"));
}

#[test]
fn r2449_capa_per_state_login_delay_expire_user_forms_and_stls() {
    let config = cleartext_config()
        .with_login_delay(Some((900, true)))
        .with_expire(Some((Expire::Days(5), true)))
        .with_implementation(Some(text("pop3-proto")));
    let mut server = server(config);
    let mut host = MemoryHost::tv1();
    let auth = host.drive(&mut server, b"CAPA\r\n").text();
    assert_eq!(
        auth,
        "+OK Capability list follows\r\nTOP\r\nSASL CRAM-MD5\r\nRESP-CODES\r\nLOGIN-DELAY 900 USER\r\nPIPELINING\r\nEXPIRE 5 USER\r\nUIDL\r\nIMPLEMENTATION pop3-proto\r\nAUTH-RESP-CODE\r\nSTLS\r\nUTF8\r\nLANG\r\n.\r\n"
    );
    host.drive(&mut server, b"STLS\r\n");
    host.drive(&mut server, b"USER mrose\r\nPASS tanstaaf\r\n");
    assert_eq!(server.phase(), Phase::Transaction);
    server.set_user_values(Some(600), Some(Expire::Days(30)));
    let transaction = host.drive(&mut server, b"CAPA\r\n").text();
    assert_eq!(
        transaction,
        "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN CRAM-MD5\r\nRESP-CODES\r\nLOGIN-DELAY 600\r\nPIPELINING\r\nEXPIRE 30\r\nUIDL\r\nIMPLEMENTATION pop3-proto\r\nAUTH-RESP-CODE\r\nUTF8\r\nLANG\r\n.\r\n"
    );
}

#[test]
fn r6856_3_no_stls_after_utf8_and_not_in_capa() {
    let mut server = server(full_config());
    let mut host = MemoryHost::tv1();
    let out = host.drive(&mut server, b"UTF8\r\nCAPA\r\nSTLS\r\n").text();
    assert!(!out.contains("\r\nSTLS\r\n"), "{out}");
    assert!(
        out.ends_with("-ERR STLS not permitted after UTF8\r\n"),
        "{out}"
    );
    assert!(!server.is_tls());
}

// ----- APOP -----

#[test]
fn r1939_28_apop_timestamp_from_host_values_differs_per_connection() {
    let config = ServerConfig::default().with_apop(true);
    let mut greetings = Vec::new();
    for clock in [697170952u64, 697170953] {
        let ts = Timestamp::new(1896, clock, "dbc.mtview.ca.us").unwrap();
        let mut s = Server::new(config.clone(), text("POP3 server ready"), Some(ts.clone()));
        assert_eq!(s.timestamp(), Some(&ts));
        greetings.push(s.take_all());
    }
    assert_eq!(
        greetings[0],
        b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
    );
    assert_ne!(greetings[0], greetings[1]);
    // The digest the host checks is over the timestamp it supplied.
    let ts = Timestamp::new(1896, 697170953, "dbc.mtview.ca.us").unwrap();
    let digest = apop::digest(&ts, &Secret::new(b"tanstaaf".to_vec()));
    let mut s = Server::new(config, text("POP3 server ready"), Some(ts));
    s.take_all();
    let mut host = MemoryHost::tv1();
    let line = format!("APOP mrose {}\r\n", digest.as_str());
    let out = host.drive(&mut s, line.as_bytes());
    assert_eq!(
        out.text(),
        "+OK mrose's maildrop has 2 messages (320 octets)\r\n"
    );
    // The TV-1 digest is for another timestamp: refused.
    let config = ServerConfig::default().with_apop(true);
    let mut s = Server::new(config, text("x"), Some(Timestamp::new(1, 2, "h").unwrap()));
    s.take_all();
    let out = host.drive(&mut s, APOP_GOOD);
    assert_eq!(out.text(), "-ERR [AUTH] invalid user name or password\r\n");
    assert_eq!(s.phase(), Phase::Authorization);
}

#[test]
fn e7_apop_without_timestamp_is_refused() {
    let mut s = Server::new(
        ServerConfig::default(),
        text("ready"),
        Some(Timestamp::new(1, 2, "h").unwrap()),
    );
    // APOP is off in the configuration: no timestamp in the greeting.
    assert_eq!(s.take_all(), b"+OK ready\r\n");
    let mut host = MemoryHost::tv1();
    let out = host.drive(&mut s, APOP_GOOD);
    assert_eq!(out.text(), "-ERR APOP not available\r\n");
    assert!(out.events.is_empty());
}

#[test]
fn e19_login_refusals_carry_their_response_codes() {
    for (refusal, expected) in [
        (
            Refusal::in_use(),
            "-ERR [IN-USE] maildrop already locked\r\n",
        ),
        (
            Refusal::sys_temp(),
            "-ERR [SYS/TEMP] temporary failure, try again later\r\n",
        ),
        (
            Refusal::sys_perm(),
            "-ERR [SYS/PERM] permanent failure, contact support\r\n",
        ),
        (
            Refusal::login_delay(),
            "-ERR [LOGIN-DELAY] logged in too recently\r\n",
        ),
        (
            Refusal::bad_credentials(),
            "-ERR [AUTH] invalid user name or password\r\n",
        ),
    ] {
        let mut s = server(full_config());
        s.enqueue_all(b"USER mrose\r\nPASS x\r\n");
        assert!(matches!(
            s.next_event(),
            Ok(Some(ServerEvent::Login { .. }))
        ));
        s.refuse_login(refusal).unwrap();
        let out = s.take_all();
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("+OK send PASS\r\n{expected}")
        );
        assert_eq!(s.phase(), Phase::Authorization);
        assert_eq!(s.pending_user(), None);
    }
}

#[test]
fn r1939_9_host_text_over_512_octets_is_refused_and_nothing_changes() {
    let mut s = server(full_config());
    s.enqueue_all(b"USER mrose\r\nPASS x\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    let long = Text::new("x".repeat(600)).unwrap();
    assert!(s.accept_login(Vec::new(), Some(long.clone())).is_err());
    assert!(s.refuse_login(Refusal::with_text(long)).is_err());
    // Still waiting for the answer; a valid one works.
    s.accept_login(
        vec![MessageInfo {
            size: 1,
            uid: UniqueId::new("a").unwrap(),
        }],
        None,
    )
    .unwrap();
    assert!(s
        .take_all()
        .ends_with(b"+OK maildrop has 1 message (1 octets)\r\n"));
}

// ----- AUTH -----

#[test]
fn r5034_auth_unknown_mechanism_then_usable() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(
        &mut server,
        b"AUTH FOOBAR\r\nAUTH GSSAPI xyz=\r\nUSER mrose\r\nPASS tanstaaf\r\n",
    );
    assert_eq!(
        out.text(),
        "-ERR Unrecognized authentication type\r\n-ERR Unrecognized authentication type\r\n+OK send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n"
    );
    assert_eq!(server.failed_logins(), 0);
}

#[test]
fn r5034_7_auth_empty_initial_response_equals_sign() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(&mut server, b"AUTH PLAIN =\r\n");
    match out.events.first() {
        Some(ServerEvent::AuthStart {
            initial_response: Some(ir),
            ..
        }) => assert!(ir.expose_secret().is_empty()),
        other => panic!("{other:?}"),
    }
    // An empty PLAIN message is malformed: -ERR, the session goes on.
    assert!(out.text().starts_with("-ERR"), "{}", out.text());
    assert_eq!(server.phase(), Phase::Authorization);
    let out = host.drive(&mut server, b"AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n");
    assert_eq!(
        out.text(),
        "+OK mrose's maildrop has 2 messages (320 octets)\r\n"
    );
}

#[test]
fn r5034_6_auth_star_cancels_with_err_and_state_is_kept() {
    let (mut server, mut host) = in_state(State::UserOk);
    let out = host.drive(&mut server, b"AUTH PLAIN\r\n*\r\n");
    assert_eq!(out.text(), "+ \r\n-ERR AUTH cancelled\r\n");
    assert!(matches!(
        out.events.last(),
        Some(ServerEvent::AuthCancelled)
    ));
    // R5034-13: as if AUTH had never been sent: PASS still follows the USER.
    assert!(server.pending_user().is_some());
    let out = host.drive(&mut server, b"PASS tanstaaf\r\n");
    assert_eq!(server.phase(), Phase::Transaction, "{}", out.text());
}

#[test]
fn r5034_10_auth_bad_base64_gets_err_and_session_usable() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(
        &mut server,
        b"AUTH PLAIN\r\nAAA=BBB\r\nAUTH PLAIN\r\n=AAA\r\nAUTH PLAIN\r\nAA\r\nAUTH PLAIN AA\r\nAUTH PLAIN a!b\r\nCAPA\r\n",
    );
    let text = out.text();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "+ ");
    assert_eq!(lines[1], "-ERR invalid base64");
    assert_eq!(lines[2], "+ ");
    assert_eq!(lines[3], "-ERR invalid base64");
    assert_eq!(lines[4], "+ ");
    assert_eq!(lines[5], "-ERR invalid base64");
    assert_eq!(lines[6], "-ERR invalid base64 in initial response");
    assert!(lines[7].starts_with("-ERR"), "{text}");
    assert_eq!(lines[8], "+OK Capability list follows");
    let cancelled = out
        .events
        .iter()
        .filter(|e| matches!(e, ServerEvent::AuthCancelled))
        .count();
    assert_eq!(cancelled, 3);
    assert_eq!(server.phase(), Phase::Authorization);
}

#[test]
fn r5034_9_initial_response_to_a_mechanism_without_one_is_refused() {
    let (mut server, mut host) = in_state(State::Fresh);
    let out = host.drive(&mut server, b"AUTH CRAM-MD5 AAAA\r\n");
    assert!(out.text().starts_with("-ERR"), "{}", out.text());
    assert_eq!(server.phase(), Phase::Authorization);
}

#[test]
fn r5034_11_auth_response_longer_than_a_command_but_bounded() {
    let config = full_config().with_max_sasl_line(1024);
    let mut server = server(config);
    let mut host = MemoryHost::tv1();
    // A 400-octet response is fine (longer than 255).
    let mut input = b"AUTH PLAIN\r\n".to_vec();
    input.extend_from_slice(&[b'A'; 400]);
    input.extend_from_slice(b"\r\n");
    let out = host.drive(&mut server, &input);
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, ServerEvent::AuthResponse { .. })));
    // A response over the bound ends the exchange, and the host is told.
    let mut input = b"AUTH PLAIN\r\n".to_vec();
    input.extend_from_slice(&[b'A'; 4000]);
    input.extend_from_slice(b"\r\nCAPA\r\n");
    let out = host.drive_chunked(&mut server, &input, 100);
    assert!(
        out.text().contains("-ERR line too long\r\n"),
        "{}",
        out.text()
    );
    assert!(matches!(
        out.events.last(),
        Some(ServerEvent::AuthCancelled)
    ));
    assert!(out.text().ends_with(".\r\n"));
}

#[test]
fn r5034_4_no_auth_after_login() {
    let (mut server, mut host) = in_state(State::Transaction);
    let out = host.drive(&mut server, b"AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n");
    assert_eq!(out.text(), "-ERR command not valid in this state\r\n");
}

// ----- whole sessions against the client machine -----

#[test]
fn pair_sessions_auth_plain_scram_cram_md5_login() {
    let config = full_config().with_sasl(mechs(&["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"]));
    let clients: Vec<Box<dyn Fn() -> Box<dyn sasl::ClientMechanism + Send>>> = vec![
        Box::new(|| {
            Box::new(sasl::PlainClient::new("mrose", Secret::new(b"tanstaaf".to_vec())).unwrap())
        }),
        Box::new(|| {
            Box::new(sasl::LoginClient::new("mrose", Secret::new(b"tanstaaf".to_vec())).unwrap())
        }),
        Box::new(|| {
            Box::new(sasl::CramMd5Client::new("mrose", Secret::new(b"tanstaaf".to_vec())).unwrap())
        }),
        Box::new(|| {
            Box::new(
                sasl::ScramClient::new(
                    sasl::ScramHash::Sha256,
                    "mrose",
                    Secret::new(b"tanstaaf".to_vec()),
                    "rOprNGfwEbeRWgbNEkqO",
                )
                .unwrap(),
            )
        }),
    ];
    for make in clients {
        let mut pair = Pair::new(
            ClientConfig::default(),
            config.clone(),
            "POP3 server ready",
            MemoryHost::tv1(),
        );
        pair.run();
        pair.client.send(Command::Capa).unwrap();
        pair.run();
        let mech = make();
        let name = mech.name().to_string();
        pair.client.authenticate(mech).unwrap();
        pair.run();
        assert_eq!(pair.server.phase(), Phase::Transaction, "{name}");
        pair.client.send(Command::Stat).unwrap();
        pair.client.send(Command::Quit).unwrap();
        pair.run();
        assert!(
            pair.client_errors.is_empty(),
            "{name}: {:?}",
            pair.client_errors
        );
        assert!(pair
            .client_events
            .iter()
            .any(|e| matches!(e, Event::Stat { drop, .. } if drop.count == 2)));
        assert_eq!(pair.server.phase(), Phase::Closed);
    }
}

#[test]
fn pair_session_user_pass_wrong_then_right() {
    let mut pair = Pair::new(
        ClientConfig::default(),
        full_config(),
        "POP3 server ready",
        MemoryHost::tv1(),
    );
    pair.run();
    for c in [
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("nope").unwrap()),
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("tanstaaf").unwrap()),
        Command::Quit,
    ] {
        pair.client.send(c).unwrap();
        pair.run();
    }
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
    assert_eq!(
        String::from_utf8_lossy(&pair.server_wrote),
        "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n+OK send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n+OK dewey POP3 server signing off (2 messages left)\r\n"
    );
}

#[test]
fn r1939_28_with_apop_builds_the_timestamp_from_host_values() {
    let mut s = Server::with_apop(
        ServerConfig::default(),
        text("POP3 server ready"),
        1896,
        697170952,
        "dbc.mtview.ca.us",
    )
    .unwrap();
    assert_eq!(s.timestamp().map(|t| t.as_str()), Some(TV1_TIMESTAMP));
    s.take_all();
    let out = MemoryHost::tv1().drive(&mut s, APOP_GOOD);
    assert_eq!(
        out.text(),
        "+OK mrose's maildrop has 2 messages (320 octets)\r\n"
    );
    // A host name that cannot be a msg-id domain is refused.
    assert!(Server::with_apop(ServerConfig::default(), text("x"), 1, 2, "a b").is_err());
    assert!(Server::with_apop(ServerConfig::default(), text("x"), 1, 2, "").is_err());
}

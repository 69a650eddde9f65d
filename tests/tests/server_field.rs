//! What the servers in the field accept where RFC 1939 §3 asks for more, answered the
//! same way by default, each with its strict option:
//! - command and SASL lines ended by a bare LF (E-5): accepted, each LF ending exactly
//!   one line, every length limit kept; refused with `-ERR` when `allow_bare_lf` is off;
//! - runs of spaces and trailing spaces (E-27): read as one separator, never inside
//!   PASS; refused when `lenient_spaces` is off;
//! - USER with a name no mailbox can have: `+OK` as for any name (R1939-25), and the
//!   PASS after it fails without the host seeing either.

use bytes::Bytes;
use pop3_proto::server::{Phase, Server, ServerConfig, ServerError};
use pop3_proto::types::{Mechanism, Text};
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::MemoryHost;

fn host() -> MemoryHost {
    MemoryHost::new(
        "mrose",
        "tanstaaf",
        vec![
            (
                Bytes::from_static(b"Subject: one\r\n\r\nbody\r\n"),
                "u1".into(),
            ),
            (
                Bytes::from_static(b"Subject: two\r\n\r\nmore\r\n"),
                "u2".into(),
            ),
        ],
    )
}

fn server(config: ServerConfig) -> Server {
    let mut server = Server::new(config, Text::new("ready").unwrap(), None);
    server.take_all();
    server
}

fn run(config: ServerConfig, input: &[u8]) -> (String, Phase) {
    let mut server = server(config);
    let out = host().drive(&mut server, input).text();
    (out, server.phase())
}

/// E-5 (field behaviour): a login and commands ended by LF alone work by default.
#[test]
fn e5_bare_lf_commands_are_accepted_by_default() {
    let (out, phase) = run(
        ServerConfig::default(),
        b"USER mrose\nPASS tanstaaf\nSTAT\nLIST 2\nUIDL 1\n",
    );
    assert_eq!(phase, Phase::Transaction, "{out}");
    assert!(
        out.ends_with("+OK 2 44\r\n+OK 2 22\r\n+OK 1 u1\r\n"),
        "{out}"
    );
}

/// Each LF ends exactly one line: two LF-ended lines are never joined, and CRLF and
/// LF lines mix freely in one pipelined write.
#[test]
fn e5_each_lf_ends_exactly_one_line() {
    let (out, _) = run(
        ServerConfig::default(),
        b"USER mrose\r\nPASS tanstaaf\nNOOP\r\nSTAT\nLIST 1\r\nQUIT\n",
    );
    assert_eq!(
        out,
        "+OK send PASS\r\n+OK mrose's maildrop has 2 messages (44 octets)\r\n+OK\r\n+OK 2 44\r\n+OK 1 22\r\n\
+OK POP3 server signing off (2 messages left)\r\n",
    );
    // An empty LF line is an empty command (refused), not glue for the next one.
    let (out, phase) = run(ServerConfig::default(), b"USER mrose\n\nPASS tanstaaf\n");
    assert_eq!(phase, Phase::Transaction, "{out}");
    assert_eq!(out.matches("-ERR").count(), 1, "{out}");
}

/// A lone CR is never a line end and never a separator (E-5): `NO\rOP` is one bad
/// command; a CR before the LF belongs to the line end.
#[test]
fn e5_lone_cr_is_content() {
    let (out, phase) = run(
        ServerConfig::default(),
        b"USER mrose\nPASS tanstaaf\nNO\rOP\nSTAT\r\r\n",
    );
    assert_eq!(phase, Phase::Transaction, "{out}");
    let lines: Vec<&str> = out.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[2..].iter().all(|l| l.starts_with("-ERR")), "{out}");
}

/// R2449-1, E-14: the 255-octet limit counts the line end as sent: an LF-ended line
/// is answered as the CRLF-ended line of the same length is, and a line past the
/// limit is refused, then the next line is read. (At exactly 255 octets the LF line
/// holds a 249-octet password, one more than a PASS value may have so that it can
/// be sent with CRLF in 255 octets: refused for that.)
#[test]
fn r2449_1_limit_counts_the_bare_lf() {
    let config = ServerConfig::default().with_max_command_line(255);
    let line = |total: usize, end: &[u8]| {
        let mut line = b"PASS ".to_vec();
        line.extend(std::iter::repeat_n(b'a', total - 5 - end.len()));
        line.extend_from_slice(end);
        line.extend_from_slice(b"USER mrose\n");
        line
    };
    for total in [254, 255, 256, 300] {
        let (lf, _) = run(config.clone(), &line(total, b"\n"));
        let (crlf, _) = run(config.clone(), &line(total, b"\r\n"));
        let lines: Vec<&str> = lf.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 2, "{total}: {lf}");
        assert_eq!(lines[1], "+OK send PASS", "{total}: {lf}");
        assert!(lines[0].starts_with("-ERR"), "{total}: {lf}");
        if total <= 254 {
            // PASS before USER: refused for the order, not the length.
            assert_eq!(lf, crlf, "{total}");
        } else if total > 255 {
            assert!(lines[0].contains("long"), "{total}: {lf}");
        }
    }
}

/// R5034: a SASL response line may end in LF too.
#[test]
fn r5034_sasl_response_line_ended_by_lf() {
    let config = ServerConfig::default().with_sasl(vec![Mechanism::new("PLAIN").unwrap()]);
    let (out, phase) = run(config, b"AUTH PLAIN\n\0mrose\0tanstaaf");
    // The response is not complete yet: only the empty challenge so far.
    assert_eq!(out, "+ \r\n");
    assert_eq!(phase, Phase::Authorization);
    let config = ServerConfig::default().with_sasl(vec![Mechanism::new("PLAIN").unwrap()]);
    let (out, phase) = run(config, b"AUTH PLAIN\nAG1yb3NlAHRhbnN0YWFm\nSTAT\n");
    assert_eq!(phase, Phase::Transaction, "{out}");
    assert!(out.starts_with("+ \r\n+OK"), "{out}");
    assert!(out.ends_with("+OK 2 44\r\n"), "{out}");
}

/// The strict option: a bare-LF line is answered `-ERR` and dropped, and the
/// session goes on at the next line.
#[test]
fn e5_strict_option_refuses_bare_lf() {
    let strict = ServerConfig::default().with_allow_bare_lf(false);
    let (out, phase) = run(strict, b"USER mrose\nUSER mrose\r\nPASS tanstaaf\r\n");
    let lines: Vec<&str> = out.split_terminator("\r\n").collect();
    assert!(lines[0].starts_with("-ERR"), "{out}");
    assert_eq!(lines[1], "+OK send PASS");
    assert_eq!(phase, Phase::Transaction, "{out}");
}

/// E-4: the same input in every split gives the same output.
#[test]
fn e4_bare_lf_lines_in_every_split() {
    let input = b"USER mrose\nPASS tanstaaf\r\nSTAT\nNO\rOP\nLIST\nQUIT\n";
    let mut whole_server = server(ServerConfig::default());
    let whole = host().drive(&mut whole_server, input).output;
    for chunk in 1..input.len() {
        let mut s = server(ServerConfig::default());
        let out = host().drive_chunked(&mut s, input, chunk).output;
        assert_eq!(out, whole, "chunks of {chunk}");
    }
}

/// E-27: `LIST  1` and `LIST 1 ` are read as `LIST 1` by default, refused when strict.
#[test]
fn e27_runs_of_spaces_by_default_strict_option() {
    let input = b"USER mrose\r\nPASS tanstaaf\r\nLIST  1\r\nLIST 1 \r\n RETR  2 \r\n";
    let (out, _) = run(ServerConfig::default(), input);
    assert!(
        out.ends_with("+OK 1 22\r\n+OK 1 22\r\n+OK 22 octets\r\nSubject: two\r\n\r\nmore\r\n.\r\n"),
        "{out}"
    );
    let strict = ServerConfig::default().with_lenient_spaces(false);
    let (out, _) = run(strict, input);
    let lines: Vec<&str> = out.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[2..].iter().all(|l| l.starts_with("-ERR")), "{out}");
}

/// R1939-26: PASS keeps everything after the first space, leniency or not.
#[test]
fn r1939_26_pass_keeps_its_spaces() {
    let (out, phase) = run(ServerConfig::default(), b"USER mrose\r\nPASS  tanstaaf\r\n");
    assert_eq!(phase, Phase::Authorization, "{out}");
    assert!(out.contains("-ERR"), "{out}");
}

/// R1939-25: USER with a NUL, a control octet or a second word is answered `+OK`;
/// the PASS after it is a failed login the host never sees, counted towards
/// `max_failed_logins`.
#[test]
fn r1939_25_impossible_user_names_fail_at_pass() {
    for user in [
        &b"USER pop\0user\r\n"[..],
        b"USER a b\r\n",
        b"USER a\x01\r\n",
    ] {
        let mut server = server(ServerConfig::default());
        let mut host = host();
        let driven = host.drive(&mut server, user);
        assert_eq!(driven.text(), "+OK send PASS\r\n", "{user:?}");
        assert_eq!(server.pending_user(), None);
        let driven = host.drive(&mut server, b"PASS tanstaaf\r\n");
        assert_eq!(
            driven.text(),
            "-ERR [AUTH] invalid user name or password\r\n",
            "{user:?}"
        );
        assert!(driven.events.is_empty(), "{:?}", driven.events);
        assert_eq!(server.phase(), Phase::Authorization);
        // The session goes on: a valid login works.
        let driven = host.drive(&mut server, b"USER mrose\r\nPASS tanstaaf\r\n");
        assert_eq!(server.phase(), Phase::Transaction, "{}", driven.text());
    }
    // Three failures end the session, as wrong passwords do.
    let mut server = server(ServerConfig::default());
    let driven = host().drive(
        &mut server,
        b"USER a b\r\nPASS x\r\nUSER a b\r\nPASS x\r\nUSER a b\r\nPASS x\r\n",
    );
    assert_eq!(
        driven.end,
        Some(ServerError::TooManyFailures),
        "{:?}",
        driven.events
    );
    // With check_user the host reveals names anyway: the syntax error is the answer.
    let config = ServerConfig::default().with_check_user(true);
    let (out, _) = run(config, b"USER a b\r\n");
    assert!(out.starts_with("-ERR"), "{out}");
    // USER without a name is still a syntax error.
    let (out, _) = run(ServerConfig::default(), b"USER\r\n");
    assert!(out.starts_with("-ERR"), "{out}");
}

/// R2449-1: the default line limit is 512 octets, as servers in the field read a
/// 256-octet `LIST 000...1`; past 512 the line is refused and the next one read.
#[test]
fn r2449_1_default_limit_reads_longer_lines() {
    let config = ServerConfig::default();
    assert_eq!(config.max_command_line, 512);
    let mut input = b"USER mrose\r\nPASS tanstaaf\r\nLIST ".to_vec();
    input.extend(std::iter::repeat_n(b'0', 248));
    input.extend_from_slice(b"1\r\nLIST ");
    input.extend(std::iter::repeat_n(b'0', 505));
    input.extend_from_slice(b"1\r\nSTAT\r\n");
    let (out, _) = run(config, &input);
    let lines: Vec<&str> = out.split_terminator("\r\n").collect();
    assert_eq!(lines[2], "+OK 1 22", "{out}");
    assert!(lines[3].starts_with("-ERR"), "{out}");
    assert_eq!(lines[4], "+OK 2 44", "{out}");
}

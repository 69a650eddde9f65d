//! Whole sessions of the client machine against the server machine, in memory.
//! TV-1, TV-3 and TV-4 check the server's exact bytes given the same maildrop.

use pop3_proto::client::{ClientConfig, Event};
use pop3_proto::secret::Secret;
use pop3_proto::server::ServerConfig;
use pop3_proto::types::{Command, MessageNumber, Password, Text, Username};
use pop3_proto_tests::{MemoryHost, Pair, TV1_MSG1, TV1_MSG2};
use sha2::{Digest, Sha256};

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn tv_server_config() -> ServerConfig {
    ServerConfig::default()
        .with_apop(true)
        .with_pipelining(false)
        .with_signoff(Text::new("dewey POP3 server signing off").unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tv1_session(byte_at_a_time: bool) {
    let mut pair = Pair::new(
        ClientConfig::default(),
        tv_server_config(),
        "POP3 server ready",
        MemoryHost::tv1(),
    );
    pair.byte_at_a_time = byte_at_a_time;
    pair.run();
    let secret = Secret::new(b"tanstaaf".to_vec());
    pair.client
        .apop(Username::new("mrose").unwrap(), &secret)
        .unwrap();
    pair.run();
    pair.client.send(Command::Stat).unwrap();
    pair.run();
    pair.client.send(Command::List(None)).unwrap();
    pair.run();
    let r1 = pair.client.send(Command::Retr(n(1))).unwrap();
    pair.run();
    pair.client.send(Command::Dele(n(1))).unwrap();
    pair.run();
    let r2 = pair.client.send(Command::Retr(n(2))).unwrap();
    pair.run();
    pair.client.send(Command::Dele(n(2))).unwrap();
    pair.run();
    pair.client.send(Command::Quit).unwrap();
    pair.run();

    let expected_server: &[u8] = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n+OK 2 320\r\n+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n+OK 120 octets\r\nFrom: a@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: one\r\n\r\nHello.\r\nThis is message one, padded to 120 octets!!!!\r\n.\r\n+OK message 1 deleted\r\n+OK 200 octets\r\nFrom: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n..leading dot line\r\n..\r\n...two dots\r\nDone.\r\n.\r\n+OK message 2 deleted\r\n+OK dewey POP3 server signing off (maildrop empty)\r\n";
    let expected_client: &[u8] = b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nRETR 2\r\nDELE 2\r\nQUIT\r\n";
    assert_eq!(
        String::from_utf8_lossy(&pair.server_wrote),
        String::from_utf8_lossy(expected_server)
    );
    assert_eq!(pair.server_wrote, expected_server);
    assert_eq!(pair.client_wrote, expected_client);
    // TV-1 checks (docs/conformance.md): 623 and 95 octets, and their SHA-256.
    assert_eq!(pair.server_wrote.len(), 623);
    assert_eq!(pair.client_wrote.len(), 95);
    assert_eq!(
        hex(&Sha256::digest(&pair.server_wrote)),
        "507aecfd877711c3a96a94087ece87dfb965f799dc38e570ed1218bd00bf6f43"
    );
    assert_eq!(
        hex(&Sha256::digest(&pair.client_wrote)),
        "b49710202738d819a2b5574c20dfe53579f516b79fae587d72820f17a8317d28"
    );
    assert_eq!(pair.body(r1), TV1_MSG1);
    assert_eq!(pair.body(r2), TV1_MSG2);
    assert_eq!(pair.body(r2).len(), 200);
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
    // R1939-21: both removed at QUIT in TRANSACTION.
    assert_eq!(
        pair.host.removed,
        vec![("mrose".to_string(), 0), ("mrose".to_string(), 1)]
    );
    assert!(matches!(
        pair.client_events.last(),
        Some(Event::Closed { .. })
    ));
}

#[test]
fn tv1_rfc1939_session_pair_whole_chunks() {
    tv1_session(false);
}

#[test]
fn tv1_rfc1939_session_pair_byte_at_a_time() {
    tv1_session(true);
}

#[test]
fn tv4_user_pass_dele_rset_noop_quit() {
    let mut config = tv_server_config();
    config.apop = false;
    config.check_user = true;
    let mut host = MemoryHost::tv1();
    host.user_replies
        .insert("mrose".into(), Ok("mrose is a real hoopy frood".into()));
    host.user_replies.insert(
        "frated".into(),
        Err("sorry, no mailbox for frated here".into()),
    );
    host.locked_text = Some("maildrop already locked".into());
    host.locked.push("mrose".into()); // the first PASS meets a locked maildrop
    let mut pair = Pair::new(ClientConfig::default(), config, "POP3 server ready", host);
    pair.run();
    for c in [
        Command::User(Username::new("frated").unwrap()),
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("tanstaaf").unwrap()),
    ] {
        pair.client.send(c).unwrap();
        pair.run();
    }
    pair.host.locked.clear();
    for c in [
        Command::User(Username::new("mrose").unwrap()),
        Command::Pass(Password::new("tanstaaf").unwrap()),
        Command::Dele(n(1)),
        Command::Dele(n(2)),
        Command::Dele(n(2)),
        Command::Noop,
        Command::Rset,
        Command::Quit,
    ] {
        pair.client.send(c).unwrap();
        pair.run();
    }
    // Every server line of TV-4, in order (TV-4 elides the first DELE 2).
    let expected: &[u8] = b"+OK POP3 server ready\r\n\
-ERR sorry, no mailbox for frated here\r\n\
+OK mrose is a real hoopy frood\r\n\
-ERR maildrop already locked\r\n\
+OK mrose is a real hoopy frood\r\n\
+OK mrose's maildrop has 2 messages (320 octets)\r\n\
+OK message 1 deleted\r\n\
+OK message 2 deleted\r\n\
-ERR message 2 already deleted\r\n\
+OK\r\n\
+OK maildrop has 2 messages (320 octets)\r\n\
+OK dewey POP3 server signing off (2 messages left)\r\n";
    assert_eq!(
        String::from_utf8_lossy(&pair.server_wrote),
        String::from_utf8_lossy(expected)
    );
    // RSET cleared the marks: nothing removed.
    assert!(pair.host.removed.is_empty());
    assert!(pair.client_errors.is_empty(), "{:?}", pair.client_errors);
}

//! The client machine against scripted server bytes: the test vectors (TV-1,
//! the session of RFC 1939 §10, and TV-3 to TV-8) replayed byte for byte, each once with the
//! server's bytes all at once and once one byte at a time, checking the bytes the
//! client writes and the events it gives.

use pop3_proto::client::{ClientConfig, Phase};
use pop3_proto::sasl::{decode_base64, PlainClient, XOAuth2Client};
use pop3_proto::types::{Command, LanguageRange, MessageNumber, Password, Username};
use pop3_proto::StartTls as _;
use pop3_proto_tests::script::{body, check, Act, Step, TestMechanism};
use pop3_proto_tests::{TV1_MSG1, TV1_MSG2};
use sha2::{Digest, Sha256};

fn n(x: u32) -> MessageNumber {
    MessageNumber::new(x).unwrap()
}

fn user(name: &str) -> Command {
    Command::User(Username::new(name).unwrap())
}

fn pass(p: &str) -> Command {
    Command::Pass(Password::new(p).unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(text: &str) -> Vec<u8> {
    decode_base64(text.as_bytes()).unwrap()
}

const GREETING: &str = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";
const MSG2_WIRE: &[u8] = b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n..leading dot line\r\n..\r\n...two dots\r\nDone.\r\n";
const MSG2_HEAD: &[u8] =
    b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\n";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A session logged in with USER/PASS, as the first three steps of a script.
fn login() -> Vec<Step> {
    vec![
        Step::server_first("+OK POP3 server ready\r\n")
            .expect(["greeting apop=false +OK POP3 server ready"]),
        Step::send(user("mrose"))
            .client("USER mrose\r\n")
            .server("+OK mrose is a real hoopy frood\r\n")
            .expect(["#0 +OK mrose is a real hoopy frood"]),
        Step::send(pass("tanstaaf"))
            .client("PASS tanstaaf\r\n")
            .server("+OK mrose's maildrop has 2 messages (320 octets)\r\n")
            .expect(["#1 +OK mrose's maildrop has 2 messages (320 octets)"]),
    ]
}

// ----- TV-1 -----

fn tv1_script() -> Vec<Step> {
    vec![
        Step::server_first(GREETING)
            .expect(["greeting apop=true +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"]),
        Step::new(Act::Apop("mrose", b"tanstaaf"))
            .client("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")
            .server("+OK mrose's maildrop has 2 messages (320 octets)\r\n")
            .expect(["#0 +OK mrose's maildrop has 2 messages (320 octets)"]),
        Step::send(Command::Stat)
            .client("STAT\r\n")
            .server("+OK 2 320\r\n")
            .expect(["#1 stat 2 320"]),
        Step::send(Command::List(None))
            .client("LIST\r\n")
            .server("+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n")
            .expect(["#2 list [1 120, 2 200]"]),
        Step::send(Command::Retr(n(1)))
            .client("RETR 1\r\n")
            .server(cat(&[b"+OK 120 octets\r\n", TV1_MSG1, b".\r\n"]))
            .expect([
                "#3 body-start +OK 120 octets".to_string(),
                body(3, TV1_MSG1),
                "#3 body-end 120".to_string(),
            ]),
        Step::send(Command::Dele(n(1)))
            .client("DELE 1\r\n")
            .server("+OK message 1 deleted\r\n")
            .expect(["#4 +OK message 1 deleted"]),
        Step::send(Command::Retr(n(2)))
            .client("RETR 2\r\n")
            .server(cat(&[b"+OK 200 octets\r\n", MSG2_WIRE, b".\r\n"]))
            .expect([
                "#5 body-start +OK 200 octets".to_string(),
                body(5, TV1_MSG2),
                "#5 body-end 200".to_string(),
            ]),
        Step::send(Command::Dele(n(2)))
            .client("DELE 2\r\n")
            .server("+OK message 2 deleted\r\n")
            .expect(["#6 +OK message 2 deleted"]),
        Step::send(Command::Quit)
            .client("QUIT\r\n")
            .server("+OK dewey POP3 server signing off (maildrop empty)\r\n")
            .expect(["#7 closed +OK dewey POP3 server signing off (maildrop empty)"]),
        // The server closes after QUIT: a clean end, no error.
        Step::new(Act::ConnectionClosed),
    ]
}

#[test]
fn tv1_rfc1939_session_byte_exact_whole_and_byte_at_a_time() {
    let outcome = check(ClientConfig::default(), tv1_script);
    let client = outcome.client_wrote();
    assert_eq!(client.len(), 95);
    assert_eq!(
        hex(&Sha256::digest(&client)),
        "b49710202738d819a2b5574c20dfe53579f516b79fae587d72820f17a8317d28"
    );
    let server: Vec<u8> = tv1_script().into_iter().flat_map(|s| s.server).collect();
    assert_eq!(server.len(), 623);
    assert_eq!(
        hex(&Sha256::digest(&server)),
        "507aecfd877711c3a96a94087ece87dfb965f799dc38e570ed1218bd00bf6f43"
    );
    let retr2 = outcome.ids[6].unwrap();
    assert_eq!(outcome.body(retr2), TV1_MSG2);
    assert_eq!(outcome.client.phase(), Phase::Closed);
    assert!(outcome.client.fatal_error().is_none());
}

// ----- TV-3 -----

#[test]
fn tv3_list_uidl_top_single_and_multi_line_e1() {
    check(ClientConfig::default(), || {
        let mut s = login();
        s.extend([
            Step::send(Command::List(Some(n(2))))
                .client("LIST 2\r\n")
                .server("+OK 2 200\r\n")
                .expect(["#2 scan 2 200"]),
            Step::send(Command::List(Some(n(3))))
                .client("LIST 3\r\n")
                .server("-ERR no such message, only 2 messages in maildrop\r\n")
                .expect(["#3 -ERR no such message, only 2 messages in maildrop"]),
            Step::send(Command::Uidl(None))
                .client("UIDL\r\n")
                .server("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n")
                .expect(["#4 uidl [1 whqtswO00WBw418f9t5JxYwZ, 2 QhdPYR:00WBw1Ph7x7]"]),
            Step::send(Command::Uidl(Some(n(2))))
                .client("UIDL 2\r\n")
                .server("+OK 2 QhdPYR:00WBw1Ph7x7\r\n")
                .expect(["#5 uid 2 QhdPYR:00WBw1Ph7x7"]),
            Step::send(Command::Uidl(Some(n(3))))
                .client("UIDL 3\r\n")
                .server("-ERR no such message, only 2 messages in maildrop\r\n")
                .expect(["#6 -ERR no such message, only 2 messages in maildrop"]),
            // E-1: -ERR to a multi-line command is one line; the next reply is read
            // as a status line.
            Step::send(Command::Top {
                msg: n(100),
                lines: 3,
            })
            .client("TOP 100 3\r\n")
            .server("-ERR no such message\r\n")
            .expect(["#7 -ERR no such message"]),
            Step::send(Command::Top {
                msg: n(2),
                lines: 0,
            })
            .client("TOP 2 0\r\n")
            .server(cat(&[b"+OK\r\n", MSG2_HEAD, b".\r\n"]))
            .expect([
                "#8 body-start +OK".to_string(),
                body(8, MSG2_HEAD),
                format!("#8 body-end {}", MSG2_HEAD.len()),
            ]),
            Step::send(Command::Top {
                msg: n(2),
                lines: 1,
            })
            .client("TOP 2 1\r\n")
            .server(cat(&[b"+OK\r\n", MSG2_HEAD, b"Body line one.\r\n.\r\n"]))
            .expect([
                "#9 body-start +OK".to_string(),
                body(9, &cat(&[MSG2_HEAD, b"Body line one.\r\n"])),
                format!("#9 body-end {}", MSG2_HEAD.len() + 16),
            ]),
            Step::send(Command::Top {
                msg: n(2),
                lines: 99,
            })
            .client("TOP 2 99\r\n")
            .server(cat(&[b"+OK\r\n", MSG2_WIRE, b".\r\n"]))
            .expect([
                "#10 body-start +OK".to_string(),
                body(10, TV1_MSG2),
                "#10 body-end 200".to_string(),
            ]),
        ]);
        s
    });
}

#[test]
fn tv3_empty_maildrop_r1939_15() {
    check(ClientConfig::default(), || {
        let mut s = login();
        s.extend([
            Step::send(Command::List(None))
                .client("LIST\r\n")
                .server("+OK 0 messages\r\n.\r\n")
                .expect(["#2 list []"]),
            Step::send(Command::Stat)
                .client("STAT\r\n")
                .server("+OK 0 0\r\n")
                .expect(["#3 stat 0 0"]),
        ]);
        s
    });
}

// ----- TV-4 -----

#[test]
fn tv4_user_pass_dele_rset_noop_quit() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK POP3 server ready\r\n")
                .expect(["greeting apop=false +OK POP3 server ready"]),
            Step::send(user("frated"))
                .client("USER frated\r\n")
                .server("-ERR sorry, no mailbox for frated here\r\n")
                .expect(["#0 -ERR sorry, no mailbox for frated here"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK mrose is a real hoopy frood\r\n")
                .expect(["#1 +OK mrose is a real hoopy frood"]),
            Step::send(pass("secret"))
                .client("PASS secret\r\n")
                .server("-ERR maildrop already locked\r\n")
                .expect(["#2 -ERR maildrop already locked"]),
            // E-18: after a failed PASS, PASS alone is refused; USER comes again.
            Step::send(pass("secret")).expect([
                "refused WrongState { command: \"PASS\", state: \"except right after a successful USER (R1939-26)\" }",
            ]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK mrose is a real hoopy frood\r\n")
                .expect(["#3 +OK mrose is a real hoopy frood"]),
            Step::send(pass("secret"))
                .client("PASS secret\r\n")
                .server("+OK mrose's maildrop has 2 messages (320 octets)\r\n")
                .expect(["#4 +OK mrose's maildrop has 2 messages (320 octets)"]),
            Step::send(Command::Dele(n(1)))
                .client("DELE 1\r\n")
                .server("+OK message 1 deleted\r\n")
                .expect(["#5 +OK message 1 deleted"]),
            Step::send(Command::Dele(n(2)))
                .client("DELE 2\r\n")
                .server("-ERR message 2 already deleted\r\n")
                .expect(["#6 -ERR message 2 already deleted"]),
            Step::send(Command::Noop)
                .client("NOOP\r\n")
                .server("+OK\r\n")
                .expect(["#7 +OK"]),
            Step::send(Command::Rset)
                .client("RSET\r\n")
                .server("+OK maildrop has 2 messages (320 octets)\r\n")
                .expect(["#8 +OK maildrop has 2 messages (320 octets)"]),
            Step::send(Command::Quit)
                .client("QUIT\r\n")
                .server("+OK dewey POP3 server signing off (2 messages left)\r\n")
                .expect(["#9 closed +OK dewey POP3 server signing off (2 messages left)"]),
            Step::new(Act::ConnectionClosed),
        ]
    });
}

#[test]
fn tv4_quit_in_authorization() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK POP3 server ready\r\n")
                .expect(["greeting apop=false +OK POP3 server ready"]),
            Step::send(Command::Quit)
                .client("QUIT\r\n")
                .server("+OK dewey POP3 server signing off\r\n")
                .expect(["#0 closed +OK dewey POP3 server signing off"]),
            Step::send(Command::Noop).expect(["refused Closed"]),
            Step::new(Act::ConnectionClosed),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
}

// ----- TV-5 -----

const TV5_CAPA: &[u8] = b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n";

#[test]
fn tv5_capa_and_response_codes_r2449_20_r3206() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first(GREETING).expect([
                "greeting apop=true +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
            ]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server(TV5_CAPA)
                .expect([
                    "#0 capa Top, User, Sasl([Mechanism(\"CRAM-MD5\"), Mechanism(\"KERBEROS_V4\")]), RespCodes, LoginDelay { seconds: 900, per_user: false }, Pipelining, Expire { expire: Days(60), per_user: false }, Uidl, Implementation(Text(\"Shlemazle-Plotz-v302\"))",
                ]),
            Step::new(Act::Apop("mrose", b"tanstaaf"))
                .client("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")
                .server("-ERR [IN-USE] Do you have another POP session running?\r\n")
                .expect([
                    "#1 -ERR [IN-USE]{InUse} Do you have another POP session running?",
                ]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("-ERR [SYS/TEMP] try later\r\n")
                .expect(["#2 -ERR [SYS/TEMP]{SysTemp} try later"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("-ERR [sys/perm/x] broken\r\n")
                .expect(["#3 -ERR [sys/perm/x]{SysPerm} broken"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("-ERR [unclosed text\r\n")
                .expect(["#4 -ERR [unclosed text"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("-ERR [AUTH] invalid user\r\n")
                .expect(["#5 -ERR [AUTH]{Auth} invalid user"]),
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK\r\n")
                .expect(["#6 +OK"]),
            Step::send(pass("tanstaaf"))
                .client("PASS tanstaaf\r\n")
                .server("-ERR [LOGIN-DELAY] wait 900 seconds\r\n")
                .expect(["#7 -ERR [LOGIN-DELAY]{LoginDelay} wait 900 seconds"]),
            Step::new(Act::Apop("mrose", b"tanstaaf"))
                .client("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")
                .server("+OK [SYS/TEMP/DISK] logged in, disk nearly full\r\n")
                .expect([
                    "#8 +OK [SYS/TEMP/DISK]{SysTemp} logged in, disk nearly full",
                ]),
            Step::send(Command::Retr(n(1)))
                .client("RETR 1\r\n")
                .server("-ERR [UTF8] message needs UTF-8 mode\r\n")
                .expect(["#9 -ERR [UTF8]{Utf8} message needs UTF-8 mode"]),
        ]
    });
    let caps = outcome.client.capabilities().unwrap();
    assert_eq!(caps.len(), 9);
}

// ----- TV-6 -----

#[test]
fn tv6_auth_plain_initial_response_after_capa() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n")
                .expect(["#0 capa Sasl([Mechanism(\"PLAIN\"), Mechanism(\"DIGEST-MD5\"), Mechanism(\"GSSAPI\"), Mechanism(\"ANONYMOUS\")]), Implementation(Text(\"BlurdyBlurp POP3 server\"))"]),
            Step::new(Act::Auth(Box::new(
                PlainClient::new("test", b"test".to_vec())
                    .unwrap()
                    .with_authzid("test")
                    .unwrap(),
            )))
            .client("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n")
            .server("+OK Maildrop locked and ready\r\n")
            .expect(["#1 +OK Maildrop locked and ready"]),
        ]
    });
}

#[test]
fn tv6_auth_plain_without_initial_response_r5034_2() {
    // No CAPA, so no SASL listed: the initial response may not go inline; it goes
    // after the empty challenge.
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(Box::new(
                PlainClient::new("test", b"test".to_vec())
                    .unwrap()
                    .with_authzid("test")
                    .unwrap(),
            )))
            .client("AUTH PLAIN\r\ndGVzdAB0ZXN0AHRlc3Q=\r\n")
            .server("+ \r\n"),
            Step::new(Act::Nothing)
                .server("+OK Maildrop locked and ready\r\n")
                .expect(["#0 +OK Maildrop locked and ready"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Transaction);
}

#[test]
fn tv6_auth_digest_md5_server_first_and_final_empty_answer_r5034_12() {
    let c1 = "cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA==";
    let r1 = "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9InBvcC9lbHdvb2QuaW5ub3NvZnQuY29tIixyZXNwb25zZT1iMGQ1NmQyZjA1NGMyNGI2MjA3MjMyMjEwNjQ2OGRiOSxxb3A9YXV0aA==";
    let c2 = "cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==";
    assert!(String::from_utf8(b64(c1))
        .unwrap()
        .starts_with("realm=\"elwood.innosoft.com\""));
    check(ClientConfig::default(), || {
        let mech = TestMechanism::new("DIGEST-MD5")
            .exchange(b64(c1), b64(r1))
            .exchange(b64(c2), b"");
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(mech.boxed()))
                .client(format!("AUTH DIGEST-MD5\r\n{r1}\r\n"))
                .server(format!("+ {c1}\r\n")),
            Step::new(Act::Nothing)
                .client("\r\n")
                .server(format!("+ {c2}\r\n")),
            Step::new(Act::Nothing)
                .server("+OK Maildrop locked and ready\r\n")
                .expect(["#0 +OK Maildrop locked and ready"]),
        ]
    });
}

#[test]
fn tv6_auth_kerberos_v4_rfc1734_and_unknown_mechanism() {
    let r1 = "BAcAQU5EUkVXLkNNVS5FRFUAOCAsho84kLN3/IJmrMG+25a4DT+nZImJjnTNHJUtxAA+o0KPKfHEcAFs9a3CL5Oebe/ydHJUwYFdWwuQ1MWiy6IesKvjL5rL9WjXUb9MwT9bpObYLGOKi1Qh";
    check(ClientConfig::default(), || {
        let mech = TestMechanism::new("KERBEROS_V4")
            .exchange(b64("AmFYig=="), b64(r1))
            .exchange(b64("or//EoAADZI="), b64("DiAF5A4gA+oOIALuBkAAmw=="));
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(TestMechanism::new("FOOBAR").boxed()))
                .client("AUTH FOOBAR\r\n")
                .server("-ERR Unrecognized authentication type\r\n")
                .expect(["#0 -ERR Unrecognized authentication type"]),
            Step::new(Act::Auth(mech.boxed()))
                .client(format!("AUTH KERBEROS_V4\r\n{r1}\r\n"))
                .server("+ AmFYig==\r\n"),
            Step::new(Act::Nothing)
                .client("DiAF5A4gA+oOIALuBkAAmw==\r\n")
                .server("+ or//EoAADZI=\r\n"),
            Step::new(Act::Nothing)
                .server("+OK Kerberos V4 authentication successful\r\n")
                .expect(["#1 +OK Kerberos V4 authentication successful"]),
        ]
    });
}

#[test]
fn tv6_cancel_on_invalid_base64_challenge_r5034_10() {
    check(ClientConfig::default(), || {
        let mech = TestMechanism::new("X-TEST").exchange(b"", b"never sent");
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(mech.boxed()))
                .client("AUTH X-TEST\r\n*\r\n")
                .server("+ AAA=BBB\r\n")
                .expect(["error Sasl { id: CommandId(0), reason: InvalidBase64 }"]),
            Step::new(Act::Nothing)
                .server("-ERR authentication cancelled\r\n")
                .expect(["#0 -ERR authentication cancelled"]),
        ]
    });
}

#[test]
fn tv6_empty_initial_response_is_equals_sign_r5034_7() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK\r\nSASL PLAIN\r\n.\r\n")
                .expect(["#0 capa Sasl([Mechanism(\"PLAIN\")])"]),
            Step::new(Act::Auth(TestMechanism::new("PLAIN").initial(b"").boxed()))
                .client("AUTH PLAIN =\r\n")
                .server("-ERR bad credentials\r\n")
                .expect(["#1 -ERR bad credentials"]),
        ]
    });
}

// ----- TV-7 -----

#[test]
fn tv7_oauthbearer_error_flow_r7628_2() {
    let ir = "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=";
    let challenge = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=";
    assert_eq!(
        b64(ir),
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=\x01\x01"
    );
    check(ClientConfig::default(), || {
        let mech = TestMechanism::new("OAUTHBEARER")
            .initial(b64(ir))
            .exchange(b64(challenge), b"\x01");
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK\r\nSASL OAUTHBEARER XOAUTH2\r\n.\r\n")
                .expect(["#0 capa Sasl([Mechanism(\"OAUTHBEARER\"), Mechanism(\"XOAUTH2\")])"]),
            Step::new(Act::Auth(mech.boxed()))
                .client(format!("AUTH OAUTHBEARER {ir}\r\nAQ==\r\n"))
                .server(format!("+ {challenge}\r\n")),
            Step::new(Act::Nothing)
                .server("-ERR [AUTH] invalid token\r\n")
                .expect(["#1 -ERR [AUTH]{Auth} invalid token"]),
        ]
    });
}

fn tv7_xoauth2(challenge: &'static str) {
    let line = "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
    check(ClientConfig::default(), || {
        let mech = XOAuth2Client::new(
            "someuser@example.com",
            b"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg".to_vec(),
        )
        .unwrap()
        .force_two_step();
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::new(Act::Auth(Box::new(mech)))
                .client(format!("AUTH XOAUTH2\r\n{line}\r\n"))
                .server(challenge),
            Step::new(Act::Nothing)
                .server("+OK User successfully authenticated.\r\n")
                .expect(["#0 +OK User successfully authenticated."]),
        ]
    });
}

#[test]
fn tv7_xoauth2_two_step_xo2() {
    tv7_xoauth2("+ \r\n");
}

#[test]
fn tv7_xoauth2_bare_plus_challenge_impl12() {
    tv7_xoauth2("+\r\n");
}

// ----- TV-8 -----

const CAPA_BEFORE_TLS: &str = "+OK List of capabilities follows\r\nSASL DIGEST-MD5 GSSAPI ANONYMOUS\r\nSTLS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n";
const CAPA_AFTER_TLS: &str = "+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n";

#[test]
fn tv8_stls_then_capability_cache_cleared_r2595_7() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server(CAPA_BEFORE_TLS)
                .expect(["#0 capa Sasl([Mechanism(\"DIGEST-MD5\"), Mechanism(\"GSSAPI\"), Mechanism(\"ANONYMOUS\")]), Stls, Implementation(Text(\"BlurdyBlurp POP3 server\"))"]),
            // PLAIN is not listed before TLS.
            Step::new(Act::Auth(Box::new(
                PlainClient::new("test", b"test".to_vec()).unwrap(),
            )))
            .expect(["refused NotAdvertised { capability: \"SASL with this mechanism\" }"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("+OK Begin TLS negotiation\r\n")
                .expect(["#1 start-tls"]),
            // R2595-3: nothing goes out before the handshake is over.
            Step::send(Command::Capa).expect(["refused MustWait"]),
            Step::new(Act::TlsEstablished),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server(CAPA_AFTER_TLS)
                .expect(["#2 capa Sasl([Mechanism(\"PLAIN\"), Mechanism(\"DIGEST-MD5\"), Mechanism(\"GSSAPI\"), Mechanism(\"ANONYMOUS\")]), Implementation(Text(\"BlurdyBlurp POP3 server\"))"]),
            Step::send(Command::Stls).expect([
                "refused StlsNotAllowed { reason: \"TLS is already active\" }",
            ]),
            Step::new(Act::Auth(Box::new(
                PlainClient::new("test", b"test".to_vec())
                    .unwrap()
                    .with_authzid("test")
                    .unwrap(),
            )))
            .client("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n")
            .server("+OK Maildrop locked and ready\r\n")
            .expect(["#3 +OK Maildrop locked and ready"]),
        ]
    });
    assert!(outcome.client.is_tls());
    assert!(!outcome.client.has_capability(b"STLS"));
}

#[test]
fn tv8_stls_refused_by_server() {
    check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("-ERR Command not permitted when TLS active\r\n")
                .expect(["#0 -ERR Command not permitted when TLS active"]),
            // The session goes on in the clear.
            Step::send(Command::Lang(Some(LanguageRange::new("*").unwrap())))
                .client("LANG *\r\n")
                .server("+OK es Idioma cambiado\r\n")
                .expect(["#1 language es"]),
        ]
    });
}

#[test]
fn tv8_stls_injection_is_an_error_impl13() {
    let outcome = check(ClientConfig::default(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("+OK Begin TLS negotiation\r\n+OK injected\r\n")
                .expect(["#0 start-tls", "error DataAfterStls"]),
            // The handshake cannot revive the session, and the injected line was
            // never taken as a reply.
            Step::new(Act::TlsEstablished),
            Step::send(Command::Capa).expect(["refused Closed"]),
        ]
    });
    assert_eq!(outcome.client.phase(), Phase::Closed);
    assert!(!outcome.client.is_tls());
}

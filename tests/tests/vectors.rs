//! Test vectors TV-2 to TV-8, the LANG examples of RFC 6856 §3, the XTND
//! examples of §12 and the edge cases of §14, one line at a time: each line parses
//! to the expected value and encodes back to the same bytes.

use pop3_proto::encode::{Encode, MultiLine};
use pop3_proto::error::{NumberError, ParseError};
use pop3_proto::options::{CommandOptions, ReplyOptions};
use pop3_proto::types::{
    ApopDigest, AuthResponse, Base64Text, Capability, CodeKind, Command, Continuation, DropListing,
    Expire, Greeting, GroupListing, GroupName, InitialResponse, LanguageListing, LanguageRange,
    LanguageTag, Mechanism, MessageNumber, Param, ResponseCode, ScanListing, Status, StatusLine,
    Text, UidListing, UniqueId, Username, Xtnd,
};

fn line(wire: &[u8]) -> &[u8] {
    wire.strip_suffix(b"\r\n").expect("vector ends in CRLF")
}

fn n(n: u32) -> MessageNumber {
    MessageNumber::new(n).unwrap()
}

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

/// Parses a client command line and checks it encodes back to the same bytes.
fn cmd(wire: &[u8]) -> Command {
    let c = Command::parse(line(wire)).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
    assert_eq!(c.to_vec(), wire, "re-encoding {c:?}");
    assert_eq!(c.encoded_len(), wire.len());
    c
}

/// Parses a status line and checks it encodes back to the same bytes.
fn status(wire: &[u8]) -> StatusLine {
    let s = StatusLine::parse(line(wire)).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
    assert_eq!(s.to_vec(), wire, "re-encoding {s:?}");
    assert_eq!(s.encoded_len(), wire.len());
    s
}

fn ok(wire: &[u8], t: &str) {
    let s = status(wire);
    assert_eq!(
        (s.status(), s.code(), s.text()),
        (Status::Ok, None, &text(t))
    );
}

fn err(wire: &[u8], t: &str) {
    let s = status(wire);
    assert_eq!(
        (s.status(), s.code(), s.text()),
        (Status::Err, None, &text(t))
    );
}

fn auth_response(wire: &[u8]) -> AuthResponse {
    let r = AuthResponse::parse(line(wire)).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
    assert_eq!(r.to_vec(), wire);
    r
}

fn continuation(wire: &[u8]) -> Continuation {
    let c = Continuation::parse(line(wire)).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
    assert_eq!(c.to_vec(), wire);
    c
}

fn b64(s: &str) -> Base64Text {
    Base64Text::new(s).unwrap()
}

fn mech(s: &str) -> Mechanism {
    Mechanism::new(s).unwrap()
}

/// Splits a multi-line reply into its first line and body lines (no stuffed lines
/// in these vectors).
fn split_multi(wire: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let wire = wire.strip_suffix(b".\r\n").expect("terminator");
    let mut lines: Vec<&[u8]> = wire
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    assert_eq!(lines.pop(), Some(&b""[..]));
    let first = lines.remove(0);
    (first, lines)
}

// ---------------------------------------------------------------- TV-1 / TV-2

#[test]
fn tv1_greeting_with_timestamp() {
    let wire = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";
    let g = Greeting::parse(line(wire)).unwrap();
    assert_eq!(
        g.timestamp(),
        Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..])
    );
    assert_eq!(
        g.text(),
        &text("POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
    );
    assert_eq!(g.to_vec(), wire);
}

#[test]
fn tv1_session_single_lines() {
    ok(
        b"+OK mrose's maildrop has 2 messages (320 octets)\r\n",
        "mrose's maildrop has 2 messages (320 octets)",
    );
    assert_eq!(cmd(b"STAT\r\n"), Command::Stat);
    let stat = status(b"+OK 2 320\r\n");
    assert_eq!(
        DropListing::parse(stat.text().as_bytes()),
        Ok(DropListing {
            count: 2,
            size: 320
        })
    );
    assert_eq!(
        DropListing {
            count: 2,
            size: 320
        }
        .to_text(),
        text("2 320")
    );
    assert_eq!(cmd(b"LIST\r\n"), Command::List(None));
    let (first, body) = split_multi(b"+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n");
    ok(&[first, b"\r\n"].concat(), "2 messages (320 octets)");
    let scans: Vec<ScanListing> = body
        .iter()
        .map(|l| ScanListing::parse(l).unwrap())
        .collect();
    assert_eq!(
        scans,
        [
            ScanListing {
                msg: n(1),
                size: 120,
                maxima: None
            },
            ScanListing {
                msg: n(2),
                size: 200,
                maxima: None
            }
        ]
    );
    let first = StatusLine::parse(first).unwrap();
    assert_eq!(
        MultiLine::new(&first, &scans).to_vec(),
        b"+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"
    );
    assert_eq!(cmd(b"RETR 1\r\n"), Command::Retr(n(1)));
    ok(b"+OK 120 octets\r\n", "120 octets");
    assert_eq!(cmd(b"DELE 1\r\n"), Command::Dele(n(1)));
    ok(b"+OK message 1 deleted\r\n", "message 1 deleted");
    assert_eq!(cmd(b"QUIT\r\n"), Command::Quit);
    ok(
        b"+OK dewey POP3 server signing off (maildrop empty)\r\n",
        "dewey POP3 server signing off (maildrop empty)",
    );
}

#[test]
fn tv2_apop() {
    assert_eq!(
        cmd(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
        Command::Apop {
            name: Username::new("mrose").unwrap(),
            digest: ApopDigest::new("c4c9334bac560ecc979e58001b3e22fb").unwrap()
        }
    );
    ok(
        b"+OK maildrop has 1 message (369 octets)\r\n",
        "maildrop has 1 message (369 octets)",
    );
}

// ---------------------------------------------------------------------- TV-3

#[test]
fn tv3_list_uidl_top() {
    assert_eq!(cmd(b"LIST 2\r\n"), Command::List(Some(n(2))));
    let reply = status(b"+OK 2 200\r\n");
    let scan = ScanListing::parse(reply.text().as_bytes()).unwrap();
    assert_eq!(
        scan,
        ScanListing {
            msg: n(2),
            size: 200,
            maxima: None
        }
    );
    assert_eq!(scan.to_text(), text("2 200"));
    assert_eq!(cmd(b"LIST 3\r\n"), Command::List(Some(n(3))));
    err(
        b"-ERR no such message, only 2 messages in maildrop\r\n",
        "no such message, only 2 messages in maildrop",
    );

    assert_eq!(cmd(b"UIDL\r\n"), Command::Uidl(None));
    let (first, body) =
        split_multi(b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n");
    ok(&[first, b"\r\n"].concat(), "");
    let uids: Vec<UidListing> = body.iter().map(|l| UidListing::parse(l).unwrap()).collect();
    assert_eq!(
        uids,
        [
            UidListing {
                msg: n(1),
                uid: UniqueId::new("whqtswO00WBw418f9t5JxYwZ").unwrap()
            },
            UidListing {
                msg: n(2),
                uid: UniqueId::new("QhdPYR:00WBw1Ph7x7").unwrap()
            },
        ]
    );
    assert_eq!(
        MultiLine::new(&StatusLine::parse(b"+OK").unwrap(), &uids).to_vec(),
        b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"
    );

    assert_eq!(cmd(b"UIDL 2\r\n"), Command::Uidl(Some(n(2))));
    let reply = status(b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n");
    let uid = UidListing::parse(reply.text().as_bytes()).unwrap();
    assert_eq!(uid.to_text(), text("2 QhdPYR:00WBw1Ph7x7"));
    assert_eq!(cmd(b"UIDL 3\r\n"), Command::Uidl(Some(n(3))));
    assert_eq!(
        cmd(b"TOP 100 3\r\n"),
        Command::Top {
            msg: n(100),
            lines: 3
        }
    );
    err(b"-ERR no such message\r\n", "no such message");
    assert_eq!(
        cmd(b"TOP 2 0\r\n"),
        Command::Top {
            msg: n(2),
            lines: 0
        }
    );
    assert_eq!(
        cmd(b"TOP 2 1\r\n"),
        Command::Top {
            msg: n(2),
            lines: 1
        }
    );
    assert_eq!(
        cmd(b"TOP 2 99\r\n"),
        Command::Top {
            msg: n(2),
            lines: 99
        }
    );
}

#[test]
fn tv3_empty_maildrop_r1939_15() {
    ok(b"+OK 0 messages\r\n", "0 messages");
    let empty: [ScanListing; 0] = [];
    assert_eq!(
        MultiLine::new(&StatusLine::parse(b"+OK 0 messages").unwrap(), &empty).to_vec(),
        b"+OK 0 messages\r\n.\r\n"
    );
    let stat = status(b"+OK 0 0\r\n");
    assert_eq!(
        DropListing::parse(stat.text().as_bytes()),
        Ok(DropListing { count: 0, size: 0 })
    );
}

// ---------------------------------------------------------------------- TV-4

#[test]
fn tv4_user_pass_dele_rset_noop_quit() {
    assert_eq!(
        cmd(b"USER frated\r\n"),
        Command::User(Username::new("frated").unwrap())
    );
    err(
        b"-ERR sorry, no mailbox for frated here\r\n",
        "sorry, no mailbox for frated here",
    );
    assert_eq!(
        cmd(b"USER mrose\r\n"),
        Command::User(Username::new("mrose").unwrap())
    );
    ok(
        b"+OK mrose is a real hoopy frood\r\n",
        "mrose is a real hoopy frood",
    );
    let Command::Pass(pw) = cmd(b"PASS secret\r\n") else {
        panic!()
    };
    assert_eq!(pw.expose_secret(), b"secret");
    err(
        b"-ERR maildrop already locked\r\n",
        "maildrop already locked",
    );
    ok(
        b"+OK mrose's maildrop has 2 messages (320 octets)\r\n",
        "mrose's maildrop has 2 messages (320 octets)",
    );
    assert_eq!(cmd(b"DELE 2\r\n"), Command::Dele(n(2)));
    err(
        b"-ERR message 2 already deleted\r\n",
        "message 2 already deleted",
    );
    assert_eq!(cmd(b"NOOP\r\n"), Command::Noop);
    ok(b"+OK\r\n", "");
    assert_eq!(cmd(b"RSET\r\n"), Command::Rset);
    ok(
        b"+OK maildrop has 2 messages (320 octets)\r\n",
        "maildrop has 2 messages (320 octets)",
    );
    ok(
        b"+OK dewey POP3 server signing off (2 messages left)\r\n",
        "dewey POP3 server signing off (2 messages left)",
    );
    ok(
        b"+OK dewey POP3 server signing off\r\n",
        "dewey POP3 server signing off",
    );
}

// ---------------------------------------------------------------------- TV-5

#[test]
fn tv5_capa_rfc2449_example() {
    let wire: &[u8] = b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n";
    assert_eq!(cmd(b"CAPA\r\n"), Command::Capa);
    let (first, body) = split_multi(wire);
    let first = StatusLine::parse(first).unwrap();
    let caps: Vec<Capability> = body.iter().map(|l| Capability::parse(l).unwrap()).collect();
    assert_eq!(
        caps,
        [
            Capability::Top,
            Capability::User,
            Capability::Sasl(vec![mech("CRAM-MD5"), mech("KERBEROS_V4")]),
            Capability::RespCodes,
            Capability::LoginDelay {
                seconds: 900,
                per_user: false
            },
            Capability::Pipelining,
            Capability::Expire {
                expire: Expire::Days(60),
                per_user: false
            },
            Capability::Uidl,
            Capability::Implementation(text("Shlemazle-Plotz-v302")),
        ]
    );
    assert_eq!(MultiLine::new(&first, &caps).to_vec(), wire);
    assert_eq!(MultiLine::new(&first, &caps).encoded_len(), wire.len());
}

#[test]
fn tv5_in_use_code() {
    let s = status(b"-ERR [IN-USE] Do you have another POP session running?\r\n");
    assert_eq!(s.code(), Some(&ResponseCode::in_use()));
    assert_eq!(s.code().unwrap().kind(), CodeKind::InUse);
    assert_eq!(s.text(), &text("Do you have another POP session running?"));
}

#[test]
fn tv5_sys_temp_code() {
    let s = status(b"-ERR [SYS/TEMP] try later\r\n");
    let levels: Vec<&[u8]> = s
        .code()
        .unwrap()
        .levels()
        .iter()
        .map(|l| l.as_bytes())
        .collect();
    assert_eq!(levels, [&b"SYS"[..], b"TEMP"]);
    assert_eq!(s.code().unwrap().kind(), CodeKind::SysTemp);
    assert_eq!(s.text(), &text("try later"));
}

#[test]
fn tv5_sys_perm_unknown_level_kept() {
    let s = status(b"-ERR [sys/perm/x] broken\r\n");
    let code = s.code().unwrap();
    assert_eq!(code.kind(), CodeKind::SysPerm);
    let levels: Vec<&[u8]> = code.levels().iter().map(|l| l.as_bytes()).collect();
    assert_eq!(levels, [&b"sys"[..], b"perm", b"x"]);
}

#[test]
fn tv5_unclosed_bracket_is_text_impl8() {
    let s = status(b"-ERR [unclosed text\r\n");
    assert_eq!(s.code(), None);
    assert_eq!(s.text(), &text("[unclosed text"));
}

// ---------------------------------------------------------------------- TV-6

#[test]
fn tv6_rfc5034_plain_with_initial_response() {
    let wire: &[u8] = b"+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n";
    let (first, body) = split_multi(wire);
    let caps: Vec<Capability> = body.iter().map(|l| Capability::parse(l).unwrap()).collect();
    assert_eq!(
        caps,
        [
            Capability::Sasl(vec![
                mech("PLAIN"),
                mech("DIGEST-MD5"),
                mech("GSSAPI"),
                mech("ANONYMOUS")
            ]),
            Capability::Implementation(text("BlurdyBlurp POP3 server")),
        ]
    );
    assert_eq!(
        MultiLine::new(&StatusLine::parse(first).unwrap(), &caps).to_vec(),
        wire
    );
    assert_eq!(
        cmd(b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"),
        Command::Auth {
            mechanism: mech("PLAIN"),
            initial_response: Some(InitialResponse::Base64(b64("dGVzdAB0ZXN0AHRlc3Q=")))
        }
    );
    ok(
        b"+OK Maildrop locked and ready\r\n",
        "Maildrop locked and ready",
    );
}

#[test]
fn tv6_plain_without_initial_response() {
    assert_eq!(
        cmd(b"AUTH PLAIN\r\n"),
        Command::Auth {
            mechanism: mech("PLAIN"),
            initial_response: None
        }
    );
    assert_eq!(continuation(b"+ \r\n"), Continuation::empty());
    assert_eq!(
        auth_response(b"dGVzdAB0ZXN0AHRlc3Q=\r\n"),
        AuthResponse::Base64(b64("dGVzdAB0ZXN0AHRlc3Q="))
    );
}

#[test]
fn tv6_digest_md5() {
    assert_eq!(
        cmd(b"AUTH DIGEST-MD5\r\n"),
        Command::Auth {
            mechanism: mech("DIGEST-MD5"),
            initial_response: None
        }
    );
    let c = continuation(b"+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA==\r\n");
    assert!(c.base64().starts_with(b"cmVhbG09"));
    let r = auth_response(b"Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9InBvcC9lbHdvb2QuaW5ub3NvZnQuY29tIixyZXNwb25zZT1iMGQ1NmQyZjA1NGMyNGI2MjA3MjMyMjEwNjQ2OGRiOSxxb3A9YXV0aA==\r\n");
    assert!(matches!(r, AuthResponse::Base64(_)));
    continuation(b"+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==\r\n");
    assert_eq!(auth_response(b"\r\n"), AuthResponse::Empty);
    ok(
        b"+OK Maildrop locked and ready\r\n",
        "Maildrop locked and ready",
    );
}

#[test]
fn tv6_rfc1734_kerberos_v4() {
    assert_eq!(
        cmd(b"AUTH KERBEROS_V4\r\n"),
        Command::Auth {
            mechanism: mech("KERBEROS_V4"),
            initial_response: None
        }
    );
    assert_eq!(continuation(b"+ AmFYig==\r\n").base64(), b"AmFYig==");
    auth_response(b"BAcAQU5EUkVXLkNNVS5FRFUAOCAsho84kLN3/IJmrMG+25a4DT+nZImJjnTNHJUtxAA+o0KPKfHEcAFs9a3CL5Oebe/ydHJUwYFdWwuQ1MWiy6IesKvjL5rL9WjXUb9MwT9bpObYLGOKi1Qh\r\n");
    continuation(b"+ or//EoAADZI=\r\n");
    auth_response(b"DiAF5A4gA+oOIALuBkAAmw==\r\n");
    ok(
        b"+OK Kerberos V4 authentication successful\r\n",
        "Kerberos V4 authentication successful",
    );
    assert_eq!(
        cmd(b"AUTH FOOBAR\r\n"),
        Command::Auth {
            mechanism: mech("FOOBAR"),
            initial_response: None
        }
    );
    err(
        b"-ERR Unrecognized authentication type\r\n",
        "Unrecognized authentication type",
    );
}

#[test]
fn tv6_cancel_bad_base64_and_empty_initial_response() {
    assert_eq!(auth_response(b"*\r\n"), AuthResponse::Cancel);
    // R5034-10: the alphabet is fine, so the line parses; strict decoding (done by
    // the SASL layer) refuses the misplaced `=` and the server answers -ERR.
    assert_eq!(
        auth_response(b"AAA=BBB\r\n"),
        AuthResponse::Base64(b64("AAA=BBB"))
    );
    assert!(AuthResponse::parse(b"=AAA").is_err());
    assert!(AuthResponse::parse(b"not base64").is_err());
    assert_eq!(
        cmd(b"AUTH PLAIN =\r\n"),
        Command::Auth {
            mechanism: mech("PLAIN"),
            initial_response: Some(InitialResponse::Empty)
        }
    );
}

#[test]
fn tv6_secrets_are_redacted() {
    let c = Command::parse(b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=").unwrap();
    assert!(!format!("{c:?}").contains("dGVzd"));
    let r = AuthResponse::parse(b"dGVzdAB0ZXN0AHRlc3Q=").unwrap();
    assert!(!format!("{r:?}").contains("dGVzd"));
    let p = Command::parse(b"PASS tanstaaf").unwrap();
    assert!(!format!("{p:?}").contains("tanstaaf"));
}

// ---------------------------------------------------------------------- TV-7

#[test]
fn tv7_oauthbearer_error_flow() {
    assert_eq!(
        cmd(b"AUTH OAUTHBEARER bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=\r\n"),
        Command::Auth {
            mechanism: mech("OAUTHBEARER"),
            initial_response: Some(InitialResponse::Base64(b64("bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=")))
        }
    );
    continuation(b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=\r\n");
    assert_eq!(
        auth_response(b"AQ==\r\n"),
        AuthResponse::Base64(b64("AQ=="))
    );
}

#[test]
fn tv7_xoauth2_microsoft() {
    assert_eq!(
        cmd(b"AUTH XOAUTH2\r\n"),
        Command::Auth {
            mechanism: mech("XOAUTH2"),
            initial_response: None
        }
    );
    assert_eq!(continuation(b"+ \r\n"), Continuation::empty());
    auth_response(b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n");
    ok(
        b"+OK User successfully authenticated.\r\n",
        "User successfully authenticated.",
    );
    err(
        b"-ERR Authentication failure: unknown user name or bad password.\r\n",
        "Authentication failure: unknown user name or bad password.",
    );
}

#[test]
fn tv7_impl12_bare_plus_only_when_lenient() {
    assert_eq!(Continuation::parse(b"+"), Err(ParseError::NotContinuation));
    let lenient = ReplyOptions::default().with_bare_continuation(true);
    assert_eq!(
        Continuation::parse_with(b"+", &lenient),
        Ok(Continuation::empty())
    );
    // The encoder always writes the space.
    assert_eq!(Continuation::empty().to_vec(), b"+ \r\n");
    assert!(Continuation::parse_with(b"+OK", &lenient).is_err());
}

#[test]
fn tv7_xoauth2_encoder_vector_fits_255() {
    let c = Command::Auth {
        mechanism: mech("XOAUTH2"),
        initial_response: Some(InitialResponse::Base64(b64("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="))),
    };
    // TV-7 says 131 octets; "AUTH XOAUTH2 " (13) + 120 + CRLF (2) is 135.
    // Either way it fits in 255 (R5034-8).
    assert_eq!(c.encoded_len(), 135);
    assert!(c.encoded_len() <= 255);
}

// ---------------------------------------------------------------------- TV-8

#[test]
fn tv8_stls() {
    assert_eq!(cmd(b"STLS\r\n"), Command::Stls);
    ok(b"+OK Begin TLS negotiation\r\n", "Begin TLS negotiation");
    err(
        b"-ERR Command not permitted when TLS active\r\n",
        "Command not permitted when TLS active",
    );
    assert_eq!(Capability::parse(b"STLS"), Ok(Capability::Stls));
    assert_eq!(
        Capability::parse(b"SASL DIGEST-MD5 GSSAPI ANONYMOUS"),
        Ok(Capability::Sasl(vec![
            mech("DIGEST-MD5"),
            mech("GSSAPI"),
            mech("ANONYMOUS")
        ]))
    );
}

// -------------------------------------------------------------- §10 LANG

#[test]
fn spec10_lang_examples() {
    let range = |s: &str| Some(LanguageRange::new(s).unwrap());
    assert_eq!(cmd(b"LANG MUL\r\n"), Command::Lang(range("MUL")));
    err(b"-ERR invalid language MUL\r\n", "invalid language MUL");
    assert_eq!(cmd(b"LANG\r\n"), Command::Lang(None));
    let wire: &[u8] = b"+OK Language listing follows:\r\nen English\r\nen-boont English Boontling dialect\r\nde Deutsch\r\nit Italiano\r\nes Espanol\r\nsv Svenska\r\n.\r\n";
    let (first, body) = split_multi(wire);
    let langs: Vec<LanguageListing> = body
        .iter()
        .map(|l| LanguageListing::parse(l).unwrap())
        .collect();
    assert_eq!(
        langs[1],
        LanguageListing {
            tag: LanguageTag::new("en-boont").unwrap(),
            description: Some(text("English Boontling dialect"))
        }
    );
    assert_eq!(langs.len(), 6);
    assert_eq!(
        MultiLine::new(&StatusLine::parse(first).unwrap(), &langs).to_vec(),
        wire
    );
    assert_eq!(cmd(b"LANG es\r\n"), Command::Lang(range("es")));
    let reply = status(b"+OK es Idioma cambiado\r\n");
    let selected = LanguageListing::parse(reply.text().as_bytes()).unwrap();
    assert_eq!(selected.tag.as_bytes(), b"es");
    assert_eq!(selected.description, Some(text("Idioma cambiado")));
    assert_eq!(cmd(b"LANG uga\r\n"), Command::Lang(range("uga")));
    err(
        b"-ERR es Idioma <<UGA>> no es conocido\r\n",
        "es Idioma <<UGA>> no es conocido",
    );
    assert_eq!(cmd(b"LANG sv\r\n"), Command::Lang(range("sv")));
    ok(
        b"+OK sv Kommandot \"LANG\" lyckades\r\n",
        "sv Kommandot \"LANG\" lyckades",
    );
    assert_eq!(cmd(b"LANG *\r\n"), Command::Lang(range("*")));
}

// -------------------------------------------------------------- §12 XTND

#[test]
fn spec12_xtnd_bboards_listing() {
    assert_eq!(cmd(b"XTND BBOARDS\r\n"), Command::Xtnd(Xtnd::Bboards(None)));
    let wire: &[u8] = b"+OK XTND\r\nsystem 10\r\nmh-users 100\r\n.\r\n";
    let (first, body) = split_multi(wire);
    let groups: Vec<GroupListing> = body
        .iter()
        .map(|l| GroupListing::parse(l).unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            GroupListing {
                name: GroupName::new("system").unwrap(),
                maxima: 10
            },
            GroupListing {
                name: GroupName::new("mh-users").unwrap(),
                maxima: 100
            },
        ]
    );
    assert_eq!(
        MultiLine::new(&StatusLine::parse(first).unwrap(), &groups).to_vec(),
        wire
    );
}

#[test]
fn spec12_r1082_7_spaced_ok_only_lenient() {
    assert_eq!(
        cmd(b"XTND BBOARDS system\r\n"),
        Command::Xtnd(Xtnd::Bboards(Some(Param::new("system").unwrap())))
    );
    assert_eq!(
        StatusLine::parse(b"+ OK XTND"),
        Err(ParseError::UnknownStatus)
    );
    let lenient = ReplyOptions::default().with_spaced_status(true);
    let s = StatusLine::parse_with(b"+ OK XTND", &lenient).unwrap();
    assert!(s.is_ok());
    assert_eq!(s.text(), &text("XTND"));
    // Re-encoded in the strict form (IMPL-15).
    assert_eq!(s.to_vec(), b"+OK XTND\r\n");
}

#[test]
fn spec12_xtnd_other_subcommands() {
    assert_eq!(
        cmd(b"XTND ARCHIVE system\r\n"),
        Command::Xtnd(Xtnd::Archive(Param::new("system").unwrap()))
    );
    assert_eq!(
        cmd(b"XTND X-BBOARDS system\r\n"),
        Command::Xtnd(Xtnd::XBboards(Param::new("system").unwrap()))
    );
    let Command::Xtnd(Xtnd::Other(x)) = cmd(b"XTND XMIT\r\n") else {
        panic!()
    };
    assert_eq!(x.keyword().as_bytes(), b"XMIT");
    let bboard = ReplyOptions::default().with_bboard_scan(true);
    assert_eq!(
        ScanListing::parse_with(b"1 120 10", &bboard),
        Ok(ScanListing {
            msg: n(1),
            size: 120,
            maxima: Some(10)
        })
    );
}

// -------------------------------------------------------------- §14 E-cases

#[test]
fn e8_no_text_after_status() {
    let s = status(b"+OK\r\n");
    assert!(s.is_ok() && s.text().is_empty());
    let s = status(b"-ERR\r\n");
    assert!(s.is_err() && s.text().is_empty());
    assert!(Greeting::parse(b"+OK").is_ok());
}

#[test]
fn e9_case_insensitive_keywords_tags_codes_mechanisms() {
    assert_eq!(Command::parse(b"stat"), Ok(Command::Stat));
    assert_eq!(Command::parse(b"Uidl 1"), Ok(Command::Uidl(Some(n(1)))));
    let auth = Command::parse(b"auth plain dGVzdA==").unwrap();
    // Encoders send upper-case keywords and mechanisms; base64 keeps its case.
    assert_eq!(auth.to_vec(), b"AUTH PLAIN dGVzdA==\r\n");
    assert_eq!(Capability::parse(b"pipelining"), Ok(Capability::Pipelining));
    assert_eq!(
        Capability::parse(b"Expire Never User"),
        Ok(Capability::Expire {
            expire: Expire::Never,
            per_user: true
        })
    );
    let s = StatusLine::parse(b"-ERR [in-use] busy").unwrap();
    assert_eq!(s.code().unwrap().kind(), CodeKind::InUse);
    // IMPL-19: lower-case status only in lenient mode.
    assert_eq!(StatusLine::parse(b"+ok"), Err(ParseError::UnknownStatus));
    let lenient = ReplyOptions::default().with_lowercase_status(true);
    assert_eq!(
        StatusLine::parse_with(b"-err nope", &lenient)
            .unwrap()
            .status(),
        Status::Err
    );
}

#[test]
fn e11_greeting_and_pass_with_spaces() {
    let g = Greeting::parse(b"+OK dewey POP3 server ready, say hello").unwrap();
    assert_eq!(g.text(), &text("dewey POP3 server ready, say hello"));
    assert_eq!(g.timestamp(), None);
    assert_eq!(
        Greeting::parse(b"-ERR go away"),
        Err(ParseError::NegativeGreeting)
    );
    let Ok(Command::Pass(pw)) = Command::parse(b"PASS correct horse battery staple") else {
        panic!()
    };
    assert_eq!(pw.expose_secret(), b"correct horse battery staple");
}

#[test]
fn r1939_26_pass_keeps_spaces() {
    let Command::Pass(pw) = cmd(b"PASS  two  spaces \r\n") else {
        panic!()
    };
    assert_eq!(pw.expose_secret(), b" two  spaces ");
    let Command::Pass(pw) = cmd(b"PASS \r\n") else {
        panic!()
    };
    assert_eq!(pw.expose_secret(), b"");
    assert_eq!(
        Command::parse(b"PASS"),
        Err(ParseError::MissingArgument { what: "PASS" })
    );
}

#[test]
fn e12_message_number_range() {
    let bad = |line: &[u8], reason| {
        assert!(
            matches!(Command::parse(line), Err(ParseError::BadNumber { reason: r, .. }) if r == reason),
            "{line:?}: {:?}",
            Command::parse(line)
        )
    };
    bad(b"RETR 0", NumberError::Zero);
    bad(b"DELE 000", NumberError::Zero);
    bad(b"RETR +1", NumberError::NotDecimal);
    bad(b"RETR -1", NumberError::NotDecimal);
    bad(b"RETR 1x", NumberError::NotDecimal);
    bad(b"LIST 4294967296", NumberError::TooLarge);
    bad(b"TOP 1 99999999999999999999999", NumberError::TooLarge);
    bad(b"TOP 1 -1", NumberError::NotDecimal);
    assert_eq!(Command::parse(b"RETR 007"), Ok(Command::Retr(n(7))));
    assert_eq!(
        Command::parse(b"LIST 4294967295"),
        Ok(Command::List(Some(n(u32::MAX))))
    );
    assert_eq!(
        Command::parse(b"TOP 1 0"),
        Ok(Command::Top {
            msg: n(1),
            lines: 0
        })
    );
}

#[test]
fn e13_argument_count() {
    assert_eq!(
        Command::parse(b"STAT 1"),
        Err(ParseError::ExtraArgument {
            what: "STAT",
            offset: 5
        })
    );
    assert_eq!(
        Command::parse(b"RETR"),
        Err(ParseError::MissingArgument { what: "RETR" })
    );
    assert_eq!(
        Command::parse(b"RETR 1 2"),
        Err(ParseError::ExtraArgument {
            what: "RETR",
            offset: 7
        })
    );
    assert_eq!(
        Command::parse(b"TOP 1"),
        Err(ParseError::MissingArgument { what: "TOP" })
    );
    assert_eq!(
        Command::parse(b"USER a b"),
        Err(ParseError::ExtraArgument {
            what: "USER",
            offset: 7
        })
    );
    assert_eq!(
        Command::parse(b"APOP mrose"),
        Err(ParseError::MissingArgument { what: "APOP" })
    );
    assert_eq!(
        Command::parse(b"AUTH"),
        Err(ParseError::MissingArgument { what: "AUTH" })
    );
    assert!(Command::parse(b"AUTH PLAIN a b").is_err());
    assert!(Command::parse(b"LIST 1 2").is_err());
    assert!(Command::parse(b"UIDL 1 2").is_err());
    assert!(Command::parse(b"QUIT now").is_err());
}

#[test]
fn e24_unique_id_characters() {
    assert_eq!(
        UidListing::parse(b"1 a:+/!~").unwrap().uid,
        UniqueId::new("a:+/!~").unwrap()
    );
    let long = [b"1 ".as_slice(), &[b'x'; 71]].concat();
    assert!(UidListing::parse(&long).is_err());
    let max = [b"1 ".as_slice(), &[b'x'; 70]].concat();
    assert!(UidListing::parse(&max).is_ok());
    assert!(UidListing::parse(b"1 ").is_err());
    assert!(UidListing::parse(b"1 a\x01b").is_err());
    assert!(UidListing::parse(b"1 a\x7fb").is_err());
    assert!(UidListing::parse(b"1 caf\xc3\xa9").is_err());
}

#[test]
fn e27_multiple_spaces() {
    assert_eq!(
        Command::parse(b"RETR  1"),
        Err(ParseError::ExtraSpace { offset: 5 })
    );
    let lenient = CommandOptions::lenient();
    assert_eq!(
        Command::parse_with(b"RETR   1", &lenient),
        Ok(Command::Retr(n(1)))
    );
    assert_eq!(
        Command::parse_with(b"APOP  mrose   c4c9334bac560ecc979e58001b3e22fb ", &lenient),
        Command::parse(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb")
    );
    // PASS is never collapsed.
    let Ok(Command::Pass(pw)) = Command::parse_with(b"PASS  a  b", &lenient) else {
        panic!()
    };
    assert_eq!(pw.expose_secret(), b" a  b");
    // Replies: UIDL listings only in lenient mode.
    assert!(UidListing::parse(b"1  abc").is_err());
    assert!(UidListing::parse_with(b"1  abc", &ReplyOptions::lenient()).is_ok());
}

#[test]
fn forbidden_bytes_in_any_line() {
    for bad in [&b"STAT\r"[..], b"STAT\n", b"ST\0AT", b"PASS a\rb"] {
        assert!(matches!(
            Command::parse(bad),
            Err(ParseError::ForbiddenByte { .. })
        ));
    }
    assert!(matches!(
        StatusLine::parse(b"+OK a\nb"),
        Err(ParseError::ForbiddenByte {
            byte: b'\n',
            offset: 5
        })
    ));
    assert!(matches!(
        Capability::parse(b"TOP\r"),
        Err(ParseError::ForbiddenByte { .. })
    ));
    assert!(matches!(
        AuthResponse::parse(b"AQ==\0"),
        Err(ParseError::ForbiddenByte { .. })
    ));
    assert!(matches!(
        Continuation::parse(b"+ AQ==\n"),
        Err(ParseError::ForbiddenByte { .. })
    ));
}

#[test]
fn capability_catalogue_spec_4_2() {
    for (line, cap) in [
        (&b"TOP"[..], Capability::Top),
        (b"USER", Capability::User),
        (b"RESP-CODES", Capability::RespCodes),
        (
            b"LOGIN-DELAY 900 USER",
            Capability::LoginDelay {
                seconds: 900,
                per_user: true,
            },
        ),
        (b"PIPELINING", Capability::Pipelining),
        (
            b"EXPIRE NEVER",
            Capability::Expire {
                expire: Expire::Never,
                per_user: false,
            },
        ),
        (
            b"EXPIRE 5 USER",
            Capability::Expire {
                expire: Expire::Days(5),
                per_user: true,
            },
        ),
        (
            b"EXPIRE 0",
            Capability::Expire {
                expire: Expire::Days(0),
                per_user: false,
            },
        ),
        (b"UIDL", Capability::Uidl),
        (
            b"IMPLEMENTATION any text",
            Capability::Implementation(text("any text")),
        ),
        (b"STLS", Capability::Stls),
        (b"AUTH-RESP-CODE", Capability::AuthRespCode),
        (b"UTF8", Capability::Utf8 { user: false }),
        (b"UTF8 USER", Capability::Utf8 { user: true }),
        (b"LANG", Capability::Lang),
        (b"SASL PLAIN", Capability::Sasl(vec![mech("PLAIN")])),
    ] {
        assert_eq!(Capability::parse(line).as_ref(), Ok(&cap), "{line:?}");
        assert_eq!(cap.to_vec(), [line, b"\r\n"].concat());
    }
    let Ok(Capability::Other(x)) = Capability::parse(b"X-TENSION a  b") else {
        panic!()
    };
    assert_eq!(
        (x.tag(), x.args().map(Text::as_bytes)),
        (&b"X-TENSION"[..], Some(&b"a  b"[..]))
    );
    assert_eq!(Capability::Other(x).to_vec(), b"X-TENSION a  b\r\n");
}

#[test]
fn response_code_round_trip() {
    for wire in [
        &b"-ERR [LOGIN-DELAY] wait\r\n"[..],
        b"-ERR [AUTH] bad credentials\r\n",
        b"-ERR [UTF8]\r\n",
        b"+OK [X-VENDOR/A/B] text [not a code]\r\n",
    ] {
        status(wire);
    }
    assert_eq!(
        StatusLine::new(Status::Err, Some(ResponseCode::auth()), text("no"))
            .unwrap()
            .to_vec(),
        b"-ERR [AUTH] no\r\n"
    );
    // A text that would read as a code must be given as a code.
    assert!(StatusLine::new(Status::Err, None, text("[AUTH] no")).is_err());
}

//! The rest of the POP family on the server machine: RFC 1082 XTND bulletin
//! boards, RFC 6856 UTF8 and LANG, the [UTF8] response code.

use bytes::Bytes;
use pop3_proto::server::{MessageInfo, Refusal, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{
    Command, GroupListing, GroupName, LanguageTag, MessageNumber, Text, UniqueId, Xtnd,
};
use pop3_proto::Machine;
use pop3_proto_tests::MachineExt;

fn info(size: u64, uid: &str) -> MessageInfo {
    MessageInfo {
        size,
        uid: UniqueId::new(uid).unwrap(),
    }
}

fn drain(server: &mut Server) -> Vec<u8> {
    server.take_all()
}

/// A server logged in as "u" with two messages, greeting already taken.
fn logged_in(config: ServerConfig) -> Server {
    let mut s = Server::new(config, Text::new("ready").unwrap(), None);
    s.enqueue_all(b"USER u\r\nPASS p\r\n");
    let Ok(Some(ServerEvent::Login { .. })) = s.next_event() else {
        panic!("login event")
    };
    s.accept_login(vec![info(120, "a"), info(200, "b")], None)
        .unwrap();
    assert_eq!(s.next_event(), Ok(None));
    drain(&mut s);
    s
}

fn group(name: &str, maxima: u64) -> GroupListing {
    GroupListing {
        name: GroupName::new(name).unwrap(),
        maxima,
    }
}

#[test]
fn r1082_4_xtnd_bboards_listing_exact() {
    let mut s = logged_in(ServerConfig::default().with_extensions(true));
    s.enqueue_all(b"XTND BBOARDS\r\n");
    match s.next_event() {
        Ok(Some(ServerEvent::Extension {
            command: Command::Xtnd(Xtnd::Bboards(None)),
        })) => {}
        other => panic!("{other:?}"),
    }
    s.reply_groups(&[group("system", 10), group("mh-users", 100)])
        .unwrap();
    // The RFC 1082 example, as bytes.
    assert_eq!(
        drain(&mut s),
        b"+OK XTND\r\nsystem 10\r\nmh-users 100\r\n.\r\n"
    );
}

#[test]
fn r1082_4_opening_a_bboard_lists_maxima_and_is_read_only() {
    let mut s = logged_in(ServerConfig::default().with_extensions(true));
    // The user marks message 1 of their own maildrop, then opens a group.
    s.enqueue_all(b"DELE 1\r\nXTND BBOARDS system\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Extension {
            command: Command::Xtnd(Xtnd::Bboards(Some(_)))
        }))
    ));
    let closed = s
        .open_group(
            &group("system", 10),
            vec![info(300, "g1"), info(400, "g2")],
            vec![9, 10],
        )
        .unwrap();
    // R1082-4: the deletions of the user's own maildrop are applied on closing it.
    assert_eq!(closed, vec![MessageNumber::new(1).unwrap()]);
    assert_eq!(
        drain(&mut s),
        b"+OK message 1 deleted\r\n+OK XTND\r\nsystem 10\r\n.\r\n"
    );
    s.enqueue_all(b"LIST\r\nLIST 2\r\nDELE 1\r\nSTAT\r\n");
    assert_eq!(s.next_event(), Ok(None));
    assert_eq!(
        drain(&mut s),
        b"+OK 2 messages (700 octets)\r\n1 300 9\r\n2 400 10\r\n.\r\n+OK 2 400 10\r\n+OK bulletin board is read-only, nothing deleted\r\n+OK 2 700\r\n"
    );
    // QUIT removes nothing from the group.
    s.enqueue_all(b"QUIT\r\n");
    match s.next_event() {
        Ok(Some(ServerEvent::Update { deleted })) => assert!(deleted.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r1082_6_x_bboards_reply_with_empty_lines() {
    let mut s = logged_in(ServerConfig::default().with_extensions(true));
    s.enqueue_all(b"XTND X-BBOARDS system\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Extension {
            command: Command::Xtnd(Xtnd::XBboards(_))
        }))
    ));
    let body = Bytes::from_static(b"system\r\n\r\n/var/bb/system\r\n\r\n\r\n\r\n\r\n\r\nsystem@host\r\n\r\n\r\n\r\n0 10\r\n\r\n");
    s.reply(
        pop3_proto::types::StatusLine::ok(Text::new("XTND").unwrap()).unwrap(),
        Some(body.clone()),
    )
    .unwrap();
    let mut expected = b"+OK XTND\r\n".to_vec();
    expected.extend_from_slice(&body);
    expected.extend_from_slice(b".\r\n");
    assert_eq!(drain(&mut s), expected);
}

#[test]
fn r1082_2_xtnd_only_in_transaction() {
    let mut s = Server::new(
        ServerConfig::default().with_extensions(true),
        Text::new("ready").unwrap(),
        None,
    );
    drain(&mut s);
    s.enqueue_all(b"XTND BBOARDS\r\n");
    assert_eq!(s.next_event(), Ok(None));
    assert!(drain(&mut s).starts_with(b"-ERR"));
}

#[test]
fn r6856_5_utf8_user_refuses_credentials_that_are_not_utf8() {
    let config = ServerConfig::default().with_utf8(Some(true));
    let mut s = Server::new(config, Text::new("ready").unwrap(), None);
    drain(&mut s);
    // Latin-1 "é" is not UTF-8.
    s.enqueue_all(b"USER ren\xe9\r\nPASS x\r\n");
    assert_eq!(s.next_event(), Ok(None));
    let out = drain(&mut s);
    assert!(
        out.ends_with(b"-ERR [AUTH] credentials must be valid UTF-8\r\n"),
        "{out:?}"
    );
    // UTF-8 credentials go to the host.
    s.enqueue_all("USER rené\r\nPASS pässword\r\n".as_bytes());
    match s.next_event() {
        Ok(Some(ServerEvent::Login { name, password })) => {
            assert_eq!(name.as_str(), Some("rené"));
            assert_eq!(password.expose_secret(), "pässword".as_bytes());
        }
        other => panic!("{other:?}"),
    }
    // CAPA says so.
    s.refuse_login(Refusal::bad_credentials()).unwrap();
    s.enqueue_all(b"CAPA\r\n");
    assert_eq!(s.next_event(), Ok(None));
    let out = String::from_utf8(drain(&mut s)).unwrap();
    assert!(out.contains("\r\nUTF8 USER\r\n"), "{out}");
}

#[test]
fn r6856_4_utf8_command_and_utf8_code_for_a_message_that_needs_it() {
    let mut s = Server::new(
        ServerConfig::default().with_utf8(Some(false)),
        Text::new("ready").unwrap(),
        None,
    );
    drain(&mut s);
    s.enqueue_all(b"USER u\r\nPASS p\r\nRETR 1\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    s.accept_login(vec![info(10, "a")], None).unwrap();
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Retrieve { .. }))
    ));
    // The host finds the message needs UTF-8 and the client has not sent UTF8.
    assert!(!s.is_utf8());
    s.refuse(Refusal::utf8_required()).unwrap();
    let out = drain(&mut s);
    assert!(out.ends_with(b"-ERR [UTF8] message requires UTF8 mode\r\n"));
}

#[test]
fn r6856_utf8_in_authorization_then_stls_refused() {
    let mut s = Server::new(
        ServerConfig::default()
            .with_utf8(Some(false))
            .with_stls(true),
        Text::new("ready").unwrap(),
        None,
    );
    drain(&mut s);
    s.enqueue_all(b"UTF8\r\nSTLS\r\n");
    assert_eq!(s.next_event(), Ok(None));
    assert!(s.is_utf8());
    let out = String::from_utf8(drain(&mut s)).unwrap();
    assert!(out.starts_with("+OK"));
    assert!(
        out.contains("\r\n-ERR"),
        "R6856-3: no STLS after UTF8: {out}"
    );
}

#[test]
fn r6856_6_lang_examples() {
    let languages = [
        ("en", "English"),
        ("en-boont", "English Boontling dialect"),
        ("de", "Deutsch"),
        ("it", "Italiano"),
        ("es", "Espanol"),
        ("sv", "Svenska"),
    ]
    .iter()
    .map(|(t, n)| (LanguageTag::new(*t).unwrap(), Text::new(*n).unwrap()))
    .collect();
    let mut s = Server::new(
        ServerConfig::default().with_languages(languages),
        Text::new("ready").unwrap(),
        None,
    );
    drain(&mut s);
    s.enqueue_all(b"LANG MUL\r\nLANG\r\nLANG es\r\nLANG uga\r\n");
    assert_eq!(s.next_event(), Ok(None));
    let out = String::from_utf8(drain(&mut s)).unwrap();
    let expected = "-ERR invalid language MUL\r\n\
+OK Language listing follows\r\n\
en English\r\nen-boont English Boontling dialect\r\nde Deutsch\r\nit Italiano\r\nes Espanol\r\nsv Svenska\r\n.\r\n";
    assert!(out.starts_with(expected), "{out}");
    // The selected tag comes first in the reply (R6856-6).
    assert!(out.contains("+OK es "), "{out}");
    assert!(out.ends_with("-ERR invalid language uga\r\n"), "{out}");
}

//! The rest of the POP family on the client machine: RFC 6856 UTF-8 credentials
//! and LANG, and the opt-in leniencies (RFC 1957) for servers seen in the
//! wild. Strict is the default; the encoders never produce a lenient form.

use pop3_proto::client::{Client, ClientConfig, ClientError, CommandError, Event, SendError};
use pop3_proto::encode::Encode;
use pop3_proto::options::ReplyOptions;
use pop3_proto::types::{
    Command, Continuation, LanguageRange, Password, Status, StatusLine, Text, Username,
};
use pop3_proto::Machine as _;
use pop3_proto_tests::feed_client;

fn client(config: ClientConfig, greeting: &[u8]) -> Client {
    let mut c = Client::new(config);
    let (events, errors) = feed_client(&mut c, greeting, 0);
    assert!(
        matches!(events.first(), Some(Event::Greeting { .. })),
        "{events:?}"
    );
    assert!(errors.is_empty(), "{errors:?}");
    c
}

/// A client logged in with USER/PASS, pipelining off.
fn logged_in(config: ClientConfig) -> Client {
    let mut c = client(config, b"+OK ready\r\n");
    c.send(Command::User(Username::new("u").unwrap())).unwrap();
    feed_client(&mut c, b"+OK\r\n", 0);
    c.send(Command::Pass(Password::new("p").unwrap())).unwrap();
    feed_client(&mut c, b"+OK\r\n", 0);
    let _ = c.take_output();
    c
}

fn lenient() -> ClientConfig {
    ClientConfig::default().with_reply_options(ReplyOptions::lenient())
}

#[test]
fn r6856_5_no_utf8_credentials_without_utf8_user() {
    let mut c = client(ClientConfig::default(), b"+OK ready\r\n");
    c.send(Command::Capa).unwrap();
    feed_client(&mut c, b"+OK\r\nUSER\r\nUTF8\r\n.\r\n", 0);
    let err = c.send(Command::User(Username::new("rené").unwrap()));
    assert!(
        matches!(err, Err(SendError::NotAdvertised { .. })),
        "{err:?}"
    );
    // ASCII names are fine.
    c.send(Command::User(Username::new("rene").unwrap()))
        .unwrap();
}

#[test]
fn r6856_5_utf8_credentials_with_utf8_user() {
    let mut c = client(ClientConfig::default(), b"+OK ready\r\n");
    c.send(Command::Capa).unwrap();
    feed_client(&mut c, b"+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n", 0);
    c.send(Command::User(Username::new("rené").unwrap()))
        .unwrap();
    feed_client(&mut c, b"+OK\r\n", 0);
    c.send(Command::Pass(Password::new("pässword").unwrap()))
        .unwrap();
    let out = c.take_output().unwrap();
    assert!(out.ends_with("PASS pässword\r\n".as_bytes()));
}

#[test]
fn r6856_6_lang_selection_names_the_language() {
    let mut c = client(ClientConfig::default(), b"+OK ready\r\n");
    let id = c
        .send(Command::Lang(Some(LanguageRange::new("es").unwrap())))
        .unwrap();
    let (events, _) = feed_client(&mut c, b"+OK es Idioma cambiado\r\n", 0);
    match events.as_slice() {
        [Event::Language {
            id: i, language, ..
        }] => {
            assert_eq!(*i, id);
            assert_eq!(language.tag.as_bytes(), b"es");
            assert_eq!(
                language.description.as_ref().map(|d| d.as_bytes()),
                Some(&b"Idioma cambiado"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    // A refusal keeps the previous language: a plain -ERR status.
    c.send(Command::Lang(Some(LanguageRange::new("uga").unwrap())))
        .unwrap();
    let (events, _) = feed_client(&mut c, b"-ERR es Idioma <<UGA>> no es conocido\r\n", 0);
    assert!(matches!(events.as_slice(), [Event::Status { line, .. }] if line.is_err()));
}

#[test]
fn lenient_bare_lf_line_ends() {
    // Strict: a bare LF ends no line (E-5) and the greeting is refused.
    let mut strict = Client::new(ClientConfig::default());
    let (events, errors) = feed_client(&mut strict, b"+OK ready\n", 0);
    assert!(events.is_empty());
    assert!(!errors.is_empty());
    // Lenient: accepted, and bodies come out with CRLF when asked.
    let config = ClientConfig::default()
        .with_allow_bare_lf(true)
        .with_lf_to_crlf(true);
    let mut c = client(config, b"+OK ready\n");
    c.send(Command::User(Username::new("u").unwrap())).unwrap();
    feed_client(&mut c, b"+OK\n", 0);
    c.send(Command::Pass(Password::new("p").unwrap())).unwrap();
    feed_client(&mut c, b"+OK\n", 0);
    let id = c
        .send(Command::Retr(
            pop3_proto::types::MessageNumber::new(1).unwrap(),
        ))
        .unwrap();
    let (events, errors) = feed_client(&mut c, b"+OK\nline\n..dot\n.\n", 1);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Failed { .. })),
        "{events:?}"
    );
    let body: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::BodyChunk { id: i, data } if *i == id => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(body, b"line\r\n.dot\r\n");
}

#[test]
fn lenient_status_without_space_before_text() {
    let mut strict = logged_in(ClientConfig::default());
    strict.send(Command::Noop).unwrap();
    let (_, errors) = feed_client(&mut strict, b"-ERRno such thing\r\n", 0);
    assert!(
        matches!(errors.first(), Some(ClientError::BadStatusLine { .. })),
        "{errors:?}"
    );

    let mut c = logged_in(lenient());
    c.send(Command::Noop).unwrap();
    let (events, errors) = feed_client(&mut c, b"-ERRno such thing\r\n", 0);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(events.as_slice(), [Event::Status { line, .. }] if line.is_err()));
}

#[test]
fn lenient_lowercase_status() {
    let mut strict = logged_in(ClientConfig::default());
    strict.send(Command::Noop).unwrap();
    let (_, errors) = feed_client(&mut strict, b"+ok\r\n", 0);
    assert!(!errors.is_empty());

    let mut c = logged_in(lenient());
    c.send(Command::Noop).unwrap();
    let (events, errors) = feed_client(&mut c, b"+ok\r\n", 0);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(events.as_slice(), [Event::Status { line, .. }] if line.is_ok()));
}

#[test]
fn lenient_several_spaces_in_uidl_listings() {
    let wire = b"+OK\r\n1  whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7 \r\n.\r\n";
    let mut strict = logged_in(ClientConfig::default());
    strict.send(Command::Uidl(None)).unwrap();
    let (events, errors) = feed_client(&mut strict, wire, 0);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Failed {
                error: CommandError::BadListingLine,
                ..
            }
        )),
        "{events:?}"
    );

    let mut c = logged_in(lenient());
    c.send(Command::Uidl(None)).unwrap();
    let (events, errors) = feed_client(&mut c, wire, 0);
    assert!(errors.is_empty(), "{errors:?}");
    match events.as_slice() {
        [Event::UidListing { listing, .. }] => {
            assert_eq!(listing.len(), 2);
            assert_eq!(listing[1].uid.as_bytes(), b"QhdPYR:00WBw1Ph7x7");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lenient_wordy_stat_reply() {
    let wire = b"+OK 20 Messages (1234 octets)\r\n";
    let mut strict = logged_in(ClientConfig::default());
    strict.send(Command::Stat).unwrap();
    let (events, errors) = feed_client(&mut strict, wire, 0);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Failed {
                error: CommandError::MalformedReply { .. },
                ..
            }
        )),
        "{events:?}"
    );

    let mut c = logged_in(lenient());
    c.send(Command::Stat).unwrap();
    let (events, errors) = feed_client(&mut c, wire, 0);
    assert!(errors.is_empty(), "{errors:?}");
    match events.as_slice() {
        [Event::Stat { drop, .. }] => assert_eq!((drop.count, drop.size), (20, 1234)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn impl12_plus_with_and_without_space_are_both_empty_challenges() {
    // IMPL-12: the client accepts both forms even in strict mode; the encoder
    // always writes "+ " (R5034-5).
    assert_eq!(Continuation::empty().to_vec(), b"+ \r\n");
    for challenge in [&b"+ \r\n"[..], b"+\r\n"] {
        // No CAPA, so no SASL listed: the initial response may not go inline
        // (R5034-2) and waits for the empty challenge.
        let mut c = client(ClientConfig::default(), b"+OK ready\r\n");
        let mech = pop3_proto::sasl::PlainClient::new("test", b"test".to_vec()).unwrap();
        let id = c.authenticate(Box::new(mech)).unwrap();
        assert_eq!(&c.take_output().unwrap()[..], b"AUTH PLAIN\r\n");
        let (events, errors) = feed_client(&mut c, challenge, 0);
        assert!(
            events.is_empty() && errors.is_empty(),
            "{events:?} {errors:?}"
        );
        assert_eq!(&c.take_output().unwrap()[..], b"AHRlc3QAdGVzdA==\r\n");
        let (events, _) = feed_client(&mut c, b"+OK\r\n", 0);
        assert!(
            matches!(events.as_slice(), [Event::Status { id: i, line }] if *i == id && line.is_ok())
        );
    }
}

#[test]
fn impl15_spaced_ok_only_for_xtnd_and_only_when_lenient() {
    let wire = b"+ OK XTND\r\nsystem 10\r\n.\r\n";
    let xtnd = Command::Xtnd(pop3_proto::types::Xtnd::Bboards(None));
    let mut strict = logged_in(ClientConfig::default());
    strict.send(xtnd.clone()).unwrap();
    let (events, errors) = feed_client(&mut strict, wire, 0);
    assert!(
        events.is_empty() && !errors.is_empty(),
        "{events:?} {errors:?}"
    );

    let mut c = logged_in(lenient());
    c.send(xtnd).unwrap();
    let (events, errors) = feed_client(&mut c, wire, 0);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(events.as_slice(), [Event::Groups { groups, .. }] if groups.len() == 1));
    // Not for other commands, even when lenient.
    c.send(Command::Noop).unwrap();
    let (_, errors) = feed_client(&mut c, b"+ OK\r\n", 0);
    assert!(!errors.is_empty());
}

#[test]
fn encoders_never_produce_a_lenient_form() {
    let bare = StatusLine::new(Status::Ok, None, Text::empty()).unwrap();
    assert_eq!(bare.to_vec(), b"+OK\r\n");
    let err = StatusLine::err(Text::new("no such message").unwrap()).unwrap();
    assert_eq!(err.to_vec(), b"-ERR no such message\r\n");
    let uid = pop3_proto::types::UidListing {
        msg: pop3_proto::types::MessageNumber::new(1).unwrap(),
        uid: pop3_proto::types::UniqueId::new("a").unwrap(),
    };
    assert_eq!(uid.to_vec(), b"1 a\r\n");
    let drop = pop3_proto::types::DropListing {
        count: 20,
        size: 1234,
    };
    assert_eq!(drop.to_text().as_bytes(), b"20 1234");
}

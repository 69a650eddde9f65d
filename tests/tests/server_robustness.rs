//! No input makes the server machine panic, loop or grow past its bounds,
//! whatever the split; secrets stay out of `Debug`; the greeting stays within
//! 512 octets (R1939-9).

use pop3_proto::apop::Timestamp;
use pop3_proto::server::{Phase, Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Mechanism, Text};
use pop3_proto::Machine;
use pop3_proto_tests::MachineExt;
use pop3_proto_tests::MemoryHost;
use proptest::prelude::*;

/// Pieces that reach every branch: commands in both states, SASL lines, dots,
/// stray CR/LF/NUL, long runs.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"USER mrose\r\n".to_vec()),
        Just(b"PASS tanstaaf\r\n".to_vec()),
        Just(b"PASS wrong\r\n".to_vec()),
        Just(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n".to_vec()),
        Just(b"AUTH PLAIN\r\n".to_vec()),
        Just(b"AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n".to_vec()),
        Just(b"AUTH CRAM-MD5\r\n".to_vec()),
        Just(b"*\r\n".to_vec()),
        Just(b"=\r\n".to_vec()),
        Just(b"STLS\r\n".to_vec()),
        Just(b"UTF8\r\n".to_vec()),
        Just(b"CAPA\r\n".to_vec()),
        Just(b"STAT\r\n".to_vec()),
        Just(b"LIST\r\n".to_vec()),
        Just(b"LIST 2\r\n".to_vec()),
        Just(b"UIDL 1\r\n".to_vec()),
        Just(b"RETR 1\r\n".to_vec()),
        Just(b"RETR 2\r\n".to_vec()),
        Just(b"TOP 2 3\r\n".to_vec()),
        Just(b"DELE 1\r\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"NOOP\r\n".to_vec()),
        Just(b"XTND BBOARDS\r\n".to_vec()),
        Just(b"QUIT\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\0".to_vec()),
        Just(b".".to_vec()),
        Just(vec![b'A'; 300]),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn config(variant: u8) -> ServerConfig {
    ServerConfig::default()
        .with_apop(true)
        .with_stls(variant & 1 != 0)
        .with_cleartext_requires_tls(variant & 2 != 0)
        .with_check_user(variant & 4 != 0)
        .with_allow_bare_lf(variant & 8 != 0)
        .with_lenient_spaces(variant & 16 != 0)
        .with_lf_to_crlf(variant & 32 != 0)
        .with_extensions(variant & 64 != 0)
        .with_max_failed_logins(u32::from(variant % 5))
        .with_max_sasl_line(1024)
        .with_max_buffered_input(4096)
        .with_max_pending_output(2048)
        .with_sasl(
            ["PLAIN", "CRAM-MD5"]
                .iter()
                .map(|m| Mechanism::new(*m).unwrap())
                .collect(),
        )
        .with_utf8(Some(true))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_in_any_split_never_panics_and_stays_bounded(
        pieces in proptest::collection::vec(fragment(), 0..60),
        split in 1usize..64,
        variant in any::<u8>(),
        ends in 0u8..4,
    ) {
        let input: Vec<u8> = pieces.concat();
        let ts = Timestamp::new(1, 2, "h").ok();
        let cfg = config(variant);
        let limit = cfg.max_buffered_input.max(cfg.max_sasl_line);
        let mut server = Server::new(cfg, Text::new("ready").unwrap(), ts);
        let mut host = MemoryHost::tv1();
        let whole = {
            let mut s2 = Server::new(config(variant), Text::new("ready").unwrap(), Timestamp::new(1, 2, "h").ok());
            MemoryHost::tv1().drive(&mut s2, &input)
        };
        let driven = host.drive_chunked(&mut server, &input, split);
        prop_assert!(server.buffered_input() <= limit);
        // Chunk independence: the same bytes and events whatever the split. Not
        // across STLS: what came in the same read as STLS is discarded (IMPL-13),
        // what comes in later reads is TLS input, so there the split matters.
        let tls = |events: &[ServerEvent]| events.iter().any(|e| matches!(e, ServerEvent::StartTls { .. }));
        if !tls(&driven.events) && !tls(&whole.events) {
            prop_assert_eq!(&driven.output, &whole.output);
            prop_assert_eq!(format!("{:?}", driven.events), format!("{:?}", whole.events));
        }
        let is_update = |e: &&ServerEvent| matches!(e, ServerEvent::Update { .. });
        let updates = driven.events.iter().filter(is_update).count();
        prop_assert!(updates <= 1);
        // Whatever state it is in, the host can end it, and never with an UPDATE.
        let phase = server.phase();
        match ends {
            0 => server.enqueue_eof(),
            1 => server.timeout(),
            2 => server.abort(),
            _ => {}
        }
        let mut events = Vec::new();
        while let Ok(Some(e)) = server.next_event() {
            events.push(e);
            prop_assert!(events.len() < 3);
        }
        let late_update = events.iter().any(|e| matches!(e, ServerEvent::Update { .. }));
        prop_assert!(!late_update);
        if ends < 3 && phase != Phase::Closed {
            prop_assert_eq!(server.phase(), Phase::Closed);
        }
    }
}

#[test]
fn secrets_stay_out_of_debug() {
    let mut server = Server::new(
        ServerConfig::default().with_sasl(vec![Mechanism::new("PLAIN").unwrap()]),
        Text::new("ready").unwrap(),
        None,
    );
    server.enqueue_all(b"USER mrose\r\nPASS tanstaaf\r\n");
    let login = server.next_event().unwrap().unwrap();
    let shown = format!("{login:?} {server:?}");
    assert!(!shown.contains("tanstaaf"), "{shown}");
    server
        .refuse_login(pop3_proto::server::Refusal::bad_credentials())
        .unwrap();
    server.enqueue_all(b"AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n");
    let auth = server.next_event().unwrap().unwrap();
    let shown = format!("{auth:?} {server:?}");
    assert!(
        !shown.contains("tanstaaf") && !shown.contains("mrose\\0"),
        "{shown}"
    );
}

#[test]
fn r1939_9_greeting_stays_within_512_octets() {
    let long = Text::new("g".repeat(2000)).unwrap();
    let ts = Timestamp::new(1896, 697170952, "dbc.mtview.ca.us").unwrap();
    let config = ServerConfig::default().with_apop(true);
    let mut server = Server::new(config.clone(), long.clone(), Some(ts.clone()));
    let greeting: Vec<u8> = server.take_all();
    assert_eq!(greeting.len(), 512);
    // The timestamp is kept whole, so APOP still works.
    assert!(greeting.ends_with(format!(" {}\r\n", ts.as_str()).as_bytes()));
    assert_eq!(server.timestamp(), Some(&ts));
    let short = Server::new(config, Text::new("hi").unwrap(), Some(ts)).take_all();
    assert_eq!(short, b"+OK hi <1896.697170952@dbc.mtview.ca.us>\r\n");
}

//! Regression tests for what the fuzz targets (pop3-proto-fuzz) found, one test per
//! finding, named after it.

use pop3_proto::client::{Client, ClientConfig, ClientError, Event};
use pop3_proto::server::{Server, ServerConfig, ServerEvent};
use pop3_proto::types::{Command, Text};
use pop3_proto::Machine;
use pop3_proto_tests::MachineExt;

/// server target, "a 1-octet read refused ... deadlock": with `max_buffered_input`
/// and `max_sasl_line` below `max_command_line`, a command line longer than the
/// buffer but within the line limit could never be completed: `enqueue_input`
/// refused every further octet while the framer waited for the line end. The
/// buffer now always holds at least one whole command line.
#[test]
fn fuzz_server_input_buffer_below_command_line_deadlock() {
    let config = ServerConfig::default()
        .with_max_command_line(255)
        .with_max_buffered_input(100)
        .with_max_sasl_line(100);
    let mut server = Server::new(config, Text::new("ready").unwrap(), None);
    server.take_all();
    server.enqueue_all(b"USER u\r\n");
    assert_eq!(server.next_event(), Ok(None));
    server.take_all();
    let mut line = b"PASS ".to_vec();
    line.resize(253, b'p');
    line.extend_from_slice(b"\r\n");
    for chunk in line.chunks(10) {
        server.enqueue_all(chunk);
        if let Ok(Some(event)) = server.next_event() {
            assert!(matches!(event, ServerEvent::Login { .. }), "{event:?}");
            return;
        }
    }
    panic!("the 255-octet PASS line was never read");
}

/// client target, "one byte at a time" (TV-8, IMPL-13), found on main before the
/// hardened client landed (which fixed it): plaintext that came in the same read as
/// the STLS `+OK` gave `DataAfterStls` *instead of* `StartTls`, while the same
/// bytes in two reads gave `StartTls` then `DataAfterStls`. Both splits must give
/// the same events.
#[test]
fn fuzz_client_stls_injection_same_events_in_any_split() {
    let stream: &[u8] = b"+OK Begin TLS negotiation\r\n+OK injected\r\n";
    let run = |chunks: &[&[u8]]| {
        let mut c = Client::new(ClientConfig::default());
        c.enqueue_all(b"+OK ready\r\n");
        assert!(matches!(c.next_event(), Ok(Some(Event::Greeting { .. }))));
        c.send(Command::Stls).unwrap();
        let mut seen = Vec::new();
        for chunk in chunks {
            c.enqueue_all(chunk);
            loop {
                match c.next_event() {
                    Ok(Some(e)) => seen.push(format!("{e:?}")),
                    Ok(None) => break,
                    Err(e) => {
                        seen.push(format!("{e:?}"));
                        break;
                    }
                }
            }
            if c.fatal_error().is_some() {
                break;
            }
        }
        assert!(matches!(c.fatal_error(), Some(ClientError::DataAfterStls)));
        seen
    };
    let whole = run(&[stream]);
    assert!(whole[0].starts_with("StartTls"), "{whole:?}");
    assert_eq!(run(&[&stream[..27], &stream[27..]]), whole);
    let ones: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(run(&ones), whole);
}

/// server target, "status line of 520 octets": texts from the server's
/// configuration went out uncut, so a long `signoff` made the QUIT reply (in
/// AUTHORIZATION, and after UPDATE) longer than 512 octets (R1939-9); the same
/// for a language's name in the `LANG x` reply, and for the IMPLEMENTATION
/// capability line (R2449-4). They are now cut to fit.
#[test]
fn fuzz_server_config_texts_over_512_octets() {
    use pop3_proto::types::{LanguageRange, LanguageTag};
    let long = Text::new(vec![b'z'; 600]).unwrap();
    let config = ServerConfig::default()
        .with_signoff(long.clone())
        .with_implementation(Some(long.clone()))
        .with_languages(vec![(LanguageTag::new("en").unwrap(), long.clone())]);
    let lines_fit = |out: &[u8]| {
        for line in out.split_inclusive(|&b| b == b'\n') {
            assert!(line.len() <= 512, "a line of {} octets", line.len());
        }
    };
    // QUIT in AUTHORIZATION, CAPA and LANG x.
    let mut s = Server::new(config.clone(), Text::new("ready").unwrap(), None);
    let cmd = |c: Command| {
        use pop3_proto::encode::Encode;
        c.to_vec()
    };
    let mut input = cmd(Command::Capa);
    input.extend(cmd(Command::Lang(Some(LanguageRange::new("en").unwrap()))));
    input.extend(cmd(Command::Quit));
    s.enqueue_all(&input);
    assert!(matches!(s.next_event(), Ok(Some(ServerEvent::Closed))));
    let out = s.take_all();
    lines_fit(&out);
    assert!(out.ends_with(b"zzz\r\n"));
    // QUIT after UPDATE.
    let mut s = Server::new(config, Text::new("ready").unwrap(), None);
    s.enqueue_all(b"USER u\r\nPASS p\r\nQUIT\r\n");
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Login { .. }))
    ));
    s.accept_login(Vec::new(), None).unwrap();
    assert!(matches!(
        s.next_event(),
        Ok(Some(ServerEvent::Update { .. }))
    ));
    s.update_done(Ok(())).unwrap();
    lines_fit(&s.take_all());
}

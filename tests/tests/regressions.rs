//! Regression tests for what the fuzz targets (pop3-proto-fuzz) found, one test per
//! finding, named after it.

use pop3_proto::server::{Server, ServerConfig, ServerEvent};
use pop3_proto::types::Text;

/// server target, "a 1-octet read refused ... deadlock": with `max_buffered_input`
/// and `max_sasl_line` below `max_command_line`, a command line longer than the
/// buffer but within the line limit could never be completed: `enqueue_input`
/// refused every further octet while the framer waited for the line end. The
/// buffer now always holds at least one whole command line.
#[test]
fn fuzz_server_input_buffer_below_command_line_deadlock() {
    let config = ServerConfig {
        max_command_line: 255,
        max_buffered_input: 100,
        max_sasl_line: 100,
        ..ServerConfig::default()
    };
    let mut server = Server::new(config, Text::new("ready").unwrap(), None);
    server.take_output();
    server.enqueue_input(b"USER u\r\n").unwrap();
    assert_eq!(server.next_event(), None);
    server.take_output();
    let mut line = b"PASS ".to_vec();
    line.resize(253, b'p');
    line.extend_from_slice(b"\r\n");
    for chunk in line.chunks(10) {
        server
            .enqueue_input(chunk)
            .expect("a line within max_command_line always fits");
        if let Some(event) = server.next_event() {
            assert!(matches!(event, ServerEvent::Login { .. }), "{event:?}");
            return;
        }
    }
    panic!("the 255-octet PASS line was never read");
}

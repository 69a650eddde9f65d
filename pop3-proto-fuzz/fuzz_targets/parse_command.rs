//! Server-side line parsers: `Command::parse_with` (strict and lenient) and
//! `AuthResponse::parse`, on arbitrary lines.
//!
//! Invariants: no panic; a parsed command encodes to one CRLF line with no CR, LF or
//! NUL inside, never longer than the line it came from plus CRLF, that parses back
//! (strictly) to the same command, with `encoded_len` exact; strict acceptance
//! implies lenient acceptance of the same value; the same for SASL response lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3_proto::encode::Encode;
use pop3_proto::options::CommandOptions;
use pop3_proto::types::{AuthResponse, Command};

fn check_encoding<T: Encode>(value: &T, line: &[u8]) -> Vec<u8> {
    let wire = value.to_vec();
    assert_eq!(wire.len(), value.encoded_len(), "encoded_len is exact");
    assert!(wire.ends_with(b"\r\n"));
    let inner = &wire[..wire.len() - 2];
    assert!(
        !inner.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)),
        "one line: {wire:?}"
    );
    assert!(
        inner.len() <= line.len(),
        "re-encoding {line:?} grew it to {wire:?}"
    );
    inner.to_vec()
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let strict = Command::parse(line);
        let lenient = Command::parse_with(line, &CommandOptions::lenient());
        if let Ok(command) = &strict {
            assert_eq!(
                lenient.as_ref(),
                Ok(command),
                "lenient accepts what strict does"
            );
        }
        for command in [strict, lenient].into_iter().flatten() {
            let inner = check_encoding(&command, line);
            assert_eq!(
                Command::parse(&inner),
                Ok(command.clone()),
                "round trip of {line:?} via {inner:?}"
            );
            // The keyword goes out upper case, and is the command's own.
            assert!(inner.starts_with(command.keyword()));
        }
        if let Ok(response) = AuthResponse::parse(line) {
            let inner = check_encoding(&response, line);
            assert_eq!(inner, line, "SASL lines are kept as they came");
            assert_eq!(AuthResponse::parse(&inner), Ok(response));
        }
    }
});

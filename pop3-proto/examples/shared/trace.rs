//! The protocol exchange as text, with credentials redacted: PASS arguments,
//! AUTH initial responses and every line of a SASL exchange.

use std::io::Write;

/// Prints lines of one side of a connection.
#[derive(Debug)]
pub struct Trace {
    enabled: bool,
    prefix: String,
    to_stdout: bool,
    /// Inside an AUTH exchange: client lines are credentials.
    in_sasl: bool,
    /// A client line not yet complete (reads split lines anywhere).
    partial: Vec<u8>,
}

const REDACTED: &str = "[redacted]";

impl Trace {
    /// A tracer printing to stderr (or stdout) with a prefix such as `[1] `.
    pub fn new(enabled: bool, prefix: impl Into<String>, to_stdout: bool) -> Self {
        Trace {
            enabled,
            prefix: prefix.into(),
            to_stdout,
            in_sasl: false,
            partial: Vec::new(),
        }
    }

    fn print(&self, direction: &str, text: &str) {
        let line = format!("{}{direction} {text}\n", self.prefix);
        if self.to_stdout {
            let _ = std::io::stdout().write_all(line.as_bytes());
        } else {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    /// Lines a client sent (commands and SASL responses), redacted.
    pub fn client_lines(&mut self, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            // Keep at most one line's worth of an unfinished line.
            self.partial.truncate(4096);
            return;
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        for line in split_lines(&complete) {
            let text = self.redact(line);
            self.print("C:", &text);
        }
    }

    fn redact(&mut self, line: &[u8]) -> String {
        let text = String::from_utf8_lossy(line);
        if self.in_sasl {
            return REDACTED.to_string();
        }
        let upper = text.to_ascii_uppercase();
        if upper.starts_with("PASS ") {
            return format!("PASS {REDACTED}");
        }
        if upper.starts_with("AUTH ") {
            self.in_sasl = true;
            let mut words = text.splitn(3, ' ');
            let (_, mech, ir) = (words.next(), words.next(), words.next());
            return match (mech, ir) {
                (Some(m), Some(_)) => format!("AUTH {m} {REDACTED}"),
                (Some(m), None) => format!("AUTH {m}"),
                _ => text.into_owned(),
            };
        }
        if upper.starts_with("APOP ") {
            let name = text.split(' ').nth(1).unwrap_or_default();
            return format!("APOP {name} {REDACTED}");
        }
        text.into_owned()
    }

    /// Status lines and SASL challenges a server sent.
    pub fn server_lines(&mut self, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        for line in split_lines(bytes) {
            if line.starts_with(b"+OK") || line.starts_with(b"-ERR") {
                self.in_sasl = false;
            }
            self.print("S:", &String::from_utf8_lossy(line));
        }
    }

    /// A one-line summary in place of a message body.
    pub fn body(&self, what: &str) {
        if self.enabled {
            self.print("S:", &format!("<{what}>"));
        }
    }

    /// A note that is not protocol.
    pub fn note(&self, what: &str) {
        if self.enabled {
            self.print("--", what);
        }
    }
}

fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

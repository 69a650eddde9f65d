//! Input in: reply lines read against the command outstanding, and RETR's
//! message data counted out by the announced length (R937-5).

use super::{Client, ClientError, ClientEvent, ClientPhase, Expect};
use crate::pop2::{Greeting, Reply, ReplyKind};

impl Client {
    /// One step over the input: the next event, `Ok(None)` when more input is
    /// needed (or nothing is expected), or the error that ends the session.
    pub(super) fn step(&mut self) -> Result<Option<ClientEvent>, ClientError> {
        let Some(expect) = self.expect else {
            // Nothing was asked: keep what came for the next command's reply,
            // but no more than one reply line's worth.
            if self.phase != ClientPhase::Exit && self.input.len() > self.config.max_reply_line {
                return Err(ClientError::Unsolicited {
                    buffered: self.input.len(),
                });
            }
            return Ok(None);
        };
        if let Expect::Data { remaining, total } = expect {
            return Ok(self.data(remaining, total));
        }
        let Some(line) = self.framer.next_line(&mut self.input)? else {
            return Ok(None);
        };
        let line = line.bytes;
        if expect == Expect::Greeting && line.first() != Some(&b'-') {
            let greeting = Greeting::parse(&line).map_err(ClientError::BadReply)?;
            self.greeted = true;
            self.expect = None;
            return Ok(Some(ClientEvent::Greeting(greeting)));
        }
        let (kind, text) = Reply::parse(&line)
            .map_err(ClientError::BadReply)?
            .into_parts();
        let event = match (expect, kind) {
            // R937-9: the server closes after every `-`.
            (_, ReplyKind::Err) => return Err(ClientError::Refused { text }),
            (Expect::Count, ReplyKind::Count(count)) => {
                self.count = Some(count);
                self.length = None;
                ClientEvent::Count { count, text }
            }
            (Expect::Length, ReplyKind::Length(length)) => {
                self.length = Some(length);
                ClientEvent::Length { length, text }
            }
            (Expect::Quit, ReplyKind::Ok) => {
                self.input.clear();
                ClientEvent::Closed { text }
            }
            (expect, got) => {
                let expected = match expect {
                    Expect::Greeting => "the greeting",
                    Expect::Count => "#nnn",
                    Expect::Length => "=ccc",
                    Expect::Data { .. } | Expect::Quit => "+",
                };
                return Err(ClientError::UnexpectedReply { expected, got });
            }
        };
        self.expect = None;
        Ok(Some(event))
    }

    /// RETR's message: the next piece of the `remaining` octets, as a slice of
    /// the input, then [`ClientEvent::DataEnd`].
    fn data(&mut self, remaining: u64, total: u64) -> Option<ClientEvent> {
        if remaining == 0 {
            self.expect = None;
            return Some(ClientEvent::DataEnd { size: total });
        }
        if self.input.is_empty() {
            return None;
        }
        let n = usize::try_from(remaining).map_or(self.input.len(), |r| r.min(self.input.len()));
        let data = self.input.split_to(n).freeze();
        self.expect = Some(Expect::Data {
            remaining: remaining - n as u64,
            total,
        });
        // Bytes left the buffer's front: the framer must search afresh.
        self.framer.reset();
        Some(ClientEvent::Data(data))
    }
}

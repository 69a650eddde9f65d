//! Commands out: RFC 937's client decision table, checked before a command is
//! written.

use super::{Client, ClientPhase, Expect, SendError};
use crate::encode::Encode;
use crate::pop2::Command;

impl Client {
    /// Sends a command after checking that it is valid now (RFC 937's client
    /// decision table, R937-9): HELO or QUIT after the greeting; READ, FOLD or
    /// QUIT after `#nnn`; READ, FOLD, QUIT or RETR (unless the length is 0)
    /// after `=ccc`; ACKS, ACKD or NACK once the message has come.
    pub fn send(&mut self, command: Command) -> Result<(), SendError> {
        if self.fatal.is_some() || self.quit_answered() {
            return Err(SendError::Closed);
        }
        if self.expect.is_some() {
            return Err(SendError::MustWait);
        }
        use ClientPhase::{Call, Nmbr, Size, Xfer};
        let (phase, expect) = match (self.phase, &command) {
            (Call, Command::Helo { .. }) if self.greeted => (Nmbr, Expect::Count),
            (Nmbr | Size, Command::Fold(_)) => (Nmbr, Expect::Count),
            (Nmbr | Size, Command::Read(_)) => (Size, Expect::Length),
            (Size, Command::Retr) => match self.length {
                Some(length) if length > 0 => (
                    Xfer,
                    Expect::Data {
                        remaining: length,
                        total: length,
                    },
                ),
                _ => return Err(SendError::EmptyMessage),
            },
            (Xfer, Command::Acks | Command::Ackd | Command::Nack) => (Size, Expect::Length),
            (Call | Nmbr | Size, Command::Quit) if self.greeted => {
                (ClientPhase::Exit, Expect::Quit)
            }
            (phase, command) => {
                return Err(SendError::WrongState {
                    command: command.keyword(),
                    phase,
                })
            }
        };
        command.encode(&mut self.output);
        self.phase = phase;
        self.expect = Some(expect);
        Ok(())
    }
}

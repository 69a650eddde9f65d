//! Commands in: lines framed and parsed, then RFC 937's server decision table
//! (R937-9). The machine answers what the protocol alone decides; the rest
//! becomes an event for the host.

use alloc::vec::Vec;

use super::{Awaiting, End, Server, ServerError, ServerEvent, ServerPhase};
use crate::pop2::{Command, ReplyKind};
use crate::types::MessageNumber;

impl Server {
    /// The next event: runs buffered commands until one needs the host, the
    /// input runs out, or the session ends.
    pub(super) fn run(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        loop {
            if self.phase == ServerPhase::Done {
                return self.report_end();
            }
            if self.awaiting != Awaiting::Nothing {
                return Ok(None);
            }
            let line = match self.framer.next_line(&mut self.input) {
                Ok(Some(line)) => line,
                Ok(None) if self.eof => {
                    let error = ServerError::ConnectionLost { phase: self.phase };
                    self.close(End::Error(error.clone()));
                    return Err(error);
                }
                Ok(None) => return Ok(None),
                Err(error) => return Err(self.fail(ServerError::Framing(error))),
            };
            let command = match Command::parse(&line.bytes) {
                Ok(command) => command,
                Err(error) => return Err(self.fail(ServerError::BadCommand(error))),
            };
            if let Some(event) = self.dispatch(command)? {
                return Ok(Some(event));
            }
        }
    }

    /// RFC 937's server decision table (R937-9).
    fn dispatch(&mut self, command: Command) -> Result<Option<ServerEvent>, ServerError> {
        use ServerPhase::{Auth, Item, Mbox, Next};
        let event = match (self.phase, command) {
            (Auth, Command::Helo { user, password }) => {
                self.awaiting = Awaiting::Login;
                ServerEvent::Helo { user, password }
            }
            (Auth, Command::Quit) => {
                self.sign_off();
                return self.report_end();
            }
            (Mbox | Item, Command::Fold(mailbox)) => {
                self.awaiting = Awaiting::Folder;
                ServerEvent::Fold {
                    mailbox,
                    deleted: self.deleted_list(),
                }
            }
            (Mbox | Item, Command::Read(n)) => {
                if let Some(n) = n {
                    self.current = n;
                }
                self.reply_length();
                return Ok(None);
            }
            (Mbox | Item, Command::Quit) => {
                self.awaiting = Awaiting::Quit;
                ServerEvent::Quit {
                    deleted: self.deleted_list(),
                }
            }
            (Item, Command::Retr) => {
                let size = self.size_of(self.current);
                match MessageNumber::new(self.current) {
                    Ok(msg) if size > 0 => {
                        self.awaiting = Awaiting::Message { remaining: size };
                        ServerEvent::Retrieve { msg, size }
                    }
                    _ => return Err(self.fail(ServerError::EmptyMessage)),
                }
            }
            (Next, Command::Acks) => {
                self.current = self.current.saturating_add(1);
                self.reply_length();
                return Ok(None);
            }
            (Next, Command::Ackd) => {
                let index = self
                    .current
                    .checked_sub(1)
                    .and_then(|i| usize::try_from(i).ok());
                if let Some(mark) = index.and_then(|i| self.deleted.get_mut(i)) {
                    *mark = true;
                }
                self.current = self.current.saturating_add(1);
                self.reply_length();
                return Ok(None);
            }
            (Next, Command::Nack) => {
                self.reply_length();
                return Ok(None);
            }
            (phase, command) => {
                return Err(self.fail(ServerError::UnexpectedCommand {
                    command: command.keyword(),
                    phase,
                }))
            }
        };
        Ok(Some(event))
    }

    /// The messages marked with ACKD, in order.
    fn deleted_list(&self) -> Vec<MessageNumber> {
        self.deleted
            .iter()
            .enumerate()
            .filter(|(_, &d)| d)
            .filter_map(|(i, _)| {
                let n = u32::try_from(i).ok()?.checked_add(1)?;
                MessageNumber::new(n).ok()
            })
            .collect()
    }

    /// `+ signoff`, and the session is over (QUIT).
    pub(super) fn sign_off(&mut self) {
        let signoff = self.config.signoff.clone();
        self.reply(ReplyKind::Ok, signoff.as_bytes());
        self.close(End::Quit { reported: false });
    }
}

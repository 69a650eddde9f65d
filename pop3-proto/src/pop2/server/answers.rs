//! The host's answers to the events that ask for one: a login, a folder, a
//! message's bytes, QUIT's deletions done.

use alloc::vec::Vec;

use bytes::Bytes;

use super::{AnswerError, Awaiting, End, Server, ServerError, ServerPhase};
use crate::encode::Encode;
use crate::pop2::{Reply, ReplyKind};
use crate::types::Text;

impl Server {
    /// Selects a mailbox of these message sizes and replies `#nnn`.
    fn select(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        let count = u32::try_from(sizes.len()).map_err(|_| AnswerError::TooManyMessages)?;
        self.deleted = alloc::vec![false; sizes.len()];
        self.sizes = sizes;
        self.current = 1;
        let text: &[u8] = if count == 1 {
            b"message in your mailbox"
        } else {
            b"messages in your mailbox"
        };
        self.reply(ReplyKind::Count(count), text);
        self.phase = ServerPhase::Mbox;
        self.awaiting = Awaiting::Nothing;
        Ok(())
    }

    /// Accepts the HELO: `sizes` are the lengths of the messages in the user's
    /// default mailbox, message 1 first (octets as sent, CRLF counting 2).
    /// Replies `#nnn`.
    pub fn accept_login(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Login {
            return Err(AnswerError::NotExpected("a login answer"));
        }
        self.select(sizes)
    }

    /// Refuses the HELO: replies `- text` and closes (R937-5); the session ends
    /// with [`ServerError::LoginRefused`].
    pub fn refuse_login(&mut self, text: Text) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Login {
            return Err(AnswerError::NotExpected("a login answer"));
        }
        let reply = Reply::new(ReplyKind::Err, text)?;
        reply.encode(&mut self.staging);
        self.close(End::Error(ServerError::LoginRefused));
        Ok(())
    }

    /// Answers FOLD once the released mailbox's deletions are applied: `sizes`
    /// are the lengths of the new mailbox's messages (empty when it is empty or
    /// does not exist). Replies `#nnn`.
    pub fn open_folder(&mut self, sizes: Vec<u64>) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Folder {
            return Err(AnswerError::NotExpected("a FOLD answer"));
        }
        self.select(sizes)
    }

    /// Sends the whole message for RETR: exactly the announced number of octets,
    /// written as given (no stuffing, no terminator, R937-5).
    pub fn send_message(&mut self, message: Bytes) -> Result<(), AnswerError> {
        let Awaiting::Message { remaining } = self.awaiting else {
            return Err(AnswerError::NotExpected("message data"));
        };
        let given = message.len() as u64;
        if given != remaining {
            return Err(AnswerError::WrongLength {
                expected: remaining,
                given,
            });
        }
        self.send_message_chunk(message)
    }

    /// Sends the next piece of the message for RETR. Once the announced length
    /// is reached the machine waits for ACKS, ACKD or NACK. A piece past the
    /// announced length is refused.
    pub fn send_message_chunk(&mut self, chunk: Bytes) -> Result<(), AnswerError> {
        let Awaiting::Message { remaining } = self.awaiting else {
            return Err(AnswerError::NotExpected("message data"));
        };
        let given = chunk.len() as u64;
        if given > remaining {
            return Err(AnswerError::WrongLength {
                expected: remaining,
                given,
            });
        }
        if !chunk.is_empty() {
            self.flush_staging();
            self.output.push_back(chunk);
        }
        let remaining = remaining - given;
        if remaining == 0 {
            self.awaiting = Awaiting::Nothing;
            self.phase = ServerPhase::Next;
        } else {
            self.awaiting = Awaiting::Message { remaining };
        }
        Ok(())
    }

    /// Answers QUIT once the deletions are applied: replies `+` with the
    /// configured sign-off, and the session ends with [`ServerEvent::Closed`](super::ServerEvent::Closed).
    pub fn quit_done(&mut self) -> Result<(), AnswerError> {
        if self.awaiting != Awaiting::Quit {
            return Err(AnswerError::NotExpected("a QUIT answer"));
        }
        self.sign_off();
        Ok(())
    }
}

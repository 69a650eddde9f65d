//! The server's side of the IO contract ([`Machine`], [`StartTls`]): input in,
//! events out, output out, and the end of the session.

use super::*;
use crate::dot::StuffConfig;
use crate::machine::input;

/// The output queue and its length in octets, as one [`Extend`] target for the
/// stuffer, so the length never has to be recounted.
pub(super) struct Counted<'a> {
    pub(super) queue: &'a mut VecDeque<Bytes>,
    pub(super) len: &'a mut usize,
}

impl Extend<Bytes> for Counted<'_> {
    fn extend<I: IntoIterator<Item = Bytes>>(&mut self, iter: I) {
        for bytes in iter {
            *self.len = self.len.saturating_add(bytes.len());
            self.queue.push_back(bytes);
        }
    }
}

impl Server {
    fn input_limit(&self) -> usize {
        // At least one whole line of either kind: a smaller buffer could hold a
        // partial command it may never complete (found by the server fuzz target).
        self.config
            .max_buffered_input
            .max(self.config.max_sasl_line)
            .max(self.config.max_command_line)
    }

    /// Whether input is thrown away unrun now: during the TLS handshake after
    /// STLS, during UPDATE and after the end.
    fn discards_input(&self) -> bool {
        matches!(
            self.phase,
            Phase::TlsHandshake | Phase::Closed | Phase::Update
        )
    }

    fn discard(&mut self, n: usize) {
        self.discarded = self.discarded.saturating_add(n as u64);
    }

    /// Moves the staged small lines to the output queue, before slices of a body
    /// are queued behind them.
    pub(super) fn flush_staging(&mut self) {
        if !self.staging.is_empty() {
            let bytes = self.staging.split().freeze();
            self.output_queued = self.output_queued.saturating_add(bytes.len());
            self.output.push_back(bytes);
        }
    }

    /// Hands the staged lines on as one piece once they are this long, so the
    /// staging buffer never grows (and is copied) past it.
    pub(super) const STAGING_PIECE: usize = 16 * 1024;

    /// A stuffer at the start of a message sent with `config`.
    pub(super) fn stuffer(&mut self, config: StuffConfig) -> Box<Stuffer> {
        match self.spare_stuffer.take() {
            Some(mut stuffer) => {
                stuffer.restart(config);
                stuffer
            }
            None => Box::new(Stuffer::new(config)),
        }
    }

    /// The output queue, as the stuffer's target.
    pub(super) fn counted(&mut self) -> Counted<'_> {
        Counted {
            queue: &mut self.output,
            len: &mut self.output_queued,
        }
    }

    /// Ends the session: `None` for QUIT, else the error every later
    /// [`Machine::next_event`] returns. Pending answers and input are dropped.
    pub(super) fn close(&mut self, error: Option<ServerError>) {
        self.phase = Phase::Closed;
        self.error = error;
        self.awaiting = Awaiting::Nothing;
        self.in_sasl = false;
        self.user = None;
        let buffered = self.input.len();
        self.discard(buffered);
        self.input.clear();
    }
}

impl Machine for Server {
    type Event = ServerEvent;
    type Error = ServerError;

    /// How many octets [`Machine::enqueue_input`] takes now: the room left in
    /// the buffer of waiting input ([`ServerConfig::max_buffered_input`], never
    /// below one whole command or SASL line). While the host answers an event,
    /// pipelined commands wait there; once it is full, take events and output
    /// first. Where input is discarded unrun (TLS handshake, UPDATE, after the
    /// end), the whole bound.
    fn input_room(&self) -> usize {
        if self.discards_input() {
            self.input_limit()
        } else {
            input::room(&self.input, self.input_limit())
        }
    }

    /// Takes octets read from the client, as many as [`Machine::input_room`]
    /// allows, and returns how many. During the TLS handshake after STLS, during
    /// UPDATE and after the end, input is never run: all of it is taken, counted
    /// in [`Server::discarded_input`] and dropped.
    fn enqueue_input(&mut self, data: &[u8]) -> usize {
        if self.discards_input() {
            let n = data.len().min(self.input_limit());
            self.discard(n);
            return n;
        }
        let bound = self.input_limit();
        input::take_slice(&mut self.input, data, bound)
    }

    /// Like [`Machine::enqueue_input`]; when nothing is buffered and all of
    /// `data` fits, its buffer becomes the machine's, without a copy.
    fn enqueue_buf(&mut self, data: &mut BytesMut) {
        if self.discards_input() {
            let n = data.len().min(self.input_limit());
            self.discard(n);
            bytes::Buf::advance(data, n);
            return;
        }
        let bound = self.input_limit();
        input::take_buf(&mut self.input, data, bound);
    }

    /// The client closed the connection. Unless the session had ended, it ends
    /// now with [`ServerError::ConnectionLost`]: the client can read no more
    /// answers, so whatever waits (an answer the host owes, pipelined commands)
    /// is dropped, and nothing is removed, whatever was marked (R1939-21): this
    /// never produces [`ServerEvent::Update`]. Later answers return
    /// [`AnswerError::NotExpected`].
    fn enqueue_eof(&mut self) {
        self.end(ServerError::ConnectionLost);
    }

    /// Processes buffered commands in order, answering what the machine can by
    /// itself, and returns the next event for the host: `Ok(None)` when it needs
    /// more input, waits for the host's answer, or holds more than
    /// [`ServerConfig::max_pending_output`] octets of output (write them, then
    /// call again). [`ServerEvent::Closed`] comes once after QUIT; every other end
    /// is an `Err`, returned again by every later call.
    fn next_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        if self.phase == Phase::Closed {
            return self.closed_event();
        }
        match self.run() {
            Some(event) => Ok(Some(event)),
            None if self.phase == Phase::Closed => self.closed_event(),
            None => Ok(None),
        }
    }

    /// The next piece to write: the small lines gathered so far as one piece,
    /// message bodies as slices of the host's own bytes.
    fn take_output(&mut self) -> Option<Bytes> {
        // `staging` is always behind everything queued.
        if let Some(next) = self.output.pop_front() {
            self.output_queued = self.output_queued.saturating_sub(next.len());
            return Some(next);
        }
        if self.staging.is_empty() {
            return None;
        }
        Some(self.staging.split().freeze())
    }

    fn output_len(&self) -> usize {
        self.staging.len().saturating_add(self.output_queued)
    }

    fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }
}

impl Server {
    fn closed_event(&mut self) -> Result<Option<ServerEvent>, ServerError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.close_reported {
            return Ok(None);
        }
        self.close_reported = true;
        Ok(Some(ServerEvent::Closed))
    }
}

impl StartTls for Server {
    fn awaiting_tls(&self) -> bool {
        self.phase == Phase::TlsHandshake
    }

    /// The TLS handshake after STLS finished: the session starts again in
    /// AUTHORIZATION, under TLS (R2595-6).
    fn tls_established(&mut self) {
        if self.phase == Phase::TlsHandshake {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.user = None;
            self.framer = LineFramer::new(self.command_framing);
        }
    }

    fn is_tls(&self) -> bool {
        self.tls
    }
}

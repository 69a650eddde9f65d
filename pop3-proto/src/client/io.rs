//! The client's side of the crate's IO contract: [`Machine`] and [`StartTls`].

use super::*;
use crate::machine::{input, output, Machine, StartTls};

impl Client {
    /// Whether input can never be run: the session ended, the connection closed,
    /// or the TLS handshake is pending.
    fn discards_input(&self) -> bool {
        self.fatal.is_some()
            || self.eof
            || !matches!(
                self.phase,
                Phase::Greeting | Phase::Authorization | Phase::Transaction
            )
    }

    /// Input that can never be run is taken and reported: octets while a TLS
    /// handshake is pending are the fatal [`ClientError::DataAfterStls`]
    /// (IMPL-13), octets after QUIT was answered the fatal
    /// [`ClientError::InputAfterClose`]; after an error or end of file they are
    /// dropped.
    fn discard(&mut self, len: usize) -> usize {
        if len == 0 || self.fatal.is_some() || self.eof {
            return len;
        }
        match self.phase {
            Phase::TlsHandshake => self.fail(ClientError::DataAfterStls),
            Phase::Closed => self.fail(ClientError::InputAfterClose),
            _ => {}
        }
        len
    }
}

/// The client machine under the crate's IO contract (see [`crate::machine`]).
///
/// * [`Machine::input_room`] is bounded by [`ClientConfig::max_buffered_input`]
///   (never below one maximal line). Take the events to make room again.
/// * Enqueue bytes as soon as they are read, before sending more commands: a
///   reply must start after its command went out, and a line that was enqueued
///   before then is reported as [`ClientError::Unsolicited`] (a pre-sent or
///   injected reply), never taken as the answer.
/// * While a TLS handshake is pending (after [`Event::StartTls`]) no POP3 bytes
///   may arrive: any are taken, discarded and reported as the fatal
///   [`ClientError::DataAfterStls`] (IMPL-13). Bytes after the session ended
///   are the fatal [`ClientError::InputAfterClose`].
/// * After [`Machine::enqueue_eof`], unless the session ended normally (QUIT
///   answered, nothing left), the fatal [`ClientError::ConnectionClosed`] says
///   which reply was cut short.
/// * [`Machine::next_event`] returns recoverable failures as [`Event::Failed`];
///   `Err` ends the session and repeats.
impl Machine for Client {
    type Event = Event;
    type Error = ClientError;

    fn input_room(&self) -> usize {
        if self.discards_input() {
            self.config.input_bound()
        } else {
            input::room(&self.input, self.config.input_bound())
        }
    }

    fn enqueue_input(&mut self, data: &[u8]) -> usize {
        if self.discards_input() {
            return self.discard(data.len().min(self.config.input_bound()));
        }
        let n = input::take_slice(&mut self.input, data, self.config.input_bound());
        self.received = self.received.saturating_add(n as u64);
        n
    }

    fn enqueue_buf(&mut self, data: &mut BytesMut) {
        if self.discards_input() {
            let n = self.discard(data.len().min(self.config.input_bound()));
            let _ = data.split_to(n.min(data.len()));
            return;
        }
        let n = input::take_buf(&mut self.input, data, self.config.input_bound());
        self.received = self.received.saturating_add(n as u64);
    }

    fn enqueue_eof(&mut self) {
        self.eof = true;
    }

    fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        self.poll_event()
    }

    fn take_output(&mut self) -> Option<Bytes> {
        output::take(&mut self.output)
    }

    fn output_len(&self) -> usize {
        self.output.len()
    }

    fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }
}

/// STLS on the client (RFC 2595 §4): after [`Event::StartTls`] the host runs the
/// handshake and calls [`StartTls::tls_established`]. The capability cache is
/// then emptied (R2595-7); send CAPA again to learn the new one.
impl StartTls for Client {
    fn awaiting_tls(&self) -> bool {
        self.phase == Phase::TlsHandshake && self.fatal.is_none()
    }

    fn tls_established(&mut self) {
        if self.awaiting_tls() {
            self.phase = Phase::Authorization;
            self.tls = true;
            self.capabilities = None;
            self.capabilities_after_login = false;
            self.user_accepted = false;
            self.framer.reset();
        }
    }

    fn is_tls(&self) -> bool {
        self.tls
    }
}

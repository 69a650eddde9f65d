//! The one contract every state machine of the crate keeps.
//!
//! The POP3 [`Client`](crate::client::Client) and [`Server`](crate::server::Server),
//! and the POP2 [`Client`](crate::pop2::Client) and [`Server`](crate::pop2::Server),
//! are driven the same way through [`Machine`]. A host that has driven one can drive
//! any other without reading its documentation: only the events differ, and the
//! calls that put commands (client) or answers (server) in.
//!
//! # The loop
//!
//! ```text
//!           +--------------------------------------------------+
//!           |  n = min(input_room(), buffer) ; read n octets   |  input_room() == 0:
//!  socket --+  enqueue_input(&buf[..n])   (or enqueue_buf)      |  read nothing now
//!           |  EOF: enqueue_eof()                               |
//!           +--------------------------------------------------+
//!                         |
//!           while let Some(event) = next_event()? { handle it: a client sends
//!                         |   commands, a server host answers the event }
//!                         |
//!           while let Some(bytes) = take_output() { write bytes }  --> socket
//!                         |
//!           is_closed(): write what is left, then close the connection
//! ```
//!
//! 1. **Input in.** [`Machine::input_room`] says how many octets the machine takes
//!    now. Read at most that much from the connection and hand it to
//!    [`Machine::enqueue_input`] (or, without a copy, [`Machine::enqueue_buf`]).
//!    Input is never refused as a whole: the machine takes what fits and says how
//!    much it took, so a host that reads no more than the room never keeps a
//!    buffer of its own. A room of 0 means "no more input now": take events and
//!    write output first (a server waits for the host's answer to an event before it
//!    reads further pipelined commands).
//! 2. **End of input.** When a read returns end of file, call
//!    [`Machine::enqueue_eof`]. A client machine still gives the events for the
//!    bytes already taken, then says whether the session was complete. The POP3
//!    server ends the session at once: the client can read no answer, and a
//!    session that ends without its QUIT answered never deletes (RFC 1939 §6).
//! 3. **Events out.** Call [`Machine::next_event`] until it returns `Ok(None)`,
//!    after every input and after every command or answer the host puts in.
//!    * `Ok(Some(event))`: something happened. Every failure the machine recovers
//!      from (a refused command, a refused login, a reply it could not use, a body
//!      over its limit) is an event that names the command it belongs to, so `?`
//!      on `next_event` never ends a healthy session.
//!    * `Ok(None)`: nothing more until more input arrives, the host answers, or
//!      output is written.
//!    * `Err(error)`: the session is over, for the reason given (a peer that broke
//!      the protocol beyond recovery, a connection that ended too early, too many
//!      failed logins). The machine is closed: every later call returns the same
//!      error. A session that ends the normal way (QUIT answered) ends with an
//!      event instead.
//! 4. **Bytes out.** Call [`Machine::take_output`] until it returns `None` and
//!    write every piece, in order. Pieces may be slices of bytes the host gave
//!    (message bodies are not copied), so gathering them for a vectored write is
//!    cheap.
//! 5. **The end.** Once [`Machine::is_closed`], write the output left and close
//!    the connection.
//!
//! Where STLS exists (the POP3 machines), the machine stops at the switch point,
//! reports it with an event, and [`StartTls::tls_established`] resumes it once
//! the host's handshake is done. Bytes that arrived after the switch point are
//! never parsed as POP3.
//!
//! ```
//! use pop3_proto::machine::Machine;
//! use pop3_proto::pop2;
//!
//! // The same function drives any machine: here a POP2 client reading a greeting.
//! fn feed<M: Machine>(machine: &mut M, mut input: &[u8]) -> Vec<M::Event>
//! where
//!     M::Error: core::fmt::Debug,
//! {
//!     let mut events = Vec::new();
//!     while !input.is_empty() {
//!         let taken = machine.enqueue_input(input);
//!         input = &input[taken..];
//!         while let Some(event) = machine.next_event().unwrap() {
//!             events.push(event);
//!         }
//!     }
//!     events
//! }
//!
//! let mut client = pop2::Client::new(pop2::ClientConfig::default());
//! let events = feed(&mut client, b"+ POP2 server ready\r\n");
//! assert_eq!(events.len(), 1);
//! ```

use bytes::{Bytes, BytesMut};

/// The IO contract of every state machine in the crate. See the
/// [module documentation](self) for the call order.
pub trait Machine {
    /// What the machine reports to its host.
    type Event;
    /// Why a session ended early. Returned by [`Machine::next_event`] once the
    /// session is over, and from then on by every call.
    type Error;

    /// How many octets [`Machine::enqueue_input`] takes now. 0 means the machine
    /// wants no input until its events are taken, its output is written, or (on a
    /// server) the host has answered. Input that can never be run (after the end,
    /// during a TLS handshake) has the whole bound as its room: it is taken and
    /// dropped or reported, so a host never waits on it.
    fn input_room(&self) -> usize;

    /// Takes octets read from the peer, as many as [`Machine::input_room`]
    /// allows, and returns how many it took. A host that reads no more than the
    /// room always sees the whole slice taken: the count is always the smaller of
    /// the room and the slice's length. Input that can never be run (after the
    /// session ended, or during a TLS handshake) is taken and discarded or
    /// reported, as each machine documents.
    #[must_use = "octets past the returned count were not taken"]
    fn enqueue_input(&mut self, data: &[u8]) -> usize;

    /// Like [`Machine::enqueue_input`], without a copy where the machine's buffer
    /// is empty: takes octets from the front of `data` (all of them when they fit
    /// in [`Machine::input_room`]) and leaves the rest in it.
    fn enqueue_buf(&mut self, data: &mut BytesMut);

    /// The peer closed its side of the connection (a read returned end of file).
    /// Unless the session had ended normally, [`Machine::next_event`] then returns
    /// the error that says what was cut short (on a client, after the events for
    /// the octets already taken; see the [module documentation](self)).
    fn enqueue_eof(&mut self);

    /// The next event: `Ok(None)` when nothing more can happen until more input,
    /// an answer from the host, or written output; `Err` when the session is over
    /// (see the [module documentation](self)).
    fn next_event(&mut self) -> Result<Option<Self::Event>, Self::Error>;

    /// The next piece of bytes to write to the peer, in order; `None` when nothing
    /// waits.
    fn take_output(&mut self) -> Option<Bytes>;

    /// Octets waiting to be written.
    fn output_len(&self) -> usize;

    /// Whether bytes wait to be written.
    fn has_output(&self) -> bool {
        self.output_len() > 0
    }

    /// Whether the session is over: no more events will come. Write the output
    /// left, then close the connection.
    fn is_closed(&self) -> bool;
}

/// The STLS switch (RFC 2595 §4), on the machines whose protocol has it.
///
/// After the event that reports the switch, the machine takes no POP3 input until
/// the host has run the TLS handshake and called
/// [`StartTls::tls_established`].
pub trait StartTls: Machine {
    /// Whether the machine stopped at the STLS switch point and waits for the
    /// host's TLS handshake.
    fn awaiting_tls(&self) -> bool;

    /// The TLS handshake after STLS finished: the session goes on under TLS, in
    /// the state RFC 2595 §4 gives (capabilities learned before it are
    /// forgotten). Does nothing unless [`StartTls::awaiting_tls`].
    fn tls_established(&mut self);

    /// Whether TLS is active (after STLS, or implicit TLS from the start).
    fn is_tls(&self) -> bool;
}

/// The input buffer rules every machine shares: a bound, what fits under it, and
/// handing over a caller's buffer without a copy.
pub(crate) mod input {
    use bytes::{Buf, BytesMut};

    /// The input rules of a machine that runs everything it takes until the
    /// session is over, and from then on takes and drops what it is given, as
    /// much as its bound (the POP2 machines): [`Machine::input_room`](super::Machine::input_room).
    pub(crate) fn room_until_closed(closed: bool, input: &BytesMut, bound: usize) -> usize {
        if closed {
            bound
        } else {
            room(input, bound)
        }
    }

    /// [`Machine::enqueue_input`](super::Machine::enqueue_input) under the same rules.
    pub(crate) fn take_slice_until_closed(
        closed: bool,
        input: &mut BytesMut,
        data: &[u8],
        bound: usize,
    ) -> usize {
        if closed {
            data.len().min(bound)
        } else {
            take_slice(input, data, bound)
        }
    }

    /// [`Machine::enqueue_buf`](super::Machine::enqueue_buf) under the same rules.
    pub(crate) fn take_buf_until_closed(
        closed: bool,
        input: &mut BytesMut,
        data: &mut BytesMut,
        bound: usize,
    ) {
        if closed {
            data.advance(data.len().min(bound));
        } else {
            take_buf(input, data, bound);
        }
    }

    /// Octets that still fit in `input` under `bound`.
    pub(crate) fn room(input: &BytesMut, bound: usize) -> usize {
        bound.saturating_sub(input.len())
    }

    /// Appends what fits of `data` to `input`; returns how many octets that was.
    pub(crate) fn take_slice(input: &mut BytesMut, data: &[u8], bound: usize) -> usize {
        let n = room(input, bound).min(data.len());
        input.extend_from_slice(data.get(..n).unwrap_or_default());
        n
    }

    /// Moves what fits from the front of `data` to `input`, without a copy when
    /// `input` is empty (the caller's buffer, or its front, becomes the input);
    /// returns how many octets that was.
    pub(crate) fn take_buf(input: &mut BytesMut, data: &mut BytesMut, bound: usize) -> usize {
        let n = room(input, bound).min(data.len());
        if n == 0 {
            return 0;
        }
        if input.is_empty() {
            *input = if n == data.len() {
                core::mem::take(data)
            } else {
                data.split_to(n)
            };
        } else {
            input.extend_from_slice(data.get(..n).unwrap_or_default());
            data.advance(n);
        }
        n
    }
}

/// The output buffer rule the machines that write one buffer share.
pub(crate) mod output {
    use bytes::{Bytes, BytesMut};

    /// [`Machine::take_output`](super::Machine::take_output) for a machine whose
    /// output is one buffer: all of it, as one piece.
    pub(crate) fn take(output: &mut BytesMut) -> Option<Bytes> {
        if output.is_empty() {
            None
        } else {
            Some(output.split().freeze())
        }
    }
}

/// The three input methods of [`Machine`] for a machine with an `input` buffer,
/// a `config.input_limit()` bound, and `is_closed()`, which runs what it takes
/// until the session is over and then takes and drops what it is given (the
/// POP2 machines).
macro_rules! input_until_closed {
    () => {
        fn input_room(&self) -> usize {
            $crate::machine::input::room_until_closed(
                self.is_closed(),
                &self.input,
                self.config.input_limit(),
            )
        }

        fn enqueue_input(&mut self, data: &[u8]) -> usize {
            let (closed, bound) = (self.is_closed(), self.config.input_limit());
            $crate::machine::input::take_slice_until_closed(closed, &mut self.input, data, bound)
        }

        fn enqueue_buf(&mut self, data: &mut bytes::BytesMut) {
            let (closed, bound) = (self.is_closed(), self.config.input_limit());
            $crate::machine::input::take_buf_until_closed(closed, &mut self.input, data, bound);
        }
    };
}

pub(crate) use input_until_closed;

//! Dot-stuffing of multi-line bodies (RFC 1939 §3, R1939-11 to R1939-14, E-2 to E-5,
//! E-22).
//!
//! * [`BodyDecoder`] (client side) un-stuffs a body streamed in chunks of any split and
//!   hands it out as zero-copy [`bytes::Bytes`] slices of the input, or as borrowed
//!   sub-slices with no reference counting ([`BodyDecoder::decode_slice`]).
//! * [`Stuffer`] and [`stuff`] (server side) stuff a message into wire segments ready for
//!   vectored writes (or, with [`Stuffer::push_copy`] and [`stuff_into`], into one
//!   contiguous buffer); [`wire_len`] gives the exact size LIST reports, without
//!   producing anything.
//!
//! Both find only the lines that start with `.` (a `memchr::memmem` search for `"\n."`),
//! so the cost is close to a plain scan of the bytes and stays linear however the input
//! is split.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use pop3_proto::dot::{stuff, BodyDecoder, BodyPiece, DecoderConfig, StuffConfig};
//!
//! let message = Bytes::from_static(b"Subject: hi\r\n\r\n.\r\n..\r\n");
//! let wire: Vec<u8> = stuff(&message, StuffConfig::default()).concat();
//! assert_eq!(wire, b"Subject: hi\r\n\r\n..\r\n...\r\n.\r\n");
//!
//! let mut decoder = BodyDecoder::new(DecoderConfig::default());
//! let mut buf = BytesMut::from(&wire[..]);
//! let mut body = Vec::new();
//! while let BodyPiece::Data(piece) = decoder.decode(&mut buf).unwrap() {
//!     body.extend_from_slice(&piece);
//! }
//! assert!(decoder.is_done());
//! assert_eq!(body, message);
//! ```

mod decode;
mod encode;
mod lf;

pub use decode::{BodyDecoder, BodyPiece, DecoderConfig, SlicePiece};
pub use encode::{stuff, stuff_into, wire_len, StuffConfig, Stuffer, WireLen};

/// Errors of the body decoder.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DotError {
    /// The body grew past [`DecoderConfig::max_body`] octets. The decoder now discards
    /// the rest of the body up to its terminator (see [`BodyDecoder::decode`]).
    #[error("multi-line body larger than {limit} octets")]
    BodyTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The input ended inside a body, before its terminator
    /// ([`BodyDecoder::check_eof`]).
    #[error("input ended inside a multi-line body")]
    Truncated,
}

#[cfg(test)]
mod tests;

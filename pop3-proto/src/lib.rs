//! # pop3-proto
//!
//! A sans-IO codec for the POP3 family of protocols: pure client and server state
//! machines that consume and emit byte buffers, with no sockets, threads, clock or
//! runtime inside.
//!
//! The crate is organised as data flows through it:
//!
//! | module | holds |
//! |---|---|
//! | [`framing`] | finding line ends with memchr, line-length limits and resynchronisation |
//! | [`dot`] | streaming dot-unstuffing of multi-line bodies and stuffing for output |
//! | [`types`] | the typed POP3 vocabulary: commands, replies, capabilities, codes, secrets |
//! | [`encode`] | typed values to wire bytes |
//! | [`machine`] | the one IO contract every state machine keeps ([`Machine`]) |
//! | [`sasl`] | AUTH mechanisms (PLAIN, LOGIN, CRAM-MD5, SCRAM, OAuth, EXTERNAL), strict base64, mechanism choice |
//! | [`apop`] | APOP timestamps (validated) and digests |
//! | [`options`] | strict-by-default parser options and their opt-in leniencies |
//! | [`client`] | the client state machine: commands in, typed events out |
//! | [`server`] | the server state machine: client bytes in, host events and replies out |
//! | [`sync`] | leaving mail on the server: which messages are new by their UIDL, and the seen set's text form |
//! | [`url`] | POP URLs (RFC 2384): parse, validate and format `pop://`, `pops://` |
//! | [`pop2`] | POP2 (RFC 937): commands, replies and client and server state machines |
//!
//! Parsing (with `nom`) is private to the crate; its results come out as the typed
//! values of [`types`] and its failures as the errors of [`error`].
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;

pub mod apop;
pub mod client;
pub mod dot;
pub mod encode;
pub mod error;
pub mod framing;
pub mod machine;
pub mod options;
mod parse;
pub mod pop2;
pub mod sasl;
pub mod secret;
pub mod server;
mod setters;
pub mod sync;
pub mod types;
pub mod url;

pub use machine::{Machine, StartTls};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

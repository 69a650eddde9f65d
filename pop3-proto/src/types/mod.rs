//! The typed POP3 vocabulary: commands, replies, capabilities, response codes.
//!
//! Every type here is checked when it is built, so an invalid value cannot exist and
//! therefore cannot be encoded: no CR, LF or NUL in arguments (command injection),
//! unique-ids of 1-70 octets in 0x21-0x7E, message numbers of at least 1.
//! Parsing and encoding live elsewhere ([`crate::encode`] and the crate-private
//! parser behind the `parse` constructors).

mod atoms;
mod capability;
mod code;
mod command;
mod number;
mod reply;

pub(crate) use atoms::is_base64_byte;
pub use atoms::{
    ApopDigest, Base64Text, GroupName, Keyword, LanguageRange, LanguageTag, Mechanism,
    MessageNumber, Param, Password, Text, UniqueId, Username,
};
pub use capability::{Capability, Expire, OtherCapability};
pub(crate) use code::split_code;
pub use code::{CodeKind, CodeLevel, ResponseCode};
pub use command::{AuthResponse, Command, Extension, InitialResponse, Xtnd};
pub use number::NumberError;
pub(crate) use number::{decimal, decimal_u32};
pub use reply::{
    Continuation, DropListing, Greeting, GroupListing, LanguageListing, ScanListing, Status,
    StatusLine, UidListing,
};

/// Why a value could not be built: the offending input broke the named rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value was empty where at least one octet is required.
    #[error("{what} must not be empty")]
    Empty {
        /// The kind of value.
        what: &'static str,
    },
    /// The value was longer than its limit.
    #[error("{what} is {len} octets, more than the limit of {max}")]
    TooLong {
        /// The kind of value.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// The value held an octet that is not allowed in it.
    #[error("{what} contains the forbidden octet 0x{byte:02X} at offset {offset}")]
    ForbiddenByte {
        /// The kind of value.
        what: &'static str,
        /// The octet.
        byte: u8,
        /// Where it was.
        offset: usize,
    },
    /// A keyword that belongs to a typed command, used where an extension's is expected.
    #[error("{what} is reserved for a command this crate types")]
    Reserved {
        /// The kind of value.
        what: &'static str,
    },
    /// A message number of 0 (numbers start at 1, R1939-20).
    #[error("message numbers start at 1")]
    ZeroMessageNumber,
}

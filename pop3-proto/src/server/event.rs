//! What the server machine asks of its host, and the values the host answers with.

use alloc::vec::Vec;

use crate::apop::Timestamp;
use crate::sasl;
use crate::secret::Secret;
use crate::types::{
    ApopDigest, Command, Mechanism, MessageNumber, Password, ResponseCode, Text, UniqueId, Username,
};

/// One message of a maildrop, as the host lists it when a login is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The exact size LIST reports: octets as sent, CRLF line ends, stuffing dots
    /// not counted (R1939-14). [`crate::dot::wire_len`] with
    /// [`ServerConfig::stuff_config`](super::ServerConfig::stuff_config) computes it.
    pub size: u64,
    /// The unique-id UIDL reports (R1939-39).
    pub uid: UniqueId,
}

/// Why a login was refused; the response code tells the client which kind of
/// failure it was (E-19).
///
/// ```
/// use pop3_proto::server::Refusal;
/// let r = Refusal::in_use();
/// assert_eq!(r.code.unwrap().kind(), pop3_proto::types::CodeKind::InUse);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The response code, if any.
    pub code: Option<ResponseCode>,
    /// The text after it.
    pub text: Text,
}

impl Refusal {
    fn new(code: ResponseCode, text: &str) -> Self {
        Refusal {
            code: Some(code),
            text: Text::new(text).unwrap_or_default(),
        }
    }

    /// `[AUTH]`: bad credentials (RFC 3206).
    pub fn bad_credentials() -> Self {
        Self::new(ResponseCode::auth(), "invalid user name or password")
    }

    /// `[IN-USE]`: the maildrop is locked by another session (RFC 2449 §8.1.2).
    pub fn in_use() -> Self {
        Self::new(ResponseCode::in_use(), "maildrop already locked")
    }

    /// `[SYS/TEMP]`: a temporary failure (RFC 3206).
    pub fn sys_temp() -> Self {
        Self::new(
            ResponseCode::sys_temp(),
            "temporary failure, try again later",
        )
    }

    /// `[SYS/PERM]`: a permanent failure (RFC 3206).
    pub fn sys_perm() -> Self {
        Self::new(
            ResponseCode::sys_perm(),
            "permanent failure, contact support",
        )
    }

    /// `[LOGIN-DELAY]`: logged in too recently (RFC 2449 §8.1.1).
    pub fn login_delay() -> Self {
        Self::new(ResponseCode::login_delay(), "logged in too recently")
    }

    /// `[UTF8]`: the message needs UTF-8 mode; the client may send `UTF8` and
    /// retry (RFC 6856 §5). For RETR, TOP and LIST of such a message.
    pub fn utf8_required() -> Self {
        Self::new(ResponseCode::utf8(), "message requires UTF8 mode")
    }

    /// A refusal with a text of the host's and no code.
    pub fn with_text(text: Text) -> Self {
        Refusal { code: None, text }
    }
}

/// What one step of a SASL exchange did, as [`Server::auth_step`](super::Server::auth_step)
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// A challenge was sent. Keep the mechanism: the client's answer comes as
    /// [`ServerEvent::AuthResponse`] (or [`ServerEvent::AuthCancelled`]).
    Challenged,
    /// The client proved this identity. Nothing was sent: lock its maildrop and
    /// call [`Server::accept_login`](super::Server::accept_login), or
    /// [`Server::refuse_login`](super::Server::refuse_login) (`[IN-USE]`, ...).
    Authenticated(sasl::Identity),
    /// The exchange failed: `-ERR` with the response code the failure calls for was
    /// sent and the failure counted. Drop the mechanism.
    Failed(sasl::AuthFailure),
}

/// Something the host must know or do. Events marked "answer" stop the machine
/// until the host calls the named method; later commands wait in the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `USER name`, with [`ServerConfig::check_user`](super::ServerConfig::check_user)
    /// on. Answer: [`Server::accept_user`](super::Server::accept_user) or
    /// [`Server::refuse_user`](super::Server::refuse_user).
    User {
        /// The name.
        name: Username,
    },
    /// `PASS` after `USER`. Answer: [`Server::accept_login`](super::Server::accept_login)
    /// or [`Server::refuse_login`](super::Server::refuse_login).
    Login {
        /// The name given to USER.
        name: Username,
        /// The password.
        password: Password,
    },
    /// `APOP name digest`. Check with [`crate::apop::verify`] over `timestamp` and
    /// the user's secret. Answer: `accept_login` or `refuse_login`.
    Apop {
        /// The name.
        name: Username,
        /// The digest the client sent.
        digest: ApopDigest,
        /// The timestamp of this session's greeting.
        timestamp: Timestamp,
    },
    /// `AUTH mechanism [initial-response]`, for a mechanism in the configuration.
    /// Answer: [`Server::auth_step`](super::Server::auth_step) with a fresh
    /// mechanism (or, by hand, [`Server::auth_challenge`](super::Server::auth_challenge),
    /// `accept_login` or `refuse_login`). A mechanism that needs an initial
    /// response and got none answers with an empty challenge (R5034-9).
    AuthStart {
        /// The mechanism.
        mechanism: Mechanism,
        /// The initial response, base64-decoded (`=` gives an empty one), or `None`
        /// when the client sent none.
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// The client's answer to a challenge, base64-decoded. Answer as for
    /// [`ServerEvent::AuthStart`].
    AuthResponse {
        /// The response.
        response: Secret<Vec<u8>>,
    },
    /// The AUTH exchange ended on the client's side: it cancelled with `*`, sent
    /// a response that was not base64, or a line too long; the machine answered
    /// `-ERR` (R5034-6, R5034-10). Drop the mechanism. No answer.
    AuthCancelled,
    /// RETR or TOP of a message that exists and is not deleted. Answer:
    /// [`Server::send_message`](super::Server::send_message), or
    /// [`Server::send_message_chunk`](super::Server::send_message_chunk) then
    /// [`Server::finish_message`](super::Server::finish_message), or
    /// [`Server::refuse`](super::Server::refuse).
    Retrieve {
        /// The message.
        msg: MessageNumber,
        /// For TOP: how many body lines.
        top: Option<u32>,
    },
    /// QUIT in TRANSACTION: remove these messages now, never any other (R1939-23),
    /// then release the lock. This is the only event that removes anything
    /// (R1939-21, E-17). Answer: [`Server::update_done`](super::Server::update_done).
    Update {
        /// The messages marked as deleted, in order.
        deleted: Vec<MessageNumber>,
    },
    /// An XTND or extension command, with
    /// [`ServerConfig::extensions`](super::ServerConfig::extensions) on. Answer:
    /// [`Server::reply`](super::Server::reply).
    Extension {
        /// The command.
        command: Command,
    },
    /// STLS was accepted: write the output, run the TLS handshake, then call
    /// [`StartTls::tls_established`](crate::machine::StartTls::tls_established).
    /// Anything the client sent after `STLS` was discarded, never run (IMPL-13,
    /// CVE-2011-0411); `discarded` says how much.
    StartTls {
        /// Octets thrown away.
        discarded: usize,
    },
    /// QUIT was answered (after UPDATE when in TRANSACTION): the session is over
    /// the normal way. Write the output, then close the connection. Comes once;
    /// every other end is an `Err` from
    /// [`Machine::next_event`](crate::Machine::next_event)
    /// ([`ServerError`](super::ServerError)).
    Closed,
}

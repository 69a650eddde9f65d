//! What a [`Server`](super::Server) offers and how strict it is.

use alloc::vec::Vec;

use crate::dot::StuffConfig;
use crate::setters::setters;
use crate::types::{Expire, LanguageTag, Mechanism, Text};

/// The server machine's settings: limits, and what CAPA advertises.
///
/// ```
/// use pop3_proto::server::ServerConfig;
/// let config = ServerConfig::default().with_stls(true).with_cleartext_requires_tls(true);
/// assert!(config.user_pass);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Longest command line, its line end included. RFC 2449 §4 asks for at least
    /// 255 octets; the default is 512, since servers in the field (Dovecot, Cyrus,
    /// Courier, GNU Mailutils) read longer lines, such as a message number padded
    /// with zeros. Values keep their own limits (a PASS argument, for one, must fit
    /// a 255-octet command line).
    pub max_command_line: usize,
    /// Longest SASL response line (R5034-11).
    pub max_sasl_line: usize,
    /// Most octets of input kept while the host is answering a command (pipelined
    /// commands wait here); past it [`Machine::enqueue_input`](crate::Machine::enqueue_input)
    /// takes no more than fits until the host catches up. The bound in force is never below
    /// `max_command_line` or `max_sasl_line`, so one whole line always fits.
    pub max_buffered_input: usize,
    /// Most octets of replies waiting to be written before the machine stops
    /// reading further pipelined commands: [`Machine::next_event`](crate::Machine::next_event)
    /// returns `Ok(None)` until the host has taken the output. This bounds what a
    /// client that pipelines without reading can make the server hold (a `LIST`
    /// of a large maildrop is several kilobytes per command line). Message bodies
    /// are the host's own bytes and are not copied.
    pub max_pending_output: usize,
    /// Failed logins (PASS, APOP, AUTH, and cleartext logins refused before TLS)
    /// after which the session ends: the reply to the last one is sent, then
    /// [`ServerError::TooManyFailures`](super::ServerError::TooManyFailures).
    /// 0 means no limit.
    pub max_failed_logins: u32,
    /// Accept a bare LF as the end of a command or SASL line. On by default: every
    /// server in the field (Dovecot, Cyrus, Courier, GNU Mailutils, popa3d, Solid
    /// POP3) takes `USER alice\n` as a command, and clients that send it exist. Each
    /// LF ends exactly one line (two lines are never joined), a CR before the LF is
    /// part of the line end, a lone CR is never one, and every length limit counts
    /// the line end as sent. Turn it off for the strict reading of RFC 1939 §3, where
    /// a bare-LF line is answered `-ERR` and dropped.
    pub allow_bare_lf: bool,
    /// Collapse runs of spaces between arguments and ignore spaces at the start and
    /// end of a command line (never inside PASS, whose argument is everything after
    /// the first space). On by default, as most servers in the field read
    /// `LIST  1` and `LIST 1 `; off for the strict reading of RFC 1939 §3 (one
    /// space between tokens), where they are answered `-ERR`.
    pub lenient_spaces: bool,
    /// Send every bare LF of a message as CRLF, and so stuff a `.` after any LF
    /// (on by default; see [`StuffConfig::lf_to_crlf`](crate::dot::StuffConfig::lf_to_crlf)
    /// for what turning it off risks). Sizes given in
    /// [`MessageInfo`](super::MessageInfo) must be counted the same way:
    /// [`wire_len`](crate::dot::wire_len) with [`ServerConfig::stuff_config`].
    pub lf_to_crlf: bool,
    /// USER and PASS are offered (the `USER` capability).
    pub user_pass: bool,
    /// USER is passed to the host as an event before `+OK` (the RFC 1939 examples'
    /// `-ERR sorry, no mailbox for frated here`). Off by default: the machine
    /// answers `+OK` to every USER, which does not reveal which names exist
    /// (R1939-25).
    pub check_user: bool,
    /// The greeting carries an APOP timestamp and APOP is accepted.
    pub apop: bool,
    /// SASL mechanisms offered by AUTH (the `SASL` capability).
    pub sasl: Vec<Mechanism>,
    /// SASL mechanisms that send credentials in the clear (withheld before TLS when
    /// `cleartext_requires_tls`).
    pub cleartext_sasl: Vec<Mechanism>,
    /// STLS is offered (a certificate is configured, R8314-2).
    pub stls: bool,
    /// The connection is under implicit TLS (port 995).
    pub implicit_tls: bool,
    /// Refuse USER/PASS and cleartext SASL until TLS is active, answering good and
    /// bad credentials alike (R2595-8, R8314-5), and leave them out of CAPA before
    /// TLS (R5034-16). RFC 5034 says this SHOULD be the default; it is off here
    /// only because a server with no certificate could then accept no password
    /// at all. Turn it on whenever [`stls`](Self::stls) is.
    pub cleartext_requires_tls: bool,
    /// `TOP` is offered.
    pub top: bool,
    /// `UIDL` is offered.
    pub uidl: bool,
    /// `PIPELINING` is advertised.
    pub pipelining: bool,
    /// `RESP-CODES` is advertised.
    pub resp_codes: bool,
    /// `AUTH-RESP-CODE` is advertised.
    pub auth_resp_code: bool,
    /// `LOGIN-DELAY seconds [USER]`.
    pub login_delay: Option<(u32, bool)>,
    /// `EXPIRE days|NEVER [USER]`.
    pub expire: Option<(Expire, bool)>,
    /// `IMPLEMENTATION text`.
    pub implementation: Option<Text>,
    /// `UTF8 [USER]`: `Some(true)` also accepts UTF-8 credentials.
    pub utf8: Option<bool>,
    /// `LANG` with these languages (the first is the default), each with its name.
    pub languages: Vec<(LanguageTag, Text)>,
    /// XTND and unknown commands go to the host as
    /// [`ServerEvent::Extension`](super::ServerEvent::Extension) instead of being
    /// refused by the machine.
    pub extensions: bool,
    /// The text after `+OK` in the QUIT reply (TV-4: `dewey POP3 server signing off`).
    pub signoff: Text,
}

setters!(ServerConfig {
    /// Sets [`ServerConfig::max_command_line`].
    with_max_command_line => max_command_line: usize,
    /// Sets [`ServerConfig::max_sasl_line`].
    with_max_sasl_line => max_sasl_line: usize,
    /// Sets [`ServerConfig::max_buffered_input`].
    with_max_buffered_input => max_buffered_input: usize,
    /// Sets [`ServerConfig::max_pending_output`].
    with_max_pending_output => max_pending_output: usize,
    /// Sets [`ServerConfig::max_failed_logins`].
    with_max_failed_logins => max_failed_logins: u32,
    /// Sets [`ServerConfig::allow_bare_lf`].
    with_allow_bare_lf => allow_bare_lf: bool,
    /// Sets [`ServerConfig::lenient_spaces`].
    with_lenient_spaces => lenient_spaces: bool,
    /// Sets [`ServerConfig::lf_to_crlf`].
    with_lf_to_crlf => lf_to_crlf: bool,
    /// Sets [`ServerConfig::user_pass`].
    with_user_pass => user_pass: bool,
    /// Sets [`ServerConfig::check_user`].
    with_check_user => check_user: bool,
    /// Sets [`ServerConfig::apop`].
    with_apop => apop: bool,
    /// Sets [`ServerConfig::sasl`].
    with_sasl => sasl: Vec<Mechanism>,
    /// Sets [`ServerConfig::cleartext_sasl`].
    with_cleartext_sasl => cleartext_sasl: Vec<Mechanism>,
    /// Sets [`ServerConfig::stls`].
    with_stls => stls: bool,
    /// Sets [`ServerConfig::implicit_tls`].
    with_implicit_tls => implicit_tls: bool,
    /// Sets [`ServerConfig::cleartext_requires_tls`].
    with_cleartext_requires_tls => cleartext_requires_tls: bool,
    /// Sets [`ServerConfig::top`].
    with_top => top: bool,
    /// Sets [`ServerConfig::uidl`].
    with_uidl => uidl: bool,
    /// Sets [`ServerConfig::pipelining`].
    with_pipelining => pipelining: bool,
    /// Sets [`ServerConfig::resp_codes`].
    with_resp_codes => resp_codes: bool,
    /// Sets [`ServerConfig::auth_resp_code`].
    with_auth_resp_code => auth_resp_code: bool,
    /// Sets [`ServerConfig::login_delay`].
    with_login_delay => login_delay: Option<(u32, bool)>,
    /// Sets [`ServerConfig::expire`].
    with_expire => expire: Option<(Expire, bool)>,
    /// Sets [`ServerConfig::implementation`].
    with_implementation => implementation: Option<Text>,
    /// Sets [`ServerConfig::utf8`].
    with_utf8 => utf8: Option<bool>,
    /// Sets [`ServerConfig::languages`].
    with_languages => languages: Vec<(LanguageTag, Text)>,
    /// Sets [`ServerConfig::extensions`].
    with_extensions => extensions: bool,
    /// Sets [`ServerConfig::signoff`].
    with_signoff => signoff: Text,
});

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_command_line: 512,
            max_sasl_line: 64 * 1024,
            max_buffered_input: 64 * 1024,
            max_pending_output: 256 * 1024,
            max_failed_logins: 3,
            allow_bare_lf: true,
            lenient_spaces: true,
            lf_to_crlf: true,
            user_pass: true,
            check_user: false,
            apop: false,
            sasl: Vec::new(),
            cleartext_sasl: ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]
                .iter()
                .filter_map(|m| Mechanism::new(*m).ok())
                .collect(),
            stls: false,
            implicit_tls: false,
            cleartext_requires_tls: false,
            top: true,
            uidl: true,
            pipelining: true,
            resp_codes: true,
            auth_resp_code: true,
            login_delay: None,
            expire: None,
            implementation: None,
            utf8: None,
            languages: Vec::new(),
            extensions: false,
            signoff: Text::new("POP3 server signing off").unwrap_or_default(),
        }
    }
}

impl ServerConfig {
    /// The stuffing configuration of whole messages (RETR): count the sizes of
    /// [`MessageInfo`](super::MessageInfo) with it, so LIST matches what RETR sends
    /// (R1939-14, RFC 6856 §2.1).
    ///
    /// ```
    /// use pop3_proto::dot::wire_len;
    /// use pop3_proto::server::ServerConfig;
    ///
    /// let config = ServerConfig::default();
    /// // A stored bare LF goes out as CRLF, and is counted so.
    /// assert_eq!(wire_len(b"a\nb\n", config.stuff_config()), 6);
    /// ```
    pub fn stuff_config(&self) -> StuffConfig {
        StuffConfig {
            lf_to_crlf: self.lf_to_crlf,
            top_lines: None,
        }
    }
}

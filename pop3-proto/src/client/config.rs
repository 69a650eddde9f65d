//! How a [`Client`](super::Client) behaves: limits, leniency, TLS policy, pipelining.

use crate::dot::DecoderConfig;
use crate::options::ReplyOptions;
use crate::setters::setters;

/// The client machine's settings. `Default` is strict and safe.
///
/// ```
/// use pop3_proto::client::ClientConfig;
/// let config = ClientConfig::default()
///     .with_require_tls(true)
///     .with_max_body(Some(10 << 20));
/// assert!(!config.pipeline_without_capability);
/// assert_eq!(config.decoder().max_body, Some(10 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Longest greeting, status or listing line, line end included (E-14, IMPL-21).
    pub max_line: usize,
    /// Longest SASL challenge line (R5034-11: challenges may be long).
    pub max_sasl_line: usize,
    /// Most lines a LIST, UIDL, CAPA, LANG or XTND listing may have before the rest
    /// is skipped and reported.
    pub max_listing_lines: usize,
    /// Most octets (line ends aside) a listing may hold before the rest is
    /// skipped and reported.
    pub max_listing_bytes: usize,
    /// Most octets the machine buffers before its events are taken: the bound of
    /// [`Machine::input_room`](crate::Machine::input_room). Never below one
    /// maximal line: the machine uses the largest of this, `max_line` and
    /// `max_sasl_line`. The default, 256 KiB, takes a 64 KiB read whenever the
    /// events of the previous one were taken.
    pub max_buffered_input: usize,
    /// Largest message body (RETR, TOP, unknown multi-line replies), or no limit.
    /// Bodies are streamed, so memory stays bounded either way. A longer body is
    /// handed out up to exactly this many octets, then reported as
    /// [`Event::Failed`](super::Event::Failed) with
    /// [`CommandError::BodyTooLarge`](super::CommandError::BodyTooLarge); its rest
    /// is skipped and the session goes on. This field is the one owner of the
    /// limit: [`ClientConfig::decoder`] passes it on.
    pub max_body: Option<u64>,
    /// Accept a bare LF as a line end (IMPL-18, E-5). Off by default.
    pub allow_bare_lf: bool,
    /// With `allow_bare_lf`, hand out bare-LF body lines with CRLF.
    pub lf_to_crlf: bool,
    /// Refuse USER, PASS, APOP and cleartext SASL before TLS, and report a server
    /// that does not offer STLS or refuses it (R2595-8, R8314-3).
    pub require_tls: bool,
    /// The connection is already under TLS (implicit TLS on port 995, R8314-1).
    pub implicit_tls: bool,
    /// Send commands before earlier replies arrive even when the server did not
    /// list PIPELINING (IMPL-7's opt-in "overlapped commands").
    pub pipeline_without_capability: bool,
    /// Most commands in flight at once.
    pub max_in_flight: usize,
    /// Once the server's capabilities are known (CAPA answered), refuse commands
    /// whose capability it did not list: USER/PASS (`USER`), TOP, UIDL, STLS,
    /// UTF8, LANG, and AUTH with a mechanism missing from `SASL`. On by default;
    /// turn it off for servers that under-report, or send one command regardless
    /// with [`Client::send_unchecked`](super::Client::send_unchecked).
    pub check_capabilities: bool,
    /// How status lines, listings and AUTH continuations are read: strict by
    /// default (IMPL-19, IMPL-15 and E-27 leniencies are opt-in; `+ OK` is only
    /// ever accepted for XTND), except `bare_continuation`, which is on by
    /// default: a bare `+` is an empty SASL challenge (IMPL-12, RFC 5034 §4).
    /// Turn it off to refuse a bare `+` as a malformed reply.
    pub reply_options: ReplyOptions,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_line: 8 * 1024,
            max_sasl_line: 64 * 1024,
            max_listing_lines: 1_000_000,
            max_listing_bytes: 64 * 1024 * 1024,
            max_buffered_input: 256 * 1024,
            max_body: None,
            allow_bare_lf: false,
            lf_to_crlf: false,
            require_tls: false,
            implicit_tls: false,
            pipeline_without_capability: false,
            max_in_flight: 4096,
            check_capabilities: true,
            reply_options: ReplyOptions {
                bare_continuation: true,
                ..ReplyOptions::strict()
            },
        }
    }
}

setters!(ClientConfig {
    /// Sets [`ClientConfig::max_line`].
    with_max_line => max_line: usize,
    /// Sets [`ClientConfig::max_sasl_line`].
    with_max_sasl_line => max_sasl_line: usize,
    /// Sets [`ClientConfig::max_listing_lines`].
    with_max_listing_lines => max_listing_lines: usize,
    /// Sets [`ClientConfig::max_listing_bytes`].
    with_max_listing_bytes => max_listing_bytes: usize,
    /// Sets [`ClientConfig::max_buffered_input`].
    with_max_buffered_input => max_buffered_input: usize,
    /// Sets [`ClientConfig::max_body`].
    with_max_body => max_body: Option<u64>,
    /// Sets [`ClientConfig::allow_bare_lf`].
    with_allow_bare_lf => allow_bare_lf: bool,
    /// Sets [`ClientConfig::lf_to_crlf`].
    with_lf_to_crlf => lf_to_crlf: bool,
    /// Sets [`ClientConfig::require_tls`].
    with_require_tls => require_tls: bool,
    /// Sets [`ClientConfig::implicit_tls`].
    with_implicit_tls => implicit_tls: bool,
    /// Sets [`ClientConfig::pipeline_without_capability`].
    with_pipeline_without_capability => pipeline_without_capability: bool,
    /// Sets [`ClientConfig::max_in_flight`].
    with_max_in_flight => max_in_flight: usize,
    /// Sets [`ClientConfig::check_capabilities`].
    with_check_capabilities => check_capabilities: bool,
    /// Sets [`ClientConfig::reply_options`].
    with_reply_options => reply_options: ReplyOptions,
});

impl ClientConfig {
    /// The body decoder settings these options give, `max_body` included, for a
    /// host that decodes bodies with a [`BodyDecoder`](crate::dot::BodyDecoder) of
    /// its own.
    ///
    /// The machine itself reads `max_body` from this config only (the decoders it
    /// builds carry no limit of their own that could disagree), so that exactly
    /// `max_body` octets are handed out whatever the split of the input.
    pub fn decoder(&self) -> DecoderConfig {
        DecoderConfig {
            allow_bare_lf: self.allow_bare_lf,
            lf_to_crlf: self.lf_to_crlf,
            max_body: self.max_body,
        }
    }

    /// The input bound actually used: `max_buffered_input`, raised to one maximal
    /// line.
    pub(crate) fn input_bound(&self) -> usize {
        self.max_buffered_input
            .max(self.max_line)
            .max(self.max_sasl_line)
    }
}

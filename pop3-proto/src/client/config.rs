//! How a [`Client`](super::Client) behaves: limits, leniency, TLS policy, pipelining.

use crate::dot::DecoderConfig;
use crate::options::ReplyOptions;

/// The client machine's settings. `Default` is strict and safe.
///
/// ```
/// use pop3_proto::client::ClientConfig;
/// let config = ClientConfig { require_tls: true, ..ClientConfig::default() };
/// assert!(!config.pipeline_without_capability);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Largest message body (RETR, TOP, unknown multi-line replies), or no limit.
    /// Bodies are streamed, so memory stays bounded either way. A longer body is
    /// handed out up to exactly this many octets, then reported as
    /// [`ClientError::BodyTooLarge`](super::ClientError::BodyTooLarge); its rest is
    /// skipped and the session goes on.
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
    /// turn it off for servers that under-report.
    pub check_capabilities: bool,
    /// How status lines and listings are read: strict by default (IMPL-19,
    /// IMPL-15 and E-27 leniencies are opt-in; `+ OK` is only ever accepted for
    /// XTND). A bare `+` is always an empty SASL challenge (IMPL-12).
    pub reply_options: ReplyOptions,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_line: 8 * 1024,
            max_sasl_line: 64 * 1024,
            max_listing_lines: 1_000_000,
            max_listing_bytes: 64 * 1024 * 1024,
            max_body: None,
            allow_bare_lf: false,
            lf_to_crlf: false,
            require_tls: false,
            implicit_tls: false,
            pipeline_without_capability: false,
            max_in_flight: 4096,
            check_capabilities: true,
            reply_options: ReplyOptions::strict(),
        }
    }
}

impl ClientConfig {
    /// The body decoder settings these options give (without `max_body`, which the
    /// machine applies itself).
    pub fn decoder(&self) -> DecoderConfig {
        DecoderConfig {
            allow_bare_lf: self.allow_bare_lf,
            lf_to_crlf: self.lf_to_crlf,
            max_body: None,
        }
    }
}

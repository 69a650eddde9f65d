//! Which mechanism to use: the names this crate implements and the choice among the
//! ones a server offers.

use core::fmt;

use super::SaslError;
use crate::setters::setters;

/// The mechanisms this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MechanismName {
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `CRAM-MD5` (RFC 2195).
    CramMd5,
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (de facto).
    Login,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// `XOAUTH2` (vendor).
    XOAuth2,
    /// `EXTERNAL` (RFC 4422 Appendix A).
    External,
}

impl MechanismName {
    /// Every mechanism, in the order [`choose_mechanism`] prefers them within a kind of
    /// credential.
    pub const ALL: [MechanismName; 8] = [
        MechanismName::ScramSha256,
        MechanismName::ScramSha1,
        MechanismName::CramMd5,
        MechanismName::Plain,
        MechanismName::Login,
        MechanismName::OAuthBearer,
        MechanismName::XOAuth2,
        MechanismName::External,
    ];

    /// The name as sent in `AUTH` and listed in `CAPA` `SASL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MechanismName::ScramSha256 => "SCRAM-SHA-256",
            MechanismName::ScramSha1 => "SCRAM-SHA-1",
            MechanismName::CramMd5 => "CRAM-MD5",
            MechanismName::Plain => "PLAIN",
            MechanismName::Login => "LOGIN",
            MechanismName::OAuthBearer => "OAUTHBEARER",
            MechanismName::XOAuth2 => "XOAUTH2",
            MechanismName::External => "EXTERNAL",
        }
    }

    /// Looks a name up, ignoring ASCII case (E-9). Unknown names give `None`.
    ///
    /// ```
    /// use pop3_proto::sasl::MechanismName;
    /// assert_eq!(MechanismName::from_name("scram-sha-256"), Some(MechanismName::ScramSha256));
    /// assert_eq!(MechanismName::from_name("GSSAPI"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the mechanism sends a replayable credential in the clear (PLAIN, LOGIN,
    /// OAUTHBEARER, XOAUTH2).
    pub const fn is_cleartext(self) -> bool {
        matches!(
            self,
            MechanismName::Plain
                | MechanismName::Login
                | MechanismName::OAuthBearer
                | MechanismName::XOAuth2
        )
    }

    /// The kind of credential the mechanism needs.
    pub const fn credential(self) -> CredentialKind {
        match self {
            MechanismName::OAuthBearer | MechanismName::XOAuth2 => CredentialKind::BearerToken,
            MechanismName::External => CredentialKind::ClientCertificate,
            _ => CredentialKind::Password,
        }
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for MechanismName {
    type Err = SaslError;
    fn from_str(s: &str) -> Result<Self, SaslError> {
        Self::from_name(s).ok_or(SaslError::InvalidInput("mechanism name"))
    }
}

/// The kind of credential a client holds, which decides the mechanisms it can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CredentialKind {
    /// A password: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN.
    #[default]
    Password,
    /// An OAuth 2.0 bearer token: OAUTHBEARER, XOAUTH2.
    BearerToken,
    /// A TLS client certificate: EXTERNAL.
    ClientCertificate,
}

/// What [`choose_mechanism`] may pick.
///
/// `#[non_exhaustive]`: start from `default()` (no TLS, no cleartext, a password)
/// and use the `with_*` setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ChoicePolicy<'a> {
    /// TLS is active on the connection (after STLS, or implicit TLS).
    pub tls_active: bool,
    /// The user allowed cleartext mechanisms without TLS (R2595-8 requires that this can be
    /// refused, and it should be by default).
    pub allow_cleartext: bool,
    /// A mechanism the user named (a POP URL's `;AUTH=`, RFC 2384). `*` means "any", as
    /// in RFC 2384.
    pub explicit: Option<&'a str>,
    /// The kind of credential the client holds.
    pub credentials: CredentialKind,
}

setters!(ChoicePolicy<'_> {
    /// Sets [`ChoicePolicy::tls_active`].
    with_tls_active => tls_active: bool,
    /// Sets [`ChoicePolicy::allow_cleartext`].
    with_allow_cleartext => allow_cleartext: bool,
    /// Sets [`ChoicePolicy::credentials`].
    with_credentials => credentials: CredentialKind,
});

impl<'a> ChoicePolicy<'a> {
    /// Sets [`ChoicePolicy::explicit`], the mechanism the user named.
    #[must_use]
    pub fn with_explicit(mut self, explicit: Option<&'a str>) -> Self {
        self.explicit = explicit;
        self
    }
}

/// Picks the mechanism to use from the server's `CAPA` `SASL` list.
///
/// The rule:
/// * A cleartext mechanism ([`MechanismName::is_cleartext`]) is never chosen without TLS
///   unless `allow_cleartext` is set.
/// * With an explicit choice (other than `*`), that mechanism or nothing: `None` when it is
///   unknown, not offered by the server, or a cleartext one that the first rule forbids.
///   It is never silently replaced by another.
/// * Otherwise, the strongest offered mechanism for the credential held: for a password
///   `SCRAM-SHA-256` > `SCRAM-SHA-1` > `CRAM-MD5` > `PLAIN` > `LOGIN`; for a bearer token
///   `OAUTHBEARER` > `XOAUTH2`; for a client certificate `EXTERNAL`, and only with TLS
///   active. A mechanism needing a credential the client does not hold is never chosen
///   automatically.
///
/// Names in `offered` are compared without regard to ASCII case (E-9); unknown ones are
/// ignored. `+APOP` (RFC 2384) is not SASL: handle it before calling this.
///
/// ```
/// use pop3_proto::sasl::{choose_mechanism, ChoicePolicy, MechanismName};
/// let offered = ["PLAIN", "CRAM-MD5", "SCRAM-SHA-1"];
/// let policy = ChoicePolicy::default().with_tls_active(true);
/// assert_eq!(choose_mechanism(&offered, &policy), Some(MechanismName::ScramSha1));
/// let policy = ChoicePolicy::default().with_explicit(Some("PLAIN"));
/// assert_eq!(choose_mechanism(&offered, &policy), None); // cleartext before TLS
/// ```
pub fn choose_mechanism(offered: &[&str], policy: &ChoicePolicy<'_>) -> Option<MechanismName> {
    let permitted =
        |m: MechanismName| !m.is_cleartext() || policy.tls_active || policy.allow_cleartext;
    let is_offered = |m: MechanismName| {
        offered
            .iter()
            .any(|o| o.trim().eq_ignore_ascii_case(m.as_str()))
    };
    match policy.explicit.map(str::trim) {
        Some(name) if name != "*" => {
            let m = MechanismName::from_name(name)?;
            (is_offered(m) && permitted(m)).then_some(m)
        }
        _ => MechanismName::ALL.into_iter().find(|&m| {
            m.credential() == policy.credentials
                && is_offered(m)
                && permitted(m)
                && (m != MechanismName::External || policy.tls_active)
        }),
    }
}

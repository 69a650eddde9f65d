//! SASL authentication for `AUTH` (RFC 5034 over RFC 4422): the mechanisms as small,
//! deterministic step machines that both roles use.
//!
//! The mechanisms work on **raw bytes**. The base64 framing of `AUTH` lines belongs to the
//! client and server state machines, which use the strict [`decode_base64`] /
//! [`encode_base64`] pair from this module (R5034-10).
//!
//! | mechanism | client | server | cleartext | spec |
//! |---|---|---|---|---|
//! | `SCRAM-SHA-256` | [`ScramClient`] | [`ScramServer`] | no | RFC 5802, RFC 7677 |
//! | `SCRAM-SHA-1` | [`ScramClient`] | [`ScramServer`] | no | RFC 5802 |
//! | `CRAM-MD5` | [`CramMd5Client`] | [`CramMd5Server`] | no | RFC 2195 |
//! | `PLAIN` | [`PlainClient`] | [`PlainServer`] | yes | RFC 4616 |
//! | `LOGIN` | [`LoginClient`] | [`LoginServer`] | yes | de facto |
//! | `OAUTHBEARER` | [`OAuthBearerClient`] | [`OAuthBearerServer`] | yes (bearer token) | RFC 7628 |
//! | `XOAUTH2` | [`XOAuth2Client`] | [`XOAuth2Server`] | yes (bearer token) | vendor |
//! | `EXTERNAL` | [`ExternalClient`] | [`ExternalServer`] | no | RFC 4422 App. A |
//!
//! Nothing here has a clock or a random number generator: SCRAM nonces and the CRAM-MD5
//! challenge are supplied by the caller. Servers verify through a host-supplied
//! [`CredentialStore`]; [`MemoryStore`] is a small one for tests and examples.
//!
//! # Driving a client mechanism
//!
//! ```
//! use pop3_proto::sasl::{ClientMechanism, PlainClient, encode_base64};
//!
//! let mut mech = PlainClient::new("test", b"test".to_vec())?.with_authzid("test")?;
//! let ir = mech.initial_response()?.expect("PLAIN has an initial response");
//! let line = encode_base64(ir.expose_secret());
//! assert_eq!(line, b"dGVzdAB0ZXN0AHRlc3Q="); // RFC 5034 §6, TV-6
//! # Ok::<(), pop3_proto::sasl::SaslError>(())
//! ```
//!
//! # Driving a server mechanism
//!
//! ```
//! use pop3_proto::sasl::{MemoryStore, PlainServer, ServerMechanism, ServerStep, decode_base64};
//!
//! let store = MemoryStore::new().with_user("test", b"test".to_vec());
//! let mut mech = PlainServer::new();
//! let ir = decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=")?;
//! match mech.step(Some(&ir), &store) {
//!     ServerStep::Success(id) => assert_eq!(id.user(), "test"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), pop3_proto::sasl::SaslError>(())
//! ```

mod base64;
mod bearer;
mod choice;
mod cram_md5;
mod error;
mod external;
mod gs2;
mod json;
mod login;
mod mechanism;
mod oauthbearer;
mod plain;
mod scram;
mod store;
mod xoauth2;

pub use base64::{decode_base64, encode_base64};
pub use choice::{choose_mechanism, ChoicePolicy, CredentialKind, MechanismName};
pub use cram_md5::{CramMd5Client, CramMd5Server};
pub use error::SaslError;
pub use external::{ExternalClient, ExternalServer};
pub use login::{LoginClient, LoginServer};
pub use mechanism::{AuthFailure, ClientMechanism, Identity, ServerMechanism, ServerStep};
pub use oauthbearer::{OAuthBearerClient, OAuthBearerServer};
pub use plain::{PlainClient, PlainServer};
pub use scram::{ScramClient, ScramCredentials, ScramHash, ScramServer};
pub use store::{CredentialStore, MemoryStore, StoreError};
pub use xoauth2::{XOAuth2Client, XOAuth2Server};

pub(crate) use crate::hex::{hex16, hex_lower};
pub(crate) use json::json_escape;
pub(crate) use mechanism::{
    authorize, check_password, client_authzid, client_name, facts, identified, one_message_client,
    parse_name, received_authzid, valid_name, Message, OneMessageClient, OneMessageServer, SPENT,
};

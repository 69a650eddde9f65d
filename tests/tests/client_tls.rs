//! STLS and the "require TLS" policy (RFC 2595, RFC 8314): refusals before TLS,
//! downgrade reports, the barrier, and the capability cache after the handshake.

use pop3_proto::client::{Client, ClientConfig, Event, Phase, SendError};
use pop3_proto::sasl::{PlainClient, ScramClient, ScramHash};
use pop3_proto::secret::Secret;
use pop3_proto::types::{Command, Password, Username};
use pop3_proto::{Machine as _, StartTls as _};
use pop3_proto_tests::script::{check, Act, Step, TestMechanism};
use pop3_proto_tests::MachineExt as _;

fn require_tls() -> ClientConfig {
    ClientConfig::default().with_require_tls(true)
}

fn user(name: &str) -> Command {
    Command::User(Username::new(name).unwrap())
}

const GREETING: &str = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

fn greeted(config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client.enqueue_all(GREETING.as_bytes());
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Greeting { .. }))
    ));
    client
}

#[test]
fn r2595_8_require_tls_refuses_credentials_before_tls() {
    let mut client = greeted(require_tls());
    assert_eq!(client.send(user("mrose")), Err(SendError::TlsRequired));
    assert_eq!(
        client.send(Command::Pass(Password::new("x").unwrap())),
        Err(SendError::TlsRequired)
    );
    assert_eq!(
        client.apop(
            Username::new("mrose").unwrap(),
            &Secret::new(b"tanstaaf".to_vec())
        ),
        Err(SendError::TlsRequired)
    );
    let plain = PlainClient::new("u", b"p".to_vec()).unwrap();
    assert_eq!(
        client.authenticate(Box::new(plain)),
        Err(SendError::TlsRequired)
    );
    // R8314-3: a client that requires confidentiality does nothing but CAPA and
    // STLS before TLS, so even a mechanism that sends no cleartext waits.
    let scram = ScramClient::new(ScramHash::Sha256, "u", b"p".to_vec(), "nonce").unwrap();
    assert_eq!(
        client.authenticate(Box::new(scram)),
        Err(SendError::TlsRequired)
    );
    assert_eq!(client.send(Command::Utf8), Err(SendError::TlsRequired));
    // Nothing was written.
    assert!(!client.has_output());
    assert_eq!(client.in_flight(), 0);
    // CAPA is allowed.
    client.send(Command::Capa).unwrap();
    assert_eq!(&client.take_output().unwrap()[..], b"CAPA\r\n");
}

#[test]
fn r2595_8_require_tls_stls_not_offered_after_capa() {
    check(require_tls(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
                .expect([
                    "#0 capa User, Sasl([Mechanism(\"PLAIN\")])",
                    "error StlsNotOffered",
                ]),
            // Still no credentials: the error is a report, not a waiver.
            Step::send(user("mrose")).expect(["refused TlsRequired"]),
            Step::new(Act::Auth(TestMechanism::new("PLAIN").cleartext().boxed()))
                .expect(["refused TlsRequired"]),
            Step::send(Command::Quit)
                .client("QUIT\r\n")
                .server("+OK bye\r\n")
                .expect(["#1 closed +OK bye"]),
        ]
    });
}

#[test]
fn r2595_2_require_tls_capa_refused_means_no_stls() {
    check(require_tls(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("-ERR unknown command\r\n")
                .expect(["#0 -ERR unknown command", "error StlsNotOffered"]),
        ]
    });
}

#[test]
fn r2595_8_require_tls_stls_refused_is_a_downgrade_error() {
    check(require_tls(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("-ERR [SYS/TEMP] TLS unavailable\r\n")
                .expect(["error StlsRefused #0 -ERR [SYS/TEMP]{SysTemp} TLS unavailable"]),
            Step::send(user("mrose")).expect(["refused TlsRequired"]),
        ]
    });
}

#[test]
fn r2595_7_require_tls_whole_upgrade_then_credentials() {
    let outcome = check(require_tls(), || {
        vec![
            Step::server_first("+OK ready\r\n").expect(["greeting apop=false +OK ready"]),
            Step::send(Command::Capa)
                .client("CAPA\r\n")
                .server("+OK\r\nSTLS\r\nLOGIN-DELAY 900 USER\r\n.\r\n")
                .expect(["#0 capa Stls, LoginDelay { seconds: 900, per_user: true }"]),
            Step::send(Command::Stls)
                .client("STLS\r\n")
                .server("+OK Begin TLS negotiation\r\n")
                .expect(["#1 start-tls"]),
            Step::new(Act::TlsEstablished),
            // The cache is empty: USER is not checked against the old list.
            Step::send(user("mrose"))
                .client("USER mrose\r\n")
                .server("+OK\r\n")
                .expect(["#2 +OK"]),
            Step::send(Command::Pass(Password::new("tanstaaf").unwrap()))
                .client("PASS tanstaaf\r\n")
                .server("+OK maildrop locked and ready\r\n")
                .expect(["#3 +OK maildrop locked and ready"]),
        ]
    });
    assert!(outcome.client.is_tls());
    assert_eq!(outcome.client.phase(), Phase::Transaction);
}

#[test]
fn r2595_7_capability_cache_cleared_after_tls_established() {
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nSTLS\r\nUSER\r\nPIPELINING\r\n.\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Capabilities { .. }))
    ));
    assert!(client.has_capability(b"stls"));
    client.send(Command::Stls).unwrap();
    client.enqueue_all(b"+OK go\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::StartTls { .. }))
    ));
    assert_eq!(client.phase(), Phase::TlsHandshake);
    // Before the handshake ends nothing may be sent (R2595-3).
    assert_eq!(client.send(Command::Capa), Err(SendError::MustWait));
    client.tls_established();
    assert_eq!(client.phase(), Phase::Authorization);
    assert!(client.capabilities().is_none());
    assert!(!client.has_capability(b"PIPELINING"));
    // Without PIPELINING known, one command at a time again.
    client.send(Command::Capa).unwrap();
    assert_eq!(client.send(Command::Noop), Err(SendError::MustWait));
    client.enqueue_all(b"+OK\r\nUSER\r\n.\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Capabilities { .. }))
    ));
    assert!(client.has_capability(b"USER"));
}

#[test]
fn r2595_3_stls_is_a_pipeline_barrier() {
    let mut client = greeted(ClientConfig::default().with_pipeline_without_capability(true));
    client.send(Command::Capa).unwrap();
    assert_eq!(client.send(Command::Stls), Err(SendError::MustWait));
    client.enqueue_all(b"+OK\r\nSTLS\r\n.\r\n");
    client.next_event().unwrap();
    client.send(Command::Stls).unwrap();
    assert_eq!(client.send(Command::Capa), Err(SendError::MustWait));
    assert_eq!(client.send(Command::Quit), Err(SendError::MustWait));
}

#[test]
fn r6856_3_no_stls_after_utf8_nor_under_implicit_tls() {
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Utf8).unwrap();
    client.enqueue_all(b"+OK UTF8 enabled\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Status { .. }))
    ));
    assert!(client.is_utf8());
    assert!(matches!(
        client.send(Command::Stls),
        Err(SendError::StlsNotAllowed { .. })
    ));

    // R8314-1: implicit TLS satisfies require_tls; STLS makes no sense.
    let mut client = greeted(
        ClientConfig::default()
            .with_implicit_tls(true)
            .with_require_tls(true),
    );
    assert!(matches!(
        client.send(Command::Stls),
        Err(SendError::StlsNotAllowed { .. })
    ));
    client.send(user("mrose")).unwrap();
}

#[test]
fn r2595_2_stls_not_listed_is_refused_once_capabilities_are_known() {
    let mut client = greeted(ClientConfig::default());
    client.send(Command::Capa).unwrap();
    client.enqueue_all(b"+OK\r\nUSER\r\n.\r\n");
    client.next_event().unwrap();
    assert_eq!(
        client.send(Command::Stls),
        Err(SendError::NotAdvertised { capability: "STLS" })
    );
}

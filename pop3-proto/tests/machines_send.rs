//! Every state machine can move between threads, so a multi-threaded runtime can
//! run a session in any task (a client in the middle of AUTH included: it holds
//! its SASL mechanism, which must be `Send`).

fn is_send<T: Send>() {}

#[test]
fn every_machine_is_send() {
    is_send::<pop3_proto::client::Client>();
    is_send::<pop3_proto::server::Server>();
    is_send::<pop3_proto::pop2::Client>();
    is_send::<pop3_proto::pop2::Server>();
}

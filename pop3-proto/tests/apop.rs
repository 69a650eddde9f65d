//! APOP: TV-2, timestamp validation (E-7, R1939-28), constant-time verification.

use pop3_proto::apop::{digest, verify, ApopError, Timestamp};
use pop3_proto::sasl::{CredentialStore, MemoryStore};
use pop3_proto::secret::Secret;
use proptest::prelude::*;

const TV2_TS: &[u8] = b"<1896.697170952@dbc.mtview.ca.us>";
const TV2_DIGEST: &str = "c4c9334bac560ecc979e58001b3e22fb";

fn tanstaaf() -> Secret<Vec<u8>> {
    Secret::new(b"tanstaaf".to_vec())
}

#[test]
fn tv2_apop_digest() {
    let ts = Timestamp::parse(TV2_TS).unwrap();
    let d = digest(&ts, &tanstaaf());
    assert_eq!(d.as_str(), TV2_DIGEST);
    assert_eq!(d.as_bytes(), TV2_DIGEST.as_bytes());
    // The command line of TV-2.
    let line = format!("APOP mrose {}\r\n", d.as_str());
    assert_eq!(line, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
}

#[test]
fn tv2_apop_verify_constant_time_both_cases() {
    let ts = Timestamp::parse(TV2_TS).unwrap();
    assert!(verify(&ts, &tanstaaf(), TV2_DIGEST.as_bytes()));
    assert!(verify(
        &ts,
        &tanstaaf(),
        TV2_DIGEST.to_uppercase().as_bytes()
    ));
    assert!(!verify(
        &ts,
        &tanstaaf(),
        b"c4c9334bac560ecc979e58001b3e22fa"
    ));
    assert!(!verify(
        &ts,
        &tanstaaf(),
        b"c4c9334bac560ecc979e58001b3e22f"
    ));
    assert!(!verify(
        &ts,
        &tanstaaf(),
        b"c4c9334bac560ecc979e58001b3e22fb0"
    ));
    assert!(!verify(
        &ts,
        &tanstaaf(),
        b" c4c9334bac560ecc979e58001b3e22f"
    ));
    assert!(!verify(&ts, &tanstaaf(), b""));
    assert!(!verify(
        &ts,
        &Secret::new(b"tanstaa".to_vec()),
        TV2_DIGEST.as_bytes()
    ));
    // With the secret from a host store.
    let store = MemoryStore::new().with_user("mrose", b"tanstaaf".to_vec());
    let secret = store.password("mrose").unwrap().unwrap();
    assert!(verify(&ts, &secret, TV2_DIGEST.as_bytes()));
}

#[test]
fn e7_timestamp_is_the_first_angle_pair_of_the_greeting() {
    let ts = Timestamp::from_greeting_text(b"POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
        .unwrap();
    assert_eq!(ts.as_bytes(), TV2_TS);
    assert_eq!(ts.to_string(), "<1896.697170952@dbc.mtview.ca.us>");
    let ts = Timestamp::from_greeting_text(b"<a@b> ready <c@d>").unwrap();
    assert_eq!(ts.as_str(), "<a@b>");
    // With response code and text after.
    let ts =
        Timestamp::from_greeting_text(b"[IN-USE] <x.y@host.example> more text > here").unwrap();
    assert_eq!(ts.as_str(), "<x.y@host.example>");
}

#[test]
fn e7_greeting_without_timestamp_means_no_apop() {
    for g in [
        &b""[..],
        b"POP3 server ready",
        b"POP3 server ready <unterminated@x",
        b"> backwards <",
    ] {
        assert_eq!(
            Timestamp::from_greeting_text(g),
            Err(ApopError::NoTimestamp),
            "{g:?}"
        );
    }
}

#[test]
fn malformed_timestamps_are_refused_not_searched_past() {
    for g in [
        &b"<no-at-sign> <1896.697170952@dbc.mtview.ca.us>"[..],
        b"<> ready",
        b"<@host>",
        b"<local@>",
        b"<a@b@c>",
        b"<a b@c>",
        b"<a\x01b@c>",
        b"<a\x80b@c>",
        b"<<a@b>",
        b"<a\tb@c>",
    ] {
        assert!(
            matches!(
                Timestamp::from_greeting_text(g),
                Err(ApopError::Malformed(_))
            ),
            "{:?}",
            String::from_utf8_lossy(g)
        );
    }
    for t in [
        &b"1896@host"[..],
        b"<1896@host",
        b"1896@host>",
        b"<1896@host> ",
        b" <1896@host>",
        b"<a@b>c>",
    ] {
        assert!(
            Timestamp::parse(t).is_err(),
            "{:?}",
            String::from_utf8_lossy(t)
        );
    }
}

#[test]
fn timestamp_length_is_bounded() {
    let host = "h".repeat(Timestamp::MAX_LEN - 3);
    let ok = format!("<a@{host}>");
    assert_eq!(ok.len(), Timestamp::MAX_LEN + 1);
    assert!(Timestamp::parse(ok.as_bytes()).is_err());
    let ok = format!("<a@{}>", &host[1..]);
    assert_eq!(ok.len(), Timestamp::MAX_LEN);
    assert!(Timestamp::parse(ok.as_bytes()).is_ok());
}

#[test]
fn r1939_28_server_timestamp_from_host_values() {
    let ts = Timestamp::new(1896, 697170952, "dbc.mtview.ca.us").unwrap();
    assert_eq!(ts.as_bytes(), TV2_TS);
    assert_eq!(digest(&ts, &tanstaaf()).as_str(), TV2_DIGEST);
    assert_ne!(
        Timestamp::new(1, 2, "h").unwrap(),
        Timestamp::new(1, 3, "h").unwrap()
    );
    assert!(Timestamp::new(u64::MAX, u64::MAX, "pop.example.org").is_ok());
    for bad in ["", "a b", "a@b", "a>b", "a<b", "tab\t", "é"] {
        assert!(Timestamp::new(1, 2, bad).is_err(), "{bad:?}");
    }
}

#[test]
fn digest_debug_is_redacted() {
    let ts = Timestamp::parse(TV2_TS).unwrap();
    let d = digest(&ts, &tanstaaf());
    let dbg = format!("{d:?}");
    assert!(!dbg.contains(TV2_DIGEST), "{dbg}");
    assert!(!dbg.contains("99, 52"), "{dbg}"); // the digits as a byte list
    assert!(!format!("{:?}", tanstaaf()).contains("tanstaaf"));
}

proptest! {
    #[test]
    fn greeting_parsing_never_panics_and_valid_results_are_valid(text in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(ts) = Timestamp::from_greeting_text(&text) {
            let b = ts.as_bytes();
            prop_assert!(b.len() <= Timestamp::MAX_LEN);
            prop_assert!(b.starts_with(b"<") && b.ends_with(b">"));
            prop_assert_eq!(b.iter().filter(|&&c| c == b'@').count(), 1);
            prop_assert!(b.iter().all(|&c| (0x21..=0x7e).contains(&c)));
            prop_assert_eq!(Timestamp::parse(b).unwrap(), ts);
        }
    }

    #[test]
    fn digest_verifies_and_other_digests_do_not(
        local in "[a-z0-9.]{1,20}",
        host in "[a-z0-9.-]{1,20}",
        secret in proptest::collection::vec(any::<u8>(), 0..40),
        other in "[0-9a-fA-F]{0,40}",
    ) {
        let ts = Timestamp::parse(format!("<{local}@{host}>").as_bytes()).unwrap();
        let secret = Secret::new(secret);
        let d = digest(&ts, &secret);
        prop_assert!(verify(&ts, &secret, d.as_bytes()));
        prop_assert_eq!(verify(&ts, &secret, other.as_bytes()), other.eq_ignore_ascii_case(d.as_str()));
    }
}

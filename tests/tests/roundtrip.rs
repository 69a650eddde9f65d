//! Property tests: for every command and reply type, encoding then parsing gives
//! the value back, `encoded_len` is exact, and no parser panics
//! on arbitrary bytes, with or without the lenient options (§4.1).
//!
//! Values come from the `arbitrary` impls of pop3-proto, fed by proptest's bytes.

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;

use pop3_proto::encode::{Encode, MultiLine};
use pop3_proto::options::{CommandOptions, ReplyOptions};
use pop3_proto::types::{
    AuthResponse, Capability, Command, Continuation, DropListing, Greeting, GroupListing,
    LanguageListing, ScanListing, StatusLine, UidListing,
};

/// Builds a `T` from the bytes, or `None` when they do not make a valid value.
fn value<T: for<'a> Arbitrary<'a>>(bytes: &[u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
}

/// The encoded line without its CRLF, checking the CRLF and `encoded_len`.
fn encoded<T: Encode>(v: &T) -> Vec<u8> {
    let mut wire = v.to_vec();
    assert_eq!(wire.len(), v.encoded_len());
    assert!(wire.ends_with(b"\r\n"));
    wire.truncate(wire.len() - 2);
    // One line: no CR, LF or NUL inside.
    assert!(
        !wire.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)),
        "{wire:?}"
    );
    wire
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

/// Lines that look like POP3: printable ASCII with many spaces, and the
/// prefixes the parsers branch on.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(b"".to_vec()),
        Just(b"+OK".to_vec()),
        Just(b"-ERR".to_vec()),
        Just(b"+ ".to_vec()),
        Just(b"+ OK".to_vec()),
        Just(b"+ok [".to_vec()),
        Just(b"-ERR [SYS/".to_vec()),
        Just(b"PASS ".to_vec()),
        Just(b"AUTH ".to_vec()),
        Just(b"XTND ".to_vec()),
        Just(b"TOP ".to_vec()),
        Just(b"SASL ".to_vec()),
        Just(b"EXPIRE ".to_vec()),
        Just(b"LOGIN-DELAY ".to_vec()),
    ];
    let body = proptest::collection::vec(
        prop_oneof![
            4 => 0x20u8..0x7F,
            2 => Just(b' '),
            1 => Just(b'['),
            1 => Just(b']'),
            1 => Just(b'/'),
            1 => b'0'..=b'9',
            1 => any::<u8>(),
        ],
        0..80,
    );
    (prefix, body).prop_map(|(mut p, b)| {
        p.extend(b);
        p
    })
}

fn reply_options() -> [ReplyOptions; 3] {
    [
        ReplyOptions::default(),
        ReplyOptions::lenient(),
        ReplyOptions::lenient().with_bboard_scan(true),
    ]
}

/// Runs every parse entry point on `input`; none may panic.
fn parse_everything(input: &[u8]) {
    let _ = Command::parse(input);
    let _ = Command::parse_with(input, &CommandOptions::lenient());
    let _ = AuthResponse::parse(input);
    let _ = Capability::parse(input);
    let _ = LanguageListing::parse(input);
    for o in reply_options() {
        let _ = StatusLine::parse_with(input, &o);
        let _ = Greeting::parse_with(input, &o);
        let _ = Continuation::parse_with(input, &o);
        let _ = DropListing::parse_with(input, &o);
        let _ = ScanListing::parse_with(input, &o);
        let _ = UidListing::parse_with(input, &o);
        let _ = GroupListing::parse_with(input, &o);
    }
}

/// The generators above must actually produce values, not skip most inputs.
#[test]
fn generators_produce_values() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut made = [0usize; 10];
    for _ in 0..500 {
        let raw: Vec<u8> = (0..256)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        let hits = [
            value::<Command>(&raw).is_some(),
            value::<AuthResponse>(&raw).is_some(),
            value::<StatusLine>(&raw).is_some(),
            value::<Greeting>(&raw).is_some(),
            value::<Continuation>(&raw).is_some(),
            value::<Capability>(&raw).is_some(),
            value::<ScanListing>(&raw).is_some(),
            value::<UidListing>(&raw).is_some(),
            value::<LanguageListing>(&raw).is_some(),
            value::<GroupListing>(&raw).is_some(),
        ];
        for (count, hit) in made.iter_mut().zip(hits) {
            *count += usize::from(hit);
        }
    }
    assert!(made.iter().all(|&m| m >= 250), "{made:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn command_round_trip(raw in bytes()) {
        let Some(c) = value::<Command>(&raw) else { return Ok(()) };
        let wire = encoded(&c);
        prop_assert_eq!(Command::parse(&wire), Ok(c.clone()));
        // The lenient parser reads strict output the same way.
        prop_assert_eq!(Command::parse_with(&wire, &CommandOptions::lenient()), Ok(c));
    }

    #[test]
    fn auth_response_round_trip(raw in bytes()) {
        let Some(r) = value::<AuthResponse>(&raw) else { return Ok(()) };
        prop_assert_eq!(AuthResponse::parse(&encoded(&r)), Ok(r));
    }

    #[test]
    fn status_line_round_trip(raw in bytes()) {
        let Some(s) = value::<StatusLine>(&raw) else { return Ok(()) };
        let wire = encoded(&s);
        prop_assert_eq!(StatusLine::parse(&wire), Ok(s.clone()));
        prop_assert_eq!(StatusLine::parse_with(&wire, &ReplyOptions::lenient()), Ok(s));
    }

    #[test]
    fn greeting_round_trip(raw in bytes()) {
        let Some(g) = value::<Greeting>(&raw) else { return Ok(()) };
        prop_assert_eq!(Greeting::parse(&encoded(&g)), Ok(g));
    }

    #[test]
    fn continuation_round_trip(raw in bytes()) {
        let Some(c) = value::<Continuation>(&raw) else { return Ok(()) };
        let wire = encoded(&c);
        prop_assert!(wire.starts_with(b"+ "));
        prop_assert_eq!(Continuation::parse(&wire), Ok(c));
    }

    #[test]
    fn capability_round_trip(raw in bytes()) {
        let Some(c) = value::<Capability>(&raw) else { return Ok(()) };
        prop_assert_eq!(Capability::parse(&encoded(&c)), Ok(c));
    }

    #[test]
    fn capability_list_round_trip(raw in bytes()) {
        let Some((first, caps)) = value::<(StatusLine, Vec<Capability>)>(&raw) else { return Ok(()) };
        let reply = MultiLine::new(&first, &caps);
        let wire = reply.to_vec();
        prop_assert_eq!(wire.len(), reply.encoded_len());
        let body = wire.strip_suffix(b".\r\n").unwrap();
        let mut lines = body.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        prop_assert_eq!(StatusLine::parse(lines.next().unwrap()), Ok(first));
        let parsed: Vec<Capability> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                // Body lines never need dot-stuffing.
                assert!(!l.starts_with(b"."));
                Capability::parse(l).unwrap()
            })
            .collect();
        prop_assert_eq!(parsed, caps);
    }

    #[test]
    fn drop_listing_round_trip(raw in bytes()) {
        let Some(d) = value::<DropListing>(&raw) else { return Ok(()) };
        let text = d.to_text();
        prop_assert_eq!(DropListing::parse(text.as_bytes()), Ok(d));
        let reply = StatusLine::ok(text).unwrap();
        let parsed = StatusLine::parse(&encoded(&reply)).unwrap();
        prop_assert_eq!(DropListing::parse(parsed.text().as_bytes()), Ok(d));
    }

    #[test]
    fn scan_listing_round_trip(raw in bytes()) {
        let Some(s) = value::<ScanListing>(&raw) else { return Ok(()) };
        let options = ReplyOptions::default().with_bboard_scan(s.maxima.is_some());
        prop_assert_eq!(ScanListing::parse_with(&encoded(&s), &options), Ok(s));
        prop_assert_eq!(ScanListing::parse_with(s.to_text().as_bytes(), &options), Ok(s));
    }

    #[test]
    fn uid_listing_round_trip(raw in bytes()) {
        let Some(u) = value::<UidListing>(&raw) else { return Ok(()) };
        prop_assert_eq!(UidListing::parse(&encoded(&u)), Ok(u.clone()));
        prop_assert_eq!(UidListing::parse(u.to_text().as_bytes()), Ok(u));
    }

    #[test]
    fn language_listing_round_trip(raw in bytes()) {
        let Some(l) = value::<LanguageListing>(&raw) else { return Ok(()) };
        prop_assert_eq!(LanguageListing::parse(&encoded(&l)), Ok(l));
    }

    #[test]
    fn group_listing_round_trip(raw in bytes()) {
        let Some(g) = value::<GroupListing>(&raw) else { return Ok(()) };
        prop_assert_eq!(GroupListing::parse(&encoded(&g)), Ok(g));
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in bytes()) {
        parse_everything(&input);
    }

    #[test]
    fn pop3_like_lines_never_panic(input in line()) {
        parse_everything(&input);
    }

    /// Whatever a parser accepts, its encoder writes back as a line the parser
    /// reads as the same value (parse, encode, parse is stable).
    #[test]
    fn parse_encode_parse_is_stable(input in line()) {
        if let Ok(c) = Command::parse_with(&input, &CommandOptions::lenient()) {
            prop_assert_eq!(Command::parse(&encoded(&c)), Ok(c));
        }
        if let Ok(s) = StatusLine::parse_with(&input, &ReplyOptions::lenient()) {
            prop_assert_eq!(StatusLine::parse(&encoded(&s)), Ok(s));
        }
        if let Ok(c) = Capability::parse(&input) {
            prop_assert_eq!(Capability::parse(&encoded(&c)), Ok(c));
        }
        if let Ok(c) = Continuation::parse_with(&input, &ReplyOptions::lenient()) {
            prop_assert_eq!(Continuation::parse(&encoded(&c)), Ok(c));
        }
        if let Ok(r) = AuthResponse::parse(&input) {
            prop_assert_eq!(AuthResponse::parse(&encoded(&r)), Ok(r));
        }
        if let Ok(l) = LanguageListing::parse(&input) {
            prop_assert_eq!(LanguageListing::parse(&encoded(&l)), Ok(l));
        }
        if let Ok(u) = UidListing::parse_with(&input, &ReplyOptions::lenient()) {
            prop_assert_eq!(UidListing::parse(&encoded(&u)), Ok(u));
        }
    }
}

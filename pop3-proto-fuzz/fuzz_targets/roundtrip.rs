//! Arbitrary typed values (the `arbitrary` impls of pop3-proto), encoded then parsed
//! back: they must be equal.
//!
//! Invariants: `parse(encode(x)) == x` for every line type; `encoded_len` is exact;
//! each encoding is one CRLF line with no CR, LF or NUL inside; status lines and
//! greetings built through the checked constructors fit in 512 octets (R1939-9);
//! a multi-line reply's body lines parse back in order and end with `.`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use pop3_proto::encode::{Encode, MultiLine};
use pop3_proto::options::ReplyOptions;
use pop3_proto::types::{
    AuthResponse, Capability, Command, Continuation, DropListing, Greeting, GroupListing,
    LanguageListing, ScanListing, StatusLine, UidListing,
};

fn line<T: Encode>(value: &T) -> Vec<u8> {
    let wire = value.to_vec();
    assert_eq!(wire.len(), value.encoded_len(), "encoded_len is exact");
    assert!(wire.ends_with(b"\r\n"));
    let inner = wire[..wire.len() - 2].to_vec();
    assert!(
        !inner.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)),
        "{wire:?}"
    );
    inner
}

#[derive(Arbitrary, Debug)]
enum Value {
    Command(Command),
    AuthResponse(AuthResponse),
    StatusLine(StatusLine),
    Greeting(Greeting),
    Continuation(Continuation),
    Capability(Capability),
    Capabilities(StatusLine, Vec<Capability>),
    Scan(ScanListing),
    Scans(StatusLine, Vec<ScanListing>),
    Uid(UidListing),
    Uids(StatusLine, Vec<UidListing>),
    Language(LanguageListing),
    Group(GroupListing),
    Drop(DropListing),
}

fn bboard() -> ReplyOptions {
    ReplyOptions::strict().with_bboard_scan(true)
}

fn scan_back(l: &[u8], with_maxima: bool) -> ScanListing {
    let r = if with_maxima {
        ScanListing::parse_with(l, &bboard())
    } else {
        ScanListing::parse(l)
    };
    r.unwrap_or_else(|e| panic!("{l:?}: {e:?}"))
}

fn multi<T: pop3_proto::encode::BodyLine + core::fmt::Debug + PartialEq>(
    first: &StatusLine,
    body: &[T],
    parse: impl Fn(&[u8]) -> T,
) {
    let wire = MultiLine::new(first, body).to_vec();
    assert_eq!(wire.len(), MultiLine::new(first, body).encoded_len());
    let (lines, rest) = pop3_proto_fuzz::crlf_lines(&wire);
    assert!(rest.is_empty());
    assert_eq!(lines.len(), body.len() + 2, "{wire:?}");
    assert_eq!(StatusLine::parse(lines[0]).as_ref(), Ok(first));
    assert_eq!(*lines.last().unwrap(), b".");
    for (l, v) in lines[1..lines.len() - 1].iter().zip(body) {
        // MultiLine does not stuff: no body line may start with a dot.
        assert!(!l.starts_with(b"."), "unstuffed body line {l:?}");
        assert_eq!(&parse(l), v);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    // `arbitrary` hands out default values once the data runs out: stop there.
    while !u.is_empty() {
        let Ok(value) = Value::arbitrary(&mut u) else {
            break;
        };
        match &value {
            Value::Command(c) => {
                assert_eq!(Command::parse(&line(c)).as_ref(), Ok(c));
                // What a server must accept (R2449-1), except AUTH with a long
                // initial response, which the client sends on its own line.
                if !matches!(c, Command::Auth { .. }) {
                    assert!(
                        c.encoded_len() <= 255,
                        "{c:?} is {} octets",
                        c.encoded_len()
                    );
                }
            }
            Value::AuthResponse(r) => assert_eq!(AuthResponse::parse(&line(r)).as_ref(), Ok(r)),
            Value::StatusLine(s) => {
                assert!(s.encoded_len() <= StatusLine::MAX_LEN);
                assert_eq!(StatusLine::parse(&line(s)).as_ref(), Ok(s));
            }
            Value::Greeting(g) => {
                assert!(g.encoded_len() <= StatusLine::MAX_LEN);
                assert_eq!(Greeting::parse(&line(g)).as_ref(), Ok(g));
            }
            Value::Continuation(c) => assert_eq!(Continuation::parse(&line(c)).as_ref(), Ok(c)),
            Value::Capability(c) => assert_eq!(Capability::parse(&line(c)).as_ref(), Ok(c)),
            Value::Capabilities(s, caps) => multi(s, caps, |l| {
                Capability::parse(l).unwrap_or_else(|e| panic!("{l:?}: {e:?}"))
            }),
            Value::Scan(s) => {
                assert_eq!(&scan_back(&line(s), s.maxima.is_some()), s);
                let text = s.to_text();
                assert_eq!(&scan_back(text.as_bytes(), s.maxima.is_some()), s);
            }
            Value::Scans(first, scans) => {
                // One listing has MAXIMA fields on all lines or on none.
                let with = scans.first().is_some_and(|s| s.maxima.is_some());
                let scans: Vec<ScanListing> = scans
                    .iter()
                    .map(|s| ScanListing {
                        maxima: if with {
                            Some(s.maxima.unwrap_or(0))
                        } else {
                            None
                        },
                        ..*s
                    })
                    .collect();
                multi(first, &scans, |l| scan_back(l, with))
            }
            Value::Uid(x) => {
                assert_eq!(UidListing::parse(&line(x)).as_ref(), Ok(x));
                assert_eq!(UidListing::parse(x.to_text().as_bytes()).as_ref(), Ok(x));
            }
            Value::Uids(first, uids) => multi(first, uids, |l| {
                UidListing::parse(l).unwrap_or_else(|e| panic!("{l:?}: {e:?}"))
            }),
            Value::Language(x) => assert_eq!(LanguageListing::parse(&line(x)).as_ref(), Ok(x)),
            Value::Group(x) => assert_eq!(GroupListing::parse(&line(x)).as_ref(), Ok(x)),
            Value::Drop(d) => {
                assert_eq!(DropListing::parse(d.to_text().as_bytes()).as_ref(), Ok(d))
            }
        }
    }
});

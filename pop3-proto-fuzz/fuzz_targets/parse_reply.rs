//! Client-side line parsers, for each kind of pending command (RFC 1939 §3, RFC 2449 §5): the
//! greeting, status lines (every single-line command), STAT / `LIST n` / `UIDL n`
//! status texts, CAPA / LIST / UIDL / LANG / XTND BBOARDS listing lines, and AUTH
//! continuations, each under arbitrary `ReplyOptions`.
//!
//! Invariants: no panic; whatever parses (strictly or leniently) encodes to one CRLF
//! line that parses back strictly to the same value, with `encoded_len` exact; the
//! lenient parser accepts everything the strict one does, with the same value.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use pop3_proto::encode::Encode;
use pop3_proto::options::ReplyOptions;
use pop3_proto::types::{
    Capability, Continuation, DropListing, Greeting, GroupListing, LanguageListing, ScanListing,
    StatusLine, UidListing,
};

#[derive(Debug, Clone, Copy)]
enum Pending {
    Greeting,
    Single,
    Stat,
    ListOne,
    UidlOne,
    Capa,
    List,
    Uidl,
    Lang,
    XtndBboards,
    Auth,
}

const PENDING: [Pending; 11] = [
    Pending::Greeting,
    Pending::Single,
    Pending::Stat,
    Pending::ListOne,
    Pending::UidlOne,
    Pending::Capa,
    Pending::List,
    Pending::Uidl,
    Pending::Lang,
    Pending::XtndBboards,
    Pending::Auth,
];

fn options(u: &mut Unstructured<'_>) -> ReplyOptions {
    let bits: u8 = u.arbitrary().unwrap_or(0);
    ReplyOptions::default()
        .with_lowercase_status(bits & 1 != 0)
        .with_spaced_status(bits & 2 != 0)
        .with_missing_space(bits & 4 != 0)
        .with_bare_continuation(bits & 8 != 0)
        .with_collapse_spaces(bits & 16 != 0)
        .with_wordy_stat(bits & 64 != 0)
        .with_bboard_scan(bits & 32 != 0)
}

/// Encodes, checks the line shape, and returns the line without CRLF.
fn encoded<T: Encode>(value: &T) -> Vec<u8> {
    let wire = value.to_vec();
    assert_eq!(wire.len(), value.encoded_len(), "encoded_len is exact");
    assert!(wire.ends_with(b"\r\n"));
    let inner = wire[..wire.len() - 2].to_vec();
    assert!(
        !inner.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)),
        "one line: {wire:?}"
    );
    inner
}

/// Strict and lenient parse of one line by `parse`; checks agreement and the round
/// trip through `encode` (a strict re-parse with `reparse`).
fn check<T, E>(
    line: &[u8],
    parse: impl Fn(&[u8], &ReplyOptions) -> Result<T, E>,
    options: &ReplyOptions,
    encode: impl Fn(&T) -> Vec<u8>,
    reparse: impl Fn(&[u8]) -> Result<T, E>,
) where
    T: PartialEq + core::fmt::Debug + Clone,
    E: core::fmt::Debug,
{
    let strict = parse(line, &ReplyOptions::strict()).ok();
    let lenient = parse(line, options).ok();
    if let (Some(s), false) = (&strict, options.bboard_scan) {
        assert_eq!(lenient.as_ref(), Some(s), "leniency only adds: {line:?}");
    }
    for value in [strict, lenient].into_iter().flatten() {
        let inner = encode(&value);
        match reparse(&inner) {
            Ok(back) => assert_eq!(back, value, "round trip of {line:?} via {inner:?}"),
            Err(e) => {
                panic!("{line:?} parsed to {value:?}, encoded as {inner:?}, which fails: {e:?}")
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    // One byte picks the pending command (so seeds are easy to write by hand).
    let Ok(kind) = u.arbitrary::<u8>() else {
        return;
    };
    let pending = PENDING[usize::from(kind) % PENDING.len()];
    let options = options(&mut u);
    let rest = u.take_rest();
    for line in rest.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match pending {
            Pending::Greeting => check(
                line,
                Greeting::parse_with,
                &options,
                encoded,
                Greeting::parse,
            ),
            Pending::Single => check(
                line,
                StatusLine::parse_with,
                &options,
                encoded,
                StatusLine::parse,
            ),
            Pending::Stat | Pending::ListOne | Pending::UidlOne => {
                // The status line first, then its text as the listing.
                let Ok(status) = StatusLine::parse_with(line, &options) else {
                    continue;
                };
                let text = status.text().as_bytes();
                match pending {
                    Pending::Stat => check(
                        text,
                        DropListing::parse_with,
                        &options,
                        |d| d.to_text().as_bytes().to_vec(),
                        DropListing::parse,
                    ),
                    Pending::ListOne => {
                        let o = options.with_bboard_scan(false);
                        check(
                            text,
                            ScanListing::parse_with,
                            &o,
                            |s| s.to_text().as_bytes().to_vec(),
                            ScanListing::parse,
                        )
                    }
                    _ => check(
                        text,
                        UidListing::parse_with,
                        &options,
                        |s| s.to_text().as_bytes().to_vec(),
                        UidListing::parse,
                    ),
                }
            }
            Pending::Capa => check(
                line,
                |l, _| Capability::parse(l),
                &options,
                encoded,
                Capability::parse,
            ),
            Pending::List => check(
                line,
                ScanListing::parse_with,
                &options,
                encoded,
                // A MAXIMA field is there exactly when the value has one.
                |l| {
                    let bboard = ReplyOptions::strict().with_bboard_scan(true);
                    ScanListing::parse_with(l, &bboard).or_else(|_| ScanListing::parse(l))
                },
            ),
            Pending::Uidl => check(
                line,
                UidListing::parse_with,
                &options,
                encoded,
                UidListing::parse,
            ),
            Pending::Lang => check(
                line,
                |l, _| LanguageListing::parse(l),
                &options,
                encoded,
                LanguageListing::parse,
            ),
            Pending::XtndBboards => check(
                line,
                GroupListing::parse_with,
                &options,
                encoded,
                GroupListing::parse,
            ),
            Pending::Auth => {
                if line.first() == Some(&b'+') && !line.starts_with(b"+OK") {
                    check(
                        line,
                        Continuation::parse_with,
                        &options,
                        encoded,
                        Continuation::parse,
                    )
                } else {
                    check(
                        line,
                        StatusLine::parse_with,
                        &options,
                        encoded,
                        StatusLine::parse,
                    )
                }
            }
        }
    }
});

//! The GS2 header (RFC 5801 §4) that SCRAM (RFC 5802 §7) and OAUTHBEARER (RFC 7628
//! §3.1) messages start with, without channel binding, and its `saslname` escaping.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::parse_name;

/// Escapes a GS2 `saslname` (RFC 5801): `=` as `=3D`, `,` as `=2C`.
pub(crate) fn escape_saslname(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '=' => out.push_str("=3D"),
            ',' => out.push_str("=2C"),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape_saslname`]; `None` when `=` is followed by anything but `2C` / `3D`, or
/// a raw `,` appears (RFC 5802 §5.1: the server MUST fail).
pub(crate) fn unescape_saslname(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    if raw.contains(&b',') {
        return None;
    }
    if !raw.contains(&b'=') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'=' {
            let (code, after) = tail.split_at_checked(2)?;
            out.push(match code {
                b"2C" => b',',
                b"3D" => b'=',
                _ => return None,
            });
            rest = after;
        } else {
            out.push(b);
            rest = tail;
        }
    }
    Some(Cow::Owned(out))
}

/// Splits a client's GS2 header, `("n" / "y") "," ["a=" saslname] ","`, off the front
/// of `message`: the authorization identity it names (unescaped and checked), and the
/// rest of the message. Channel binding (`p=`) is refused: no mechanism here offers it.
pub(crate) fn split_gs2_header(message: &[u8]) -> Result<(Option<String>, &[u8]), &'static str> {
    let rest = match message.split_first() {
        Some((b'n' | b'y', rest)) => rest,
        Some((b'p', _)) => return Err("channel binding is not supported"),
        _ => return Err("missing GS2 header"),
    };
    let rest = rest.strip_prefix(b",").ok_or("bad GS2 header")?;
    let comma = memchr::memchr(b',', rest).ok_or("bad GS2 header")?;
    let (authzid, rest) = rest.split_at(comma);
    let rest = rest.get(1..).unwrap_or_default();
    if authzid.is_empty() {
        return Ok((None, rest));
    }
    let raw = authzid.strip_prefix(b"a=").ok_or("bad GS2 authzid")?;
    let name = unescape_saslname(raw).ok_or("bad GS2 authzid escaping")?;
    let name = parse_name(&name).ok_or("bad GS2 authzid")?;
    Ok((Some(String::from(name)), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saslname_escaping_round_trips() {
        let e = escape_saslname("a=b,c");
        assert_eq!(e, "a=3Db=2Cc");
        assert_eq!(
            unescape_saslname(e.as_bytes()).as_deref(),
            Some(&b"a=b,c"[..])
        );
        assert!(unescape_saslname(b"a=2").is_none());
        assert!(unescape_saslname(b"a=41").is_none());
        assert!(unescape_saslname(b"a,b").is_none());
    }

    #[test]
    fn gs2_headers() {
        assert_eq!(split_gs2_header(b"n,,rest"), Ok((None, &b"rest"[..])));
        assert_eq!(
            split_gs2_header(b"y,a=a=3Db=2Cc,rest"),
            Ok((Some(String::from("a=b,c")), &b"rest"[..]))
        );
        assert!(split_gs2_header(b"p=tls-unique,,x").is_err());
        assert!(split_gs2_header(b"n,x=y,rest").is_err());
        assert!(split_gs2_header(b"n,a=bad=2X,rest").is_err());
        assert!(split_gs2_header(b"n,a=,rest").is_err());
        assert!(split_gs2_header(b"n").is_err());
        assert!(split_gs2_header(b"").is_err());
    }
}

//! Percent-encoding of the user and `;AUTH=` parts (RFC 2384 §3, RFC 1738 §5).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::UrlError;
use crate::hex::hex_digit;

/// RFC 1738 `achar` octets that may appear in the clear: `uchar` without
/// `escape` (alpha, digit, safe, extra), plus `&`, `=`, `~` (R2384-1).
pub(super) fn is_achar_clear(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'$' | b'-'
                | b'_'
                | b'.'
                | b'+'
                | b'!'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b','
                | b'&'
                | b'='
                | b'~'
        )
}

/// Percent-decodes `1*achar` (R2384-4) into UTF-8 (R2384-5).
pub(super) fn decode(raw: &str, base: usize) -> Result<String, UrlError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_digit);
            let lo = bytes.get(i + 2).copied().and_then(hex_digit);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                _ => return Err(UrlError::InvalidPercentEncoding { offset: base + i }),
            }
            i += 3;
        } else if is_achar_clear(b) {
            out.push(b);
            i += 1;
        } else {
            let ch = raw
                .get(i..)
                .and_then(|s| s.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(UrlError::InvalidCharacter {
                ch,
                offset: base + i,
            });
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::NotUtf8)
}

/// Writes octets with every one that is not a clear `achar` as `%XX`.
pub(super) fn write_encoded(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_achar_clear(b) {
            fmt::Write::write_char(f, char::from(b))?;
        } else {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
            fmt::Write::write_char(f, '%')?;
            fmt::Write::write_char(f, char::from(hi))?;
            fmt::Write::write_char(f, char::from(lo))?;
        }
    }
    Ok(())
}

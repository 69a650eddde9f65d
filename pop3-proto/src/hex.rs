//! Hex digits, as the APOP and CRAM-MD5 digests are written (RFC 1939 §7,
//! RFC 2195 §2): shared by [`crate::apop`], [`crate::sasl`] and the
//! percent-decoding of [`crate::url`].

use alloc::vec::Vec;

/// The value of one hex digit, either case.
pub(crate) fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&c) = HEX.get(usize::from(nibble)) {
                out.push(c);
            }
        }
    }
    out
}

/// Decodes exactly 32 hex digits (either case) into 16 octets.
pub(crate) fn hex16(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (hex_digit(*hi)?, hex_digit(*lo)?),
            _ => return None,
        };
        *o = (hi << 4) | lo;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0u8..16).map(|i| i * 17).collect();
        let hex = hex_lower(&bytes);
        assert_eq!(hex, b"00112233445566778899aabbccddeeff");
        assert_eq!(hex16(&hex).map(|a| a.to_vec()), Some(bytes));
        assert!(hex16(b"00112233445566778899AABBCCDDEEFF").is_some());
        assert!(hex16(b"0011223344556677889").is_none());
        assert!(hex16(b"g0112233445566778899aabbccddeeff").is_none());
    }
}

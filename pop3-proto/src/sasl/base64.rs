//! Strict base64 for `AUTH` lines (R5034-10, R5034-17).

use alloc::vec::Vec;
use base64::Engine as _;

use super::SaslError;

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Decodes one line of base64 (without its CRLF) as RFC 5034 requires both sides to.
///
/// Strict (R5034-10): any character outside `A-Z a-z 0-9 + /` is rejected, `=` may only
/// appear as one or two padding characters at the very end, padding is required (the length
/// is a multiple of 4), and the unused bits before the padding must be zero. An empty line is
/// valid and means empty data (R5034-17); the special initial response `=` and the cancel
/// line `*` are the state machines' business and are **rejected** here.
///
/// ```
/// use pop3_proto::sasl::decode_base64;
/// assert_eq!(decode_base64(b"dGVzdAB0ZXN0AHRlc3Q=").unwrap(), b"test\0test\0test");
/// assert_eq!(decode_base64(b"").unwrap(), b"");
/// assert!(decode_base64(b"=AAA").is_err());
/// assert!(decode_base64(b"AAA=BBB").is_err());
/// assert!(decode_base64(b"AA").is_err());
/// assert!(decode_base64(b"*").is_err());
/// ```
pub fn decode_base64(line: &[u8]) -> Result<Vec<u8>, SaslError> {
    if line.len() % 4 != 0 {
        return Err(SaslError::InvalidBase64);
    }
    let padding = line.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return Err(SaslError::InvalidBase64);
    }
    let body = line
        .get(..line.len() - padding)
        .ok_or(SaslError::InvalidBase64)?;
    if !body.iter().all(|&b| is_base64_char(b)) {
        return Err(SaslError::InvalidBase64);
    }
    base64::engine::general_purpose::STANDARD
        .decode(line)
        .map_err(|_| SaslError::InvalidBase64)
}

/// Encodes data as one line of base64 for the wire (standard alphabet, with padding, no
/// line breaks, no CRLF). Empty data gives an empty line; the state machines send `=` for
/// an empty *initial* response themselves (R5034-7).
///
/// ```
/// use pop3_proto::sasl::encode_base64;
/// assert_eq!(encode_base64(b"\x01"), b"AQ==");
/// assert_eq!(encode_base64(b""), b"");
/// ```
pub fn encode_base64(data: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(data)
        .into_bytes()
}

//! Parsing with nom, private to the crate: from one framed line to a typed value.
//! No nom type leaves this module.

use crate::types::{is_rchar, OtherCapability};

/// Whether `text` begins with a well-formed response code, `[` level *(`/` level) `]`
/// (R2449-20). A text that does not (no closing `]`, an empty level) is plain text
/// (IMPL-8).
pub(crate) fn starts_with_code(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"[") else {
        return false;
    };
    let Some(end) = memchr::memchr(b']', rest) else {
        return false;
    };
    let inner = rest.get(..end).unwrap_or_default();
    !inner.is_empty()
        && inner
            .split(|&b| b == b'/')
            .all(|level| !level.is_empty() && level.iter().all(|&b| is_rchar(b)))
}

/// Whether an unknown-capability value would in fact parse as a typed capability.
pub(crate) fn is_typed_capability(_other: &OtherCapability) -> bool {
    // Filled in by the capability parser.
    false
}

//! Finding LFs in short stretches, where a `memchr` call costs more in set-up than in
//! search: fixed 64-octet blocks whose compares the compiler vectorises, without a call.

/// The block size.
pub(super) const BLOCK: usize = 64;

/// `true` if `block` holds an LF. Written as a fold without early exit so that the
/// compiler makes it vector compares and one mask test.
#[inline(always)]
pub(super) fn has_lf(block: &[u8]) -> bool {
    block.iter().fold(false, |any, &b| any | (b == b'\n'))
}

/// The offset of the first LF in `block`, which holds one (else `BLOCK`): the 16-octet
/// group with [`has_lf`], then eight octets at a time (SWAR): in `x = word ^ 0x0a0a..`,
/// an LF is a zero octet, and `(x - 0x0101..) & !x & 0x8080..` sets the high bit of the
/// lowest zero octet (higher ones may be false positives, after a borrow, but only
/// above a true zero, so the lowest set bit is exact).
#[inline(always)]
pub(super) fn first_lf(block: &[u8; BLOCK]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    for (g, group) in block.chunks_exact(16).enumerate() {
        if !has_lf(group) {
            continue;
        }
        for (k, word) in group.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ LF;
            let flags = x.wrapping_sub(ONES) & !x & HIGH;
            if flags != 0 {
                return g * 16 + k * 8 + (flags.trailing_zeros() / 8) as usize;
            }
        }
    }
    BLOCK
}

/// The first LF of `hay`, for a search expected to end within a line or two (the
/// decoder's walk over dot-dense bodies): up to two whole blocks first, `memchr` past
/// them, so a long line still costs no more than `memchr`. Kept out of line: inlined,
/// it made the `Bytes` decoding path slower.
#[inline(never)]
pub(super) fn find_lf_near(hay: &[u8]) -> Option<usize> {
    let mut at = 0;
    for _ in 0..2 {
        let Some(block) = hay.get(at..).and_then(<[u8]>::first_chunk::<BLOCK>) else {
            break;
        };
        if has_lf(block) {
            return Some(at + first_lf(block));
        }
        at += BLOCK;
    }
    memchr::memchr(b'\n', hay.get(at..)?).map(|k| at + k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Against `memchr`, with the LF (or none) at every place around the block edges,
    /// after bytes that are one bit away from an LF (SWAR false positives).
    #[test]
    fn find_lf_near_agrees_with_memchr() {
        for len in 0..=3 * BLOCK + 9 {
            for filler in [b'a', b'\n' ^ 0x80, b'\n' - 1, b'\n' + 1, 0, 0xff] {
                let mut hay = vec![filler; len];
                assert_eq!(find_lf_near(&hay), memchr::memchr(b'\n', &hay), "{len}");
                for at in 0..len {
                    hay.fill(filler);
                    if let Some(b) = hay.get_mut(at) {
                        *b = b'\n';
                    }
                    if let Some(b) = hay.get_mut(at + 1) {
                        *b = b'\n';
                    }
                    assert_eq!(find_lf_near(&hay), Some(at), "{len} {at} {filler}");
                }
            }
        }
    }
}

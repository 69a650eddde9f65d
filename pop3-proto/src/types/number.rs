//! Decimal numbers: the one digit rule every parser and value check shares.

use core::fmt;

/// What was wrong with a number (E-12, IMPL-20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// No digits at all.
    Empty,
    /// A character other than `0`-`9`, a sign included.
    NotDecimal,
    /// Too large for the field.
    TooLarge,
    /// 0 where numbering starts at 1 (message numbers, R1939-20).
    Zero,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberError::Empty => "no digits",
            NumberError::NotDecimal => "not a decimal number",
            NumberError::TooLarge => "too large",
            NumberError::Zero => "0 is not a message number",
        })
    }
}

/// A decimal number of digits only, at most `max`: leading zeros accepted, signs
/// refused, checked arithmetic (E-12, IMPL-20).
pub(crate) fn decimal(token: &[u8], max: u64) -> Result<u64, NumberError> {
    if token.is_empty() {
        return Err(NumberError::Empty);
    }
    let mut n: u64 = 0;
    for &b in token {
        if !b.is_ascii_digit() {
            return Err(NumberError::NotDecimal);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .filter(|&n| n <= max)
            .ok_or(NumberError::TooLarge)?;
    }
    Ok(n)
}

/// A `u32` in decimal (see [`decimal`]).
pub(crate) fn decimal_u32(token: &[u8]) -> Result<u32, NumberError> {
    let n = decimal(token, u64::from(u32::MAX))?;
    u32::try_from(n).map_err(|_| NumberError::TooLarge)
}

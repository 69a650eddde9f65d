//! [`Secret`]: a value (a password, a SASL response, an APOP shared secret) that must
//! never show in logs or traces and is wiped from memory when dropped.

use core::fmt;
use zeroize::Zeroize;

/// A value that is redacted in `Debug` and `Display` and zeroed on drop.
///
/// ```
/// use pop3_proto::secret::Secret;
/// let pw = Secret::new(b"tanstaaf".to_vec());
/// assert_eq!(format!("{pw:?}"), "Secret([REDACTED])");
/// assert_eq!(pw.expose_secret(), b"tanstaaf");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself. Every call site that reveals a secret names this method,
    /// which keeps leaks easy to audit.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    #[test]
    fn debug_and_display_are_redacted() {
        let s: Secret<Vec<u8>> = Secret::new(b"hunter2".to_vec());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose_secret().as_slice(), b"hunter2");
    }
}

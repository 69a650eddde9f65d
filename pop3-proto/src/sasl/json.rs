//! The bit of JSON the OAuth mechanisms write.

use alloc::string::String;

/// Escapes a string for a JSON string literal (used by the OAuth error challenges).
pub(crate) fn json_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let n = c as u32;
                for shift in [4, 0] {
                    let d = (n >> shift) & 0xf;
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escape_controls() {
        let mut s = String::new();
        json_escape(&mut s, "a\"b\\c\u{1}");
        assert_eq!(s, "a\\\"b\\\\c\\u0001");
    }
}

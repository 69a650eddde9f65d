//! Helpers shared by the fuzz targets: cutting an input into chunks, and the
//! obviously-correct reference implementations the differential targets compare with.

use arbitrary::Unstructured;

/// Sorted cut positions in `0..=len`, drawn from `u` (at most `max` cuts). When `u`
/// runs dry the remaining input is not cut.
pub fn cuts(u: &mut Unstructured<'_>, len: usize, max: usize) -> Vec<usize> {
    let n = u.int_in_range(0..=max).unwrap_or(0);
    let mut cuts = Vec::with_capacity(n);
    for _ in 0..n {
        match u.int_in_range(0..=len) {
            Ok(c) => cuts.push(c),
            Err(_) => break,
        }
    }
    cuts.sort_unstable();
    cuts
}

/// `data` cut at the sorted positions `cuts` (empty pieces kept: a zero-length
/// read is a legal thing to feed).
pub fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut prev = 0;
    for &c in cuts {
        let c = c.clamp(prev, data.len());
        out.push(&data[prev..c]);
        prev = c;
    }
    out.push(&data[prev..]);
    out
}

/// `data` one byte at a time.
pub fn bytewise(data: &[u8]) -> Vec<&[u8]> {
    data.chunks(1).collect()
}

/// Splits `data` after every LF (the last piece may have none).
pub fn lines_with_ends(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            out.push(&data[start..=i]);
            start = i + 1;
        }
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

/// What the reference framer gives for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefLine {
    /// Content without its line end, and whether the end was CRLF.
    Line(Vec<u8>, bool),
    /// Over-long: octets skipped, line end included.
    TooLong(usize),
    /// Strict mode, bare LF: octets skipped.
    BareLf(usize),
}

/// Reference line framer (framing.rs's contract, written the obvious way): every LF
/// ends a line; a line (with its end) longer than `max_line` is `TooLong`, else a bare
/// LF in strict mode is `BareLf`. Returns the items and the bytes the framer must
/// still hold (the unfinished last line, unless it already passed the limit).
pub fn reference_frame(
    input: &[u8],
    max_line: usize,
    allow_bare_lf: bool,
) -> (Vec<RefLine>, Vec<u8>) {
    let mut items = Vec::new();
    let mut start = 0;
    for (i, &b) in input.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let total = i + 1 - start;
        let crlf = i > start && input[i - 1] == b'\r';
        if total > max_line {
            items.push(RefLine::TooLong(total));
        } else if crlf {
            items.push(RefLine::Line(input[start..i - 1].to_vec(), true));
        } else if allow_bare_lf {
            items.push(RefLine::Line(input[start..i].to_vec(), false));
        } else {
            items.push(RefLine::BareLf(total));
        }
        start = i + 1;
    }
    let rest = &input[start..];
    let rest = if rest.len() < max_line {
        rest.to_vec()
    } else {
        Vec::new()
    };
    (items, rest)
}

/// Reference un-stuffer (R1939-13), line by line. Returns the body and the number of
/// wire octets through the terminator, or `None` when `wire` holds no terminator.
pub fn reference_unstuff(wire: &[u8], lenient: bool, lf_to_crlf: bool) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let mut j = i;
        let (content_end, next) = loop {
            if j >= wire.len() {
                return None;
            }
            if wire[j] == b'\n' {
                if j > i && wire[j - 1] == b'\r' {
                    break (j - 1, j + 1);
                }
                if lenient {
                    break (j, j + 1);
                }
            }
            j += 1;
        };
        let line = &wire[i..content_end];
        let ending = &wire[content_end..next];
        if line == b"." {
            return Some((out, next));
        }
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        if lenient && lf_to_crlf && ending == b"\n" {
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(ending);
        }
        i = next;
    }
}

/// The message as the stuffer must send it, before stuffing (R1939-14, E-6, E-22):
/// bare LFs turned into CRLF when `lf_to_crlf`, cut for `TOP n` when `top` is set,
/// and a CRLF added after a last line that has none.
pub fn reference_sent(message: &[u8], lf_to_crlf: bool, top: Option<u64>) -> Vec<u8> {
    // Lines, each with its end ("\r\n", or "\n" converted); a bare LF is content
    // when not converting.
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    for (i, &b) in message.iter().enumerate() {
        if b == b'\n' {
            let cr = i > 0 && message[i - 1] == b'\r';
            if cr {
                cur.push(b'\n');
                lines.push(std::mem::take(&mut cur));
            } else if lf_to_crlf {
                cur.extend_from_slice(b"\r\n");
                lines.push(std::mem::take(&mut cur));
            } else {
                cur.push(b'\n');
            }
        } else {
            cur.push(b);
        }
    }
    let mut unterminated = None;
    if !cur.is_empty() {
        unterminated = Some(cur);
    }
    let mut all: Vec<(Vec<u8>, bool)> = lines.into_iter().map(|l| (l, true)).collect();
    if let Some(l) = unterminated {
        all.push((l, false));
    }
    let selected: Vec<(Vec<u8>, bool)> = match top {
        None => all,
        Some(n) => {
            let mut out = Vec::new();
            let mut iter = all.into_iter();
            // Headers, through the first empty line.
            let mut found_blank = false;
            for (line, terminated) in iter.by_ref() {
                let blank = terminated && line == b"\r\n";
                out.push((line, terminated));
                if blank {
                    found_blank = true;
                    break;
                }
            }
            if found_blank {
                for (line, terminated) in iter.take(n.min(usize::MAX as u64) as usize) {
                    out.push((line, terminated));
                }
            }
            out
        }
    };
    let mut sent = Vec::new();
    for (line, terminated) in selected {
        sent.extend_from_slice(&line);
        if !terminated {
            sent.extend_from_slice(b"\r\n");
        }
    }
    sent
}

/// Splits a byte stream into CRLF lines: `(lines without CRLF, unterminated rest)`.
pub fn crlf_lines(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == b'\r' && data[i + 1] == b'\n' {
            out.push(&data[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    (out, &data[start..])
}

//! Leaving mail on the server: which messages are new, by their unique-ids.
//!
//! A client that keeps mail on the server (RFC 1939 §7, UIDL) remembers the
//! unique-ids of the messages it has saved, and on the next session fetches only
//! the messages whose unique-id it has not seen. This module is that bookkeeping,
//! with no IO and no runtime: the caller reads the UIDL listing with the client
//! machine, keeps a [`SeenSet`] wherever it likes (the [`SeenSet::to_text`] form is
//! one unique-id per line), and asks [`plan`] what to do.
//!
//! What servers get wrong is handled here once:
//! - two messages with the same unique-id (RFC 1939 §7 forbids it, some servers
//!   do it after a crash): the first is fetched, the others are reported in
//!   [`Plan::duplicates`] and not fetched, so nothing is saved twice;
//! - a message number listed twice: only its first line counts
//!   ([`Plan::repeated`]), though a unique-id on any line is never counted gone;
//! - an empty listing: nothing to fetch, every seen unique-id is gone.
//!
//! A seen unique-id that is no longer in the listing ([`Plan::gone`]) was deleted
//! on the server. Drop it with [`SeenSet::forget`] only when the listing was read
//! whole: a listing cut short would otherwise make the caller forget messages it
//! still has, and fetch them again later.
//!
//! ```
//! use pop3_proto::sync::{plan, SeenSet};
//! use pop3_proto::types::{MessageNumber, UidListing, UniqueId};
//!
//! let line = |n: u32, uid: &str| UidListing {
//!     msg: MessageNumber::new(n).unwrap(),
//!     uid: UniqueId::new(uid).unwrap(),
//! };
//! let mut seen = SeenSet::parse(b"whqtswO00WBw418f9t5JxYwZ\nold-one\n").unwrap();
//! let listing = [line(1, "whqtswO00WBw418f9t5JxYwZ"), line(2, "QhdPYR:00WBw1Ph7x7")];
//! let p = plan(&listing, &seen);
//! assert_eq!(p.fetch, [line(2, "QhdPYR:00WBw1Ph7x7")]);
//! assert_eq!(p.already, 1);
//! assert_eq!(p.gone, [UniqueId::new("old-one").unwrap()]);
//! // After saving message 2, and with the listing read whole:
//! seen.insert(UniqueId::new("QhdPYR:00WBw1Ph7x7").unwrap());
//! seen.forget(&p.gone);
//! assert!(plan(&listing, &seen).fetch.is_empty());
//! assert_eq!(seen.to_text(), b"QhdPYR:00WBw1Ph7x7\nwhqtswO00WBw418f9t5JxYwZ\n");
//! ```

use alloc::collections::{btree_map, BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::types::{MessageNumber, UidListing, UniqueId, ValueError};

/// The unique-ids a client has saved: what [`plan`] compares a listing with.
///
/// Its persistent form ([`to_text`](SeenSet::to_text), [`parse`](SeenSet::parse))
/// is one unique-id per line, LF-ended, in sorted order. Unique-ids are 1-70
/// octets in 0x21-0x7E (RFC 1939 §7), so a line holds exactly one and needs no
/// quoting.
///
/// ```
/// use pop3_proto::sync::SeenSet;
/// use pop3_proto::types::UniqueId;
/// let mut seen = SeenSet::new();
/// assert!(seen.insert(UniqueId::new("b").unwrap()));
/// assert!(seen.insert(UniqueId::new("a").unwrap()));
/// assert!(!seen.insert(UniqueId::new("a").unwrap()));
/// assert_eq!(seen.len(), 2);
/// assert_eq!(SeenSet::parse(&seen.to_text()).unwrap(), seen);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenSet {
    uids: BTreeSet<UniqueId>,
}

impl SeenSet {
    /// An empty set: nothing seen yet (a first run).
    ///
    /// ```
    /// assert!(pop3_proto::sync::SeenSet::new().is_empty());
    /// ```
    pub fn new() -> Self {
        SeenSet::default()
    }

    /// Whether `uid` has been seen.
    ///
    /// ```
    /// use pop3_proto::sync::SeenSet;
    /// use pop3_proto::types::UniqueId;
    /// let seen = SeenSet::parse(b"abc\n").unwrap();
    /// assert!(seen.contains(&UniqueId::new("abc").unwrap()));
    /// ```
    pub fn contains(&self, uid: &UniqueId) -> bool {
        self.uids.contains(uid)
    }

    /// Records `uid` as saved; false when it was already there.
    ///
    /// ```
    /// use pop3_proto::sync::SeenSet;
    /// use pop3_proto::types::UniqueId;
    /// let mut seen = SeenSet::new();
    /// assert!(seen.insert(UniqueId::new("abc").unwrap()));
    /// ```
    pub fn insert(&mut self, uid: UniqueId) -> bool {
        self.uids.insert(uid)
    }

    /// Removes `uid`; false when it was not there.
    ///
    /// ```
    /// use pop3_proto::sync::SeenSet;
    /// use pop3_proto::types::UniqueId;
    /// let mut seen = SeenSet::parse(b"abc\n").unwrap();
    /// assert!(seen.remove(&UniqueId::new("abc").unwrap()));
    /// assert!(seen.is_empty());
    /// ```
    pub fn remove(&mut self, uid: &UniqueId) -> bool {
        self.uids.remove(uid)
    }

    /// Removes every unique-id of `gone` (usually [`Plan::gone`], once the
    /// listing was read whole); returns how many were removed.
    ///
    /// ```
    /// use pop3_proto::sync::SeenSet;
    /// use pop3_proto::types::UniqueId;
    /// let mut seen = SeenSet::parse(b"a\nb\n").unwrap();
    /// assert_eq!(seen.forget(&[UniqueId::new("a").unwrap()]), 1);
    /// assert_eq!(seen.to_text(), b"b\n");
    /// ```
    pub fn forget<'a>(&mut self, gone: impl IntoIterator<Item = &'a UniqueId>) -> usize {
        gone.into_iter()
            .filter(|uid| self.uids.remove(*uid))
            .count()
    }

    /// How many unique-ids are in the set.
    ///
    /// ```
    /// assert_eq!(pop3_proto::sync::SeenSet::parse(b"a\nb\n").unwrap().len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.uids.len()
    }

    /// Whether the set is empty.
    ///
    /// ```
    /// assert!(pop3_proto::sync::SeenSet::parse(b"").unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.uids.is_empty()
    }

    /// The unique-ids, in sorted order.
    ///
    /// ```
    /// let seen = pop3_proto::sync::SeenSet::parse(b"b\na\n").unwrap();
    /// let all: Vec<&[u8]> = seen.iter().map(|u| u.as_bytes()).collect();
    /// assert_eq!(all, [b"a", b"b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &UniqueId> + '_ {
        self.uids.iter()
    }

    /// The persistent form: each unique-id on its own LF-ended line, sorted.
    /// The empty set is the empty text.
    ///
    /// ```
    /// use pop3_proto::sync::SeenSet;
    /// use pop3_proto::types::UniqueId;
    /// let seen: SeenSet = ["y", "x"].iter().map(|u| UniqueId::new(*u).unwrap()).collect();
    /// assert_eq!(seen.to_text(), b"x\ny\n");
    /// ```
    pub fn to_text(&self) -> Vec<u8> {
        let len = self.uids.iter().map(|u| u.as_bytes().len() + 1).sum();
        let mut out = Vec::with_capacity(len);
        for uid in &self.uids {
            out.extend_from_slice(uid.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Reads the persistent form: one unique-id per line, each line ended by LF
    /// (a CR before the LF is allowed, for a file edited elsewhere), the last
    /// line's LF optional. A line repeated is one unique-id. Any other line (empty,
    /// with a space or a control octet, longer than 70 octets) is an error naming
    /// it; no input panics.
    ///
    /// ```
    /// use pop3_proto::sync::{SeenSet, SyncError};
    /// assert_eq!(SeenSet::parse(b"a\r\nb").unwrap().len(), 2);
    /// let err = SeenSet::parse(b"a\nnot one\n").unwrap_err();
    /// assert_eq!(err.line(), 2);
    /// assert!(matches!(err, SyncError::BadLine { line: 2, .. }));
    /// ```
    pub fn parse(text: &[u8]) -> Result<Self, SyncError> {
        let mut uids = BTreeSet::new();
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        if text.is_empty() {
            return Ok(SeenSet { uids });
        }
        for (index, line) in body.split(|&b| b == b'\n').enumerate() {
            let line_number = index.saturating_add(1);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let uid = UniqueId::new(line).map_err(|source| SyncError::BadLine {
                line: line_number,
                source,
            })?;
            uids.insert(uid);
        }
        Ok(SeenSet { uids })
    }
}

impl FromIterator<UniqueId> for SeenSet {
    fn from_iter<I: IntoIterator<Item = UniqueId>>(iter: I) -> Self {
        SeenSet {
            uids: iter.into_iter().collect(),
        }
    }
}

impl Extend<UniqueId> for SeenSet {
    fn extend<I: IntoIterator<Item = UniqueId>>(&mut self, iter: I) {
        self.uids.extend(iter);
    }
}

/// Why the persistent form of a [`SeenSet`] could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A line that is not one unique-id (RFC 1939 §7: 1-70 octets in 0x21-0x7E).
    #[error("line {line} is not a unique-id: {source}")]
    BadLine {
        /// The line, counted from 1.
        line: usize,
        /// What is wrong with it.
        source: ValueError,
    },
}

impl SyncError {
    /// The line the error is about, counted from 1.
    ///
    /// ```
    /// let err = pop3_proto::sync::SeenSet::parse(b"\n\n").unwrap_err();
    /// assert_eq!(err.line(), 1);
    /// ```
    pub fn line(&self) -> usize {
        match self {
            SyncError::BadLine { line, .. } => *line,
        }
    }
}

/// A unique-id the server gave to more than one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The unique-id.
    pub uid: UniqueId,
    /// The message it counts for: the lowest-numbered one (fetched when the
    /// unique-id is new).
    pub kept: MessageNumber,
    /// The other messages listed with it, not fetched.
    pub skipped: Vec<MessageNumber>,
}

/// What to do with one UIDL listing: the result of [`plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The messages to fetch, by increasing message number: those whose
    /// unique-id is not in the seen set, each unique-id once.
    pub fetch: Vec<UidListing>,
    /// Seen unique-ids the listing no longer holds (deleted on the server), in
    /// sorted order. Forget them only if the listing was read whole.
    pub gone: Vec<UniqueId>,
    /// Unique-ids in both the listing and the seen set: messages already saved.
    pub already: usize,
    /// Unique-ids listed for more than one message, in sorted order.
    pub duplicates: Vec<Duplicate>,
    /// Message numbers listed more than once; only the first line of each
    /// counted.
    pub repeated: Vec<MessageNumber>,
}

impl Plan {
    /// Whether the server listed something wrong (a duplicate unique-id or a
    /// repeated message number).
    ///
    /// ```
    /// use pop3_proto::sync::{plan, SeenSet};
    /// assert!(!plan(&[], &SeenSet::new()).has_anomalies());
    /// ```
    pub fn has_anomalies(&self) -> bool {
        !self.duplicates.is_empty() || !self.repeated.is_empty()
    }
}

/// Compares a UIDL listing (RFC 1939 §7, in any order) with the unique-ids seen
/// before, and says which messages to fetch, which seen unique-ids are gone and
/// how many messages are already here. See the [module](self) documentation for
/// what a faulty listing gives.
///
/// ```
/// use pop3_proto::sync::{plan, SeenSet};
/// use pop3_proto::types::{MessageNumber, UidListing, UniqueId};
/// let line = |n: u32, uid: &str| UidListing {
///     msg: MessageNumber::new(n).unwrap(),
///     uid: UniqueId::new(uid).unwrap(),
/// };
/// // The same unique-id on messages 1 and 3: fetched once, reported.
/// let p = plan(&[line(1, "a"), line(2, "b"), line(3, "a")], &SeenSet::new());
/// assert_eq!(p.fetch, [line(1, "a"), line(2, "b")]);
/// assert_eq!(p.duplicates[0].skipped, [MessageNumber::new(3).unwrap()]);
/// ```
pub fn plan(listing: &[UidListing], seen: &SeenSet) -> Plan {
    let mut plan = Plan::default();
    let mut lines: Vec<&UidListing> = listing.iter().collect();
    // Stable: of two lines with one number, the one listed first stays first.
    lines.sort_by_key(|l| l.msg);
    let mut numbers: BTreeSet<MessageNumber> = BTreeSet::new();
    // Each unique-id with its messages, lowest number first.
    let mut by_uid: BTreeMap<&UniqueId, (MessageNumber, Vec<MessageNumber>)> = BTreeMap::new();
    for line in lines {
        if !numbers.insert(line.msg) {
            if plan.repeated.last() != Some(&line.msg) {
                plan.repeated.push(line.msg);
            }
            continue;
        }
        match by_uid.entry(&line.uid) {
            btree_map::Entry::Vacant(entry) => {
                entry.insert((line.msg, Vec::new()));
                if seen.contains(&line.uid) {
                    plan.already = plan.already.saturating_add(1);
                } else {
                    plan.fetch.push(line.clone());
                }
            }
            btree_map::Entry::Occupied(mut entry) => entry.get_mut().1.push(line.msg),
        }
    }
    for (uid, (kept, skipped)) in &by_uid {
        if !skipped.is_empty() {
            plan.duplicates.push(Duplicate {
                uid: (*uid).clone(),
                kept: *kept,
                skipped: skipped.clone(),
            });
        }
    }
    // A unique-id on any line, a repeated number's too, is still on the server:
    // forgetting it could fetch that message again later.
    let listed: BTreeSet<&UniqueId> = listing.iter().map(|l| &l.uid).collect();
    plan.gone = seen
        .iter()
        .filter(|uid| !listed.contains(uid))
        .cloned()
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn n(x: u32) -> MessageNumber {
        MessageNumber::new(x).unwrap()
    }

    fn u(s: &str) -> UniqueId {
        UniqueId::new(s).unwrap()
    }

    fn l(x: u32, s: &str) -> UidListing {
        UidListing {
            msg: n(x),
            uid: u(s),
        }
    }

    #[test]
    fn first_run_fetches_everything_in_order() {
        let listing = [l(2, "b"), l(1, "a"), l(3, "c")];
        let p = plan(&listing, &SeenSet::new());
        assert_eq!(p.fetch, vec![l(1, "a"), l(2, "b"), l(3, "c")]);
        assert_eq!(p.already, 0);
        assert!(p.gone.is_empty());
        assert!(!p.has_anomalies());
    }

    #[test]
    fn seen_messages_are_skipped_and_vanished_ones_reported() {
        let seen = SeenSet::parse(b"a\nc\nz\ny\n").unwrap();
        let p = plan(&[l(1, "a"), l(2, "b"), l(3, "c"), l(4, "d")], &seen);
        assert_eq!(p.fetch, vec![l(2, "b"), l(4, "d")]);
        assert_eq!(p.already, 2);
        assert_eq!(p.gone, vec![u("y"), u("z")]);
    }

    #[test]
    fn empty_listing_fetches_nothing_and_everything_is_gone() {
        let seen = SeenSet::parse(b"a\nb\n").unwrap();
        let p = plan(&[], &seen);
        assert_eq!(
            p,
            Plan {
                gone: vec![u("a"), u("b")],
                ..Plan::default()
            }
        );
        assert_eq!(plan(&[], &SeenSet::new()), Plan::default());
    }

    #[test]
    fn duplicate_unique_id_is_fetched_once_and_reported() {
        let p = plan(
            &[l(4, "x"), l(1, "x"), l(2, "y"), l(3, "x")],
            &SeenSet::new(),
        );
        assert_eq!(p.fetch, vec![l(1, "x"), l(2, "y")]);
        assert_eq!(
            p.duplicates,
            vec![Duplicate {
                uid: u("x"),
                kept: n(1),
                skipped: vec![n(3), n(4)],
            }]
        );
        assert!(p.has_anomalies());
        // Seen: nothing fetched, still reported, counted once as already here.
        let seen = SeenSet::parse(b"x\n").unwrap();
        let p = plan(&[l(1, "x"), l(2, "x")], &seen);
        assert!(p.fetch.is_empty());
        assert_eq!(p.already, 1);
        assert_eq!(p.duplicates.len(), 1);
        assert!(p.gone.is_empty());
    }

    #[test]
    fn repeated_message_number_counts_once() {
        let p = plan(
            &[l(1, "a"), l(1, "b"), l(1, "c"), l(2, "d")],
            &SeenSet::new(),
        );
        assert_eq!(p.fetch, vec![l(1, "a"), l(2, "d")]);
        assert_eq!(p.repeated, vec![n(1)]);
        // "b" is not counted, but it is on the server: a seen "b" is not gone
        // (forgetting it could fetch that message again once the server lists
        // it properly); a seen "x" is.
        let p = plan(&[l(1, "a"), l(1, "b")], &SeenSet::parse(b"b\nx").unwrap());
        assert_eq!(p.gone, vec![u("x")]);
        assert_eq!(p.already, 0);
    }

    #[test]
    fn text_form_vectors() {
        assert_eq!(SeenSet::parse(b"").unwrap(), SeenSet::new());
        assert_eq!(SeenSet::new().to_text(), b"");
        let s = SeenSet::parse(b"b\r\na\nb").unwrap();
        assert_eq!(s.to_text(), b"a\nb\n");
        let max = [b'~'; 70];
        assert_eq!(SeenSet::parse(&max).unwrap().len(), 1);
        for (text, line) in [
            (&b"\n"[..], 1),
            (b"a\n\nb\n", 2),
            (b"a\n\n", 2),
            (b"a b\n", 1),
            (b"a\nb\nc\td\n", 3),
            (b"a\n\xc3\xa9\n", 2),
            (b"a\r\r\n", 1),
            (b"\r", 1),
            (b"a\x00\n", 1),
        ] {
            let err = SeenSet::parse(text).unwrap_err();
            assert_eq!(err.line(), line, "{text:?}");
        }
        let long = [b'a'; 71];
        assert!(matches!(
            SeenSet::parse(&long),
            Err(SyncError::BadLine {
                line: 1,
                source: ValueError::TooLong { len: 71, .. }
            })
        ));
        let err = SeenSet::parse(b"ok\nbad line\n").unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "line 2 is not a unique-id: unique-id contains the forbidden octet 0x20 at offset 3"
        );
    }

    #[test]
    fn forget_and_extend() {
        let mut s: SeenSet = [u("a"), u("b"), u("c")].into_iter().collect();
        assert_eq!(s.forget(&[u("a"), u("z")]), 1);
        s.extend([u("d")]);
        assert_eq!(s.to_text(), b"b\nc\nd\n");
        assert!(s.remove(&u("b")));
        assert!(!s.remove(&u("b")));
    }
}

//! Properties of the UIDL sync helper (`pop3_proto::sync`): a plan followed by
//! saving everything it names leaves nothing to fetch; the seen set's text form
//! reads back as itself; the parser takes any bytes without panicking.

use std::collections::{BTreeSet, HashSet};

use pop3_proto::sync::{plan, SeenSet};
use pop3_proto::types::{MessageNumber, UidListing, UniqueId};
use proptest::prelude::*;

fn uid() -> impl Strategy<Value = UniqueId> {
    // A few short ids collide often (duplicates); long ones test the limits.
    prop_oneof!["[a-d]{1,2}", "[\\x21-\\x7e]{1,70}",]
        .prop_map(|s| UniqueId::new(s).expect("valid unique-id"))
}

/// A listing as a faulty server might send it: any order, numbers possibly
/// repeated, unique-ids possibly shared.
fn listing() -> impl Strategy<Value = Vec<UidListing>> {
    prop::collection::vec((1u32..40, uid()), 0..30).prop_map(|v| {
        v.into_iter()
            .map(|(n, uid)| UidListing {
                msg: MessageNumber::new(n).expect("n >= 1"),
                uid,
            })
            .collect()
    })
}

fn seen_set() -> impl Strategy<Value = SeenSet> {
    prop::collection::vec(uid(), 0..20).prop_map(|v| v.into_iter().collect())
}

/// The unique-ids the plan counts: of each message number's lines, the first.
fn counted(listing: &[UidListing]) -> BTreeSet<&UniqueId> {
    let mut numbers = HashSet::new();
    let mut sorted: Vec<&UidListing> = listing.iter().collect();
    sorted.sort_by_key(|l| l.msg);
    sorted
        .into_iter()
        .filter(|l| numbers.insert(l.msg))
        .map(|l| &l.uid)
        .collect()
}

/// Every unique-id on a line of the listing, counted or not.
fn listed(listing: &[UidListing]) -> BTreeSet<&UniqueId> {
    listing.iter().map(|l| &l.uid).collect()
}

proptest! {
    #[test]
    fn plan_then_mark_all_fetched_gives_an_empty_plan(listing in listing(), seen in seen_set()) {
        let first = plan(&listing, &seen);
        let mut seen = seen;
        for l in &first.fetch {
            seen.insert(l.uid.clone());
        }
        seen.forget(&first.gone);
        let second = plan(&listing, &seen);
        prop_assert!(second.fetch.is_empty());
        prop_assert!(second.gone.is_empty());
        prop_assert_eq!(second.already, first.already + first.fetch.len());
        // The seen set now holds the listing's counted unique-ids, and seen ones
        // listed only on a repeated number's line (on the server, so never gone).
        let counted = counted(&listing);
        let listed = listed(&listing);
        prop_assert!(seen.iter().all(|u| listed.contains(u)));
        prop_assert_eq!(seen.iter().filter(|u| counted.contains(u)).count(), second.already);
    }

    #[test]
    fn plan_fetches_each_new_unique_id_once_in_order(listing in listing(), seen in seen_set()) {
        let p = plan(&listing, &seen);
        // Increasing message numbers, each unique-id once, none of them seen.
        prop_assert!(p.fetch.windows(2).all(|w| w[0].msg < w[1].msg));
        let uids: HashSet<&UniqueId> = p.fetch.iter().map(|l| &l.uid).collect();
        prop_assert_eq!(uids.len(), p.fetch.len());
        prop_assert!(p.fetch.iter().all(|l| !seen.contains(&l.uid)));
        // Every line fetched is a line of the listing, and the first listed for its number.
        for l in &p.fetch {
            let first = listing.iter().find(|x| x.msg == l.msg);
            prop_assert_eq!(first, Some(l));
        }
        // Gone: seen, and on no line of the listing (a unique-id listed only on a
        // repeated number's line is not counted, but it is not gone either).
        let counted = counted(&listing);
        let listed = listed(&listing);
        for g in &p.gone {
            prop_assert!(seen.contains(g) && !listed.contains(g));
        }
        prop_assert_eq!(p.fetch.len() + p.already, counted.len());
        let uncounted = seen
            .iter()
            .filter(|u| listed.contains(u) && !counted.contains(u))
            .count();
        prop_assert_eq!(p.gone.len() + p.already + uncounted, seen.len());
        // No message number is both fetched and skipped as a duplicate.
        for d in &p.duplicates {
            prop_assert!(d.skipped.iter().all(|m| *m > d.kept));
            prop_assert!(p.fetch.iter().all(|l| !d.skipped.contains(&l.msg)));
        }
    }

    #[test]
    fn persist_parse_round_trip(seen in seen_set()) {
        let text = seen.to_text();
        prop_assert_eq!(SeenSet::parse(&text).unwrap(), seen.clone());
        // One unique-id per line, each line LF-ended.
        prop_assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), seen.len());
    }

    #[test]
    fn parser_never_panics_and_names_a_real_line(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        match SeenSet::parse(&bytes) {
            Ok(set) => {
                // What it read writes back as text it reads the same way.
                prop_assert_eq!(SeenSet::parse(&set.to_text()).unwrap(), set);
            }
            Err(e) => {
                let lines = bytes.split(|&b| b == b'\n').count();
                prop_assert!(e.line() >= 1 && e.line() <= lines);
            }
        }
    }

    #[test]
    fn parser_on_near_valid_text(lines in prop::collection::vec("[\\x1f-\\x7f]{0,72}", 0..10), crlf in any::<bool>()) {
        let end = if crlf { "\r\n" } else { "\n" };
        let text: String = lines.iter().map(|l| format!("{l}{end}")).collect();
        let bad = lines.iter().position(|l| UniqueId::new(l.as_bytes()).is_err());
        match (SeenSet::parse(text.as_bytes()), bad) {
            (Ok(set), None) => {
                let want: BTreeSet<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
                let got: BTreeSet<&[u8]> = set.iter().map(UniqueId::as_bytes).collect();
                prop_assert_eq!(got, want);
            }
            (Err(e), Some(i)) => prop_assert_eq!(e.line(), i + 1),
            (got, want) => prop_assert!(false, "{got:?} for bad line {want:?}"),
        }
    }
}

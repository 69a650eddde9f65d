//! UIDL sync (`pop3_proto::sync`): the seen-set file read back, and plans made
//! from arbitrary listings.
//!
//! Invariants: no panic on any file contents; a file that parses writes back to
//! text that parses to the same set, and writing is then stable; a plan fetches
//! only listed messages, each unique-id at most once, none already seen, in
//! increasing message number; the unique-id of every message number's first line
//! is either fetched or already seen; what is gone is seen and not listed; after
//! marking everything fetched, a second plan fetches nothing.
#![no_main]

use std::collections::BTreeSet;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use pop3_proto::sync::{plan, SeenSet};
use pop3_proto::types::UidListing;

fuzz_target!(|data: &[u8]| {
    if let Ok(seen) = SeenSet::parse(data) {
        let text = seen.to_text();
        let back = SeenSet::parse(&text).expect("written text parses");
        assert_eq!(back, seen);
        assert_eq!(back.to_text(), text, "writing is stable");
    }

    let mut u = Unstructured::new(data);
    let Ok(listing) = u.arbitrary::<Vec<UidListing>>() else {
        return;
    };
    let Ok(seen_list) = u.arbitrary::<Vec<UidListing>>() else {
        return;
    };
    let mut seen: SeenSet = seen_list.into_iter().map(|l| l.uid).collect();
    let p = plan(&listing, &seen);

    let listed: BTreeSet<_> = listing.iter().map(|l| (l.msg, l.uid.clone())).collect();
    let mut uids = BTreeSet::new();
    for w in p.fetch.windows(2) {
        assert!(w[0].msg < w[1].msg, "fetch order {:?}", p.fetch);
    }
    for l in &p.fetch {
        assert!(
            listed.contains(&(l.msg, l.uid.clone())),
            "not listed: {l:?}"
        );
        assert!(!seen.contains(&l.uid), "already seen: {l:?}");
        assert!(uids.insert(l.uid.clone()), "fetched twice: {l:?}");
    }
    for uid in &p.gone {
        assert!(seen.contains(uid));
        assert!(!listing.iter().any(|l| &l.uid == uid));
    }
    // Only the first line of a message number counts (a repeated number is
    // reported, not fetched).
    let mut numbers = BTreeSet::new();
    for l in listing.iter().filter(|l| numbers.insert(l.msg)) {
        assert!(
            uids.contains(&l.uid) || seen.contains(&l.uid),
            "neither fetched nor seen: {l:?}"
        );
    }

    // Everything fetched and remembered: nothing left to fetch.
    for l in &p.fetch {
        seen.insert(l.uid.clone());
    }
    seen.forget(&p.gone);
    let again = plan(&listing, &seen);
    assert!(again.fetch.is_empty(), "{again:?}");
    assert!(again.gone.is_empty(), "{again:?}");
});
